"""A dSprites-compatible dataset, drawn by the package: no download.

737,280 binary 64x64 images of a square, an ellipse or a heart, one for
every combination of dSprites' factors (Matthey et al. 2017): 3 shapes,
6 scales, 40 orientations, 32 x 32 positions. Every image is drawn from the
shape's equation (a pixel is on when its centre is inside the shape), kept
as bits (8 pixels a byte: 377 MB for all) in the cache folder after the
first generation.

How close to the published dSprites: the same factor grid, in the same
order, with the same values (scale 0.5 to 1, orientation 0 to 2 pi,
position 0 to 1); the same three shapes, about the same sizes (the square's
side is 20 px at scale 1, 10 px at 0.5), the centre moving one pixel a
position step, from 16 to 47 px; not the same pixels (dSprites' own
drawing code is not published), so scores are comparable in kind, not to
the digit.
"""

import math
import os
import zipfile

import numpy as np

from keras_vae import files

FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")
FACTOR_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")
IMAGE_SIZE = 64
TEST_IMAGES = 10000
VERSION = 1
# Half the square's side at scale 1, in pixels; the other shapes' sizes are
# relative to it (the ellipse 1 x 0.5 of it, the heart about 1.1).
RADIUS = 10.0
# Sprites are drawn on a patch this wide, placed at rows and columns 0..31:
# the centre moves from 16 to 47 px.
PATCH = 32


def factor_values(factors):
    """The values of factor indices `(n, 5)`: shape index, scale in
    [0.5, 1], orientation in radians in [0, 2 pi], x and y in [0, 1]."""
    factors = np.asarray(factors)
    return (
        factors[:, 0],
        0.5 + factors[:, 1] * 0.1,
        factors[:, 2] * (2 * math.pi / 39),
        factors[:, 3] / 31,
        factors[:, 4] / 31,
    )


def all_factors():
    """Every combination of factor indices, in dSprites' order (the last
    factor fastest): int array `(737280, 5)`."""
    axes = np.meshgrid(*[np.arange(size) for size in FACTOR_SIZES], indexing="ij")
    return np.stack(axes, -1).reshape(-1, len(FACTOR_SIZES)).astype("uint8")


def sprite(shape, scale, angle):
    """One sprite centred on a `PATCH` x `PATCH` patch: bool array."""
    pixels = np.arange(PATCH, dtype="float64") + 0.5 - PATCH / 2
    size = RADIUS * scale
    across, down = pixels[None, :] / size, pixels[:, None] / size
    u = math.cos(angle) * across + math.sin(angle) * down
    v = math.cos(angle) * down - math.sin(angle) * across
    if shape == 0:
        return np.maximum(np.abs(u), np.abs(v)) <= 1
    if shape == 1:
        return np.square(u) + np.square(v / 0.5) <= 1
    # The heart curve (x^2 + y^2 - 1)^3 <= x^2 y^3, lobes up at orientation 0
    # (image rows grow downwards).
    u, v = u * 0.9, -v * 0.9 + 0.15
    return np.power(np.square(u) + np.square(v) - 1, 3) <= np.square(u) * v**3


def render(factors):
    """Images of factor indices `(n, 5)`: bool array `(n, 64, 64)`.

    A position step moves the sprite by one pixel: image = the sprite's
    patch placed at row y, column x of the canvas."""
    factors = np.asarray(factors)
    shape, scale, angle, _, _ = factor_values(factors)
    images = np.zeros((len(factors), IMAGE_SIZE, IMAGE_SIZE), bool)
    for index, (kind, size, turn) in enumerate(zip(shape, scale, angle, strict=True)):
        x, y = factors[index, 3], factors[index, 4]
        images[index, y : y + PATCH, x : x + PATCH] = sprite(kind, size, turn)
    return images


def generate():
    """Every image, as bits: uint8 array `(737280, 512)` (row-major pixels,
    8 per byte, as `np.packbits` packs them), and the factors."""
    factors = all_factors()
    positions = FACTOR_SIZES[3] * FACTOR_SIZES[4]
    bits = np.empty((len(factors), IMAGE_SIZE * IMAGE_SIZE // 8), "uint8")
    canvas = np.zeros((FACTOR_SIZES[3], FACTOR_SIZES[4], IMAGE_SIZE, IMAGE_SIZE), bool)
    for start in range(0, len(factors), positions):
        # One sprite at every position: the last two factors vary fastest.
        shape, scale, angle, _, _ = factor_values(factors[start : start + 1])
        patch = sprite(shape[0], scale[0], angle[0])
        canvas[:] = False
        for x in range(FACTOR_SIZES[3]):
            for y in range(FACTOR_SIZES[4]):
                canvas[x, y, y : y + PATCH, x : x + PATCH] = patch
        bits[start : start + positions] = np.packbits(
            canvas.reshape(positions, -1), axis=1
        )
    return bits, factors


def cached(folder=None, say=print):
    """The bits and factors, generated once and kept in `folder` (the cache
    folder by default) as `dsprites-v1.npz`; drawn again if that file is
    damaged, and used without keeping when it cannot be written."""
    folder = folder or os.path.join(files.cache_folder(), "dsprites")
    path = os.path.join(folder, f"dsprites-v{VERSION}.npz")
    if os.path.isfile(path):
        try:
            with open(path, "rb") as file, np.load(file) as arrays:
                return arrays["bits"], arrays["factors"]
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            pass  # a damaged file (a copy cut short): drawn and written again
    say(f"Drawing the 737,280 dSprites images (a few seconds) into {path}")
    bits, factors = generate()
    try:
        os.makedirs(folder, exist_ok=True)
        with files.atomic_path(path) as temporary:
            with open(temporary, "wb") as file:
                np.savez(file, bits=bits, factors=factors)
    except OSError as error:
        say(
            "The dSprites images are not kept for next time: "
            f"{files.describe_os_error(error)}"
        )
    return bits, factors
