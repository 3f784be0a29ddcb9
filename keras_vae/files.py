"""Atomic file writing: a reader never sees a half-written file, and a crash
leaves the old file or the new one."""

import contextlib
import errno
import json
import os
import tempfile


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it to `path` on success.

    The temporary name keeps the file's extension, for writers such as
    `model.save` that check it. On an exception the temporary file is removed
    and `path` is left as it was.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    suffix = os.path.splitext(name)[1]
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    try:
        handle, temporary = tempfile.mkstemp(
            prefix=f".{name[:64]}.", suffix=f".partial{suffix}", dir=folder or "."
        )
    except OSError as error:
        raise OSError(error.errno, error.strerror, path) from None
    os.close(handle)
    try:
        try:
            yield temporary
            # mkstemp makes private files; give the result the usual permissions.
            os.chmod(temporary, 0o666 & ~_umask())
            sync(temporary)
            os.replace(temporary, path)
        except OSError as error:
            if error.filename in (None, temporary):
                # Name the file the user asked for, not the temporary one.
                raise OSError(error.errno, error.strerror, path) from None
            raise
        sync(folder or ".")
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


@contextlib.contextmanager
def atomic_folder(path, overwrite=False):
    """Yields a new empty folder beside `path`; moves it to `path` on success.

    With `overwrite`, an existing `path` is moved aside, replaced, then
    removed: a crash leaves the old folder or the new one (or, between the two
    renames, the old one under a `.partial` name beside it). On an exception
    the temporary folder is removed and `path` is left as it was.
    """
    import shutil

    path = os.fspath(path).rstrip(os.sep) or os.sep
    folder, name = os.path.split(path)
    try:
        temporary = tempfile.mkdtemp(prefix=f".{name[:64]}.", dir=folder or ".")
    except OSError as error:
        raise OSError(error.errno, error.strerror, path) from None
    old = None
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())
        if os.path.lexists(path):
            if not overwrite:
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), path)
            old = tempfile.mkdtemp(
                prefix=f".{name[:64]}.", suffix=".old", dir=folder or "."
            )
            os.rename(path, os.path.join(old, name))
        os.rename(temporary, path)
        sync(folder or ".")
    finally:
        if os.path.exists(temporary):
            shutil.rmtree(temporary, ignore_errors=True)
        if old is not None:
            if not os.path.lexists(path):  # the new folder did not arrive
                os.rename(os.path.join(old, name), path)
            shutil.rmtree(old, ignore_errors=True)


# What `keras-vae train` writes last: a folder with both is a finished run.
FINISHED_RUN_FILES = ("config.json", "model.keras")


def check_finished_run(directory):
    """Raises ValueError unless `directory` holds a finished run's files."""
    missing = [
        name
        for name in FINISHED_RUN_FILES
        if not os.path.isfile(os.path.join(directory, name))
    ]
    if not missing:
        return
    if os.path.isfile(directory):
        # `keras-vae sample run/model.keras`: the commands read the run's
        # config and data beside the model.
        folder = os.path.dirname(directory) or "."
        raise ValueError(
            f"{directory} is a file; the command takes a run folder"
            + (
                f" ({folder})."
                if os.path.basename(directory) in FINISHED_RUN_FILES
                else ", the --out of keras-vae train."
            )
        )
    raise ValueError(
        f"{directory} is not a finished run folder: it lacks {', '.join(missing)}."
    )


def check_creatable(path):
    """Raises the `OSError` that creating the folder `path` would raise, for
    the common causes, before a command spends time on its data."""
    parent = os.path.normpath(path)
    while not os.path.lexists(parent):
        name = os.path.basename(parent)
        parent = os.path.dirname(parent) or "."
        if len(os.fsencode(name)) > _name_max(parent):
            raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), path)
    if not os.path.isdir(parent):
        raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OSError(errno.EACCES, os.strerror(errno.EACCES), parent)


def _name_max(folder):
    while folder and not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    try:
        return os.pathconf(folder or ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        return 255


def sync(path):
    """Flushes a file, or a folder's entries (POSIX only), to the disk."""
    if os.path.isdir(path) and os.name != "posix":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_json(path, data):
    """Writes `data` as indented JSON, atomically."""
    with atomic_path(path) as temporary, open(temporary, "w") as file:
        json.dump(data, file, indent=2, sort_keys=True)
        file.write("\n")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


# What an operating-system error means for the user, and what to do about it.
_OS_ERRORS = {
    errno.EACCES: ("permission denied", "choose a location you may write to"),
    errno.EPERM: ("operation not permitted", "choose a location you may write to"),
    errno.EROFS: ("read-only file system", "choose a location you may write to"),
    errno.ENOSPC: ("no space left on the device", "free some space"),
    errno.EDQUOT: ("disk quota exceeded", "free some space"),
    errno.ENAMETOOLONG: (
        "the name is too long for the file system",
        "choose a shorter name",
    ),
    errno.EEXIST: ("it already exists", "choose another name"),
    errno.EISDIR: ("it is a folder, not a file", "give a file name"),
    errno.ENOTDIR: (
        "a part of the path is a file, not a folder",
        "choose a path whose folders are folders",
    ),
    errno.ENOENT: ("no such file or folder", "check the path"),
    errno.ELOOP: ("too many symbolic links", "check the path"),
    errno.EMFILE: ("too many open files", "close other programs or raise ulimit -n"),
}


def cache_folder():
    """Where keras-vae keeps what it can compute again: `KERAS_VAE_CACHE`, else
    `keras-vae` in the user's cache folder (`XDG_CACHE_HOME`, `~/.cache`, or
    `LOCALAPPDATA` on Windows)."""
    if os.environ.get("KERAS_VAE_CACHE"):
        return os.environ["KERAS_VAE_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.environ.get("LOCALAPPDATA")
        if os.name == "nt"
        else os.path.join(os.path.expanduser("~"), ".cache")
    )
    return os.path.join(base or os.path.expanduser("~"), "keras-vae")


def _shortened(path, keep=24):
    """A long path with the middle of its longest name cut out."""
    parts = path.split(os.sep)
    longest = max(range(len(parts)), key=lambda i: len(parts[i]))
    name = parts[longest]
    if len(name) > 2 * keep + 10:
        parts[longest] = f"{name[:keep]}...{name[-keep:]} ({len(name)} characters)"
    return os.sep.join(parts)


def describe_os_error(error):
    """One sentence for an `OSError`: the path, what went wrong, what to do.

    Example:

    ```python
    import errno
    from keras_vae.files import describe_os_error

    error = PermissionError(errno.EACCES, "Permission denied", "/runs/a")
    print(describe_os_error(error))
    # /runs/a: permission denied; choose a location you may write to.
    ```
    """
    reason, remedy = _OS_ERRORS.get(
        error.errno, (error.strerror or str(error) or type(error).__name__, None)
    )
    if error.errno == errno.ENOSPC and error.strerror and "(" in error.strerror:
        reason = error.strerror[0].lower() + error.strerror[1:]
    paths = [
        os.fsdecode(path)
        for path in (error.filename, error.filename2)
        if path is not None
    ]
    if error.errno == errno.ENAMETOOLONG:
        paths = [_shortened(path) for path in paths]
    where = " -> ".join(paths)
    message = f"{where}: {reason}" if where else reason
    return f"{message}; {remedy}." if remedy else f"{message}."
