"""What every command shares: the parser class and argument types, the Keras
backend's start, and errors as one line in the command line's terms.

Imports neither TensorFlow nor Keras: `--help` and argument errors answer at
once, and `--backend` takes effect because Keras is imported only after it.
"""

import _thread
import argparse
import contextlib
import importlib.util
import math
import os
import re
import sys
import threading
import warnings

from keras_vae import files, framework, text
from keras_vae.framework import BACKENDS, configured_backend


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


def start_framework(arguments):
    """Chooses the backend (see `select_backend`), asks XLA for deterministic
    GPU kernels if `arguments.deterministic`, and imports Keras. TensorFlow
    is imported when the command needs it (on its own backend, with Keras;
    on the others, not merely because Keras asks whether it is installed),
    quietly unless `arguments.verbose`. On JAX, compiled programs are kept
    for the next command in the cache folder (`framework.cache_jax_compilations`).

    A command's RUN_DIR is checked before Keras starts (about 10 s with
    TensorFlow): a typo in it costs no import."""
    backend = select_backend(arguments.backend)
    if getattr(arguments, "run_dir", None) is not None:
        files.check_finished_run(arguments.run_dir)
    if backend == "jax":
        cache_jax_compilations()
    if getattr(arguments, "deterministic", False):
        # Read when XLA starts, so before Keras imports JAX; CPUs are
        # deterministic already.
        flags = os.environ.get("XLA_FLAGS", "")
        os.environ["XLA_FLAGS"] = f"{flags} --xla_gpu_deterministic_ops=true".strip()
    framework.show_start_up_lines = arguments.verbose
    framework.quiet_tensorflow()
    # Keras first, which loads its backend: TensorFlow imported before it,
    # with KERAS_BACKEND=torch, crashes the process when PyTorch is a CUDA
    # build (SIGSEGV, nothing printed).
    import keras  # noqa: F401

    framework.defer_tensorflow()


def cache_jax_compilations():
    """Turns on JAX's compilation cache in `files.cache_folder()`/jax, or says
    in one line why it stays off."""
    folder = os.path.join(files.cache_folder(), "jax")
    error = framework.cache_jax_compilations(folder)
    if error is not None:
        print(
            "JAX's compiled programs are not kept for the next command: "
            f"{files.describe_os_error(error)}"
        )
    elif os.environ["JAX_COMPILATION_CACHE_DIR"] == folder:
        _one_line_for_cache_failures(folder)


# How JAX warns, once per program, that it could not keep one or read one.
_CACHE_ENTRY_FAILED = re.compile(
    r"Error (writing|reading) persistent compilation cache entry for '[^']*': "
    r"\w+: (.*)"
)
_OS_ERROR_TEXT = re.compile(r"\[Errno (\d+)\] ([^:]+)(?:: '(.*)')?$")


def _one_line_for_cache_failures(folder):
    """JAX warns about every program it cannot write to its cache (on a full
    disk, each one: 30 warnings for an `evaluate`) or read from it (an entry
    cut short by a full disk or a killed process: it is compiled again, in
    every command, as JAX never replaces an entry). The first of each kind
    becomes one line, the others are dropped. Other warnings are shown as
    usual."""
    show = warnings.showwarning
    said = set()

    def showwarning(message, category, filename, lineno, file=None, line=None):
        failed = _CACHE_ENTRY_FAILED.match(str(message))
        if failed is None:
            return show(message, category, filename, lineno, file, line)
        kind, reason = failed.groups()
        if kind in said:
            return
        said.add(kind)
        if kind == "reading":
            print(
                f"JAX's compilation cache {folder} holds damaged entries (a write "
                "was cut short): their programs are compiled again; delete the "
                "folder to clear them."
            )
            return
        os_error = _OS_ERROR_TEXT.match(reason)
        if os_error:
            reason = files.describe_os_error(
                OSError(int(os_error[1]), os_error[2], os_error[3] or folder)
            )
        print(
            f"JAX's compiled programs are no longer kept for the next command: {reason}"
        )

    warnings.showwarning = showwarning


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
    chosen = backend or os.environ.get("KERAS_BACKEND") or configured_backend()
    if chosen not in BACKENDS:
        where = (
            f"KERAS_BACKEND={chosen}"
            if os.environ.get("KERAS_BACKEND")
            else f"the backend {chosen!r} of Keras' configuration file"
        )
        raise ValueError(
            f"{where} is not a backend keras-vae trains on; expected one of "
            f"{', '.join(BACKENDS)} (set KERAS_BACKEND or pass --backend)."
        )
    if not importlib.util.find_spec(chosen):
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


