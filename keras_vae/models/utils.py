"""Data checks and batching shared by the keras_vae models."""

import sys

import keras
import numpy as np
from keras import ops

from keras_vae import checks


def reject_sample_weight(sample_weight, class_weight=None):
    if sample_weight is not None or class_weight is not None:
        raise ValueError(
            "keras_vae models do not support `sample_weight` or `class_weight`: "
            "the KL term is a batch average. Resample the data instead."
        )


def is_array(value):
    return isinstance(value, np.ndarray) or (
        keras.ops.is_tensor(value) and not keras.backend.is_keras_tensor(value)
    )


def is_tf_dataset(value):
    """Whether `value` is a `tf.data.Dataset`, without importing TensorFlow."""
    tf = sys.modules.get("tensorflow")
    return tf is not None and isinstance(value, tf.data.Dataset)


def check_finite(name, array):
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(
            f"`{name}` holds {np.count_nonzero(~np.isfinite(array))} NaN or infinite "
            "values. Clean or impute the data before training."
        )


def describe(value):
    if isinstance(value, (list, tuple)):
        return (
            f"{len(value)} tensors of shapes {[getattr(v, 'shape', v) for v in value]}"
        )
    return f"one tensor of shape {getattr(value, 'shape', value)}"


def batched(function, x, labels, batch_size):
    """Applies `function(x_batch, labels_batch)` in batches; returns NumPy arrays."""
    checks.positive_integer("batch_size", batch_size)
    x = np.asarray(x, dtype="float32")
    results = []
    for start in range(0, len(x), batch_size):
        labels_batch = None if labels is None else labels[start : start + batch_size]
        outputs = function(x[start : start + batch_size], labels_batch)
        results.append(keras.tree.map_structure(ops.convert_to_numpy, outputs))
    if not results:
        raise ValueError("Expected at least one input. Received an empty array.")
    return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *results)
