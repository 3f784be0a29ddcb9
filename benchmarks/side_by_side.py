"""This tree's training step against another commit's, and the PyTorch peer.

    python benchmarks/side_by_side.py BASE [--rounds 2] [--epochs 3]
        [--backends jax tensorflow torch] [--limit 20000]
        [--model mlp] [--latent-dim 2] [--batch-size 64] [--peers DIR]

Checks BASE (a commit, branch or tag) out into a temporary git worktree and
trains `benchmarks/workload.py` (the library's defaults, `fit` on arrays) of
both trees on each backend, one process at a time, this tree and BASE taking
turns within each backend and round, and the PyTorch peer after each round,
so that the machine's load falls on both alike. Each process imports
keras_vae from its own tree: an editable install's import hook outranks
`PYTHONPATH`, so the child drops that hook before it puts its tree first (and
prints where keras_vae came from, which is checked).

Prints one line per run (img/s of every epoch after the first, the last
epoch's loss) and, per backend, the median img/s of each tree and their ratio;
equal losses mean the two steps do the same arithmetic.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from run import BACKENDS, check, dataset, measured, peer  # noqa: E402

# Runs a script with keras_vae imported from the tree in argv[1].
FROM_TREE = """
import runpy, sys
tree, script = sys.argv[1], sys.argv[2]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:0] = [tree, tree + "/benchmarks"]
import keras_vae
print("keras_vae from", keras_vae.__file__, file=sys.stderr)
sys.argv = sys.argv[2:]
runpy.run_path(script, run_name="__main__")
"""


def worktree(base, folder):
    """Checks `base` out into `folder`; returns its commit."""
    subprocess.run(
        ["git", "-C", ROOT, "worktree", "add", "--detach", "-q", folder, base],
        check=True,
    )
    return subprocess.run(
        ["git", "-C", folder, "rev-parse", "--short", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def train(tree, backend, data, arguments):
    """`workload.py` of `tree` on `backend`: its JSON result."""
    script = os.path.join(tree, "benchmarks", "workload.py")
    command = [sys.executable, "-c", FROM_TREE, tree, script, "--data", data]
    command += arguments
    result = measured(command, {"KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"})
    origin = os.path.join(tree, "keras_vae", "__init__.py")
    if f"keras_vae from {origin}" not in result[2]:
        raise SystemExit(f"{tree}: keras_vae was not imported from {origin}")
    return json.loads(check(result, f"{tree} on {backend}").strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the commit to compare with (e.g. HEAD~1)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=BACKENDS)
    parser.add_argument("--limit", type=int, default=20000, help="training images")
    parser.add_argument("--model", choices=("mlp", "cvae"), default="mlp")
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--peers", default=os.path.join(ROOT, "..", "shared", "peers"))
    arguments = parser.parse_args()
    workload = (arguments.model, arguments.latent_dim, arguments.batch_size)
    flags = ["--model", arguments.model, "--latent-dim", str(arguments.latent_dim)]
    flags += ["--batch-size", str(arguments.batch_size)]
    flags += ["--epochs", str(arguments.epochs)]
    speeds = {}
    with tempfile.TemporaryDirectory(prefix="keras-vae-side-by-side-") as folder:
        base = os.path.join(folder, "base")
        commit = worktree(arguments.base, base)
        try:
            data, description = dataset(os.path.join(folder, "data"), arguments.limit)
            print(f"{description}; this tree against {commit}", flush=True)
            for round_ in range(1, arguments.rounds + 1):
                for backend in arguments.backends:
                    for name, tree in (("this tree", ROOT), (commit, base)):
                        result = train(tree, backend, data, flags)
                        steady = result["images_per_second"][1:]
                        speeds.setdefault((backend, name), []).extend(steady)
                        print(
                            f"round {round_} {backend:10} {name:9} img/s "
                            + " ".join(f"{speed:,.0f}" for speed in steady)
                            + f"  loss {result['losses'][-1]:.4f}",
                            flush=True,
                        )
                if os.path.isdir(arguments.peers):
                    result = peer(arguments.peers, workload, data, arguments.epochs)
                    steady = result["images_per_second"][1:]
                    print(
                        f"round {round_} peer PyTorch img/s "
                        + " ".join(f"{speed:,.0f}" for speed in steady),
                        flush=True,
                    )
        finally:
            subprocess.run(
                ["git", "-C", ROOT, "worktree", "remove", "--force", base], check=False
            )
    for backend in arguments.backends:
        new = statistics.median(speeds[backend, "this tree"])
        old = statistics.median(speeds[backend, commit])
        print(
            f"{backend}: median img/s {new:,.0f} (this tree) against {old:,.0f} "
            f"({commit}): {new / old:.2f}x"
        )


if __name__ == "__main__":
    main()
