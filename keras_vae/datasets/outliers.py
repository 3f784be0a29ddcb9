"""Far-out-of-distribution image sets made on the spot, for any image shape:
what an anomaly score of a model trained on other images must flag."""

import numpy as np

from keras_vae import checks

OUTLIER_SETS = ("digits", "photos", "noise", "constant", "inverted")


def outlier_images(name, image_shape, count=2000, seed=0, images=None):
    """Images of a far-out-of-distribution set, as pixels in [0, 1].

    - `"digits"`: scikit-learn's 1,797 real 8x8 handwritten digits, scaled
      to 5/7 of the side and centred (as MNIST's 20 of 28 pixels);
    - `"photos"`: square patches of scikit-learn's two sample photographs
      (1, 2 or 3 image sides wide), scaled to the image size;
    - `"noise"`: independent uniform pixels;
    - `"constant"`: images of one uniformly drawn grey level;
    - `"inverted"`: `1 - images`, the negatives of in-distribution images.

    Grey images are repeated over the channels of colour shapes (photos
    keep their colour).

    Args:
        name: String, one of `OUTLIER_SETS`.
        image_shape: Tuple `(height, width, channels)`.
        count: Integer, how many images (digits: at most 1,797).
        seed: Integer, seed of the draws.
        images: Array of in-distribution pixels (`"inverted"` only).

    Returns:
        NumPy float32 array `(count,) + image_shape`.

    Example:

    ```python
    from keras_vae.datasets import outlier_images

    print(outlier_images("digits", (28, 28, 1), count=5).shape)  # (5, 28, 28, 1)
    ```
    """
    from PIL import Image

    if name not in OUTLIER_SETS:
        raise ValueError(
            f"Unknown outlier set {name!r}. Expected one of {', '.join(OUTLIER_SETS)}."
        )
    count = checks.positive_integer("count", count)
    height, width, channels = image_shape
    rng = np.random.default_rng(seed)

    def resized(array, size):
        mode = "RGB" if array.ndim == 3 else "L"
        image = Image.fromarray(np.round(array * 255).astype("uint8"), mode)
        return np.asarray(image.resize(size, Image.BILINEAR), "float32") / 255

    if name == "noise":
        return rng.uniform(size=(count, *image_shape)).astype("float32")
    if name == "constant":
        levels = rng.uniform(size=(count, 1, 1, 1)).astype("float32")
        return np.broadcast_to(levels, (count, *image_shape)).copy()
    if name == "inverted":
        if images is None:
            raise ValueError("The 'inverted' set needs `images` to invert.")
        return 1.0 - np.asarray(images[:count], "float32")
    if name == "digits":
        from sklearn.datasets import load_digits

        inner = (max(1, round(width * 5 / 7)), max(1, round(height * 5 / 7)))
        top, left = (height - inner[1]) // 2, (width - inner[0]) // 2
        grey = np.zeros((min(count, 1797), height, width), "float32")
        for index, digit in enumerate(load_digits().images[: len(grey)] / 16.0):
            grey[index, top : top + inner[1], left : left + inner[0]] = resized(
                digit, inner
            )
        return np.repeat(grey[..., None], channels, axis=-1)
    from sklearn.datasets import load_sample_images

    photos = [image / 255.0 for image in load_sample_images().images]
    out = np.empty((count, *image_shape), "float32")
    for index in range(count):
        photo = photos[index % len(photos)]
        if channels != 3:
            photo = photo.mean(axis=-1)
        side = min(height * int(rng.integers(1, 4)), *photo.shape[:2])
        row = rng.integers(0, photo.shape[0] - side + 1)
        column = rng.integers(0, photo.shape[1] - side + 1)
        patch = photo[row : row + side, column : column + side]
        patch = resized(patch, (width, height))
        out[index] = patch if channels == 3 else patch[..., None]
    return out
