import keras
from keras import ops

from keras_vae import checks
from keras_vae import parameterization as param_lib


@keras.saving.register_keras_serializable(package="keras_vae")
class Prior(keras.layers.Layer):
    """Base class of learned priors p(z): a mixture of diagonal Gaussians.

    A subclass says where its components come from by implementing
    `components(model, labels)`: the mixture weights' logits, the means and
    the standard deviations. This class turns them into what the model
    needs: `log_prob(z)`, `sample` and the KL term. A prior is a layer of the
    model (`VAE(..., prior=...)`): its weights train with the networks by the
    model's optimizer and are saved in the `.keras` file.

    A mixture has no closed-form KL divergence to the Gaussian posterior: the
    model's KL term is the one-sample estimate `log q(z|x) - log p(z)` at the
    posterior sample z, whose expectation is the KL divergence.

    Args:
        **kwargs: Base layer keyword arguments, such as `name`.
    """

    conditional = False

    def build(self, input_shape):
        """Creates the prior's weights.

        Args:
            input_shape: List `[x_shape, z_shape]`, the model's input shape and
                latent shape, each with the batch axis first.
        """
        x_shape, z_shape = input_shape
        self.data_shape, self.latent_shape = tuple(x_shape[1:]), tuple(z_shape[1:])

    def components(self, model, labels=None):
        """The mixture's parameters.

        Args:
            model: The `VAE` or `ConditionalVAE` whose prior this is.
            labels: Integer tensor `(n,)` of labels (conditional priors), or
                `None`.

        Returns:
            Tuple `(logits, means, sigmas)`: logits `(K,)`, means and sigmas
            `(K, latent_dim)`; with labels, each with a leading axis `n`.
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement components(model, labels)."
        )

    def log_prob(self, z, model, labels=None):
        """log p(z) in nats, summed over the latent dimensions.

        Args:
            z: Tensor `(n, latent_dim)`.
            model: The `VAE` or `ConditionalVAE` whose prior this is.
            labels: Integer tensor `(n,)` for a conditional prior, else `None`.

        Returns:
            Float32 tensor `(n,)`.
        """
        logits, means, sigmas = self.components(model, labels)
        z = ops.cast(z, "float32")[..., None, :]
        log_normal = -0.5 * ops.sum(
            ops.square((z - means) / sigmas) + param_lib.LOG_2PI, axis=-1
        ) - ops.sum(ops.log(sigmas), axis=-1)
        log_weights = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        return ops.logsumexp(log_normal + log_weights, axis=-1)

    def sample(self, count, model, labels=None, seed=None, temperature=1.0):
        """`count` draws of z from the prior.

        Args:
            count: Integer, how many codes.
            model: The `VAE` or `ConditionalVAE` whose prior this is.
            labels: Integer array `(count,)` for a conditional prior (other
                priors ignore it), or `None`.
            seed: Integer, a `keras.random.SeedGenerator`, or `None`.
            temperature: Float >= 0, the factor of every component's standard
                deviation: below 1 the draws stay nearer the components'
                means (more typical, less varied samples), 0 gives the means.
                Defaults to `1.0`, the prior itself.

        Returns:
            Float32 tensor `(count, latent_dim)`.
        """
        temperature = checks.finite_number("temperature", temperature, 0)
        if isinstance(seed, int):
            seed = keras.random.SeedGenerator(seed)
        logits, means, sigmas = self.components(model, labels)
        if not self.conditional:
            chosen = keras.random.categorical(logits[None], count, seed=seed)[0]
            means, sigmas = (
                ops.take(means, chosen, axis=0),
                ops.take(sigmas, chosen, axis=0),
            )
        else:
            chosen = keras.random.categorical(logits, 1, seed=seed)[:, 0]
            one_hot = ops.one_hot(chosen, ops.shape(logits)[-1])[..., None]
            means = ops.sum(means * one_hot, axis=1)
            sigmas = ops.sum(sigmas * one_hot, axis=1)
        noise = keras.random.normal(ops.shape(means), seed=seed)
        return means + (temperature * sigmas) * noise

    @property
    def description(self):
        """The prior in a few words, for titles: "a learned mixture of 10
        Gaussians"."""
        return type(self).__name__

    @property
    def closed_form_kl(self):
        """Whether `kl_divergence` is exact and needs no posterior sample."""
        return type(self).kl_divergence is not Prior.kl_divergence

    def kl_divergence(self, mean, sigma, z, model, labels=None):
        """One-sample estimate of KL(q(z|x) || p(z)) per example: log q(z|x) -
        log p(z) at z drawn from q.

        Args:
            mean: Tensor `(n, latent_dim)`, the posterior's means.
            sigma: Tensor `(n, latent_dim)`, its standard deviations.
            z: Tensor `(n, latent_dim)`, a posterior sample.
            model: The `VAE` or `ConditionalVAE` whose prior this is.
            labels: Integer tensor `(n,)` for a conditional prior, else `None`.

        Returns:
            Float32 tensor `(n,)`, in nats.
        """
        return log_posterior(mean, sigma, z) - self.log_prob(z, model, labels)

    def compute_output_shape(self, input_shape):
        return input_shape


def log_posterior(mean, sigma, z):
    """log q(z|x) of the diagonal Gaussian posterior, summed over the latent
    dimensions: float32 `(n,)`."""
    mean, sigma, z = (ops.cast(t, "float32") for t in (mean, sigma, z))
    return -0.5 * ops.sum(
        ops.square((z - mean) / sigma) + param_lib.LOG_2PI, axis=-1
    ) - ops.sum(ops.log(sigma), axis=-1)


def log_standard_normal(z):
    """log N(z; 0, I), summed over the latent dimensions: float32 `(n,)`."""
    z = ops.cast(z, "float32")
    return -0.5 * ops.sum(ops.square(z) + param_lib.LOG_2PI, axis=-1)
