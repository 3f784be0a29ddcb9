import keras
import numpy as np
from keras import ops

from keras_vae import checks
from keras_vae.models import utils
from keras_vae.models.vae import VAE

_INVALID_LABELS = "invalid_labels"


@keras.saving.register_keras_serializable(package="keras_vae")
class ConditionalVAE(VAE):
    """Conditional variational autoencoder: q(z|x, y) and p(x|z, y) for labels y.

    Like `VAE`, but the encoder receives `[x, labels]` and the decoder
    `[z, labels]`, so that a trained model draws new examples of a chosen
    class. Labels are integers in `[0, num_classes)`; the networks usually
    join them to their features with `keras_vae.layers.ConditionalConcat`.

    Train with `fit(x, labels)` (or a dataset of `(x, labels)` pairs); the
    labels take the place of Keras' targets. Label arrays are range-checked
    before training starts; labels from a `tf.data` pipeline, a generator or
    a `keras.utils.PyDataset` are checked inside every training and
    evaluation step, which stops `fit` or `evaluate` with a `ValueError` on a
    label outside `[0, num_classes)` (an out-of-range label would otherwise
    condition on no class at all).

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
    sevens = cvae.sample(5, labels=7, seed=0)  # five new examples of class 7
    print(sevens.shape)  # (5, 8, 8, 1)
    ```
    """

    conditional = True

    def __init__(self, encoder, decoder, num_classes, **kwargs):
        checks.positive_integer("num_classes", num_classes)
        super().__init__(encoder, decoder, **kwargs)
        self.num_classes = int(num_classes)
        classes = getattr(self.prior, "num_classes", self.num_classes)
        if classes != self.num_classes:
            raise ValueError(
                f"The prior has {classes} classes; this ConditionalVAE has "
                f"num_classes={self.num_classes}. Build it with "
                f"ClassPrior({self.num_classes})."
            )
        # Labels outside [0, num_classes) seen in this epoch's steps; read
        # after every compiled call (see `_checking_labels`), never logged.
        self.label_check = keras.metrics.Sum(name=_INVALID_LABELS)
        self._label_error = None
        self._pending = {"training": None, "evaluation": None}

    @property
    def metrics(self):
        return [*super().metrics, self.label_check]

    def get_metrics_result(self):
        result = super().get_metrics_result()
        result.pop(_INVALID_LABELS, None)
        return result

    def _update_trackers(self, terms, x, labels=None, training=False):
        logs = super()._update_trackers(terms, x, training=training)
        value = ops.cast(labels, "float32")
        invalid = (
            (value < 0) | (value >= self.num_classes) | (value != ops.floor(value))
        )
        self.label_check.update_state(ops.sum(ops.cast(invalid, "float32")))
        return {**logs, _INVALID_LABELS: self.label_check.result()}

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force=force)
        self.train_function = self._checking_labels(self.train_function, "training")
        return self.train_function

    def make_test_function(self, force=False):
        if self.test_function is not None and not force:
            return self.test_function
        super().make_test_function(force=force)
        self.test_function = self._checking_labels(self.test_function, "evaluation")
        return self.test_function

    def _checking_labels(self, function, purpose):
        """Wraps a compiled step function: after a call whose batches held
        invalid labels, stops `fit` or `evaluate` (which then raise), and keeps
        the count out of the logs.

        The count is an output of the compiled step, since XLA (JAX, and
        TensorFlow with `jit_compile=True`) drops assertions inside it; the
        loop is stopped rather than left by an exception so that every
        backend hands the model's state back intact. On JAX, whose calls run
        asynchronously, a call's count is read after the next call is
        dispatched (reading it at once cost 9-13 % of the conv CVAE's speed,
        docs/benchmarks.md), and the last one when the loop ends.
        """
        deferred = keras.backend.backend() == "jax"

        def checked(*arguments):
            result = function(*arguments)
            logs = result[0] if isinstance(result, tuple) else result
            invalid = logs.pop(_INVALID_LABELS, None)
            if deferred:
                invalid, self._pending[purpose] = self._pending[purpose], invalid
            self._note_labels(invalid, purpose)
            return result

        return checked

    def _note_labels(self, invalid, purpose):
        count = 0 if invalid is None else int(ops.convert_to_numpy(invalid))
        if count and self._label_error is None:
            self._label_error = (
                f"Labels must be integers in [0, {self.num_classes}) for "
                f"num_classes={self.num_classes}. Received {count} other "
                f"value{'s' if count > 1 else ''} in the {purpose} data's batches "
                "(from a tf.data pipeline, a generator or a PyDataset); expected "
                "class indices, e.g. labels.argmax(-1) for one-hot labels."
            )
        if self._label_error is not None:
            self.stop_training = self.stop_evaluating = True

    def _settle(self, purpose):
        """Reads the count still pending after the last call."""
        invalid, self._pending[purpose] = self._pending[purpose], None
        self._note_labels(invalid, purpose)

    def fit(self, *args, **kwargs):
        self._label_error = None
        self._pending["training"] = None
        history = super().fit(*args, **kwargs)
        self._settle("training")
        self._raise_label_error()
        return history

    def evaluate(self, *args, **kwargs):
        error, self._label_error = self._label_error, None
        self._pending["evaluation"] = None
        try:
            results = super().evaluate(*args, **kwargs)
            self._settle("evaluation")
            self._raise_label_error()
        finally:
            # Within `fit`, its own check continues.
            self._label_error = self._label_error or error
        return results

    def _raise_label_error(self):
        if self._label_error is not None:
            raise ValueError(self._label_error)

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

    def _check_arrays(self, x, y, where=None):
        if y is None and isinstance(x, (list, tuple)) and len(x) == 2:
            x, y = x
        super()._check_arrays(x, None, where)
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

    def _helper_labels(self, method, labels, count):
        if labels is None:
            raise ValueError(
                f"`ConditionalVAE.{method}` needs `labels`, one class per example: "
                "the model draws and reads examples of a class. Received: "
                "labels=None"
            )
        return checks.class_labels(labels, self.num_classes, count=count)

    def _sample_count(self, n, labels):
        if labels is None:
            self._helper_labels("sample", None, None)
        if np.ndim(labels) == 0:  # one class, n times
            if n is None:
                raise ValueError(
                    "`ConditionalVAE.sample` with one label needs `n`, how many "
                    f"samples of it. Received: labels={labels!r}, n=None"
                )
            labels = np.full(checks.positive_integer("n", n), labels)
        elif n is not None and n != len(labels):
            raise ValueError(
                f"`ConditionalVAE.sample` draws one sample per label: `n` is "
                f"len(labels). Received: n={n!r} and {len(labels)} labels."
            )
        labels = self.check_labels(labels)
        return len(labels), labels

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
