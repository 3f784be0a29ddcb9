"""Soak test: many short fits and evaluations in one process, with the
resident memory after each.

    python benchmarks/soak.py [--fits 50] [--models new|same|plain] [--json FILE]
    python benchmarks/soak.py --table FILE [--fits 50]   # every row, about 6 minutes

Each round fits a VAE (the original MLP on the bundled 8x8 digits) for one
epoch, evaluates it, bounds its likelihood, encodes and samples:

- `--models new` (the default) builds a new model every round, after
  `keras.backend.clear_session()`, as a tuning loop or a notebook does;
- `--models same` fits one model again and again;
- `--models plain` builds a new plain Keras autoencoder of the same layer
  sizes every round (`compile(loss="mse")`, fit, evaluate, predict): what
  Keras itself keeps per model, to compare with.

Prints one JSON object with the RSS in MB after every round. With `--table`,
runs every row of docs/reliability.md's table instead (each in a fresh
process, one after the other, on the backends installed) and writes it as
markdown. Linux only (it reads /proc/self/statm). `tests/test_soak.py` runs
it; `docs/make_figures.sh --all` writes the table.
"""

import argparse
import json
import os
import sys


def resident_mb():
    with open("/proc/self/statm") as file:
        pages = int(file.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _plain_autoencoder(keras, shape, latent_dim):
    size = shape[0] * shape[1] * shape[2]
    layers = [keras.Input(shape), keras.layers.Flatten()]
    for units in (500, 120, 2 * latent_dim, 120, 500):
        layers.append(keras.layers.Dense(units, activation="relu"))
    layers += [keras.layers.Dense(size), keras.layers.Reshape(shape)]
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="mse")
    return model


ROWS = [
    ("tensorflow", "new", "new VAE each fit"),
    ("tensorflow", "same", "one VAE refitted"),
    ("tensorflow", "plain", "new plain Keras model"),
    ("jax", "new", "new VAE each fit"),
    ("jax", "same", "one VAE refitted"),
    ("torch", "new", "new VAE each fit"),
    ("torch", "same", "one VAE refitted"),
]
NAMES = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}


def write_table(path, fits):
    """Runs every row of `ROWS` in a process of its own; writes the table."""
    import importlib.util
    import subprocess

    lines = [
        f"| backend | models | at start | after fit 1 | after fit 10 | after fit "
        f"{fits // 2} | after fit {fits} | MB per fit, fits 10–{fits} |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, models, label in ROWS:
        if importlib.util.find_spec(backend) is None:
            continue
        result = subprocess.run(
            [sys.executable, __file__, "--fits", str(fits), "--models", models],
            capture_output=True,
            text=True,
            env={**os.environ, "KERAS_BACKEND": backend},
            check=True,
        )
        report = json.loads(result.stdout.strip().splitlines()[-1])
        rss = report["rss_mb_after_each_fit"]
        cells = [report["rss_mb_at_start"], rss[0], rss[9], rss[fits // 2 - 1]]
        cells.append(rss[-1])
        per_fit = (rss[-1] - rss[9]) / (fits - 10)
        lines.append(
            f"| {NAMES[backend]} | {label} | "
            + " | ".join(f"{cell:,.0f}" for cell in cells)
            + f" | {per_fit:.2f} |"
        )
        print(lines[-1], flush=True)
    with open(path, "w") as file:
        file.write("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=50)
    parser.add_argument("--models", choices=("new", "same", "plain"), default="new")
    parser.add_argument("--json", help="also write the result to this file")
    parser.add_argument("--table", metavar="FILE", help="write every row to FILE")
    arguments = parser.parse_args(argv)
    if arguments.fits < (11 if arguments.table else 2):
        # The table shows the memory after fit 10.
        parser.error(f"--fits must be at least {11 if arguments.table else 2}")
    if arguments.table:
        return write_table(arguments.table, arguments.fits)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import keras

    import keras_vae

    data = keras_vae.datasets.load("digits")
    x = data.x_train[:1024].astype("float32")
    x_test = data.x_test[:256].astype("float32")
    start = resident_mb()
    rss = []
    model = None
    for fit in range(arguments.fits):
        if arguments.models == "plain":
            keras.backend.clear_session()
            model = _plain_autoencoder(keras, x.shape[1:], 2)
            model.fit(x, x, batch_size=64, epochs=1, verbose=0)
            model.evaluate(x_test, x_test, verbose=0)
            model.predict(x_test, verbose=0)
        else:
            if model is None or arguments.models == "new":
                keras.backend.clear_session()
                encoder, decoder = keras_vae.architectures.mlp(x.shape[1:], 2)
                model = keras_vae.models.VAE(encoder, decoder, seed=fit)
                model.compile(optimizer="adam")
            model.fit(x, batch_size=64, epochs=1, verbose=0)
            model.evaluate(x_test, verbose=0)
            keras_vae.evaluation.importance_weighted_bound(
                model, x_test, num_samples=10
            )
            model.encode(x_test)
            model.sample(16, seed=fit)
        rss.append(round(resident_mb(), 1))
    result = {
        "backend": keras.backend.backend(),
        "models": arguments.models,
        "fits": arguments.fits,
        "rss_mb_at_start": round(start, 1),
        "rss_mb_after_each_fit": rss,
    }
    if arguments.json:
        with open(arguments.json, "w") as file:
            json.dump(result, file)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
