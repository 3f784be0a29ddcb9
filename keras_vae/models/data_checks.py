"""The checks `fit`, `evaluate` and `predict` make before any step runs."""

import math

import keras
import numpy as np

from keras_vae.layers.latent_penalty import pairs_message
from keras_vae.models import utils


class DataChecks:
    """Checks in-memory data (finite values, the likelihood's range, labels
    given to an unconditional model) and builds the model from the data's
    shapes before Keras' loop starts; adds a progress bar that counts batches
    right with `steps_per_execution`."""

    def fit(self, x=None, y=None, *args, **kwargs):
        utils.reject_sample_weight(
            kwargs.get("sample_weight"), kwargs.get("class_weight")
        )
        self._check_arrays(x, y)
        self._check_validation_data(kwargs.get("validation_data"))
        self._check_batches_of_pairs(
            x,
            args[0] if args else kwargs.get("batch_size"),
            kwargs.get("validation_split") or 0.0,
        )
        self._build_from_data(x, y)
        x, y, args, kwargs = utils.reshuffled_every_epoch(x, y, args, kwargs)
        if len(args) >= 3:  # verbose and callbacks passed by position
            return super().fit(x, y, *args, **kwargs)
        with utils.interrupts_kept(utils.with_progress_bar(kwargs)) as kwargs:
            return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        utils.reject_sample_weight(kwargs.get("sample_weight"))
        self._check_arrays(x, y)
        self._build_from_data(x, y)
        if len(args) >= 2:
            return super().evaluate(x, y, *args, **kwargs)
        with utils.interrupts_kept(utils.with_progress_bar(kwargs)) as kwargs:
            return super().evaluate(x, y, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_example_shape("x", x)
        if len(args) >= 2:
            return super().predict(x, *args, **kwargs)
        with utils.interrupts_kept(utils.with_progress_bar(kwargs)) as kwargs:
            return super().predict(x, *args, **kwargs)

    def _check_batches_of_pairs(self, x, batch_size, validation_split=0.0):
        penalty = getattr(self, "penalty", None)
        if penalty is None or not penalty.needs_pairs or not utils.is_array(x):
            return
        count = len(keras.tree.flatten(x)[0])
        count = math.ceil(count * (1.0 - validation_split))  # as Keras splits
        batch_size = batch_size or 32
        if batch_size == 1 or count % batch_size == 1:
            raise ValueError(
                pairs_message(
                    penalty,
                    f" (batch_size={batch_size} with {count} examples)",
                )
            )

    def _build_for(self, x, labels):
        # Keras builds a model by calling it while tracing the step; these
        # steps call its parts, so they build it themselves.
        if not self.built:
            self.build(x.shape if labels is None else [x.shape, labels.shape])

    def _build_from_data(self, x, y):
        """Builds from arrays or a `tf.data.Dataset` before `fit` starts, so that
        callbacks such as BackupAndRestore see a built model and shape errors
        surface before any step runs. Other data sources build on the first step.
        """
        if self.built:
            return
        if utils.is_tf_dataset(x):
            batch = x.element_spec
        elif all(
            utils.is_array(a) for a in keras.tree.flatten((x, y)) if a is not None
        ):
            batch = (x, y)
        else:
            return

        def symbolic(value):
            if value is None:
                return None
            dtype = keras.backend.standardize_dtype(value.dtype)
            return keras.KerasTensor((None,) + tuple(value.shape[1:]), dtype=dtype)

        x, labels, _ = self._unpack_batch(keras.tree.map_structure(symbolic, batch))
        self._build_for(x, labels)

    def _check_validation_data(self, validation_data):
        if isinstance(validation_data, (tuple, list)):
            # Keras takes `(x,)`, `(x, y)` and `(x, y, sample_weight)`.
            x, y = (tuple(validation_data[:2]) + (None,))[:2]
            self._check_arrays(x, y, where="validation_data")
        else:
            self._check_arrays(validation_data, None, where="validation_data")

    def _check_arrays(self, x, y, where=None):
        """Checks in-memory data; datasets and generators are passed through.

        `where` names the argument in messages (`x` and `y` by default)."""
        self._check_example_shape(where or "x", x)
        if utils.is_array(y) and tuple(np.shape(y)[1:]) != tuple(np.shape(x)[1:]):
            self._unpack_batch((x, y))  # raises: labels given to a VAE
        for name, array in ((where or "x", x), (f"{where or 'y'} targets", y)):
            if utils.is_array(array):
                utils.check_finite(name, array)
                self.likelihood.validate_targets(array)

    def _check_example_shape(self, name, x):
        """Arrays for a built model must hold examples of the shape it was
        built for: otherwise the step fails inside the backend, with an error
        about broadcasting or matrix shapes (TensorFlow: when the graph runs).
        A list of arrays is one array per example, for a VAE."""
        if (
            not self.conditional
            and isinstance(x, (list, tuple))
            and len(x) > 1
            and all(utils.is_array(item) for item in x)
        ):
            # Keras reads a list as several inputs: "Layer "mlp_encoder"
            # expects 1 named input(s) ... but it received 10 input tensors".
            raise ValueError(
                f"`{name}` is a {type(x).__name__} of {len(x)} arrays; "
                f"{type(self).__name__} takes one array of examples: stack them "
                "(np.stack)."
            )
        expected = getattr(self, "data_shape", None)
        if not self.built or expected is None or not utils.is_array(x):
            return
        shape = tuple(np.shape(x)[1:])
        if len(shape) == len(expected) and all(
            want is None or want == have
            for want, have in zip(expected, shape, strict=True)
        ):
            return
        hint = ""
        if shape + (1,) == expected:
            hint = " (`x[..., None]` adds the channel axis)"
        elif shape == expected + (1,):
            hint = " (`x[..., 0]` drops the channel axis)"
        raise ValueError(
            f"`{name}` holds examples of shape {shape}; this model was built for "
            f"{expected}{hint}."
        )
