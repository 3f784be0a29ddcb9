import math

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.evaluation import active_units, kl_per_dimension, mutual_information


def _vae(mean_weights, log_var, input_dim=3):
    """A VAE whose encoder mean is x @ mean_weights and log-variance constant."""
    latent_dim = mean_weights.shape[1]
    inputs = keras.Input((input_dim,))
    mean = keras.layers.Dense(
        latent_dim,
        use_bias=False,
        kernel_initializer=keras.initializers.Constant(mean_weights),
    )(inputs)
    raw = keras.layers.Dense(
        latent_dim,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(log_var),
    )(inputs)
    latent = keras.Input((latent_dim,))
    decoder = keras.Model(latent, keras.layers.Dense(input_dim)(latent))
    vae = keras_vae.models.VAE(
        keras.Model(inputs, [mean, raw]), decoder, parameterization="log_var"
    )
    vae.build((None, input_dim))
    return vae


def _x(n=500):
    return np.random.default_rng(0).normal(size=(n, 3)).astype("float32")


def test_active_units_count_dimensions_whose_mean_varies():
    # Dimensions 0 and 2 follow the data; 1 and 3 are the same for all x.
    weights = np.zeros((3, 4))
    weights[0, 0], weights[1, 2], weights[2, 3] = 1.0, 0.5, 0.05
    count, variances = active_units(_vae(weights, np.zeros(4)), _x())
    assert count == 2  # dimension 3: variance 0.0025, below 0.01
    np.testing.assert_allclose(variances, [1, 0, 0.25, 0.0025], rtol=0.15, atol=1e-6)
    assert active_units(_vae(weights, np.zeros(4)), _x(), threshold=0.001)[0] == 3


def test_kl_per_dimension_closed_form():
    weights = np.diag([1.0, 2.0, 0.0])
    log_var = np.log([0.5, 1.0, 1.0])
    x = _x()
    kl = kl_per_dimension(_vae(weights, log_var), x)
    means = x @ weights
    expected = 0.5 * (np.exp(log_var) + (means**2).mean(0) - 1 - log_var)
    np.testing.assert_allclose(kl, expected, rtol=1e-5, atol=1e-6)
    assert kl[2] == pytest.approx(0.0, abs=1e-7)


def test_mutual_information_is_zero_for_an_encoder_that_ignores_x():
    vae = _vae(np.zeros((3, 2)), np.log([0.3, 2.0]))
    assert mutual_information(vae, _x()) == pytest.approx(0.0, abs=1e-5)


def test_mutual_information_reaches_log_n_for_a_precise_encoder():
    n = 400
    vae = _vae(np.eye(3) * 10.0, np.full(3, math.log(1e-4)))
    assert mutual_information(vae, _x(n)) == pytest.approx(math.log(n), abs=0.05)


def test_mutual_information_grows_with_the_signal():
    values = [
        mutual_information(_vae(np.eye(3) * scale, np.zeros(3)), _x())
        for scale in (0.1, 1.0, 3.0)
    ]
    assert values[0] < values[1] < values[2]
    # One dimension at signal-to-noise 1: I = 0.5 log 2 per dimension.
    assert values[1] == pytest.approx(1.5 * math.log(2.0), abs=0.2)


def test_bad_input():
    vae = _vae(np.eye(3), np.zeros(3))
    with pytest.raises(ValueError, match="at least 2"):
        mutual_information(vae, _x(1))
    with pytest.raises(ValueError, match="threshold"):
        active_units(vae, _x(), threshold=-1.0)
    with pytest.raises(TypeError, match="keras_vae"):
        kl_per_dimension("model", _x())
