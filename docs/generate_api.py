"""Writes docs/api/*.md from the public docstrings: `python docs/generate_api.py`.

tests/test_docs.py fails when the committed pages differ from what this writes.
"""

import inspect
import os
import re
import sys

SECTIONS = (
    "Args",
    "Call arguments",
    "Input shape",
    "Output shape",
    "Returns",
    "Raises",
    "Reference",
    "Example",
)


def public_objects():
    """(page name, public path, object) of every documented public object.

    The public path is the module users import plus the name; the page is
    named after the file that defines a class (one class per file, named after
    it), or after the function.
    """
    import keras_vae
    import tuning
    from keras_vae import (
        architectures,
        callbacks,
        datasets,
        evaluation,
        layers,
        likelihoods,
        models,
        schedules,
    )

    documented = [
        (layers, ("Sampling", "KLRegularizer", "ConditionalConcat")),
        (models, ("VAE", "ConditionalVAE")),
        (keras_vae, ("LatentMixture",)),
        (likelihoods, ("Gaussian", "Bernoulli")),
        (architectures, ("mlp", "conv", "conv_conditional")),
        (
            callbacks,
            (
                "ImageLogger",
                "BetaScheduler",
                "CapacityScheduler",
                "PosteriorCollapseMonitor",
            ),
        ),
        (schedules, ("LinearWarmup", "Cyclical")),
        (
            evaluation,
            (
                "importance_weighted_bound",
                "negative_elbo",
                "bits_per_dimension",
                "active_units",
                "kl_per_dimension",
                "mutual_information",
                "train_classifier",
                "label_fidelity",
                "within_class_diversity",
            ),
        ),
        (datasets, ("Preprocessing", "load", "ImageFiles")),
        (
            tuning,
            (
                "VAEHyperModel",
                "ConditionalVAEHyperModel",
                "make_tuner",
                "make_objective",
            ),
        ),
    ]
    objects = []
    for module, names in documented:
        for name in names:
            obj = getattr(module, name)
            page_name = (
                obj.__module__.rsplit(".", 1)[-1] if inspect.isclass(obj) else name
            )
            objects.append((page_name, f"{module.__name__}.{name}", obj))
    return objects


def page(path, obj):
    """One Markdown page from an object's signature and docstring."""
    kind = "class" if inspect.isclass(obj) else "function"
    signature = str(inspect.signature(obj))
    lines = [f"# `{path}`", "", "```python", f"{path}{signature}", "```", ""]
    section = None
    for line in inspect.getdoc(obj).splitlines():
        heading = re.fullmatch(r"(\w[\w ]*):", line)
        if heading and heading.group(1) in SECTIONS:
            section = heading.group(1)
            lines += [f"## {section}", ""]
            continue
        if section:
            line = line.removeprefix("    ")
            entry = re.fullmatch(r"(\*{0,2}\w+): (.*)", line)
            if section in ("Args", "Call arguments", "Raises") and entry:
                line = f"- `{entry.group(1)}`: {entry.group(2)}"
            elif section in ("Args", "Call arguments", "Raises") and line.startswith(
                "    "
            ):
                line = "  " + line.strip()
        lines.append(line)
    lines += ["", f"*Generated from the {kind}'s docstring by `docs/generate_api.py`.*"]
    return "\n".join(lines).rstrip() + "\n"


def pages():
    return {f"{name}.md": page(path, obj) for name, path, obj in public_objects()}


def index(pages_by_name):
    lines = ["# API reference", ""]
    for name, path, _ in public_objects():
        lines.append(f"- [`{path}`]({name}.md)")
    return "\n".join(lines) + "\n"


def main():
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api")
    os.makedirs(folder, exist_ok=True)
    generated = pages()
    generated["index.md"] = index(generated)
    for name, text in generated.items():
        with open(os.path.join(folder, name), "w") as file:
            file.write(text)
    print(f"wrote {len(generated)} pages to {folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
