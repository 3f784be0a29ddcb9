"""Starting the Keras backend quietly, without importing a framework to decide.

Imports neither TensorFlow nor Keras: `import keras_vae` and the command lines
use it before either is loaded.
"""

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


def import_tensorflow_quietly():
    """Imports TensorFlow without its C++ start-up lines on stderr.

    The lines are written by C++ straight to file descriptor 2, so the
    descriptor is pointed at a temporary file during the import and the
    search for devices (which prints "failed call to cuInit" on a machine
    without a GPU, and leaves the devices configurable); afterwards every
    captured line except the start-up lines is written back to stderr, and so
    is everything if the import fails. Does nothing if TensorFlow is already
    imported or not installed.
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
                import tensorflow

                tensorflow.config.list_physical_devices()
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
    if keras is not None:
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND") or configured_backend()
