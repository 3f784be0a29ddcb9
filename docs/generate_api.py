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
    """(page name, public path, object) of every documented public object."""
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

    return [
        ("sampling", "keras_vae.layers.Sampling", layers.Sampling),
        ("kl_regularizer", "keras_vae.layers.KLRegularizer", layers.KLRegularizer),
        (
            "conditional_concat",
            "keras_vae.layers.ConditionalConcat",
            layers.ConditionalConcat,
        ),
        ("vae", "keras_vae.models.VAE", models.VAE),
        ("conditional_vae", "keras_vae.models.ConditionalVAE", models.ConditionalVAE),
        ("gaussian", "keras_vae.likelihoods.Gaussian", likelihoods.Gaussian),
        ("bernoulli", "keras_vae.likelihoods.Bernoulli", likelihoods.Bernoulli),
        ("mlp", "keras_vae.architectures.mlp", architectures.mlp),
        (
            "conv_conditional",
            "keras_vae.architectures.conv_conditional",
            architectures.conv_conditional,
        ),
        ("image_logger", "keras_vae.callbacks.ImageLogger", callbacks.ImageLogger),
        (
            "beta_scheduler",
            "keras_vae.callbacks.BetaScheduler",
            callbacks.BetaScheduler,
        ),
        (
            "capacity_scheduler",
            "keras_vae.callbacks.CapacityScheduler",
            callbacks.CapacityScheduler,
        ),
        (
            "posterior_collapse_monitor",
            "keras_vae.callbacks.PosteriorCollapseMonitor",
            callbacks.PosteriorCollapseMonitor,
        ),
        ("linear_warmup", "keras_vae.schedules.LinearWarmup", schedules.LinearWarmup),
        ("cyclical", "keras_vae.schedules.Cyclical", schedules.Cyclical),
        (
            "importance_weighted_bound",
            "keras_vae.evaluation.importance_weighted_bound",
            evaluation.importance_weighted_bound,
        ),
        (
            "negative_elbo",
            "keras_vae.evaluation.negative_elbo",
            evaluation.negative_elbo,
        ),
        (
            "bits_per_dimension",
            "keras_vae.evaluation.bits_per_dimension",
            evaluation.bits_per_dimension,
        ),
        ("active_units", "keras_vae.evaluation.active_units", evaluation.active_units),
        (
            "kl_per_dimension",
            "keras_vae.evaluation.kl_per_dimension",
            evaluation.kl_per_dimension,
        ),
        (
            "mutual_information",
            "keras_vae.evaluation.mutual_information",
            evaluation.mutual_information,
        ),
        (
            "train_classifier",
            "keras_vae.evaluation.train_classifier",
            evaluation.train_classifier,
        ),
        (
            "label_fidelity",
            "keras_vae.evaluation.label_fidelity",
            evaluation.label_fidelity,
        ),
        (
            "within_class_diversity",
            "keras_vae.evaluation.within_class_diversity",
            evaluation.within_class_diversity,
        ),
        ("preprocessing", "keras_vae.datasets.Preprocessing", datasets.Preprocessing),
        ("load", "keras_vae.datasets.load", datasets.load),
        ("vae_hypermodel", "tuning.VAEHyperModel", tuning.VAEHyperModel),
        (
            "conditional_vae_hypermodel",
            "tuning.ConditionalVAEHyperModel",
            tuning.ConditionalVAEHyperModel,
        ),
        ("make_tuner", "tuning.make_tuner", tuning.make_tuner),
        ("make_objective", "tuning.make_objective", tuning.make_objective),
    ]


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
