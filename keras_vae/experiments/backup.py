"""A crash-safe backup of a training run: one generation per epoch, each whole
or absent.

A generation is a folder `epoch-NNNNNN` holding every variable of the model
and of its optimizer (`state.npz`: weights, the optimizer's moments and step
count, the sampling seed's state, and the state of the generators that
shuffle arrays: NumPy's, and PyTorch's on its backend) and `metadata.json`:
the epoch, the step count, the state file's SHA-256 and the history rows so
far. It is written under a temporary name, flushed to the disk (fsync) and
renamed: a kill, Ctrl-C or a full disk at any instant leaves the previous
generation, or the new one, never a mixture. The two newest generations are
kept. `restore` loads the newest generation that verifies (checksum, every
variable's shape, the step count) and refuses a backup none of whose
generations does. A run resumed from it trains as the uninterrupted run
would have, to the last bit where the backend is deterministic.
"""

import csv
import errno
import hashlib
import json
import os
import shutil
import tempfile

import keras
import numpy as np

from keras_vae.files import atomic_path, sync

WEIGHTS = "state.npz"
METADATA = "metadata.json"
_PREFIX = "epoch-"
_KEEP = 2


class EpochBackup(keras.callbacks.Callback):
    """Backs the model and its optimizer up after every epoch, and writes the
    history of every epoch so far to `history_path` (a CSV file).

    An epoch whose loss is NaN or infinite is recorded in the history but not
    backed up: a resumed run continues from the last finite epoch.

    Args:
        folder: String, the backup folder, or `None` to write only the history.
        history_path: String, the CSV file of the history.
        history: List of dicts, the rows of the epochs trained before (from
            `restore`).
        keep: Callable mapping the history rows to the epoch (1-based) of one
            more generation to keep, or to `None` (early stopping keeps its
            best epoch's).
    """

    def __init__(self, folder, history_path, history=(), keep=None):
        super().__init__()
        self.folder = folder
        self.history_path = history_path
        self.rows = list(history)
        self.keep = keep

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch}
        row.update({key: float(value) for key, value in (logs or {}).items()})
        finite = all(np.isfinite(value) for value in row.values())
        self.rows.append(row)
        if finite and self.folder is not None:
            also = self.keep(self.rows) if self.keep else None
            save(self.model, self.folder, epoch + 1, self.rows, also)
        write_history(self.history_path, self.rows)


def save(model, folder, epoch, rows, also=None):
    """Writes generation `epoch` of `model` into `folder`, then removes all but
    the two newest generations (and generation `also`).

    Raises:
        OSError: if the disk is full or the folder cannot be written; the
            previous generations are left as they were.
    """
    os.makedirs(folder, exist_ok=True)
    _check_space(folder, model)
    partial = tempfile.mkdtemp(prefix=".partial-", dir=folder)
    try:
        weights = os.path.join(partial, WEIGHTS)
        write_weights(model, weights)
        metadata = {
            "epoch": epoch,
            "iterations": _iterations(model),
            "sha256": _digest(weights),
            "history": rows,
            "backend": keras.backend.backend(),
        }
        write_metadata(os.path.join(partial, METADATA), metadata)
        sync(partial)
        final = os.path.join(folder, f"{_PREFIX}{epoch:06d}")
        if os.path.exists(final):
            shutil.rmtree(final)
        os.rename(partial, final)
        sync(folder)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        # Name the backup folder, not the temporary one.
        raise OSError(error.errno, error.strerror, folder) from None
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    prune(folder, also=also)


def prune(folder, keep=_KEEP, also=None):
    """Removes all but the `keep` newest generations (and generation `also`,
    an epoch), and partial ones."""
    for name in os.listdir(folder):
        if name.startswith(".partial-"):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
    for name in generations(folder)[:-keep]:
        if also is None or name != f"{_PREFIX}{also:06d}":
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)


def write_weights(model, path):
    """Every variable of the model and its optimizer, flushed to the disk.

    `model.save_weights` would leave out the sampling seed's state, and HDF5
    does not always survive a full disk; a plain `.npz` of the variables in
    order does neither.
    """
    values = {
        f"{index:05d}": keras.ops.convert_to_numpy(variable)
        for index, variable in enumerate(_variables(model))
    }
    values.update(_random_state())
    with open(path, "wb") as file:
        np.savez(file, **values)
        file.flush()
        os.fsync(file.fileno())


def _variables(model):
    return list(model.variables) + list(model.optimizer.variables)


# `fit` shuffles arrays with NumPy's global generator on JAX and PyTorch's on
# PyTorch (whose traced step draws its noise there too); each epoch draws its
# order when it begins. `tf.data` pipelines (TensorFlow's arrays, dynamic
# binarization) draw theirs from their own seeds: `Preprocessing.skip_epochs`.
_NUMPY_STATE = ("numpy_keys", "numpy_position", "numpy_gauss", "numpy_cached")


def _random_state():
    _, keys, position, gauss, cached = np.random.get_state()
    state = dict(zip(_NUMPY_STATE, (keys, position, gauss, cached), strict=True))
    state = {name: np.asarray(value) for name, value in state.items()}
    if keras.backend.backend() == "torch":
        import torch

        state["torch"] = torch.get_rng_state().numpy()
    return state


def _set_random_state(values):
    if all(name in values for name in _NUMPY_STATE):
        keys, position, gauss, cached = (values[name] for name in _NUMPY_STATE)
        np.random.set_state(("MT19937", keys, int(position), int(gauss), float(cached)))
    if "torch" in values and keras.backend.backend() == "torch":
        import torch

        torch.set_rng_state(torch.from_numpy(values["torch"]))


def write_metadata(path, metadata):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(metadata, file)
        file.flush()
        os.fsync(file.fileno())


