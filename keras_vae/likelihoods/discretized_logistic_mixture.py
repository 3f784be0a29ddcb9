import keras
from keras import ops

from keras_vae import checks
from keras_vae.likelihoods.discretized_logistic import check_8_bit, log_probability
from keras_vae.likelihoods.likelihood import Likelihood, sum_per_example


@keras.saving.register_keras_serializable(package="keras_vae")
class DiscretizedLogisticMixture(Likelihood):
    """8-bit pixels under a mixture of discretized logistics; the decoder
    outputs every component's weight, mean and scale for every value.

    The decoder's output has one more axis than the data, of size
    `3 * num_components`: the components' logits (softmax: the mixture
    weights), their means, and their log scales, in that order
    (`parameter_shape(data_shape)`; the architectures of
    `keras_vae.architectures` take `parameters_per_value`). Each value
    k / 255 gets the mixture's mass on its bin, each component's as in
    `DiscretizedLogistic`, so -log p(x|z) is minus the log of a probability,
    comparable in bits per dimension with any model of 8-bit images. Where
    one logistic must put a grey value's mass between two modes (a blurred
    edge: background or stroke), the mixture can put it on both.

    Each value is modelled independently given z: the channels of a colour
    pixel too (PixelCNN++ couples them through the means; a VAE's decoder
    sees all of them at once).

    Targets must be 8-bit values in [0, 1] (k / 255): use the `"scale"`
    preprocessing.

    Reference:
        Salimans et al., "PixelCNN++: Improving the PixelCNN with Discretized
        Logistic Mixture Likelihood and Other Modifications", ICLR 2017.

    Args:
        num_components: Integer, the mixture's components per value, `>= 1`.
            Defaults to `5`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    likelihood = keras_vae.likelihoods.DiscretizedLogisticMixture(num_components=2)
    encoder, decoder = keras_vae.architectures.mlp(
        (8, 8, 1), latent_dim=2, parameters_per_value=likelihood.parameters_per_value
    )
    print(decoder.output_shape)  # (None, 8, 8, 1, 6)
    vae = keras_vae.models.VAE(encoder, decoder, likelihood=likelihood)
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).integers(0, 256, (64, 8, 8, 1)) / 255
    vae.fit(x.astype("float32"), epochs=1, verbose=0)
    ```
    """

    discrete = True

    name = "logistic_mixture"

    def __init__(self, num_components=5):
        self.num_components = checks.positive_integer("num_components", num_components)
        self.parameters_per_value = 3 * self.num_components

    def _split(self, outputs):
        outputs = ops.cast(outputs, "float32")
        k = self.num_components
        return outputs[..., :k], outputs[..., k : 2 * k], outputs[..., 2 * k :]

    def negative_log_likelihood(self, targets, outputs):
        logits, means, log_scales = self._split(outputs)
        x = ops.expand_dims(ops.cast(targets, "float32"), -1)
        log_components = ops.log_softmax(logits, axis=-1) + log_probability(
            x, means, log_scales
        )
        return -sum_per_example(ops.logsumexp(log_components, axis=-1))

    def mean(self, outputs):
        """The mixture of the components' means (each clipped to [0, 1])."""
        logits, means, _ = self._split(outputs)
        weights = ops.softmax(logits, axis=-1)
        return ops.sum(weights * ops.clip(means, 0.0, 1.0), axis=-1)

    def validate_targets(self, targets):
        check_8_bit(targets, "discretized logistic mixture")

    def get_config(self):
        return {"num_components": self.num_components}
