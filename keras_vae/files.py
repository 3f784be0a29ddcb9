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
