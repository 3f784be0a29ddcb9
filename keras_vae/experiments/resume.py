"""Run folders that survive a crash: claim a folder, back up each epoch, resume.

`keras-vae train --out DIR` backs the model and optimizer up after every epoch
(Keras' `BackupAndRestore`, in `DIR/.backup`). Started again with the same
settings on a folder whose run did not finish, it continues from the last
backed-up epoch; `history.csv` is cut back to that epoch first, so it ends
without gaps or repeated epochs.
"""

import csv
import json
import os
import shutil

from keras_vae import settings as config_lib

BACKUP_DIR = ".backup"
NEW, RESUME, OVERWRITE = "new", "resume", "overwrite"


def claim(out, config, overwrite=False):
    """What `train` may do with the folder `out`, decided before anything runs.

    Returns:
        `NEW` (no run there), `RESUME` (an unfinished run with the same
        settings) or `OVERWRITE` (a run that `overwrite=True` replaces).

    Raises:
        ValueError: if `out` holds a finished run and `overwrite` is false, or
            an unfinished run with other settings.
    """
    finished = os.path.exists(os.path.join(out, "model.keras"))
    config_path = os.path.join(out, "config.json")
    if overwrite and (finished or os.path.exists(config_path)):
        return OVERWRITE
    if finished:
        raise ValueError(
            f"{out} already holds a finished run; choose another --out, or pass "
            "--overwrite to replace it."
        )
    if not os.path.exists(config_path):
        return NEW
    with open(config_path) as file:
        saved = json.load(file)
    saved, wanted = _settings(saved), _settings(config)
    differences = [
        f"{key} {saved[key]!r} -> {value!r}"
        for key, value in wanted.items()
        if saved[key] != value
    ]
    if differences:
        raise ValueError(
            f"{out} holds an unfinished run with other settings ("
            + ", ".join(differences[:4])
            + "); start it again with its own settings to resume it, or pass "
            "--overwrite to replace it."
        )
    return RESUME


def _settings(config):
    values = {key: config.get(key) for key in config_lib.DEFAULTS}
    if values.get("data_path"):
        values["data_path"] = os.path.abspath(values["data_path"])
    if values.get("image_size") is not None:
        values["image_size"] = list(values["image_size"])
    return values


def prepare(out, state):
    """Empties a folder to overwrite, or cuts `history.csv` back to the last
    backed-up epoch of a run to resume. Returns the number of epochs done."""
    if state == OVERWRITE:
        shutil.rmtree(out)
        return 0
    if state == NEW:
        return 0
    _repair_backup(out)
    done = backed_up_epochs(out)
    history = os.path.join(out, "history.csv")
    if os.path.exists(history):
        with open(history, newline="") as file:
            rows = list(csv.reader(file))
        kept = rows[: 1 + done] if done else []
        with open(history, "w", newline="") as file:
            csv.writer(file).writerows(kept)
        if not kept:
            os.remove(history)
    return done


# Keras' BackupAndRestore files, and with `double_checkpoint=True` the
# previous generation beside them (`.bkp`).
_WEIGHTS, _METADATA = "latest.weights.h5", "training_metadata.json"


def backed_up_epochs(out):
    """Epochs completed according to the folder's backup (0 without one).

    When the latest metadata cannot be read (the run was killed while Keras
    wrote it), the previous generation counts, as `prepare` restores it.
    """
    backup = os.path.join(out, BACKUP_DIR)
    epoch = _read_epoch(os.path.join(backup, _METADATA))
    if epoch is None:
        epoch = _previous_epoch(backup)
    return epoch or 0


def _previous_epoch(backup):
    """The epoch of the previous backup generation, `None` without a whole one."""
    if not os.path.exists(os.path.join(backup, _WEIGHTS + ".bkp")):
        return None
    return _read_epoch(os.path.join(backup, _METADATA + ".bkp"))


def _read_epoch(path):
    try:
        with open(path) as file:
            return int(json.load(file)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _repair_backup(out):
    """Falls back to the previous backup when the latest metadata is unreadable.

    Keras writes the weights, then truncates and writes the metadata; a kill in
    between leaves an empty or cut-short `training_metadata.json`, from which
    Keras' `BackupAndRestore` does not recover (it falls back to its previous
    generation only when the weights fail to load). The previous generation
    (`.bkp`) is whole and consistent, one epoch earlier: restore it, or start
    over when there is none.
    """
    backup = os.path.join(out, BACKUP_DIR)
    metadata = os.path.join(backup, _METADATA)
    if not os.path.exists(metadata) or _read_epoch(metadata) is not None:
        return
    restore = _previous_epoch(backup) is not None
    for name in (_WEIGHTS, _METADATA):
        latest = os.path.join(backup, name)
        if restore:
            shutil.copyfile(latest + ".bkp", latest)
        elif os.path.exists(latest):
            os.remove(latest)


def history_rows(out):
    """The rows of `history.csv` as dicts of floats, epoch by epoch."""
    with open(os.path.join(out, "history.csv"), newline="") as file:
        return [
            {key: float(value) for key, value in row.items()}
            for row in csv.DictReader(file)
        ]
