"""Using a finished run: draw samples, interpolate between images, traverse
latent dimensions, encode images."""

import csv
import dataclasses
import os
import zipfile

import keras
import numpy as np

from keras_vae import checks, plots
from keras_vae.datasets.images import list_images, read_image
from keras_vae.datasets.loading import CLASS_NAMES
from keras_vae.experiments import resume, training, traversal
from keras_vae.files import atomic_path, check_finished_run
from keras_vae.latent_mixture import LatentMixture
from keras_vae.models import VAE

IMAGE_OUTPUTS = (".png", ".npy")
SAMPLES_PER_CLASS = 8  # `sample`'s default for a conditional run
SPLITS = ("test", "train")


# What runs of releases up to 0.1.0 kept beside model.keras.
LATENT_MIXTURE_FILE = "latent_mixture.npz"


@dataclasses.dataclass
class LoadedRun:
    """A run folder's settings and model; the model carries its preprocessing,
    class names and latent mixture, and works on pixels."""

    directory: str
    config: dict
    model: keras.Model

    @property
    def conditional(self):
        return self.model.conditional

    @property
    def image_shape(self):
        """`(height, width, channels)` of the model's images."""
        return self.model.data_shape

    @property
    def class_names(self):
        """Names of a conditional run's classes, or their numbers as strings."""
        count = self.model.num_classes
        names = (
            self.model.class_names
            or self.config.get("class_names")
            or CLASS_NAMES.get(self.config.get("dataset_used"))
        )
        if names and len(names) == count:
            return list(names)
        return [str(label) for label in range(count)]

    def split(self, name):
        """Pixels and labels of a split of the run's dataset."""
        if name not in SPLITS:
            raise ValueError(f"Unknown split {name!r}. Expected one of {SPLITS}.")
        data = training.load_named(self.config["dataset_used"], self.config)
        if name == "test":
            return data.x_test, data.y_test
        return data.x_train, data.y_train


def load_run(directory, say=print):
    """Loads a run folder written by `keras-vae train`.

    A run of a release up to 0.1.0 kept its preprocessing in config.json and
    its latent mixture in latent_mixture.npz: they are put into the model, and
    `say` tells so once.

    Raises:
        ValueError: if the folder is not a finished run, or its model or latent
            mixture cannot be loaded (the message says why, in one line).
    """
    check_finished_run(directory)
    config = resume.read_config(directory)
    model = _load_model(os.path.join(directory, "model.keras"))
    if model.preprocessing is None and "preprocessing_state" in config:
        mixture = os.path.join(directory, LATENT_MIXTURE_FILE)
        model.set_data_space(
            config["preprocessing_state"],
            config.get("class_names"),
            LatentMixture.load(mixture) if os.path.isfile(mixture) else None,
        )
        say(
            f"{directory} is a run of an earlier release: its preprocessing is read "
            "from config.json (model.keras alone works on the networks' inputs)."
        )
    return LoadedRun(directory, config, model)


def _load_model(path):
    """Loads a run's model safely (no Python code from the file)."""
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} cannot be loaded: it is not a .keras file (a zip archive); "
            "it may be truncated or corrupt."
        )
    try:
        model = keras.models.load_model(path, safe_mode=True)
    except (TypeError, ValueError, KeyError, OSError) as error:
        # Keras names the class it could not find, then dumps the whole config.
        reason = str(error).strip().splitlines()[0].split(" Full object config")[0]
        raise ValueError(f"{path} cannot be loaded: {reason}") from None
    if not isinstance(model, VAE):
        raise ValueError(
            f"{path} holds a {type(model).__name__}, not a keras_vae VAE or "
            "ConditionalVAE."
        )
    return model


def _check_label(run, label):
    if label is None:
        return None
    if not run.conditional:
        raise ValueError(
            f"`label` needs a conditional (cvae) run; {run.directory} holds a "
            f"{run.config['model']} run."
        )
    if not 0 <= label < run.model.num_classes:
        raise ValueError(
            f"`label={label}` is not a class of this run: expected 0 to "
            f"{run.model.num_classes - 1} ({', '.join(run.class_names)})."
        )
    return label


def sample(run, n, label=None, seed=0, prior=False, temperature=None):
    """Decodes `n` draws of a run's model, as pixels in [0, 1].

    Draws come from the run's latent mixture when it has one, else (or with
    `prior=True`) from the model's prior. A conditional run draws `n` samples
    of class `label`, or, without one, `n` samples spread evenly over its
    classes in order (counts differ by one at most).

    Args:
        n: Integer, how many samples; `None`: 64, or 8 per class for a
            conditional run without `label`.
        temperature: Float >= 0, the spread of the draws (`model.sample`'s;
            default: the model's `sample_temperature`).

    Returns:
        Tuple `(pixels, labels)`; `labels` is `None` for an unconditional run.

    Raises:
        ValueError: if a conditional run without `label` is asked for fewer
            samples than it has classes.
    """
    label = _check_label(run, label)
    spread = run.conditional and label is None
    if n is None:
        n = SAMPLES_PER_CLASS * run.model.num_classes if spread else 64
    n = checks.positive_integer("n", n)
    labels = None
    if spread:
        classes = run.model.num_classes
        if n < classes:
            raise ValueError(
                f"`n={n}` cannot show each of the run's {classes} classes: "
                f"expected at least {classes}, or `label=K` for one class."
            )
        labels = np.repeat(
            np.arange(classes), n // classes + (np.arange(classes) < n % classes)
        )
    elif run.conditional:
        labels = np.full(n, label)
    pixels = run.model.sample(
        None if labels is not None else n,
        labels=labels,
        seed=seed,
        prior=prior,
        temperature=temperature,
    )
    return pixels, labels


