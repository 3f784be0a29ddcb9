"""Every ```python example in a public docstring runs."""

import inspect
import os
import re
import runpy

import pytest

import keras_vae

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Every object with an API page: the generator's list is the one list.
PUBLIC = [
    obj
    for _, _, obj in runpy.run_path(os.path.join(ROOT, "docs", "generate_api.py"))[
        "public_objects"
    ]()
]


def _example(obj):
    match = re.search(r"```python\n(.*?)```", inspect.getdoc(obj) or "", re.S)
    return match and match.group(1)


def test_every_public_object_has_an_example():
    assert [obj.__name__ for obj in PUBLIC if not _example(obj)] == []
    assert keras_vae.__version__


@pytest.mark.parametrize("obj", PUBLIC, ids=lambda obj: obj.__name__)
def test_example_runs(obj, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_example(obj), f"<{obj.__name__} example>", "exec"), {})
