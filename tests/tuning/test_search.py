import csv
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time

import keras
import keras_tuner
import numpy as np
import pytest

import tuning
from keras_vae import datasets
from keras_vae.likelihoods import Gaussian


@pytest.fixture(scope="module")
def digits():
    """Standardized digits: training and validation arrays."""
    data = datasets.load("digits")
    preprocessing = datasets.Preprocessing.fit("standardize", data.x_train)
    x = preprocessing.transform(data.x_train)
    return x[:1100], x[1100:]


def _hypermodel(**kwargs):
    arguments = {
        "input_shape": (8, 8, 1),
        "latent_dim": 2,
        "hidden_units": 64,
        "seed": 0,
        **kwargs,
    }
    return tuning.VAEHyperModel(**arguments)


def _tuner(tmp_path, hypermodel=None, **kwargs):
    arguments = {
        "tuner": "random",
        "max_trials": 3,
        "directory": str(tmp_path),
        "project_name": "search",
        **kwargs,
    }
    return tuning.make_tuner(
        hypermodel or _hypermodel(beta=[0.0, 1.0, 200.0]), **arguments
    )


def test_tiny_search_completes_the_requested_trials(tmp_path, digits):
    x_train, x_val = digits
    tuner = _tuner(tmp_path, _hypermodel(latent_dim=(2, 8), beta=(0.0, 200.0)))
    tuner.search(x_train, validation_data=x_val, epochs=1, verbose=0)
    rows = tuning.results(tuner)
    assert len(rows) == 3 and {r["status"] for r in rows} == {"COMPLETED"}
    scores = [r["score"] for r in rows]
    assert scores == sorted(scores)  # best first
    tuning.write_results(tuner, rows, str(tmp_path / "out"))
    with open(tmp_path / "out" / "results.csv") as file:
        table = list(csv.DictReader(file))
    assert [float(r["val_elbo"]) for r in table] == pytest.approx(scores)
    assert all(0 <= float(r["val_active_units"]) <= int(r["latent_dim"]) for r in table)
    best = keras.models.load_model(tmp_path / "out" / "best.keras")
    assert best.encoder.output_shape[0][1] == rows[0]["latent_dim"]
    assert "trial" in tuning.format_results(rows)


def _independent_negative_elbo(model, x, samples=20, seed=0):
    """-ELBO at beta = 1 in NumPy from the encoder and decoder alone."""
    mean, raw_scale = (keras.ops.convert_to_numpy(t) for t in model.encoder(x))
    sigma = np.log1p(np.exp(raw_scale))  # softplus
    kl = 0.5 * np.sum(sigma**2 + mean**2 - 1 - 2 * np.log(sigma), axis=1)
    rng = np.random.default_rng(seed)
    variance = Gaussian().variance
    flat = x.reshape(len(x), -1)
    nll = 0.0
    for _ in range(samples):
        z = (mean + sigma * rng.normal(size=mean.shape)).astype("float32")
        out = keras.ops.convert_to_numpy(model.decoder(z)).reshape(len(x), -1)
        nll += (
            np.sum(
                (flat - out) ** 2 / (2 * variance)
                + 0.5 * np.log(2 * math.pi * variance),
                axis=1,
            )
            / samples
        )
    return float(np.mean(nll + kl))


def test_val_loss_prefers_beta_zero_while_val_elbo_ranks_by_the_bound(tmp_path, digits):
    x_train, x_val = digits
    tuner = _tuner(tmp_path)  # beta in {0, 1, 200}, latent_dim fixed: three trials
    tuner.search(x_train, validation_data=x_val, epochs=8, verbose=0)
    trials = list(tuner.oracle.trials.values())
    beta = {
        t.trial_id: tuner.hypermodel.draw(t.hyperparameters.copy())["beta"]
        for t in trials
    }
    assert sorted(beta.values()) == [0.0, 1.0, 200.0]

    def ranking(score):
        return [beta[t.trial_id] for t in sorted(trials, key=score)]

    by_loss = ranking(lambda t: t.metrics.get_best_value("val_loss"))
    assert by_loss[0] == 0.0  # the loss leaves out the KL term at beta = 0

    bound = {
        t.trial_id: _independent_negative_elbo(tuner.load_model(t), x_val)
        for t in trials
    }
    for trial in trials:
        assert trial.score == pytest.approx(bound[trial.trial_id], rel=0.03)
    assert ranking(lambda t: t.score) == ranking(lambda t: bound[t.trial_id])
    assert ranking(lambda t: t.score)[0] == 1.0


