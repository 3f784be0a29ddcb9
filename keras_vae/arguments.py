"""What both command lines (`keras-vae`, `python -m tuning`) share: argument
parsing, the Keras backend choice and error reporting.

Imports neither TensorFlow nor Keras: `--help` and argument errors answer at
once, and `--backend` takes effect because Keras is imported only after it.
"""

import argparse
import importlib.util
import math
import os
import re
import sys
import tempfile

# Mirrors keras_vae.models.backends.SUPPORTED_BACKENDS, which imports Keras;
# a test keeps them equal. Each is also the name of the module it needs.
BACKENDS = ("tensorflow", "jax", "torch")


class Parser(argparse.ArgumentParser):
    """Argument errors as one line naming the command, no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def integer_argument(minimum=None):
    """An argparse type: an integer, at least `minimum` if given."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer, got {text!r}"
            ) from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {minimum}, got {value}"
            )
        return value

    return parse


def number_argument(minimum=None, inclusive=True):
    """An argparse type: a finite number, >= (or >) `minimum` if given."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected a number, got {text!r}"
            ) from None
        too_small = minimum is not None and (
            value < minimum if inclusive else value <= minimum
        )
        if not math.isfinite(value) or too_small:
            bound = (
                "" if minimum is None else f" {'>=' if inclusive else '>'} {minimum:g}"
            )
            raise argparse.ArgumentTypeError(
                f"expected a finite number{bound}, got {text}"
            )
        return value

    return parse


positive_int = integer_argument(1)
non_negative_int = integer_argument(0)
non_negative_float = number_argument(0.0)
positive_float = number_argument(0.0, inclusive=False)


def add_framework_arguments(parser):
    """Adds `--backend` and `--verbose` to an argparse parser."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: Keras' own configuration, KERAS_BACKEND or "
        "~/.keras/keras.json; tensorflow when neither is set)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show TensorFlow's C++ start-up lines (absl, CUDA, oneDNN)",
    )


def start_framework(arguments):
    """Chooses the backend (see `select_backend`), asks XLA for deterministic
    GPU kernels if `arguments.deterministic`, and imports TensorFlow, quietly
    unless `arguments.verbose`."""
    select_backend(arguments.backend)
    if getattr(arguments, "deterministic", False):
        # Read when XLA starts, so before Keras imports JAX; CPUs are
        # deterministic already.
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()
    if not arguments.verbose:
        import_tensorflow_quietly()


def select_backend(backend):
    """Makes Keras start on `backend` (if given) and returns the backend's name.

    Must run before Keras is imported.

    Raises:
        ValueError: if `KERAS_BACKEND` names another backend, if Keras already
            runs on another one, or if the backend is not installed.
    """
    if backend is not None:
        configured = os.environ.get("KERAS_BACKEND")
        if configured and configured != backend:
            raise ValueError(
                f"--backend {backend} disagrees with the environment variable "
                f"KERAS_BACKEND={configured}: unset one of them."
            )
    chosen = backend or os.environ.get("KERAS_BACKEND") or _configured_backend()
    if chosen in BACKENDS and not importlib.util.find_spec(chosen):
        extra = "" if chosen == "tensorflow" else f"[{chosen}]"
        raise ValueError(
            f'The {chosen} backend is not installed: pip install "keras-vae{extra}"'
        )
    keras = sys.modules.get("keras")
    if backend is not None and keras is not None:
        if keras.backend.backend() != backend:
            raise ValueError(
                f"Keras already runs on {keras.backend.backend()}; --backend "
                f"{backend} must be chosen before Keras is imported."
            )
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
    return chosen


# What TensorFlow's C++ side prints while it is imported, whatever
# TF_CPP_MIN_LOG_LEVEL says (TensorFlow 2.21): absl's notice that logging is not
# initialized yet, and INFO lines such as "Could not find cuda drivers" or
# "oneDNN custom operations are on".
_START_UP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are "
    r"written to STDERR|I\d{4} [\d:.]+ +\d+ \S+:\d+\] .*"
)


def import_tensorflow_quietly():
    """Imports TensorFlow without its C++ start-up lines on stderr.

    The lines are written by C++ straight to file descriptor 2, so the
    descriptor is pointed at a temporary file during the import; afterwards
    every captured line except the start-up INFO lines is written back to
    stderr, and so is everything if the import fails. Does nothing if
    TensorFlow is already imported or not installed.
    """
    if "tensorflow" in sys.modules or not importlib.util.find_spec("tensorflow"):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            failed = True
            try:
                import tensorflow  # noqa: F401

                failed = False
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                captured.seek(0)
                lines = captured.read().decode(errors="replace").splitlines()
                kept = [
                    line
                    for line in lines
                    if failed or not _START_UP_NOISE.fullmatch(line)
                ]
                if kept:
                    sys.stderr.write("\n".join(kept) + "\n")
    finally:
        os.close(saved)


def _configured_backend():
    """The backend in Keras' configuration file, read without importing Keras."""
    import json

    base = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    try:
        with open(os.path.join(base, "keras.json")) as file:
            return json.load(file).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def report_errors(prog, function, *arguments):
    """Runs `function(*arguments)`; a user error becomes one line on stderr.

    Returns:
        The exit code: 0, 1 after a user error, 130 after Ctrl-C.
    """
    from keras_vae.datasets import DataUnavailableError

    try:
        function(*arguments)
    except (
        ValueError,
        FileNotFoundError,
        ChildProcessError,
        DataUnavailableError,
    ) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0
