"""Metrics of a saved run on its test or training split."""

import dataclasses
import hashlib
import os

import keras
import numpy as np

from keras_vae import checks, evaluation
from keras_vae.datasets import PackedImages
from keras_vae.defaults import IW_SAMPLES
from keras_vae.evaluation import conditional_samples, latent_usage
from keras_vae.experiments import inference, splits, training
from keras_vae.files import atomic_path, cache_folder, describe_os_error

CLASSIFIER_FILE = "classifier.keras"
SAMPLES_PER_CLASS = 100


def latent_summary(model, inputs, iw_samples=IW_SAMPLES, seed=0, bits=True):
    """The bound on -log p(x), active units, KL per dimension and I(x; z).

    Args:
        model: A trained `VAE` or `ConditionalVAE`.
        inputs: `x` or `(x, labels)` arrays, as the model takes them.
        iw_samples: Integer k of the importance-weighted bound; `0` skips it.
        seed: Integer, seed of the samples.
        bits: Boolean, whether to give the bits per pixel (for a density, a
            second bound, of the dequantized pixels).

    Returns:
        Dict of JSON-friendly values: `iw_bound` (when `iw_samples` > 0),
        for a density of pixels `dequantized_bound` (the same bound with the
        8-bit levels spread over their bins) and `bits_per_dim` (bits per
        8-bit pixel, comparable across likelihoods,
        `evaluation.bits_per_dimension(..., model=model)` of the dequantized
        bound for a density; only where the model's preprocessing and
        likelihood give them), `iw_samples`,
        `active_units`, `latent_dim`, `kl_per_dimension` (list) and
        `mutual_information`, in nats.
    """
    checks.positive_integer("iw_samples", iw_samples, minimum=0)
    x, labels = inputs if isinstance(inputs, tuple) else (inputs, None)
    mean, sigma = latent_usage.posteriors("latent_summary", model, x, labels, 256)
    count, _ = latent_usage.active_units_of(mean, 0.01)
    kl = latent_usage.kl_per_dimension_of(mean, sigma)
    result = {
        "active_units": count,
        "latent_dim": int(kl.shape[0]),
        "kl_per_dimension": [round(float(value), 4) for value in kl],
        "mutual_information": latent_usage.mutual_information_of(mean, sigma, seed),
        "mutual_information_limit": float(np.log(len(x))),
        "iw_samples": iw_samples,
    }
    if iw_samples:
        bound = evaluation.importance_weighted_bound(
            model, x, labels, num_samples=iw_samples, seed=seed
        )
        result["iw_bound"] = float(bound.mean())
        if not bits:
            return result
        if _is_density_of_pixels(model):
            # A density's bits are those of its dequantized pixels.
            bound = evaluation.importance_weighted_bound(
                model, x, labels, num_samples=iw_samples, seed=seed, dequantize=True
            )
            result["dequantized_bound"] = float(bound.mean())
        try:
            # Bits of the 8-bit pixels, comparable across likelihoods.
            bits = evaluation.bits_per_dimension(
                float(bound.mean()), x.shape[1:], model=model
            )
        except ValueError:  # no preprocessing, or not a density of pixels
            pass
        else:
            result["bits_per_dim"] = float(bits)
    return result


def _is_density_of_pixels(model):
    """Whether the model is a density of preprocessed (not binarized) pixels."""
    preprocessing = getattr(model, "preprocessing", None)
    return (
        preprocessing is not None
        and not preprocessing.binary
        and not model.likelihood.discrete
    )


# A split of packed images (dsprites: 727,280 training images) is evaluated on
# a random subset of this size: 12 GB of float32 pixels otherwise.
MAX_PACKED_IMAGES = 10000


