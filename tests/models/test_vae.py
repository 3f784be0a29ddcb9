import csv
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import warnings

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.architectures import conv, mlp
from keras_vae.models import VAE
from keras_vae.models.backends import AUTO_STEPS_PER_EXECUTION

METRICS = {"loss", "reconstruction_loss", "kl_loss", "elbo"}


def _data(n=96, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 8, 8)).astype("float32")


def _vae(latent_dim=2, steps_per_execution="auto", **kwargs):
    encoder, decoder = mlp((8, 8), latent_dim, hidden_units=(16,))
    model = VAE(encoder, decoder, seed=0, **kwargs)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=steps_per_execution
    )
    return model


def test_fit_and_evaluate_log_every_term_with_validation():
    model = _vae()
    x = _data()
    history = model.fit(x, validation_data=x[:32], epochs=2, batch_size=32, verbose=0)
    # beta is logged for training only: evaluation has no beta of its own.
    assert set(history.history) == METRICS | {f"val_{m}" for m in METRICS} | {"beta"}
    results = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    assert set(results) == METRICS
    assert all(np.isfinite(v) for v in results.values())


def test_terms_add_up():
    model = _vae(beta=3.0)
    results = model.evaluate(_data(), batch_size=32, verbose=0, return_dict=True)
    reconstruction, kl = results["reconstruction_loss"], results["kl_loss"]
    assert kl > 0
    assert results["loss"] == pytest.approx(reconstruction + 3.0 * kl, rel=1e-5)
    assert results["elbo"] == pytest.approx(reconstruction + kl, rel=1e-5)


def test_other_losses_of_the_networks_join_the_objective():
    encoder, decoder = mlp((8, 8), 2, hidden_units=(16,))
    regularized = keras.layers.Dense(
        64, kernel_regularizer=keras.regularizers.L2(10.0), name="regularized"
    )
    z = keras.Input((2,))
    decoder = keras.Model(z, keras.layers.Reshape((8, 8))(regularized(z)))
    model = VAE(encoder, decoder, beta=1.0, seed=0)
    model.compile()
    results = model.evaluate(_data(), verbose=0, return_dict=True)
    penalty = 10.0 * float(np.sum(np.square(regularized.kernel.numpy())))
    expected = results["reconstruction_loss"] + results["kl_loss"] + penalty
    assert results["loss"] == pytest.approx(expected, rel=1e-4)


class _SetBetaAfter(keras.callbacks.Callback):
    def __init__(self, batch, beta):
        super().__init__()
        self.switch_batch, self.new_beta, self.logs = batch, beta, []

    def on_train_batch_end(self, batch, logs=None):
        self.logs.append(dict(logs))
        if batch == self.switch_batch:
            self.model.beta = self.new_beta


def _per_batch(running_means, key):
    """Per-batch values from Keras' running means over equal-sized batches."""
    means = np.array([logs[key] for logs in running_means], "float64")
    counts = np.arange(1, len(means) + 1)
    return means * counts - np.concatenate([[0.0], means[:-1] * counts[:-1]])


def test_beta_assigned_mid_fit_changes_the_next_step():
    model = _vae(beta=0.0, steps_per_execution=1)
    callback = _SetBetaAfter(batch=2, beta=5.0)
    model.fit(_data(n=192), epochs=1, batch_size=32, verbose=0, callbacks=[callback])
    loss = _per_batch(callback.logs, "loss")
    reconstruction = _per_batch(callback.logs, "reconstruction_loss")
    kl = _per_batch(callback.logs, "kl_loss")
    np.testing.assert_allclose(loss[:3], reconstruction[:3], atol=0.02)
    np.testing.assert_allclose(loss[3:], reconstruction[3:] + 5.0 * kl[3:], atol=0.02)
    assert np.all(5.0 * kl[3:] > 0.1)  # the change is visible above the tolerance
    assert float(model.beta) == 5.0


class _CountBatches(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = []

    def on_train_batch_end(self, batch, logs=None):
        self.batches.append(batch)


def test_steps_per_execution_auto_follows_the_backend():
    model = _vae()
    assert (
        model.steps_per_execution == AUTO_STEPS_PER_EXECUTION[keras.backend.backend()]
    )
    history = model.fit(_data(n=192), epochs=2, batch_size=16, verbose=0)
    assert np.all(np.isfinite(history.history["elbo"]))


@pytest.mark.skipif(
    keras.backend.backend() == "torch", reason="Keras' torch trainer requires 1"
)
def test_per_batch_hooks_run_once_per_execution():
    model = _vae(steps_per_execution=4)
    counter = _CountBatches()
    model.fit(_data(n=192), epochs=1, batch_size=16, verbose=0, callbacks=[counter])
    assert counter.batches == [3, 7, 11]  # 12 batches, hooks after every 4th


class _SetBetaAtEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.model.beta = 0.5 * epoch


ON_TORCH_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the traced step is PyTorch's"
)


def _fit_on_torch(networks, jit_compile, x, callbacks=(), layer=None, optimizer=None):
    """A model fitted for 3 epochs (batches of 16, a short last one, beta
    changed by a callback), its random numbers drawn from PyTorch's global
    generator in both steps, so the traced and the eager step see the same."""
    import torch

    from keras_vae import private_api

    keras.utils.set_random_seed(0)
    if networks == "mlp":
        encoder, decoder = mlp(x.shape[1:], 2, hidden_units=(16,))
    else:
        encoder, decoder = conv(x.shape[1:], 2, filters=(4,))
    if layer is not None:
        encoder = keras.Sequential([layer, encoder])
    model = VAE(encoder, decoder, seed=0)
    model.compile(
        optimizer=optimizer or keras.optimizers.Adam(1e-3), jit_compile=jit_compile
    )
    with private_api.torch_random_from_global_generator():
        torch.manual_seed(0)
        history = model.fit(
            x,
            epochs=3,
            batch_size=16,
            verbose=0,
            callbacks=[_SetBetaAtEpoch(), *callbacks],
        )
    return model, history.history


