"""keras_vae's speed on every installed Keras backend, side by side with the peers.

    python benchmarks/run.py            # full run (about 35 minutes on 2 cores)
    python benchmarks/run.py --quick    # a minute or two: proves the suite works

One training at a time, each in its own process (`benchmarks/workload.py`):
keras_vae on each installed backend with the library's defaults, the
hand-written Keras model on TensorFlow, and, when PyTorch is importable, the
PyTorch peers of `../shared/peers` (`--peers`), interleaved round by round so
that machine noise hits all alike. Steady-state images per second are medians
over rounds of every epoch but the first. Also measured: the machine's fp32
GEMM rate (so each workload's FLOP floor), peak resident memory, the wall time
and test ELBO of `keras-vae train --dataset fashion_mnist` against the PyTorch
peer's 15 epochs, and `keras-vae --help`.

Writes JSON (`--json`) and, in a full run, the generated part of
`docs/benchmarks.md` (`--markdown`). Uses Fashion-MNIST (Debian's
dataset-fashion-mnist, or Keras' download) when available, else random images.
"""

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BACKENDS = ("tensorflow", "jax", "torch")
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
# (model, latent_dim, batch_size)
WORKLOADS = [
    ("mlp", 2, 64),
    ("mlp", 2, 256),
    ("mlp", 20, 64),
    ("mlp", 20, 256),
    ("cvae", 15, 64),
]
QUICK_WORKLOADS = [("mlp", 2, 64), ("cvae", 15, 64)]
PEER_SCRIPTS = {"mlp": "torch_mlp_vae.py", "cvae": "torch_conv_cvae.py"}


def measured(command, env=None):
    """Runs `command` with the variables of `env` set (or unset: None); returns
    (exit code, stdout, stderr, seconds, peak RSS MB)."""
    environment = {**os.environ, **(env or {})}
    environment = {k: v for k, v in environment.items() if v is not None}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=environment)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            process.returncode,
            out.read(),
            err.read(),
            seconds,
            usage.ru_maxrss / 1024,
        )


def check(result, what):
    code, out, err, _, _ = result
    if code != 0:
        raise SystemExit(f"{what} failed (exit {code}):\n{err[-3000:]}")
    return out


def machine():
    def version(name):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return None

    cpu, flags = "unknown", set()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo") as file:
            first = file.read().split("\n\n")[0]
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (line.partition(":") for line in first.splitlines())
        )
        cpu = (
            f"{fields.get('model name', 'unknown')} (family {fields.get('cpu family')}"
            f" model {fields.get('model')})"
        )
        flags = set(fields.get("flags", "").split())
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": cpu,
        "vector_extensions": sorted(f for f in flags if f.startswith("avx")),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": {
            name: version(name)
            for name in ("keras", "tensorflow", "jax", "jaxlib", "torch", "numpy")
        },
    }


GEMM = """
import json, os, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
rates = {}
shapes = {"2048^3": (2048, 2048, 2048), "256x784x500": (256, 784, 500)}
for name, (m, k, n) in shapes.items():
    a, b = tf.random.normal((m, k)), tf.random.normal((k, n))
    f = tf.function(lambda a, b: tf.matmul(a, b))
    f(a, b).numpy()
    repeats = max(10, int(2e11 / (2 * m * k * n)))
    best = 0.0
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            c = f(a, b)
        c.numpy()
        best = max(best, repeats * 2 * m * k * n / (time.perf_counter() - start))
    rates[name] = best / 1e9
print(json.dumps(rates))
"""


def gemm_rates():
    """Best-of-3 fp32 GFLOP/s of TensorFlow's matmul, at 2048^3 and at the MLP's
    first-layer shape."""
    return json.loads(check(measured([sys.executable, "-c", GEMM]), "GEMM rate"))


DATASET = """
import sys
import numpy as np
import keras_vae.datasets

folder, limit = sys.argv[1], int(sys.argv[2])
try:
    data = keras_vae.datasets.load("fashion_mnist")
    x = np.round(data.x_train[..., 0] * 255).astype("uint8")
    y, source = data.y_train, f"Fashion-MNIST, {data.source}"
except (ValueError, keras_vae.datasets.DataUnavailableError):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (60000, 28, 28), dtype="uint8")
    y, source = rng.integers(0, 10, 60000), "random images"
if limit:
    x, y = x[:limit], y[:limit]
np.savez(folder + "/data.npz", x_train=x, y_train=y.astype("int64"))
print(f"{source}: {len(x)} training images")
"""


