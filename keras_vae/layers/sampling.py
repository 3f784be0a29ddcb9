import keras
from keras import ops

from keras_vae import parameterization as param_lib


@keras.saving.register_keras_serializable(package="keras_vae")
class Sampling(keras.layers.Layer):
    """Draws z ~ N(mu, sigma^2) with the reparameterization trick.

    Computes z = mu + sigma * epsilon with epsilon ~ N(0, I), so gradients flow
    to both the mean and the raw scale. sigma is derived from the raw scale by
    the chosen parameterization: `"softplus"` (sigma = softplus(rho), the
    default, found more stable in training) or `"log_var"`
    (sigma = exp(log_var / 2)).

    Unlike noise layers such as `GaussianNoise`, sampling is part of the model
    rather than a regularizer, so by default the layer keeps sampling at
    inference (`training=False`) too. Set `sample_at_inference=False` to return
    the mean instead outside of training, for deterministic predictions.

    Reference:
        Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014.

    Args:
        parameterization: String, how the raw scale maps to sigma: `"softplus"`
            or `"log_var"`. Defaults to `"softplus"`.
        sample_at_inference: Boolean, whether to sample when `training=False`.
            If `False`, the mean is returned outside of training. Defaults to
            `True`.
        seed: Integer or `None`, seed of the layer's random number generator.
            Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: List of two tensors `[mean, raw_scale]` of equal shape.
        training: Python boolean, whether the layer runs in training mode.

    Input shape:
        Two tensors of equal shape `(batch_size, latent_dim)` (any rank works).

    Output shape:
        Same shape as `mean`, in the dtype of `mean`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    layer = keras_vae.layers.Sampling(seed=1)
    mean = np.zeros((4, 2), "float32")
    raw_scale = np.zeros((4, 2), "float32")
    z = layer([mean, raw_scale])  # sigma = softplus(0) ~ 0.69
    print(z.shape)  # (4, 2)
    ```
    """

    def __init__(
        self,
        parameterization="softplus",
        sample_at_inference=True,
        seed=None,
        **kwargs,
    ):
        param_lib.validate_parameterization(parameterization)
        if not isinstance(sample_at_inference, bool):
            raise TypeError(
                "Invalid value received for argument `sample_at_inference`. "
                "Expected a boolean. "
                f"Received: sample_at_inference={sample_at_inference!r}"
            )
        super().__init__(**kwargs)
        self.parameterization = parameterization
        self.sample_at_inference = sample_at_inference
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        param_lib.check_mean_and_scale_shapes(self.name, input_shape)

    def call(self, inputs, training=False):
        mean, raw_scale = inputs
        if not training and not self.sample_at_inference:
            return mean
        epsilon = keras.random.normal(
            ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator
        )
        sigma = param_lib.scale(ops.cast(raw_scale, mean.dtype), self.parameterization)
        return mean + sigma * epsilon

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {
            **super().get_config(),
            "parameterization": self.parameterization,
            "sample_at_inference": self.sample_at_inference,
            "seed": self.seed,
        }
