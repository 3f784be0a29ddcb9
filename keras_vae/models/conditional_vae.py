import keras

from keras_vae import checks
from keras_vae.models import utils
from keras_vae.models.vae import VAE


@keras.saving.register_keras_serializable(package="keras_vae")
class ConditionalVAE(VAE):
    """Conditional variational autoencoder: q(z|x, y) and p(x|z, y) for labels y.

    Like `VAE`, but the encoder receives `[x, labels]` and the decoder
    `[z, labels]`, so that a trained model draws new examples of a chosen
    class. Labels are integers in `[0, num_classes)`; the networks usually
    join them to their features with `keras_vae.layers.ConditionalConcat`.

    Train with `fit(x, labels)` (or a dataset of `(x, labels)` pairs); the
    labels take the place of Keras' targets. Label arrays are range-checked
    before training starts.

    Reference:
        Sohn, Lee and Yan, "Learning Structured Output Representation using
        Deep Conditional Generative Models", NeurIPS 2015.

    Args:
        encoder: Keras layer or model mapping `[x, labels]` to two tensors
            `(mean, raw_scale)` of equal shape `(batch, latent_dim)`.
        decoder: Keras layer or model mapping `[z, labels]` to a tensor of the
            input's shape (the likelihood's raw output).
        num_classes: Integer, number of classes, `>= 1`.
        beta: Float, weight of the KL term, `>= 0`. Defaults to `1.0`.
        parameterization: String, `"softplus"` or `"log_var"`. Defaults to
            `"softplus"`.
        likelihood: String (`"gaussian"` or `"bernoulli"`) or a
            `keras_vae.likelihoods.Likelihood`. Defaults to `"gaussian"`.
        seed: Integer or `None`, seed of the latent sampling. Defaults to `None`.
        free_bits: Float, KL floor per latent dimension in nats. Defaults to
            `0.0` (off). See `VAE`.
        capacity: Float or `None`, initial KL target of the capacity
            objective. Defaults to `None` (off). See `VAE`.
        **kwargs: Base model keyword arguments, such as `name`.

    Call arguments:
        inputs: List `[x, labels]`.
        training: Python boolean, whether the model runs in training mode.

    Example:

    ```python
    import numpy as np
    import keras_vae

    encoder, decoder = keras_vae.architectures.conv_conditional(
        input_shape=(8, 8, 1), latent_dim=2, num_classes=10
    )
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=10)
    cvae.compile(optimizer="adam")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 10, size=64)
    cvae.fit(x, labels, epochs=1, batch_size=16, verbose=0)
    sevens = cvae.sample(np.full(5, 7), seed=0)  # five new examples of class 7
    print(sevens.shape)  # (5, 8, 8, 1)
    ```
    """

    def __init__(self, encoder, decoder, num_classes, **kwargs):
        checks.positive_integer("num_classes", num_classes)
        super().__init__(encoder, decoder, **kwargs)
        self.num_classes = int(num_classes)

    def _split_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                "ConditionalVAE expects inputs [x, labels]. Received: "
                f"{utils.describe(inputs)}"
            )
        return inputs[0], inputs[1]

    def _encoder_inputs(self, x, labels):
        return [x, labels]

    def _decoder_inputs(self, z, labels):
        return [z, labels]

    def _unpack_batch(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        utils.reject_sample_weight(sample_weight)
        if y is None:
            x, y = self._split_inputs(x)
        return x, y, x

    def _check_arrays(self, x, y):
        if y is None and isinstance(x, (list, tuple)) and len(x) == 2:
            x, y = x
        super()._check_arrays(x, None)
        if utils.is_array(y) or isinstance(y, list):
            self.check_labels(y)

    def check_labels(self, labels):
        """Raises `ValueError` unless `labels` are integers in `[0, num_classes)`.

        Args:
            labels: Array-like of class labels.

        Returns:
            The labels as a NumPy int32 array of shape `(n,)`.
        """
        return checks.class_labels(labels, self.num_classes)

    def encode(self, x, labels, batch_size=256):
        """Posterior parameters of `x` given `labels`.

        Returns:
            Tuple `(mean, sigma)` of NumPy arrays `(n, latent_dim)`.
        """
        return self._encode_arrays(x, self._matching_labels(labels, x), batch_size)

    def decode(self, z, labels, batch_size=256):
        """The likelihood's mean of `z` given `labels`, in data space."""
        return self._decode_arrays(z, self._matching_labels(labels, z), batch_size)

    def reconstruct(self, x, labels, sample=False, seed=None, batch_size=256):
        """Reconstructions of `x` given its `labels`, in data space.

        Args:
            x: Array of inputs.
            labels: Array of their labels.
            sample: Boolean, whether to decode a posterior sample instead of the
                posterior mean. Defaults to `False`.
            seed: Integer or `None`, seed of the posterior sample.
            batch_size: Integer, how many inputs to process at once.
        """
        labels = self._matching_labels(labels, x)
        return self._reconstruct_arrays(x, labels, sample, seed, batch_size)

    def sample(self, labels, seed=None, batch_size=256, density=None):
        """Decodes one draw z ~ N(0, I), or from `density`, per label.

        Args:
            labels: Array of class labels, one per sample wanted.
            seed: Integer or `None`, seed of the draws.
            batch_size: Integer, how many codes to decode at once.
            density: `None` (the prior) or a `keras_vae.LatentMixture` fitted
                to this model's codes with labels: z is drawn from the
                mixture of each label's class.

        Returns:
            NumPy array of shape `(len(labels),) + input_shape`, in data space.
        """
        labels = self.check_labels(labels)
        if density is not None and not density.conditional:
            raise ValueError(
                "A ConditionalVAE samples from a LatentMixture fitted with labels "
                "(one mixture per class)."
            )
        return self.decode(self._draws(labels, seed, density), labels, batch_size)

    def _matching_labels(self, labels, x):
        return checks.class_labels(labels, self.num_classes, count=len(x))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