@ON_TORCH_ONLY
@pytest.mark.parametrize("networks", ["mlp", "conv", "dropout"])
def test_the_traced_step_trains_as_the_eager_step(networks):
    # With dropout, fresh masks at every replay, as the eager step draws them.
    from keras_vae.models.backends.torch_trainer import TracedTrainStep

    x = _data(n=200) if networks != "conv" else _data(n=200).reshape(-1, 8, 8, 1)
    architecture = "conv" if networks == "conv" else "mlp"
    runs = []
    for jit_compile, callbacks in ((False, []), ("auto", [_CountBatches()])):
        layer = keras.layers.Dropout(0.5, seed=1) if networks == "dropout" else None
        runs.append(_fit_on_torch(architecture, jit_compile, x, callbacks, layer))
    (eager, eager_history), (traced, traced_history) = runs
    counter = callbacks[0]
    assert not isinstance(eager.train_function, TracedTrainStep)
    assert isinstance(traced.train_function, TracedTrainStep)
    assert len(traced.train_function.graphs) == 1  # not the short last batch
    # Adam in the graph is PyTorch's fused kernel; the eager step runs Keras'.
    (graph,) = traced.train_function.graphs.values()
    assert any("_fused_adam_" in str(node.target) for node in graph.graph.nodes)
    # Every batch ran: 12 of 16 images (the graph) and one of 8 (eagerly).
    assert counter.batches == list(range(13)) * 3
    assert int(traced.optimizer.iterations) == int(eager.optimizer.iterations) == 39
    for key in ("loss", "kl_loss", "elbo"):
        np.testing.assert_allclose(traced_history[key], eager_history[key], rtol=1e-5)
    for mine, theirs in zip(traced.variables, eager.variables, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-6)
    assert float(traced.beta) == 1.0


@ON_TORCH_ONLY
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_is_traced_and_trains_as_the_eager_step(momentum):
    # Keras' PyTorch SGD reads its learning rate in Python; the traced step
    # gives it as a tensor.
    x = _data(n=200)
    runs = []
    for jit_compile in (False, "auto"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            optimizer = keras.optimizers.SGD(1e-3, momentum=momentum, nesterov=True)
            runs.append(_fit_on_torch("mlp", jit_compile, x, optimizer=optimizer))
    assert not [w for w in caught if "could not be traced" in str(w.message)]
    (eager, eager_history), (traced, traced_history) = runs
    assert len(traced.train_function.graphs) == 1
    np.testing.assert_allclose(traced_history["loss"], eager_history["loss"], rtol=1e-5)
    for mine, theirs in zip(traced.variables, eager.variables, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-6)


@ON_TORCH_ONLY
@pytest.mark.parametrize("optimizer", ["Adafactor", "Ftrl", "RMSprop", "Lion"])
def test_every_keras_optimizer_trains_in_the_traced_step(optimizer):
    # Those without Keras' PyTorch parallel update (Adafactor, Ftrl) too.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, history = _fit_on_torch(
            "mlp", "auto", _data(n=64), optimizer=getattr(keras.optimizers, optimizer)()
        )
    assert not [w for w in caught if "could not be traced" in str(w.message)]
    assert len(model.train_function.graphs) == 1
    assert np.isfinite(history["loss"]).all() and int(model.optimizer.iterations) == 12


@ON_TORCH_ONLY
def test_a_new_batch_size_gets_a_graph_of_its_own():
    model = _vae()
    x = _data(n=100)  # batches of 16 end with one of 4; of 32, with one of 4
    model.fit(x, epochs=2, batch_size=16, verbose=0)
    model.fit(x, epochs=2, batch_size=32, verbose=0)
    shapes = sorted(key[0][0][0] for key in model.train_function.graphs)
    assert shapes == [16, 32]
    assert int(model.optimizer.iterations) == 2 * 7 + 2 * 4


@ON_TORCH_ONLY
@pytest.mark.parametrize("compiler", ["installed", "missing"])
def test_jit_compile_compiles_the_traced_step_with_inductor(
    compiler, tmp_path, monkeypatch
):
    # TorchInductor needs a C++ compiler; without one the step says so once
    # and runs the traced graph uncompiled: the same numbers either way.
    if compiler == "missing":
        import torch._inductor.config

        monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path))
        monkeypatch.setattr(torch._inductor.config, "fx_graph_cache", False)
        monkeypatch.setattr(torch._inductor.config.cpp, "cxx", (None, "/bin/false"))
    x = _data(n=200)
    eager, eager_history = _fit_on_torch("mlp", False, x)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, history = _fit_on_torch("mlp", True, x)
    said = [str(w.message) for w in caught if "TorchInductor" in str(w.message)]
    (graph,) = model.train_function.graphs.values()
    compiled = type(graph).__name__ == "OptimizedModule"  # torch.compile's
    if compiler == "missing":
        assert len(said) == 1 and "C++ compiler" in said[0], said
        assert not compiled
    else:  # as on a machine without one
        found = any(shutil.which(name) for name in ("g++", "c++", "clang++"))
        assert compiled == found and len(said) == (not found), said
    np.testing.assert_allclose(history["elbo"], eager_history["elbo"], rtol=1e-4)
    for mine, theirs in zip(model.variables, eager.variables, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-3, atol=1e-5)


