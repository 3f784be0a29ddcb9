"""The original study's networks, with every shape derived from the input.

- `mlp`: the MLP VAE, 784-500-120-z and back for 28x28 images, any input shape.
- `conv`: a convolutional VAE for images of any size and colour (not in the
  original study): stride-2 convolutions down to a 4-pixel map and back.
- `conv_conditional`: the conv conditional VAE: two 3x3 stride-2 convolutions
  (32, 64), flatten, join the class, Dense heads for the mean and the raw
  scale; the decoder joins z and the class, then Dense, reshape and three
  transposed convolutions (64, 32 with stride 2, then the image's channels).
  `condition_all_layers=True` joins the class to every convolution as well.

Each function returns `(encoder, decoder)`, two functional Keras models ready
for `keras_vae.models.VAE` or `ConditionalVAE`.
"""

import math

import keras

from keras_vae import checks
from keras_vae.layers.conditional_concat import ConditionalConcat
from keras_vae.layers.conv2d import Conv2D
from keras_vae.layers.conv2d_transpose import Conv2DTranspose


def mlp(
    input_shape,
    latent_dim,
    hidden_units=(500, 120),
    activation="relu",
    parameters_per_value=1,
):
    """The original study's MLP encoder and decoder.

    The encoder flattens the input and applies Dense layers of `hidden_units`,
    then two Dense heads for the mean and the raw scale. The decoder mirrors it
    and reshapes to `input_shape`. The decoder's last layer is linear: it
    outputs Gaussian means or Bernoulli logits (or, with
    `parameters_per_value`, several parameters of each value).

    Args:
        input_shape: Tuple of integers, one example's shape, e.g. `(28, 28)` or
            `(28, 28, 1)`.
        latent_dim: Integer, size of the latent code, `>= 1`.
        hidden_units: Tuple of integers, encoder widths from the input side;
            the decoder uses them in reverse. Defaults to `(500, 120)`.
        activation: String, activation of the hidden layers. Defaults to
            `"relu"`.
        parameters_per_value: Integer, the numbers the decoder outputs per
            value of the data: 1 (the default) gives the data's shape; more,
            for a likelihood of several parameters (its
            `parameters_per_value`), add a last axis of that size.

    Returns:
        Tuple `(encoder, decoder)` of functional models.

    Raises:
        ValueError: if an argument is out of range.

    Example:

    ```python
    import keras_vae

    encoder, decoder = keras_vae.architectures.mlp((28, 28, 1), latent_dim=2)
    print(encoder.output_shape)  # [(None, 2), (None, 2)]
    print(decoder.output_shape)  # (None, 28, 28, 1)
    ```
    """
    input_shape = _check_shape(input_shape, ranks=(1, 2, 3))
    checks.positive_integer("latent_dim", latent_dim)
    hidden_units = tuple(hidden_units)
    for units in hidden_units:
        checks.positive_integer("hidden_units", units)
    output_shape = _output_shape(input_shape, parameters_per_value)

    inputs = keras.Input(input_shape, name="x")
    h = keras.layers.Flatten()(inputs)
    for units in hidden_units:
        h = keras.layers.Dense(units, activation=activation)(h)
    mean = keras.layers.Dense(latent_dim, name="mean")(h)
    raw_scale = keras.layers.Dense(latent_dim, name="raw_scale")(h)
    encoder = keras.Model(inputs, [mean, raw_scale], name="mlp_encoder")

    z = keras.Input((latent_dim,), name="z")
    h = z
    for units in reversed(hidden_units):
        h = keras.layers.Dense(units, activation=activation)(h)
    h = keras.layers.Dense(math.prod(output_shape))(h)
    outputs = keras.layers.Reshape(output_shape)(h)
    decoder = keras.Model(z, outputs, name="mlp_decoder")
    return encoder, decoder


