import math

import keras
import numpy as np
from keras import ops

from keras_vae import checks
from keras_vae import parameterization as param_lib
from keras_vae.datasets.preprocessing import LEVELS_8_BIT
from keras_vae.evaluation.inputs import model_inputs
from keras_vae.models import utils


def importance_weighted_bound(
    model, x, labels=None, num_samples=100, batch_size=None, seed=0, dequantize=False
):
    """Importance-weighted upper bound on -log p(x), per example, in nats.

    With k samples z_i ~ q(z|x) (Burda et al. 2015),

        -log p(x) <= -log (1/k) sum_i p(x|z_i) p(z_i) / q(z_i|x),

    computed with a log-sum-exp in float32. k = 1 is a one-sample negative
    ELBO; the bound tightens (in expectation) as k grows and reaches
    -log p(x) as k -> infinity. Samples are processed in chunks so that
    k = 5000 fits in memory: about `batch_size` decoder passes at a time.

    Reference:
        Burda, Grosse and Salakhutdinov, "Importance Weighted Autoencoders",
        ICLR 2016.

    Args:
        model: A built `keras_vae.models.VAE` or `ConditionalVAE`.
        x: Array of inputs, as the model takes them (its targets too).
        labels: Array of labels for a `ConditionalVAE`, else `None`.
        num_samples: Integer k >= 1, importance samples per example.
            Defaults to `100`.
        batch_size: Integer or `None`, decoder passes per chunk. Defaults to
            `max(4096, num_samples)` rounded to whole examples.
        seed: Integer, seed of the samples; the same seed gives the same
            bound. Defaults to `0`.
        dequantize: Boolean, bound -log p of the inputs with each 8-bit pixel
            level spread uniformly over its bin (`model.dequantize_inputs`,
            one draw per example): for a density likelihood, the number that
            `bits_per_dimension(..., model=model)` turns into a bound on the
            bits of the 8-bit pixels. Defaults to `False` (the inputs as
            they are).

    Returns:
        NumPy float32 array `(n,)`: the bound of every example, in nats.

    Raises:
        TypeError: if `model` is not a keras_vae model.
        ValueError: if `num_samples < 1` or the data does not fit the model.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(32, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=2))
    vae.compile(optimizer="adam")
    vae.fit(x, epochs=1, verbose=0)
    bound = keras_vae.evaluation.importance_weighted_bound(vae, x, num_samples=50)
    elbo = keras_vae.evaluation.negative_elbo(vae, x)
    print(bound.shape, bound.mean() <= elbo.mean())  # (32,) True
    ```
    """
    num_samples = checks.positive_integer("num_samples", num_samples)
    x, labels = model_inputs("importance_weighted_bound", model, x, labels)
    batch_size = checks.positive_integer(
        "batch_size", max(4096, num_samples) if batch_size is None else batch_size
    )
    seed_generator = keras.random.SeedGenerator(seed)
    spread = _dequantizer(model, dequantize, seed)
    # Samples per example and chunk, and examples per chunk.
    chunk_samples = min(num_samples, batch_size)
    chunk_examples = max(1, batch_size // chunk_samples)

    def bound(x_batch, labels_batch):
        x_batch = spread(x_batch)
        mean, raw_scale = _encode(model, x_batch, labels_batch)
        sigma = param_lib.scale(ops.cast(raw_scale, "float32"), model.parameterization)
        mean = ops.cast(mean, "float32")
        total = None
        for done in range(0, num_samples, chunk_samples):
            k = min(chunk_samples, num_samples - done)
            log_weights = _log_weights(
                model, x_batch, labels_batch, mean, sigma, k, seed_generator
            )
            chunk = ops.logsumexp(log_weights, axis=0)
            total = chunk if total is None else ops.logaddexp(total, chunk)
        return math.log(num_samples) - total

    return utils.batched(bound, x, labels, chunk_examples, pad=True).astype("float32")


def _dequantizer(model, dequantize, seed):
    """The function that a bound applies to each batch of inputs: uniform
    dequantization with its own noise (the posterior samples stay those of
    the plain bound), or none."""
    if not dequantize:
        return lambda x: x
    model.dequantize_inputs(np.zeros((1, 1), "float32"), seed=0)  # Raises early.
    seed_generator = keras.random.SeedGenerator(seed + 1)

    def spread(x):
        return ops.convert_to_numpy(model.dequantize_inputs(x, seed=seed_generator))

    return spread


# The networks run through their compiled `predict_on_batch` (one compilation
# per batch shape, hence the padded batches) rather than op by op: on JAX an
# eager convolutional decoder is several times slower.
def _encode(model, x, labels):
    return model.encoder.predict_on_batch(model._encoder_inputs(x, labels))


def _decode(model, z, labels):
    return model.decoder.predict_on_batch(model._decoder_inputs(z, labels))


def _log_weights(model, x, labels, mean, sigma, k, seed_generator):
    """log p(x|z) + log p(z) - log q(z|x) for k samples: shape `(k, n)`."""
    noise, z = _posterior_samples(mean, sigma, k, seed_generator)
    latent_axes = tuple(range(2, len(noise.shape)))
    log_prior = _log_prior(model, z, labels)
    log_posterior = -0.5 * ops.sum(ops.square(noise) + param_lib.LOG_2PI, latent_axes)
    log_posterior -= ops.sum(ops.log(sigma), tuple(range(1, len(sigma.shape))))
    return _log_likelihoods(model, x, labels, z) + log_prior - log_posterior


def _log_prior(model, z, labels):
    """log p(z) under the model's prior, `z` of shape `(k, n, ...)`: `(k, n)`."""
    k, n = z.shape[:2]
    flat = ops.reshape(z, (k * n, -1))
    tiled_labels = None if labels is None else np.tile(labels, k)
    return ops.reshape(model.latent_log_prior(flat, tiled_labels), (k, n))


def _posterior_samples(mean, sigma, k, seed_generator):
    """k samples z ~ q(z|x) per example: `(noise, z)`, each `(k,) + mean.shape`."""
    noise = keras.random.normal((k,) + tuple(mean.shape), seed=seed_generator)
    return noise, mean[None] + sigma[None] * noise


def _log_likelihoods(model, x, labels, z):
    """log p(x|z) of k codes per example, `z` of shape `(k, n, ...)`: `(k, n)`,
    in one decoder pass."""
    k, n = z.shape[:2]
    tiled_labels = None if labels is None else np.tile(labels, k)
    flat_z = ops.convert_to_numpy(ops.reshape(z, (k * n,) + tuple(z.shape[2:])))
    outputs = _decode(model, flat_z, tiled_labels)
    targets = np.broadcast_to(x[None], (k,) + x.shape).reshape((k * n,) + x.shape[1:])
    return -ops.reshape(
        model.likelihood.negative_log_likelihood(targets, outputs), (k, n)
    )


def negative_elbo(
    model, x, labels=None, num_samples=1, batch_size=None, seed=0, dequantize=False
):
    """Negative ELBO per example, in nats: E_q[-log p(x|z)] + KL(q(z|x) || p(z)).

    The KL term is exact (closed form) under N(0, I) and a one-Gaussian
    `ClassPrior`, else
    averaged over the same samples as the reconstruction term, which averages
    `num_samples` posterior samples. At beta = 1 this is what `fit` and
    `evaluate` report as `elbo`, here per example.

    Args:
        model: A built `keras_vae.models.VAE` or `ConditionalVAE`.
        x: Array of inputs, as the model takes them (its targets too).
        labels: Array of labels for a `ConditionalVAE`, else `None`.
        num_samples: Integer >= 1, posterior samples of the reconstruction
            term. Defaults to `1`.
        batch_size: Integer or `None`, decoder passes per chunk (examples
            times samples). Defaults to `max(4096, num_samples)` rounded to
            whole examples.
        seed: Integer, seed of the samples. Defaults to `0`.
        dequantize: Boolean, evaluate the inputs with each 8-bit pixel level
            spread uniformly over its bin, as `importance_weighted_bound`
            does. Defaults to `False`.

    Returns:
        NumPy float32 array `(n,)`, in nats.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(32, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=2))
    vae.build(x.shape)
    per_example = keras_vae.evaluation.negative_elbo(vae, x, num_samples=10)
    print(per_example.shape)  # (32,)
    ```
    """
    num_samples = checks.positive_integer("num_samples", num_samples)
    x, labels = model_inputs("negative_elbo", model, x, labels)
    spread = _dequantizer(model, dequantize, seed)
    batch_size = checks.positive_integer(
        "batch_size", max(4096, num_samples) if batch_size is None else batch_size
    )
    seed_generator = keras.random.SeedGenerator(seed)
    chunk_samples = min(num_samples, batch_size)
    chunk_examples = max(1, batch_size // chunk_samples)

    def elbo(x_batch, labels_batch):
        x_batch = spread(x_batch)
        mean, raw_scale = _encode(model, x_batch, labels_batch)
        sigma = param_lib.scale(ops.cast(raw_scale, "float32"), model.parameterization)
        mean = ops.cast(mean, "float32")
        reconstruction = kl = 0.0
        for done in range(0, num_samples, chunk_samples):
            k = min(chunk_samples, num_samples - done)
            _, z = _posterior_samples(mean, sigma, k, seed_generator)
            log_likelihoods = _log_likelihoods(model, x_batch, labels_batch, z)
            reconstruction -= ops.sum(log_likelihoods, axis=0)
            if model.prior is not None:
                kl += _kl_estimates(model, mean, raw_scale, z, labels_batch)
        if model.prior is None:
            kl = param_lib.kl_divergence(mean, raw_scale, model.parameterization)
        else:
            kl = kl / num_samples
        return reconstruction / num_samples + kl

    return utils.batched(elbo, x, labels, chunk_examples, pad=True).astype("float32")


def _kl_estimates(model, mean, raw_scale, z, labels):
    """The KL term at each of k samples `z` `(k, n, ...)`, summed over k: `(n,)`."""
    k, n = z.shape[:2]
    tiled_labels = None if labels is None else np.tile(labels, k)
    flat = ops.reshape(z, (k * n, -1))
    estimates = model.latent_kl_divergence(
        ops.tile(ops.reshape(mean, (n, -1)), (k, 1)),
        ops.tile(ops.reshape(raw_scale, (n, -1)), (k, 1)),
        flat,
        tiled_labels,
    )
    return ops.sum(ops.reshape(estimates, (k, n)), axis=0)


def bits_per_dimension(nats, input_shape, model=None):
    """Converts nats per example to bits per data dimension.

    Without `model`, a plain change of units. With the model that gave the
    nats, the number becomes bits per dimension of the 8-bit pixels (256
    levels per value), comparable across likelihoods. A likelihood of
    discrete values (the discretized logistics; the Bernoulli of binarized
    pixels, whose bits are those of the binary images) already gives their
    probability. A density (the Gaussians on standardized pixels, the
    continuous Bernoulli on pixels in [0, 1]) gives -log p of points; with
    each level k spread uniformly over its bin [k, k + 1) / 256
    (`importance_weighted_bound(..., dequantize=True)`),

        -log P(pixels) <= E_u[-log p(dequantized pixels)] + D log 256

    (Theis et al. 2016), plus the standardization's log-Jacobian D log(std),
    which this function adds. So for a density, pass the nats of dequantized
    inputs. The nats of the exact 8-bit values bound nothing: a density fitted
    to them can peak at those values (the continuous Bernoulli on
    Fashion-MNIST puts a density above 256, a "mass" above 1, on 38 % of the
    test pixels, and its exact-value nats read 2.2 bits per pixel where its
    dequantized bound reads far more).

    Reference:
        Theis, van den Oord and Bethge, "A note on the evaluation of
        generative models", ICLR 2016.

    Args:
        nats: Float or array, a negative log-likelihood (or bound) per example:
            of dequantized inputs for a density likelihood, with `model`.
        input_shape: Tuple, the shape of one example (without the batch axis).
        model: A `VAE` or `ConditionalVAE` with a `preprocessing`, or `None`.

    Returns:
        Bits per dimension, of the type of `nats`.

    Raises:
        ValueError: if `input_shape` holds no value, `model` has no
            preprocessing to tell the pixels' scale, or its likelihood is a
            Bernoulli of pixels that are not binary (not a density).

    Example:

    ```python
    import keras_vae

    print(keras_vae.evaluation.bits_per_dimension(543.4, (28, 28, 1)))  # ~1.0
    ```
    """
    dimensions = int(np.prod(input_shape))
    if dimensions < 1:
        raise ValueError(
            f"Expected an input shape with at least one value. Received: {input_shape}"
        )
    if model is not None:
        nats = nats + _to_8_bit_mass(model, dimensions)
    return nats / (dimensions * math.log(2.0))


def _to_8_bit_mass(model, dimensions):
    """What turns the model's nats into -log of the 8-bit pixels' mass."""
    from keras_vae.likelihoods import Bernoulli

    preprocessing = getattr(model, "preprocessing", None)
    if preprocessing is None:
        raise ValueError(
            "bits_per_dimension(..., model=...) needs a model with a "
            "preprocessing (keras_vae.datasets.Preprocessing), which tells the "
            "pixels' scale; without one, leave `model` out."
        )
    grey = not preprocessing.binary
    if grey and type(model.likelihood) is Bernoulli:
        raise ValueError(
            "The Bernoulli likelihood of pixels that are not binary "
            f"(preprocessing {preprocessing.mode!r}) is not a normalized "
            "density: its nats have no bits per 8-bit pixel. Binarize the "
            "pixels, or use likelihood='continuous_bernoulli'."
        )
    if model.likelihood.discrete or not grey:
        return 0.0
    scale, _ = preprocessing.pixel_affine()
    return dimensions * (math.log(LEVELS_8_BIT + 1) + math.log(scale))
