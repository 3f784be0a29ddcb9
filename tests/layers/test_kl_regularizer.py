import math

import keras
import numpy as np
import pytest

from keras_vae.layers import KLRegularizer
from tests.helpers import gradients, run_layer_test


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


def test_layer_contract_with_free_bits_and_capacity():
    run_layer_test(
        KLRegularizer,
        {"beta": 3.0, "parameterization": "log_var", "free_bits": 0.5, "capacity": 2.0},
        _inputs(),
        expected_output_shape=((5, 4), (5, 4)),
        expected_num_losses=1,
        expected_num_non_trainable_weights=2,
    )


def _kl_per_dimension(mean, log_var):
    return np.mean(0.5 * (np.exp(log_var) + mean**2 - 1 - log_var), axis=0)


def test_free_bits_floor_each_dimension_of_the_batch_mean():
    # Dimension 0 carries 2 nats on average, dimension 1 none.
    mean = np.array([[2.0, 0.0], [-2.0, 0.0]], "float32")
    log_var = np.zeros((2, 2), "float32")
    layer = KLRegularizer(beta=1.5, parameterization="log_var", free_bits=0.5)
    layer([mean, log_var])
    per_dimension = _kl_per_dimension(mean, log_var)
    np.testing.assert_allclose(per_dimension, [2.0, 0.0])
    assert float(layer.losses[0]) == pytest.approx(1.5 * (2.0 + 0.5))


def test_free_bits_stop_the_gradient_below_the_floor():
    rng = np.random.default_rng(3)
    mean = (rng.normal(size=(8, 3)) * [2.0, 0.01, 2.0]).astype("float32")
    # dimension 1: KL far below the floor
    log_var = np.zeros((8, 3), "float32")
    layer = KLRegularizer(parameterization="log_var", free_bits=0.5)

    def kl_loss(mean, log_var):
        layer([mean, log_var])
        return layer.losses[-1]

    kl = _kl_per_dimension(mean, log_var)
    assert kl[1] < 0.5 < min(kl[0], kl[2])
    grad_mean, grad_log_var = gradients(kl_loss, [mean, log_var])
    np.testing.assert_array_equal(grad_mean[:, 1], 0.0)
    np.testing.assert_array_equal(grad_log_var[:, 1], 0.0)
    assert np.all(np.abs(grad_mean[:, [0, 2]]) > 0)

    # Without free bits the same dimension has a gradient.
    plain = KLRegularizer(parameterization="log_var")

    def plain_loss(mean, log_var):
        plain([mean, log_var])
        return plain.losses[-1]

    assert np.all(np.abs(gradients(plain_loss, [mean, log_var])[0][:, 1]) > 0)


def test_capacity_pulls_the_kl_towards_the_target():
    mean = np.array([[1.0, 1.0]], "float32")  # KL = 1.0 nat at sigma = 1
    log_var = np.zeros((1, 2), "float32")
    layer = KLRegularizer(beta=10.0, parameterization="log_var", capacity=3.0)
    layer([mean, log_var])
    assert float(layer.losses[0]) == pytest.approx(10.0 * abs(1.0 - 3.0))
    layer.capacity = 0.25
    layer([mean, log_var])
    assert float(layer.losses[-1]) == pytest.approx(10.0 * (1.0 - 0.25))
    assert float(keras.ops.convert_to_numpy(layer.capacity)) == 0.25
    assert layer.get_config()["capacity"] == 0.25


def test_capacity_needs_the_term():
    layer = KLRegularizer()
    assert layer.capacity is None
    assert layer.get_config()["capacity"] is None
    with pytest.raises(ValueError, match="capacity=0.0"):
        layer.capacity = 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"free_bits": -0.1}, "free_bits"),
        ({"free_bits": float("nan")}, "free_bits"),
        ({"free_bits": "1"}, "free_bits"),
        ({"capacity": -1.0}, "capacity"),
        ({"capacity": float("inf")}, "capacity"),
    ],
)
def test_rejects_bad_free_bits_and_capacity(kwargs, match):
    with pytest.raises(ValueError, match=match):
        KLRegularizer(**kwargs)


def test_rejects_negative_capacity_assignment():
    layer = KLRegularizer(capacity=0.0)
    with pytest.raises(ValueError, match="capacity"):
        layer.capacity = -2.0
