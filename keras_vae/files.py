"""Atomic file writing: a reader never sees a half-written file."""

import contextlib
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
    handle, temporary = tempfile.mkstemp(
        prefix=f".{name}.", suffix=f".partial{suffix}", dir=folder or "."
    )
    os.close(handle)
    try:
        yield temporary
        # mkstemp makes private files; give the result the usual permissions.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_json(path, data):
    """Writes `data` as indented JSON, atomically."""
    with atomic_path(path) as temporary, open(temporary, "w") as file:
        json.dump(data, file, indent=2, sort_keys=True)
        file.write("\n")


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
