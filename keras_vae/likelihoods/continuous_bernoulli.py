import keras
import numpy as np
from keras import ops

from keras_vae.likelihoods.bernoulli import Bernoulli
from keras_vae.likelihoods.likelihood import sum_per_example

# Within this distance of p = 1/2 the normalizer uses its Taylor expansion.
_NEAR_HALF = 1e-2


@keras.saving.register_keras_serializable(package="keras_vae")
class ContinuousBernoulli(Bernoulli):
    """The continuous Bernoulli: a true density on [0, 1]; the decoder outputs
    logits.

    The Bernoulli likelihood applied to grey levels in [0, 1] is not a
    density of them: it lacks the normalizing constant C(p), so its "negative
    log-likelihood" is not one, and its mean is not the best reconstruction.
    The continuous Bernoulli adds log C(p) per pixel,

        C(p) = 2 artanh(1 - 2p) / (1 - 2p)  (C(1/2) = 2),

    which makes -log p(x|z) a negative log-density in nats, comparable with
    the Gaussian likelihoods' (after the same preprocessing to [0, 1]); its
    mean is p / (2p - 1) + 1 / (2 artanh(1 - 2p)) (1/2 at p = 1/2).

    Reference:
        Loaiza-Ganem and Cunningham, "The continuous Bernoulli: fixing a
        pervasive error in variational autoencoders", NeurIPS 2019.

    Example:

    ```python
    import numpy as np
    import keras_vae

    likelihood = keras_vae.likelihoods.ContinuousBernoulli()
    targets = np.array([[0.25, 0.75]], "float32")
    logits = np.zeros((1, 2), "float32")  # p = 1/2: the uniform density
    print(float(likelihood.negative_log_likelihood(targets, logits)[0]))  # 0.0
    ```
    """

    discrete = False

    name = "continuous_bernoulli"

    def negative_log_likelihood(self, targets, outputs):
        outputs = ops.cast(outputs, "float32")
        cross_entropy = ops.binary_crossentropy(
            ops.cast(targets, "float32"), outputs, from_logits=True
        )
        return sum_per_example(cross_entropy - log_normalizer(outputs))

    def mean(self, outputs):
        # With p = sigmoid(l), artanh(1 - 2p) = -l/2: the mean is
        # p / (2p - 1) - 1 / l, and 1/2 + l/12 + O(l^3) near l = 0.
        logits = ops.cast(outputs, "float32")
        p = ops.sigmoid(logits)
        near = ops.abs(logits) < 4.0 * _NEAR_HALF
        safe_logits = ops.where(near, 1.0, logits)
        safe_p = ops.where(near, 0.25, p)
        far = safe_p / (2.0 * safe_p - 1.0) - 1.0 / safe_logits
        return ops.where(near, 0.5 + logits / 12.0, far)


def log_normalizer(logits):
    """log C(p) of the continuous Bernoulli, from logits, elementwise.

    With p = sigmoid(l): 1 - 2p = -tanh(l/2) and artanh(1 - 2p) = -l/2, so
    C = l / tanh(l/2) = l (e^l + 1) / (e^l - 1), written stably in l.
    """
    logits = ops.cast(logits, "float32")
    near = ops.abs(logits) < 4.0 * _NEAR_HALF  # |p - 1/2| < 0.01
    safe = ops.where(near, 1.0, ops.abs(logits))
    # log(l / tanh(l/2)) for l > 0 = log l - log(1 - e^-l) + log(1 + e^-l).
    far = ops.log(safe) - ops.log(-ops.expm1(-safe)) + ops.log1p(ops.exp(-safe))
    # At 0: C = 2 + l^2 / 6 + O(l^4).
    close = np.log(2.0) + ops.square(logits) / 12.0
    return ops.where(near, close, far)