def evaluate_run(
    directory,
    split="test",
    iw_samples=IW_SAMPLES,
    say=print,
    latent_mixture=0,
    temperature=None,
):
    """Re-evaluates the model of a run folder on a split of its dataset.

    Args:
        directory: String, a run folder written by `keras-vae train`.
        split: String, `"test"` or `"train"`.
        iw_samples: Integer k of the importance-weighted bound on -log p(x);
            `0` skips it.
        say: Callable for progress lines.
        latent_mixture: Integer; if positive, a conditional run's samples are
            also judged with z from a mixture of that many components fitted
            now to the run's training codes (not saved), instead of the
            run's own `latent_mixture.npz`.
        temperature: Float >= 0, the temperature of a conditional run's
            judged samples (`sample`'s); `None`: the model's
            `sample_temperature`.

    Returns:
        Tuple `(metrics, config)`: a dict (the ELBO terms, the values of
        `latent_summary` and, for a conditional run, of
        `conditional_summary`) and the run's settings. A conditional run's
        sample classifier is trained on first use and cached outside the run
        folder (`run_classifier`): evaluation writes nothing into the run.

    Raises:
        ValueError: if the folder is not a complete run, its model cannot be
            loaded (a class that is not importable here), or the split is
            unknown.
    """
    if split not in ("test", "train"):
        raise ValueError(f"Unknown split {split!r}. Expected 'test' or 'train'.")
    checks.positive_integer("iw_samples", iw_samples, minimum=0)
    checks.positive_integer("latent_mixture", latent_mixture, minimum=0)
    if temperature is not None:
        temperature = checks.finite_number("temperature", temperature, 0)
    run = inference.load_run(directory)
    config, model = run.config, run.model
    preprocessing = model.preprocessing
    if latent_mixture and config["model"] != "cvae":
        raise ValueError(
            "`latent_mixture` judges conditioned samples: it needs a cvae run; "
            f"{directory} holds a {config['model']} run."
        )
    if temperature is not None and config["model"] != "cvae":
        raise ValueError(
            "`temperature` sets the spread of the judged conditioned samples: it "
            f"needs a cvae run; {directory} holds a {config['model']} run."
        )
    data = training.load_named(config["dataset_used"], config)
    if not isinstance(data.x_test, np.ndarray):
        # A folder of image files: the measures below (and a conditional run's
        # classifier) take arrays, so the images they use are read here.
        needs_train = split == "train" or config["model"] == "cvae"
        data = dataclasses.replace(
            data,
            x_test=np.asarray(data.x_test),
            x_train=np.asarray(data.x_train) if needs_train else data.x_train,
        )
    x, y, factors = (
        (data.x_test, data.y_test, data.factors_test)
        if split == "test"
        else (data.x_train, data.y_train, data.factors_train)
    )
    if isinstance(x, PackedImages) and len(x) > MAX_PACKED_IMAGES:
        subset = splits.stratified_subset(y, MAX_PACKED_IMAGES, config["seed"])
        say(f"Evaluating a random {len(subset)} of the {len(x)} {split} images.")
        x, y = x[subset], y[subset]
        factors = None if factors is None else factors[subset]
    seed = config["seed"] + (1 if split == "test" else 0)
    inputs = training.model_inputs(config, preprocessing, x, y, seed)
    metrics = training.evaluate_split(model, inputs)
    if iw_samples:
        # The longest step: k decodings of every image.
        twice = (
            ", of the pixels and of the dequantized pixels"
            if _is_density_of_pixels(model)
            else ""
        )
        say(
            f"The importance-weighted bound on -log p(x) of the {len(x)} {split} "
            f"images: {iw_samples} decodings each{twice} (--iw-samples 0 skips it)."
        )
    metrics.update(latent_summary(model, inputs, iw_samples, seed=config["seed"]))
    if factors is not None:
        say(
            f"Disentanglement metrics of the {len(x)} posterior means against the "
            f"dataset's factors ({', '.join(data.factor_names)})."
        )
        codes = model.encode(x, labels=y if config["model"] == "cvae" else None)[0]
        metrics["disentanglement"] = evaluation.disentanglement_metrics(
            codes.reshape(len(codes), -1), factors, seed=config["seed"]
        )
    if config["model"] == "cvae":
        classifier = run_classifier(directory, data, say=say)
        density = model.latent_mixture
        if latent_mixture:
            say(
                f"Fitting a {latent_mixture}-component Gaussian mixture per class to "
                "the codes of the run's training images."
            )
            density = training.fit_latent_mixture(model, config, data, latent_mixture)
        metrics.update(
            conditional_summary(
                model,
                classifier,
                data.x_test,
                data.y_test,
                preprocessing,
                config["seed"],
                density,
                model.sample_temperature if temperature is None else temperature,
            )
        )
    return metrics, config


