import math
import numbers

import keras
from keras import ops

from keras_vae import checks
from keras_vae import parameterization as param_lib


def validate_beta(beta):
    """Returns `beta` as a Python float if it is a finite number >= 0, else raises.

    Args:
        beta: Number, weight of the KL term.

    Returns:
        `beta` as a float.

    Raises:
        TypeError: if `beta` is not a real number.
        ValueError: if `beta` is negative, NaN or infinite.
    """
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(
            "Invalid value received for argument `beta`. Expected a non-negative "
            f"float. Received: beta={beta!r} of type {type(beta).__name__}"
        )
    if not math.isfinite(beta) or beta < 0:
        raise ValueError(
            "Invalid value received for argument `beta`. Expected a finite, "
            f"non-negative float (0 turns the KL term off). Received: beta={beta}"
        )
    return float(beta)


@keras.saving.register_keras_serializable(package="keras_vae")
class KLRegularizer(keras.layers.Layer):
    """Pass-through layer that adds beta * KL(q(z|x) || N(0, I)) to the losses.

    Takes the encoder's `[mean, raw_scale]`, returns them unchanged, and calls
    `add_loss` with beta times the closed-form KL divergence between the
    diagonal Gaussian posterior and the standard normal prior, summed over the
    latent dimensions and averaged over the batch, in nats.

    beta lives in a non-trainable variable, `layer.beta`, so that it can be
    changed while `fit` runs (for KL annealing or a beta schedule, see
    `keras_vae.callbacks.BetaScheduler`): a value assigned between two batches
    is used by the very next training step. Assign through the `beta`
    property (`layer.beta = 4.0`), which validates, or directly on the
    variable (`layer.beta.assign(4.0)`) from graph code.

    Two changes of the KL term against posterior collapse, both off by
    default:

    - **Free bits** (Kingma et al. 2016): each latent dimension's KL,
      averaged over the batch, counts as at least `free_bits` nats:
      the term is `sum_j max(free_bits, mean_batch KL_j)`. A dimension below
      the floor gets no gradient from the KL term, so the encoder may use it
      freely up to `free_bits` nats.
    - **Capacity** (Burgess et al. 2018): the term becomes `beta * |KL - C|`,
      which pulls the KL towards a target capacity `C` instead of towards
      zero. `C` lives in a non-trainable variable, `layer.capacity`, that
      `keras_vae.callbacks.CapacityScheduler` raises during training. Pass
      `capacity=0.0` to create it.

    The layer's loss is the training objective; the KL divergence itself (the
    number that enters the ELBO) is unchanged by both.

    References:
        Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
        Constrained Variational Framework", ICLR 2017.
        Kingma et al., "Improved Variational Inference with Inverse
        Autoregressive Flow", NeurIPS 2016 (free bits).
        Burgess et al., "Understanding disentangling in beta-VAE", 2018
        (capacity).

    Args:
        beta: Float, weight of the KL term. `0` turns it off. Defaults to `1.0`.
        parameterization: String, how the raw scale maps to sigma:
            `"softplus"` or `"log_var"`. Defaults to `"softplus"`.
        free_bits: Float, the KL floor per latent dimension in nats, `>= 0`.
            Defaults to `0.0` (off).
        capacity: Float or `None`, the initial KL target `C` in nats. `None`
            (the default) uses the plain `beta * KL`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: List of two tensors `[mean, raw_scale]` of equal shape.

    Input shape:
        Two tensors of equal shape `(batch_size, latent_dim)`.

    Output shape:
        The same two tensors, unchanged.

    Example:

    ```python
    import numpy as np
    import keras_vae

    layer = keras_vae.layers.KLRegularizer(beta=2.0, parameterization="log_var")
    mean = np.ones((3, 2), "float32")  # mu = 1 in both latent dimensions
    log_var = np.zeros((3, 2), "float32")  # sigma = 1
    mean_out, log_var_out = layer([mean, log_var])  # returned unchanged
    print(float(layer.losses[0]))  # beta * 0.5 * mu^2 * 2 dims = 2.0
    layer.beta = 0.5  # e.g. from a callback during fit

    floored = keras_vae.layers.KLRegularizer(free_bits=1.0, parameterization="log_var")
    floored([mean, log_var])
    print(float(floored.losses[0]))  # each dimension counts 1.0, not 0.5: 2.0
    ```
    """

    def __init__(
        self,
        beta=1.0,
        parameterization="softplus",
        free_bits=0.0,
        capacity=None,
        **kwargs,
    ):
        beta = validate_beta(beta)
        param_lib.validate_parameterization(parameterization)
        free_bits = checks.finite_number("free_bits", free_bits, 0)
        if capacity is not None:
            capacity = checks.finite_number("capacity", capacity, 0)
        super().__init__(**kwargs)
        self.parameterization = parameterization
        self.free_bits = free_bits
        self._beta = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(beta),
            trainable=False,
            name="beta",
        )
        self._capacity = None
        if capacity is not None:
            self._capacity = self.add_weight(
                shape=(),
                initializer=keras.initializers.Constant(capacity),
                trainable=False,
                name="capacity",
            )

    @property
    def beta(self):
        """The non-trainable variable holding the KL weight."""
        return self._beta

    @beta.setter
    def beta(self, value):
        self._beta.assign(validate_beta(value))

    @property
    def capacity(self):
        """The non-trainable variable holding the KL target C, or `None`."""
        return self._capacity

    @capacity.setter
    def capacity(self, value):
        if self._capacity is None:
            raise ValueError(
                f"Layer '{self.name}' has no capacity term: create it with "
                "`capacity=0.0` (or a model with `capacity=0.0`) to set one."
            )
        self._capacity.assign(checks.finite_number("capacity", value, 0))

    def build(self, input_shape):
        param_lib.check_mean_and_scale_shapes(self.name, input_shape)

    def call(self, inputs):
        mean, raw_scale = inputs
        per_dimension = ops.mean(
            param_lib.kl_divergence_per_dimension(
                mean, raw_scale, self.parameterization
            ),
            axis=0,
        )
        if self.free_bits:
            per_dimension = ops.maximum(per_dimension, self.free_bits)
        kl = ops.sum(per_dimension)
        if self._capacity is not None:
            kl = ops.abs(kl - ops.cast(self._capacity, kl.dtype))
        self.add_loss(ops.cast(self._beta, kl.dtype) * kl)
        return mean, raw_scale

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0]), tuple(input_shape[1])

    def get_config(self):
        capacity = self._capacity
        return {
            **super().get_config(),
            "beta": float(ops.convert_to_numpy(self._beta)),
            "parameterization": self.parameterization,
            "free_bits": self.free_bits,
            "capacity": None
            if capacity is None
            else float(ops.convert_to_numpy(capacity)),
        }
