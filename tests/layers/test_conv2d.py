import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.layers import Conv2D
from keras_vae.layers import conv2d as module
from tests.helpers import assert_same_sgd_step, keras_twin, run_layer_test


@pytest.fixture
def matrix_products(monkeypatch):
    """The matrix-product form on this backend, whichever it is."""
    monkeypatch.setattr(module, "MATRIX_PRODUCT_BACKENDS", (keras.backend.backend(),))


def test_layer_contract(matrix_products):
    output = run_layer_test(
        Conv2D,
        {"filters": 4, "kernel_size": (3, 3), "strides": (2, 2), "padding": "same"},
        np.ones((2, 5, 6, 3), "float32"),
        expected_output_shape=(2, 3, 3, 4),
    )
    assert np.isfinite(keras.ops.convert_to_numpy(output)).all()


@pytest.mark.parametrize("kernel_size", [1, 2, 3, (3, 2)])
@pytest.mark.parametrize("strides", [1, 2, (1, 3)])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("filters", [6, 1])
def test_outputs_are_those_of_the_keras_layer(
    matrix_products, kernel_size, strides, padding, filters
):
    # 6 filters take the product on the input's side (3 channels), 1 filter on
    # the output's side; 9 x 8 images give "same" padding odd and even totals.
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 3)).astype("float32")
    ours, plain = keras_twin(
        Conv2D,
        x,
        filters=filters,
        kernel_size=kernel_size,
        strides=strides,
        padding=padding,
    )
    assert ours._matrix_products()
    expected = keras.ops.convert_to_numpy(plain(x))
    got = keras.ops.convert_to_numpy(ours(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("filters", [5, 1], ids=["input side", "output side"])
def test_one_training_step_moves_the_weights_as_the_keras_layer(
    matrix_products, filters
):
    # Equal weights after one SGD step: equal gradients of kernel and bias.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 13, 13, 4)).astype("float32")
    y = rng.normal(size=(8, 6, 6, filters)).astype("float32")
    ours, plain = keras_twin(
        Conv2D, x, filters=filters, kernel_size=3, strides=2, activation="relu"
    )
    assert_same_sgd_step(ours, plain, x, y)


def test_arguments_it_does_not_cover_run_the_keras_layer(matrix_products):
    x = np.random.default_rng(2).normal(size=(2, 7, 7, 4)).astype("float32")
    for arguments in (
        {"dilation_rate": 2},
        {"groups": 2},
    ):
        ours, plain = keras_twin(Conv2D, x, filters=4, kernel_size=3, **arguments)
        assert not ours._matrix_products()
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(ours(x)),
            keras.ops.convert_to_numpy(plain(x)),
            atol=1e-6,
        )


def test_the_conv_architectures_encode_with_it_and_load_back(tmp_path):
    encoder, decoder = keras_vae.architectures.conv_conditional((28, 28, 1), 2, 10)
    assert [type(layer) for layer in encoder.layers].count(Conv2D) == 2
    unconditional, _ = keras_vae.architectures.conv((16, 16, 1), 2, filters=(4, 8))
    assert [type(layer) for layer in unconditional.layers].count(Conv2D) == 2
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=10)
    cvae.build([(None, 28, 28, 1), (None,)])
    path = str(tmp_path / "cvae.keras")
    cvae.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(3).uniform(size=(4, 28, 28, 1)).astype("float32")
    labels = np.arange(4)
    np.testing.assert_allclose(
        cvae.encode(x, labels=labels), loaded.encode(x, labels=labels), atol=1e-6
    )


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="JAX's trainer")
@pytest.mark.parametrize("layer", [Conv2D, keras.layers.Conv2D])
def test_on_a_cpu_jax_scans_the_conv_cvae_only_without_xla_convolutions(
    monkeypatch, layer
):
    # The JAX trainer runs a step with an XLA convolution one compiled call
    # per batch on a CPU, and scans N batches per call without one. The
    # architectures' own layers leave no XLA convolution in the step.
    monkeypatch.setattr(keras_vae.architectures, "Conv2D", layer)
    encoder, decoder = keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3)
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=3)
    cvae.compile(optimizer="adam", steps_per_execution=4)
    scanned, traced = cvae._scanned_train_steps, []

    def recording(state, batches):
        traced.append(len(batches))
        return scanned(state, batches)

    cvae._scanned_train_steps = recording
    x = np.random.default_rng(4).uniform(size=(8, 8, 8, 1)).astype("float32")
    cvae.fit(x, np.arange(8) % 3, epochs=1, batch_size=2, verbose=0)
    assert traced == ([4] if layer is Conv2D else [])
