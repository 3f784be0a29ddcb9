"""Anomaly scores of a finished run: calibrate, score images, judge OOD sets."""

import csv
import os

import numpy as np

from keras_vae import anomaly, defaults
from keras_vae.anomaly import detector as detector_lib
from keras_vae.anomaly.scores import check_methods
from keras_vae.datasets.outliers import OUTLIER_SETS, outlier_images
from keras_vae.experiments import inference, run_folder, training
from keras_vae.experiments.splits import validation_split
from keras_vae.files import atomic_path

# The methods `keras-vae train` calibrates: those that cost one pass.
TRAIN_METHODS = ("dose", "elbo", "complexity")
CONDITIONAL_METHODS = ("class_entropy",)


def validation_images(config, data):
    """Pixels (and labels) of the run's validation hold-out."""
    _, validation_index = validation_split(data.y_train, config)
    return data.x_train[validation_index], data.y_train[validation_index]


def reference_images(config, data):
    """Pixels and labels of up to `KNN_REFERENCE_IMAGES` of the run's
    training images (its training split, without the validation hold-out),
    drawn by the run's seed: what the 'knn' score measures distances to."""
    train_index, _ = validation_split(data.y_train, config)
    rng = np.random.default_rng(config["seed"])
    chosen = np.sort(rng.permutation(train_index)[: defaults.KNN_REFERENCE_IMAGES])
    return data.x_train[chosen], data.y_train[chosen]


def calibrate_model(model, config, data, methods=TRAIN_METHODS, labels=False, **rate):
    """Calibrates `model`'s anomaly thresholds on the run's validation split,
    with its training images as the 'knn' score's reference."""
    x, y = validation_images(config, data)
    methods = check_methods(methods, model, y if labels else None)
    reference = {}
    if "knn" in methods:
        pixels, classes = reference_images(config, data)
        reference = {
            "reference": pixels,
            "reference_labels": classes if labels else None,
        }
    return anomaly.calibrate(
        model,
        x,
        y if labels else None,
        methods=methods,
        seed=config["seed"],
        **reference,
        **rate,
    )


def calibrate_after_training(model, config, data):
    """Calibrates a just-trained model when its validation split is large
    enough; returns the line that says what was done."""
    count = len(validation_images(config, data)[0])
    if count < detector_lib.MINIMUM_IMAGES:
        return (
            f"No anomaly thresholds: the {count} validation images are too few to "
            f"calibrate them (at least {detector_lib.MINIMUM_IMAGES}); see "
            "keras_vae.anomaly.calibrate to calibrate on other images."
        )
    # A conditional model's class entropy costs nothing more: the marginal
    # scores compute every class's ELBO.
    calibrate_model(
        model,
        config,
        data,
        TRAIN_METHODS + (CONDITIONAL_METHODS if model.conditional else ()),
    )
    return (
        f"Anomaly thresholds calibrated on the {count} validation images (false-alarm "
        f"rate {defaults.FALSE_ALARM_RATE:g}; kept in model.keras)"
    )


def calibrate_run(directory, methods=None, labels=False, **rate):
    """Calibrates a finished run's model and saves it (atomically, locked)."""
    run = inference.load_run(directory)
    if labels and not run.conditional:
        raise ValueError(
            f"{directory} holds an unconditional run: it has no labels to "
            "calibrate with."
        )
    data = training.load_named(run.config["dataset_used"], run.config)
    with run_folder.Lock(directory, "keras-vae calibrate"):
        detector = calibrate_model(run.model, run.config, data, methods, labels, **rate)
        with atomic_path(os.path.join(directory, "model.keras")) as temporary:
            run.model.save(temporary)
    return detector


def read_scored_images(run, source, label=None):
    """Images to score: what `encode` reads, or a generated outlier set
    (`OUTLIER_SETS`) when `source` names one and no such file exists."""
    if source in OUTLIER_SETS and not os.path.exists(source):
        test, _ = run.split("test")
        pixels = outlier_images(source, run.image_shape, images=test)
        labels = None if label is None else np.full(len(pixels), label, "int32")
        return pixels, labels, [f"{source}:{index}" for index in range(len(pixels))]
    if source not in inference.SPLITS and not os.path.exists(source):
        raise ValueError(
            f"{source} does not exist; expected a folder of images, an image file, "
            f"a split of the run's dataset ({' or '.join(inference.SPLITS)}) or an "
            f"outlier set ({', '.join(OUTLIER_SETS)})."
        )
    return inference.read_images(run, source, label, require_labels=False)


def detector_of(run, method):
    """The run's detector, checked to hold a threshold for `method`."""
    detector = run.model.anomaly_detector
    if detector is None:
        raise ValueError(
            f"{run.directory} has no calibrated anomaly thresholds: run keras-vae "
            f"calibrate {run.directory} first (it needs at least "
            f"{detector_lib.MINIMUM_IMAGES} validation images)."
        )
    if method not in detector.thresholds:
        raise ValueError(
            f"{run.directory} has no threshold for the {method!r} score; it has "
            f"{', '.join(detector.thresholds)}. keras-vae calibrate "
            f"{run.directory} places one for every method."
        )
    return detector


def score_labels(run, detector, labels):
    """The labels a run scores with: a conditional run's when its detector
    was calibrated with labels (then required), else none (marginalised)."""
    if not run.conditional or not detector.labels_given:
        return None
    if labels is None:
        raise ValueError(
            f"{run.directory}'s thresholds were calibrated with labels: give "
            "images with their class (class sub-folders, a split, or --label)."
        )
    return labels


def write_scores(path, names, labels, results, method, flags, posteriors=None):
    """One CSV row per image: name, label, the default method's score and
    flag, the other methods' scores, and a conditional run's class posterior;
    atomically."""
    others = [name for name in results if name != method]
    header = ["image"] + (["label"] if labels is not None else [])
    header += ["score", "anomaly"] + others
    if posteriors is not None:
        header += ["predicted_class", "class_probability"]
    with atomic_path(path) as temporary, open(temporary, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for index, name in enumerate(names):
            row = [name] + ([int(labels[index])] if labels is not None else [])
            row += [f"{results[method][index]:.6g}", int(flags[index])]
            row += [f"{results[other][index]:.6g}" for other in others]
            if posteriors is not None:
                best = int(posteriors[index].argmax())
                row += [best, f"{posteriors[index, best]:.4f}"]
            writer.writerow(row)


def ood_table(run, source, methods=None, num_samples=None, label=None):
    """Detection metrics of every method: the run's test split (normal)
    against the images of `source` (anomalies).

    Returns:
        Tuple `(rows, counts)`: rows `(method, metrics dict)`, and the
        numbers of test and `source` images.
    """
    detector = run.model.anomaly_detector
    given = run.conditional and detector is not None and detector.labels_given
    if methods is None:
        methods = anomaly.applicable_methods(run.model, True if given else None)
    if detector is None:
        methods = [m for m in methods if m not in anomaly.CALIBRATED_METHODS]
    elif detector.reference is None:
        methods = [m for m in methods if m != "knn"]
    options = {} if num_samples is None else {"num_samples": num_samples}
    test, test_labels = run.split("test")
    pixels, labels, _ = read_scored_images(run, source, label)
    normal = anomaly.scores(
        run.model, test, test_labels if given else None, methods, **options
    )
    unusual = anomaly.scores(
        run.model,
        pixels,
        score_labels(run, detector, labels) if given else None,
        methods,
        **options,
    )
    rows = [
        (method, anomaly.detection_metrics(normal[method], unusual[method]))
        for method in methods
    ]
    return rows, (len(test), len(pixels))
