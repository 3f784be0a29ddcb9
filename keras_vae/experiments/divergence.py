"""Training that diverges: stop, keep the last finite epoch, say which epoch."""

import os

import keras
import numpy as np

from keras_vae.files import atomic_path


class StopOnDivergence(keras.callbacks.Callback):
    """Stops `fit` after the first epoch whose loss is NaN or infinite and
    restores the weights of the last epoch that ended finite.

    Checked once per epoch (a check per batch would stall JAX's asynchronous
    steps): a diverging epoch runs to its end, then training stops.
    """

    def __init__(self):
        super().__init__()
        self.diverged_epoch = None  # 0-based
        self.good_epochs = 0
        self._weights = None

    def on_train_begin(self, logs=None):
        self._weights = self.model.get_weights()

    def on_epoch_end(self, epoch, logs=None):
        values = [value for key, value in (logs or {}).items() if key.endswith("loss")]
        if all(np.isfinite(float(value)) for value in values):
            self._weights = self.model.get_weights()
            self.good_epochs = epoch + 1
            return
        self.diverged_epoch = epoch
        self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.diverged_epoch is not None:
            self.model.set_weights(self._weights)


LAST_GOOD_FILE = "last_good.keras"


def report(model, config, out, guard):
    """Saves the last finite weights, if an epoch ended finite, and raises."""
    kept = "no epoch ended with a finite loss, so no model is saved"
    if guard.good_epochs:
        path = os.path.join(out, LAST_GOOD_FILE)
        with atomic_path(path) as temporary:
            model.save(temporary)
        kept = f"the model after epoch {guard.good_epochs} is saved as {path}"
    raise ValueError(
        f"Training diverged: the loss became NaN or infinite in epoch "
        f"{guard.diverged_epoch + 1} of {config['epochs']} (learning rate "
        f"{config['learning_rate']:g}, parameterization "
        f"{config['parameterization']}); {kept}. Try a lower `learning_rate`."
    )
