import functools

import keras
from keras import ops

# The backends on which a convolution as matrix products was measured faster
# than their own (docs/benchmarks.md, "Convolutions as matrix products").
MATRIX_PRODUCT_BACKENDS = ("jax",)


@keras.saving.register_keras_serializable(package="keras_vae")
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` that runs as matrix products where that is faster.

    XLA on CPU computes a convolution's kernel gradient several times slower
    than a matrix product of the same size. On the backends in
    `MATRIX_PRODUCT_BACKENDS` (JAX), the layer computes the convolution as
    matrix products, whose gradients are matrix products too: the window's
    shifted (and strided) copies of the input side by side times the kernel
    (im2col), or, for a layer with fewer filters than input channels, the
    input times every tap's kernel, each tap's output shifted into place and
    summed. Its largest intermediate is the window's size (9 positions for a
    3x3 kernel) times the output or the input, as in im2col. Its weights,
    outputs and gradients are those of `keras.layers.Conv2D` (up to float
    rounding) and its `.keras` files move between backends. Elsewhere, and
    for arguments this form does not cover (`dilation_rate`, `groups`,
    `"channels_first"`), the layer is `keras.layers.Conv2D`.

    Args:
        *args, **kwargs: Those of `keras.layers.Conv2D`.

    Example:

    ```python
    import numpy as np
    import keras
    import keras_vae

    layer = keras_vae.layers.Conv2D(8, 3, strides=2)
    x = np.random.default_rng(0).normal(size=(2, 9, 9, 4)).astype("float32")
    y = layer(x)
    plain = keras.layers.Conv2D(8, 3, strides=2)
    plain.build(x.shape)
    plain.set_weights(layer.get_weights())
    print(y.shape, np.allclose(y, plain(x), atol=1e-5))  # (2, 4, 4, 8) True
    ```
    """

    def convolution_op(self, inputs, kernel):
        if not self._matrix_products():
            return super().convolution_op(inputs, kernel)
        paddings = [
            _same_padding(size, kernel_size, stride)
            if self.padding == "same"
            else (0, 0)
            for size, kernel_size, stride in zip(
                ops.shape(inputs)[1:3], self.kernel_size, self.strides, strict=True
            )
        ]
        return window_product(
            inputs, ops.cast(kernel, self.compute_dtype), *paddings, self.strides
        )

    def _matrix_products(self):
        return (
            keras.backend.backend() in MATRIX_PRODUCT_BACKENDS
            and self.data_format == "channels_last"
            and tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1
        )


def _same_padding(size, kernel_size, stride):
    """`"same"` padding as XLA and TensorFlow pad: the output has
    `ceil(size / stride)` positions, the extra row at the end."""
    total = max((-(-size // stride) - 1) * stride + kernel_size - size, 0)
    return total // 2, total - total // 2


def window_product(inputs, kernel, row_pad, column_pad, strides=(1, 1)):
    """A channels-last convolution as matrix products.

    `inputs` `(batch, height, width, channels)` are padded by `row_pad` and
    `column_pad` (pairs `(before, after)`) and convolved with `kernel`
    `(rows, columns, channels, filters)` at `strides`, as `ops.conv` with
    `padding="valid"` on the padded input. The product runs on the side where
    the window's copies are narrower: `taps` shifted copies of the padded
    input side by side, times the kernel (im2col); or the input times every
    tap's kernel at once, each tap's output then shifted into place and
    summed (a layer with fewer filters than channels, such as the last one of
    a decoder). Either way the largest tensor is `taps` times the output or
    the input, and the gradients are matrix products and slices.
    """
    rows, columns, channels, filters = kernel.shape
    height, width = ops.shape(inputs)[1:3]
    stride_rows, stride_columns = strides
    out_height = (height + sum(row_pad) - rows) // stride_rows + 1
    out_width = (width + sum(column_pad) - columns) // stride_columns + 1
    windows = [(i, j) for i in range(rows) for j in range(columns)]

    def window(tensor, i, j):
        return tensor[
            :,
            i : i + stride_rows * (out_height - 1) + 1 : stride_rows,
            j : j + stride_columns * (out_width - 1) + 1 : stride_columns,
        ]

    if filters < channels:
        per_tap = ops.matmul(
            ops.reshape(inputs, (-1, channels)),
            ops.reshape(ops.transpose(kernel, (2, 0, 1, 3)), (channels, -1)),
        )
        per_tap = ops.pad(
            ops.reshape(per_tap, (-1, height, width, len(windows) * filters)),
            ((0, 0), row_pad, column_pad, (0, 0)),
        )
        shifted = [
            window(per_tap, i, j)[..., n * filters : (n + 1) * filters]
            for n, (i, j) in enumerate(windows)
        ]
        return functools.reduce(ops.add, shifted)
    padded = ops.pad(inputs, ((0, 0), row_pad, column_pad, (0, 0)))
    patches = ops.concatenate([window(padded, i, j) for i, j in windows], axis=-1)
    outputs = ops.matmul(
        ops.reshape(patches, (-1, len(windows) * channels)),
        ops.reshape(kernel, (-1, filters)),
    )
    return ops.reshape(outputs, (-1, out_height, out_width, filters))