def dataset(folder, limit):
    """Writes Fashion-MNIST (or random images) as the peers' .npz; returns
    (path, description).

    In a child process: Linux children inherit their parent's peak RSS as a
    floor, so the harness must stay small for the children's figures to mean
    anything.
    """
    os.makedirs(folder, exist_ok=True)
    command = [sys.executable, "-c", DATASET, folder, str(limit or 0)]
    description = check(measured(command, {"TF_CPP_MIN_LOG_LEVEL": "3"}), "data")
    return os.path.join(folder, "data.npz"), description.strip().splitlines()[-1]


def ours(backend, workload, data, epochs, variant="keras_vae"):
    model, latent, batch = workload
    command = [sys.executable, os.path.join(HERE, "workload.py"), "--data", data]
    command += ["--model", model, "--latent-dim", str(latent)]
    command += ["--batch-size", str(batch), "--epochs", str(epochs)]
    command += ["--variant", variant]
    result = measured(command, {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return json.loads(check(result, f"{variant} on {backend}").strip().splitlines()[-1])


def peer(peers, workload, data, epochs):
    model, latent, batch = workload
    script = os.path.join(peers, PEER_SCRIPTS[model])
    result = measured(
        [sys.executable, script, data, str(latent), str(batch), str(epochs)]
    )
    lines = [
        line.split() for line in check(result, script).splitlines() if "img/s" in line
    ]
    speeds = [float(words[words.index("img/s") - 1]) for words in lines]
    return {"images_per_second": speeds, "peak_rss_mb": result[4]}


def end_to_end(backend, dataset_name, epochs, folder, run="first"):
    """`keras-vae train` as a user runs it, with keras-vae's cache folder in
    `folder`: on JAX the "first" run compiles, a "second" finds the programs
    the first kept."""
    out = os.path.join(folder, f"train-{backend}-{run}")
    command = [sys.executable, "-m", "keras_vae", "train", "--backend", backend]
    command += ["--dataset", dataset_name, "--epochs", str(epochs), "--out", out]
    environment = {"TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": None}
    environment["KERAS_VAE_CACHE"] = os.path.join(folder, f"cache-{backend}")
    environment["JAX_COMPILATION_CACHE_DIR"] = None
    result = measured(command, environment)
    check(result, f"keras-vae train on {backend}")
    with open(os.path.join(out, "metrics.json")) as file:
        elbo = json.load(file)["test"]["elbo"]
    return {"seconds": result[3], "test_elbo": elbo, "peak_rss_mb": result[4]}


def help_seconds(repeats=5):
    times = [
        measured([sys.executable, "-m", "keras_vae", "--help"])[3]
        for _ in range(repeats)
    ]
    return statistics.median(times)


def median(values):
    return statistics.median(values) if values else None


def summarize(runs, flops, gemm):
    """Median steady-state img/s per (workload, variant), ratios, floors."""
    rows = []
    for key, results in runs.items():
        workload, variant = key.split(" | ")
        steady = [v for r in results for v in r["images_per_second"][1:]]
        rows.append(
            {
                "workload": workload,
                "variant": variant,
                "images_per_second": median(steady),
                "epochs_measured": len(steady),
                "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            }
        )
    for row in rows:
        peers = [
            r["images_per_second"]
            for r in rows
            if r["workload"] == row["workload"] and r["variant"].startswith("peer")
        ]
        row["ratio_to_best_peer"] = (
            row["images_per_second"] / max(peers) if peers else None
        )
        floor = gemm["2048^3"] * 1e9 / flops[row["workload"]]
        row["floor_images_per_second"] = floor
        row["ratio_to_floor"] = row["images_per_second"] / floor
    return rows


def workload_name(workload):
    model, latent, batch = workload
    return f"{'MLP VAE' if model == 'mlp' else 'conv CVAE'} z={latent} b={batch}"


def markdown(results):
    m = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items() if v)
    lines = [
        START,
        f"Generated by `python benchmarks/run.py` on {m['date']}: {m['cpu']}, "
        f"{m['cores']} cores ({', '.join(m['vector_extensions'])}); Python "
        f"{m['python']}, {versions}. Data: {results['data']}. "
        f"{results['rounds']} interleaved rounds of {results['epochs']} epochs; "
        "medians of every epoch but the first of each run. fp32 GEMM rate "
        f"(TensorFlow matmul, best over the rounds): "
        f"{results['gemm']['2048^3']:.0f} GFLOP/s "
        f"at 2048³, {results['gemm']['256x784x500']:.0f} at 256×784×500.",
        "",
        "| workload | variant | img/s | × best peer | FLOP floor img/s | "
        "% of floor | peak RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        ratio = row["ratio_to_best_peer"]
        lines.append(
            f"| {row['workload']} | {row['variant']} | "
            f"{row['images_per_second']:,.0f} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | "
            f"{row['floor_images_per_second']:,.0f} | "
            f"{100 * row['ratio_to_floor']:.0f} % | {row['peak_rss_mb']:,.0f} |"
        )
    if results.get("end_to_end"):
        lines += [
            "",
            f"End to end, `keras-vae train --dataset {results['e2e_dataset']}` "
            f"({results['e2e_epochs']} epochs, figures included), against the "
            f"PyTorch peer's {results['e2e_epochs']} epochs of training alone:",
            "",
            "| run | wall time s | test ELBO nats | peak RSS MB |",
            "|---|---:|---:|---:|",
        ]
        for name, row in results["end_to_end"].items():
            elbo = row.get("test_elbo")
            lines.append(
                f"| {name} | {row['seconds']:.1f} | "
                f"{'' if elbo is None else f'{elbo:.2f}'} | {row['peak_rss_mb']:,.0f} |"
            )
    lines += ["", f"`keras-vae --help`: {results['help_seconds']:.2f} s.", END]
    return "\n".join(lines)


def write_markdown(path, text):
    with open(path) as file:
        document = file.read()
    if START in document and END in document:
        head, rest = document.split(START, 1)
        document = head + text + rest.split(END, 1)[1]
    else:
        document = document.rstrip() + "\n\n" + text + "\n"
    with open(path, "w") as file:
        file.write(document)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small and fast, for CI")
    parser.add_argument("--rounds", type=int, help="(default: 2; quick: 1)")
    parser.add_argument("--epochs", type=int, help="per run (default: 4; quick: 2)")
    parser.add_argument(
        "--images",
        type=int,
        help="training images per run (default: the whole training set, 60,000 "
        "for Fashion-MNIST, as issue 7 specifies: the PyTorch peer's images per "
        "second fall with the set's size, keras_vae's do not; quick: 2048)",
    )
    parser.add_argument(
        "--end-to-end-backends",
        nargs="+",
        choices=BACKENDS,
        help="backends of the end-to-end keras-vae train runs (default: tensorflow "
        "and jax; quick: tensorflow)",
    )
    parser.add_argument(
        "--peers",
        default=os.path.join(ROOT, "..", "shared", "peers"),
        help="folder of the PyTorch peers (default: ../shared/peers)",
    )
    parser.add_argument(
        "--backends", nargs="+", choices=BACKENDS, help="(default: every installed)"
    )
    parser.add_argument(
        "--json",
        default=os.path.join(HERE, "results.json"),
        help="(default: benchmarks/results.json)",
    )
    parser.add_argument(
        "--markdown",
        help="file whose generated section to replace "
        "(default: docs/benchmarks.md in a full run, none with --quick)",
    )
    arguments = parser.parse_args()
    quick = arguments.quick
    rounds = arguments.rounds or (1 if quick else 2)
    epochs = arguments.epochs or (2 if quick else 4)
    markdown_path = arguments.markdown or (
        None if quick else os.path.join(ROOT, "docs", "benchmarks.md")
    )
    backends = arguments.backends or [
        b for b in BACKENDS if importlib.util.find_spec(b)
    ]
    with_peers = bool(importlib.util.find_spec("torch")) and os.path.isdir(
        arguments.peers
    )

    def say(text):
        print(text, flush=True)

    results = {"machine": machine(), "rounds": rounds, "epochs": epochs}
    say(
        f"Machine: {results['machine']['cpu']}; backends: {', '.join(backends)}; "
        f"peers: {arguments.peers if with_peers else 'none (PyTorch missing)'}"
    )
    workloads = QUICK_WORKLOADS if quick else WORKLOADS
    with tempfile.TemporaryDirectory() as folder:
        images = arguments.images or (2048 if quick else None)
        data, results["data"] = dataset(folder, images)
        say(f"Data: {results['data']}")
        runs, flops = {}, {}
        for round_number in range(1, rounds + 1):
            # The GEMM rate swings with neighbours' load: measure it every round
            # and keep the best, the machine's rate when undisturbed.
            rates = gemm_rates()
            results["gemm"] = {
                shape: max(rate, results.get("gemm", {}).get(shape, 0.0))
                for shape, rate in rates.items()
            }
            say(
                f"round {round_number}  GEMM fp32 GFLOP/s: "
                + ", ".join(f"{k} {v:.0f}" for k, v in rates.items())
            )
            for workload in workloads:
                name = workload_name(workload)
                variants = [(b, "keras_vae") for b in backends]
                if workload[0] == "mlp" and "tensorflow" in backends:
                    variants.append(("tensorflow", "handwritten"))
                for backend, variant in variants:
                    if quick and workload[0] == "cvae" and backend != "tensorflow":
                        continue
                    result = ours(backend, workload, data, epochs, variant)
                    flops[name] = result["flops_per_image"]
                    label = (
                        f"keras_vae, {backend}"
                        if variant == "keras_vae"
                        else "hand-written Keras, tensorflow"
                    )
                    runs.setdefault(f"{name} | {label}", []).append(result)
                    say(
                        f"round {round_number}  {name:24s} {label:32s} "
                        + " ".join(f"{v:7.0f}" for v in result["images_per_second"])
                    )
                if with_peers:
                    result = peer(arguments.peers, workload, data, epochs)
                    runs.setdefault(f"{name} | peer, PyTorch", []).append(result)
                    say(
                        f"round {round_number}  {name:24s} {'peer, PyTorch':32s} "
                        + " ".join(f"{v:7.0f}" for v in result["images_per_second"])
                    )
        results["rows"] = summarize(runs, flops, results["gemm"])

        e2e_dataset, e2e_epochs = ("digits", 1) if quick else ("fashion_mnist", 15)
        results["e2e_dataset"], results["e2e_epochs"] = e2e_dataset, e2e_epochs
        results["end_to_end"] = {}
        end_to_end_backends = arguments.end_to_end_backends or (
            ["tensorflow"] if quick else ["tensorflow", "jax"]
        )
        for backend in [b for b in end_to_end_backends if b in backends]:
            for run in ("first", "second") if backend == "jax" else ("first",):
                row = end_to_end(backend, e2e_dataset, e2e_epochs, folder, run)
                name = f"keras-vae train --backend {backend}"
                if run == "second":
                    name += " (again: compiled programs cached)"
                results["end_to_end"][name] = row
                say(
                    f"{name}: {row['seconds']:.1f} s, "
                    f"test ELBO {row['test_elbo']:.2f}, "
                    f"peak RSS {row['peak_rss_mb']:.0f} MB"
                )
        if with_peers and not quick:
            # The peer's 15 epochs on the same 60,000 images as keras-vae train.
            full_data, _ = dataset(os.path.join(folder, "full"), None)
            script = os.path.join(arguments.peers, PEER_SCRIPTS["mlp"])
            command = [sys.executable, script, full_data, "20", "64", str(e2e_epochs)]
            result = measured(command)
            check(result, script)
            results["end_to_end"]["PyTorch peer, MLP z=20 b=64"] = {
                "seconds": result[3],
                "peak_rss_mb": result[4],
            }
            say(f"PyTorch peer, {e2e_epochs} epochs: {result[3]:.1f} s")
    results["help_seconds"] = help_seconds()
    say(f"keras-vae --help: {results['help_seconds']:.2f} s")

    for row in results["rows"]:
        ratio = row["ratio_to_best_peer"]
        say(
            f"{row['workload']:24s} {row['variant']:32s} "
            f"{row['images_per_second']:7.0f} img/s  "
            f"{'' if ratio is None else f'{ratio:4.2f}x peer  '}"
            f"{100 * row['ratio_to_floor']:3.0f} % of floor"
        )
    with open(arguments.json, "w") as file:
        json.dump(results, file, indent=2)
    say(f"Wrote {arguments.json}")
    if markdown_path:
        write_markdown(markdown_path, markdown(results))
        say(f"Wrote {markdown_path}")


if __name__ == "__main__":
    main()
