"""Early stopping that a resumed run continues where the stopped one was."""

import keras
import numpy as np

from keras_vae.experiments import backup

MONITOR = "val_elbo"


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras' `EarlyStopping` on the validation ELBO, restoring the best
    weights, that starts from the epochs a resumed run trained before.

    Keras' callback starts from nothing at every `fit`: a run resumed after
    some epochs would count its patience and pick its best weights among the
    new epochs only, and end with other weights than the uninterrupted run.
    Here the history so far gives the best epoch, its value and the epochs
    waited since (as Keras' callback would have counted them), and the
    backup's generation of the best epoch gives its weights (`EpochBackup`
    keeps it).

    Args:
        patience: Integer, epochs without improvement before stopping.
        history: List of dicts, the history rows of the epochs trained before.
        best_weights: The model's weights (`get_weights()` order) at the end
            of the best epoch of `history`, or `None` if `history` is empty.
    """

    def __init__(self, patience, history=(), best_weights=None):
        super().__init__(
            monitor=MONITOR, mode="min", patience=patience, restore_best_weights=True
        )
        self.history = list(history)
        self.resumed_best_weights = best_weights
        self.stopped_before = False  # the stopped run had stopped already
        self._replay()

    def _replay(self):
        """Keras' `on_epoch_end` over the history, without the weights."""
        self.wait, self.best, self.best_epoch = 0, None, 0
        for row in self.history:
            current = row.get(MONITOR)
            if current is None:
                continue
            epoch = int(row["epoch"])
            if self.best is None:
                self.best_epoch = epoch
            self.wait += 1
            if self.best is None or np.less(current, self.best):
                self.best, self.best_epoch, self.wait = current, epoch, 0
            elif self.wait >= self.patience and epoch > 0:
                self.stopped_before = True
        self._resumed = (self.wait, self.best, self.best_epoch)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.history:
            self.wait, self.best, self.best_epoch = self._resumed
            self.best_weights = self.resumed_best_weights


def best_epoch(rows):
    """The 0-based epoch whose weights `EarlyStopping` keeps, or `None`."""
    if not rows:
        return None
    callback = EarlyStopping(patience=len(rows) + 1, history=rows)
    return callback.best_epoch if callback.best is not None else None


def kept_generation(rows):
    """The backup generation (1-based epoch) `EarlyStopping` may need."""
    best = best_epoch(rows)
    return None if best is None else best + 1


def resumed(patience, rows, model, folder):
    """The `EarlyStopping` of a run resumed after `rows`' epochs, with the
    best epoch's weights read from the backup `folder` (the current weights
    when the last epoch is the best).

    Returns:
        Tuple `(callback, note)`: `note` is `None`, or the line to print when
        the backup lacks the best epoch's weights (one written before it
        kept them) and the callback starts from the resumed epoch.
    """
    best = best_epoch(rows)
    if best is None:
        return EarlyStopping(patience), None
    if best == int(rows[-1]["epoch"]):
        return EarlyStopping(patience, rows, model.get_weights()), None
    try:
        weights = backup.read_model_weights(model, folder, best + 1)
    except ValueError as error:
        note = (
            f"Early stopping starts again after epoch {len(rows)}: the weights of "
            f"its best epoch, {best + 1}, are not in the backup ({error})."
        )
        return EarlyStopping(patience), note
    return EarlyStopping(patience, rows, weights), None