def rows_by_class(pixels, labels):
    """Images grouped into one row per class, short rows padded with white.

    Returns:
        Tuple `(images, columns)`, `images` of `classes * columns` images.
    """
    counts = np.bincount(labels)
    columns = int(counts.max())
    grid = np.ones((len(counts) * columns,) + pixels.shape[1:], pixels.dtype)
    for label in range(len(counts)):
        chosen = pixels[labels == label]
        grid[label * columns : label * columns + len(chosen)] = chosen
    return grid, columns


def read_endpoint(run, source):
    """One image for `interpolate`: an image file, or `test:N` / `train:N`, the
    N-th image of a split of the run's dataset, as pixels in [0, 1]."""
    split, _, index = source.partition(":")
    if split in SPLITS and index:
        x, _ = run.split(split)
        if not index.isdigit() or int(index) >= len(x):
            raise ValueError(
                f"{source}: expected {split}:N with N from 0 to {len(x) - 1}."
            )
        return x[int(index)]
    if not os.path.isfile(source):
        raise ValueError(
            f"{source} is neither an image file nor test:N or train:N; expected "
            "an image of the model's size or an image of the run's dataset."
        )
    return read_image(source, run.image_shape)


def interpolate(run, start, end, steps=10, label=None):
    """Decodes `steps` codes on the line between the posterior means of two
    images (pixels in [0, 1]), the first and last being the images' own.

    A conditional run encodes and decodes every code with class `label`.

    Returns:
        Array `(steps,) + image_shape` of pixels.
    """
    steps = checks.positive_integer("steps", steps, minimum=2)
    label = _check_label(run, label)
    if run.conditional and label is None:
        raise ValueError(
            "A conditional (cvae) run interpolates within one class: pass `label`."
        )
    labels = None if label is None else np.full(steps, label)
    ends = np.stack([start, end])
    mean, _ = run.model.encode(ends, labels=None if labels is None else labels[:2])
    mean = mean.reshape(2, -1)
    weights = np.linspace(0.0, 1.0, steps, dtype="float32")[:, None]
    return run.model.decode(
        (1 - weights) * mean[:1] + weights * mean[1:], labels=labels
    )


def traverse(run, images, steps=9, limit=3.0, label=None, reference=None):
    """`keras_vae.experiments.traversal.traverse` for a run's model, with
    `label` checked against the run's classes."""
    return traversal.traverse(
        run.model, images, steps, limit, _check_label(run, label), reference
    )


def read_images(run, source, label=None, require_labels=True):
    """Images to encode: a folder of images (class sub-folders give labels),
    one image file, or the name of a split of the run's dataset.

    A conditional run needs labels unless `require_labels` is false.

    Returns:
        Tuple `(pixels, labels, names)`: labels are `None` when there are
        none; `names` say where each image came from.
    """
    label = _check_label(run, label)
    if source in SPLITS:
        x, y = run.split(source)
        names = [f"{source}:{index}" for index in range(len(x))]
    elif os.path.isdir(source):
        paths, y, class_names = list_images(source)
        if (
            y is not None
            and run.conditional
            and len(class_names) > run.model.num_classes
        ):
            raise ValueError(
                f"{source} has {len(class_names)} class folders; the run has "
                f"{run.model.num_classes} classes."
            )
        shape = run.image_shape
        x = np.stack([read_image(path, shape) for path in paths])
        names = paths
    elif os.path.isfile(source):
        x, y, names = read_image(source, run.image_shape)[None], None, [source]
    else:
        raise ValueError(
            f"{source} is neither an image file, a folder of images, nor a split "
            f"of the run's dataset ({' or '.join(SPLITS)})."
        )
    if label is not None:
        y = np.full(len(x), label, "int32")
    if run.conditional and y is None and require_labels:
        raise ValueError(
            "A conditional (cvae) run encodes images with their class: give a "
            "folder of class sub-folders, a split, or `label`."
        )
    return x, y, names


def write_codes(path, names, labels, mean, sigma):
    """Writes one CSV row per image: its name, label, and the posterior's
    mean and standard deviation per latent dimension; atomically."""
    latent_dim = mean.shape[1]
    header = ["image"] + (["label"] if labels is not None else [])
    header += [f"mean_{j}" for j in range(latent_dim)]
    header += [f"sigma_{j}" for j in range(latent_dim)]
    with atomic_path(path) as temporary, open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for index, name in enumerate(names):
            label = [int(labels[index])] if labels is not None else []
            writer.writerow(
                [name, *label]
                + [f"{value:.6g}" for value in mean[index]]
                + [f"{value:.6g}" for value in sigma[index]]
            )


def write_images(path, pixels, columns, title, row_labels=None):
    """Writes images as a PNG grid or, for a `.npy` path, as the array."""
    if path.lower().endswith(".npy"):
        with atomic_path(path) as temporary:
            np.save(temporary, np.asarray(pixels, "float32"))
        return
    plots.save(plots.images_figure(pixels, columns, title, row_labels), path)
