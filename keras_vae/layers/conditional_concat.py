import keras
from keras import ops

from keras_vae import checks


@keras.saving.register_keras_serializable(package="keras_vae")
class ConditionalConcat(keras.layers.Layer):
    """Joins a condition (class labels or a vector) to features.

    The condition is either integer class labels, one-hot encoded by the layer
    when `num_classes` is set, or an already dense condition vector (one-hot,
    soft labels, attributes) when `num_classes` is `None`.

    - Rank-2 features `(batch, units)`: the condition is concatenated on the
      last axis.
    - Rank-4 feature maps `(batch, height, width, channels)`: the condition is
      broadcast over height and width and concatenated as extra channels.

    Labels are not range-checked inside the graph: an out-of-range label
    one-hot encodes to all zeros. `keras_vae.models.ConditionalVAE` checks label
    arrays before training.

    Args:
        num_classes: Integer or `None`. If set, the condition holds integer
            labels in `[0, num_classes)` and is one-hot encoded. If `None`, the
            condition is used as given. Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Call arguments:
        inputs: List `[features, condition]`.

    Input shape:
        `features`: `(batch, units)` or `(batch, height, width, channels)`.
        `condition`: labels of shape `(batch,)` or `(batch, 1)` when
        `num_classes` is set, else a vector of shape `(batch, condition_dim)`.

    Output shape:
        `(batch, units + k)` or `(batch, height, width, channels + k)`, where
        `k` is `num_classes` or `condition_dim`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    layer = keras_vae.layers.ConditionalConcat(num_classes=10)
    features = np.zeros((2, 7, 7, 32), "float32")
    labels = np.array([3, 9])
    print(layer([features, labels]).shape)  # (2, 7, 7, 42)
    ```
    """

    def __init__(self, num_classes=None, **kwargs):
        if num_classes is not None:
            checks.positive_integer("num_classes", num_classes)
        super().__init__(**kwargs)
        self.num_classes = num_classes

    def call(self, inputs):
        features, condition = inputs
        self._condition_width([features.shape, condition.shape])
        if self.num_classes is not None:
            labels = ops.reshape(ops.cast(condition, "int32"), (-1, 1))
            # One-hot by comparison: a label outside [0, num_classes) becomes
            # zeros on every backend (PyTorch's one_hot raises mid-step);
            # ConditionalVAE's steps report such labels.
            classes = ops.arange(self.num_classes, dtype="int32")[None, :]
            condition = ops.cast(ops.equal(labels, classes), features.dtype)
        else:
            condition = ops.cast(condition, features.dtype)
        if len(features.shape) == 4:
            shape = ops.shape(features)
            condition = ops.broadcast_to(
                condition[:, None, None, :],
                (shape[0], shape[1], shape[2], ops.shape(condition)[-1]),
            )
        return ops.concatenate([features, condition], axis=-1)

    def compute_output_shape(self, input_shape):
        features_shape = tuple(input_shape[0])
        width = self._condition_width(input_shape)
        channels = features_shape[-1]
        total = None if channels is None or width is None else channels + width
        return features_shape[:-1] + (total,)

    def _condition_width(self, input_shape):
        """Validates the shapes and returns the condition's width after encoding."""
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(
                f"Layer '{self.name}' expects a list [features, condition]. "
                f"Received input_shape={input_shape}"
            )
        features_shape, condition_shape = (tuple(s) for s in input_shape)
        if len(features_shape) not in (2, 4):
            raise ValueError(
                f"Layer '{self.name}' expects features of rank 2 (batch, units) or "
                "rank 4 (batch, height, width, channels). "
                f"Received: features.shape={features_shape}"
            )
        if self.num_classes is not None:
            valid = len(condition_shape) == 1 or (
                len(condition_shape) == 2 and condition_shape[1] == 1
            )
            expected = "integer labels of shape (batch,) or (batch, 1)"
        else:
            valid = len(condition_shape) == 2
            expected = (
                "a condition vector of shape (batch, condition_dim); to pass "
                "integer labels, set `num_classes`"
            )
        if not valid:
            raise ValueError(
                f"Layer '{self.name}' expects {expected}. Received: "
                f"condition.shape={condition_shape}, features.shape={features_shape}"
            )
        batch_f, batch_c = features_shape[0], condition_shape[0]
        if batch_f is not None and batch_c is not None and batch_f != batch_c:
            raise ValueError(
                f"Layer '{self.name}' received features and condition with "
                f"different batch sizes: features.shape={features_shape}, "
                f"condition.shape={condition_shape}"
            )
        return self.num_classes if self.num_classes is not None else condition_shape[1]

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}
