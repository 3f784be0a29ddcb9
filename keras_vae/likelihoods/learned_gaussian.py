import math

import keras
from keras import ops

from keras_vae.likelihoods.likelihood import Likelihood, sum_per_example

SCALES = ("global", "pixel")


@keras.saving.register_keras_serializable(package="keras_vae")
class LearnedGaussian(keras.layers.Layer, Likelihood):
    """Gaussian pixels whose variance is learned; the decoder outputs means.

    -log p(x|z) = sum_i (x_i - mu_i)^2 / (2 sigma_i^2) + log sigma_i
    + 1/2 log(2 pi), with sigma learned with the networks: one sigma for every
    pixel (`scale="global"`), or one per pixel position (`scale="pixel"`),
    sigma = softplus(rho) + 1e-3, starting at the fixed likelihood's
    sigma^2 = 1/2. A fixed variance weighs the reconstruction against the KL
    term by an arbitrary constant; a learned one sets that weight to the
    data's own noise level (the "sigma-VAE" of Rybkin et al.) and makes the
    bound a better estimate of -log p(x).

    The likelihood is a layer of the model: its weights train with the
    networks and are saved in the `.keras` file.

    Reference:
        Rybkin, Daniilidis and Levine, "Simple and Effective VAE Training with
        Calibrated Decoders", ICML 2021.

    Args:
        scale: String, `"global"` (one sigma) or `"pixel"` (one per pixel
            position). Defaults to `"global"`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    likelihood = keras_vae.likelihoods.LearnedGaussian(scale="pixel")
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8), latent_dim=2), likelihood=likelihood
    )
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(64, 8, 8)).astype("float32")
    vae.fit(x, epochs=1, verbose=0)
    print(likelihood.sigma().shape)  # (8, 8): a sigma per pixel
    ```
    """

    def __init__(self, scale="global", **kwargs):
        if scale not in SCALES:
            raise ValueError(
                "Invalid value received for argument `scale`. Expected one of "
                f"{SCALES}. Received: scale={scale!r}"
            )
        kwargs.setdefault("name", f"gaussian_{scale}")
        super().__init__(**kwargs)
        self.scale = scale

    def build(self, data_shape):
        shape = () if self.scale == "global" else tuple(data_shape[1:])
        # softplus(rho) + 1e-3 = sqrt(1/2), the fixed likelihood's sigma.
        start = math.log(math.expm1(math.sqrt(0.5) - 1e-3))
        self.raw_scale = self.add_weight(
            shape=shape,
            initializer=keras.initializers.Constant(start),
            name="raw_scale",
        )

    def sigma(self):
        """The learned standard deviation(s), a tensor of the scale's shape."""
        return ops.softplus(ops.cast(self.raw_scale, "float32")) + 1e-3

    def negative_log_likelihood(self, targets, outputs):
        sigma = self.sigma()
        error = (ops.cast(targets, "float32") - ops.cast(outputs, "float32")) / sigma
        log_density = (
            -0.5 * ops.square(error) - ops.log(sigma) - 0.5 * math.log(2.0 * math.pi)
        )
        return -sum_per_example(log_density)

    def mean(self, outputs):
        return outputs

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}
