import math

import keras
import numpy as np
import pytest

from keras_vae.layers import KLRegularizer
from tests.helpers import run_layer_test


def _inputs(seed=0, batch=5, latent=4):
    rng = np.random.default_rng(seed)
    return [
        rng.normal(size=(batch, latent)).astype("float32"),
        rng.normal(size=(batch, latent)).astype("float32"),
    ]


@pytest.mark.parametrize("parameterization", ["softplus", "log_var"])
def test_layer_contract(parameterization):
    run_layer_test(
        KLRegularizer,
        {"beta": 2.5, "parameterization": parameterization},
        _inputs(),
        expected_output_shape=((5, 4), (5, 4)),
        expected_num_losses=1,
        expected_num_non_trainable_weights=1,
    )


def test_passes_inputs_through_unchanged():
    inputs = _inputs()
    mean, raw = KLRegularizer()(inputs)
    np.testing.assert_array_equal(mean, inputs[0])
    np.testing.assert_array_equal(raw, inputs[1])


def test_known_value_log_var():
    layer = KLRegularizer(beta=2.0, parameterization="log_var")
    layer([np.ones((3, 2), "float32"), np.zeros((3, 2), "float32")])
    # 0.5 * (sigma^2 + mu^2 - 1 - log sigma^2) = 0.5 per dimension, two dimensions.
    assert float(layer.losses[0]) == pytest.approx(2.0 * 1.0)


@pytest.mark.parametrize("parameterization", ["softplus", "log_var"])
def test_closed_form_matches_monte_carlo(parameterization):
    rng = np.random.default_rng(1)
    mean = rng.normal(size=(1, 3)).astype("float32")
    raw = rng.normal(size=(1, 3)).astype("float32")
    layer = KLRegularizer(parameterization=parameterization)
    layer([mean, raw])
    closed_form = float(layer.losses[0])

    sigma = np.log1p(np.exp(raw)) if parameterization == "softplus" else np.exp(raw / 2)
    z = mean + sigma * rng.normal(size=(400000, 3))
    log_q = -0.5 * (((z - mean) / sigma) ** 2 + np.log(2 * math.pi * sigma**2))
    log_p = -0.5 * (z**2 + np.log(2 * math.pi))
    monte_carlo = float(np.mean(np.sum(log_q - log_p, axis=1)))
    assert closed_form == pytest.approx(monte_carlo, abs=0.02)


def test_loss_is_batch_mean_of_per_example_sum():
    mean = np.array([[1.0, 0.0], [3.0, 0.0]], "float32")
    layer = KLRegularizer(parameterization="log_var")
    layer([mean, np.zeros_like(mean)])
    assert float(layer.losses[0]) == pytest.approx((0.5 + 4.5) / 2)


def test_beta_zero_adds_zero_loss():
    layer = KLRegularizer(beta=0.0)
    layer(_inputs())
    assert float(layer.losses[0]) == 0.0


def test_beta_is_a_non_trainable_variable_and_setter_validates():
    layer = KLRegularizer(beta=1.0)
    assert isinstance(layer.beta, keras.Variable)
    assert not layer.beta.trainable
    layer.beta = 4
    layer(_inputs())
    loss_at_4 = float(layer.losses[0])
    layer.beta = 2.0
    layer(_inputs())
    assert float(layer.losses[0]) == pytest.approx(loss_at_4 / 2)
    with pytest.raises(ValueError, match="beta=-1"):
        layer.beta = -1
    assert float(layer.beta) == 2.0


def test_config_records_current_beta():
    layer = KLRegularizer(beta=1.0)
    layer.beta = 7.5
    assert KLRegularizer.from_config(layer.get_config()).get_config()["beta"] == 7.5


@pytest.mark.parametrize("beta", [-1.0, float("nan"), float("inf")])
def test_rejects_invalid_beta(beta):
    with pytest.raises(ValueError, match="Invalid value received for argument `beta`"):
        KLRegularizer(beta=beta)


@pytest.mark.parametrize("beta", ["1", None, True])
def test_rejects_non_numeric_beta(beta):
    with pytest.raises(TypeError, match="beta"):
        KLRegularizer(beta=beta)


def test_rejects_unknown_parameterization():
    with pytest.raises(ValueError, match="parameterization"):
        KLRegularizer(parameterization="softmax")


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        KLRegularizer()([np.zeros((2, 3), "float32"), np.zeros((2, 4), "float32")])