def conv(
    input_shape, latent_dim, filters=None, activation="relu", parameters_per_value=1
):
    """A convolutional encoder and decoder for images of any size and colour.

    Encoder: one 3x3 stride-2 `Conv2D` ("same" padding) per entry of
    `filters`, flatten, then Dense heads for the mean and the raw scale.
    Decoder: Dense to the encoder's last feature map, one 3x3 stride-2
    `Conv2DTranspose` per entry of `filters` (reversed, the last one with
    `filters[0]`), then a 3x3 `Conv2DTranspose` to the image's channels,
    cropped to `(H, W)`. The last layer is linear: Gaussian means or
    Bernoulli logits (or, with `parameters_per_value`, several parameters of
    each value).

    Args:
        input_shape: Tuple `(height, width, channels)`.
        latent_dim: Integer, size of the latent code, `>= 1`.
        filters: Tuple of integers, the encoder's convolution widths, one
            halving of height and width each. Defaults to 32, 64, 128, ...,
            as many as keep the smallest feature map at least 4 pixels
            high and wide (three for 28x28 and 32x32, four for 64x64), and
            at least one.
        activation: String, activation of the hidden layers. Defaults to
            `"relu"`.
        parameters_per_value: Integer, the numbers the decoder outputs per
            value: 1 (the default) gives the image's shape; more add a last
            axis of that size (see `mlp`).

    Returns:
        Tuple `(encoder, decoder)` of functional models.

    Raises:
        ValueError: if an argument is out of range.

    Example:

    ```python
    import keras_vae

    encoder, decoder = keras_vae.architectures.conv((32, 32, 3), latent_dim=16)
    print(decoder.output_shape)  # (None, 32, 32, 3)
    ```
    """
    input_shape = _check_shape(input_shape, ranks=(3,))
    height, width, channels = input_shape
    checks.positive_integer("latent_dim", latent_dim)
    if filters is None:
        stages = 1
        while -(-min(height, width) // 2 ** (stages + 1)) >= 4:
            stages += 1
        filters = tuple(32 * 2**stage for stage in range(stages))
    filters = tuple(filters)
    if not filters:
        raise ValueError("Expected at least one convolution. Received: filters=()")
    for count in filters:
        checks.positive_integer("filters", count)
    output_shape = _output_shape(input_shape, parameters_per_value)

    inputs = keras.Input(input_shape, name="x")
    h = inputs
    for count in filters:
        h = Conv2D(count, 3, strides=2, padding="same", activation=activation)(h)
    feature_shape = tuple(h.shape[1:])
    h = keras.layers.Flatten()(h)
    mean = keras.layers.Dense(latent_dim, name="mean")(h)
    raw_scale = keras.layers.Dense(latent_dim, name="raw_scale")(h)
    encoder = keras.Model(inputs, [mean, raw_scale], name="conv_encoder")

    z = keras.Input((latent_dim,), name="z")
    h = keras.layers.Dense(math.prod(feature_shape), activation=activation)(z)
    h = keras.layers.Reshape(feature_shape)(h)
    for count in (*reversed(filters[:-1]), filters[0]):
        h = Conv2DTranspose(count, 3, strides=2, padding="same", activation=activation)(
            h
        )
    h = Conv2DTranspose(math.prod(output_shape[2:]), 3, padding="same")(h)
    extra_height = h.shape[1] - height
    extra_width = h.shape[2] - width
    if extra_height or extra_width:
        h = keras.layers.Cropping2D(((0, extra_height), (0, extra_width)))(h)
    if output_shape != input_shape:
        h = keras.layers.Reshape(output_shape)(h)
    decoder = keras.Model(z, h, name="conv_decoder")
    return encoder, decoder


def conv_conditional(
    input_shape,
    latent_dim,
    num_classes,
    filters=(32, 64),
    condition_all_layers=False,
    parameters_per_value=1,
):
    """The original study's convolutional conditional encoder and decoder.

    Encoder: 3x3 stride-2 `Conv2D` layers with `filters` ("valid" padding, as
    in the original), flatten, concatenate the one-hot class, then Dense heads
    for the mean and the raw scale. Decoder: concatenate z and the class,
    Dense to a `(ceil(H/4), ceil(W/4), filters[0])` map, two stride-2
    `Conv2DTranspose` layers (`filters` reversed), one stride-1
    `Conv2DTranspose` to the image's channels, cropped to `(H, W)`.

    The original hard-coded the flattened size (2304 for 28x28); here every
    size follows from `input_shape`, so 28x28 and 8x8 images both work.

    With `condition_all_layers=True` the one-hot class also enters every
    convolution, broadcast over height and width as extra channels: in the
    encoder before each `Conv2D`, in the decoder before each
    `Conv2DTranspose`. The decoder can then shape every stage by the class,
    and the encoder can leave the class out of z from its first layer.

    Args:
        input_shape: Tuple `(height, width, channels)`, each at least 7.
        latent_dim: Integer, size of the latent code, `>= 1`.
        num_classes: Integer, number of classes, `>= 1`.
        filters: Tuple of two integers, the encoder's convolution widths.
            Defaults to `(32, 64)`.
        condition_all_layers: Boolean, join the class to the input of every
            convolution too, not only to the Dense layers. Defaults to `False`
            (the original).
        parameters_per_value: Integer, the numbers the decoder outputs per
            value: 1 (the default) gives the image's shape; more add a last
            axis of that size (see `mlp`).

    Returns:
        Tuple `(encoder, decoder)`: the encoder maps `[x, labels]` to
        `[mean, raw_scale]`, the decoder `[z, labels]` to an image.

    Raises:
        ValueError: if an argument is out of range.

    Example:

    ```python
    import keras_vae

    encoder, decoder = keras_vae.architectures.conv_conditional(
        (28, 28, 1), latent_dim=2, num_classes=10
    )
    print(decoder.output_shape)  # (None, 28, 28, 1)
    ```
    """
    input_shape = _check_shape(input_shape, ranks=(3,))
    height, width, channels = input_shape
    if height < 7 or width < 7:
        raise ValueError(
            "conv_conditional needs images of at least 7x7 for its two stride-2 "
            f"convolutions. Received: input_shape={input_shape}"
        )
    checks.positive_integer("latent_dim", latent_dim)
    checks.positive_integer("num_classes", num_classes)
    output_shape = _output_shape(input_shape, parameters_per_value)
    first, second = filters

    x = keras.Input(input_shape, name="x")
    labels = keras.Input((), dtype="int32", name="labels")

    def join(h, labels):
        if not condition_all_layers:
            return h
        return ConditionalConcat(num_classes)([h, labels])

    h = Conv2D(first, 3, strides=2, activation="relu")(join(x, labels))
    h = Conv2D(second, 3, strides=2, activation="relu")(join(h, labels))
    h = keras.layers.Flatten()(h)
    h = ConditionalConcat(num_classes)([h, labels])
    mean = keras.layers.Dense(latent_dim, name="mean")(h)
    raw_scale = keras.layers.Dense(latent_dim, name="raw_scale")(h)
    encoder = keras.Model([x, labels], [mean, raw_scale], name="conv_encoder")

    z = keras.Input((latent_dim,), name="z")
    decoder_labels = keras.Input((), dtype="int32", name="labels")
    base_height, base_width = -(-height // 4), -(-width // 4)
    h = ConditionalConcat(num_classes)([z, decoder_labels])
    h = keras.layers.Dense(base_height * base_width * first, activation="relu")(h)
    h = keras.layers.Reshape((base_height, base_width, first))(h)
    h = Conv2DTranspose(second, 3, strides=2, padding="same", activation="relu")(
        join(h, decoder_labels)
    )
    h = Conv2DTranspose(first, 3, strides=2, padding="same", activation="relu")(
        join(h, decoder_labels)
    )
    h = Conv2DTranspose(math.prod(output_shape[2:]), 3, padding="same")(
        join(h, decoder_labels)
    )
    extra_height, extra_width = 4 * base_height - height, 4 * base_width - width
    if extra_height or extra_width:
        h = keras.layers.Cropping2D(((0, extra_height), (0, extra_width)))(h)
    if output_shape != input_shape:
        h = keras.layers.Reshape(output_shape)(h)
    decoder = keras.Model([z, decoder_labels], h, name="conv_decoder")
    return encoder, decoder


def _output_shape(input_shape, parameters_per_value):
    """The decoder's output shape: the input's, and a last axis of
    `parameters_per_value` when it is more than 1."""
    checks.positive_integer("parameters_per_value", parameters_per_value)
    if parameters_per_value == 1:
        return input_shape
    return input_shape + (parameters_per_value,)


def _check_shape(input_shape, ranks):
    shape = tuple(input_shape)
    if len(shape) not in ranks or any(
        isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in shape
    ):
        raise ValueError(
            "Invalid value received for argument `input_shape`. Expected a tuple of "
            f"{' or '.join(map(str, ranks))} positive integers (one example, no "
            f"batch axis). Received: input_shape={input_shape}"
        )
    return shape
