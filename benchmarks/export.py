"""Serving speed: the exported SavedModel and ONNX files against Keras' own calls.

    python benchmarks/export.py [--rounds 5] [--markdown]

Trains (once, cached in the temporary folder) one-epoch Fashion-MNIST runs of
the two default models, the MLP VAE and the conv CVAE, exports each in both
formats, then measures in this one process (TensorFlow backend), the runtimes
taking turns in every round:

- latency: milliseconds per call of one image (median of 200 calls);
- throughput: images per second of calls of 256 images (median of 20 calls);

for `encode` and `decode` through `model.encoder.predict` /
`model.decoder.predict` (Keras), keras_vae's `model.encode` / `model.decode`
(NumPy helpers with the preprocessing), the SavedModel (`tf.saved_model.load`)
and ONNX Runtime (one thread per core, its defaults). The table gives each
runtime's median over `--rounds` rounds. `--markdown` rewrites the block
between the export markers of docs/benchmarks.md.
"""

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
PAGE = os.path.join(os.path.dirname(HERE), "docs", "benchmarks.md")
START, END = "<!-- export:start -->", "<!-- export:end -->"
RUNS = os.path.join(tempfile.gettempdir(), "keras-vae-export-benchmark")
MODELS = {"MLP VAE z = 20": "vae", "conv CVAE z = 20": "cvae"}
LATENCY_CALLS, THROUGHPUT_CALLS, BATCH = 200, 20, 256


def _run(model):
    from runs import fashion_run

    out = fashion_run(os.path.join(RUNS, model), ["--model", model, "--epochs", "1"])
    for format in ("saved_model", "onnx"):
        if not os.path.isdir(os.path.join(out, format)):
            subprocess.run(
                [sys.executable, "-m", "keras_vae", "export", out, "--format", format],
                check=True,
            )
    return out


def _median_seconds(call, calls):
    call()  # warm-up: tracing, compilation, allocation
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _runtimes(out, x, z, labels):
    """`{runtime: {endpoint: callable(count)}}`."""
    import keras
    import onnxruntime
    import tensorflow as tf

    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    conditional = model.conditional
    served = tf.saved_model.load(os.path.join(out, "saved_model"))
    sessions = {
        name: onnxruntime.InferenceSession(os.path.join(out, "onnx", f"{name}.onnx"))
        for name in ("encode", "decode")
    }
    inputs = model.preprocessing.transform(x)

    def extra(n):
        return {"labels": labels[:n]} if conditional else {}

    def keras_inputs(first, n):
        return [first[:n], labels[:n]] if conditional else first[:n]

    return {
        "Keras `predict`": {
            "encode": lambda n: model.encoder.predict(
                keras_inputs(inputs, n), batch_size=BATCH, verbose=0
            ),
            "decode": lambda n: model.decoder.predict(
                keras_inputs(z, n), batch_size=BATCH, verbose=0
            ),
        },
        "keras_vae `encode` / `decode`": {
            "encode": lambda n: model.encode(
                x[:n], labels[:n] if conditional else None
            ),
            "decode": lambda n: model.decode(
                z[:n], labels[:n] if conditional else None
            ),
        },
        "SavedModel": {
            "encode": lambda n: served.encode(
                tf.constant(x[:n]),
                **{k: tf.constant(v) for k, v in extra(n).items()},
            ),
            "decode": lambda n: served.decode(
                tf.constant(z[:n]),
                **{k: tf.constant(v) for k, v in extra(n).items()},
            ),
        },
        "ONNX Runtime": {
            "encode": lambda n: sessions["encode"].run(
                None, {"pixels": x[:n], **extra(n)}
            ),
            "decode": lambda n: sessions["decode"].run(None, {"z": z[:n], **extra(n)}),
        },
    }


def measure(rounds):
    import numpy as np

    from keras_vae.datasets import load

    data = load("fashion_mnist")
    x = data.x_test[:BATCH]
    labels = data.y_test[:BATCH].astype("int32")
    z = np.random.default_rng(0).normal(size=(BATCH, 20)).astype("float32")
    results = {}
    for title, model in MODELS.items():
        runtimes = _runtimes(_run(model), x, z, labels)
        samples = {}
        for round_ in range(rounds):
            for runtime, endpoints in runtimes.items():
                for endpoint, call in endpoints.items():
                    latency = _median_seconds(lambda c=call: c(1), LATENCY_CALLS)
                    batch = _median_seconds(lambda c=call: c(BATCH), THROUGHPUT_CALLS)
                    entry = samples.setdefault((runtime, endpoint), ([], []))
                    entry[0].append(latency * 1e3)
                    entry[1].append(BATCH / batch)
            print(title, "round", round_ + 1, "done", flush=True)
        results[title] = {
            key: (statistics.median(ms), statistics.median(rates))
            for key, (ms, rates) in samples.items()
        }
    return results


def table(results, rounds):
    import platform

    lines = [
        f"`python benchmarks/export.py --rounds {rounds}` "
        f"({datetime.date.today().isoformat()}, {platform.machine()}, "
        f"{os.cpu_count()} cores; TensorFlow backend; medians over the rounds of "
        f"each round's median call):",
        "",
        "| model | runtime | encode, ms per image (batch 1) | encode, img/s (batch "
        "256) | decode, ms (batch 1) | decode, img/s (batch 256) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for title, rows in results.items():
        runtimes = dict.fromkeys(runtime for runtime, _ in rows)
        for runtime in runtimes:
            encode, decode = rows[(runtime, "encode")], rows[(runtime, "decode")]
            lines.append(
                f"| {title} | {runtime} | {encode[0]:.3f} | {encode[1]:,.0f} | "
                f"{decode[0]:.3f} | {decode[1]:,.0f} |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    arguments = parser.parse_args()
    text = table(measure(arguments.rounds), arguments.rounds)
    print(text)
    if arguments.markdown:
        from page_blocks import replace_between

        replace_between(PAGE, START, END, text)


if __name__ == "__main__":
    main()
