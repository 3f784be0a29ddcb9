"""What ConditionalVAE's in-step label check costs, on every backend.

    python benchmarks/label_check.py [--images 20000] [--rounds 4] [--markdown]

Each backend runs in a process of its own (Keras fixes its backend at import),
one at a time. In that process two conditional models of the original study's
conv CVAE (z = 15, batch 64, the library's defaults) train on the same
Fashion-MNIST images (random images when it is not installed): the
`ConditionalVAE` as shipped, whose every step counts labels outside
`[0, num_classes)`, and the same class with the check taken out. They take
turns, one epoch each, for `--rounds` rounds, so the machine's noise hits both
alike; the first epoch of each (tracing and compilation) is dropped. Input: a
shuffled `tf.data` pipeline, the case the check exists for. `--markdown`
rewrites the table between the label-check markers of docs/benchmarks.md.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PAGE = os.path.join(os.path.dirname(HERE), "docs", "benchmarks.md")
START, END = "<!-- label-check:start -->", "<!-- label-check:end -->"

WORKER = """
import json, sys, time
import keras, numpy as np
import keras_vae
from keras_vae.models import ConditionalVAE, VAE

images, rounds = int(sys.argv[1]), int(sys.argv[2])


class Unchecked(ConditionalVAE):
    def _update_trackers(self, terms, x, labels=None, training=False):
        return VAE._update_trackers(self, terms, x, training=training)

    def make_train_function(self, force=False):
        return VAE.make_train_function(self, force)

    def make_test_function(self, force=False):
        return VAE.make_test_function(self, force)


try:
    data = keras_vae.datasets.load("fashion_mnist")
    source = data.source
    x, y = data.x_train[:images], data.y_train[:images]
except keras_vae.datasets.DataUnavailableError:
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(images, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, images)
    source = "random images"
pipeline = keras_vae.datasets.Preprocessing("scale").training_dataset(x, y, 64, 0)
models = {}
for name, cls in (("checked", ConditionalVAE), ("unchecked", Unchecked)):
    keras.utils.set_random_seed(0)
    encoder, decoder = keras_vae.architectures.conv_conditional((28, 28, 1), 15, 10)
    models[name] = cls(encoder, decoder, num_classes=10)
    models[name].compile(optimizer=keras.optimizers.Adam(1e-3))
rates = {name: [] for name in models}
for round in range(rounds + 1):
    # Alternate which model goes first, so that neither always follows the other.
    order = list(models.items())[:: 1 if round % 2 else -1]
    for name, model in order:
        start = time.perf_counter()
        model.fit(pipeline, epochs=1, verbose=0, shuffle=False)
        rates[name].append(len(x) / (time.perf_counter() - start))
print(json.dumps({
    "backend": keras.backend.backend(),
    "source": source,
    "steps_per_execution": models["checked"].steps_per_execution,
    "rates": {name: values[1:] for name, values in rates.items()},
}))
"""


def measure(backend, images, rounds):
    result = subprocess.run(
        [sys.executable, "-c", WORKER, str(images), str(rounds)],
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=3600,
    )
    if result.returncode:
        raise SystemExit(f"{backend}: {result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def table(results, images, rounds):
    lines = [
        f"`python benchmarks/label_check.py --images {images} --rounds {rounds}` "
        f"({time.strftime('%Y-%m-%d')}; {results[0]['source']}, {images:,} images; "
        "conv CVAE z = 15, batch 64, `tf.data` input; medians of the epochs after "
        "the first, the two models taking turns):",
        "",
        "| backend | steps per call | with the check, img/s | without, img/s | "
        "ratio of medians | median ratio within a round | epochs, with / without |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for result in results:
        checked = result["rates"]["checked"]
        unchecked = result["rates"]["unchecked"]
        ratio = statistics.median(checked) / statistics.median(unchecked)
        with_check, without = statistics.median(checked), statistics.median(unchecked)
        paired = statistics.median(
            a / b for a, b in zip(checked, unchecked, strict=True)
        )
        lines.append(
            f"| {result['backend']} | {result['steps_per_execution']} | "
            f"{with_check:,.0f} | {without:,.0f} | {ratio:.3f} | {paired:.3f} | "
            + " ".join(f"{v / 1000:.2f}k" for v in checked)
            + " / "
            + " ".join(f"{v / 1000:.2f}k" for v in unchecked)
            + " |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--backends", nargs="+", default=["tensorflow", "jax", "torch"])
    parser.add_argument("--markdown", action="store_true")
    arguments = parser.parse_args()
    results = [
        measure(backend, arguments.images, arguments.rounds)
        for backend in arguments.backends
    ]
    text = table(results, arguments.images, arguments.rounds)
    print(text)
    if arguments.markdown:
        sys.path.insert(0, HERE)
        from page_blocks import replace_between

        replace_between(PAGE, START, END, text)


if __name__ == "__main__":
    main()
