"""MkDocs hook: the site's title carries the package's version, read from
keras_vae/__init__.py (the one `keras-vae --version` prints)."""

import os
import re


def on_config(config):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(os.path.join(root, "keras_vae", "__init__.py")) as file:
        version = re.search(r'^__version__ = "([^"]+)"', file.read(), re.M).group(1)
    config["site_name"] = f"keras_vae {version}"
    config["extra"]["version_number"] = version
    return config
