"""The disentanglement study: objectives against each other on dSprites.

    KERAS_BACKEND=jax python benchmarks/disentanglement.py run [--seeds 0 1 2]
    python benchmarks/disentanglement.py markdown

- run: for each seed, and within it for each model of `MODELS` (interleaved,
  so that the machine's load falls on every model alike), trains the
  library's MLP VAE (`keras_vae.architectures.mlp`, 4096-500-120-10) with a
  Bernoulli likelihood on `TRAIN_IMAGES` dSprites images drawn by the seed,
  one epoch at batch 64 with Adam 1e-3 (the library's defaults), and
  measures on the 10,000 test images: the test ELBO, every metric of
  `keras_vae.evaluation.disentanglement_metrics` on the posterior means,
  and the seconds of `fit`. Each finished run is added to
  benchmarks/disentanglement_results.json at once (a killed study resumes
  with the runs it lacks) and its model kept in a temporary folder.
- markdown: rewrites the table of docs/guides/disentanglement.md from the
  results, and draws the traversal of each model's run with the best MIG
  into docs/figures/.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import results_file  # noqa: E402

RESULTS = os.path.join(HERE, "disentanglement_results.json")
PAGE = os.path.join(ROOT, "docs", "guides", "disentanglement.md")
FIGURES = os.path.join(ROOT, "docs", "figures")
MODELS_FOLDER = os.path.join(tempfile.gettempdir(), "keras-vae-disentanglement")
TRAIN_IMAGES = 100_000
LATENT_DIM = 10
# name: (label, beta, objective as `keras-vae train --objective` writes it)
MODELS = {
    "beta1": ("β-VAE, β = 1", 1.0, None),
    "beta4": ("β-VAE, β = 4", 4.0, None),
    "beta16": ("β-VAE, β = 16", 16.0, None),
    "tcvae4": ("β-TCVAE, β = 4", 1.0, "tcvae:4"),
    "tcvae16": ("β-TCVAE, β = 16", 1.0, "tcvae:16"),
    "dip2": ("DIP-VAE-II, λ = 10", 1.0, "dip-ii:10"),
    "factor": ("FactorVAE, γ = 40", 1.0, "factor:40"),
}
# What a run records besides disentanglement_metrics' scores.
BOOKKEEPING = ("fit_seconds", "metric_seconds", "test_elbo", "test_kl")


def _model(name, seed):
    import keras

    import keras_vae
    from keras_vae import settings

    _, beta, objective = MODELS[name]
    keras.utils.set_random_seed(seed)
    encoder, decoder = keras_vae.architectures.mlp((64, 64, 1), LATENT_DIM)
    penalty = objective and settings.Objective.parse(objective).build(seed)
    model = keras_vae.models.VAE(
        encoder, decoder, beta=beta, likelihood="bernoulli", seed=seed, penalty=penalty
    )
    model.compile(optimizer=keras.optimizers.Adam(keras_vae.defaults.LEARNING_RATE))
    return model


def run(seeds, epochs=1, names=None):
    import keras
    import numpy as np

    from keras_vae import datasets
    from keras_vae.evaluation import disentanglement_metrics

    data = datasets.load("dsprites")
    test = np.asarray(data.x_test, "float32")
    results = results_file.load(RESULTS)
    results.update(
        backend=keras.backend.backend(),
        train_images=TRAIN_IMAGES,
        latent_dim=LATENT_DIM,
        models={name: label for name, (label, _, _) in MODELS.items()},
    )
    os.makedirs(MODELS_FOLDER, exist_ok=True)
    table = _table(epochs)
    results.setdefault(table, {})
    for seed in seeds:
        rng = np.random.default_rng(seed)
        index = np.sort(rng.choice(len(data.y_train), TRAIN_IMAGES, replace=False))
        x = None
        for name in names or MODELS:
            key = f"{name}/{seed}"
            if key in results[table]:
                continue
            if x is None:
                x = np.asarray(data.x_train[index], "float32")
            model = _model(name, seed)
            start = time.perf_counter()
            model.fit(x, batch_size=64, epochs=epochs, shuffle=True, verbose=0)
            seconds = time.perf_counter() - start
            evaluation = model.evaluate(
                test, batch_size=256, verbose=0, return_dict=True
            )
            codes = model.encode(test)[0]
            start = time.perf_counter()
            scores = disentanglement_metrics(codes, data.factors_test, seed=seed)
            metric_seconds = time.perf_counter() - start
            path = os.path.join(MODELS_FOLDER, f"{name}-{seed}-{epochs}.keras")
            model.save(path)
            results[table][key] = {
                "fit_seconds": seconds,
                "metric_seconds": metric_seconds,
                "test_elbo": float(evaluation["elbo"]),
                "test_kl": float(evaluation["kl_loss"]),
                **scores,
            }
            results_file.save(RESULTS, results)
            print(key, {k: round(v, 3) for k, v in results[table][key].items()})
            sys.stdout.flush()


def _table(epochs):
    """Where the runs of `epochs` epochs are kept in the results."""
    return "runs" if epochs == 1 else f"runs_{epochs}_epochs"


def _summary(runs):
    rows = {}
    for key, values in runs.items():
        name, seed = key.split("/")
        rows.setdefault(name, []).append((int(seed), values))
    return rows


def _cell(values, key, digits=3):
    numbers = [v[key] for _, v in values]
    if len(numbers) == 1:
        return f"{numbers[0]:.{digits}f}"
    mean, spread = statistics.mean(numbers), statistics.stdev(numbers)
    return f"{mean:.{digits}f} ± {spread:.{digits}f}"


def _study_table(results, runs):
    """The metrics table and the per-seed MIG table of some runs."""
    rows = _summary(runs)
    metrics = [key for key in next(iter(runs.values())) if key not in BOOKKEEPING]
    lines = [
        "| model | seeds | MIG | SAP | DCI D | DCI C | DCI I | BetaVAE | FactorVAE "
        "| test −ELBO | fit, s |",
        "|---|" + "---:|" * 10,
    ]
    seeds = _seeds(rows)
    per_seed = [
        "| model | " + " | ".join(f"MIG, seed {s}" for s in seeds) + " |",
        "|---|" + "---:|" * len(seeds),
    ]
    for name in MODELS:
        if name not in rows:
            continue
        values = sorted(rows[name])
        label = results["models"][name]
        lines.append(
            f"| {label} | {len(values)} | "
            + " | ".join(_cell(values, metric) for metric in metrics)
            + f" | {_cell(values, 'test_elbo', 1)}"
            + f" | {_cell(values, 'fit_seconds', 0)} |"
        )
        by_seed = dict(values)
        per_seed.append(
            f"| {label} | "
            + " | ".join(
                f"{by_seed[s]['mig']:.3f}" if s in by_seed else "" for s in seeds
            )
            + " |"
        )
    # The published ordering (Chen et al. 2018): beta-TCVAE's MIG above
    # beta-VAE's at the same beta, compared seed by seed.
    ordering = []
    for name in rows:
        if not name.startswith("tcvae"):
            continue
        beta = name[len("tcvae") :]
        twin = f"beta{beta}"
        if twin not in rows:
            continue
        tcvae, plain = dict(rows[name]), dict(rows[twin])
        seeds_both = sorted(set(tcvae) & set(plain))
        gaps = [tcvae[s]["mig"] - plain[s]["mig"] for s in seeds_both]
        wins = sum(gap > 0 for gap in gaps)
        ordering.append(
            f"- β = {beta}: β-TCVAE's MIG minus β-VAE's, seed by seed: "
            + ", ".join(f"{gap:+.3f}" for gap in gaps)
            + f" (β-TCVAE above in {wins} of {len(gaps)} seeds)."
        )
    return lines, per_seed, ordering


def markdown():
    import keras
    import numpy as np
    from page_blocks import replace_between

    from keras_vae import datasets
    from keras_vae.experiments.traversal import traverse, write_traversal

    results = results_file.load(RESULTS)
    lines, per_seed, ordering = _study_table(results, results["runs"])
    metric_seconds = [v["metric_seconds"] for v in results["runs"].values()]
    text = lines + [
        "",
        "Mean ± standard deviation over seeds; "
        f"{results['train_images']:,} training images, one epoch, z = "
        f"{results['latent_dim']}, backend {results['backend']}. All seven "
        "metrics of one run's 10,000 test codes took "
        f"{statistics.median(metric_seconds):.0f} s (median over the runs; "
        f"{min(metric_seconds):.0f}-{max(metric_seconds):.0f} s).",
        "",
        *per_seed,
        "",
        *ordering,
    ]
    replace_between(PAGE, "<!-- study:start -->", "<!-- study:end -->", "\n".join(text))
    longer = sorted(key for key in results if key.startswith("runs_"))
    text = []
    for key in longer:
        epochs = int(key.split("_")[1])
        lines, per_seed, ordering = _study_table(results, results[key])
        text += [
            f"{epochs} epochs ({epochs * results['train_images'] // 64:,} steps), "
            "the same settings otherwise:",
            "",
            *lines,
            "",
            *per_seed,
            "",
            *ordering,
            "",
        ]
    replace_between(
        PAGE, "<!-- longer:start -->", "<!-- longer:end -->", "\n".join(text).strip()
    )

    data = datasets.load("dsprites")
    test = np.asarray(data.x_test, "float32")
    figures = []
    summary = _summary(results["runs"])
    for name in (name for name in MODELS if name in summary):
        seed, _ = max(summary[name], key=lambda item: item[1]["mig"])
        model = keras.models.load_model(
            os.path.join(MODELS_FOLDER, f"{name}-{seed}-1.keras")
        )
        traversal = traverse(model, test[[0]], reference=test[:2000])
        label = results["models"][name]
        write_traversal(
            os.path.join(FIGURES, f"disentanglement-{name}.png"),
            traversal,
            ["test 0"],
            f"{label}, seed {seed} (best MIG)",
        )
        figures.append(
            f"![{label}: latent traversal](../figures/disentanglement-{name}.png)"
        )
    replace_between(
        PAGE, "<!-- figures:start -->", "<!-- figures:end -->", "\n".join(figures)
    )


def _seeds(rows):
    return sorted({seed for values in rows.values() for seed, _ in values})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run")
    runner.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    runner.add_argument("--epochs", type=int, default=1)
    runner.add_argument("--models", nargs="+", choices=list(MODELS))
    commands.add_parser("markdown")
    arguments = parser.parse_args()
    if arguments.command == "run":
        run(arguments.seeds, arguments.epochs, arguments.models)
    else:
        markdown()
