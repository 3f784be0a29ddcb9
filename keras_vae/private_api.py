"""Every use keras_vae makes of another library's private API, with its reason.

No public API answers these questions; each answer is read here and nowhere
else in `keras_vae`, and `tests/test_private_api.py` fails when one of them
changes. (KerasTuner's private API is used by `tuning/persistence.py` alone,
for the same reason and under the same kind of test.) Imports nothing at module
level: callers pass the objects in.
"""

import contextlib


def module_initializing(module):
    """Whether `module`'s code is running (it is being imported).

    CPython marks a module's spec `_initializing` while the module runs;
    `keras_vae.registry` must not import a package's neighbours while it is
    half-initialized.
    """
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))


def model_distribute_strategy(model):
    """The `tf.distribute` strategy `model` was created under, else `None`.

    Keras' TensorFlow trainer keeps it in `_distribute_strategy`; its public
    `distribute_strategy` falls back to the default strategy, which cannot be
    told apart from a one-device strategy by public means.
    """
    return getattr(model, "_distribute_strategy", None)


def in_multi_worker_mode(strategy):
    """Whether a `tf.distribute.MultiWorkerMirroredStrategy` spans several
    workers (`TF_CONFIG` names a cluster), as TensorFlow's
    `extended._in_multi_worker_mode()` says."""
    return strategy.extended._in_multi_worker_mode()


def portable_optimizer_config(config):
    """An optimizer's serialized config, loadable on every backend.

    Keras' PyTorch backend saves its optimizers under a module of its own
    (`keras.src.backend.torch.optimizers...`), which would load a PyTorch
    optimizer on another backend; the public `keras.optimizers` module names
    the same classes for every backend.
    """
    if isinstance(config, dict) and str(config.get("module")).startswith(
        "keras.src.backend."
    ):
        return {**config, "module": "keras.optimizers"}
    return config


def set_keras_global_seed(seed):
    """What `keras.utils.set_random_seed` does to Keras' own generators (the
    global seed, and a fresh global `SeedGenerator`), without the TensorFlow
    seed that makes it import TensorFlow on every backend."""
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)


def keras_assumes_no_tensorflow(assume):
    """Makes Keras' lazy handle of TensorFlow answer "not installed" without
    importing it (`assume=True`), or ask anew on next use (`False`).

    Keras tests `tf.available`, which imports TensorFlow (4-10 s), on every
    backend: to seed it, and while saving any model, to check whether a value
    is a `tf.TensorShape` or `tf.DType` (none can be before TensorFlow loads).
    Its handle, `keras.src.utils.module_utils.tensorflow`, caches the answer
    in `_available`.
    """
    from keras.src.utils import module_utils

    module_utils.tensorflow._available = False if assume else None


@contextlib.contextmanager
def torch_random_from_global_generator():
    """Keras' PyTorch random functions draw from PyTorch's global generator
    while the context is active.

    Keras seeds a new `torch.Generator` from a `SeedGenerator`'s state at every
    draw (`torch_seed_generator`), reading the state as a Python integer: a
    graph traced through it (`torch.fx`) would either fail or keep the first
    draw's numbers forever. Without a generator, the traced random operations
    draw fresh numbers at every replay. No public API chooses the generator.
    """
    from keras.src.backend.torch import random

    original = random.torch_seed_generator
    random.torch_seed_generator = lambda seed: None
    try:
        yield
    finally:
        random.torch_seed_generator = original


def train_validation_split(arrays, validation_split):
    """Keras' split of `fit`'s arrays by `validation_split` (its last
    fraction for validation), as `fit` makes it."""
    from keras.src.trainers.data_adapters import array_slicing

    return array_slicing.train_validation_split(
        arrays, validation_split=validation_split
    )
