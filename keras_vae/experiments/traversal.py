"""Latent traversals: each latent dimension swept with the others fixed."""

import dataclasses
import os

import numpy as np

from keras_vae import checks, plots
from keras_vae.evaluation import latent_usage
from keras_vae.files import atomic_path


@dataclasses.dataclass
class Traversal:
    """Decoded sweeps of every latent dimension around some images' codes."""

    pixels: np.ndarray  # (examples, dimensions, steps) + image_shape
    values: np.ndarray  # the swept values, (steps,)
    order: np.ndarray  # the dimensions, by decreasing KL
    kl: np.ndarray  # average KL of every dimension, nats
    active: np.ndarray  # bool per dimension: Cov_x E[z|x] > 0.01


def traverse(model, images, steps=9, limit=3.0, label=None, reference=None):
    """For each image (pixels in [0, 1]) and each latent dimension of a
    `VAE` or `ConditionalVAE`, decodes `steps` codes equal
    to the image's posterior mean but for that dimension, swept from
    `-limit` to `limit`.

    Dimensions come by decreasing average KL, measured on `reference` images
    (default: the images themselves), with those whose posterior mean does
    not vary across them (Cov_x E[z|x] <= 0.01) marked inactive. A
    conditional model encodes and decodes with class `label`.

    Returns:
        A `Traversal`.
    """
    steps = checks.positive_integer("steps", steps, minimum=2)
    limit = checks.finite_number("limit", limit, 0, inclusive=False)
    if model.conditional and label is None:
        raise ValueError(
            "A conditional (cvae) run is traversed within one class: pass `label`."
        )
    latent_dim = int(np.prod(model.latent_shape))
    if latent_dim < 2:
        raise ValueError(
            "A traversal sweeps each latent dimension with the others fixed: "
            "this run has 1 latent dimension. Decode a line instead (keras-vae "
            "interpolate, or keras-vae sample on a 1-D grid)."
        )
    images = np.asarray(images, "float32")
    reference = images if reference is None else np.asarray(reference, "float32")

    def labels_of(count):
        return None if label is None else np.full(count, label, "int32")

    mean, sigma = model.encode(reference, labels=labels_of(len(reference)))
    mean, sigma = mean.reshape(len(mean), -1), sigma.reshape(len(sigma), -1)
    kl = latent_usage.kl_per_dimension_of(mean, sigma)
    active = latent_usage.active_units_of(mean, 0.01)[1] > 0.01
    order = np.argsort(-kl, kind="stable")
    codes = model.encode(images, labels=labels_of(len(images)))[0]
    codes = codes.reshape(len(codes), -1)
    values = np.linspace(-limit, limit, steps, dtype="float32")
    swept = np.repeat(codes[:, None, None, :], latent_dim, axis=1)
    swept = np.repeat(swept, steps, axis=2)  # (examples, dimensions, steps, d)
    for row, dimension in enumerate(order):
        swept[:, row, :, dimension] = values
    flat = swept.reshape((-1,) + tuple(model.latent_shape))
    pixels = model.decode(flat, labels=labels_of(len(flat)))
    pixels = pixels.reshape((len(images), latent_dim, steps) + pixels.shape[1:])
    return Traversal(pixels, values, order, kl, active)


def write_traversal(path, traversal, names, title):
    """A PNG (one row per image and dimension, the sweep left to right) or a
    GIF (one frame per step, a row per image and a column per dimension
    there and back again), written atomically."""
    path = os.fspath(path)
    examples, dimensions, steps = traversal.pixels.shape[:3]
    if path.lower().endswith(".gif"):
        from PIL import Image

        frames = []
        for step in list(range(steps)) + list(range(steps - 2, 0, -1)):
            grid = plots.tile(
                traversal.pixels[:, :, step].reshape(
                    (-1,) + traversal.pixels.shape[3:]
                ),
                dimensions,
            )
            grid = np.clip(grid, 0, 1)
            if grid.ndim == 3 and grid.shape[-1] == 1:
                grid = grid[..., 0]
            frames.append(Image.fromarray(np.round(grid * 255).astype("uint8")))
        with atomic_path(path) as temporary:
            frames[0].save(
                temporary,
                format="GIF",
                save_all=True,
                append_images=frames[1:],
                duration=120,
                loop=0,
            )
        return
    row_labels = [
        f"{name} z{dimension} "
        + (
            f"{traversal.kl[dimension]:.2f} nats"
            if traversal.active[dimension]
            else "inactive"
        )
        for name in names
        for dimension in traversal.order
    ]
    plots.save(
        plots.images_figure(
            traversal.pixels.reshape((-1,) + traversal.pixels.shape[3:]),
            steps,
            title,
            row_labels,
        ),
        path,
    )