def report_errors(prog, parser, function, *arguments):
    """Runs `function(*arguments)`; a user error becomes one line on stderr.

    User errors are the library's `ValueError`s, operating-system errors
    (permissions, a full disk, a name too long, ...), running out of memory
    (in NumPy, TensorFlow, JAX or PyTorch) and Ctrl-C. The library's messages
    name Python arguments; those that are `parser`'s flags are written as
    flags (`in_flags`). An error with a `hint` attribute (what to do next,
    e.g. how to resume) gets it after the message.

    Returns:
        The exit code: 0, 1 after a user error, 130 after Ctrl-C.
    """
    try:
        with swallowed_interrupts_delivered():
            function(*arguments)
    except KeyboardInterrupt as error:
        print(f"{prog}: interrupted{_hint(error, ';')}", file=sys.stderr)
        return 130
    except Exception as error:
        message = user_error_message(error)
        if message is None:
            raise
        print(
            f"{prog}: error: {in_flags(message, parser)}{_hint(error)}", file=sys.stderr
        )
        return 1
    return 0


@contextlib.contextmanager
def swallowed_interrupts_delivered():
    """Keeps Ctrl-C an interrupt where Python swallows exceptions.

    Python ignores an exception raised in a garbage collector's callback or a
    `__del__`: it prints "Exception ignored in ..." and goes on. JAX runs a
    callback at every collection, so a Ctrl-C that arrived during one printed
    a traceback and the command ran to its end. Such an interrupt is
    delivered again by a timer thread, 50 ms later: the handler then runs in
    the main thread's code of that moment, not in this hook (where it would
    be swallowed again).
    """
    previous = sys.unraisablehook

    def unraisable(info):
        if info.exc_type is not None and issubclass(info.exc_type, KeyboardInterrupt):
            timer = threading.Timer(0.05, _thread.interrupt_main)
            timer.daemon = True
            timer.start()
            return
        previous(info)

    sys.unraisablehook = unraisable
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _hint(error, separator=""):
    hint = getattr(error, "hint", None)
    return f"{separator} {hint}" if hint else ""


# A Python argument in a library message: `name` or `name=value`.
_ARGUMENT = re.compile(r"`([a-z][a-z0-9_]*)(?:=([^`]*))?`")
# Library arguments whose flags have other names.
_ALIASES = {"betas": "beta", "path": "data_path", "num_samples": "iw_samples"}


def in_flags(message, parser):
    """`message` with the Python arguments that are `parser`'s flags written as
    flags: `` `out` `` -> `--out`, `` `overwrite=True` `` -> `--overwrite`,
    `` `model="cvae"` `` -> `--model cvae`, `` `image_size=(H, W)` `` ->
    `--image-size H W`. Other spans are left as they are."""
    flags = {
        action.dest: max(action.option_strings, key=len)
        for action in parser._actions
        if action.option_strings
    }

    def flag(match):
        name, value = match.group(1), match.group(2)
        name = _ALIASES.get(name, name)
        if name not in flags:
            return match.group(0)
        if value is None or value == "True":
            return flags[name]
        value = value.strip("'\"()[] ").replace(",", "")
        return f"{flags[name]} {value}"

    return _ARGUMENT.sub(flag, message)


def user_error_message(error):
    """The one line a command prints for `error`, or `None` for a bug."""
    from keras_vae.datasets import DataUnavailableError
    from keras_vae.files import describe_os_error

    memory = _out_of_memory(error)
    if memory is not None:
        return (
            f"out of memory ({memory}); choose smaller sizes (such as "
            "--latent-dim, --batch-size or --n) and try again."
        )
    if isinstance(error, OSError):
        return describe_os_error(error)
    if isinstance(error, (ValueError, ChildProcessError, DataUnavailableError)):
        return " ".join(str(error).split()) or type(error).__name__
    return None


def _out_of_memory(error):
    """What could not be allocated, if `error` says the memory ran out."""
    message = str(error)
    name = type(error).__name__
    if not (
        isinstance(error, MemoryError)
        or name in ("ResourceExhaustedError", "OutOfMemoryError")
        or "RESOURCE_EXHAUSTED" in message
        or "can't allocate memory" in message
    ):
        return None
    size = re.search(r"(\d{4,}) bytes", message)
    if size:
        return f"{int(size.group(1)) / 1e9:.3g} GB were asked for"
    shape = re.search(r"shape ?\[([\d,]+)\]|shape \(([\d, ]+)\)", message)
    if shape:
        return f"an array of shape ({shape.group(1) or shape.group(2)}) was asked for"
    return message.strip().splitlines()[0][:120] if message.strip() else name


def print_metrics_table(rows):
    """The ELBO terms of `(name, metrics)` rows, as a table."""
    keys = ("loss", "reconstruction_loss", "kl_loss", "elbo")
    cells = [(name, *(f"{m[key]:.2f}" for key in keys)) for name, m in rows]
    header = ("", "loss", "-log p(x|z)", "KL", "ELBO")
    print(text.table(header, cells, first_column_left=True))
    print(
        "(nats per example; ELBO is the negative ELBO at beta = 1, "
        "comparable across beta)"
    )
