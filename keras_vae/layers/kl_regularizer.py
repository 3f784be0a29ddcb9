import json
import math
import numbers

import keras
from keras import ops

from keras_vae import checks, defaults
from keras_vae import parameterization as param_lib
from keras_vae.schedules.schedule import Schedule


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

    beta may follow a schedule (`keras_vae.schedules`, e.g. a linear warm-up
    against posterior collapse): the layer counts its training calls in a
    variable, `layer.iterations`, and sets beta to `schedule(iterations)` in
    every training call, inside the compiled step, so the value is exact at
    every step whatever `steps_per_execution` is; the count is saved with the
    weights, so a resumed model continues its schedule. A constant beta lives
    in a non-trainable variable, `layer.beta`, which may also be changed
    while `fit` runs: a value assigned between two batches is used by the
    very next training step. Assign through the `beta` property
    (`layer.beta = 4.0`), which validates, or on the variable
    (`layer.beta.assign(4.0)`) from graph code.

    Two changes of the KL term against posterior collapse, both off by
    default:

    - **Free bits** (Kingma et al. 2016): each latent dimension's KL,
      averaged over the batch, counts as at least `free_bits` nats:
      the term is `sum_j max(free_bits, mean_batch KL_j)`. A dimension below
      the floor gets no gradient from the KL term, so the encoder may use it
      freely up to `free_bits` nats.
    - **Capacity** (Burgess et al. 2018): the term becomes `beta * |KL - C|`,
      which pulls the KL towards a target capacity `C` instead of towards
      zero. `C` lives in a non-trainable variable, `layer.capacity`; give a
      schedule (C rising from 0 to C_max) as `capacity`, or a number.

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
        beta: Float, weight of the KL term (`0` turns it off), or a
            `keras_vae.schedules.Schedule` of it over the training steps.
            Defaults to `1.0`.
        parameterization: String, how the raw scale maps to sigma:
            `"softplus"` or `"log_var"`. Defaults to `"softplus"`.
        free_bits: Float, the KL floor per latent dimension in nats, `>= 0`.
            Defaults to `0.0` (off).
        capacity: Float, a `keras_vae.schedules.Schedule`, or `None`: the KL
            target `C` in nats. `None` (the default) uses the plain
            `beta * KL`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: List of two tensors `[mean, raw_scale]` of equal shape.
        training: Python boolean; a training call advances the schedules.

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

    warmup = keras_vae.schedules.LinearWarmup(steps=100, maximum=4.0)
    scheduled = keras_vae.layers.KLRegularizer(beta=warmup, parameterization="log_var")
    for _ in range(50):
        scheduled([mean, log_var], training=True)
    print(float(scheduled.beta), int(scheduled.iterations))  # 1.96 50

    floored = keras_vae.layers.KLRegularizer(free_bits=1.0, parameterization="log_var")
    floored([mean, log_var])
    print(float(floored.losses[0]))  # each dimension counts 1.0, not 0.5: 2.0
    ```
    """

    def __init__(
        self,
        beta=defaults.BETA,
        parameterization=defaults.PARAMETERIZATION,
        free_bits=defaults.FREE_BITS,
        capacity=None,
        **kwargs,
    ):
        beta_schedule, beta = _schedule_or_value("beta", beta, validate_beta)
        capacity_schedule = None
        if capacity is not None:
            capacity_schedule, capacity = _schedule_or_value(
                "capacity", capacity, lambda c: checks.finite_number("capacity", c, 0)
            )
        param_lib.validate_parameterization(parameterization)
        free_bits = checks.finite_number("free_bits", free_bits, 0)
        super().__init__(**kwargs)
        self.parameterization = parameterization
        self.free_bits = free_bits
        self.beta_schedule = beta_schedule
        self.capacity_schedule = capacity_schedule
        self._beta = self._state("beta", beta)
        self._capacity = None if capacity is None else self._state("capacity", capacity)
        self.iterations = None
        if beta_schedule is not None or capacity_schedule is not None:
            self.iterations = self._state("iterations", 0, dtype="int32")

    def _state(self, name, value, dtype=None):
        # One replica's update is the value: every replica computes the same.
        return self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(value),
            dtype=dtype,
            trainable=False,
            aggregation="only_first_replica",
            name=name,
        )

    @property
    def beta(self):
        """The non-trainable variable holding the KL weight."""
        return self._beta

    @beta.setter
    def beta(self, value):
        if self.beta_schedule is not None:
            raise ValueError(
                f"Layer '{self.name}' sets beta from its schedule "
                f"{self.beta_schedule!r} in every training step. Build it with a "
                f"number to set beta by hand. Received: beta={value!r}"
            )
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
        if self.capacity_schedule is not None:
            raise ValueError(
                f"Layer '{self.name}' sets the capacity from its schedule "
                f"{self.capacity_schedule!r} in every training step. Received: "
                f"capacity={value!r}"
            )
        self._capacity.assign(checks.finite_number("capacity", value, 0))

    def build(self, input_shape):
        param_lib.check_mean_and_scale_shapes(self.name, input_shape)

    def call(self, inputs, training=None):
        mean, raw_scale = inputs
        if training and self.iterations is not None:
            for schedule, variable in (
                (self.beta_schedule, self._beta),
                (self.capacity_schedule, self._capacity),
            ):
                if schedule is not None:
                    value = schedule(self.iterations)
                    variable.assign(ops.cast(value, variable.dtype))
            self.iterations.assign_add(ops.cast(1, self.iterations.dtype))
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
        return {
            **super().get_config(),
            "beta": _config_of(self.beta_schedule, self._beta),
            "parameterization": self.parameterization,
            "free_bits": self.free_bits,
            "capacity": _config_of(self.capacity_schedule, self._capacity),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("beta", "capacity"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _schedule_or_value(name, value, validate):
    """`(schedule, initial value)` of a schedule, `(None, value)` of a number."""
    if isinstance(value, Schedule):
        try:
            json.dumps(keras.saving.serialize_keras_object(value))
        except (NotImplementedError, TypeError, ValueError) as error:
            raise TypeError(
                f"Invalid value received for argument `{name}`. Expected a "
                "serializable schedule (its get_config returns its constructor's "
                "arguments, and the class is registered with "
                "keras.saving.register_keras_serializable), to be saved with the "
                f"model. Received: {name}={type(value).__name__} "
                f"({type(error).__name__}: {error})"
            ) from None
        initial = float(ops.convert_to_numpy(value(0)))
        if not math.isfinite(initial) or initial < 0:
            raise ValueError(
                f"Invalid value received for argument `{name}`. Expected a schedule "
                f"of finite values >= 0. Received: {name}={value!r}, which gives "
                f"{initial} at step 0"
            )
        return value, initial
    if callable(value) and not isinstance(value, numbers.Real):
        raise TypeError(
            f"Invalid value received for argument `{name}`. Expected a number or "
            "a keras_vae.schedules.Schedule (serializable, evaluated inside the "
            f"training step). Received: {name}={value!r}. A plain function: "
            "subclass keras_vae.schedules.Schedule, or drive the variable with "
            "keras_vae.callbacks.BetaScheduler / CapacityScheduler."
        )
    return None, validate(value)


def _config_of(schedule, variable):
    if schedule is not None:
        return keras.saving.serialize_keras_object(schedule)
    return None if variable is None else float(ops.convert_to_numpy(variable))
