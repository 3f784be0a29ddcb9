import keras
import numpy as np
from keras import ops

from keras_vae.likelihoods.likelihood import Likelihood, sum_per_example


@keras.saving.register_keras_serializable(package="keras_vae")
class Bernoulli(Likelihood):
    """Independent Bernoulli pixels; the decoder outputs logits.

    The negative log-likelihood is the binary cross-entropy between targets in
    `[0, 1]` and `sigmoid(logits)`, summed over pixels. Targets may be binary or
    grey levels in `[0, 1]` (the usual continuous relaxation). The mean in data
    space is `sigmoid(logits)`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    likelihood = keras_vae.likelihoods.Bernoulli()
    targets = np.array([[0.0, 1.0]], "float32")
    logits = np.zeros((1, 2), "float32")
    print(float(likelihood.negative_log_likelihood(targets, logits)[0]))  # 2 log 2
    ```
    """

    discrete = True

    name = "bernoulli"

    def negative_log_likelihood(self, targets, outputs):
        return sum_per_example(
            ops.binary_crossentropy(
                ops.cast(targets, outputs.dtype), outputs, from_logits=True
            )
        )

    def mean(self, outputs):
        return ops.sigmoid(outputs)

    def validate_targets(self, targets):
        targets = np.asarray(targets)
        if targets.size and (targets.min() < 0 or targets.max() > 1):
            raise ValueError(
                "The Bernoulli likelihood expects targets in [0, 1]. Received "
                f"values in [{targets.min()}, {targets.max()}]. Scale the data to "
                "[0, 1] (e.g. divide pixels by 255) or use likelihood='gaussian'."
            )
