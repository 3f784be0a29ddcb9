"""The documentation site builds strictly: no broken link, anchor or reference."""

import os
import re
import subprocess
import sys

import keras_vae

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_site_builds_strictly_and_shows_the_version(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    home = (site / "index.html").read_text()
    # The version `keras-vae --version` prints is in every page's title.
    assert f"keras_vae {keras_vae.__version__}" in home
    vae = (site / "api" / "vae" / "index.html").read_text()
    signature = re.sub(r"<[^>]+>", "", vae)
    assert "VAE(" in signature and "encoder" in signature and "beta=1.0" in signature
    # One argument per line (formatted by ruff), not one long line.
    assert re.search(r"VAE\(\s*\n\s+encoder,\s*\n\s+decoder,", signature), signature[
        :800
    ]
    # Nested lists stay nested (Python-Markdown needs four spaces).
    assert re.search(r"<li>Guides:\s*<ul>", home), "the home page's lists are flat"
    # The docstring's sections are rendered, not left as text.
    assert "Parameters" in signature and "Example" in signature
    # The guides' figures and the changelog made it in.
    assert (site / "figures" / "sweep.png").is_file()
    assert "Keep a Changelog" in (site / "changelog" / "index.html").read_text()
