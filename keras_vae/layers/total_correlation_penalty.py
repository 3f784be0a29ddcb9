import keras
from keras import ops

from keras_vae import checks
from keras_vae.layers.latent_penalty import LatentPenalty, gaussian_log_density


@keras.saving.register_keras_serializable(package="keras_vae")
class TotalCorrelationPenalty(LatentPenalty):
    """The β-TCVAE penalty: `weight` times the total correlation of the codes.

    The KL term of the ELBO, averaged over the data, splits into the
    index-code mutual information, the total correlation
    `TC = KL(q(z) || prod_j q(z_j))` and the dimension-wise KL (Chen et al.
    2018). β-TCVAE weights the total correlation by β and the others by 1:
    with the model's KL weight at 1, a penalty of weight `β - 1` on the
    total correlation gives that objective (as disentanglement_lib trains it).

    The aggregate posterior q(z) is estimated on the batch: for each code z_i
    of a batch of M, `log q(z_i) ~ logsumexp_j log q(z_i | x_j) - log M`
    (the batch's mixture of posteriors), and likewise per dimension for
    `log q(z_ij)`; the estimate then reads 0 for independent codes (such as
    collapsed posteriors). Chen et al.'s minibatch weighted sampling
    subtracts `log(N M)` instead, N the size of the training set, which adds
    the constant `(latent_dim - 1) log N`: the same gradients, so the same
    training. Give `dataset_size` to report their value.

    Reference:
        Chen et al., "Isolating Sources of Disentanglement in Variational
        Autoencoders", NeurIPS 2018.

    Args:
        weight: Float, the weight of the total correlation on top of the KL
            term's own (β - 1 for a β-TCVAE of β), `>= 0`. Defaults to `5.0`
            (β = 6, Chen et al.'s dSprites setting).
        dataset_size: Integer or `None`, N, the number of training examples,
            for minibatch weighted sampling's value. Defaults to `None` (the
            batch's mixture).
        parameterization: String, how a raw scale maps to sigma when called
            on `[mean, raw_scale, z]`. Defaults to `"softplus"`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: List `[mean, raw_scale, z]` of tensors
            `(batch_size, latent_dim)`.
        training: Python boolean, whether the layer runs in training mode.

    Output shape:
        The same three tensors, unchanged.

    Example:

    ```python
    import numpy as np
    import keras_vae

    encoder, decoder = keras_vae.architectures.mlp(input_shape=(8, 8), latent_dim=4)
    penalty = keras_vae.layers.TotalCorrelationPenalty(weight=5.0)
    vae = keras_vae.models.VAE(encoder, decoder, penalty=penalty)
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(256, 8, 8)).astype("float32")
    history = vae.fit(x, epochs=1, batch_size=64, verbose=0)
    print(sorted(history.history))  # [..., 'total_correlation']
    ```
    """

    term_names = ("total_correlation",)

    def __init__(self, weight=5.0, dataset_size=None, **kwargs):
        if dataset_size is not None:
            dataset_size = checks.positive_integer("dataset_size", dataset_size)
        super().__init__(weight, **kwargs)
        self.dataset_size = dataset_size

    def penalty_terms(self, mean, sigma, z, training=False):
        # log q(z_i | x_j) per dimension: (M codes, M posteriors, latent_dim).
        log_densities = gaussian_log_density(
            ops.expand_dims(z, 1), ops.expand_dims(mean, 0), ops.expand_dims(sigma, 0)
        )
        log_joint = ops.logsumexp(ops.sum(log_densities, axis=2), axis=1)
        log_marginals = ops.sum(ops.logsumexp(log_densities, axis=1), axis=1)
        size = ops.cast(ops.shape(z)[0], "float32")
        if self.dataset_size is not None:
            size = size * self.dataset_size
        dimensions = ops.cast(ops.shape(z)[1] - 1, "float32")
        total_correlation = ops.mean(log_joint - log_marginals) + dimensions * ops.log(
            size
        )
        return {
            "penalty": self.weight * total_correlation,
            "total_correlation": total_correlation,
        }

    def get_config(self):
        return {**super().get_config(), "dataset_size": self.dataset_size}
