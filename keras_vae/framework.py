"""Starting the Keras backend quietly, without importing a framework to decide.

Imports neither TensorFlow nor Keras: `import keras_vae` and the command lines
use it before either is loaded.
"""

import contextlib
import functools
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

# Mirrors keras_vae.models.backends.SUPPORTED_BACKENDS, which imports Keras;
# a test keeps them equal. Each is also the name of the module it needs.
BACKENDS = ("tensorflow", "jax", "torch")

# What TensorFlow's C++ side prints while it is imported and looks for devices,
# whatever TF_CPP_MIN_LOG_LEVEL says (TensorFlow 2.21): absl's notice that
# logging is not initialized yet, INFO lines such as "Could not find cuda
# drivers" or "oneDNN custom operations are on" (with the second line of the
# CPU features notice), and, on a machine without a
# GPU, the ERROR line "failed call to cuInit".
_START_UP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are "
    r"written to STDERR|I\d{4} [\d:.]+ +\d+ \S+:\d+\] .*"
    r"|E\d{4} [\d:.]+ +\d+ cuda_platform\.cc:\d+\] failed call to cuInit: .*"
    r"|To enable the following instructions: .* rebuild TensorFlow with the "
    r"appropriate compiler flags\."
)


# Whether TensorFlow's start-up lines are shown (`keras-vae --verbose`).
show_start_up_lines = False


def quiet_tensorflow():
    """Makes TensorFlow's import quiet whenever it happens (by Keras, by
    `tf.data`, or by a user's code), instead of importing it now.

    TensorFlow's C++ side writes its start-up lines (absl's notice, CUDA's,
    oneDNN's, the CPU features, "failed call to cuInit" without a GPU)
    straight to file descriptor 2. A finder at the front of `sys.meta_path`
    wraps the loader of `tensorflow`: while the module runs and looks for
    devices (which leaves them configurable), descriptor 2 points at a
    temporary file; afterwards every captured line but the start-up lines is
    written back, and everything if the import fails.
    """
    if "tensorflow" not in sys.modules:
        when_imported("tensorflow", _quietly)


def _quietly(execute, module):
    if show_start_up_lines:
        return execute(module)
    with _start_up_lines_dropped():
        execute(module)
        module.config.list_physical_devices()


def when_imported(name, wrapper):
    """Runs the import of the top-level module `name`, when it happens, as
    `wrapper(execute, module)`, where `execute(module)` runs the module's code.

    A finder at the front of `sys.meta_path` finds the module through the
    other finders, once, and wraps its loader. Several wrappers of one module
    nest, the first registered innermost; a wrapper registered twice runs once.
    """
    for finder in sys.meta_path:
        if getattr(finder, "module_name", None) == name:
            if wrapper not in finder.wrappers:
                finder.wrappers.append(wrapper)
            return
    sys.meta_path.insert(0, _WrappingFinder(name, wrapper))


def after_import(name, callback):
    """Calls `callback(module)` once the top-level module `name` is imported:
    now if it is, else right after its import, before its importer goes on."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return

    def then_call(execute, module):
        execute(module)
        callback(module)

    when_imported(name, then_call)


class _WrappingFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module_name, wrapper):
        self.module_name, self.wrappers = module_name, [wrapper]

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module_name:
            return None
        sys.meta_path.remove(self)  # once: the real finders do the finding
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _WrappingLoader(spec.loader, self.wrappers)
        return spec


class _WrappingLoader(importlib.abc.Loader):
    def __init__(self, loader, wrappers):
        self.loader, self.wrappers = loader, wrappers

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        execute = self.loader.exec_module
        for wrapper in self.wrappers:
            execute = functools.partial(wrapper, execute)
        execute(module)


def set_random_seed(seed):
    """`keras.utils.set_random_seed(seed)`, without importing TensorFlow.

    Keras seeds TensorFlow whenever it is installed (for `tf.data`), which
    imports it, 4-10 s, on JAX and PyTorch too. Here Python, NumPy, Keras'
    generators and PyTorch (on its backend) are seeded now, and TensorFlow now
    if it is loaded, else as soon as something imports it: the same seeds
    wherever TensorFlow is first needed.

    Args:
        seed: Integer.
    """
    import random

    import keras
    import numpy as np

    from keras_vae import private_api

    if not isinstance(seed, int):
        raise ValueError(f"Expected an integer seed. Received: seed={seed!r}")
    if "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
        return
    private_api.set_keras_global_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)
    if _pending_tensorflow_seed[0] is None:  # one hook, the latest seed
        after_import("tensorflow", _seed_tensorflow)
    _pending_tensorflow_seed[0] = seed


def defer_tensorflow():
    """Keeps Keras on JAX or PyTorch from importing TensorFlow only to ask
    about it, until something imports it to use it (a `tf.data` pipeline, an
    export): from then on Keras asks as usual.

    Keras imports TensorFlow, whatever its backend, to seed it and to save a
    model (`keras_vae.private_api.keras_assumes_no_tensorflow`): 4-10 s of a
    command that never uses it. Call after Keras is imported.
    """
    import keras

    from keras_vae import private_api

    if "tensorflow" in sys.modules or keras.backend.backend() == "tensorflow":
        return
    private_api.keras_assumes_no_tensorflow(True)
    after_import("tensorflow", _tensorflow_imported)


def _tensorflow_imported(tf):
    from keras_vae import private_api

    private_api.keras_assumes_no_tensorflow(False)


def cache_jax_compilations(folder):
    """Keeps the programs JAX compiles in `folder` for the next process.

    JAX compiles every training step and every operation the evaluation
    runs outside one, in each process anew; with its persistent
    compilation cache, a command that runs a model again (a second `train`
    of one architecture, `evaluate`, `sample`) loads them instead. Every
    program is kept, however fast it compiled
    (`JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0`): the evaluation's many
    small ones add up. A cache the user configured wins:
    `JAX_COMPILATION_CACHE_DIR`, set even to an empty string (no cache),
    is left as it is. Call before JAX is imported.

    Returns:
        The `OSError` that keeps `folder` from being written (the cache is
        then off), else None.
    """
    if "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return None
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return error
    os.environ["JAX_COMPILATION_CACHE_DIR"] = folder
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    return None


# The seed TensorFlow takes when it is imported: the last one asked for.
_pending_tensorflow_seed = [None]


def _seed_tensorflow(tf):
    if _pending_tensorflow_seed[0] is not None:
        tf.random.set_seed(_pending_tensorflow_seed[0])


@contextlib.contextmanager
def _start_up_lines_dropped():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            failed = True
            try:
                yield
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


def configured_backend():
    """The backend in Keras' configuration file, read without importing Keras."""
    import json

    base = os.environ.get("KERAS_HOME") or os.path.join(
        os.path.expanduser("~"), ".keras"
    )
    try:
        with open(os.path.join(base, "keras.json"), encoding="utf-8") as file:
            configuration = json.load(file)
    except (OSError, ValueError):
        return "tensorflow"
    if not isinstance(configuration, dict):
        return "tensorflow"
    return configuration.get("backend", "tensorflow")


def keras_backend():
    """The backend Keras runs on, or will start on, without importing it."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return keras.backend.backend()
    return configured_keras_backend()


def configured_keras_backend():
    """The backend Keras starts on: `KERAS_BACKEND`, else its configuration."""
    return os.environ.get("KERAS_BACKEND") or configured_backend()
