"""Every ```python example in a public docstring runs."""

import inspect
import re

import pytest

import keras_vae
from tests.test_docs import api_objects

# Every object with an API reference page.
PUBLIC = [obj for _, obj in api_objects()]


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
