"""Pixel preprocessing and tf.data input pipelines."""

import numpy as np

from keras_vae import checks, defaults
from keras_vae.datasets.images import ImageFiles
from keras_vae.datasets.packed import PackedImages

PREPROCESSINGS = ("standardize", "scale", "binarize", "binarize_static")
# Pixels in [0, 1] are k / 255 of 8-bit images.
LEVELS_8_BIT = 255


class Preprocessing:
    """Maps pixels in [0, 1] to model inputs and back.

    - `"standardize"`: (x - mean) / std with the training set's scalar mean and
      standard deviation, as in the original study (Gaussian likelihood).
    - `"scale"`: pixels as they are, in [0, 1].
    - `"binarize"`: each pixel is 1 with probability equal to its grey level,
      drawn anew every epoch (dynamic binarization; Bernoulli likelihood).
      Evaluation data is binarized once, with a fixed seed.
    - `"binarize_static"`: binarized once, with a fixed seed, for training too.

    Args:
        mode: String, one of the modes above. Defaults to `"standardize"`.
        mean: Float, the training mean (`"standardize"` only).
        std: Float, the training standard deviation (`"standardize"` only).
        seed: Integer, the default seed of `transform`'s binarization.
            Defaults to `0`.

    Example:

    ```python
    import numpy as np
    from keras_vae.datasets import Preprocessing

    x = np.random.default_rng(0).uniform(size=(100, 8, 8, 1)).astype("float32")
    preprocessing = Preprocessing.fit("standardize", x)
    inputs = preprocessing.transform(x)
    np.testing.assert_allclose(preprocessing.to_pixels(inputs), x, atol=1e-5)
    ```
    """

    def __init__(self, mode="standardize", mean=None, std=None, seed=0):
        if mode not in PREPROCESSINGS:
            raise ValueError(
                f"Unknown preprocessing {mode!r}. Expected one of {PREPROCESSINGS}."
            )
        if mode == "standardize" and (mean is None or not std or std <= 0):
            raise ValueError(
                "Standardization needs the training mean and a positive std. "
                f"Received: mean={mean}, std={std}. Use Preprocessing.fit."
            )
        self.mode, self.mean, self.std = mode, mean, std
        self.seed = checks.positive_integer("seed", seed, minimum=0)

    @classmethod
    def fit(cls, mode, x_train, seed=0):
        """Returns a `Preprocessing` with statistics taken from `x_train`."""
        if mode == "standardize":
            if isinstance(x_train, ImageFiles):
                return cls(mode, *_streamed_moments(x_train), seed=seed)
            if isinstance(x_train, PackedImages):
                mean, std = x_train.moments()
            else:
                mean, std = float(np.mean(x_train)), float(np.std(x_train))
            if not std > 0:
                raise ValueError(
                    f"Every training pixel has the value {mean:g}: standardizing "
                    "divides by their std, 0. Expected images whose pixels vary."
                )
            return cls(mode, mean, std, seed)
        return cls(mode, seed=seed)

    @property
    def binary(self):
        """Whether the model inputs are binary (Bernoulli likelihood)."""
        return self.mode.startswith("binarize")

    def pixel_affine(self):
        """`(scale, shift)` with pixels = inputs * scale + shift, for inputs
        that are not binarized.

        Raises:
            ValueError: for binarized inputs, which are not the pixels' levels.
        """
        if self.binary:
            raise ValueError(
                "Dequantization spreads the pixels' 8-bit levels: expected "
                "pixels that are standardized or scaled, modelled by a density "
                f"(Gaussian, continuous Bernoulli). Received: preprocessing "
                f"{self.mode!r}, which makes binary inputs."
            )
        if self.mode == "standardize":
            return self.std, self.mean
        return 1.0, 0.0

    @property
    def dynamic(self):
        """Whether training inputs are drawn anew every epoch (`"binarize"`)."""
        return self.mode == "binarize"

    def transform(self, x, seed=None):
        """Model inputs from pixels in [0, 1]; binarization uses `seed`
        (default: the preprocessing's own)."""
        seed = self.seed if seed is None else seed
        x = np.asarray(x, dtype="float32")
        if self.mode == "standardize":
            # One new array, not two temporaries of the data's size.
            inputs = np.subtract(x, self.mean, dtype="float32")
            inputs /= self.std
            return inputs
        if self.binary:
            return (np.random.default_rng(seed).uniform(size=x.shape) < x).astype(
                "float32"
            )
        return x

    def to_pixels(self, x):
        """Pixels in [0, 1] from model inputs or decoder means, for figures."""
        x = np.asarray(x, dtype="float32")
        if self.mode == "standardize":
            x = x * self.std + self.mean
        return np.clip(x, 0.0, 1.0)

    def training_inputs(self, x, y=None, batch_size=defaults.BATCH_SIZE, seed=0):
        """`fit` arguments for training on `x` (and labels `y`).

        The preprocessed arrays, reshuffled by `fit` every epoch: the fastest
        input on every backend (docs/benchmarks.md). Dynamic binarization
        draws new images every epoch, `ImageFiles` are streamed from disk
        and `PackedImages` unpacked batch by batch, so they get
        `training_dataset` instead.

        Args:
            x: Array of pixels in [0, 1].
            y: Array of labels or `None`.
            batch_size: Integer.
            seed: Integer, seed of the binarization (and of the pipeline's
                shuffling; `fit` shuffles arrays with the global seed).

        Returns:
            Dict of keyword arguments for `model.fit`.
        """
        if self.dynamic or isinstance(x, (ImageFiles, PackedImages)):
            return {
                "x": self.training_dataset(x, y, batch_size, seed),
                "shuffle": False,
            }
        return {
            "x": self.transform(x, seed),
            "y": y,
            "batch_size": batch_size,
            "shuffle": True,
        }

    def training_dataset(self, x, y=None, batch_size=defaults.BATCH_SIZE, seed=0):
        """A shuffled, batched, prefetched `tf.data.Dataset` for `fit`.

        Args:
            x: Array of pixels in [0, 1].
            y: Array of labels or `None`; if given, elements are `(x, y)`.
            batch_size: Integer.
            seed: Integer, seed of the shuffling and of the binarization.
        """
        import tensorflow as tf

        if isinstance(x, ImageFiles):
            return self._streamed_dataset(x, y, batch_size, seed)
        if isinstance(x, PackedImages):
            return self._packed_dataset(x, y, batch_size, seed)
        inputs = np.asarray(x, "float32") if self.dynamic else self.transform(x, seed)
        elements = inputs if y is None else (inputs, np.asarray(y, "int32"))
        dataset = (
            tf.data.Dataset.from_tensor_slices(elements)
            .shuffle(len(inputs), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
        )
        if self.dynamic:
            # One fresh random seed per batch and per epoch, so every epoch
            # sees new binary images, reproducibly for a given seed.
            seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
            dataset = tf.data.Dataset.zip((dataset, seeds.batch(2))).map(
                _binarize_batch, num_parallel_calls=tf.data.AUTOTUNE
            )
        return dataset.prefetch(tf.data.AUTOTUNE)

    def _streamed_dataset(self, files, y, batch_size, seed):
        """Files read, decoded and preprocessed by TensorFlow, batch by batch."""
        import tensorflow as tf

        indices = np.arange(len(files), dtype="int64")
        elements = (files.paths, indices)
        if y is not None:
            elements += (np.asarray(y, "int32"),)
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def preprocess(paths, indices, *labels, draw):
            x = files.decode_paths(paths)
            if self.mode == "standardize":
                x = (x - self.mean) / self.std
            elif self.binary:
                # Static: the same binary image every epoch, seeded by its
                # index; dynamic: a fresh draw per image and epoch.
                static = tf.stack([tf.constant(seed, "int64"), indices])
                x = _binarize_batch(
                    x, static if self.mode == "binarize_static" else draw
                )
            return (x, labels[0]) if labels else x

        dataset = tf.data.Dataset.from_tensor_slices(elements).shuffle(
            len(files), seed=seed, reshuffle_each_iteration=True
        )
        dataset = tf.data.Dataset.zip((dataset, seeds.batch(2)))
        dataset = dataset.map(
            lambda element, draw: preprocess(*element, draw=draw),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def _packed_dataset(self, images, y, batch_size, seed):
        """Batches of indices, shuffled every epoch, gathered from the packed
        images and unpacked by TensorFlow: one copy of the bits in memory."""
        import tensorflow as tf

        bits = tf.constant(images.bits[images.indices])
        labels = None if y is None else tf.constant(np.asarray(y, "int32"))
        height, width, _ = images.image_shape
        shifts = tf.constant([7, 6, 5, 4, 3, 2, 1, 0], tf.uint8)

        def unpack(rows):
            packed = tf.gather(bits, rows)
            pixels = tf.bitwise.bitwise_and(
                tf.bitwise.right_shift(packed[..., None], shifts), 1
            )
            pixels = tf.reshape(pixels, (tf.shape(rows)[0], -1))
            x = tf.cast(pixels[:, : height * width], "float32")
            x = tf.reshape(x, (-1,) + images.image_shape)
            if self.mode == "standardize":
                x = (x - self.mean) / self.std
            return x if labels is None else (x, tf.gather(labels, rows))

        # Binary images binarize to themselves: every mode but standardize
        # passes the pixels as they are.
        dataset = (
            tf.data.Dataset.range(len(images))
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size)
            .map(unpack, num_parallel_calls=tf.data.AUTOTUNE)
        )
        return dataset.prefetch(tf.data.AUTOTUNE)

    def get_config(self):
        return {
            "mode": self.mode,
            "mean": self.mean,
            "std": self.std,
            "seed": self.seed,
        }

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"Preprocessing({arguments})"


def _streamed_moments(files, batch_size=256):
    """Mean and standard deviation of every pixel of `files`, in one pass."""
    import tensorflow as tf

    dataset = (
        tf.data.Dataset.from_tensor_slices(files.paths)
        .map(files.decode_paths, num_parallel_calls=tf.data.AUTOTUNE)
        .batch(batch_size)
    )
    total = total_squares = count = 0.0
    for batch in dataset.as_numpy_iterator():
        batch = batch.astype("float64")
        total += batch.sum()
        total_squares += np.square(batch).sum()
        count += batch.size
    mean = total / count
    return float(mean), float(np.sqrt(max(total_squares / count - mean**2, 0.0)))


def _binarize_batch(batch, seed):
    import tensorflow as tf

    x = batch[0] if isinstance(batch, tuple) else batch
    noise = tf.random.stateless_uniform(tf.shape(x), seed=seed)
    binary = tf.cast(noise < x, x.dtype)
    return (binary, batch[1]) if isinstance(batch, tuple) else binary
