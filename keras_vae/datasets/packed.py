"""Binary images kept as bits, read as float32 images on demand."""

import numbers

import numpy as np

# Images unpacked at a time by `np.asarray` and the moments.
CHUNK = 8192


class PackedImages:
    """Binary images stored 8 pixels a byte, as a float32 array-like
    `(n, height, width, 1)` of 0s and 1s.

    An integer index unpacks one image; a slice or an index array selects
    images, still packed; `np.asarray(images)` unpacks them all (4 bytes a
    pixel: 16 KB per 64x64 image, so select first). `fit` reads them through
    `keras_vae.datasets.Preprocessing.training_inputs`, which unpacks batch
    by batch. `keras_vae.datasets.load("dsprites")` gives its training images
    this way: 377 MB instead of 12 GB.

    Args:
        bits: uint8 array `(N, height * width / 8)`: each image's pixels in
            row-major order packed by `np.packbits`.
        image_shape: Tuple `(height, width, 1)`.
        indices: Integer array, the rows of `bits` these images are. Defaults
            to all of them.

    Example:

    ```python
    import numpy as np
    from keras_vae.datasets import PackedImages

    pixels = np.random.default_rng(0).uniform(size=(10, 8, 8)) < 0.5
    images = PackedImages(np.packbits(pixels.reshape(10, -1), axis=1), (8, 8, 1))
    print(images.shape, images[2:5].shape)  # (10, 8, 8, 1) (3, 8, 8, 1)
    print((np.asarray(images)[..., 0] == pixels).all())  # True
    ```
    """

    dtype = np.dtype("float32")
    ndim = 4

    def __init__(self, bits, image_shape, indices=None):
        bits = np.asarray(bits)
        image_shape = tuple(image_shape)
        if bits.dtype != np.uint8 or bits.ndim != 2:
            raise ValueError(
                "`bits` must be a uint8 array (n, pixels / 8). Received: "
                f"dtype={bits.dtype}, shape={bits.shape}"
            )
        if len(image_shape) != 3 or image_shape[-1] != 1:
            raise ValueError(
                "`image_shape` must be (height, width, 1). Received: "
                f"image_shape={image_shape}"
            )
        if bits.shape[1] * 8 < image_shape[0] * image_shape[1]:
            raise ValueError(
                f"{bits.shape[1]} bytes per image cannot hold "
                f"{image_shape[0]}x{image_shape[1]} pixels."
            )
        self.bits = bits
        self.image_shape = image_shape
        self.indices = (
            np.arange(len(bits)) if indices is None else np.asarray(indices, "int64")
        )

    @property
    def shape(self):
        return (len(self.indices),) + self.image_shape

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        if isinstance(index, numbers.Integral):
            return self.unpack(self.bits[self.indices[index]][None])[0]
        return PackedImages(self.bits, self.image_shape, self.indices[index])

    def __array__(self, dtype=None, copy=None):
        images = np.empty(self.shape, dtype or self.dtype)
        for start in range(0, len(self), CHUNK):
            rows = self.indices[start : start + CHUNK]
            images[start : start + len(rows)] = self.unpack(self.bits[rows])
        return images

    def unpack(self, bits):
        """Images `(n,) + image_shape` of float32 0s and 1s from rows of bits."""
        height, width, _ = self.image_shape
        pixels = np.unpackbits(bits, axis=1, count=height * width)
        return pixels.reshape((len(bits),) + self.image_shape).astype("float32")

    def moments(self):
        """Mean and standard deviation of every pixel: p and sqrt(p (1 - p))
        for the fraction p of pixels that are 1."""
        ones = 0
        for start in range(0, len(self), CHUNK):
            rows = self.bits[self.indices[start : start + CHUNK]]
            ones += int(np.unpackbits(rows, axis=1).sum(dtype="int64"))
        # Padding bits of the last byte are 0: count pixels, not bits.
        pixels = len(self) * self.image_shape[0] * self.image_shape[1]
        mean = ones / pixels
        return mean, float(np.sqrt(mean * (1 - mean)))

    def __repr__(self):
        return f"PackedImages(shape={self.shape})"
