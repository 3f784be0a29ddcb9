import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.layers import Conv2DTranspose
from keras_vae.layers import conv2d_transpose as module
from tests.helpers import assert_same_sgd_step, keras_twin, run_layer_test


@pytest.fixture
def sub_pixel(monkeypatch):
    """The sub-pixel form on this backend, whichever it is."""
    monkeypatch.setattr(module, "SUB_PIXEL_BACKENDS", (keras.backend.backend(),))


def test_layer_contract(sub_pixel):
    output = run_layer_test(
        Conv2DTranspose,
        {"filters": 4, "kernel_size": (3, 3), "strides": (2, 2), "padding": "same"},
        np.ones((2, 5, 6, 3), "float32"),
        expected_output_shape=(2, 10, 12, 4),
    )
    assert np.isfinite(keras.ops.convert_to_numpy(output)).all()


@pytest.mark.parametrize("kernel_size", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("strides", [1, 2, 3, (2, 1)])
@pytest.mark.parametrize("filters", [6, 1])
def test_outputs_are_those_of_the_keras_layer(sub_pixel, kernel_size, strides, filters):
    # 6 filters take the product on the input's side (3 channels), 1 filter on
    # the output's side.
    x = np.random.default_rng(0).normal(size=(2, 5, 4, 3)).astype("float32")
    ours, plain = keras_twin(
        Conv2DTranspose,
        x,
        filters=filters,
        kernel_size=kernel_size,
        strides=strides,
        padding="same",
    )
    assert ours._sub_pixel()
    expected = keras.ops.convert_to_numpy(plain(x))
    got = keras.ops.convert_to_numpy(ours(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize(
    "filters, strides, output_shape",
    [(5, 2, (14, 14)), (1, 1, (7, 7))],
    ids=["input side", "output side"],
)
def test_one_training_step_moves_the_weights_as_the_keras_layer(
    sub_pixel, filters, strides, output_shape
):
    # Equal weights after one SGD step: equal gradients of kernel and bias.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 7, 7, 4)).astype("float32")
    y = rng.normal(size=(8, *output_shape, filters)).astype("float32")
    ours, plain = keras_twin(
        Conv2DTranspose,
        x,
        filters=filters,
        kernel_size=3,
        strides=strides,
        padding="same",
        activation="relu",
    )
    assert ours._sub_pixel()
    assert_same_sgd_step(ours, plain, x, y)


def test_arguments_it_does_not_rearrange_run_the_keras_layer(sub_pixel):
    x = np.random.default_rng(2).normal(size=(2, 5, 5, 3)).astype("float32")
    for arguments in (
        {"strides": 2, "padding": "valid"},
        {"strides": 2, "padding": "same", "output_padding": 1},
        {"strides": 1, "padding": "same", "dilation_rate": 2},
    ):
        ours, plain = keras_twin(
            Conv2DTranspose, x, filters=4, kernel_size=3, **arguments
        )
        assert not ours._sub_pixel()
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(ours(x)),
            keras.ops.convert_to_numpy(plain(x)),
            atol=1e-6,
        )


def test_the_conv_architectures_decode_with_it_and_load_back(tmp_path):
    encoder, decoder = keras_vae.architectures.conv_conditional((28, 28, 1), 2, 10)
    layers = [type(layer) for layer in decoder.layers]
    assert layers.count(Conv2DTranspose) == 3
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=10)
    cvae.build([(None, 28, 28, 1), (None,)])
    path = str(tmp_path / "cvae.keras")
    cvae.save(path)
    loaded = keras.models.load_model(path)
    z = np.random.default_rng(3).normal(size=(4, 2)).astype("float32")
    labels = np.arange(4)
    np.testing.assert_allclose(
        cvae.decode(z, labels=labels), loaded.decode(z, labels=labels), atol=1e-6
    )
