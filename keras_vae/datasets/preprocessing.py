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
                mean, std = _array_moments(x_train)
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
        return self._transform(x, seed)

    def _transform(self, x, seed=None, out=None):
        """`transform`, written into the float32 array `out` if given."""
        seed = self.seed if seed is None else seed
        x = np.asarray(x, dtype="float32")
        if self.mode == "standardize":
            # One new array, not two temporaries of the data's size.
            inputs = np.subtract(x, self.mean, out=out, dtype="float32")
            inputs /= self.std
            return inputs
        if self.binary:
            inputs = np.random.default_rng(seed).uniform(size=x.shape) < x
        else:
            inputs = x
        if out is None:
            return inputs.astype("float32", copy=False)
        out[...] = inputs
        return out

    def to_pixels(self, x):
        """Pixels in [0, 1] from model inputs or decoder means, for figures."""
        x = np.asarray(x, dtype="float32")
        if self.mode == "standardize":
            x = x * self.std + self.mean
        return np.clip(x, 0.0, 1.0)

    def training_inputs(self, x, y=None, batch_size=defaults.BATCH_SIZE, seed=0):
        """`fit` arguments for training on `x` (and labels `y`), in a new
        order every epoch.

        On JAX and PyTorch, the preprocessed arrays, which `fit` reshuffles
        every epoch: the fastest input there (docs/benchmarks.md). On
        TensorFlow, a `tf.data` pipeline that gathers batches of them in an
        order drawn from `seed` at every pass: Keras' own shuffling of arrays
        there draws the same order in every epoch once a global seed is set
        (`keras.utils.set_random_seed`, as `keras-vae train` does), because
        TensorFlow's random operations in a pipeline start again with each
        pass. Dynamic binarization draws new images every epoch,
        `ImageFiles` are streamed from disk and `PackedImages` unpacked batch
        by batch, so they get `training_dataset` instead. A run resumed after
        some epochs passes the result to `skip_epochs`.

        Args:
            x: Array of pixels in [0, 1].
            y: Array of labels or `None`.
            batch_size: Integer.
            seed: Integer, seed of the binarization and of the pipelines'
                shuffling (`fit` shuffles arrays with the global seed).

        Returns:
            Dict of keyword arguments for `model.fit`.
        """
        import keras

        if self.dynamic or isinstance(x, (ImageFiles, PackedImages)):
            return {
                "x": self.training_dataset(x, y, batch_size, seed),
                "shuffle": False,
            }
        if keras.backend.backend() == "tensorflow":
            # The inputs written straight into the tensor: one copy of them.
            inputs = _filled_tensor(
                np.shape(x), "float32", lambda out: self._transform(x, seed, out=out)
            )
            tensors = (inputs,) if y is None else (inputs, np.asarray(y, "int32"))
            return {"x": _gathered_batches(tensors, batch_size, seed), "shuffle": False}
        inputs = self.transform(x, seed)
        return {"x": inputs, "y": y, "batch_size": batch_size, "shuffle": True}

    def training_dataset(self, x, y=None, batch_size=defaults.BATCH_SIZE, seed=0):
        """A shuffled, batched, prefetched `tf.data.Dataset` for `fit`.

        Each pass takes the images in a new order (and, with dynamic
        binarization, draws new binary images): pass e in the order and with
        the draws keyed by `(seed, e)`, the same in every process.
        `skip_epochs` starts it at a later pass.

        Args:
            x: Array of pixels in [0, 1].
            y: Array of labels or `None`; if given, elements are `(x, y)`.
            batch_size: Integer.
            seed: Integer, seed of the shuffling and of the binarization.
        """
        if isinstance(x, ImageFiles):
            return self._streamed_dataset(x, y, batch_size, seed)
        if isinstance(x, PackedImages):
            return self._packed_dataset(x, y, batch_size, seed)
        inputs = np.asarray(x, "float32") if self.dynamic else self.transform(x, seed)
        arrays = (inputs,) if y is None else (inputs, np.asarray(y, "int32"))
        del inputs  # the tensors hold the only copy
        return _gathered_batches(arrays, batch_size, seed, binarize=self.dynamic)

    def _streamed_dataset(self, files, y, batch_size, seed):
        """Files read, decoded and preprocessed by TensorFlow, batch by batch."""
        import tensorflow as tf

        paths = tf.constant(files.paths)
        labels = None if y is None else tf.constant(np.asarray(y, "int32"))

        def preprocess(index, draw):
            x = files.decode_paths(tf.gather(paths, index))
            if self.mode == "standardize":
                x = (x - self.mean) / self.std
            elif self.binary:
                # Static: the same binary image every epoch, seeded by its
                # index; dynamic: a fresh draw per image and epoch.
                static = tf.stack([tf.constant(seed, "int64"), index])
                x = _binarize_batch(
                    x, static if self.mode == "binarize_static" else draw
                )
            return x if labels is None else (x, tf.gather(labels, index))

        order, passes = _epoch_order(len(files), seed)
        dataset = order.map(preprocess, num_parallel_calls=tf.data.AUTOTUNE)
        return _finished(dataset.batch(batch_size), len(files), batch_size, passes)

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
        order, passes = _epoch_order(len(images), seed, batch_size)
        dataset = order.map(
            lambda rows, draw: unpack(rows), num_parallel_calls=tf.data.AUTOTUNE
        )
        return _finished(dataset, len(images), batch_size, passes)

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


