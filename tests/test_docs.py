import os
import re
import runpy

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_api_pages_are_up_to_date():
    generator = runpy.run_path(os.path.join(ROOT, "docs", "generate_api.py"))
    pages = generator["pages"]()
    pages["index.md"] = generator["index"](pages)
    for name, text in pages.items():
        with open(os.path.join(ROOT, "docs", "api", name)) as file:
            assert file.read() == text, (
                f"docs/api/{name} is stale: run docs/generate_api.py"
            )


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
    folder = os.path.join(ROOT, "docs", "guides")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name)) as file:
            for index, block in enumerate(
                re.findall(r"```python\n(.*?)```", file.read(), re.S)
            ):
                yield pytest.param(block, id=f"{name}-{index}")


@pytest.mark.parametrize("block", list(_guide_blocks()))
def test_guide_examples_run(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "<guide>", "exec"), {"__name__": "guide"})
