import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# What keras-vae caches (evaluate's classifiers) stays out of the user's home;
# subprocesses inherit the variable.
os.environ.setdefault(
    "KERAS_VAE_CACHE", tempfile.mkdtemp(prefix="keras-vae-test-cache-")
)

import keras  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def seeded_keras():
    """Every test starts from a fresh Keras session with fixed seeds."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    yield
    keras.config.set_dtype_policy("float32")
