"""The models on every Keras backend.

Keras fixes its backend when it is first imported, so each other backend runs
in a subprocess with KERAS_BACKEND set: the backend-sensitive test modules
(layers, likelihoods, architectures, models, schedulers, evaluation) run there
again, and `.keras`
files saved on each backend load, predict the same and keep training on the
others.
"""

import os
import subprocess
import sys
import textwrap

import keras
import pytest

from keras_vae.models.backends import SUPPORTED_BACKENDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BACKEND_SENSITIVE = [
    "tests/layers",
    "tests/likelihoods",
    "tests/models/test_vae.py",
    "tests/models/test_conditional_vae.py",
    # The convolutions' shapes (transposed convolutions differ by backend);
    # the MLP's Dense shapes and the argument checks are plain Python.
    "tests/test_architectures.py::test_conv_shapes_follow_the_input",
    "tests/test_architectures.py::test_conv_takes_explicit_filters_and_trains_in_a_vae",
    "tests/test_architectures.py::test_conv_conditional_shapes",
    "tests/test_architectures.py::"
    "test_condition_all_layers_feeds_the_class_to_every_convolution",
    "tests/test_architectures.py::"
    "test_only_condition_all_layers_lets_the_class_shape_the_convolutions",
    "tests/callbacks/test_schedulers.py",
    # Dequantization's noise inside the compiled steps, and in the bound.
    "tests/models/test_dequantization.py",
    "tests/evaluation/test_latent_usage.py",
    # The priors and the importance-weighted objective train, save and load.
    "tests/priors/test_priors.py::test_trains_saves_and_continues",
    # The per-backend gradients of the regret, and the conditional scores.
    "tests/anomaly/test_anomaly.py::"
    "test_regret_is_the_elbo_gained_by_refitting_the_posterior",
    "tests/anomaly/test_anomaly.py::test_conditional_scores_marginalise_over_classes",
    "tests/anomaly/test_anomaly.py::"
    "test_knn_reads_the_hidden_layer_at_the_most_probable_class_or_the_codes",
    # The bound's code paths (VAE, and ConditionalVAE with labels); the
    # statistical checks of the bound run on the default backend only.
    "tests/evaluation/test_likelihood_bound.py::"
    "test_samples_split_across_chunks_add_up_to_the_exact_likelihood",
    "tests/evaluation/test_likelihood_bound.py::"
    "test_conditional_model_bound_is_below_its_elbo",
]
OTHER_BACKENDS = [b for b in SUPPORTED_BACKENDS if b != keras.backend.backend()]


def _run(arguments, backend, timeout):
    return subprocess.run(
        [sys.executable, *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_command_line_offers_the_supported_backends():
    from keras_vae import framework

    assert framework.BACKENDS == SUPPORTED_BACKENDS


# The biggest modules alone, the rest together: the test workers share them.
_ALONE = ["tests/models/test_vae.py", "tests/models/test_conditional_vae.py"]
BACKEND_SENSITIVE_GROUPS = [
    *([path] for path in _ALONE),
    [path for path in BACKEND_SENSITIVE if path not in _ALONE],
]


@pytest.mark.parametrize(
    "backend, modules",
    [(b, group) for b in OTHER_BACKENDS for group in BACKEND_SENSITIVE_GROUPS],
    ids=lambda value: value if isinstance(value, str) else value[0].split("/")[-1],
)
def test_backend_sensitive_modules_pass_on(backend, modules):
    assert sorted(sum(BACKEND_SENSITIVE_GROUPS, [])) == sorted(BACKEND_SENSITIVE)
    result = _run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", *modules],
        backend,
        timeout=900,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout else ""
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in summary and "failed" not in summary, summary


SAVE_AND_LOAD = textwrap.dedent(
    """
    import glob, os, sys
    import keras, numpy as np
    import keras_vae

    folder, backend = sys.argv[1], keras.backend.backend()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 8, 1)).astype("float32")
    labels = np.arange(64) % 10
    z = rng.normal(size=(16, 2)).astype("float32")

    def outputs(model):
        if isinstance(model, keras_vae.models.ConditionalVAE):
            return model.encode(x, labels)[0], model.decode(z, labels[:16])
        return model.encode(x)[0], model.decode(z)

    checked = []
    for path in sorted(glob.glob(os.path.join(folder, "*.keras"))):
        if os.path.basename(path).startswith(backend + "-"):
            continue
        model = keras.models.load_model(path)
        expected = np.load(path.replace(".keras", ".npz"))
        mean, decoded = outputs(model)
        np.testing.assert_allclose(mean, expected["mean"], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(decoded, expected["decoded"], rtol=1e-4, atol=1e-5)
        assert float(model.beta) == 3.0
        steps = int(model.optimizer.iterations)
        targets = (labels,) if "cvae" in path else ()
        model.fit(x, *targets, epochs=1, batch_size=16, verbose=0)
        assert int(model.optimizer.iterations) == steps + 4
        checked.append(os.path.basename(path))

    if not glob.glob(os.path.join(folder, backend + "-*.keras")):
        mlp = keras_vae.architectures.mlp(x.shape[1:], 2, hidden_units=(16,))
        conv = keras_vae.architectures.conv_conditional(
            x.shape[1:], 2, 10, filters=(4, 8)
        )
        for name, model, targets in [
            ("vae", keras_vae.models.VAE(*mlp, beta=3.0), ()),
            (
                "cvae",
                keras_vae.models.ConditionalVAE(*conv, num_classes=10, beta=3.0),
                (labels,),
            ),
        ]:
            model.compile(optimizer="adam")
            model.fit(x, *targets, epochs=1, batch_size=16, verbose=0)
            path = os.path.join(folder, f"{backend}-{name}.keras")
            model.save(path)
            mean, decoded = outputs(model)
            np.savez(path.replace(".keras", ".npz"), mean=mean, decoded=decoded)
    print("checked", " ".join(checked))
    """
)


def test_keras_files_move_between_backends(tmp_path):
    """Each backend saves a VAE and a CVAE; each loads the others' files,
    predicts the same and trains on. The first backend checks again last."""
    order = [*SUPPORTED_BACKENDS, SUPPORTED_BACKENDS[0]]
    for step, backend in enumerate(order):
        result = _run(["-c", SAVE_AND_LOAD, str(tmp_path)], backend, timeout=300)
        assert result.returncode == 0, f"{backend}: {result.stderr[-3000:]}"
        checked = set(result.stdout.split()[1:])
        expected = {
            f"{other}-{name}.keras"
            for other in order[:step]
            if other != backend
            for name in ("vae", "cvae")
        }
        if step == len(order) - 1:
            expected = {
                f"{other}-{name}.keras"
                for other in SUPPORTED_BACKENDS[1:]
                for name in ("vae", "cvae")
            }
        assert checked == expected, (backend, checked)
