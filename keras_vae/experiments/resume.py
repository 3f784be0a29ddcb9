"""Run folders that survive a crash: claim a folder, back up each epoch, resume.

`keras-vae train --out DIR` backs the model and optimizer up after every epoch
(`keras_vae.experiments.backup`, in `DIR/.backup`). Started again with the
same settings on a folder whose run did not finish, it continues from the last
backed-up epoch, with the history of the epochs before.

`claim` decides what a command may do with a folder before anything runs and
writes nothing; `begin` then creates the folder, takes its lock and, for an
overwrite, removes the files of the run it replaces.
"""

import json
import os

from keras_vae import settings as config_lib
from keras_vae.experiments import backup, run_folder

BACKUP_DIR = run_folder.BACKUP_DIR
NEW, RESUME, OVERWRITE = "new", "resume", "overwrite"


def claim(out, config, overwrite=False, _locked=False):
    """What `train` may do with the folder `out`, decided before anything runs.

    Returns:
        `NEW` (no run there), `RESUME` (an unfinished run with the same
        settings) or `OVERWRITE` (a run that `overwrite=True` replaces).

    Raises:
        ValueError: if `out` is a file, holds files keras-vae did not write, is
            in use by another command, holds a finished run and `overwrite`
            is false, or an unfinished run with other settings.
    """
    if not run_folder.check_folder(out, "run"):
        return NEW
    if not _locked:
        run_folder.check_unlocked(out)
    if overwrite:
        return OVERWRITE
    if os.path.exists(os.path.join(out, "model.keras")):
        raise ValueError(
            f"{out} already holds a finished run; choose another `out`, or pass "
            "`overwrite=True` to replace it."
        )
    try:
        saved = read_config(out)
    except ValueError as error:
        raise ValueError(f"{error} Pass `overwrite=True` to replace the run.") from None
    if saved is None:
        return NEW
    differences = differences_between(saved, config)
    if differences:
        raise ValueError(
            f"{out} holds an unfinished run with other settings ("
            + ", ".join(differences[:4])
            + "); start it again with its own settings to resume it, or pass "
            "`overwrite=True` to replace it."
        )
    return RESUME


def read_config(out):
    """The `config.json` of the run folder `out`, or `None` if it has none.

    Raises:
        ValueError: if the file is not a JSON object of run settings.
    """
    path = os.path.join(out, "config.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as file:
            config = json.load(file)
    except (ValueError, UnicodeDecodeError) as error:
        config, reason = None, str(error)
    else:
        reason = "it holds no run settings"
    if not isinstance(config, dict) or "model" not in config:
        raise ValueError(
            f"{path} is not the config.json of a run ({reason}); it is written by "
            "keras-vae train."
        )
    return config


def differences_between(saved, config):
    """The settings in which two run configurations differ, as
    `"name old -> new"` strings."""
    saved, wanted = _settings(saved), _settings(config)
    return [
        f"{key} {saved[key]!r} -> {value!r}"
        for key, value in wanted.items()
        if saved[key] != value
    ]


def _settings(config):
    # A setting added since the run was written: it ran with the default.
    defaults = config_lib.DEFAULTS
    values = {key: config.get(key, defaults[key]) for key in defaults}
    values = config_lib.record(values)
    if values.get("data_path"):
        values["data_path"] = os.path.abspath(values["data_path"])
    if values.get("image_size") is not None:
        values["image_size"] = list(values["image_size"])
    return values


def begin(out, config, state, command="keras-vae train"):
    """Creates `out` with its marker, takes its lock, checks that the folder
    still is what `claim` found, and empties it of the replaced run's files
    for `OVERWRITE`.

    Returns:
        The held `run_folder.Lock`; release it when the command ends.
    """
    os.makedirs(out, exist_ok=True)
    lock = run_folder.Lock(out, command).acquire()
    try:
        found = claim(out, config, state == OVERWRITE, _locked=True)
        if found != state:
            raise ValueError(
                f"{out} changed while this command prepared its data; run the "
                "command again."
            )
        if state == OVERWRITE:
            run_folder.remove_own_files(out)
        run_folder.create(out, "run")
    except BaseException:
        lock.release()
        raise
    return lock


def backed_up_epochs(out):
    """Epochs completed according to the folder's backup (0 without one)."""
    return backup.latest_epoch(os.path.join(out, BACKUP_DIR))


def history_rows(out):
    """The rows of `history.csv` as dicts of floats, epoch by epoch."""
    return backup.read_history(os.path.join(out, "history.csv"))
