"""Data checks and batching shared by the keras_vae models."""

import contextlib
import inspect
import signal
import sys
import threading

import keras
import numpy as np
from keras import ops

from keras_vae import checks, private_api


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


def reshuffled_every_epoch(x, y, args, kwargs):
    """`fit`'s arguments, with arrays shuffled anew every epoch on TensorFlow.

    Keras' TensorFlow backend shuffles arrays with a random operation inside
    a `tf.data` pipeline that starts again with every epoch once a global
    seed is set (`keras.utils.set_random_seed`): every epoch would see the
    same batches in the same order. There, arrays given with `shuffle=True`
    (the default) become the pipeline of
    `keras_vae.datasets.Preprocessing.training_inputs`, which takes a new
    order every epoch, seeded from NumPy's global generator (so by
    `set_random_seed`); `validation_split` is taken first, as Keras takes
    it. Other data, other backends, `shuffle` `False` or `"batch"` and
    `steps_per_epoch` are left to Keras.

    Returns:
        Tuple `(x, y, args, kwargs)` for `fit`.
    """
    if keras.backend.backend() != "tensorflow" or not is_array(x):
        return x, y, args, kwargs
    if y is not None and not is_array(y):
        return x, y, args, kwargs
    try:
        bound = inspect.signature(keras.Model.fit).bind(None, x, y, *args, **kwargs)
    except TypeError:
        return x, y, args, kwargs  # Keras says what is wrong
    arguments = dict(bound.arguments)
    arguments.pop("self")
    arguments.update(arguments.pop("kwargs", {}))
    if arguments.get("shuffle", True) is not True or arguments.get("steps_per_epoch"):
        return x, y, args, kwargs
    from keras_vae.datasets import preprocessing

    split = arguments.get("validation_split") or 0.0
    if split:
        (x, y, _), validation = private_api.train_validation_split((x, y, None), split)
        if arguments.get("validation_data") is None:
            arguments["validation_data"] = tuple(
                part for part in validation if part is not None
            )
    floatx = keras.config.floatx()
    if isinstance(x, np.ndarray) and x.dtype != floatx:
        x = x.astype(floatx)  # as Keras' adapter casts
    seed = int(np.random.randint(2**31 - 1))
    batch_size = arguments.get("batch_size") or 32
    arrays = (x,) if y is None else (x, y)
    arguments.update(
        x=preprocessing._gathered_batches(arrays, batch_size, seed),
        y=None,
        batch_size=None,
        shuffle=False,
        validation_split=0.0,
        # Keras batches validation arrays by `batch_size` when not told.
        validation_batch_size=arguments.get("validation_batch_size") or batch_size,
    )
    x, y = arguments.pop("x"), arguments.pop("y")
    return x, y, (), arguments


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


def batched(function, x, labels, batch_size, pad=False):
    """Applies `function(x_batch, labels_batch)` in batches; returns NumPy arrays.

    With `pad=True` a last, shorter batch is padded to `batch_size` (and its
    outputs trimmed), so that a compiled `function` sees one batch shape.
    """
    checks.positive_integer("batch_size", batch_size)
    x = np.asarray(x, dtype="float32")
    if len(x) == 0:
        raise ValueError("Expected at least one input. Received an empty array.")
    results = []
    for start in range(0, len(x), batch_size):
        x_batch = x[start : start + batch_size]
        labels_batch = None if labels is None else labels[start : start + batch_size]
        count = len(x_batch)
        if pad and start > 0 and count < batch_size:
            x_batch = _pad(x_batch, batch_size)
            labels_batch = None if labels is None else _pad(labels_batch, batch_size)
        outputs = function(x_batch, labels_batch)
        results.append(
            [
                ops.convert_to_numpy(output)[:count]
                for output in keras.tree.flatten(outputs)
            ]
        )
    if len(results[0]) == 1:
        return np.concatenate([parts[0] for parts in results])
    return tuple(np.concatenate(parts) for parts in zip(*results, strict=True))


def _pad(batch, size):
    batch = np.asarray(batch)
    padding = np.zeros((size - len(batch),) + batch.shape[1:], batch.dtype)
    return np.concatenate([batch, padding])


class BatchCountingProgbar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, counting batches right with `steps_per_execution`.

    Keras reports the last batch of a call as `first + steps_per_execution -
    1`, also for the last, shorter call of an epoch: its bar reads `32/21`.
    Here a batch index never passes the epoch's last batch.
    """

    def _counted(self, batch):
        return batch if self.target is None else min(batch, self.target - 1)

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(self._counted(batch), logs)

    def on_test_batch_end(self, batch, logs=None):
        super().on_test_batch_end(self._counted(batch), logs)

    def on_predict_batch_end(self, batch, logs=None):
        super().on_predict_batch_end(self._counted(batch), logs)


def with_progress_bar(keywords):
    """`fit`/`evaluate`/`predict` keyword arguments whose callbacks hold a
    `BatchCountingProgbar` where Keras would add its own progress bar."""
    callbacks = keywords.get("callbacks")
    if keywords.get("verbose", "auto") == 0 or isinstance(
        callbacks, keras.callbacks.CallbackList
    ):
        return keywords
    callbacks = keras.tree.flatten(callbacks) if callbacks else []
    if not any(isinstance(c, keras.callbacks.ProgbarLogger) for c in callbacks):
        callbacks.append(BatchCountingProgbar())
    return {**keywords, "callbacks": callbacks}


class _RaiseKeptInterrupt(keras.callbacks.Callback):
    """Raises the Ctrl-C that `interrupts_kept` saw and Keras swallowed, at
    the next batch or epoch (batch-begin hooks: Keras dispatches them in the
    main thread, and they leave its asynchronous batch-end callbacks on)."""

    def __init__(self, pending):
        super().__init__()
        self.pending = pending

    def _check(self, *args, **kwargs):
        if self.pending:
            self.pending.clear()
            raise KeyboardInterrupt

    on_train_batch_begin = on_test_batch_begin = on_predict_batch_begin = _check
    on_epoch_end = on_test_end = on_predict_end = _check


@contextlib.contextmanager
def interrupts_kept(keywords):
    """`fit`/`evaluate`/`predict` keyword arguments with which Ctrl-C stops
    the call wherever it lands.

    Keras converts each batch's logs to floats under a bare `except: pass`
    (`keras.src.utils.python_utils.pythonify_logs`), and on JAX that is where
    the main thread waits for the compiled step: a Ctrl-C there was swallowed
    and training went on (the same for one that lands in a garbage
    collector's callback, which Python ignores). While the call runs, Ctrl-C
    is also recorded, and a callback raises it again at the next batch.
    Only in the main thread with Python's own handler; nested calls (the
    validation inside `fit`) share the outer call's.
    """
    callbacks = keywords.get("callbacks")
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
        or isinstance(callbacks, keras.callbacks.CallbackList)
    ):
        yield keywords
        return
    pending = []

    def handler(signum, frame):
        pending.append(signum)
        raise KeyboardInterrupt

    callbacks = keras.tree.flatten(callbacks) if callbacks else []
    callbacks = [*callbacks, _RaiseKeptInterrupt(pending)]
    signal.signal(signal.SIGINT, handler)
    try:
        yield {**keywords, "callbacks": callbacks}
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
