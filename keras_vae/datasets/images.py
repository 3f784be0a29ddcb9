"""Folders of image files (PNG, JPEG, BMP, GIF) as lazily read float32 images.

Files are listed and their headers checked when a folder is loaded; pixels are
decoded by TensorFlow when they are used: one file at a time for `ImageFiles`
indexing and `np.asarray`, in a parallel `tf.data` pipeline for training, so a
folder larger than memory trains.
"""

import os

import numpy as np

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
COLOR_MODES = ("grayscale", "rgb")


class ImageFiles:
    """Image files as a float32 array-like `(n, height, width, channels)` in [0, 1].

    An integer index reads one image; a slice or an index array selects files,
    still unread; `np.asarray(files)` reads them all. Images are converted to
    the channels of `image_shape` (1: greyscale, 3: RGB; an alpha channel is
    dropped) and, with `resize=True`, resized to its height and width.

    Args:
        paths: Sequence of file paths.
        image_shape: Tuple `(height, width, channels)`.
        resize: Boolean, resize every image to `image_shape` (bilinear, with
            antialiasing) instead of requiring that size.

    Example:

    ```python
    import numpy as np
    from PIL import Image
    from keras_vae.datasets import ImageFiles

    for name in ("a.png", "b.png"):
        Image.fromarray(np.full((8, 8), 255, "uint8")).save(name)
    files = ImageFiles(["a.png", "b.png"], (8, 8, 1))
    print(files.shape, files[0].max())  # (2, 8, 8, 1) 1.0
    print(np.asarray(files).mean())  # 1.0: both read
    ```
    """

    dtype = np.dtype("float32")
    ndim = 4

    def __init__(self, paths, image_shape, resize=False):
        self.paths = np.asarray(paths, dtype=str)
        self.image_shape = tuple(image_shape)
        self.resize = resize

    @property
    def shape(self):
        return (len(self.paths),) + self.image_shape

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            return self._read(self.paths[index])
        return ImageFiles(self.paths[index], self.image_shape, self.resize)

    def __array__(self, dtype=None, copy=None):
        images = np.empty(self.shape, "float32")
        for index, path in enumerate(self.paths):
            images[index] = self._read(path)
        return images if dtype is None else images.astype(dtype)

    def _read(self, path):
        import tensorflow as tf

        try:
            return self.decode_paths(path).numpy()
        except tf.errors.OpError as error:
            reason = error.message.strip().splitlines()[0]
            raise ValueError(
                f"{path} is not a readable image ({reason}); expected a PNG, "
                "JPEG, BMP or GIF file."
            ) from None

    def decode_paths(self, paths):
        """Decodes a `tf.data` element of file paths into images."""
        import tensorflow as tf

        return decode(tf.io.read_file(paths), self.image_shape, self.resize)


def decode(contents, image_shape, resize=False):
    """A float32 image tensor in [0, 1] of `image_shape` from a file's bytes."""
    import tensorflow as tf

    height, width, channels = image_shape
    image = tf.io.decode_image(
        contents, channels=0, expand_animations=False, dtype=tf.float32
    )
    found = tf.shape(image)[-1]
    image = tf.cond(found == 2, lambda: image[..., :1], lambda: image)  # grey+alpha
    image = tf.cond(found == 4, lambda: image[..., :3], lambda: image)  # RGBA
    if channels == 1:
        image = tf.cond(
            tf.shape(image)[-1] == 3,
            lambda: tf.image.rgb_to_grayscale(image),
            lambda: image,
        )
    else:
        image = tf.cond(
            tf.shape(image)[-1] == 1,
            lambda: tf.image.grayscale_to_rgb(image),
            lambda: image,
        )
    if resize:
        image = tf.image.resize(image, (height, width), antialias=True)
    return tf.ensure_shape(image, image_shape)


def read_image(path, image_shape):
    """Reads one image file as a float32 array `image_shape` in [0, 1].

    Colour is converted to what `image_shape` asks for; the size is not
    changed.

    Raises:
        ValueError: if the file is missing or unreadable, or its size differs
            from `image_shape` (the message names the file and both sizes).
    """
    if not os.path.isfile(path):
        raise ValueError(f"{path} is not an image file: no such file.")
    size = _header_size(path)
    if size != tuple(image_shape[:2]):
        raise ValueError(
            f"{path} is {size[0]}x{size[1]} pixels; the model takes "
            f"{image_shape[0]}x{image_shape[1]} images. Resize it first."
        )
    return ImageFiles([path], image_shape)[0]