def run_classifier(directory, data, say=print):
    """The classifier that judges a conditional run's samples.

    Trained on the run's training images (pixels in [0, 1]) once per dataset
    and kept in the user's cache folder (`cache_folder`), keyed by the data
    itself, so that runs of one dataset share it and a read-only run folder
    can be evaluated. A run folder written by an earlier release may hold its
    own `classifier.keras`, which is used instead.
    """
    legacy = os.path.join(directory, CLASSIFIER_FILE)
    if os.path.isfile(legacy):
        return _load_classifier(legacy)
    folder = os.path.join(cache_folder(), "classifiers")
    path = os.path.join(folder, f"{_fingerprint(data)}.keras")
    if os.path.isfile(path):
        try:
            return _load_classifier(path)
        except (OSError, ValueError, TypeError, KeyError):
            pass  # a damaged cache entry is trained again
    say(
        f"Training the classifier that judges conditional samples on "
        f"{len(data.x_train)} training images (once per dataset; cached in "
        f"{folder})."
    )
    classifier = evaluation.train_classifier(
        data.x_train, data.y_train, data.num_classes
    )
    try:
        os.makedirs(folder, exist_ok=True)
        with atomic_path(path) as temporary:
            classifier.save(temporary)
    except OSError as error:
        say(f"The classifier is not cached: {describe_os_error(error)}")
    return classifier


def _load_classifier(path):
    # Compiled here, for this backend: not with the settings of the backend
    # that trained it.
    classifier = keras.models.load_model(path, compile=False)
    return conditional_samples.compile_classifier(classifier)


def _fingerprint(data):
    """A name for the classifier of `data`: a digest of its training images and
    labels, and of the classifier's recipe."""
    digest = hashlib.sha256(b"train_classifier-1")
    for array in (data.x_train, data.y_train):
        array = np.ascontiguousarray(array)
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(memoryview(array).cast("B"))
    return digest.hexdigest()[:32]


def conditional_summary(
    model,
    classifier,
    x_test,
    y_test,
    preprocessing,
    seed=0,
    density=None,
    temperature=1.0,
):
    """Label fidelity and within-class diversity of a CVAE's samples, beside
    the classifier's accuracy on the real test images (pixels in [0, 1]).

    Samples are drawn from the prior; with a `density` (`LatentMixture`),
    also from it, under keys prefixed `mixture_`; both at `temperature`."""
    accuracy = classifier.evaluate(x_test, y_test, verbose=0, return_dict=True)
    result = {}
    sources = [("", None)] + ([("mixture_", density)] if density is not None else [])
    for prefix, source in sources:
        fidelity, fidelity_per_class = evaluation.label_fidelity(
            model,
            classifier,
            SAMPLES_PER_CLASS,
            seed,
            preprocessing.to_pixels,
            density=source,
            temperature=temperature,
        )
        diversity, diversity_per_class = evaluation.within_class_diversity(
            model,
            classifier,
            x_test,
            y_test,
            SAMPLES_PER_CLASS,
            seed,
            preprocessing.to_pixels,
            density=source,
            temperature=temperature,
        )
        result.update(
            {
                f"{prefix}label_fidelity": fidelity,
                f"{prefix}label_fidelity_per_class": _rounded(fidelity_per_class),
                f"{prefix}within_class_diversity": diversity,
                f"{prefix}within_class_diversity_per_class": _rounded(
                    diversity_per_class
                ),
            }
        )
    if density is not None:
        result["mixture_components"] = density.components
    # The same measures on reconstructions of real test images: what prior
    # samples of this decoder could reach if they landed where real codes do.
    subset = splits.stratified_subset(
        y_test, SAMPLES_PER_CLASS * model.num_classes, seed
    )
    reconstructions = preprocessing.to_pixels(
        model.reconstruct(
            preprocessing.transform(x_test[subset], seed),
            labels=y_test[subset],
            raw=True,
        )
    ).reshape(x_test[subset].shape)
    reconstruction_fidelity, _ = conditional_samples.classified_as(
        classifier, reconstructions, y_test[subset], model.num_classes
    )
    reconstruction_diversity, _ = conditional_samples.spread_ratios(
        classifier,
        reconstructions,
        y_test[subset],
        x_test,
        y_test,
        model.num_classes,
        SAMPLES_PER_CLASS,
        seed,
    )
    return {
        "classifier_accuracy": float(accuracy["accuracy"]),
        "reconstruction_label_fidelity": reconstruction_fidelity,
        "reconstruction_diversity": reconstruction_diversity,
        **result,
        "samples_per_class": SAMPLES_PER_CLASS,
        "temperature": temperature,
    }


def _rounded(values):
    return [round(float(value), 4) for value in values]
