from keras import ops


class Likelihood:
    """Base class of the decoder's output distribution p(x|z).

    A likelihood turns the decoder's raw output into a negative log-likelihood
    per example and into the distribution's mean in data space (what figures
    show). Subclasses implement `negative_log_likelihood` and `mean`, and
    `validate_targets` when only some target values are valid. Register a
    subclass with `keras.saving.register_keras_serializable` so that models
    using it save and load.

    Example:

    ```python
    import math

    import keras
    import numpy as np
    from keras import ops

    import keras_vae


    @keras.saving.register_keras_serializable(package="my_project")
    class Laplace(keras_vae.likelihoods.Likelihood):
        # Unit-scale Laplace: the absolute error plus log 2 per value.
        name = "laplace"

        def negative_log_likelihood(self, targets, outputs):
            error = ops.abs(targets - outputs)
            error = ops.reshape(error, (ops.shape(error)[0], -1))
            return ops.sum(error, axis=-1) + math.log(2.0) * error.shape[-1]

        def mean(self, outputs):
            return outputs


    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8), latent_dim=2), likelihood=Laplace()
    )
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(64, 8, 8)).astype("float32")
    vae.fit(x, epochs=1, verbose=0)
    ```
    """

    name = None
    # How many numbers the decoder outputs per value of the data: 1 (its
    # output has the data's shape), or more on a last axis of that size.
    parameters_per_value = 1
    # Whether it gives the probability of discrete values (the Bernoulli of
    # binary pixels, the discretized logistics), not a density: nothing to
    # dequantize, and its nats are already those of the values.
    discrete = False

    def parameter_shape(self, data_shape):
        """The decoder output's shape for one example of `data_shape`: the
        data's shape, with a last axis of `parameters_per_value` when a
        value has several parameters."""
        data_shape = tuple(data_shape)
        if self.parameters_per_value == 1:
            return data_shape
        return data_shape + (self.parameters_per_value,)

    def negative_log_likelihood(self, targets, outputs):
        """-log p(targets | outputs) per example, in nats.

        Args:
            targets: Tensor `(batch, ...)`, the data.
            outputs: Tensor `(batch,) + parameter_shape(...)`, the decoder's
                raw output (the data's shape for most likelihoods).

        Returns:
            Float32 tensor of shape `(batch,)`, summed over all non-batch axes.
        """
        raise NotImplementedError

    def mean(self, outputs):
        """The distribution's mean in data space, from the decoder's raw output."""
        raise NotImplementedError

    def validate_targets(self, targets):
        """Raises `ValueError` if a NumPy array holds values outside the support."""

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def sum_per_example(values):
    """Sums a `(batch, ...)` tensor over all but the batch axis, in float32."""
    values = ops.cast(values, "float32")
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)
