"""The Fashion-MNIST runs the benchmark scripts measure, trained once each."""

import os
import subprocess
import sys


def fashion_run(out, flags=(), backend="tensorflow"):
    """`keras-vae train --dataset fashion_mnist FLAGS --out OUT`, unless `out`
    already holds a finished run; returns `out`."""
    if not os.path.isfile(os.path.join(out, "model.keras")):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "keras_vae",
                "train",
                "--dataset",
                "fashion_mnist",
                "--backend",
                backend,
                "--out",
                out,
                "--overwrite",
                *flags,
            ],
            check=True,
        )
    return out
