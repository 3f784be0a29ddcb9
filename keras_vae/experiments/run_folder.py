"""Folders that keras-vae writes: recognised by a marker, used by one command at
a time, and emptied of nothing but their own files.

A run folder (`keras-vae train --out DIR`) and a sweep folder hold a marker
file, `.keras-vae`, written when the command creates the folder. `--overwrite`
removes only the files the command writes (`RUN_FILES`, `SWEEP_FILES`); a
folder without the marker that holds anything is refused, with or without
`--overwrite`. While a command writes the folder it holds a lock on
`.keras-vae.lock`: a second command on the same folder stops at once with a
line naming the first. The operating system releases the lock when the
process ends, however it ends, so a lock file left by a killed process is not
held and is taken over.
"""

import datetime
import errno
import json
import os
import shutil
import socket
import sys

from keras_vae import files
from keras_vae.files import write_json

MARKER = ".keras-vae"
LOCK = ".keras-vae.lock"
BACKUP_DIR = ".backup"

# Every name `keras-vae train` writes in a run folder (a test keeps this
# complete): what `--overwrite` may remove.
RUN_FILES = (
    MARKER,
    BACKUP_DIR,
    "config.json",
    "history.csv",
    "metrics.json",
    "model.keras",
    "latent_mixture.npz",
    "last_good.keras",
    ".trained.keras",  # a multi-worker run's model, between fit and evaluation
    "classifier.keras",  # written into run folders by releases up to 0.1.0
    "latent_tsne.png",
    "reconstructions.png",
    "samples.png",
    "conditioned.png",
    "manifold.png",
    "traversal.png",
)
SWEEP_FILES = (MARKER, "sweep.csv", "sweep.png", "rate_distortion.png")


def _is_partial(name):
    """A temporary file of `keras_vae.files.atomic_path` left by a kill."""
    return name.startswith(".") and ".partial" in name


def check_folder(path, kind="run"):
    """Raises unless `path` is new, empty, or a folder of `kind` written by
    keras-vae; returns whether it is one.

    Reads only: nothing is created.

    Raises:
        ValueError: if `path` is a file, or a folder that holds files
            keras-vae did not write (or a folder of another kind).
    """
    if not os.path.lexists(path):
        files.check_creatable(path)
        return False
    if not os.path.isdir(path):
        raise ValueError(
            f"{path} is a file, not a folder; expected a new or empty folder, or "
            f"a keras-vae {kind} folder. Choose another `out`."
        )
    marker = read_marker(path)
    if marker is None:
        names = sorted(set(os.listdir(path)) - {LOCK})
        if names:
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            raise ValueError(
                f"{path} holds files keras-vae did not write ({shown}) and no "
                f"{MARKER} marker; expected a new or empty folder, or a keras-vae "
                f"{kind} folder. Choose another `out`: keras-vae never writes "
                "into or deletes other files."
            )
        return False
    if marker.get("kind") != kind:
        raise ValueError(
            f"{path} is a keras-vae {marker.get('kind')} folder; expected a new "
            f"folder or a {kind} folder. Choose another `out`."
        )
    return True


def read_marker(path):
    """The marker's contents, or `None` if `path` holds no readable marker."""
    try:
        with open(os.path.join(path, MARKER), encoding="utf-8") as file:
            marker = json.load(file)
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def create(path, kind="run"):
    """Creates `path` (and its parents) with its marker, if it has none."""
    os.makedirs(path, exist_ok=True)
    if read_marker(path) is None:
        from keras_vae import __version__

        write_json(
            os.path.join(path, MARKER),
            {
                "kind": kind,
                "keras_vae": __version__,
                "created": datetime.datetime.now().isoformat(timespec="seconds"),
            },
        )


def remove_own_files(path, own_files=RUN_FILES):
    """Removes what keras-vae wrote in `path`; other files stay."""
    for name in os.listdir(path):
        if name in (MARKER, LOCK):
            continue
        if name in own_files or _is_partial(name):
            target = os.path.join(path, name)
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            else:
                os.remove(target)


class Lock:
    """An exclusive lock on a keras-vae folder, held by this process.

    Use as a context manager, or `acquire()` / `release()`. The lock file
    records who holds it, for the message a second command prints.

    Args:
        path: String, the folder (which must exist).
        command: String, what holds the lock, e.g. `"keras-vae train"`.
        name: String, the lock file's name in `path`.
    """

    def __init__(self, path, command="keras-vae", name=LOCK):
        self.path = path
        self.command = command
        self.name = name
        self._file = None

    def acquire(self):
        """Takes the lock, or raises `ValueError` naming its holder."""
        name = os.path.join(self.path, self.name)
        file = open(name, "a+", encoding="utf-8")
        try:
            _lock(file)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                file.close()
                raise
            file.seek(0)
            holder = file.read().strip()
            file.close()
            raise ValueError(
                f"{self.path} is in use by another command ({_describe(holder)}); "
                "wait for it to finish, or choose another `out`."
            ) from None
        file.seek(0)
        file.truncate()
        file.write(
            json.dumps(
                {
                    "command": self.command,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": datetime.datetime.now().isoformat(timespec="seconds"),
                }
            )
        )
        file.flush()
        self._file = file
        return self

    def release(self):
        if self._file is not None:
            self._file.seek(0)
            self._file.truncate()
            _unlock(self._file)
            self._file.close()
            self._file = None

    @property
    def held(self):
        return self._file is not None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()


def check_unlocked(path):
    """Raises `ValueError` if another process holds the lock on `path`.

    Creates nothing: a folder without a lock file is not locked.
    """
    if os.path.isfile(os.path.join(path, LOCK)):
        Lock(path).acquire().release()


def _describe(holder):
    try:
        info = json.loads(holder)
        return (
            f"{info['command']}, process {info['pid']} on {info['host']}, "
            f"started {info['started']}"
        )
    except (ValueError, KeyError, TypeError):
        return "a keras-vae command"


if sys.platform == "win32":
    import msvcrt

    def _lock(file):
        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(file):
        file.seek(0)
        msvcrt.locking(file.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(file):
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(file):
        fcntl.flock(file.fileno(), fcntl.LOCK_UN)
