import keras
import numpy as np
import pytest

from keras_vae import architectures


@pytest.mark.parametrize("input_shape", [(28, 28), (28, 28, 1), (8, 8), (8, 8, 1)])
@pytest.mark.parametrize("latent_dim", [1, 2, 20])
def test_mlp_shapes(input_shape, latent_dim):
    encoder, decoder = architectures.mlp(input_shape, latent_dim)
    mean, raw = encoder(np.zeros((2,) + input_shape, "float32"))
    assert mean.shape == raw.shape == (2, latent_dim)
    assert decoder(np.zeros((2, latent_dim), "float32")).shape == (2,) + input_shape


def test_mlp_is_the_original_784_500_120():
    encoder, decoder = architectures.mlp((28, 28), latent_dim=2)
    widths = [layer.units for layer in encoder.layers if hasattr(layer, "units")]
    assert widths == [500, 120, 2, 2]
    widths = [layer.units for layer in decoder.layers if hasattr(layer, "units")]
    assert widths == [120, 500, 784]


@pytest.mark.parametrize(
    "input_shape, stages",
    [
        ((28, 28, 1), 3),
        ((32, 32, 3), 3),
        ((64, 64, 3), 4),
        ((8, 8, 1), 1),
        ((30, 20, 3), 2),
    ],
)
def test_conv_shapes_follow_the_input(input_shape, stages):
    encoder, decoder = architectures.conv(input_shape, latent_dim=5)
    convolutions = [
        layer for layer in encoder.layers if isinstance(layer, keras.layers.Conv2D)
    ]
    assert [layer.filters for layer in convolutions] == [
        32 * 2**i for i in range(stages)
    ]
    smallest = min(convolutions[-1].output.shape[1:3])
    assert smallest >= 4 or stages == 1
    x = np.random.default_rng(0).uniform(size=(2,) + input_shape).astype("float32")
    mean, raw = encoder(x)
    assert mean.shape == raw.shape == (2, 5)
    assert decoder(np.zeros((2, 5), "float32")).shape == (2,) + input_shape


def test_conv_takes_explicit_filters_and_trains_in_a_vae():
    import keras_vae

    encoder, decoder = architectures.conv((16, 16, 3), 4, filters=(8, 16))
    assert [layer.filters for layer in encoder.layers if hasattr(layer, "filters")] == [
        8,
        16,
    ]
    vae = keras_vae.models.VAE(encoder, decoder, likelihood="bernoulli", seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    x = np.random.default_rng(0).uniform(size=(64, 16, 16, 3)).astype("float32")
    history = vae.fit(x, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (28, 28)}, "input_shape"),
        ({"latent_dim": 0}, "latent_dim"),
        ({"filters": ()}, "at least one convolution"),
        ({"filters": (8, 0)}, "filters"),
    ],
)
def test_conv_rejects_bad_arguments(kwargs, match):
    arguments = {"input_shape": (28, 28, 1), "latent_dim": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        architectures.conv(**arguments)


@pytest.mark.parametrize("input_shape", [(28, 28, 1), (8, 8, 1), (10, 9, 3)])
@pytest.mark.parametrize("latent_dim", [1, 3])
def test_conv_conditional_shapes(input_shape, latent_dim):
    encoder, decoder = architectures.conv_conditional(input_shape, latent_dim, 10)
    x = np.zeros((2,) + input_shape, "float32")
    labels = np.array([0, 9])
    mean, raw = encoder([x, labels])
    assert mean.shape == raw.shape == (2, latent_dim)
    assert decoder([np.zeros((2, latent_dim), "float32"), labels]).shape == x.shape


def test_conv_flatten_size_is_derived_not_hard_coded():
    encoder, _ = architectures.conv_conditional((28, 28, 1), 2, 10)
    flat = [layer for layer in encoder.layers if layer.name.startswith("flatten")][0]
    assert flat.output.shape[-1] == 2304  # the original's hard-coded number
    encoder, _ = architectures.conv_conditional((8, 8, 1), 2, 10)
    flat = [layer for layer in encoder.layers if layer.name.startswith("flatten")][0]
    assert flat.output.shape[-1] == 64


@pytest.mark.parametrize("latent_dim", [0, -1, 2.0, True])
def test_rejects_bad_latent_dim(latent_dim):
    with pytest.raises(ValueError, match="latent_dim"):
        architectures.mlp((8, 8), latent_dim)
    with pytest.raises(ValueError, match="latent_dim"):
        architectures.conv_conditional((8, 8, 1), latent_dim, 10)


def test_rejects_bad_shapes():
    with pytest.raises(ValueError, match="input_shape"):
        architectures.conv_conditional((8, 8), 2, 10)
    with pytest.raises(ValueError, match="at least 7x7"):
        architectures.conv_conditional((6, 6, 1), 2, 10)
    with pytest.raises(ValueError, match="hidden_units"):
        architectures.mlp((8, 8), 2, hidden_units=(0,))
    with pytest.raises(ValueError, match="num_classes"):
        architectures.conv_conditional((8, 8, 1), 2, 0)


@pytest.mark.parametrize("input_shape", [(28, 28, 1), (10, 9, 3)])
def test_condition_all_layers_feeds_the_class_to_every_convolution(input_shape):
    encoder, decoder = architectures.conv_conditional(
        input_shape, 3, 10, condition_all_layers=True
    )
    x = np.zeros((2,) + input_shape, "float32")
    labels = np.array([0, 9])
    mean, _ = encoder([x, labels])
    assert mean.shape == (2, 3)
    assert decoder([np.zeros((2, 3), "float32"), labels]).shape == x.shape
    for model, kinds in ((encoder, "Conv2D"), (decoder, "Conv2DTranspose")):
        convolutions = [
            layer for layer in model.layers if type(layer).__name__ == kinds
        ]
        assert len(convolutions) == (2 if kinds == "Conv2D" else 3)
        for layer in convolutions:
            assert layer.input.shape[-1] in (input_shape[-1] + 10, 32 + 10, 64 + 10)


@pytest.mark.parametrize("condition_all_layers", [False, True])
def test_only_condition_all_layers_lets_the_class_shape_the_convolutions(
    condition_all_layers,
):
    # Zero the decoder's Dense weights on the one-hot class: the label can then
    # reach the image only through the convolutions.
    _, decoder = architectures.conv_conditional(
        (8, 8, 1), 2, 10, condition_all_layers=condition_all_layers
    )
    dense = [layer for layer in decoder.layers if hasattr(layer, "units")][0]
    kernel = keras.ops.convert_to_numpy(dense.kernel).copy()
    kernel[2:] = 0.0  # rows 0-1 read z, rows 2-11 the class
    dense.kernel.assign(kernel)
    z = np.random.default_rng(0).normal(size=(2, 2)).astype("float32")
    outputs = [
        keras.ops.convert_to_numpy(decoder([z, np.array([k, k])])) for k in (0, 7)
    ]
    differs = not np.allclose(outputs[0], outputs[1])
    assert differs == condition_all_layers
