"""Priors, objectives and likelihoods against each other: the test bound at
equal networks.

    python benchmarks/priors.py run [--seeds 0 1] [--epochs 10] [--models ...]
        [--table NAME]
    python benchmarks/priors.py likelihoods [--seeds 0 1] [--epochs 10]
        [--likelihoods ...]
    python benchmarks/priors.py tighten [--table NAME] [--models ...]
    python benchmarks/priors.py markdown

- run: for each seed, and within it for each model of `MODELS` (interleaved,
  so that the machine's load falls on every model alike), runs
  `keras-vae train --dataset fashion_mnist --likelihood bernoulli` (the
  original MLP 784-500-120-20, dynamically binarized pixels, Adam 1e-3,
  batch 64) with the model's `--prior` and `--train-samples`, on JAX, and
  records the seconds of the command; then scores the first `TEST_IMAGES`
  test images (binarized once, as the run's preprocessing does) with the
  importance-weighted bound on -log p(x) at k = `BOUND_SAMPLES`
  (`keras_vae.evaluation.importance_weighted_bound`, which reads the
  model's prior). Each finished run is added to
  benchmarks/priors_results.json at once (a killed study resumes). `--table
  NAME` keeps the runs in a table of their own, compared only with the plain
  VAE of that table: runs of another day or machine, whose speed and
  rounding differ.
- likelihoods: for each seed, and within it for each variant of
  `LIKELIHOODS`, runs `keras-vae train --dataset fashion_mnist --likelihood
  NAME [--dequantize]` (the same MLP with the decoder outputs the likelihood
  asks for, on the 8-bit grey pixels with the preprocessing `train` picks)
  on JAX, unless its run folder holds a finished run; scores the first
  `TEST_IMAGES` test images with the bound at k = `LIKELIHOOD_BOUND_SAMPLES`
  and the one-sample ELBO, on dequantized pixels for a density (the 8-bit
  levels spread over their bins: `dequantize=True`), and turns them into
  bits per 8-bit pixel with `keras_vae.evaluation.bits_per_dimension(...,
  model=model)`; added to benchmarks/likelihoods_results.json.
- tighten: scores the finished runs of a `run` table again with the bound at
  k = `TIGHT_BOUND_SAMPLES` (the same test images; only a run folder whose
  metrics.json holds the table's test ELBO, i.e. that very run, not one of
  the same name trained later for another table).
- markdown: rewrites the two tables of docs/guides/priors.md from the
  results.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import results_file  # noqa: E402
from page_blocks import replace_between  # noqa: E402

RESULTS = os.path.join(HERE, "priors_results.json")
LIKELIHOOD_RESULTS = os.path.join(HERE, "likelihoods_results.json")
PAGE = os.path.join(ROOT, "docs", "guides", "priors.md")
RUNS = os.path.join(tempfile.gettempdir(), "keras-vae-priors")
TEST_IMAGES = 2000
BOUND_SAMPLES = 1000
LIKELIHOOD_BOUND_SAMPLES = 100
TIGHT_BOUND_SAMPLES = 5000
# name: (label, flags of keras-vae train)
MODELS = {
    "vae": ("VAE, N(0, I)", []),
    "iwae5": ("IWAE, k = 5", ["--train-samples", "5"]),
    "iwae10": ("IWAE, k = 10", ["--train-samples", "10"]),
    "iwae50": ("IWAE, k = 50", ["--train-samples", "50"]),
    "mixture": ("VAE, mixture prior (10)", ["--prior", "mixture:10"]),
    "mixture50": ("VAE, mixture prior (50)", ["--prior", "mixture:50"]),
    "mixture100": ("VAE, mixture prior (100)", ["--prior", "mixture:100"]),
    "vamp": ("VAE, VampPrior (50)", ["--prior", "vamp:50"]),
    "vamp_iwae5": (
        "IWAE k = 5, VampPrior (50)",
        ["--prior", "vamp:50", "--train-samples", "5"],
    ),
}
# Pythae's binarized-MNIST reproductions (examples/scripts/reproducibility/
# README.md of clementchadebec/benchmark_VAE): -log p(x) in nats, the same
# kind of MLP, many more epochs. Context only: another dataset.
PYTHAE_MNIST = {"VAE": 89.78, "IWAE (k = 50)": 86.82, "VampPrior": 85.79}


# name: (label, flags of keras-vae train). A density's `_dequantized`
# variant trains on dequantized pixels.
_DENSITIES = {
    "gaussian": "Gaussian, variance 1/2 (the default)",
    "gaussian_global": "Gaussian, one learned variance",
    "gaussian_pixel": "Gaussian, a learned variance per pixel",
    "continuous_bernoulli": "continuous Bernoulli",
}
LIKELIHOODS = {
    **{name: (label, ["--likelihood", name]) for name, label in _DENSITIES.items()},
    **{
        f"{name}_dequantized": (
            f"{label}, trained dequantized",
            ["--likelihood", name, "--dequantize"],
        )
        for name, label in _DENSITIES.items()
    },
    "logistic": ("discretized logistic", ["--likelihood", "logistic"]),
    "logistic_mixture": (
        "discretized logistic mixture (5)",
        ["--likelihood", "logistic_mixture"],
    ),
}


def _pending(table, seeds, names):
    """`(name, seed, key)` of every run the table lacks, the names interleaved
    seed by seed (so that the machine's load falls on every model alike)."""
    for seed in seeds:
        for name in names:
            key = f"{name}/{seed}"
            if key not in table:
                yield name, seed, key


def _run_folder(name, seed, epochs):
    return os.path.join(RUNS, f"{name}-{seed}-{epochs}")


def _train(name, seed, epochs, flags):
    out = _run_folder(name, seed, epochs)
    command = [sys.executable, "-m", "keras_vae", "train", "--dataset"]
    command += ["fashion_mnist", "--backend", "jax", "--epochs", str(epochs)]
    command += ["--seed", str(seed), "--out", out, "--overwrite", *flags]
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return out, time.perf_counter() - start


def _scored(out, pixels, samples, dequantize=False):
    """A finished run's model, its mean importance-weighted bound on
    `pixels` with k = `samples` (of dequantized pixels with `dequantize`),
    and its metrics.json's test ELBO."""
    import keras

    from keras_vae.evaluation import importance_weighted_bound

    model = keras.models.load_model(os.path.join(out, "model.keras"))
    bound = importance_weighted_bound(
        model,
        model.preprocessing.transform(pixels),
        num_samples=samples,
        dequantize=dequantize,
    )
    with open(os.path.join(out, "metrics.json")) as file:
        test_elbo = json.load(file)["test"]["elbo"]
    return model, float(bound.mean()), float(test_elbo)


def _test_pixels():
    """The first `TEST_IMAGES` Fashion-MNIST test images, pixels in [0, 1]
    (and JAX, the backend every score of this script runs on)."""
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np

    from keras_vae import datasets

    return np.asarray(datasets.load("fashion_mnist").x_test[:TEST_IMAGES])


def run(seeds, epochs, names, name=None):
    pixels = _test_pixels()
    results = results_file.load(RESULTS)
    key = f"{epochs}_epochs" + (f"_{name}" if name else "")
    table = results.setdefault(key, {})
    os.makedirs(RUNS, exist_ok=True)
    for name, seed, key in _pending(table, seeds, names):
        flags = ["--likelihood", "bernoulli", *MODELS[name][1]]
        out, seconds = _train(name, seed, epochs, flags)
        start = time.perf_counter()
        _, bound, test_elbo = _scored(out, pixels, BOUND_SAMPLES)
        table[key] = {
            "bound": bound,
            "test_elbo": test_elbo,
            "train_seconds": seconds,
            "bound_seconds": time.perf_counter() - start,
        }
        results_file.save(RESULTS, results)
        print(key, {k: round(v, 2) for k, v in table[key].items()}, flush=True)


def tighten(epochs, names, name=None):
    pixels = _test_pixels()
    results = results_file.load(RESULTS)
    table = results[f"{epochs}_epochs" + (f"_{name}" if name else "")]
    for key, row in table.items():
        model, seed = key.split("/")
        out = _run_folder(model, seed, epochs)
        if model not in names or "tight_bound" in row or not _is_run(out, row):
            continue
        start = time.perf_counter()
        _, bound, _ = _scored(out, pixels, TIGHT_BOUND_SAMPLES)
        row["tight_bound"] = bound
        row["tight_bound_seconds"] = time.perf_counter() - start
        results_file.save(RESULTS, results)
        print(key, round(bound, 2), flush=True)


def _is_run(out, row):
    """Whether the folder `out` holds the run that gave the results `row`."""
    try:
        with open(os.path.join(out, "metrics.json")) as file:
            return json.load(file)["test"]["elbo"] == row["test_elbo"]
    except FileNotFoundError:
        return False


def likelihoods(seeds, epochs, names):
    pixels = _test_pixels()
    from keras_vae.evaluation import bits_per_dimension, negative_elbo

    results = results_file.load(LIKELIHOOD_RESULTS)
    table = results.setdefault(f"{epochs}_epochs", {})
    os.makedirs(RUNS, exist_ok=True)
    for name, seed, key in _pending(table, seeds, names):
        out = _run_folder(name, seed, epochs)
        seconds = None
        if not os.path.exists(os.path.join(out, "model.keras")):
            flags = [*LIKELIHOODS[name][1], "--no-figures"]
            out, seconds = _train(name, seed, epochs, flags)
        dequantize = not name.startswith("logistic")
        model, bound, _ = _scored(out, pixels, LIKELIHOOD_BOUND_SAMPLES, dequantize)
        elbo = negative_elbo(
            model, model.preprocessing.transform(pixels), dequantize=dequantize
        )
        shape = pixels.shape[1:]
        table[key] = {
            "bound": bound,
            "bound_bits": float(bits_per_dimension(bound, shape, model=model)),
            "elbo": float(elbo.mean()),
            "elbo_bits": float(
                bits_per_dimension(float(elbo.mean()), shape, model=model)
            ),
            "train_seconds": seconds,
        }
        results_file.save(LIKELIHOOD_RESULTS, results)
        print(key, table[key], flush=True)


def _runs_of(name, seeds, runs):
    """The seeds that ran `name`, and their results."""
    own = [seed for seed in seeds if f"{name}/{seed}" in runs]
    return own, [runs[f"{name}/{seed}"] for seed in own]


def _mean_and_sd(values, digits):
    """The mean, and "± sd" where there are several values."""
    text = f"{statistics.mean(values):.{digits}f}"
    if len(values) > 1:
        text += f" ± {statistics.stdev(values):.{digits}f}"
    return text


def _tight_text(runs):
    if not any("tight_bound" in row for row in runs.values()):
        return ""
    return (
        f"; and, where measured (`tighten`), the bound with k = "
        f"{TIGHT_BOUND_SAMPLES:,} on the same images, of every seed of the row, "
        "and its change against the plain VAE"
    )


def _tight_header(runs, rule=False):
    if not any("tight_bound" in row for row in runs.values()):
        return ""
    if rule:
        return "---:|---:|"
    return f" k = {TIGHT_BOUND_SAMPLES:,} bound | vs VAE |"


def _tight_cells(name, own, runs):
    """The k = TIGHT_BOUND_SAMPLES bound of a row and its paired change, when
    every seed of the row has it; blank cells otherwise."""
    if not any("tight_bound" in row for row in runs.values()):
        return ""
    rows = [runs[f"{name}/{seed}"] for seed in own]
    if not all("tight_bound" in row for row in rows):
        return " — | — |"
    paired = [
        runs[f"{name}/{s}"]["tight_bound"] - runs[f"vae/{s}"]["tight_bound"]
        for s in own
        if "tight_bound" in runs.get(f"vae/{s}", {})
    ]
    gain = f"{statistics.mean(paired):+.2f}" if paired else "—"
    text = _mean_and_sd([row["tight_bound"] for row in rows], 2)
    return f" {text} | {gain} |"


def _likelihood_lines():
    lines = []
    for table, runs in sorted(results_file.load(LIKELIHOOD_RESULTS).items()):
        epochs = table.partition("_epochs")[0]
        seeds = sorted({key.split("/")[1] for key in runs}, key=int)
        lines += [
            f"`python benchmarks/priors.py likelihoods --epochs {epochs} --seeds "
            f"{' '.join(seeds)}` (JAX, 2 CPU cores; Fashion-MNIST's 8-bit grey "
            f"pixels, the MLP 784-500-120-20, {epochs} epochs, `keras-vae train` "
            "with the flags shown and the preprocessing `train` picks): the "
            f"importance-weighted bound with k = {LIKELIHOOD_BOUND_SAMPLES} and the "
            f"one-sample ELBO on the first {TEST_IMAGES:,} test images, of "
            "dequantized pixels for the densities (`dequantize=True`), in bits per "
            "8-bit pixel (`bits_per_dimension(..., model=model)`; mean over the "
            "seeds, ± sd where there are several; lower is better; 8 is the "
            "uniform distribution):",
            "",
            "| likelihood | flags | seeds | test bound (bits/pixel) | "
            "test ELBO (bits/pixel) |",
            "|---|---|---:|---:|---:|",
        ]
        for name, (label, flags) in LIKELIHOODS.items():
            own, rows = _runs_of(name, seeds, runs)
            if not own:
                continue
            text = _mean_and_sd([row["bound_bits"] for row in rows], 3)
            elbo = statistics.mean(row["elbo_bits"] for row in rows)
            lines.append(
                f"| {label} | `{' '.join(flags)}` | {', '.join(own)} | {text} | "
                f"{elbo:.3f} |"
            )
        lines.append("")
    return lines


def markdown():
    replace_between(
        PAGE,
        "<!-- likelihoods:start -->",
        "<!-- likelihoods:end -->",
        "\n".join(_likelihood_lines()).rstrip(),
    )
    results = results_file.load(RESULTS)
    lines = []
    for table, runs in sorted(results.items()):
        epochs, _, name = table.partition("_epochs")
        called = f" --table {name[1:]}" if name else ""
        seeds = sorted({key.split("/")[1] for key in runs}, key=int)
        lines += [
            f"`python benchmarks/priors.py run --epochs {epochs} --seeds ...{called}` "
            "(JAX, "
            "2 CPU cores; dynamically binarized Fashion-MNIST, the MLP "
            f"784-500-120-20, {epochs} epochs): -log p(x) bound with k = "
            f"{BOUND_SAMPLES:,} on the first {TEST_IMAGES:,} test images (mean, and "
            "± sd where there are several seeds), the change against the plain "
            "VAE of the same seeds, and the seconds of the whole `keras-vae "
            "train` command (median)" + _tight_text(runs) + ":",
            "",
            "| model | flags | seeds | test bound (nats) | vs VAE, same seeds | "
            "test ELBO | train seconds |" + _tight_header(runs),
            "|---|---|---:|---:|---:|---:|---:|" + _tight_header(runs, rule=True),
        ]
        for name, (label, flags) in MODELS.items():
            own, rows = _runs_of(name, seeds, runs)
            if not own:
                continue
            text = _mean_and_sd([row["bound"] for row in rows], 2)
            paired = [
                runs[f"{name}/{s}"]["bound"] - runs[f"vae/{s}"]["bound"]
                for s in own
                if f"vae/{s}" in runs
            ]
            gain = f"{statistics.mean(paired):+.2f}" if paired else "—"
            elbo = statistics.mean(row["test_elbo"] for row in rows)
            seconds = statistics.median(row["train_seconds"] for row in rows)
            lines.append(
                f"| {label} | `{' '.join(flags) or '(defaults)'}` | "
                f"{', '.join(own)} | {text} | {gain} | {elbo:.2f} | {seconds:.0f} |"
                + _tight_cells(name, own, runs)
            )
        lines.append("")
    lines.append(
        "Context, not a comparison (binarized MNIST, another dataset, hundreds "
        "of epochs): Pythae's reproductions read "
        + ", ".join(f"{k} {v}" for k, v in PYTHAE_MNIST.items())
        + " nats."
    )
    replace_between(
        PAGE, "<!-- priors:start -->", "<!-- priors:end -->", "\n".join(lines)
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run")
    run_parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    run_parser.add_argument("--epochs", type=int, default=10)
    run_parser.add_argument("--models", nargs="+", default=list(MODELS))
    run_parser.add_argument("--table", help="a table of its own (another day)")
    likelihood_parser = commands.add_parser("likelihoods")
    likelihood_parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    likelihood_parser.add_argument("--epochs", type=int, default=10)
    likelihood_parser.add_argument(
        "--likelihoods", nargs="+", default=list(LIKELIHOODS), choices=LIKELIHOODS
    )
    tighten_parser = commands.add_parser("tighten")
    tighten_parser.add_argument("--epochs", type=int, default=10)
    tighten_parser.add_argument("--models", nargs="+", default=list(MODELS))
    tighten_parser.add_argument("--table", help="the table of `run --table`")
    commands.add_parser("markdown")
    arguments = parser.parse_args()
    if arguments.command == "run":
        run(arguments.seeds, arguments.epochs, arguments.models, arguments.table)
    elif arguments.command == "likelihoods":
        likelihoods(arguments.seeds, arguments.epochs, arguments.likelihoods)
    elif arguments.command == "tighten":
        tighten(arguments.epochs, arguments.models, arguments.table)
    else:
        markdown()


if __name__ == "__main__":
    main()
