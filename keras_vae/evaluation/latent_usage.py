import math

import keras
import numpy as np
from keras import ops

from keras_vae import checks
from keras_vae import parameterization as param_lib
from keras_vae.evaluation.inputs import model_inputs


def _posteriors(function, model, x, labels, batch_size):
    """Posterior means and raw scales of `x`, flattened: NumPy `(n, d)` each."""
    x, labels = model_inputs(function, model, x, labels)
    checks.positive_integer("batch_size", batch_size)
    means, raw_scales = [], []
    for start in range(0, len(x), batch_size):
        labels_batch = None if labels is None else labels[start : start + batch_size]
        mean, raw_scale = model.encoder(
            model._encoder_inputs(x[start : start + batch_size], labels_batch),
            training=False,
        )
        means.append(ops.convert_to_numpy(ops.cast(mean, "float32")))
        raw_scales.append(ops.convert_to_numpy(ops.cast(raw_scale, "float32")))
    mean, raw_scale = np.concatenate(means), np.concatenate(raw_scales)
    return mean.reshape(len(mean), -1), raw_scale.reshape(len(raw_scale), -1)


def active_units(model, x, labels=None, threshold=0.01, batch_size=256):
    """Latent dimensions the encoder uses: Cov_x(E_q[z_j | x]) > `threshold`.

    A unit is active when its posterior mean varies across the data (Burda
    et al. 2015): a collapsed dimension has the same posterior for every
    input, N(0, 1), and carries no information.

    Reference:
        Burda, Grosse and Salakhutdinov, "Importance Weighted Autoencoders",
        ICLR 2016, section 5.2.

    Args:
        model: A built `keras_vae.models.VAE` or `ConditionalVAE`.
        x: Array of inputs (a few thousand examples are plenty).
        labels: Array of labels for a `ConditionalVAE`, else `None`.
        threshold: Float, the variance above which a unit counts as active.
            Defaults to `0.01`.
        batch_size: Integer, examples per encoder call. Defaults to `256`.

    Returns:
        Tuple `(count, variances)`: the number of active units (int) and the
        variance of every dimension's posterior mean (NumPy `(latent_dim,)`).

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(64, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=4))
    vae.build(x.shape)
    count, variances = keras_vae.evaluation.active_units(vae, x)
    print(count <= 4, variances.shape)  # True (4,)
    ```
    """
    threshold = checks.finite_number("threshold", threshold, 0)
    mean, _ = _posteriors("active_units", model, x, labels, batch_size)
    variances = mean.var(axis=0)
    return int(np.count_nonzero(variances > threshold)), variances


def kl_per_dimension(model, x, labels=None, batch_size=256):
    """Average KL(q(z_j|x) || N(0, 1)) of every latent dimension, in nats.

    Their sum is the KL term of the ELBO. A dimension near 0 nats is unused
    (its posterior equals the prior); free bits (`free_bits=`) keep each
    dimension's KL above a floor during training.

    Args:
        model: A built `keras_vae.models.VAE` or `ConditionalVAE`.
        x: Array of inputs.
        labels: Array of labels for a `ConditionalVAE`, else `None`.
        batch_size: Integer, examples per encoder call. Defaults to `256`.

    Returns:
        NumPy float32 array `(latent_dim,)`, in nats.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(64, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=4))
    vae.build(x.shape)
    print(keras_vae.evaluation.kl_per_dimension(vae, x).shape)  # (4,)
    ```
    """
    mean, raw_scale = _posteriors("kl_per_dimension", model, x, labels, batch_size)
    per_dimension = param_lib.kl_divergence_per_dimension(
        mean, raw_scale, model.parameterization
    )
    return ops.convert_to_numpy(ops.mean(per_dimension, axis=0)).astype("float32")


def mutual_information(model, x, labels=None, batch_size=256, seed=0):
    """Estimate of the mutual information I(x; z) under q, in nats.

    I(x; z) = E_x E_q(z|x)[log q(z|x) - log q(z)], where the aggregate
    posterior q(z) is the mixture of the posteriors of the `n` given
    examples (the estimator of Hoffman and Johnson 2016, used by He et al.
    2019 to detect posterior collapse). One sample z per example. The
    estimate cannot exceed log n: use a few thousand examples.

    Reference:
        Hoffman and Johnson, "ELBO surgery: yet another way to carve up the
        variational evidence lower bound", NeurIPS 2016 workshop.

    Args:
        model: A built `keras_vae.models.VAE` or `ConditionalVAE`.
        x: Array of inputs, `n >= 2` examples.
        labels: Array of labels for a `ConditionalVAE`, else `None`.
        batch_size: Integer, examples per encoder call. Defaults to `256`.
        seed: Integer, seed of the samples. Defaults to `0`.

    Returns:
        Float, the estimate in nats.

    Raises:
        ValueError: if fewer than 2 examples are given.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(500, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=4))
    vae.build(x.shape)
    print(keras_vae.evaluation.mutual_information(vae, x) <= np.log(len(x)))  # True
    ```
    """
    mean, raw_scale = _posteriors("mutual_information", model, x, labels, batch_size)
    n = len(mean)
    if n < 2:
        raise ValueError(
            f"`mutual_information` needs at least 2 examples. Received: {n}"
        )
    sigma = ops.convert_to_numpy(param_lib.scale(raw_scale, model.parameterization))
    noise = ops.convert_to_numpy(
        keras.random.normal(mean.shape, seed=keras.random.SeedGenerator(seed))
    )
    z = mean + sigma * noise
    log_2pi = math.log(2.0 * math.pi)
    # log q(z_i | x_i) of the same samples: the two terms' noise cancels.
    log_posterior = np.sum(-0.5 * (np.square(noise) + log_2pi) - np.log(sigma), axis=1)
    means, sigmas = ops.convert_to_tensor(mean), ops.convert_to_tensor(sigma)
    log_normalizer = -ops.sum(ops.log(sigmas), axis=1) - 0.5 * mean.shape[1] * log_2pi
    log_aggregate = []
    chunk = max(1, 2**24 // (n * mean.shape[1]))  # bounds the (chunk, n, d) tensor
    for start in range(0, n, chunk):
        z_batch = ops.convert_to_tensor(z[start : start + chunk])
        # log q(z_i | x_m) for every sample i of the chunk and every example m.
        standardized = (z_batch[:, None, :] - means[None]) / sigmas[None]
        log_densities = log_normalizer[None] - 0.5 * ops.sum(
            ops.square(standardized), axis=2
        )
        log_aggregate.append(
            ops.convert_to_numpy(ops.logsumexp(log_densities, axis=1)) - math.log(n)
        )
    return float(np.mean(log_posterior - np.concatenate(log_aggregate)))
