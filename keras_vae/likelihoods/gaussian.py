import math
import numbers

import keras
from keras import ops

from keras_vae.likelihoods.likelihood import Likelihood, sum_per_example


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

    def get_config(self):
        return {"variance": self.variance}
