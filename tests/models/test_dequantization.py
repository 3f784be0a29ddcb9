"""Uniform dequantization: training on 8-bit levels spread over their bins,
and the bound of dequantized pixels that gives a density's true bits."""

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.datasets import Preprocessing
from keras_vae.evaluation import importance_weighted_bound
from keras_vae.likelihoods import Likelihood
from keras_vae.likelihoods.likelihood import sum_per_example


class TargetSum(Likelihood):
    """-log p is the sum of the targets, whatever the decoder outputs: the
    reconstruction term reads back what the step was given to model."""

    name = "target_sum"

    def negative_log_likelihood(self, targets, outputs):
        return sum_per_example(targets) + 0.0 * sum_per_example(outputs)

    def mean(self, outputs):
        return outputs


def _levels(n=64, seed=0):
    """8-bit levels k `(n, 4, 4, 1)` and their pixels k / 255."""
    levels = np.random.default_rng(seed).integers(0, 256, size=(n, 4, 4, 1))
    return levels, (levels / 255.0).astype("float32")


def _model(preprocessing, likelihood="gaussian", dequantize=True):
    encoder, decoder = keras_vae.architectures.mlp((4, 4, 1), 2, hidden_units=(8,))
    return keras_vae.models.VAE(
        encoder,
        decoder,
        likelihood=likelihood,
        preprocessing=preprocessing,
        dequantize=dequantize,
        seed=0,
    )


def test_dequantize_inputs_spreads_each_level_over_its_bin():
    levels, pixels = _levels(n=2000)
    preprocessing = Preprocessing.fit("standardize", pixels)
    model = _model(preprocessing)
    inputs = preprocessing.transform(pixels)
    spread = [
        keras.ops.convert_to_numpy(model.dequantize_inputs(inputs)) for _ in range(2)
    ]
    assert spread[0].shape == inputs.shape and spread[0].dtype == np.float32
    for values in spread:
        position = (values * preprocessing.std + preprocessing.mean) * 256 - levels
        # Level k lands in [k, k + 1) / 256 of the pixel range, uniformly.
        assert position.min() >= -1e-3 and position.max() <= 1 + 1e-3
        assert position.mean() == pytest.approx(0.5, abs=0.01)
        assert position.std() == pytest.approx(np.sqrt(1 / 12), abs=0.01)
    # Fresh noise at every call.
    assert not np.allclose(spread[0], spread[1])


def test_training_steps_model_dequantized_pixels_and_evaluation_the_pixels():
    levels, pixels = _levels()
    model = _model(Preprocessing("scale"), likelihood=TargetSum())
    model.compile(optimizer="adam")
    history = model.fit(pixels, epochs=2, batch_size=64, verbose=0)
    lowest, highest = (levels.sum((1, 2, 3)).mean() + [0, 4 * 4]) / 256
    for trained in history.history["reconstruction_loss"]:
        assert lowest < trained < highest
    assert trained == pytest.approx((lowest + highest) / 2, abs=0.1)
    # The two epochs drew different noise.
    assert len(set(history.history["reconstruction_loss"])) == 2
    evaluated = model.evaluate(pixels, batch_size=64, verbose=0, return_dict=True)
    assert evaluated["reconstruction_loss"] == pytest.approx(
        pixels.sum((1, 2, 3)).mean(), rel=1e-5
    )
    plain = _model(Preprocessing("scale"), likelihood=TargetSum(), dequantize=False)
    plain.compile(optimizer="adam")
    history = plain.fit(pixels, epochs=1, batch_size=64, verbose=0)
    assert history.history["reconstruction_loss"][0] == pytest.approx(
        pixels.sum((1, 2, 3)).mean(), rel=1e-5
    )


def test_the_setting_is_saved(tmp_path):
    model = _model(Preprocessing("scale"), likelihood="continuous_bernoulli")
    model.build((None, 4, 4, 1))
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert loaded.dequantize is True
    assert _model(Preprocessing("scale"), dequantize=False).dequantize is False


def test_bound_of_dequantized_pixels_reads_the_spread_pixels():
    levels, pixels = _levels(n=16)
    model = _model(Preprocessing("scale"), likelihood=TargetSum(), dequantize=False)
    model.build((None, 4, 4, 1))
    # An encoder blind to its input: the posterior is the same either way,
    # so the bounds differ by the likelihood's terms alone.
    first = next(
        layer for layer in model.encoder.layers if isinstance(layer, keras.layers.Dense)
    )
    first.kernel.assign(np.zeros(first.kernel.shape, "float32"))
    plain = importance_weighted_bound(model, pixels, num_samples=4)
    spread = importance_weighted_bound(model, pixels, num_samples=4, dequantize=True)
    shift = spread - plain
    lowest = (levels / 256 - pixels).sum((1, 2, 3))
    assert np.all(shift > lowest - 1e-3)
    assert np.all(shift < lowest + 16 / 256 + 1e-3)
    again = importance_weighted_bound(model, pixels, num_samples=4, dequantize=True)
    np.testing.assert_array_equal(spread, again)  # the seed fixes the noise


def test_a_density_without_dequantized_training_pays_for_its_peaks():
    """A density fitted to exact 8-bit values can peak there; the bound of
    dequantized pixels charges the peaks, the bound of the exact values
    rewards them."""
    _, pixels = _levels(n=256)
    pixels = np.where(pixels < 0.5, 0.0, 1.0).astype("float32")  # two levels
    keras.utils.set_random_seed(0)
    model = _model(
        Preprocessing("scale"), likelihood="continuous_bernoulli", dequantize=False
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(pixels, epochs=30, batch_size=64, verbose=0)
    plain = importance_weighted_bound(model, pixels, num_samples=4).mean()
    spread = importance_weighted_bound(
        model, pixels, num_samples=4, dequantize=True
    ).mean()
    assert plain < spread


def test_discrete_likelihoods_and_binary_inputs_have_nothing_to_dequantize():
    _, pixels = _levels(n=8)
    logistic = _model(Preprocessing("scale"), likelihood="logistic", dequantize=False)
    logistic.build((None, 4, 4, 1))
    with pytest.raises(ValueError, match="models the discrete values themselves"):
        importance_weighted_bound(logistic, pixels, num_samples=2, dequantize=True)
    binary = _model(Preprocessing("binarize"), dequantize=False)
    binary.build((None, 4, 4, 1))
    with pytest.raises(ValueError, match="which makes binary inputs"):
        importance_weighted_bound(binary, pixels, num_samples=2, dequantize=True)
