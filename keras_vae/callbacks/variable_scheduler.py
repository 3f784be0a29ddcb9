import math

import keras

from keras_vae.layers import KLRegularizer


class VariableScheduler(keras.callbacks.Callback):
    """Sets a model variable from `schedule(step)` during `fit`.

    The base of `BetaScheduler` and `CapacityScheduler`. The step is the
    number of training batches seen, counted from the optimizer's iterations
    when `fit` starts, so a resumed run continues its schedule.

    Args:
        schedule: Callable `step -> float`, e.g. a
            `keras_vae.schedules.LinearWarmup`.
        update_freq: String, `"batch"` (before every training batch, or
            every `steps_per_execution` batches) or `"epoch"` (at the start
            of each epoch). Defaults to `"batch"`.
        verbose: Integer, `1` prints the value at the start of each epoch.
            Defaults to `0`.
    """

    name = None

    def __init__(self, schedule, update_freq="batch", verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "Invalid value received for argument `schedule`. Expected a "
                "callable step -> float, such as keras_vae.schedules.LinearWarmup. "
                f"Received: schedule={schedule!r}"
            )
        if update_freq not in ("batch", "epoch"):
            raise ValueError(
                "Invalid value received for argument `update_freq`. Expected "
                f"'batch' or 'epoch'. Received: update_freq={update_freq!r}"
            )
        self.schedule = schedule
        self.update_freq = update_freq
        self.verbose = verbose
        self._value = None

    def variable(self, model):
        """The model's non-trainable variable to drive; raises if it has none."""
        raise NotImplementedError

    def on_train_begin(self, logs=None):
        self.variable(self.model)  # a model without it fails before any step
        self._completed = self._iterations()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = self._completed
        self._update(self._completed)
        if self.verbose:
            print(f"Epoch {epoch + 1}: {self.name} = {self._value:.6g}")

    def on_train_batch_begin(self, batch, logs=None):
        if self.update_freq == "batch":
            self._update(self._epoch_start + batch)

    def on_epoch_end(self, epoch, logs=None):
        # Batch indices are exact at the start of an execution only (Keras
        # reports the end of a short last execution as if it were full).
        self._completed = self._iterations()
        if logs is not None and self._value is not None:
            logs[self.name] = self._value

    def _iterations(self):
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def _update(self, step):
        value = float(self.schedule(step))
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"The {self.name} schedule returned {value} at step {step}. "
                "Expected a finite number >= 0."
            )
        if value != self._value:
            # Through `self.model`, as every Keras callback: on JAX, `fit` keeps
            # the variables in its own state during an epoch, and reading
            # `self.model` writes that back and makes the next step read the
            # variables, so the assignment reaches it. Only on a change: on JAX
            # it costs a sync.
            self.variable(self.model).assign(value)
            self._value = value


def kl_regularizer(model):
    """The model's `KLRegularizer` (a keras_vae model's, or the first found)."""

    def walk(layer):
        for sublayer in getattr(layer, "layers", ()):
            yield sublayer
            yield from walk(sublayer)

    layers = [model.kl_regularizer] if hasattr(model, "kl_regularizer") else []
    layers = layers or [
        layer for layer in walk(model) if isinstance(layer, KLRegularizer)
    ]
    if not layers:
        raise ValueError(
            f"{type(model).__name__} has no KLRegularizer layer whose beta or "
            "capacity a scheduler could drive. Use a keras_vae model or a model "
            "that contains keras_vae.layers.KLRegularizer."
        )
    return layers[0]