def generations(folder):
    """Names of the generations in `folder`, oldest first."""
    if not os.path.isdir(folder):
        return []
    return sorted(
        name
        for name in os.listdir(folder)
        if name.startswith(_PREFIX) and name[len(_PREFIX) :].isdigit()
    )


def latest_epoch(folder):
    """The epoch of the newest generation whose metadata reads, or 0."""
    for name in reversed(generations(folder)):
        try:
            return _read_metadata(os.path.join(folder, name))["epoch"]
        except ValueError:
            continue
    return 0


def restore(model, folder):
    """Loads the newest generation that verifies into `model` (built, with its
    optimizer built).

    Returns:
        Tuple `(epoch, rows)`: the epochs done and the history rows; `(0, [])`
        when the folder holds no generation.

    Raises:
        ValueError: if generations exist and none of them verifies; the
            message says why for each.
    """
    failures = []
    for name in reversed(generations(folder)):
        generation = os.path.join(folder, name)
        try:
            metadata = _read_metadata(generation)
            _load(model, generation, metadata)
        except ValueError as error:
            failures.append(f"{name}: {error}")
            continue
        return metadata["epoch"], metadata["history"]
    if failures:
        raise ValueError(
            f"The backup in {folder} cannot be restored ("
            + "; ".join(failures)
            + "); pass `overwrite=True` to start the run again."
        )
    return 0, []


def read_model_weights(model, folder, epoch):
    """The model's weights (`model.get_weights()` order) in generation
    `epoch` of `folder`.

    Raises:
        ValueError: if the generation is missing or does not verify.
    """
    generation = os.path.join(folder, f"{_PREFIX}{epoch:06d}")
    metadata = _read_metadata(generation)
    weights = os.path.join(generation, WEIGHTS)
    try:
        if _digest(weights) != metadata["sha256"]:
            raise ValueError(f"{WEIGHTS} of epoch {epoch} is not the file written")
        with np.load(weights, allow_pickle=False) as file:
            saved = {name: file[name] for name in file.files if name.isdigit()}
    except OSError as error:
        raise ValueError(f"unreadable {WEIGHTS} ({error.strerror})") from None
    index = {id(variable): i for i, variable in enumerate(_variables(model))}
    values = [saved[name] for name in sorted(saved)]
    if len(values) != len(index):
        raise ValueError(f"{WEIGHTS} of epoch {epoch} does not fit the model")
    return [values[index[id(weight)]] for weight in model.weights]


def _read_metadata(generation):
    try:
        with open(os.path.join(generation, METADATA), encoding="utf-8") as file:
            metadata = json.load(file)
        epoch = metadata["epoch"]
        if not isinstance(epoch, int) or epoch < 1:
            raise ValueError(f"epoch {epoch!r}")
        if not isinstance(metadata["history"], list):
            raise ValueError("no history")
        missing = {"iterations", "sha256"} - set(metadata)
        if missing:
            raise ValueError(f"no {', '.join(sorted(missing))}")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"unreadable {METADATA} ({error})") from None
    return metadata


def _load(model, generation, metadata):
    weights = os.path.join(generation, WEIGHTS)
    try:
        digest = _digest(weights)
    except OSError as error:
        raise ValueError(f"unreadable {WEIGHTS} ({error.strerror})") from None
    if digest != metadata["sha256"]:
        raise ValueError(f"{WEIGHTS} is not the file that was written (checksum)")
    variables = _variables(model)
    try:
        with np.load(weights, allow_pickle=False) as file:
            saved = {name: file[name] for name in file.files}
    except (OSError, ValueError, KeyError) as error:
        raise ValueError(f"unreadable {WEIGHTS} ({error})") from None
    values = [saved[name] for name in sorted(saved) if name.isdigit()]
    if len(values) != len(variables):
        raise ValueError(
            f"{WEIGHTS} does not fit the model ({len(values)} variables saved, "
            f"{len(variables)} in the model and its optimizer)"
        )
    for variable, value in zip(variables, values, strict=True):
        if tuple(variable.shape) != value.shape:
            raise ValueError(
                f"{WEIGHTS} does not fit the model ({variable.path}: shape "
                f"{value.shape} saved, {tuple(variable.shape)} in the model)"
            )
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)
    if _iterations(model) != metadata["iterations"]:
        raise ValueError(
            f"the optimizer's step count is {_iterations(model)} after loading, "
            f"{metadata['iterations']} when saved"
        )
    _set_random_state(saved)


def write_history(path, rows):
    """Writes history rows (dicts with `epoch` first) as CSV, atomically; no
    rows: no file."""
    if not rows:
        if os.path.exists(path):
            os.remove(path)
        return
    keys = ["epoch"] + sorted({key for row in rows for key in row} - {"epoch"})
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=keys, restval="")
            writer.writeheader()
            writer.writerows(rows)


def read_history(path):
    """The rows of a history CSV file as dicts of floats, epoch by epoch."""
    with open(path, newline="", encoding="utf-8") as file:
        return [
            {key: float(value) for key, value in row.items() if value != ""}
            for row in csv.DictReader(file)
        ]


def _iterations(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def _digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_space(folder, model):
    """Fails before writing when the disk cannot hold a generation, rather
    than in the middle of a file."""
    needed = sum(
        np.dtype(variable.dtype).itemsize * int(np.prod(variable.shape))
        for variable in _variables(model)
    )
    needed = int(needed * 1.1) + (1 << 20)
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(
            errno.ENOSPC,
            f"{os.strerror(errno.ENOSPC)} (a backup needs {needed / 1e6:.1f} MB, "
            f"{free / 1e6:.1f} MB are free)",
            folder,
        )
