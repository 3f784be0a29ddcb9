import keras
import numpy as np
from keras import ops

from keras_vae.likelihoods.learned_gaussian import SCALES
from keras_vae.likelihoods.likelihood import Likelihood, sum_per_example

LEVELS = 256
# The smallest log scale: narrower logistics than a 1/1100 of the range put
# all of a bin's mass on one value anyway.
MIN_LOG_SCALE = -7.0
# Values per step of `check_8_bit`'s grid test (4 MB of float32).
CHECK_CHUNK = 2**20


def log_probability(targets, means, log_scales):
    """log P(x) of 8-bit values x = k / 255 under logistics of `means` and
    `log_scales` (broadcast together): the mass of x's bin [x - 1/510,
    x + 1/510], the edge bins 0 and 1 taking the tails. Elementwise, float32.
    """
    x = ops.cast(targets, "float32")
    mean = ops.cast(means, "float32")
    log_scale = ops.maximum(ops.cast(log_scales, "float32"), MIN_LOG_SCALE)
    inverse_scale = ops.exp(-log_scale)
    half_bin = 0.5 / (LEVELS - 1)
    upper = inverse_scale * (x - mean + half_bin)
    lower = inverse_scale * (x - mean - half_bin)
    # log(sigmoid(upper) - sigmoid(lower)), and the two edge bins' tails.
    log_cdf_upper = upper - ops.softplus(upper)  # log sigmoid(upper)
    log_survival_lower = -ops.softplus(lower)  # log(1 - sigmoid(lower))
    middle = inverse_scale * (x - mean)
    mass = ops.sigmoid(upper) - ops.sigmoid(lower)
    # Where the bin's mass underflows, its density at the centre times the
    # bin's width.
    log_density = middle - log_scale - 2.0 * ops.softplus(middle)
    log_mass = ops.where(
        mass > 1e-5,
        ops.log(ops.maximum(mass, 1e-12)),
        log_density + np.log(2 * half_bin),
    )
    return ops.where(
        x < half_bin,
        log_cdf_upper,
        ops.where(x > 1.0 - half_bin, log_survival_lower, log_mass),
    )


def check_8_bit(targets, name):
    """Raises `ValueError` unless a NumPy array holds k / 255 values.

    Looks at `CHECK_CHUNK` values at a time: on the whole array at once, the
    temporaries of the grid test (the levels, their rounding, the distance)
    took 5 copies of the data, 0.8 GB of transient memory for Fashion-MNIST's
    training split, the peak of `keras-vae train --model cvae`.
    """
    targets = np.atleast_1d(np.asarray(targets))
    if not targets.size:
        return
    rows = max(1, CHECK_CHUNK // max(1, targets[0].size))
    if (
        targets.min() < 0
        or targets.max() > 1
        or not all(
            np.allclose(levels, np.round(levels), atol=1e-3)
            for levels in (
                targets[start : start + rows] * (LEVELS - 1)
                for start in range(0, len(targets), rows)
            )
        )
    ):
        raise ValueError(
            f"The {name} likelihood expects 8-bit pixels in [0, 1] (k / 255). "
            f"Received values in [{targets.min():g}, {targets.max():g}]"
            + ("" if targets.min() < 0 or targets.max() > 1 else " off that grid")
            + ". Use preprocessing 'scale' on 8-bit images."
        )


@keras.saving.register_keras_serializable(package="keras_vae")
class DiscretizedLogistic(keras.layers.Layer, Likelihood):
    """8-bit pixels under a discretized logistic; the decoder outputs means.

    Each pixel value k/255 gets the logistic's mass on its bin
    [x - 1/510, x + 1/510] (the edges 0 and 1 take the tails), with the
    logistic's mean the decoder's output and its scale learned, globally or
    per pixel position (`scale`). -log p(x|z) is then the negative log of a
    probability, not of a density: in bits per dimension it reads like the
    bits per dimension of image models (PixelCNN, Glow, ...), and it cannot
    go below 0.

    Targets must be 8-bit values in [0, 1] (k / 255): use the `"scale"`
    preprocessing.

    Reference:
        Salimans et al., "PixelCNN++: Improving the PixelCNN with Discretized
        Logistic Mixture Likelihood and Other Modifications", ICLR 2017 (one
        component here).

    Args:
        scale: String, `"global"` (one scale) or `"pixel"` (one per pixel
            position). Defaults to `"pixel"`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    likelihood = keras_vae.likelihoods.DiscretizedLogistic()
    likelihood.build((None, 2))
    targets = np.array([[0.0, 128 / 255]], "float32")
    nll = likelihood.negative_log_likelihood(targets, np.full((1, 2), 0.5, "float32"))
    print(float(nll[0]) > 0)  # True: minus the log of a probability
    ```
    """

    discrete = True

    def __init__(self, scale="pixel", **kwargs):
        if scale not in SCALES:
            raise ValueError(
                "Invalid value received for argument `scale`. Expected one of "
                f"{SCALES}. Received: scale={scale!r}"
            )
        kwargs.setdefault("name", "logistic" if scale == "pixel" else "logistic_global")
        super().__init__(**kwargs)
        self.scale = scale

    def build(self, data_shape):
        shape = () if self.scale == "global" else tuple(data_shape[1:])
        # log s = log(0.1): a pixel's logistic spans about a tenth of the range.
        self.log_scale = self.add_weight(
            shape=shape,
            initializer=keras.initializers.Constant(np.log(0.1)),
            name="log_scale",
        )

    def negative_log_likelihood(self, targets, outputs):
        log_scale = ops.cast(self.log_scale, "float32")
        return -sum_per_example(log_probability(targets, outputs, log_scale))

    def mean(self, outputs):
        return ops.clip(outputs, 0.0, 1.0)

    def validate_targets(self, targets):
        check_8_bit(targets, "discretized logistic")

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}
