"""What a VAE says about each input: the summary statistics the scores use."""

import concurrent.futures
import io
import math
import os
import weakref
import zlib

import keras
import numpy as np
from keras import ops

from keras_vae import checks, defaults
from keras_vae import parameterization as param_lib
from keras_vae.models import VAE

# Per example: the KL term (rate), -log p(x|z) for one posterior sample
# (distortion), sum of log sigma, squared norm of the posterior mean, the
# input's compressed length in bits (Serra et al. 2020), and the summed
# absolute difference between the input and the mean of p(x|z) at that
# sample, in pixels (data space without a preprocessing).
STATISTICS = (
    "rate",
    "distortion",
    "log_sigma",
    "code_norm",
    "complexity",
    "absolute_error",
)
# The statistics of a detector calibrated before `absolute_error` existed.
FIRST_STATISTICS = STATISTICS[:5]


def check_model(function, model):
    if not isinstance(model, VAE):
        raise TypeError(
            f"`{function}` expects a keras_vae `VAE` or `ConditionalVAE`. "
            f"Received: model={model!r:.100}"
        )
    model._require_built()


def check_pixels(function, model, x, raw=False):
    """`x` as float32, with the model's image shape; pixels in [0, 1] unless raw."""
    x = np.asarray(x, "float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"`{function}` expects a non-empty batch of images of shape "
            f"(n,) + {model.data_shape}. Received: x.shape={x.shape}"
        )
    if tuple(x.shape[1:]) != tuple(model.data_shape):
        raise ValueError(
            f"`{function}`: the model takes images of shape {model.data_shape}. "
            f"Received: images of shape {tuple(x.shape[1:])}."
        )
    if not np.isfinite(x).all():
        raise ValueError(f"`{function}`: `x` holds NaN or infinite values.")
    return x


def check_labels(model, labels, count):
    """A conditional model's labels as int32, or `None` (marginalise)."""
    if labels is None:
        return None
    if not model.conditional:
        raise ValueError(
            "Received `labels` for an unconditional VAE. Pass labels=None, or "
            "score with a ConditionalVAE."
        )
    return checks.class_labels(labels, model.num_classes, count=count)


def compressed_bits(pixels):
    """Each image's length in bits as a PNG of 8-bit pixels (zlib beyond 4
    channels): the input complexity L(x) of Serra et al. (ICLR 2020).

    Args:
        pixels: Array `(n, height, width, channels)` (or `(n, height, width)`)
            of values in [0, 1].

    Returns:
        NumPy float32 array `(n,)`.
    """
    from PIL import Image

    pixels = np.asarray(pixels)
    if pixels.size and (pixels.min() < 0 or pixels.max() > 1):
        raise ValueError(
            "Input complexity compresses 8-bit images: expected pixels in [0, 1]. "
            f"Received values in [{pixels.min():g}, {pixels.max():g}]. Give the "
            "model a keras_vae.datasets.Preprocessing, or pass pixels."
        )
    images = np.round(pixels * 255).astype("uint8")
    if images.ndim == 4 and images.shape[-1] in (1, 3, 4):
        images = images[..., 0] if images.shape[-1] == 1 else images

        def length(image):
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, "PNG", optimize=True)
            return len(buffer.getvalue())

    else:

        def length(image):
            return len(zlib.compress(image.tobytes(), 9))

    return 8 * np.asarray(_on_every_core(length, images), "float32")


