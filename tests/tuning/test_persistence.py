"""The tuners of `tuning.persistence` save KerasTuner's state atomically,
through KerasTuner's seams; these tests fail when a seam they use changes."""

import errno
import json
import os

import keras_tuner
import numpy as np
import pytest

import tuning
from tuning import persistence


def test_the_seams_exist_in_keras_tuner():
    # Private API used by tuning.persistence, and nowhere else.
    for owner, names in (
        (keras_tuner.Oracle, ("_save_trial", "_get_oracle_fname", "_get_trial_dir")),
        (keras_tuner.Tuner, ("_get_tuner_fname", "_is_worker")),
    ):
        for name in names:
            assert callable(getattr(owner, name, None)), f"{owner.__name__}.{name}"
    assert callable(persistence.keras_tuner_utils.save_json)


@pytest.mark.parametrize("tuner", ["random", "bayesian", "hyperband"])
def test_every_state_file_goes_through_the_atomic_writer(tuner, tmp_path, monkeypatch):
    written = []
    write = persistence.write_state

    def spy(path, state):
        written.append(os.path.relpath(path, tmp_path))
        return write(path, state)

    monkeypatch.setattr(persistence, "write_state", spy)
    hypermodel = tuning.VAEHyperModel(
        (8, 8, 1), latent_dim=2, hidden_units=16, beta=[0.0, 1.0], seed=0
    )
    search = tuning.make_tuner(
        hypermodel,
        tuner=tuner,
        max_trials=1,
        max_epochs=2,
        directory=str(tmp_path),
        project_name="search",
    )
    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    search.search(x, validation_data=x, epochs=1, verbose=0)
    files = {
        os.path.relpath(os.path.join(root, name), tmp_path)
        for root, _, names in os.walk(tmp_path / "search")
        for name in names
        if name in ("oracle.json", "trial.json", "tuner0.json")
    }
    assert files and files <= set(written)
    # What was written is what KerasTuner reads back.
    again = tuning.make_tuner(
        hypermodel,
        tuner=tuner,
        max_trials=1,
        max_epochs=2,
        directory=str(tmp_path),
        project_name="search",
    )
    assert len(again.oracle.trials) == len(search.oracle.trials) >= 1


def test_a_failed_write_leaves_the_previous_state(tmp_path, monkeypatch):
    path = tmp_path / "oracle.json"
    persistence.write_state(str(path), {"trials": 1})

    class FullDisk:
        def __init__(self, *arguments):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return False

        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(persistence, "open", FullDisk, raising=False)
    with pytest.raises(OSError):
        persistence.write_state(str(path), {"trials": 2})
    assert json.loads(path.read_text()) == {"trials": 1}
    assert os.listdir(tmp_path) == ["oracle.json"]
