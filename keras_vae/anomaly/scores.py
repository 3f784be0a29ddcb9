"""Per-example anomaly scores of a VAE, in nats: higher is more anomalous."""

import functools
import math

import numpy as np

from keras_vae import checks, defaults
from keras_vae.anomaly import regret as regret_lib
from keras_vae.anomaly import statistics as stats_lib

METHODS = defaults.ANOMALY_METHODS
DEFAULT_METHOD = defaults.ANOMALY_METHOD
# The methods that need what `calibrate` fits (`model.anomaly_detector`).
CALIBRATED_METHODS = ("dose", "knn")


def applicable_methods(model, labels=None):
    """The methods that score `model`'s images: every one but `class_entropy`,
    which needs a conditional model scoring images of unknown class.

    Example:

    ```python
    import keras_vae

    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))
    print(keras_vae.anomaly.applicable_methods(vae))
    # ('dose', 'elbo', 'iwae', 'complexity', 'regret', 'knn')
    ```
    """
    marginal = model.conditional and labels is None
    return tuple(m for m in METHODS if marginal or m != "class_entropy")


def check_methods(methods, model=None, labels=None):
    """`methods` as a tuple, checked; `None` is every applicable method."""
    if methods is None:
        return applicable_methods(model, labels)
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    for method in methods:
        if method not in METHODS:
            raise ValueError(
                f"Unknown anomaly score method {method!r}. Expected one of "
                f"{', '.join(METHODS)}."
            )
    if not methods:
        raise ValueError(f"Expected at least one method of {', '.join(METHODS)}.")
    if model is not None and "class_entropy" in methods:
        if not model.conditional:
            raise ValueError(
                "The class_entropy score is the uncertainty of a ConditionalVAE "
                "about an image's class. Received: an unconditional VAE; expected "
                "a ConditionalVAE (or another method)."
            )
        if labels is not None:
            raise ValueError(
                "The class_entropy score is for images of unknown class. Received: "
                "labels; expected labels=None (or another method)."
            )
    return methods


def scores(
    model,
    x,
    labels=None,
    methods=None,
    detector=None,
    num_samples=defaults.SCORE_IW_SAMPLES,
    regret_steps=regret_lib.STEPS,
    batch_size=defaults.INFERENCE_BATCH_SIZE,
    seed=0,
    raw=False,
):
    """Anomaly scores of every image by several methods; higher is more anomalous.

    A `ConditionalVAE` scores with the given labels, or, without them,
    marginalises over its classes: the ELBO and bound become
    -log sum_y p(x|y) p(y) with a uniform p(y), and the other statistics
    are taken at the most probable class. Such a model also has the
    `class_entropy` score, the entropy of p(y|x) in nats: an image of none of
    the classes it was trained on tends to look like several of them.

    Args:
        model: A built `keras_vae.models.VAE` or `ConditionalVAE`.
        x: Array of images in data space (pixels in [0, 1] with a
            preprocessing).
        labels: A conditional model's labels, or `None` to marginalise.
        methods: String or sequence of `METHODS`. Defaults to every method
            that applies to the model (`applicable_methods`), but `"knn"`
            only when the detector has its reference (`keras-vae train`
            calibrates without it; `calibrate` adds it).
        detector: The `AnomalyDetector` that `"dose"` and `"knn"` need.
            Defaults to the model's `anomaly_detector`.
        num_samples: Integer k >= 1 of `"iwae"`. Defaults to `10`.
        regret_steps: Integer, Adam steps of `"regret"`. Defaults to `20`.
        batch_size: Integer, images per call of the networks.
        seed: Integer, seed of the posterior samples.
        raw: Boolean, `x` are the networks' inputs (no preprocessing).

    Returns:
        Dict mapping each method to a NumPy float32 array `(n,)`, in nats.

    Raises:
        ValueError: for an unknown method, `num_samples < 1`, images of
            another shape than the model's, labels out of range, or `"dose"`
            or `"knn"` without a calibrated detector.
    """
    from keras_vae.evaluation import importance_weighted_bound

    stats_lib.check_model("scores", model)
    num_samples = checks.positive_integer("num_samples", num_samples)
    x = stats_lib.check_pixels("scores", model, x, raw)
    labels = stats_lib.check_labels(model, labels, len(x))
    every = methods is None
    methods = check_methods(methods, model, labels)
    if every:
        known = detector if detector is not None else model.anomaly_detector
        if known is None or known.reference is None:
            methods = tuple(m for m in methods if m != "knn")
    if set(methods) & set(CALIBRATED_METHODS):
        detector = _detector(model, detector, labels)
    marginal = model.conditional and labels is None
    classes = range(model.num_classes) if marginal else None
    projected = "knn" in methods and detector.components is not None
    statistics, elbo, labels, class_elbos = stats_lib.scored_statistics(
        model,
        x,
        labels,
        batch_size,
        seed,
        raw,
        features=detector.project if projected else None,
    )
    inputs = model._inputs(x, raw)
    results = {}
    for method in methods:
        if method == "elbo":
            results[method] = elbo
        elif method == "class_entropy":
            results[method] = stats_lib.class_entropy(class_elbos)
        elif method == "complexity":
            results[method] = elbo - statistics["complexity"] * math.log(2.0)
        elif method == "dose":
            results[method] = detector.density_score(statistics)
        elif method == "knn":
            results[method] = detector.neighbour_score(statistics)
        elif method == "iwae":
            bound = functools.partial(
                importance_weighted_bound,
                model,
                inputs,
                num_samples=num_samples,
                seed=seed,
            )
            results[method] = (
                stats_lib.marginal(
                    np.stack([bound(np.full(len(x), k)) for k in classes], 1)
                )
                if marginal
                else bound(labels)
            )
        else:
            results[method] = regret_lib.likelihood_regret(
                model, inputs, labels, regret_steps, batch_size, seed
            )
    return {method: np.asarray(results[method], "float32") for method in methods}


