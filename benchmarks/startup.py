"""What it costs to start keras_vae: imports and `keras-vae --help`.

    python benchmarks/startup.py [--repeats 5] [--markdown]

Each case runs in a fresh Python process (a backend is fixed when Keras is
first imported, and a second import in one process costs nothing), `--repeats`
times, the cases taking turns; the table gives the median wall time of each and
whether TensorFlow ended up imported. `--markdown` rewrites the table between
the start-up markers of docs/benchmarks.md.
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
START, END = "<!-- startup:start -->", "<!-- startup:end -->"
BACKENDS = ("tensorflow", "jax", "torch")

# (name, backend or None, Python code run after the clock starts). The code
# prints whether TensorFlow is imported.
PROBE = "import sys; print('tensorflow' in sys.modules)"
CASES = [
    ("`import keras_vae`", None, "import keras_vae"),
    ("`keras-vae --help`", None, "from keras_vae import cli; cli.main(['--help'])"),
    (
        "`keras-vae train --help`",
        None,
        "from keras_vae import cli; cli.main(['train', '--help'])",
    ),
] + [
    (f"`import keras_vae.models` ({backend})", backend, "import keras_vae.models")
    for backend in BACKENDS
]
# A whole small run: start-up, 21 steps, evaluation, saving and figures.
TRAIN = (
    "import tempfile; from keras_vae import cli; "
    "cli.main(['train', '--dataset', 'digits', '--epochs', '1', "
    "'--out', tempfile.mkdtemp() + '/run'])"
)
CASES += [
    (f"`keras-vae train --dataset digits --epochs 1` ({backend})", backend, TRAIN)
    for backend in BACKENDS
]


def _time(backend, code):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend:
        env["KERAS_BACKEND"] = backend
    script = f"try:\n    {code}\nexcept SystemExit:\n    pass\n{PROBE}"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    if "Traceback" in result.stderr:
        raise SystemExit(f"{code} ({backend}): {result.stderr[-2000:]}")
    elapsed = time.perf_counter() - start
    if result.returncode:
        raise SystemExit(f"{code} ({backend}): {result.stderr[-2000:]}")
    return elapsed, result.stdout.strip().splitlines()[-1] == "True"


def measure(repeats):
    _time(None, "pass")  # warm the file system cache
    baseline, times, tensorflow = [], {name: [] for name, _, _ in CASES}, {}
    for _ in range(repeats):
        baseline.append(_time(None, "pass")[0])
        for name, backend, code in CASES:
            elapsed, imported = _time(backend, code)
            times[name].append(elapsed)
            tensorflow[name] = imported
    return {
        "python": statistics.median(baseline),
        "cases": [
            {
                "name": name,
                "seconds": statistics.median(times[name]),
                "tensorflow": tensorflow[name],
            }
            for name, _, _ in CASES
        ],
    }


def table(result, repeats):
    lines = [
        f"`python benchmarks/startup.py --repeats {repeats}` "
        f"({time.strftime('%Y-%m-%d')}; a fresh process per case, medians of "
        f"{repeats}; Python itself starts in {result['python']:.2f} s):",
        "",
        "| what | seconds | TensorFlow imported |",
        "|---|---:|---|",
    ]
    for case in result["cases"]:
        lines.append(
            f"| {case['name']} | {case['seconds']:.2f} | "
            f"{'yes' if case['tensorflow'] else 'no'} |"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    arguments = parser.parse_args()
    result = measure(arguments.repeats)
    text = table(result, arguments.repeats)
    print(text)
    print(json.dumps(result), file=sys.stderr)
    if arguments.markdown:
        sys.path.insert(0, HERE)
        from page_blocks import replace_between

        replace_between(PAGE, START, END, text)


if __name__ == "__main__":
    main()
