import importlib
import os
import re

import pytest

import tuning

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def api_objects():
    """(page, object) of every object an API reference page renders (its
    `::: path` lines; a page may hold a few closely related functions)."""
    folder = os.path.join(ROOT, "docs", "api")
    result = []
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as file:
            paths = re.findall(r"^::: (\S+)$", file.read(), re.M)
        for path in paths:
            module, _, attribute = path.rpartition(".")
            result.append((name, getattr(importlib.import_module(module), attribute)))
    return result


PUBLIC_MODULES = (
    "keras_vae.layers",
    "keras_vae.models",
    "keras_vae.likelihoods",
    "keras_vae.callbacks",
    "keras_vae.schedules",
    "keras_vae.evaluation",
    "keras_vae.datasets",
    "keras_vae.anomaly",
)


def test_every_public_name_has_an_api_page():
    documented = {id(obj) for _, obj in api_objects()}
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if callable(obj) and id(obj) not in documented:
                missing.append(f"{module_name}.{name}")
    for name in tuning.__all__:
        if id(getattr(tuning, name)) not in documented:
            missing.append(f"tuning.{name}")
    assert missing == []


def test_readme_starts_with_the_two_commands():
    with open(os.path.join(ROOT, "README.md")) as file:
        readme = file.read()
    block = re.search(r"```\w*\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(block) == 2
    assert "keras_vae train" in block[0] and "pytest" in block[1]


def test_docs_link_only_to_files_that_exist():
    places = [(ROOT, ["README.md"])] + [
        (folder, names) for folder, _, names in os.walk(os.path.join(ROOT, "docs"))
    ]
    for folder, names in places:
        for name in names:
            if not name.endswith(".md"):
                continue
            with open(os.path.join(folder, name)) as file:
                text = file.read()
            for target in re.findall(r"\]\(([^)#]+?)\)", text):
                if "://" in target:
                    continue
                path = os.path.normpath(os.path.join(folder, target))
                assert os.path.exists(path), f"{name} links to missing {target}"


def _guide_blocks():
    """Every ```python block of the README and the docs pages."""
    docs = os.path.join(ROOT, "docs")
    with open(os.path.join(ROOT, "README.md")) as file:
        for index, block in enumerate(
            re.findall(r"```python\n(.*?)```", file.read(), re.S)
        ):
            yield pytest.param(block, id=f"README.md-{index}")
    for folder, _, names in sorted(os.walk(docs)):
        for name in sorted(names):
            if not name.endswith(".md"):
                continue
            page = os.path.relpath(os.path.join(folder, name), docs)
            with open(os.path.join(folder, name)) as file:
                for index, block in enumerate(
                    re.findall(r"```python\n(.*?)```", file.read(), re.S)
                ):
                    yield pytest.param(block, id=f"{page}-{index}")


@pytest.mark.parametrize("block", list(_guide_blocks()))
def test_guide_examples_run(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "<guide>", "exec"), {"__name__": "guide"})