def list_images(folder):
    """The image files of a folder, and their labels if it has class folders.

    A folder of class sub-folders (as `keras.utils.image_dataset_from_directory`
    reads them) gives labels in the sorted order of the sub-folders' names; a
    flat folder gives no labels.

    Returns:
        Tuple `(paths, labels, class_names)`; `labels` and `class_names` are
        `None` for a flat folder.

    Raises:
        ValueError: if the folder does not exist or holds no image files.
    """
    if not os.path.isdir(folder):
        raise ValueError(f"{folder} is not a folder.")
    entries = sorted(os.listdir(folder))
    class_names = [
        name for name in entries if os.path.isdir(os.path.join(folder, name))
    ]
    if class_names:
        paths, labels = [], []
        for label, name in enumerate(class_names):
            files = _image_files(os.path.join(folder, name))
            paths += files
            labels += [label] * len(files)
        result = paths, np.asarray(labels, "int32"), class_names
    else:
        result = _image_files(folder), None, None
    if not result[0]:
        raise ValueError(
            f"{folder} holds no image files ({', '.join(IMAGE_EXTENSIONS)})."
        )
    return result


def is_image_folder(folder):
    """Whether `folder` holds image files, directly or in sub-folders."""
    for _, _, names in os.walk(folder):
        if any(name.lower().endswith(IMAGE_EXTENSIONS) for name in names):
            return True
    return False


def load_folder(folder, image_size=None, color_mode=None, seed=0, test_fraction=0.1):
    """Lists a folder of images and splits it into training and test files.

    Args:
        folder: String. Class sub-folders give labels (sorted by name); a flat
            folder is unlabelled (every label 0).
        image_size: Tuple `(height, width)` to resize every image to, or `None`:
            every image must then have the same size.
        color_mode: `"grayscale"` (default) or `"rgb"`.
        seed: Integer, seed of the split (stratified by class).
        test_fraction: Float in (0, 1), the share of test images.

    Returns:
        Tuple `(x_train, y_train, x_test, y_test, class_names)`: `ImageFiles`,
        int32 labels, and the class folders' names (`None` for a flat
        folder).

    Raises:
        ValueError: naming the folder or the file: no images, an unreadable
            file, images of different sizes without `image_size`, a class
            with fewer than two images.
    """
    from sklearn.model_selection import train_test_split

    color_mode = color_mode or "grayscale"
    if color_mode not in COLOR_MODES:
        raise ValueError(
            f"Unknown color mode {color_mode!r}. Expected one of {COLOR_MODES}."
        )
    paths, labels, class_names = list_images(folder)
    if class_names is not None:
        counts = np.bincount(labels, minlength=len(class_names))
        for name, count in zip(class_names, counts, strict=True):
            if count < 2:
                raise ValueError(
                    f"Class folder {os.path.join(folder, name)} holds {count} image"
                    f"{'' if count == 1 else 's'}; every class needs at least 2 "
                    "(one to train on, one to test)."
                )
    if len(paths) < 2:
        raise ValueError(f"{folder} holds one image; at least 2 are needed.")
    if image_size is None:
        first = paths[0]
        size = _header_size(first)
        for path in paths[1:]:
            other = _header_size(path)
            if other != size:
                raise ValueError(
                    f"{folder} holds images of different sizes ({size[0]}x{size[1]} "
                    f"in {first}, {other[0]}x{other[1]} in {path}); pass "
                    "`image_size=(H, W)` to resize them."
                )
    else:
        for path in paths:
            _header_size(path)
        size = tuple(image_size)
    image_shape = size + (1 if color_mode == "grayscale" else 3,)
    labelled = class_names is not None
    labels = labels if labelled else np.zeros(len(paths), "int32")
    # At least one test image of every class.
    test_count = max(round(test_fraction * len(paths)), len(class_names or [0]))
    train, test = train_test_split(
        np.arange(len(paths)),
        test_size=test_count,
        random_state=seed,
        stratify=labels if labelled else None,
    )
    train, test = np.sort(train), np.sort(test)
    files = ImageFiles(paths, image_shape, resize=image_size is not None)
    return files[train], labels[train], files[test], labels[test], class_names


def _header_size(path):
    """`(height, width)` from an image file's header."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(
            f"{path} is not a readable image ({error}); expected a PNG, JPEG, BMP "
            "or GIF file."
        ) from None
    return height, width


def _image_files(folder):
    paths = [
        os.path.join(folder, name)
        for name in sorted(os.listdir(folder))
        if name.lower().endswith(IMAGE_EXTENSIONS)
        and os.path.isfile(os.path.join(folder, name))
    ]
    for path in paths:
        _check_name(path)
    return paths


def _check_name(path):
    """Refuses a file name that is not UTF-8, which TensorFlow cannot open."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        shown = os.fsencode(path).decode("utf-8", "backslashreplace")
        raise ValueError(
            f"{shown}: the file name is not UTF-8 text; expected UTF-8 file names "
            "(rename the file, e.g. with convmv)."
        ) from None
