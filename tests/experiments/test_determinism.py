"""`keras-vae train --seed S --deterministic` repeats itself exactly."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from keras_vae import settings
from keras_vae.cli import common


def _train(out, backend, model):
    # A 2-D latent: the run's map is the latent itself, no t-SNE (5 s a run);
    # 400 training images (a seeded draw, itself part of what must repeat).
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    result = subprocess.run(
        [sys.executable, "-m", "keras_vae", "train", "--dataset", "digits"]
        + ["--model", model, "--latent-dim", "2", "--epochs", "1", "--seed", "3"]
        + ["--max-examples", "400", "--deterministic", "--backend", backend]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    config = json.loads((out / "config.json").read_text())
    assert config["deterministic"] is True
    assert config["backend"] == backend
    return json.loads((out / "metrics.json").read_text())


# The conv CVAE (its judge's classifier too) on TensorFlow, whose GPU kernels
# are the nondeterministic ones; the MLP on JAX, whose CPU convolutions would
# triple the test's time (40 s a run) for the same seeding code.
@pytest.mark.parametrize("backend, model", [("tensorflow", "cvae"), ("jax", "vae")])
def test_two_deterministic_runs_write_the_same_metrics(backend, model, tmp_path):
    first = _train(tmp_path / "first", backend, model)
    second = _train(tmp_path / "second", backend, model)
    assert first == second  # every float, to the last bit


def test_deterministic_asks_xla_for_deterministic_gpu_kernels(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/tmp/x")
    common.start_framework(
        SimpleNamespace(backend=None, verbose=False, deterministic=True)
    )
    assert os.environ["XLA_FLAGS"] == (
        "--xla_dump_to=/tmp/x --xla_gpu_deterministic_ops=true"
    )


def test_deterministic_must_be_a_boolean():
    with pytest.raises(ValueError, match="deterministic must be True or False"):
        settings.resolve(deterministic="yes")
