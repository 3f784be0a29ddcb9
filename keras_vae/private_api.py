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


@contextlib.contextmanager
def torch_fused_adam(optimizers):
    """Keras' PyTorch `Adam` and `AdamW` among `optimizers` update their
    variables with PyTorch's fused Adam kernel while the context is active.

    Keras' PyTorch Adam (`torch_adam.Adam._parallel_update_step`) makes ten
    passes over every variable, one `_foreach` operation each, which a CPU
    runs one tensor at a time: 1-3 ms a step for the original MLP, as long as
    its matrix products (docs/benchmarks.md). `torch._fused_adam_` makes one.
    Keras' arithmetic is kept: the kernel is given Keras' step size (learning
    rate and both bias corrections, computed as Keras computes them) and an
    infinite step count, at which its own corrections are 1, so it updates
    `m`, `v` and the variable as Keras does, to float rounding. Optimizers
    whose update is not Keras' PyTorch Adam, and variables not on a CPU, keep
    Keras' update. The update reads Keras' moment slots (`_momentums`,
    `_velocities`, `_velocity_hats`), which no public API exposes.
    """
    import torch
    from keras.src.backend.torch.optimizers import torch_adam

    keras_update = torch_adam.Adam._parallel_update_step

    def fused_update(optimizer):
        def update(grads, variables, learning_rate):
            values = [variable.value for variable in variables]
            dtype = values[0].dtype
            index = optimizer._get_variable_index
            slots = [optimizer._momentums, optimizer._velocities]
            if optimizer.amsgrad:
                slots.append(optimizer._velocity_hats)
            m, v, *v_hat = (
                [slot[index(variable)].value for variable in variables]
                for slot in slots
            )
            # The kernel reads every tensor as contiguous memory; a
            # convolution's kernel gradient is a strided view.
            grads = [grad.contiguous() for grad in grads]
            if any(
                tensor.device.type != "cpu"
                or tensor.dtype != dtype
                or not tensor.is_contiguous()
                for tensors in (values, grads, m, v, *v_hat)
                for tensor in tensors
            ):
                return keras_update(optimizer, grads, variables, learning_rate)
            learning_rate = getattr(learning_rate, "value", learning_rate)
            step = torch.as_tensor(optimizer.iterations.value + 1, dtype=dtype)
            beta_1 = torch.as_tensor(optimizer.beta_1, dtype=dtype)
            beta_2 = torch.as_tensor(optimizer.beta_2, dtype=dtype)
            step_size = (
                torch.as_tensor(learning_rate, dtype=dtype)
                * torch.sqrt(1 - beta_2**step)
                / (1 - beta_1**step)
            )
            infinity = torch.full((), float("inf"), dtype=dtype)
            torch._fused_adam_(
                values,
                grads,
                m,
                v,
                v_hat[0] if v_hat else [],
                [infinity] * len(values),
                lr=step_size,
                beta1=float(optimizer.beta_1),
                beta2=float(optimizer.beta_2),
                weight_decay=0.0,
                eps=float(optimizer.epsilon),
                amsgrad=bool(optimizer.amsgrad),
                maximize=False,
            )

        return update

    with _replacing_update(optimizers, keras_update, fused_update):
        yield


@contextlib.contextmanager
def torch_traceable_sgd(optimizers):
    """Keras' PyTorch `SGD` among `optimizers` takes its learning rate as a
    tensor while the context is active, so that a `torch.fx` trace can follow
    its update.

    Keras' PyTorch SGD (`torch_sgd.SGD._parallel_update_step`) passes the
    learning rate, a tensor, as `_foreach_add_`'s `alpha`, a Python number:
    reading it stops a trace (`aten._local_scalar_dense`), and the training
    step would run eagerly. Here the gradients are multiplied by the negated
    rate as a tensor first; momentum and Nesterov's update are Keras', to
    float rounding. The update reads Keras' momentum slots (`momentums`).
    """
    import torch
    from keras.src.backend.torch.optimizers import torch_sgd

    keras_update = torch_sgd.SGD._parallel_update_step

    def traceable_update(optimizer):
        def update(grads, variables, learning_rate):
            values = [variable.value for variable in variables]
            learning_rate = getattr(learning_rate, "value", learning_rate)
            steps = torch._foreach_mul(list(grads), -learning_rate)
            if optimizer.momentum == 0:
                torch._foreach_add_(values, steps)
                return
            index = optimizer._get_variable_index
            buffers = [
                optimizer.momentums[index(variable)].value for variable in variables
            ]
            torch._foreach_mul_(buffers, optimizer.momentum)
            torch._foreach_add_(buffers, steps)
            if optimizer.nesterov:
                torch._foreach_add_(values, steps)
                torch._foreach_add_(values, buffers, alpha=optimizer.momentum)
            else:
                torch._foreach_add_(values, buffers)

        return update

    with _replacing_update(optimizers, keras_update, traceable_update):
        yield


@contextlib.contextmanager
def _replacing_update(optimizers, keras_update, update_of):
    """While active, each of `optimizers` whose class updates with
    `keras_update` (a Keras PyTorch optimizer's `_parallel_update_step`)
    updates with `update_of(optimizer)` instead; others are left alone (not
    every optimizer has the method)."""
    replaced = [
        optimizer
        for optimizer in optimizers
        if getattr(type(optimizer), "_parallel_update_step", None) is keras_update
    ]
    for optimizer in replaced:
        optimizer._parallel_update_step = update_of(optimizer)
    try:
        yield
    finally:
        for optimizer in replaced:
            del optimizer._parallel_update_step
