"""Every ```python example in a public docstring runs."""

import inspect
import re

import pytest

import keras_vae
from tests.test_docs import api_objects

# Every object on an API reference page, by page.
PAGES = {}
for page, obj in api_objects():
    PAGES.setdefault(page, []).append(obj)


def _example(obj):
    match = re.search(r"```python\n(.*?)```", inspect.getdoc(obj) or "", re.S)
    return match and match.group(1)


def test_every_api_page_has_an_example():
    assert [page for page, objs in PAGES.items() if not any(map(_example, objs))] == []
    assert keras_vae.__version__


@pytest.mark.parametrize(
    "obj",
    [obj for objs in PAGES.values() for obj in objs if _example(obj)],
    ids=lambda obj: obj.__name__,
)
def test_example_runs(obj, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_example(obj), f"<{obj.__name__} example>", "exec"), {})
