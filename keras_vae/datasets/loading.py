"""Image datasets as float32 arrays `(n, height, width, channels)` in [0, 1]."""

import contextlib
import dataclasses
import io
import os
import zipfile

import numpy as np

from keras_vae.datasets.idx import read_idx

DATASETS = ("mnist", "fashion_mnist", "cifar10", "digits", "dsprites")
DEBIAN_FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
_IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


CLASS_NAMES = {
    "cifar10": (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
    "fashion_mnist": (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
}


class DataUnavailableError(RuntimeError):
    """The requested dataset is neither on this machine nor downloadable.

    Raised by `load` for MNIST, Fashion-MNIST and CIFAR-10 when Keras has no
    cached copy and cannot download one; the message says how to provide the
    files.

    Example:

    ```python
    import keras_vae

    try:
        data = keras_vae.datasets.load("mnist")
    except keras_vae.datasets.DataUnavailableError as error:
        print(error)  # offline: where to put mnist.npz
        data = keras_vae.datasets.load("digits")
    ```
    """


@dataclasses.dataclass(frozen=True)
class ImageData:
    """A labelled image dataset split into training and test sets.

    Images are float32 arrays `(n, height, width, channels)` in [0, 1] or, for
    a folder of image files, `ImageFiles` that read them on demand; labels
    int32 arrays `(n,)`.

    Example:

    ```python
    import keras_vae

    data = keras_vae.datasets.load("digits")
    print(data.image_shape, data.num_classes, data.class_names[:3])
    # (8, 8, 1) 10 ['0', '1', '2']
    ```
    """

    name: str
    source: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: tuple = None  # class names, for a folder of class sub-folders
    labelled: bool = True  # False for a flat folder of images (every label 0)
    # Ground-truth factors of each image (dsprites), int32 `(n, num_factors)`.
    factors_train: np.ndarray = None
    factors_test: np.ndarray = None
    factor_names: tuple = None

    @property
    def image_shape(self):
        return tuple(self.x_train.shape[1:])

    @property
    def num_classes(self):
        return int(max(self.y_train.max(), self.y_test.max())) + 1

    @property
    def class_names(self):
        """Names of the classes, or their numbers as strings."""
        names = self.classes or CLASS_NAMES.get(self.name)
        if names and len(names) == self.num_classes:
            return list(names)
        return [str(label) for label in range(self.num_classes)]


def load(name="mnist", path=None, image_size=None, color_mode=None, seed=0):
    """Loads a dataset by name, or from files given by path.

    Args:
        name: String, `"mnist"`, `"fashion_mnist"`, `"cifar10"` (32x32 RGB),
            `"digits"` or `"dsprites"` (737,280 binary 64x64 sprites drawn by
            the package and kept in the cache folder; 10,000 test images,
            the rest for training as `PackedImages`; labels are the shape,
            and `factors_train` / `factors_test` hold every image's factor
            indices: shape, scale, orientation, x, y; dSprites' values and
            order. Each sprite is drawn from its shape's equation, about
            dSprites' sizes (a 20 px square at scale 1), moving one pixel a
            position step: the same factors as DeepMind's files, not the same
            pixels). With `path`, only a label for the files.
        path: String or `None`. A folder holding the four IDX files
            (`train-images-idx3-ubyte[.gz]`, ...), an `.npz` file with
            `x_train, y_train, x_test, y_test`, or a folder of image files
            (PNG, JPEG, BMP, GIF; class sub-folders give labels, as
            `keras.utils.image_dataset_from_directory` reads them, a flat
            folder is unlabelled), read on demand as `ImageFiles` and split
            into 90 % training and 10 % test images by `seed`.
        image_size: Tuple `(height, width)` or `None`, a folder of images
            only: resize every image to it. Without it, every image must have
            the same size.
        color_mode: `"grayscale"` (default) or `"rgb"`, a folder of images
            only.
        seed: Integer, seed of a folder of images' training/test split.

    Returns:
        An `ImageData`.

    Raises:
        ValueError: if the name is unknown or the files are malformed (the
            message names the file).
        DataUnavailableError: if MNIST or Fashion-MNIST is neither cached nor
            downloadable and no path was given.

    Example:

    ```python
    import keras_vae

    data = keras_vae.datasets.load("digits")  # bundled with scikit-learn
    print(data.x_train.shape, data.num_classes)  # (1437, 8, 8, 1) 10
    ```
    """
    if path is not None:
        path = os.fspath(path)
        if os.path.isdir(path) and not _has_idx(path):
            from keras_vae.datasets.images import IMAGE_EXTENSIONS, is_image_folder

            if not is_image_folder(path):
                raise ValueError(
                    f"{path} holds neither the four IDX files "
                    "(train-images-idx3-ubyte[.gz], ...) nor image files "
                    f"({', '.join(IMAGE_EXTENSIONS)})."
                )
            return _load_images(name, path, image_size, color_mode, seed)
    if image_size is not None or color_mode is not None:
        raise ValueError(
            "`image_size` and `color_mode` apply to a folder of image files; "
            f"{path or name} is not one."
        )
    if path is not None:
        return _load_path(name, path)
    if name == "digits":
        return _load_digits()
    if name == "dsprites":
        return _load_dsprites()
    if name == "fashion_mnist" and os.path.isdir(DEBIAN_FASHION_MNIST):
        return dataclasses.replace(
            _load_path(name, DEBIAN_FASHION_MNIST),
            source=f"Debian package dataset-fashion-mnist ({DEBIAN_FASHION_MNIST})",
        )
    if name in ("mnist", "fashion_mnist", "cifar10"):
        return _load_keras(name)
    raise ValueError(f"Unknown dataset {name!r}. Expected one of {DATASETS}.")


def _load_path(name, path):
    if os.path.isdir(path):
        arrays = {
            key: read_idx(_find_idx(path, stem)) for key, stem in _IDX_FILES.items()
        }
    elif path.endswith(".npz") and os.path.isfile(path):
        if not zipfile.is_zipfile(path):
            raise ValueError(
                f"{path} is not an .npz file (a zip archive of .npy arrays); it may "
                "be truncated or corrupt. Expected one written by numpy.savez."
            )
        try:
            with np.load(path, allow_pickle=False) as file:
                missing = [key for key in _IDX_FILES if key not in file.files]
                if missing:
                    raise ValueError(
                        f"{path} lacks the arrays {missing}; expected x_train, "
                        "y_train, x_test and y_test."
                    )
                arrays = {key: file[key] for key in _IDX_FILES}
        except (OSError, EOFError) as error:
            raise ValueError(f"Cannot read {path}: {error}") from None
    else:
        raise ValueError(
            f"Data path {path} is neither a folder of IDX files nor an existing "
            ".npz file."
        )
    return _validated(name, path, **arrays)


def _has_idx(folder):
    return any(
        name.startswith(("train-images", "t10k-images")) for name in os.listdir(folder)
    )


def _load_images(name, folder, image_size, color_mode, seed):
    from keras_vae.datasets.images import load_folder

    x_train, y_train, x_test, y_test, classes = load_folder(
        folder, image_size, color_mode, seed
    )
    height, width, channels = x_train.image_shape
    colour = "greyscale" if channels == 1 else "RGB"
    source = (
        f"{len(x_train) + len(x_test)} images in {folder} ({height}x{width} {colour}"
        + (f", {len(classes)} classes)" if classes else ", unlabelled)")
    )
    return ImageData(
        name,
        source,
        x_train,
        y_train,
        x_test,
        y_test,
        tuple(classes) if classes else None,
        labelled=bool(classes),
    )


def _find_idx(folder, stem):
    for candidate in (stem + ".gz", stem, stem.replace("-idx", ".idx")):
        if os.path.isfile(os.path.join(folder, candidate)):
            return os.path.join(folder, candidate)
    raise ValueError(f"{folder} holds no {stem}[.gz]: expected the four IDX files.")


def _load_digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    # Their 17 grey levels (0-16) as the nearest 8-bit values, as every other
    # dataset's pixels: the discretized likelihoods and dequantization model
    # 8-bit values (a level moves by at most 1/510).
    pixels = np.round(digits.images * (255 / 16)).astype("uint8")
    x_train, x_test, y_train, y_test = train_test_split(
        pixels,
        digits.target,
        test_size=0.2,
        random_state=0,
        stratify=digits.target,
    )
    return _validated(
        "digits",
        "scikit-learn's bundled 8x8 digits (1,797 images)",
        x_train,
        y_train,
        x_test,
        y_test,
    )


def _load_dsprites():
    from keras_vae.datasets import dsprites
    from keras_vae.datasets.packed import PackedImages

    bits, factors = dsprites.cached()
    order = np.random.default_rng(0).permutation(len(bits))
    test, train = (
        np.sort(order[: dsprites.TEST_IMAGES]),
        np.sort(order[dsprites.TEST_IMAGES :]),
    )
    images = PackedImages(bits, (dsprites.IMAGE_SIZE, dsprites.IMAGE_SIZE, 1))
    factors = factors.astype("int32")
    return ImageData(
        "dsprites",
        "generated by keras_vae on dSprites' factor grid",
        images[train],
        factors[train, 0],
        np.asarray(images[test]),
        factors[test, 0],
        classes=dsprites.SHAPES,
        factors_train=factors[train],
        factors_test=factors[test],
        factor_names=dsprites.FACTOR_NAMES,
    )


def _load_keras(name):
    import keras

    module = getattr(keras.datasets, name)
    # Keras prints its download progress; keep it off the user's first line.
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            (x_train, y_train), (x_test, y_test) = module.load_data()
        except Exception as error:
            remedy = {
                "mnist": "Download mnist.npz elsewhere and pass it as `data_path`",
                "fashion_mnist": "Download the four IDX .gz files elsewhere and "
                "pass their folder as `data_path` (or, on Debian, apt-get install "
                "dataset-fashion-mnist)",
                "cifar10": "Download cifar-10-python.tar.gz elsewhere and put it "
                "in ~/.keras/datasets",
            }[name]
            raise DataUnavailableError(
                f"{name} is neither in the Keras cache (~/.keras/datasets) nor "
                f"downloadable here ({type(error).__name__}). {remedy}, or use "
                '`dataset="digits"`.'
            ) from None
    # CIFAR-10's labels come as (n, 1).
    y_train, y_test = np.ravel(y_train), np.ravel(y_test)
    return _validated(name, f"keras.datasets.{name}", x_train, y_train, x_test, y_test)


def _validated(name, source, x_train, y_train, x_test, y_test):
    """Checks shapes, counts and values; returns images in [0, 1], NHWC."""
    images = {"x_train": x_train, "x_test": x_test}
    labels = {"y_train": y_train, "y_test": y_test}
    for key, x in images.items():
        x = np.asarray(x)
        if x.ndim not in (3, 4) or x.shape[0] == 0:
            raise ValueError(
                f"{source}: {key} must hold images (n, height, width[, channels]). "
                f"Received shape {x.shape}."
            )
        if not (
            np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
        ):
            raise ValueError(f"{source}: {key} has dtype {x.dtype}; expected numbers.")
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            raise ValueError(f"{source}: {key} holds NaN or infinite values.")
        low, high = float(x.min()), float(x.max())
        if low < 0 or high > 255:
            raise ValueError(
                f"{source}: {key} values lie in [{low}, {high}]; expected pixels in "
                "[0, 1] or [0, 255]."
            )
        scale = 255.0 if (np.issubdtype(x.dtype, np.integer) or high > 1) else 1.0
        # In place after one copy: Fashion-MNIST's float32 copy is 188 MB.
        x = x.astype("float32")
        x /= scale
        images[key] = x[..., None] if x.ndim == 3 else x
    for key, y in labels.items():
        y = np.asarray(y)
        if (
            y.ndim != 1
            or not np.issubdtype(y.dtype, np.integer)
            or (y.size and y.min() < 0)
        ):
            raise ValueError(
                f"{source}: {key} must be non-negative integer labels of shape (n,). "
                f"Received dtype {y.dtype}, shape {y.shape}."
            )
        if y.size and y.max() > np.iinfo("int32").max:
            raise ValueError(
                f"{source}: {key} holds the label {y.max()}, beyond the largest "
                f"class index keras-vae stores ({np.iinfo('int32').max}); expected "
                "class indices 0, 1, 2, ... (renumber the classes)."
            )
        labels[key] = y.astype("int32")
    for split in ("train", "test"):
        n_images, n_labels = len(images[f"x_{split}"]), len(labels[f"y_{split}"])
        if n_images != n_labels:
            raise ValueError(
                f"{source}: {n_images} {split} images but {n_labels} {split} labels."
            )
    if images["x_train"].shape[1:] != images["x_test"].shape[1:]:
        raise ValueError(
            f"{source}: training images {images['x_train'].shape[1:]} and test images "
            f"{images['x_test'].shape[1:]} differ in shape."
        )
    return ImageData(
        name,
        source,
        images["x_train"],
        labels["y_train"],
        images["x_test"],
        labels["y_test"],
    )
