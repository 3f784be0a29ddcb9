"""The pieces of a run folder that survives a crash: the backup's generations,
`claim`'s decisions, and folders keras-vae did not write. The faults
themselves (signals, a full disk, a second process) are injected into real
commands by `tests/test_faults.py`."""

import csv
import errno
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from keras_vae import architectures, models, settings
from keras_vae.experiments import backup, resume, run_folder

TRAIN = ["train", "--dataset", "digits", "--latent-dim", "2"]
ENVIRONMENT = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _history_epochs(out):
    with open(out / "history.csv", newline="") as file:
        return [int(float(row["epoch"])) for row in csv.DictReader(file)]


def _generations(out):
    return sorted(os.listdir(out / resume.BACKUP_DIR))


def test_a_backup_that_would_not_fit_on_the_disk_is_not_started(tmp_path, monkeypatch):
    model = _model()
    folder = tmp_path / "backup"
    folder.mkdir()
    monkeypatch.setattr(
        backup.shutil, "disk_usage", lambda _: type("Usage", (), {"free": 1000})
    )
    with pytest.raises(OSError, match="MB are free") as caught:
        backup.save(model, str(folder), 1, [])
    assert caught.value.errno == errno.ENOSPC
    assert os.listdir(folder) == []


def _model():
    encoder, decoder = architectures.mlp((8, 8, 1), 2)
    model = models.VAE(encoder, decoder, seed=0)
    model.compile(optimizer="adam")
    return model


def _trained(folder, epochs=2):
    model = _model()
    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    history = folder.parent / "history.csv"
    callback = backup.EpochBackup(str(folder), str(history))
    model.fit(x, epochs=epochs, batch_size=16, callbacks=[callback], verbose=0)
    return model


def _fresh_model():
    model = _model()
    model.build((None, 8, 8, 1))
    model.optimizer.build(model.trainable_variables)
    return model


def test_restore_gives_back_the_weights_and_the_optimizer_exactly(tmp_path):
    folder = tmp_path / "backup"
    trained = _trained(folder)
    restored = _fresh_model()
    epoch, rows = backup.restore(restored, str(folder))
    assert epoch == 2 and [row["epoch"] for row in rows] == [0, 1]
    assert int(restored.optimizer.iterations) == int(trained.optimizer.iterations) > 0
    for mine, theirs in zip(
        restored.variables + restored.optimizer.variables,
        trained.variables + trained.optimizer.variables,
        strict=True,
    ):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(mine), keras.ops.convert_to_numpy(theirs)
        )
    assert sorted(os.listdir(folder)) == ["epoch-000001", "epoch-000002"]


