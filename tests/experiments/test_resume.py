"""Run folders survive a crash: resume after SIGKILL, overwrite only when asked."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from keras_vae import cli, settings
from keras_vae.experiments import resume


def _history_epochs(out):
    with open(out / "history.csv", newline="") as file:
        return [int(row["epoch"]) for row in csv.DictReader(file)]


def test_a_killed_run_resumes_where_it_stopped(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "keras_vae", "train", "--dataset", "digits"]
    command += ["--epochs", "30", "--batch-size", "8", "--latent-dim", "2"]
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    process = subprocess.Popen(
        command + ["--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    history = out / "history.csv"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if history.exists() and len(history.read_text().splitlines()) >= 5:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "model.keras").exists()
    done = resume.backed_up_epochs(out)
    assert 3 <= done < 30

    result = subprocess.run(
        command + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Resuming the unfinished run in {out} after epoch {done} of 30" in (
        result.stdout
    )
    assert _history_epochs(out) == list(range(30))  # no gap, no repeat
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["epochs_trained"] == 30
    assert not (out / resume.BACKUP_DIR).exists()

    # Within noise of an uninterrupted run (only the shuffling order differs).
    straight = tmp_path / "straight"
    result = subprocess.run(
        command + ["--out", str(straight)],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )
    assert result.returncode == 0
    reference = json.loads((straight / "metrics.json").read_text())
    assert metrics["test"]["elbo"] == pytest.approx(reference["test"]["elbo"], rel=0.05)


def _config(**overrides):
    return settings.resolve(dataset="digits", **overrides)


def test_claim_decides_before_anything_runs(tmp_path):
    out = tmp_path / "run"
    assert resume.claim(str(out), _config()) == resume.NEW
    out.mkdir()
    (out / "config.json").write_text(json.dumps(_config(epochs=5)))
    assert resume.claim(str(out), _config(epochs=5)) == resume.RESUME
    with pytest.raises(
        ValueError, match=r"unfinished run with other settings \(epochs 5 -> 6"
    ):
        resume.claim(str(out), _config(epochs=6))
    assert resume.claim(str(out), _config(epochs=6), overwrite=True) == resume.OVERWRITE
    (out / "model.keras").write_bytes(b"")
    with pytest.raises(ValueError, match="already holds a finished run.*--overwrite"):
        resume.claim(str(out), _config(epochs=5))
    assert resume.claim(str(out), _config(), overwrite=True) == resume.OVERWRITE


def test_history_is_cut_back_to_the_backed_up_epoch(tmp_path):
    (tmp_path / resume.BACKUP_DIR).mkdir()
    (tmp_path / resume.BACKUP_DIR / "training_metadata.json").write_text(
        '{"epoch": 2, "batch": 0}'
    )
    (tmp_path / "history.csv").write_text("epoch,loss\n0,3.0\n1,2.0\n2,1.5\n")
    assert resume.prepare(str(tmp_path), resume.RESUME) == 2
    assert _history_epochs(tmp_path) == [0, 1]


def test_overwrite_replaces_a_finished_run(tmp_path, capsys):
    out = tmp_path / "run"
    arguments = ["train", "--dataset", "digits", "--epochs", "1", "--out", str(out)]
    assert cli.main(arguments) == 0
    assert cli.main(arguments + ["--seed", "3"]) == 1
    assert "already holds a finished run" in capsys.readouterr().err
    assert json.loads((out / "config.json").read_text())["seed"] == 0
    assert cli.main(arguments + ["--seed", "3", "--overwrite"]) == 0
    assert json.loads((out / "config.json").read_text())["seed"] == 3
    assert _history_epochs(out) == [0]


@pytest.mark.parametrize("previous", [True, False])
def test_a_kill_while_keras_writes_the_metadata_falls_back(tmp_path, previous):
    # Keras' BackupAndRestore truncates training_metadata.json, then writes
    # it: a kill in between leaves it empty. Keras itself would fail on it.
    backup = tmp_path / resume.BACKUP_DIR
    backup.mkdir()
    (backup / "latest.weights.h5").write_bytes(b"epoch 3")
    (backup / "training_metadata.json").write_text("")
    if previous:
        (backup / "latest.weights.h5.bkp").write_bytes(b"epoch 2")
        (backup / "training_metadata.json.bkp").write_text('{"epoch": 2, "batch": 0}')
    (tmp_path / "history.csv").write_text("epoch,loss\n0,3.0\n1,2.0\n2,1.5\n")
    done = 2 if previous else 0
    assert resume.backed_up_epochs(str(tmp_path)) == done
    assert resume.prepare(str(tmp_path), resume.RESUME) == done
    if previous:  # the previous generation, whole, one epoch earlier
        assert (backup / "latest.weights.h5").read_bytes() == b"epoch 2"
        assert json.loads((backup / "training_metadata.json").read_text()) == {
            "epoch": 2,
            "batch": 0,
        }
        assert _history_epochs(tmp_path) == [0, 1]
    else:  # nothing to restore: the run starts over
        assert not (backup / "latest.weights.h5").exists()
        assert not (backup / "training_metadata.json").exists()
        assert not (tmp_path / "history.csv").exists()
