import keras
from keras import ops

from keras_vae import checks
from keras_vae.layers.latent_penalty import LatentPenalty

VARIANTS = ("i", "ii")


@keras.saving.register_keras_serializable(package="keras_vae")
class DIPPenalty(LatentPenalty):
    """The DIP-VAE penalty: the codes' covariance pulled towards the identity.

    Disentangled Inferred Prior (Kumar et al. 2018) matches the moments of
    the aggregate posterior q(z) to the prior's: with C the covariance
    estimated on the batch, the penalty is

        weight * sum_{i != j} C_ij^2 + diagonal_weight * sum_i (C_ii - 1)^2.

    DIP-VAE-I takes C = Cov[mean(x)], the covariance of the posterior means;
    DIP-VAE-II takes the covariance of q(z) itself,
    C = Cov[mean(x)] + E[diag(sigma(x)^2)]. The paper sets
    `diagonal_weight` to 10 times `weight` for I and equal to it for II.

    Reference:
        Kumar et al., "Variational Inference of Disentangled Latent Concepts
        from Unlabeled Observations", ICLR 2018.

    Args:
        weight: Float, lambda_od, the weight of the off-diagonal terms,
            `>= 0`. Defaults to `10.0`.
        variant: String, `"i"` or `"ii"`. Defaults to `"ii"`.
        diagonal_weight: Float or `None`, lambda_d, the weight of the diagonal
            terms. Defaults to `None`: `10 * weight` for `"i"`, `weight` for
            `"ii"`.
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

    penalty = keras_vae.layers.DIPPenalty(weight=1.0, variant="i")
    mean = np.array([[1.0, 1.0], [-1.0, -1.0]], "float32")  # Cov[mean] = ones
    raw_scale = np.zeros((2, 2), "float32")
    z = mean
    penalty([mean, raw_scale, z])
    print(float(penalty.losses[0]))  # 1 * (1 + 1) + 10 * (0 + 0) = 2.0
    ```
    """

    term_names = ("covariance_off_diagonal", "covariance_diagonal")

    def __init__(self, weight=10.0, variant="ii", diagonal_weight=None, **kwargs):
        if variant not in VARIANTS:
            raise ValueError(
                "Invalid value received for argument `variant`. Expected one of "
                f"{VARIANTS} (DIP-VAE-I or -II). Received: variant={variant!r}"
            )
        if diagonal_weight is not None:
            diagonal_weight = checks.finite_number(
                "diagonal_weight", diagonal_weight, 0
            )
        super().__init__(weight, **kwargs)
        self.variant = variant
        self.diagonal_weight = diagonal_weight

    def penalty_terms(self, mean, sigma, z, training=False):
        mean = ops.cast(mean, "float32")
        centred = mean - ops.mean(mean, axis=0, keepdims=True)
        count = ops.cast(ops.shape(mean)[0], "float32")
        covariance = ops.matmul(ops.transpose(centred), centred) / count
        if self.variant == "ii":
            variances = ops.mean(ops.square(ops.cast(sigma, "float32")), axis=0)
            covariance = covariance + ops.diag(variances)
        diagonal = ops.diagonal(covariance)
        off_diagonal = ops.sum(ops.square(covariance)) - ops.sum(ops.square(diagonal))
        diagonal = ops.sum(ops.square(diagonal - 1.0))
        diagonal_weight = self.diagonal_weight
        if diagonal_weight is None:
            diagonal_weight = self.weight * (10.0 if self.variant == "i" else 1.0)
        return {
            "penalty": self.weight * off_diagonal + diagonal_weight * diagonal,
            "covariance_off_diagonal": off_diagonal,
            "covariance_diagonal": diagonal,
        }

    def get_config(self):
        return {
            **super().get_config(),
            "variant": self.variant,
            "diagonal_weight": self.diagonal_weight,
        }
