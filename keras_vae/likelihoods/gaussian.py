import math
import numbers
import warnings

import keras
import numpy as np
from keras import ops

from keras_vae.likelihoods.likelihood import Likelihood, sum_per_example

# `validate_targets`: data this many standard deviations from 0 warns, refuses.
_WARN_AT, _REFUSE_AT = 20.0, 200.0


@keras.saving.register_keras_serializable(package="keras_vae")
class Gaussian(Likelihood):
    """Independent Gaussian pixels with fixed variance; the decoder outputs means.

    -log p(x|z) = sum_i (x_i - mu_i)^2 / (2 variance) + D/2 log(2 pi variance)
    over the D pixels, normalizing constant included, so the number is a true
    negative log-likelihood in nats.

    The default `variance=0.5` makes the data term exactly the sum of squared
    errors (plus a constant), the reconstruction loss of the original study, so
    its beta values (0, 12, 200) mean the same here.

    Args:
        variance: Float, the fixed pixel variance sigma^2 > 0. Defaults to `0.5`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    likelihood = keras_vae.likelihoods.Gaussian()  # variance 0.5
    targets = np.ones((1, 4), "float32")
    outputs = np.zeros((1, 4), "float32")
    nll = likelihood.negative_log_likelihood(targets, outputs)
    print(float(nll[0]))  # 4 (squared errors) + 4/2 * log(pi)
    ```
    """

    name = "gaussian"

    def __init__(self, variance=0.5):
        if (
            isinstance(variance, bool)
            or not isinstance(variance, numbers.Real)
            or not math.isfinite(variance)
            or variance <= 0
        ):
            raise ValueError(
                "Invalid value received for argument `variance`. Expected a "
                f"positive float. Received: variance={variance!r}"
            )
        self.variance = float(variance)

    def negative_log_likelihood(self, targets, outputs):
        error = ops.cast(targets, "float32") - ops.cast(outputs, "float32")
        constant = 0.5 * math.log(2.0 * math.pi * self.variance)
        return sum_per_example(ops.square(error) / (2.0 * self.variance) + constant)

    def mean(self, outputs):
        return outputs

    def validate_targets(self, targets):
        """Refuses data far outside the likelihood's scale, warns before that.

        With a fixed variance, data in units of many standard deviations (such
        as pixels in 0-255 for the default variance 1/2) makes the loss
        thousands of nats per example, and the KL overflows to NaN within an
        epoch: values beyond 200 standard deviations raise, beyond 20 warn.
        """
        targets = np.asarray(targets)
        if not targets.size or not np.issubdtype(targets.dtype, np.number):
            return
        # The extremes, not `np.abs(targets).max()`: no copy of the data. As
        # floats, so that an unsigned minimum is not negated; NaN propagates.
        largest = float(np.abs(np.array([targets.min(), targets.max()], float)).max())
        scale = largest / math.sqrt(self.variance)
        if scale <= _WARN_AT:
            return
        message = (
            f"The Gaussian likelihood (variance {self.variance:g}) expects data "
            f"within a few units of its scale. Received values up to {largest:g}, "
            f"{scale:.0f} standard deviations: the loss and the KL term overflow. "
            "Standardize the data (keras_vae.datasets.Preprocessing.fit("
            '"standardize", x)) or scale pixels to [0, 1].'
        )
        if scale > _REFUSE_AT:
            raise ValueError(message)
        warnings.warn(message, stacklevel=4)

    def get_config(self):
        return {"variance": self.variance}