def test_a_damaged_generation_falls_back_to_the_previous_one(tmp_path):
    folder = tmp_path / "backup"
    _trained(folder, epochs=3)
    newest = folder / "epoch-000003" / backup.WEIGHTS
    content = bytearray(newest.read_bytes())
    content[len(content) // 2] ^= 0xFF  # one flipped byte
    newest.write_bytes(bytes(content))
    epoch, _ = backup.restore(_fresh_model(), str(folder))
    assert epoch == 2

    (folder / "epoch-000002" / backup.METADATA).write_text("{")
    with pytest.raises(ValueError) as caught:
        backup.restore(_fresh_model(), str(folder))
    message = str(caught.value)
    assert "epoch-000003: state.npz is not the file that was written" in (message)
    assert "epoch-000002: unreadable metadata.json" in message
    assert message.endswith("pass `overwrite=True` to start the run again.")


def test_a_backup_of_another_model_is_refused(tmp_path):
    folder = tmp_path / "backup"
    _trained(folder, epochs=1)
    encoder, decoder = architectures.mlp((8, 8, 1), 3)
    other = models.VAE(encoder, decoder)
    other.compile(optimizer="adam")
    other.build((None, 8, 8, 1))
    other.optimizer.build(other.trainable_variables)
    with pytest.raises(ValueError, match="does not fit the model"):
        backup.restore(other, str(folder))


def _config(**overrides):
    return settings.resolve(dataset="digits", **overrides)


def _run_folder(out, **config):
    out.mkdir()
    run_folder.create(str(out), "run")
    (out / "config.json").write_text(json.dumps(_config(**config)))


def test_claim_decides_before_anything_runs(tmp_path):
    out = tmp_path / "run"
    assert resume.claim(str(out), _config()) == resume.NEW
    assert not out.exists()  # nothing written
    _run_folder(out, epochs=5)
    assert resume.claim(str(out), _config(epochs=5)) == resume.RESUME
    with pytest.raises(
        ValueError, match=r"unfinished run with other settings \(epochs 5 -> 6"
    ):
        resume.claim(str(out), _config(epochs=6))
    assert resume.claim(str(out), _config(epochs=6), overwrite=True) == resume.OVERWRITE
    (out / "model.keras").write_bytes(b"")
    with pytest.raises(
        ValueError, match="already holds a finished run.*`overwrite=True`"
    ):
        resume.claim(str(out), _config(epochs=5))
    assert resume.claim(str(out), _config(), overwrite=True) == resume.OVERWRITE


def test_a_config_json_of_the_wrong_shape_is_one_error(tmp_path):
    out = tmp_path / "run"
    _run_folder(out)
    (out / "config.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="is not the config.json of a run"):
        resume.claim(str(out), _config())


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_folder_keras_vae_did_not_write_is_never_used(tmp_path, overwrite):
    out = tmp_path / "mine"
    (out / "src").mkdir(parents=True)
    (out / "notes.txt").write_text("mine")
    (out / "src" / "main.py").write_text("print(1)")
    (out / "config.json").write_text(json.dumps(_config()))
    with pytest.raises(ValueError, match="holds files keras-vae did not write"):
        resume.claim(str(out), _config(), overwrite=overwrite)
    assert sorted(os.listdir(out)) == ["config.json", "notes.txt", "src"]


# A run stopped by Ctrl-C right after the backup of epoch argv[1], then resumed
# by the same command, beside the same command uninterrupted: prints whether
# their histories and metrics agree to the last bit.
_RESUMED_AGAINST_UNINTERRUPTED = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from keras_vae import cli

    sys.path.insert(0, sys.argv[1])  # tests/, for faults.py
    from faults import _stopping_after_epoch

    stop_after, arguments = int(sys.argv[2]), sys.argv[3:] + ["--no-figures"]

    def run(out):
        with contextlib.redirect_stdout(io.StringIO()) as output:
            code = cli.main(arguments + ["--out", out])
        return code, output.getvalue()

    assert run("uninterrupted")[0] == 0
    with _stopping_after_epoch(stop_after):
        assert run("resumed")[0] == 130
    code, output = run("resumed")
    assert code == 0 and f"after epoch {stop_after} of" in output, output
    same = {
        name: open(f"uninterrupted/{name}").read() == open(f"resumed/{name}").read()
        for name in ("history.csv", "metrics.json")
    }
    print(json.dumps(same))
    """
)


def _resumed_against_uninterrupted(stop_after, arguments, backend, folder):
    result = subprocess.run(
        [sys.executable, "-c", _RESUMED_AGAINST_UNINTERRUPTED, TESTS, str(stop_after)]
        + TRAIN
        + ["--max-examples", "300", *arguments],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
        env={**ENVIRONMENT, "KERAS_BACKEND": backend},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


# JAX and PyTorch shuffle arrays with their global generators (restored from
# the backup); TensorFlow gets a tf.data pipeline that counts its passes, as
# dynamic binarization does on every backend.
@pytest.mark.parametrize(
    "backend, options",
    [
        ("jax", []),
        ("torch", []),
        ("tensorflow", []),
        ("tensorflow", ["--likelihood", "bernoulli", "--preprocessing", "binarize"]),
    ],
)
def test_a_resumed_run_ends_as_the_uninterrupted_run_to_the_last_bit(
    backend, options, tmp_path
):
    same = _resumed_against_uninterrupted(
        1, ["--epochs", "3", *options], backend, tmp_path
    )
    assert same == {"history.csv": True, "metrics.json": True}


# At this rate the validation ELBO is best after epoch 8 and early stopping
# (patience 2) ends the run after epoch 10. Stopped after epoch 9, the resumed
# run must wait one more epoch and take epoch 8's weights from the backup;
# stopped after epoch 10 (stopped early, not yet written), it must only take
# them.
@pytest.mark.parametrize("stop_after", [9, 10])
def test_a_resumed_run_stops_early_as_the_uninterrupted_run(stop_after, tmp_path):
    options = ["--epochs", "30", "--learning-rate", "0.05", "--early-stopping", "2"]
    same = _resumed_against_uninterrupted(stop_after, options, "tensorflow", tmp_path)
    history = backup.read_history(tmp_path / "uninterrupted" / "history.csv")
    assert len(history) == 10  # the premise: it stops after epoch 10
    assert same == {"history.csv": True, "metrics.json": True}
