"""Memory stays flat over many fits in one process (benchmarks/soak.py).

TensorFlow keeps every traced function of every model in its eager
context's function library, so a process that builds model after model
grows on TensorFlow whatever the model: these tests hold keras_vae to what
a plain Keras model of the same layer sizes costs there, and to flat memory
everywhere else. The figures for 50 fits are in docs/reliability.md.
"""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "soak.py")


def _soak(backend, models, fits):
    result = subprocess.run(
        [sys.executable, SCRIPT, "--fits", str(fits), "--models", models],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "KERAS_BACKEND": backend},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["backend"] == backend
    return report["rss_mb_after_each_fit"]


def test_refitting_one_model_keeps_memory_flat_on_tensorflow():
    rss = _soak("tensorflow", "same", 16)
    # 0.08 MB per fit measured over 50 fits; the allocator also grows in steps
    # of about 5 MB now and then (once in 8 fits seen). A refit must cost less
    # than a tenth of what a new model costs (14.3 MB, below).
    assert (rss[-1] - rss[4]) / (len(rss) - 5) < 14.3 / 10, rss


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_new_models_keep_memory_flat(backend):
    rss = _soak(backend, "new", 10)
    # 0.01 (JAX), 0.37 (PyTorch) MB per fit measured, but PyTorch's resident
    # size swings by up to 17 MB from one fit to the next, either way (16.5 MB
    # over fits 4-10 failed a 16 MB bound once in CI). A new model kept alive
    # per fit (its 0.9 M weights and Adam slots, about 11 MB) would add 66 MB
    # over those 6 fits: the bound is half of that.
    assert rss[-1] - rss[3] < 33, rss


def test_new_models_on_tensorflow_cost_what_plain_keras_models_cost():
    ours = _soak("tensorflow", "new", 7)
    plain = _soak("tensorflow", "plain", 7)
    per_model = (ours[-1] - ours[2]) / 4
    per_plain_model = (plain[-1] - plain[2]) / 4
    # 14.3 and 11.4 MB per model measured over 50 fits.
    assert per_model < 1.75 * per_plain_model, (ours, plain)
