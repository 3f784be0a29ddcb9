import keras
import numpy as np
from keras import ops

from keras_vae.layers.conv2d import window_product

# The backends on which the sub-pixel form was measured faster than their own
# transposed convolution (docs/benchmarks.md, "The conv CVAE on JAX" and
# "... as matrix products").
SUB_PIXEL_BACKENDS = ("jax",)


@keras.saving.register_keras_serializable(package="keras_vae")
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` that runs as a sub-pixel convolution, or
    as PyTorch's on the channels-last layout, where that is faster.

    A transposed convolution with `padding="same"` equals a stride-1
    convolution of the input to `strides[0] * strides[1]` times the filters,
    one group per output position modulo the strides, followed by
    depth-to-space (Shi et al., 2016). The layer keeps the transposed
    convolution's kernel, `(kernel_h, kernel_w, filters, in_channels)`, and
    rearranges it into the sub-pixel kernel inside the step, so its weights,
    outputs and gradients are those of `keras.layers.Conv2DTranspose` (up to
    float rounding) and its `.keras` files move between backends.

    XLA on CPU runs the gradient of a transposed convolution (a convolution
    with input dilation) on a slow generic path, and its convolutions'
    kernel gradients slowly too. On JAX the layer therefore computes the
    sub-pixel convolution (a plain convolution at stride 1) as matrix
    products: the window's shifted copies of the input side by side times
    the kernel (im2col), or, for a layer with fewer filters per position than
    input channels, the input times every tap's kernel, each tap's output
    shifted into place and summed (`keras_vae.layers.conv2d.window_product`).
    Its largest intermediate is the window's size (4 positions for a 3x3
    kernel at stride 2, 9 at stride 1) times the input or the output. On
    PyTorch the layer runs PyTorch's transposed convolution on the
    channels-last layout as it is, and takes the `"same"` window after the
    transpose back (Keras' layer copies the input to channels-first and
    crops there, whose gradient copies the whole output across layouts). On
    TensorFlow, and for arguments neither form covers (`padding="valid"`,
    `output_padding`, `dilation_rate`, `"channels_first"`, a kernel smaller
    than the stride on PyTorch), the layer is `keras.layers.Conv2DTranspose`.

    Reference:
        Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
        Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.

    Args:
        *args, **kwargs: Those of `keras.layers.Conv2DTranspose`.

    Example:

    ```python
    import numpy as np
    import keras
    import keras_vae

    layer = keras_vae.layers.Conv2DTranspose(8, 3, strides=2, padding="same")
    x = np.random.default_rng(0).normal(size=(2, 7, 7, 4)).astype("float32")
    y = layer(x)
    plain = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same")
    plain.build(x.shape)
    plain.set_weights(layer.get_weights())
    print(y.shape, np.allclose(y, plain(x), atol=1e-5))  # (2, 14, 14, 8) True
    ```
    """

    def call(self, inputs):
        if self._cropped_channels_last():
            return self._call_cropping_channels_last(inputs)
        if not self._sub_pixel():
            return super().call(inputs)
        taps = [
            _taps(size, stride)
            for size, stride in zip(self.kernel_size, self.strides, strict=True)
        ]
        (rows, row_pad), (columns, column_pad) = taps
        # selection[i, j, p, a, b] = 1 where kernel tap (a, b) feeds window
        # position (i, j) of output phase p: a constant of the layer's shape.
        selection = np.einsum("ipa,jqb->ijpqab", rows, columns)
        selection = selection.reshape(
            rows.shape[0], columns.shape[0], -1, *self.kernel_size
        )
        kernel = ops.einsum(
            "ijpab,abfc->ijcpf",
            ops.convert_to_tensor(selection, self.compute_dtype),
            ops.cast(self.kernel, self.compute_dtype),
        )
        kernel = ops.reshape(
            kernel, (rows.shape[0], columns.shape[0], self.kernel.shape[-1], -1)
        )
        height, width = ops.shape(inputs)[1:3]
        outputs = window_product(inputs, kernel, row_pad, column_pad)
        outputs = ops.reshape(outputs, (-1, height, width, *self.strides, self.filters))
        outputs = ops.transpose(outputs, (0, 1, 3, 2, 4, 5))
        outputs = ops.reshape(
            outputs,
            (-1, height * self.strides[0], width * self.strides[1], self.filters),
        )
        if self.use_bias:
            outputs = ops.add(outputs, ops.cast(self.bias, outputs.dtype))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def _call_cropping_channels_last(self, inputs):
        # Keras' PyTorch transposed convolution copies its channels-last
        # input to channels-first, and crops the full output to the "same"
        # window in that layout, whose gradient (`slice_backward`) is a
        # transposing copy of the whole output into a new buffer. PyTorch's
        # convolutions take the channels-last layout as it is (a permuted
        # view), and the window taken after the transpose back costs a copy of
        # contiguous rows.
        import torch

        outputs = torch.nn.functional.conv_transpose2d(
            ops.convert_to_tensor(inputs).permute(0, 3, 1, 2),
            ops.cast(self.kernel, self.compute_dtype).permute(3, 2, 0, 1),
            stride=tuple(self.strides),
        ).permute(0, 2, 3, 1)
        windows = []
        for size, kernel_size, stride in zip(
            ops.shape(inputs)[1:3], self.kernel_size, self.strides, strict=True
        ):
            before = (kernel_size - stride) // 2
            windows.append(slice(before, before + size * stride))
        outputs = outputs[:, windows[0], windows[1], :]
        if self.use_bias:
            outputs = ops.add(outputs, ops.cast(self.bias, outputs.dtype))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs

    def _cropped_channels_last(self):
        return (
            keras.backend.backend() == "torch"
            and self.padding == "same"
            and self.output_padding is None
            and self.data_format == "channels_last"
            and tuple(self.dilation_rate) == (1, 1)
            and all(k >= s for k, s in zip(self.kernel_size, self.strides, strict=True))
        )

    def _sub_pixel(self):
        return (
            keras.backend.backend() in SUB_PIXEL_BACKENDS
            and self.padding == "same"
            and self.output_padding is None
            and self.data_format == "channels_last"
            and tuple(self.dilation_rate) == (1, 1)
            and all(
                _taps(size, stride) is not None
                for size, stride in zip(self.kernel_size, self.strides, strict=True)
            )
        )


def _taps(kernel_size, stride):
    """One axis of a `"same"` transposed convolution as a stride-1 window.

    Keras' transposed convolution (`ops.conv_transpose`, the gradient of a
    `"same"` convolution) writes input i with kernel tap k to output
    `stride * i + k - shift`, `shift` its left padding's complement. Output
    `stride * m + phase` therefore reads input `m + offset` through tap k
    where `stride * offset = phase + shift - k`.

    Returns:
        `(selection, padding)`: a 0/1 array `(window, stride, kernel_size)`,
        1 where window position `offset - lowest offset` of output phase
        reads tap k, and the input's `(before, after)` padding; `None` when
        the window would not contain offset 0 (no such case for odd
        kernels).
    """
    total = stride + kernel_size - 2
    left = min(total // 2 + total % 2, kernel_size - 1)
    shift = kernel_size - 1 - left
    pairs = [
        (phase, (phase + shift - k) // stride, k)
        for phase in range(stride)
        for k in range(kernel_size)
        if (phase + shift - k) % stride == 0
    ]
    offsets = [offset for _, offset, _ in pairs]
    lowest, highest = min(offsets), max(offsets)
    if lowest > 0 or highest < 0:
        return None
    selection = np.zeros((highest - lowest + 1, stride, kernel_size), "float32")
    for phase, offset, k in pairs:
        selection[offset - lowest, phase, k] = 1.0
    return selection, (-lowest, highest)
