"""How an encoder's raw scale output maps to the posterior's standard deviation.

An encoder emits, per latent dimension, a mean `mu` and an unconstrained raw scale.
Two parameterizations of q(z|x) = N(mu, sigma^2) are supported:

- `"softplus"`: sigma = softplus(rho). The default: the original study found it
  trains more stably than an exponential, whose gradients blow up for large rho.
- `"log_var"`: the raw output is log(sigma^2), so sigma = exp(log_var / 2).

All functions use `keras.ops` only and run on every backend.
"""

import math

from keras import ops

PARAMETERIZATIONS = ("softplus", "log_var")
LOG_2PI = math.log(2.0 * math.pi)


def validate_parameterization(parameterization):
    """Returns `parameterization` if it is a known name, else raises.

    Args:
        parameterization: String, one of `"softplus"` or `"log_var"`.

    Returns:
        The same string.

    Raises:
        ValueError: if `parameterization` is not one of the known names.
    """
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            "Invalid value received for argument `parameterization`. Expected one "
            f"of {PARAMETERIZATIONS}. Received: parameterization={parameterization!r}"
        )
    return parameterization


def scale(raw_scale, parameterization):
    """Standard deviation sigma from the encoder's raw scale output.

    Args:
        raw_scale: Tensor, the encoder's unconstrained scale output.
        parameterization: String, `"softplus"` or `"log_var"`.

    Returns:
        Tensor of the same shape and dtype: sigma > 0.
    """
    if parameterization == "softplus":
        return ops.softplus(raw_scale)
    return ops.exp(0.5 * raw_scale)


def kl_divergence_per_dimension(mean, raw_scale, parameterization):
    """Closed-form KL(N(mean, sigma^2) || N(0, 1)) of every latent dimension.

    Computed in float32 whatever the inputs' dtype, so that mixed-precision
    models do not lose the term to float16 underflow.

    Args:
        mean: Tensor of shape `(batch, ...)`, the posterior means.
        raw_scale: Tensor of the same shape, the encoder's raw scale output.
        parameterization: String, `"softplus"` or `"log_var"`.

    Returns:
        Float32 tensor of shape `(batch, latent_dims)`, in nats, the latent
        axes flattened.
    """
    mean = ops.cast(mean, "float32")
    raw_scale = ops.cast(raw_scale, "float32")
    if parameterization == "softplus":
        sigma = ops.softplus(raw_scale)
        variance, log_var = ops.square(sigma), 2.0 * ops.log(sigma)
    else:
        variance, log_var = ops.exp(raw_scale), raw_scale
    per_dimension = 0.5 * (variance + ops.square(mean) - 1.0 - log_var)
    return ops.reshape(per_dimension, (ops.shape(mean)[0], -1))


def kl_divergence(mean, raw_scale, parameterization):
    """Closed-form KL(N(mean, sigma^2) || N(0, I)) per example, in nats.

    Args:
        mean: Tensor of shape `(batch, ...)`, the posterior means.
        raw_scale: Tensor of the same shape, the encoder's raw scale output.
        parameterization: String, `"softplus"` or `"log_var"`.

    Returns:
        Float32 tensor of shape `(batch,)`: the divergence summed over all
        latent dimensions.
    """
    return ops.sum(
        kl_divergence_per_dimension(mean, raw_scale, parameterization), axis=-1
    )


def check_mean_and_scale_shapes(layer_name, input_shape):
    """Raises unless `input_shape` holds two equal shapes (None matches any)."""
    if (
        not isinstance(input_shape, (list, tuple))
        or len(input_shape) != 2
        or not all(isinstance(shape, (list, tuple)) for shape in input_shape)
    ):
        raise ValueError(
            f"Layer '{layer_name}' expects a list of two tensors [mean, raw_scale]. "
            f"Received input_shape={input_shape}"
        )
    mean_shape, scale_shape = (tuple(shape) for shape in input_shape)
    compatible = len(mean_shape) == len(scale_shape) and all(
        a is None or b is None or a == b
        for a, b in zip(mean_shape, scale_shape, strict=True)
    )
    if not compatible:
        raise ValueError(
            f"Layer '{layer_name}' expects `mean` and `raw_scale` of the same shape. "
            f"Received: mean.shape={mean_shape}, raw_scale.shape={scale_shape}"
        )