def test_val_loss_with_beta_searched_warns(tmp_path):
    with pytest.warns(UserWarning, match="favours the smallest beta"):
        _tuner(tmp_path, objective="val_loss")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"tuner": "grid"}, "Unknown tuner 'grid'"),
        ({"objective": "accuracy"}, "Unknown objective"),
        ({"objective": "rate"}, "rate_budget"),
        ({"max_trials": 0}, "max_trials"),
        ({"tuner": "hyperband"}, "max_epochs"),
    ],
)
def test_bad_search_settings(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tuner(tmp_path, **kwargs)
    assert not (tmp_path / "search" / "oracle.json").exists()


def test_directory_holding_a_different_search_is_refused(tmp_path):
    _tuner(tmp_path)
    _tuner(tmp_path, max_trials=5)  # the same search, extended: fine
    with pytest.raises(ValueError, match="holds a different search.*hypermodel"):
        _tuner(tmp_path, _hypermodel(beta=[0.0, 5.0]))
    with pytest.raises(ValueError, match="holds a different search.*objective"):
        _tuner(tmp_path, objective="active_units")
    _tuner(tmp_path, _hypermodel(beta=[0.0, 5.0]), overwrite=True)


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_that_is_not_a_search_is_never_deleted(tmp_path, overwrite):
    folder = tmp_path / "search"
    folder.mkdir()
    (folder / "main.py").write_text("print(1)")
    with pytest.raises(ValueError, match=r"not a keras_vae search \(main.py\)"):
        _tuner(tmp_path, overwrite=overwrite)
    assert sorted(p.name for p in folder.iterdir()) == ["main.py"]


def test_other_tuners_run(tmp_path, digits):
    x_train, x_val = digits
    for name, extra in (
        ("bayesian", {"max_trials": 2}),
        ("hyperband", {"max_epochs": 2}),
    ):
        tuner = _tuner(
            tmp_path,
            _hypermodel(beta=(0.0, 10.0)),
            tuner=name,
            project_name=name,
            **extra,
        )
        tuner.search(x_train, validation_data=x_val, epochs=2, verbose=0)
        assert tuning.results(tuner)
        assert isinstance(tuner, keras_tuner.Tuner)


COMMAND = [
    sys.executable,
    "-m",
    "tuning",
    "--dataset",
    "digits",
    "--tuner",
    "random",
    "--latent-dim",
    "2",
    "--hidden-units",
    "64",
    "--beta-values",
    "0",
    "1",
    "10",
    "100",
]


def _env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}


def _results(folder):
    with open(folder / "results.csv") as file:
        return list(csv.DictReader(file))


def test_resumes_after_sigkill_without_repeating_trials(tmp_path):
    command = COMMAND + ["--max-trials", "4", "--epochs", "3"]
    with subprocess.Popen(
        command,
        cwd=tmp_path,
        env=_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    ) as process:
        # The output is read on a thread so that the kill waits on the second
        # trial's file, not on the next line the search prints (which may be
        # the end of that trial).
        reader = threading.Thread(target=process.stdout.read, daemon=True)
        reader.start()
        started = tmp_path / "tuning_runs" / "vae" / "trial_1" / "trial.json"
        deadline = time.monotonic() + 300
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(process.pid, signal.SIGKILL)  # mid-trial: it has just started
        process.wait()
        reader.join()
    first = json.loads((tmp_path / "tuning_runs/vae/trial_0/trial.json").read_text())
    assert first["status"] == "COMPLETED"

    result = subprocess.run(
        command, cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Reloading Tuner" in result.stdout
    assert result.stdout.count("Running Trial #") == 3  # the killed one and two more
    rows = _results(tmp_path / "tuning_runs" / "vae")
    assert sorted(r["trial"] for r in rows) == ["0", "1", "2", "3"]
    assert {r["status"] for r in rows} == {"COMPLETED"}
    assert sorted(float(r["beta"]) for r in rows) == [0.0, 1.0, 10.0, 100.0]
    again = json.loads((tmp_path / "tuning_runs/vae/trial_0/trial.json").read_text())
    assert again["score"] == first["score"]  # completed trials are kept, not rerun


def test_chief_and_two_workers_run_every_trial_once(tmp_path):
    command = COMMAND + ["--max-trials", "4", "--epochs", "1", "--workers", "2"]
    result = subprocess.run(
        command, cwd=tmp_path, env=_env(), text=True, capture_output=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    folder = tmp_path / "tuning_runs" / "vae"
    rows = _results(folder)
    assert sorted(r["trial"] for r in rows) == ["0", "1", "2", "3"]
    assert {r["status"] for r in rows} == {"COMPLETED"}
    assert all(r["val_elbo"] not in ("", "nan") for r in rows)
    # The chief reports each trial's completion once...
    chief = (folder / "logs" / "chief.log").read_text()
    completed = re.findall(r"Trial (\d+) Complete \[", chief)
    assert sorted(completed) == ["1", "2", "3", "4"]
    # ...and the workers trained four one-epoch trials between them.
    epochs = [
        (folder / "logs" / f"{name}.log").read_text().count("val_elbo: ")
        for name in ("tuner0", "tuner1")
    ]
    assert sum(epochs) == 4
    assert (folder / "best.keras").exists()