def skip_epochs(training, epochs):
    """Starts `training_inputs`' result at pass `epochs`, for a run resumed
    after `epochs` epochs: its next pass takes the order (and the
    binarization) that epoch `epochs + 1` of the uninterrupted run took.

    A `tf.data` pipeline of this module counts its passes; arrays are
    shuffled by `fit` with NumPy's or PyTorch's global generator, whose state
    the run's backup restores (`keras_vae.experiments.backup`).

    Args:
        training: Dict, `Preprocessing.training_inputs`' result.
        epochs: Integer, the epochs trained before.
    """
    passes = getattr(training.get("x"), "_keras_vae_passes", None)
    if passes is not None:
        passes.assign(epochs)


def _epoch_order(count, seed, batch_size=None):
    """The order of `count` examples at each pass over a pipeline.

    Returns `(dataset, passes)`: a dataset that yields, at each pass, the
    examples' indices in a new order, each with a seed pair for its random
    draws (or, with `batch_size`, batches of indices and a seed pair per
    batch), and the variable that counts the passes begun. Pass e takes the
    order of a stateless shuffle keyed by `(seed, e)`: the same in every
    process, whatever TensorFlow's global seed. A pass counts when it yields
    its first element, not when its iterator is made (Keras makes iterators
    it never reads).
    """
    import tensorflow as tf

    passes = tf.Variable(0, dtype=tf.int64, trainable=False)

    def order(_):
        key = tf.stack([tf.constant(seed, tf.int64), passes.assign_add(1) - 1])
        indices = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=key
        )
        if batch_size is None:
            seeds = tf.random.experimental.stateless_split(key, count)
            return tf.data.Dataset.from_tensor_slices((indices, seeds))
        full = count // batch_size
        seeds = tf.random.experimental.stateless_split(key, -(-count // batch_size))
        batches = tf.data.Dataset.from_tensor_slices(
            (tf.reshape(indices[: full * batch_size], (-1, batch_size)), seeds[:full])
        )
        if full * batch_size < count:
            rest = (indices[full * batch_size :], seeds[-1])
            batches = batches.concatenate(tf.data.Dataset.from_tensors(rest))
        return batches

    return tf.data.Dataset.range(1).flat_map(order), passes


def _finished(dataset, count, batch_size, passes):
    """`dataset` with its number of batches known to `fit` (its progress bar's
    total), prefetched, and its pass counter kept for `skip_epochs`."""
    import tensorflow as tf

    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality(-(-count // batch_size))
    )
    options = tf.data.Options()
    # The default rewrites serialize the pipeline's graph, a copy of every
    # tensor it holds (the whole training set, for `_gathered_batches`).
    options.experimental_optimization.apply_default_optimizations = False
    # Every worker draws the same orders and takes its share of the batches.
    options.experimental_distribute.auto_shard_policy = (
        tf.data.experimental.AutoShardPolicy.DATA
    )
    dataset = dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
    dataset._keras_vae_passes = passes
    return dataset


def _gathered_batches(arrays, batch_size, seed, binarize=False):
    """A `tf.data.Dataset` of batches of `arrays` (a tuple of arrays or
    tensors of one length; elements are tuples of two, or batches of the
    first alone), in a new order at every pass (`_epoch_order`), the first
    array binarized anew at every pass with `binarize`.

    The arrays are held once, as tensors that own their memory, and gathered
    batch by batch, as Keras' own array pipeline does.
    """
    import tensorflow as tf

    tensors = tuple(
        array if tf.is_tensor(array) else _tensor_of(array) for array in arrays
    )
    count = len(arrays[0])

    def gather(order, data):
        rows, draw = order
        batch = tuple(tf.gather(tensor, rows) for tensor in data)
        if binarize:
            batch = (_binarize_batch(batch[0], draw),) + batch[1:]
        return batch if len(batch) > 1 else batch[0]

    order, passes = _epoch_order(count, seed, batch_size)
    data = tf.data.Dataset.from_tensors(tensors).repeat()
    dataset = tf.data.Dataset.zip((order, data)).map(
        gather, num_parallel_calls=tf.data.AUTOTUNE
    )
    return _finished(dataset, count, batch_size, passes)


def _tensor_of(array):
    """A `tf.Tensor` of `array`'s values that shares no memory with `array`."""
    array = np.ascontiguousarray(array)
    return _filled_tensor(array.shape, array.dtype, lambda out: np.copyto(out, array))


def _filled_tensor(shape, dtype, fill):
    """A `tf.Tensor` of `shape` and `dtype` whose values `fill(out)` writes
    into the NumPy array `out`.

    `tf.convert_to_tensor` keeps two copies of a large NumPy array (measured:
    330 MB for 165 MB of data, 490 MB at the peak). Instead, the values are
    written once into a page-aligned buffer, which TensorFlow takes over
    through DLPack without copying (TensorFlow requires aligned memory
    there).
    """
    import tensorflow as tf

    dtype = np.dtype(dtype)
    size = dtype.itemsize * int(np.prod(shape))
    page = 4096
    memory = np.empty(size + page, np.uint8)
    start = -memory.ctypes.data % page
    aligned = memory[start : start + size].view(dtype).reshape(shape)
    fill(aligned)
    return tf.experimental.dlpack.from_dlpack(aligned.__dlpack__())


def _array_moments(x, chunk=65536):
    """Mean and standard deviation of every pixel of the array `x`, a few rows
    at a time in float64 as `_streamed_moments` takes them.

    `np.std` of the whole array makes temporaries of its size, and the fresh
    pages of those took 1.1-1.2 s for Fashion-MNIST's training images in a
    new process, against 0.03 s this way (docs/benchmarks.md).
    """
    x = np.atleast_1d(np.asarray(x))
    if x.size == 0:
        raise ValueError(
            "Standardization needs training pixels. Received an array of shape "
            f"{x.shape}."
        )
    rows = max(1, chunk // max(1, x[0].size))
    total = total_squares = 0.0
    for start in range(0, len(x), rows):
        part = x[start : start + rows].astype("float64").ravel()
        total += float(part.sum())
        total_squares += float(np.dot(part, part))
    mean = total / x.size
    return mean, float(np.sqrt(max(total_squares / x.size - mean**2, 0.0)))


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
