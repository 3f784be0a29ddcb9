"""The JSON file of a study's results: read, and written whole and atomically
(a study killed mid-write keeps its previous results)."""

import json
import os


def load(path):
    """The results in `path`, or `{}` before the first one."""
    if os.path.isfile(path):
        with open(path) as file:
            return json.load(file)
    return {}


def save(path, results):
    """Writes `results` to `path` through a temporary file of this process."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as file:
        json.dump(results, file, indent=1)
        file.write("\n")
    os.replace(temporary, path)


def add(path, key, value):
    """Sets one result, reading the file again first: another study process
    may have added its own since this one started."""
    save(path, {**load(path), key: value})