class _ReadsAValue(keras.layers.Layer):
    """Passes its input on, after Python reads one of its values: a step
    that cannot be traced."""

    def call(self, inputs):
        if bool(keras.ops.any(inputs > 1e9)):
            return inputs * 0.0
        return inputs


@ON_TORCH_ONLY
def test_a_step_that_cannot_be_traced_warns_once_and_trains_eagerly():
    x = _data(n=64)
    eager, eager_history = _fit_on_torch("mlp", False, x, layer=_ReadsAValue())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, history = _fit_on_torch("mlp", "auto", x, layer=_ReadsAValue())
    traced = [str(w.message) for w in caught if "could not be traced" in str(w.message)]
    assert len(traced) == 1, traced  # 12 steps, one warning
    assert "jit_compile=False" in traced[0]
    # The failed trace changed nothing: the same weights as the eager fit, to
    # the float rounding of Adam's fused kernel (a step not undone would be
    # 1e-3 away).
    np.testing.assert_allclose(history["loss"], eager_history["loss"], rtol=1e-6)
    for mine, theirs in zip(model.variables, eager.variables, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-5)


@ON_TORCH_ONLY
def test_the_eager_step_is_one_argument_away():
    from keras_vae.models.backends.torch_trainer import TracedTrainStep

    for arguments in ({"jit_compile": False}, {"run_eagerly": True}):
        model = _vae()
        model.compile(optimizer="adam", **arguments)
        model.fit(_data(), epochs=1, batch_size=16, verbose=0)
        assert not isinstance(model.train_function, TracedTrainStep)
    # Loss scaling chooses a branch from a value: eager, and silent.
    keras.config.set_dtype_policy("mixed_float16")
    model = _vae()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(_data(), epochs=1, batch_size=16, verbose=0)
    assert not isinstance(model.train_function, TracedTrainStep)


@pytest.mark.skipif(
    keras.backend.backend() == "torch", reason="Keras' torch trainer requires 1"
)
@pytest.mark.parametrize("networks", ["mlp", "conv", "keras conv"])
def test_several_steps_per_call_train_as_single_steps(networks, monkeypatch):
    # 200 images in batches of 16: 12 full batches and one of 8, so with 5
    # steps per call two calls run 5 batches each (on JAX one compiled scan
    # each, or with Keras' XLA convolution on a CPU one call per batch) and
    # the last 3 run one by one, the last at its own shape. Beta changes
    # between epochs, so each call must read it as data.
    if networks == "keras conv":
        monkeypatch.setattr(keras_vae.architectures, "Conv2D", keras.layers.Conv2D)
    x = _data(n=200)
    weights = []
    for steps in (1, 5):
        keras.utils.set_random_seed(0)  # same initial weights and shuffling
        if networks == "mlp":
            model = _vae(steps_per_execution=steps)
        else:
            model = VAE(*conv((8, 8, 1), 2, filters=(4,)), seed=0)
            model.compile(
                optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=steps
            )
            x = x.reshape(-1, 8, 8, 1)
        history = model.fit(
            x, epochs=3, batch_size=16, verbose=0, callbacks=[_SetBetaAtEpoch()]
        )
        weights.append([w.numpy() for w in model.weights])
        assert float(model.beta) == 1.0
    for single, several in zip(*weights, strict=True):
        np.testing.assert_allclose(several, single, rtol=1e-4, atol=1e-6)
    # The epochs' logs are the epochs' means, the same both ways.
    assert history.history["loss"][0] != history.history["loss"][2]


def test_every_standard_callback_in_one_fit(tmp_path):
    model = _vae()
    x = _data()
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_elbo", mode="min", patience=1, restore_best_weights=True
        ),
        keras.callbacks.ModelCheckpoint(tmp_path / "best.keras", monitor="val_loss"),
        keras.callbacks.ModelCheckpoint(
            tmp_path / "last.weights.h5", save_weights_only=True
        ),
        keras.callbacks.BackupAndRestore(tmp_path / "backup"),
        keras.callbacks.TensorBoard(tmp_path / "tensorboard"),
        keras.callbacks.CSVLogger(tmp_path / "history.csv"),
        keras.callbacks.ReduceLROnPlateau(monitor="val_elbo", mode="min", patience=1),
        keras.callbacks.TerminateOnNaN(),
    ]
    history = model.fit(
        x,
        validation_data=x[:32],
        epochs=4,
        batch_size=32,
        verbose=0,
        callbacks=callbacks,
    )
    assert len(history.history["loss"]) >= 2
    restored = keras.models.load_model(tmp_path / "best.keras")
    assert isinstance(restored, VAE)
    model.load_weights(tmp_path / "last.weights.h5")
    with open(tmp_path / "history.csv") as file:
        header = next(csv.reader(file))
    assert {"elbo", "kl_loss", "val_elbo", "val_reconstruction_loss"} <= set(header)
    assert any((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))


def test_early_stopping_on_val_elbo_restores_best_weights():
    model = _vae()
    x = _data()
    stopper = keras.callbacks.EarlyStopping(
        monitor="val_elbo", mode="min", patience=2, restore_best_weights=True
    )
    model.fit(
        x, validation_data=x, epochs=30, batch_size=32, verbose=0, callbacks=[stopper]
    )
    # Weights are those of the best epoch: deterministic encoder means match.
    assert stopper.best_weights is not None
    current = [w.numpy() for w in model.weights]
    for now, best in zip(current, stopper.best_weights, strict=True):
        np.testing.assert_array_equal(now, best)