def score(model, x, labels=None, method=DEFAULT_METHOD, **kwargs):
    """One method's anomaly scores; see `scores` for the arguments.

    Example:

    ```python
    import numpy as np
    import keras_vae

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(256, 8, 8, 1)).astype("float32") * 0.2
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), latent_dim=2))
    vae.compile(optimizer="adam")
    vae.fit(x, epochs=2, verbose=0)
    odd = rng.uniform(size=(8, 8, 8, 1)).astype("float32")  # 5x brighter noise
    elbo = keras_vae.anomaly.score(vae, np.concatenate([x[:8], odd]), method="elbo")
    print(elbo[:8].mean() < elbo[8:].mean())  # True
    ```
    """
    # Checked here too, so that the errors name `score`, not `scores`.
    stats_lib.check_model("score", model)
    stats_lib.check_pixels("score", model, x, kwargs.get("raw", False))
    return scores(model, x, labels, methods=(method,), **kwargs)[method]


def class_log_likelihoods(model, x, batch_size=defaults.INFERENCE_BATCH_SIZE, seed=0):
    """The ELBO of every image under every class of a `ConditionalVAE`: a
    lower bound on log p(x|y), in nats (one posterior sample).

    Returns:
        NumPy float32 array `(n, num_classes)`.
    """
    stats_lib.check_model("class_log_likelihoods", model)
    if not model.conditional:
        raise ValueError(
            "`class_log_likelihoods` needs a ConditionalVAE: an unconditional "
            "VAE has no classes."
        )
    x = stats_lib.check_pixels("class_log_likelihoods", model, x)
    *_, negative_elbos = stats_lib.scored_statistics(model, x, None, batch_size, seed)
    return (-negative_elbos).astype("float32")


def class_posteriors(model, x, batch_size=defaults.INFERENCE_BATCH_SIZE, seed=0):
    """p(y|x) of a `ConditionalVAE` with a uniform p(y), from the classes' ELBOs.

    Returns:
        NumPy float32 array `(n, num_classes)` whose rows sum to 1; its
        `argmax(-1)` classifies the images.

    Example:

    ```python
    import numpy as np
    import keras_vae

    encoder, decoder = keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3)
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=3)
    cvae.build([(None, 8, 8, 1), (None,)])
    x = np.random.default_rng(0).uniform(size=(4, 8, 8, 1)).astype("float32")
    print(keras_vae.anomaly.class_posteriors(cvae, x).sum(-1))  # [1. 1. 1. 1.]
    ```
    """
    log_likelihoods = class_log_likelihoods(model, x, batch_size, seed)
    shifted = log_likelihoods - log_likelihoods.max(axis=1, keepdims=True)
    probabilities = np.exp(shifted.astype("float64"))
    return (probabilities / probabilities.sum(axis=1, keepdims=True)).astype("float32")


def reconstruction_error_map(
    model, x, labels=None, batch_size=defaults.INFERENCE_BATCH_SIZE
):
    """Squared error of each pixel between `x` and its reconstruction (the
    decoded posterior mean), in data space: where an image is unusual.

    A `ConditionalVAE` without labels reconstructs with each image's most
    probable class.

    Returns:
        NumPy float32 array of `x`'s shape.
    """
    stats_lib.check_model("reconstruction_error_map", model)
    x = stats_lib.check_pixels("reconstruction_error_map", model, x)
    labels = stats_lib.check_labels(model, labels, len(x))
    if model.conditional and labels is None:
        labels = class_posteriors(model, x, batch_size).argmax(-1)
    reconstruction = model.reconstruct(x, labels=labels, batch_size=batch_size)
    return np.square(reconstruction - x).astype("float32")


def _detector(model, detector, labels):
    detector = detector if detector is not None else model.anomaly_detector
    if detector is None:
        raise ValueError(
            "The 'dose' and 'knn' scores need the model's statistics on "
            "validation images: the model has no anomaly detector. Calibrate one with "
            "keras_vae.anomaly.calibrate(model, x_validation) (on the command "
            "line: keras-vae calibrate RUN), or choose another method."
        )
    detector.check_labels(labels)
    return detector
