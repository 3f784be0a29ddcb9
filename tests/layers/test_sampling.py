import keras
import numpy as np
import pytest

from keras_vae.layers import Sampling
from tests.helpers import gradients, run_layer_test


def _inputs(batch=4, latent=3, raw_value=0.0):
    mean = np.arange(batch * latent, dtype="float32").reshape(batch, latent)
    return [mean, np.full((batch, latent), raw_value, "float32")]


@pytest.mark.parametrize("parameterization", ["softplus", "log_var"])
def test_layer_contract(parameterization):
    run_layer_test(
        Sampling,
        {"parameterization": parameterization, "sample_at_inference": True, "seed": 3},
        _inputs(),
        expected_output_shape=(4, 3),
        expected_num_non_trainable_weights=0,
    )


@pytest.mark.parametrize(
    "parameterization, raw, sigma",
    [("softplus", 0.5, np.log1p(np.exp(0.5))), ("log_var", np.log(4.0), 2.0)],
)
def test_samples_have_requested_moments(parameterization, raw, sigma):
    layer = Sampling(parameterization, seed=1)
    mean = np.full((20000, 2), [1.0, -3.0], "float32")
    z = keras.ops.convert_to_numpy(
        layer([mean, np.full_like(mean, raw)], training=True)
    )
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -3.0], atol=4 * sigma / 141)
    np.testing.assert_allclose(z.std(axis=0), [sigma, sigma], rtol=0.03)


def test_gradients_reach_mean_and_raw_scale():
    layer = Sampling(seed=0)

    def loss(mean, raw):
        return keras.ops.sum(keras.ops.square(layer([mean, raw], training=True)))

    zeros = np.zeros((8, 2), "float32")
    grad_mean, grad_raw = gradients(loss, [zeros, zeros])
    assert np.abs(grad_mean).sum() > 0
    assert np.abs(grad_raw).sum() > 0


def test_keeps_sampling_at_inference_by_default():
    layer = Sampling(seed=0)
    inputs = _inputs()
    first = keras.ops.convert_to_numpy(layer(inputs, training=False))
    second = keras.ops.convert_to_numpy(layer(inputs, training=False))
    assert not np.allclose(first, inputs[0])
    assert not np.allclose(first, second)


def test_returns_mean_at_inference_when_asked():
    layer = Sampling(sample_at_inference=False, seed=0)
    inputs = _inputs()
    np.testing.assert_array_equal(layer(inputs, training=False), inputs[0])
    assert not np.allclose(layer(inputs, training=True), inputs[0])


def test_same_seed_same_samples():
    inputs = _inputs()
    a = Sampling(seed=7)(inputs, training=True)
    b = Sampling(seed=7)(inputs, training=True)
    c = Sampling(seed=8)(inputs, training=True)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_samples_in_input_dtype_under_mixed_precision():
    keras.config.set_dtype_policy("mixed_float16")
    inputs = keras.Input((3,))
    z = Sampling(seed=0)([keras.layers.Dense(3)(inputs), keras.layers.Dense(3)(inputs)])
    model = keras.Model(inputs, z)
    output = model(np.ones((2, 3), "float32"), training=True)
    assert keras.backend.standardize_dtype(output.dtype) == "float16"
    half = [a.astype("float16") for a in _inputs()]
    z = Sampling(seed=0)(half, training=True)
    assert keras.backend.standardize_dtype(z.dtype) == "float16"


def test_rejects_unknown_parameterization():
    with pytest.raises(
        ValueError, match="parameterization.*Received: parameterization='exp'"
    ):
        Sampling("exp")


def test_rejects_non_boolean_sample_at_inference():
    with pytest.raises(TypeError, match="sample_at_inference"):
        Sampling(sample_at_inference="no")


def test_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"same shape.*\(4, 3\).*\(4, 2\)"):
        Sampling()([np.zeros((4, 3), "float32"), np.zeros((4, 2), "float32")])


def test_rejects_single_input():
    with pytest.raises(ValueError, match=r"list of two tensors"):
        Sampling()(np.zeros((4, 3), "float32"))
