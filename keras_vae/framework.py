"""Starting the Keras backend quietly, without importing a framework to decide.

Imports neither TensorFlow nor Keras: `import keras_vae` and the command lines
use it before either is loaded.
"""

import contextlib
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
    other finders, once, and wraps its loader. A second call for the same
    name while the first waits does nothing.
    """
    if not any(getattr(f, "module_name", None) == name for f in sys.meta_path):
        sys.meta_path.insert(0, _WrappingFinder(name, wrapper))


class _WrappingFinder(importlib.abc.MetaPathFinder):
    def __init__(self, module_name, wrapper):
        self.module_name, self.wrapper = module_name, wrapper

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module_name:
            return None
        sys.meta_path.remove(self)  # once: the real finders do the finding
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _WrappingLoader(spec.loader, self.wrapper)
        return spec


class _WrappingLoader(importlib.abc.Loader):
    def __init__(self, loader, wrapper):
        self.loader, self.wrapper = loader, wrapper

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.wrapper(self.loader.exec_module, module)


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