def test_keras_file_round_trip_and_training_resumes(tmp_path):
    model = _vae(beta=2.0, parameterization="log_var", likelihood="gaussian")
    x = _data()
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    assert float(restored.beta) == 2.0 and restored.parameterization == "log_var"
    np.testing.assert_allclose(restored.encode(x)[0], model.encode(x)[0], rtol=1e-6)
    z = np.random.default_rng(1).normal(size=(5, 2)).astype("float32")
    np.testing.assert_allclose(restored.decode(z), model.decode(z), rtol=1e-6)
    # The optimizer state travels with the file: training continues from it.
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 3
    for a, b in zip(
        restored.optimizer.variables, model.optimizer.variables, strict=True
    ):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    restored.fit(x, epochs=1, batch_size=32, verbose=0)
    assert int(restored.optimizer.iterations) == 6


def test_loads_in_a_fresh_process_with_safe_mode_and_no_custom_objects(tmp_path):
    model = _vae(likelihood="bernoulli")
    x = np.random.default_rng(0).uniform(size=(32, 8, 8)).astype("float32")
    model.fit(x, epochs=1, verbose=0)
    model.save(tmp_path / "vae.keras")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "mean.npy", model.encode(x)[0])
    script = textwrap.dedent(
        """
        import sys, keras, numpy as np
        import keras_vae
        model = keras.models.load_model(sys.argv[1] + "/vae.keras")
        mean = model.encode(np.load(sys.argv[1] + "/x.npy"))[0]
        np.testing.assert_allclose(mean, np.load(sys.argv[1] + "/mean.npy"), rtol=1e-6)
        print(type(model).__name__, type(model.likelihood).__name__)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["VAE", "Bernoulli"]


def test_weights_file_round_trip(tmp_path):
    model = _vae()
    x = _data()
    model.fit(x, epochs=1, verbose=0)
    model.save_weights(tmp_path / "vae.weights.h5")
    other = _vae()
    other.build(x.shape)
    other.optimizer.build(other.trainable_variables)  # to restore its state too
    other.load_weights(tmp_path / "vae.weights.h5")
    np.testing.assert_allclose(other.encode(x)[0], model.encode(x)[0], rtol=1e-6)
    assert int(other.optimizer.iterations) == int(model.optimizer.iterations) == 3


def test_inference_helpers():
    model = _vae(latent_dim=3, likelihood="bernoulli")
    x = np.random.default_rng(0).uniform(size=(10, 8, 8)).astype("float32")
    model.fit(x, epochs=1, verbose=0)
    mean, sigma = model.encode(x, batch_size=4)
    assert mean.shape == sigma.shape == (10, 3) and np.all(sigma > 0)
    reconstructions = model.reconstruct(x, batch_size=3)
    assert reconstructions.shape == x.shape
    np.testing.assert_allclose(reconstructions, model.reconstruct(x), rtol=1e-5)
    assert not np.allclose(model.reconstruct(x, sample=True, seed=1), reconstructions)
    np.testing.assert_array_equal(
        model.reconstruct(x, sample=True, seed=1),
        model.reconstruct(x, sample=True, seed=1),
    )
    samples = model.sample(6, seed=3)
    assert samples.shape == (6, 8, 8) and samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, model.sample(6, seed=3))
    assert not np.allclose(model.sample(6, seed=4), samples)
    assert not np.allclose(model.sample(6), model.sample(6))


def test_helpers_run_the_networks_with_one_batch_shape():
    model = _vae(latent_dim=3)
    x = _data(10)
    model.fit(x, epochs=1, verbose=0)
    shapes = []
    predict_on_batch = model.encoder.predict_on_batch

    def recording(inputs):
        shapes.append(inputs.shape)
        return predict_on_batch(inputs)

    model.encoder.predict_on_batch = recording
    mean, sigma = model.encode(x, batch_size=4)
    # 10 inputs in batches of 4: the last batch of 2 is padded, then trimmed.
    assert shapes == [(4, 8, 8)] * 3
    assert mean.shape == sigma.shape == (10, 3)
    whole_mean, whole_sigma = model.encode(x)
    np.testing.assert_allclose(mean, whole_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sigma, whole_sigma, rtol=1e-5, atol=1e-6)
    assert shapes[-1] == (10, 8, 8)  # one batch: not padded


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="Keras' other trainers build the optimizer before any step",
)
def test_the_optimizer_is_built_before_the_step_is_traced_on_tensorflow():
    model = _vae()
    model.make_train_function()
    assert model.optimizer.built  # Keras' TensorFlow trainer: in the trace
    history = model.fit(_data(), epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["elbo"]))
    # A network that builds on its first call leaves it to the trace.
    unbuilt = VAE(SubclassedEncoder(), SubclassedDecoder(), seed=0)
    unbuilt.compile()
    unbuilt.make_train_function()
    assert not unbuilt.optimizer.built
    unbuilt.fit(_data(), epochs=1, verbose=0)
    assert unbuilt.optimizer.built


class SubclassedEncoder(keras.Model):
    def __init__(self):
        super().__init__()
        self.flatten = keras.layers.Flatten()
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.heads = keras.layers.Dense(4)

    def call(self, x):
        mean, raw_scale = keras.ops.split(
            self.heads(self.hidden(self.flatten(x))), 2, -1
        )
        return mean, raw_scale


class SubclassedDecoder(keras.Model):
    def __init__(self):
        super().__init__()
        self.out = keras.layers.Dense(64)

    def call(self, z):
        return keras.ops.reshape(self.out(z), (-1, 8, 8))


def test_works_with_subclassed_networks():
    model = VAE(SubclassedEncoder(), SubclassedDecoder(), seed=0)
    model.compile()
    x = _data()
    before = model.evaluate(x, verbose=0, return_dict=True)["elbo"]
    model.fit(x, epochs=10, verbose=0)
    assert model.evaluate(x, verbose=0, return_dict=True)["elbo"] < before
    assert model.encode(x)[0].shape == (96, 2)


def test_learns_real_digits():
    from sklearn.datasets import load_digits

    images = load_digits().images.astype("float32") / 16.0
    x_train, x_test = images[:1500], images[1500:]
    model = _vae(latent_dim=4, likelihood="bernoulli")
    before = model.evaluate(x_test, verbose=0, return_dict=True)["elbo"]
    model.fit(x_train, epochs=15, batch_size=32, verbose=0)
    after = model.evaluate(x_test, verbose=0, return_dict=True)
    # An untrained model is near 64 log 2 = 44 nats; a trained one far below.
    assert before > 40
    assert after["elbo"] < 0.8 * before
    assert after["kl_loss"] > 1.0  # the latent code is in use


def test_mixed_precision_training():
    keras.config.set_dtype_policy("mixed_float16")
    model = _vae()
    history = model.fit(_data(), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert model.encoder.layers[-1].compute_dtype == "float16"


def test_beta_property_validates():
    model = _vae()
    model.beta = 12
    assert float(model.kl_regularizer.beta) == 12.0
    with pytest.raises(ValueError, match="beta"):
        model.beta = float("nan")


# Bad input: clear errors before any training step.


def test_encoder_must_return_two_tensors():
    inputs = keras.Input((8, 8))
    encoder = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(inputs)))
    _, decoder = mlp((8, 8), 2)
    model = VAE(encoder, decoder)
    model.compile()
    with pytest.raises(
        ValueError, match=r"two tensors \(mean, raw_scale\).*one tensor"
    ):
        model.fit(_data(), epochs=1, verbose=0)


def test_encoder_outputs_must_have_equal_shapes():
    inputs = keras.Input((8, 8))
    flat = keras.layers.Flatten()(inputs)
    encoder = keras.Model(
        inputs, [keras.layers.Dense(2)(flat), keras.layers.Dense(3)(flat)]
    )
    _, decoder = mlp((8, 8), 2)
    with pytest.raises(ValueError, match=r"equal shape.*\(2, 2\).*\(2, 3\)"):
        VAE(encoder, decoder)(_data()[:2])


def test_decoder_must_reproduce_input_shape():
    encoder, _ = mlp((8, 8), 2)
    _, decoder = mlp((7, 7), 2)
    model = VAE(encoder, decoder)
    model.compile()
    with pytest.raises(
        ValueError, match=r"decoder's output.*\(None, 8, 8\).*\(None, 7, 7\)"
    ):
        model.fit(_data(), epochs=1, verbose=0)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"beta": -1.0}, ValueError, "beta=-1.0"),
        ({"beta": float("nan")}, ValueError, "beta=nan"),
        ({"parameterization": "exp"}, ValueError, "parameterization='exp'"),
        ({"likelihood": "poisson"}, ValueError, "likelihood='poisson'"),
    ],
)
def test_rejects_bad_arguments(kwargs, error, match):
    encoder, decoder = mlp((8, 8), 2)
    with pytest.raises(error, match=match):
        VAE(encoder, decoder, **kwargs)


def test_rejects_non_layer_networks():
    with pytest.raises(TypeError, match="encoder"):
        VAE(lambda x: x, mlp((8, 8), 2)[1])


def test_rejects_nan_data_before_training():
    model = _vae()
    x = _data()
    x[3, 2, 1] = np.nan
    with pytest.raises(ValueError, match="1 NaN or infinite"):
        model.fit(x, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`validation_data` holds 1 NaN"):
        model.fit(_data(), validation_data=x, epochs=1, verbose=0)
    # Keras' tuple forms: `(x,)` (it raised a TypeError), `(x, y)`, `[x]`.
    for wrapped in ((x,), (x, None), [x]):
        with pytest.raises(ValueError, match="`validation_data` holds 1 NaN"):
            model.fit(_data(), validation_data=wrapped, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 0


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_a_call_failing_at_its_first_step_keeps_the_trained_weights(call):
    # On JAX, Keras drops the variables' values while the steps run and put
    # back the last step's: after a first step that failed, none (every
    # weight lost, "'NoneType' object is not callable" on the next call).
    model = _vae()
    x = _data()
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    trained = [w.numpy() for w in model.weights]

    class WrongShape(keras.utils.PyDataset):  # not checked before the step
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return (x[:32, :4],)

    # The encoder takes 8 x 8: a ValueError while tracing (JAX, PyTorch) or
    # TensorFlow's InvalidArgumentError while the graph runs.
    with pytest.raises(Exception, match="shape|Incompatible|incompatible"):  # noqa: B017
        getattr(model, call)(WrongShape(), verbose=0)
    for before, weight in zip(trained, model.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), before)
    model.fit(x, epochs=1, batch_size=32, verbose=0)


def test_ctrl_c_in_the_first_step_keeps_the_trained_weights():
    model = _vae()
    x = _data()
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    trained = [w.numpy() for w in model.weights]
    step = model.train_function

    def interrupted(*args):
        raise KeyboardInterrupt  # as Ctrl-C does while the step compiles

    model.train_function = interrupted
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, epochs=1, batch_size=32, verbose=0)
    for before, weight in zip(trained, model.weights, strict=True):
        np.testing.assert_array_equal(weight.numpy(), before)
    model.train_function = step
    history = model.fit(x, epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_arrays_of_another_shape_than_the_model_was_built_for():
    model = _vae()  # built for 8 x 8
    x = _data()
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    for call, arguments in (
        ("fit", {"epochs": 1}),
        ("evaluate", {}),
        ("predict", {}),
    ):
        with pytest.raises(
            ValueError,
            match=r"shape \(8, 8, 1\); .* built for \(8, 8\) \(`x\[\.\.\., 0\]`",
        ):
            getattr(model, call)(x[..., None], verbose=0, **arguments)
    for call in ("fit", "evaluate", "predict"):  # Keras: "expects 1 named input"
        with pytest.raises(ValueError, match=r"`x` is a list of 96 arrays; VAE takes"):
            getattr(model, call)(list(x), verbose=0)
    with pytest.raises(
        ValueError, match=r"`validation_data` holds examples of shape \(4, 8\)"
    ):
        model.fit(x, validation_data=x[:, :4], epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 3  # the first fit's 3 batches


def test_ctrl_c_that_keras_swallows_still_stops_fit():
    # Keras turns each batch's logs into floats under a bare `except: pass`;
    # on JAX that is where the main thread waits for the step, so Ctrl-C
    # mostly landed there and training went on.
    model = _vae()
    x = _data()
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    step = model.train_function
    interrupts = []

    class CtrlC:
        def __float__(self):
            if not interrupts:
                interrupts.append(1)
                signal.raise_signal(signal.SIGINT)  # while the logs convert
            return 0.0

    def step_with_ctrl_c(*args):
        result = step(*args)
        if isinstance(result, tuple):  # JAX: (logs, state)
            return {**result[0], "ctrl_c": CtrlC()}, result[1]
        return {**result, "ctrl_c": CtrlC()}

    class Batches(keras.callbacks.Callback):  # a batch-end hook: Keras'
        count = 0  # callbacks then run in the main thread

        def on_train_batch_end(self, batch, logs=None):
            Batches.count += 1

    model.train_function = step_with_ctrl_c
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, epochs=3, batch_size=32, verbose=0, callbacks=[Batches()])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert interrupts == [1]
    assert Batches.count == 1  # stopped at the next batch
    assert signal.getsignal(signal.SIGINT) is previous


def test_train_on_batch_takes_arrays():
    # PyTorch's traced step keyed its graphs by the batch's leaves, and a
    # NumPy array is not hashable: TypeError at the first call.
    model = _vae()
    x = _data(64)
    for _ in range(4):  # past the traced step's first, eager calls
        logs = model.train_on_batch(x[:32], return_dict=True)
    assert np.isfinite(logs["loss"])
    model.train_on_batch(x[32:].astype("float64"))
    assert int(model.optimizer.iterations) == 5


def test_validation_data_in_every_form_keras_takes():
    x = _data()
    for validation_data in (x[:32], (x[:32],), [x[:32]], (x[:32], None)):
        history = _vae().fit(
            x, validation_data=validation_data, epochs=1, batch_size=32, verbose=0
        )
        assert np.isfinite(history.history["val_elbo"][0])


def test_gaussian_data_far_outside_its_scale_warns_then_refuses():
    model = _vae()
    pixels = np.abs(_data()) / 4  # about 0 to 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(pixels / pixels.max() * 50, epochs=1, verbose=0)
    ours = [w for w in caught if "standard deviations" in str(w.message)]
    assert len(ours) == 1 and ours[0].category is UserWarning
    assert "values up to 50, 71 standard deviations" in str(ours[0].message)
    assert ours[0].filename == __file__  # points at the caller's fit
    with pytest.raises(ValueError, match="Received values up to 255.*Standardize"):
        model.fit(pixels / pixels.max() * 255, epochs=1, verbose=0)
    model.fit(pixels / pixels.max() * 10, epochs=1, verbose=0)  # quiet


def test_bernoulli_blames_labels_not_pixels():
    model = _vae(likelihood="bernoulli")
    x = np.random.default_rng(0).uniform(size=(96, 8, 8)).astype("float32")
    with pytest.raises(ValueError, match="class labels, drop it or use ConditionalVAE"):
        model.fit(x, np.arange(96) % 10, epochs=1, verbose=0)


def test_the_progress_bar_never_counts_past_the_epoch(monkeypatch):
    from keras_vae.models import utils

    counted = []
    original = utils.BatchCountingProgbar._counted

    def spy(self, batch):
        counted.append((original(self, batch), self.target))
        return counted[-1][0]

    monkeypatch.setattr(utils.BatchCountingProgbar, "_counted", spy)
    model = _vae()  # 32 steps per call on TensorFlow and JAX
    model.fit(_data(1337), batch_size=64, epochs=1, verbose=1)  # 21 batches
    assert counted and counted[-1] == (20, 21)  # Keras says batch 31 of 21
    assert all(batch < target for batch, target in counted)
    counted.clear()
    model.evaluate(_data(1337), batch_size=64, verbose=1)
    assert counted[-1] == (20, 21)
    counted.clear()
    model.fit(_data(1337), batch_size=64, epochs=1, verbose=0)
    assert counted == []  # no bar, none added


def test_bernoulli_rejects_targets_outside_unit_interval():
    model = _vae(likelihood="bernoulli")
    with pytest.raises(ValueError, match=r"Bernoulli.*\[0, 1\]"):
        model.fit(_data(), epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 0


def test_rejects_loss_and_metrics_in_compile():
    model = _vae()
    with pytest.raises(ValueError, match="pass only the optimizer"):
        model.compile(optimizer="adam", loss="mse")


def test_rejects_class_labels_as_targets():
    model = _vae()
    with pytest.raises(ValueError, match="class labels.*ConditionalVAE"):
        model.fit(_data(), np.zeros(96), epochs=1, verbose=0)


def test_accepts_explicit_reconstruction_targets():
    model = _vae()
    x = _data()
    history = model.fit(x + 0.1 * _data(seed=1), x, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_rejects_sample_and_class_weights():
    model = _vae()
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(_data(), sample_weight=np.ones(96), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(_data(), class_weight={0: 1.0}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="sample_weight"):
        model.evaluate(_data(), sample_weight=np.ones(96), verbose=0)


def test_helpers_need_a_built_model_and_sane_arguments():
    encoder, decoder = mlp((8, 8), 2)
    model = VAE(encoder, decoder)
    with pytest.raises(ValueError, match="not built"):
        model.sample(3)
    model.build((None, 8, 8))
    with pytest.raises(ValueError, match=r"`n`.*Received: n=0"):
        model.sample(0)
    with pytest.raises(ValueError, match="batch_size"):
        model.encode(_data(), batch_size=0)
    # Codes of another size: NumPy's "cannot reshape array of size 6".
    for z in (np.zeros((2, 3)), np.zeros((0, 2)), np.zeros(2)):
        with pytest.raises(ValueError, match=r"codes of shape \(n,\) \+ \(2,\)"):
            model.decode(z)
    assert model.decode([[0.0, 1.0]]).shape == (1, 8, 8)


def test_other_backends_fail_with_the_fix(monkeypatch):
    encoder, decoder = mlp((8, 8), 2)
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    with pytest.raises(
        RuntimeError, match="tensorflow, jax, torch.*running on 'numpy'.*KERAS_BACKEND"
    ):
        VAE(encoder, decoder)


def test_package_registers_serializable_classes():
    for name in [
        "VAE",
        "ConditionalVAE",
        "Sampling",
        "KLRegularizer",
        "ConditionalConcat",
        "Gaussian",
        "Bernoulli",
    ]:
        assert keras.saving.get_registered_object(f"keras_vae>{name}") is not None
    assert keras_vae.__version__


def _scheduled(steps_per_execution, beta):
    keras.utils.set_random_seed(0)
    encoder, decoder = mlp((8, 8), 2, hidden_units=(16,))
    model = VAE(encoder, decoder, seed=0, beta=beta)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=steps_per_execution
    )
    return model


def test_a_schedule_is_exact_at_every_step_whatever_the_steps_per_call():
    from keras_vae.schedules import LinearWarmup

    x = _data(640)  # 40 batches: one call of 32 steps, then 8 on TensorFlow and JAX
    trained = []
    for steps_per_execution in (1, "auto"):
        model = _scheduled(steps_per_execution, LinearWarmup(steps=40, maximum=2.0))
        history = model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
        assert history.history["beta"] == [pytest.approx(2.0 * 39 / 40)]
        assert int(model.kl_regularizer.iterations) == 40
        trained.append([keras.ops.convert_to_numpy(w) for w in model.weights])
    for one, auto in zip(*trained, strict=True):
        np.testing.assert_allclose(one, auto, rtol=1e-4, atol=1e-6)


def test_a_schedule_is_saved_and_continues_after_loading(tmp_path):
    from keras_vae.schedules import Cyclical

    model = _scheduled(1, Cyclical(period=8, maximum=3.0, cycles=2))
    history = model.fit(_data(64), epochs=1, batch_size=16, verbose=0)  # 4 steps
    assert history.history["beta"] == [pytest.approx(2.25)]  # step 3: 3 * 3 / 4
    model.save(tmp_path / "vae.keras")
    loaded = keras.models.load_model(tmp_path / "vae.keras")
    assert loaded.kl_regularizer.beta_schedule == Cyclical(8, 3.0, cycles=2)
    assert int(loaded.kl_regularizer.iterations) == 4
    history = loaded.fit(_data(64), epochs=1, batch_size=16, verbose=0)
    # Steps 4 to 7 of the first cycle: past its ramp, at the plateau.
    assert history.history["beta"] == [pytest.approx(3.0)]
    assert int(loaded.kl_regularizer.iterations) == 8


class _Unregistered(keras_vae.schedules.Schedule):
    def __call__(self, step):
        return 1.0


@pytest.mark.parametrize(
    "arguments, error, match",
    [
        ({"beta": lambda step: 1.0}, TypeError, "Expected a number or a keras_vae"),
        ({"beta": _Unregistered()}, TypeError, "Expected a serializable schedule"),
        ({"beta": "warmup:5"}, TypeError, "Expected a non-negative float"),
        (
            {"free_bits": keras_vae.schedules.LinearWarmup(5)},
            ValueError,
            "free_bits=LinearWarmup",
        ),
    ],
)
def test_a_schedule_where_a_number_belongs_and_the_reverse(arguments, error, match):
    with pytest.raises(error, match=match):
        VAE(*mlp((8, 8), 2), **arguments)


def test_a_scheduled_beta_refuses_hand_and_callback_settings():
    model = _scheduled(1, keras_vae.schedules.LinearWarmup(10))
    with pytest.raises(ValueError, match="sets beta from its schedule"):
        model.beta = 1.0
    scheduler = keras_vae.callbacks.BetaScheduler(lambda step: 1.0)
    with pytest.raises(ValueError, match="a BetaScheduler would fight it"):
        model.fit(_data(), epochs=1, verbose=0, callbacks=[scheduler])


def test_helpers_work_in_data_space_with_a_preprocessing(tmp_path):
    from keras_vae.datasets import Preprocessing

    pixels = np.random.default_rng(0).uniform(size=(32, 8, 8)).astype("float32")
    preprocessing = Preprocessing.fit("standardize", pixels)
    model = VAE(*mlp((8, 8), 2), seed=0, preprocessing=preprocessing)
    model.compile(optimizer="adam")
    model.fit(preprocessing.transform(pixels), epochs=1, verbose=0)
    mean, sigma = model.encode(pixels)
    raw_mean, raw_sigma = model.encode(preprocessing.transform(pixels), raw=True)
    np.testing.assert_allclose(mean, raw_mean, rtol=1e-5)
    samples = model.sample(8, seed=0)
    assert samples.shape == (8, 8, 8) and 0 <= samples.min() <= samples.max() <= 1
    np.testing.assert_allclose(
        samples, preprocessing.to_pixels(model.sample(8, seed=0, raw=True)), atol=1e-6
    )
    assert model.reconstruct(pixels).min() >= 0
    model.save(tmp_path / "vae.keras")
    loaded = keras.models.load_model(tmp_path / "vae.keras")
    assert loaded.preprocessing.get_config() == preprocessing.get_config()
    np.testing.assert_allclose(loaded.encode(pixels)[0], mean, rtol=1e-5)


def test_an_unconditional_models_helpers_refuse_labels():
    model = _vae()
    model.build((None, 8, 8))
    with pytest.raises(ValueError, match="takes no `labels`: the model is uncond"):
        model.encode(_data(4), labels=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="needs `n`, how many samples"):
        model.sample()


def test_the_sample_temperature_is_the_default_of_sample_and_is_saved(tmp_path):
    model = _vae(sample_temperature=0)
    x = _data()
    model.fit(x, epochs=1, verbose=0)
    # At 0 every draw is the prior's mean, z = 0; a given temperature wins.
    np.testing.assert_allclose(
        model.sample(3, seed=1), model.decode(np.zeros((3, 2), "float32")), atol=1e-6
    )
    assert not np.allclose(model.sample(3, seed=1, temperature=1), model.sample(3))
    model.save(tmp_path / "cold.keras")
    loaded = keras.models.load_model(tmp_path / "cold.keras")
    assert loaded.sample_temperature == 0
    assert _vae().sample_temperature == 1
    for bad in (-1, float("nan"), "warm"):
        with pytest.raises(ValueError, match="sample_temperature"):
            _vae(sample_temperature=bad)


class _Recorder(keras.layers.Layer):
    """Records the first value of each example of every batch it sees (run
    eagerly), and passes the batch on."""

    def __init__(self, seen, **kwargs):
        super().__init__(**kwargs)
        self.record = seen.append  # a list attribute would be copied to track it

    def call(self, x):
        values = keras.ops.convert_to_numpy(x)[:, 0] * 100  # row / 100 in x
        self.record(np.round(values).astype(int))
        return x

    def compute_output_shape(self, shape):
        return shape


def _recording_vae(seen, size):
    inputs = keras.Input((size,))
    h = keras.layers.Dense(4, activation="relu")(_Recorder(seen)(inputs))
    encoder = keras.Model(inputs, [keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)])
    z = keras.Input((2,))
    decoder = keras.Model(z, keras.layers.Dense(size)(z))
    model = VAE(encoder, decoder)
    model.compile(optimizer="adam", run_eagerly=True)
    return model


def test_fit_takes_arrays_in_a_new_order_every_epoch_after_set_random_seed():
    # On TensorFlow, Keras' own shuffling draws the same order every epoch
    # once a global seed is set; VAE.fit must not.
    keras.utils.set_random_seed(0)
    seen = []
    x = np.repeat(np.arange(64, dtype="float32")[:, None] / 100, 3, axis=1)
    model = _recording_vae(seen, 3)
    model.fit(x, epochs=3, batch_size=64, verbose=0)
    orders = [order for order in seen if len(order) == 64][-3:]
    assert all(sorted(order) == list(range(64)) for order in orders)
    assert len({tuple(order) for order in orders}) == 3
    # The same orders again after the same seed.
    keras.utils.set_random_seed(0)
    again = []
    _recording_vae(again, 3).fit(x, epochs=3, batch_size=64, verbose=0)
    np.testing.assert_array_equal(again[-3:], orders)


def test_fit_validation_split_holds_out_the_last_examples_as_keras_does():
    keras.utils.set_random_seed(0)
    seen = []
    x = np.repeat(np.arange(40, dtype="float32")[:, None] / 100, 3, axis=1)
    model = _recording_vae(seen, 3)
    history = model.fit(x, epochs=2, batch_size=8, validation_split=0.25, verbose=0)
    assert "val_elbo" in history.history
    # Each epoch: 4 training batches of the first 30 examples, then the
    # validation pass over the last 10, in batches of 8 too.
    for epoch in (seen[:6], seen[6:]):
        assert sorted(np.concatenate(epoch[:4])) == list(range(30))
        assert [list(batch) for batch in epoch[4:]] == [
            list(range(30, 38)),
            [38, 39],
        ]
