import math

import keras
import numpy as np
from keras import ops

from keras_vae import checks
from keras_vae import parameterization as param_lib
from keras_vae.evaluation.inputs import model_inputs


def posteriors(function, model, x, labels, batch_size):
    """Checked inputs' posterior means and sigmas, flattened: NumPy `(n, d)` each.

    The one encoder pass that the statistics below share; `function` names
    the caller in error messages.
    """
    x, labels = model_inputs(function, model, x, labels)
    mean, sigma = model.encode(x, labels=labels, batch_size=batch_size, raw=True)
    return (
        mean.reshape(len(mean), -1).astype("float32"),
        sigma.reshape(len(sigma), -1).astype("float32"),
    )


def active_units_of(mean, threshold):
    """`(count, variances)` of posterior means `(n, d)`; see `active_units`."""
    variances = mean.var(axis=0)
    return int(np.count_nonzero(variances > threshold)), variances


def kl_per_dimension_of(mean, sigma):
    """Average KL of every dimension of posteriors `(n, d)`; see `kl_per_dimension`."""
    log_variance = 2.0 * np.log(sigma)
    per_dimension = param_lib.kl_divergence_per_dimension(mean, log_variance, "log_var")
    return ops.convert_to_numpy(ops.mean(per_dimension, axis=0)).astype("float32")


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
    mean, _ = posteriors("active_units", model, x, labels, batch_size)
    return active_units_of(mean, threshold)


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
    return kl_per_dimension_of(
        *posteriors("kl_per_dimension", model, x, labels, batch_size)
    )


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
    return mutual_information_of(
        *posteriors("mutual_information", model, x, labels, batch_size), seed
    )


def mutual_information_of(mean, sigma, seed=0):
    """I(x; z) estimate from posteriors `(n, d)`; see `mutual_information`."""
    n = len(mean)
    if n < 2:
        raise ValueError(
            f"`mutual_information` needs at least 2 examples. Received: {n}"
        )
    noise = ops.convert_to_numpy(
        keras.random.normal(mean.shape, seed=keras.random.SeedGenerator(seed))
    )
    z = mean + sigma * noise
    # log q(z_i | x_i) of the same samples: the two terms' noise cancels.
    log_posterior = np.sum(
        -0.5 * (np.square(noise) + param_lib.LOG_2PI) - np.log(sigma), axis=1
    )
    means, sigmas = ops.convert_to_tensor(mean), ops.convert_to_tensor(sigma)
    log_normalizer = (
        -ops.sum(ops.log(sigmas), axis=1) - 0.5 * mean.shape[1] * param_lib.LOG_2PI
    )
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