def _on_every_core(function, items, smallest=256):
    """`[function(item) for item in items]`, the items split among a thread
    per core: PNG and zlib compression release the GIL (6,000 Fashion-MNIST
    images as PNG: 0.37-0.41 s on one thread, 0.22-0.25 s on two)."""
    workers = min(os.cpu_count() or 1, len(items) // smallest)
    if workers < 2:
        return [function(item) for item in items]
    chunks = np.array_split(np.arange(len(items)), workers)
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        parts = pool.map(lambda chunk: [function(items[i]) for i in chunk], chunks)
        return [value for part in parts for value in part]


def summary_statistics(
    model, x, labels=None, batch_size=defaults.INFERENCE_BATCH_SIZE, seed=0, raw=False
):
    """The statistics `STATISTICS` of every input, in data space.

    Args:
        model: A built `VAE` or `ConditionalVAE`.
        x: Array of images in data space (pixels in [0, 1] with a
            preprocessing).
        labels: A conditional model's labels, one per image.
        batch_size: Integer, images per call of the networks.
        seed: Integer, seed of the posterior samples.
        raw: Boolean, `x` are the networks' inputs (no preprocessing).

    Returns:
        Dict of NumPy float32 arrays `(n,)`, one per statistic.
    """
    statistics, _ = _statistics_and_codes(model, x, labels, batch_size, seed, raw)
    return statistics


def feature_encoder(model):
    """The model's encoder with a third output: the input of the layer that
    outputs the posterior mean (the encoder's last hidden representation),
    flattened. The 'knn' score describes images by it. Falls back to the
    posterior mean itself when the encoder has no such layer to read (a
    subclassed encoder, or a head of several inputs)."""
    encoder = model.encoder
    if encoder not in _FEATURE_ENCODERS:
        hidden = _mean_head_input(encoder)
        if hidden is None:
            _FEATURE_ENCODERS[encoder] = None
        else:
            if len(hidden.shape) != 2:
                hidden = keras.layers.Flatten()(hidden)
            _FEATURE_ENCODERS[encoder] = keras.Model(
                encoder.input, [*encoder.outputs, hidden]
            )
    return _FEATURE_ENCODERS[encoder]


# Encoders' feature models, built once per encoder.
_FEATURE_ENCODERS = weakref.WeakKeyDictionary()


def _mean_head_input(encoder):
    outputs = getattr(encoder, "outputs", None)
    history = getattr(outputs[0], "_keras_history", None) if outputs else None
    if history is None or history.operation is None:
        return None
    tensors = history.operation._inbound_nodes[history.node_index].input_tensors
    return tensors[0] if len(tensors) == 1 else None


def _statistics_and_codes(
    model, x, labels, batch_size, seed, raw, bits=None, features=None
):
    """`summary_statistics`, and the posterior means, flattened `(n, d)`;
    `bits`, the inputs' compressed lengths when already known. With
    `features`, a function of a batch of `feature_encoder`'s hidden
    representations, also its values under `"features"`."""
    batch_size = checks.positive_integer("batch_size", batch_size)
    inputs = model._inputs(x, raw)
    extended = None if features is None else feature_encoder(model)
    pixels = x
    if model.preprocessing is not None and raw:
        pixels = model.preprocessing.to_pixels(x)
    noise = np.random.default_rng(seed).standard_normal(
        (len(x),) + model.latent_shape, dtype="float32"
    )
    parts = []
    for start in range(0, len(x), batch_size):
        window = slice(start, start + batch_size)
        batch_labels = None if labels is None else labels[window]
        encoder_inputs = model._encoder_inputs(inputs[window], batch_labels)
        if extended is None:
            mean, raw_scale = model.encoder.predict_on_batch(encoder_inputs)
            hidden = mean
        else:
            mean, raw_scale, hidden = extended.predict_on_batch(encoder_inputs)
        sigma = ops.convert_to_numpy(param_lib.scale(raw_scale, model.parameterization))
        z = mean + sigma * noise[window]
        rate = model.latent_kl_divergence(mean, raw_scale, z, batch_labels)
        outputs = model.decoder.predict_on_batch(model._decoder_inputs(z, batch_labels))
        distortion = model.likelihood.negative_log_likelihood(inputs[window], outputs)
        reconstruction = ops.convert_to_numpy(model.likelihood.mean(outputs))
        if model.preprocessing is not None:
            reconstruction = model.preprocessing.to_pixels(reconstruction)
        error = np.abs(reconstruction - pixels[window]).reshape(len(reconstruction), -1)
        axes = tuple(range(1, mean.ndim))
        parts.append(
            (
                ops.convert_to_numpy(rate),
                ops.convert_to_numpy(distortion),
                np.log(sigma).sum(axes),
                np.square(mean).sum(axes),
                error.sum(1),
                mean.reshape(len(mean), -1),
                None if features is None else features(hidden.reshape(len(mean), -1)),
            )
        )
    names = (
        "rate",
        "distortion",
        "log_sigma",
        "code_norm",
        "absolute_error",
        "codes",
        "features",
    )
    columns = {
        name: np.concatenate(column)
        for name, column in zip(names, zip(*parts, strict=True), strict=True)
        if column[0] is not None
    }
    columns["complexity"] = compressed_bits(pixels) if bits is None else bits
    statistics = {name: np.asarray(columns[name], "float32") for name in STATISTICS}
    if features is not None:
        statistics["features"] = np.asarray(columns["features"], "float32")
    return statistics, columns["codes"].astype("float32")


def scored_statistics(
    model,
    x,
    labels=None,
    batch_size=defaults.INFERENCE_BATCH_SIZE,
    seed=0,
    raw=False,
    features=None,
):
    """The statistics the scores use, and the -ELBO.

    A conditional model without labels marginalises over its classes: the
    -ELBO is -log sum_y exp(ELBO(x, y)) / C (a uniform p(y)), and the other
    statistics are those of the most probable class.

    Returns:
        Tuple `(statistics, negative_elbo, labels, class_elbos)`: the
        statistics with, under `"codes"`, the posterior means `(n, d)`; the
        labels given, or the most probable classes, or `None` for an
        unconditional model; `class_elbos`, the `(n, num_classes)` -ELBO
        under every class when marginalising, else `None`. With `features`
        (see `_statistics_and_codes`), the statistics hold `"features"` too.
    """
    if not (model.conditional and labels is None):
        statistics, codes = _statistics_and_codes(
            model, x, labels, batch_size, seed, raw, features=features
        )
        elbo = statistics["rate"] + statistics["distortion"]
        return {**statistics, "codes": codes}, elbo, labels, None
    per_class = []
    for k in range(model.num_classes):
        # The input's complexity does not depend on the class: compressed once.
        bits = per_class[0][0]["complexity"] if per_class else None
        per_class.append(
            _statistics_and_codes(
                model,
                x,
                np.full(len(x), k, "int32"),
                batch_size,
                seed,
                raw,
                bits,
                features,
            )
        )
    elbos = np.stack([s["rate"] + s["distortion"] for s, _ in per_class], 1)
    labels = np.argmin(elbos, axis=1).astype("int32")
    chosen = STATISTICS + (() if features is None else ("features",))
    statistics = {
        name: np.stack([s[name] for s, _ in per_class], 1)[np.arange(len(x)), labels]
        for name in chosen
    }
    codes = np.stack([c for _, c in per_class], 1)
    statistics["codes"] = codes[np.arange(len(x)), labels]
    return statistics, marginal(elbos), labels, elbos


def class_entropy(negative_elbos):
    """The entropy in nats of p(y|x) ∝ exp(-negative_elbos[:, y]) (a uniform
    p(y)): `(n, C)` -> `(n,)`, from 0 (one class) to log C (none)."""
    values = -np.asarray(negative_elbos, "float64")
    values -= values.max(axis=1, keepdims=True)
    probabilities = np.exp(values)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    logs = np.log(np.maximum(probabilities, np.finfo("float64").tiny))
    return (-(probabilities * logs).sum(axis=1)).astype("float32")


def marginal(negative_elbos):
    """-log (1/C) sum_y exp(-negative_elbos[:, y]), stably: `(n, C)` -> `(n,)`."""
    values = -np.asarray(negative_elbos, "float64")
    top = values.max(axis=1)
    log_sum = top + np.log(np.exp(values - top[:, None]).sum(axis=1))
    return (math.log(values.shape[1]) - log_sum).astype("float32")
