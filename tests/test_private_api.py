"""Each private API that `keras_vae.private_api` reads still answers as it
did: these fail when a new release of CPython, Keras or TensorFlow changes
one."""

import os
import subprocess
import sys

import keras
import pytest

from keras_vae import private_api


def test_cpython_marks_a_module_while_it_runs(tmp_path):
    (tmp_path / "probe.py").write_text(
        "import sys\n"
        "from keras_vae import private_api\n"
        "print(private_api.module_initializing(sys.modules[__name__]))\n"
    )
    code = (
        "import probe\n"
        "from keras_vae import private_api\n"
        "print(private_api.module_initializing(probe))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="a tf.distribute question"
)
def test_keras_keeps_the_strategy_a_model_was_made_under():
    import tensorflow as tf

    assert private_api.model_distribute_strategy(keras.Sequential()) is None
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = keras.Sequential()
    assert private_api.model_distribute_strategy(model) is strategy


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="a tf.distribute question"
)
def test_tensorflow_says_whether_a_strategy_spans_workers():
    # A MultiWorkerMirroredStrategy cannot be made twice in one process (the
    # two-worker command test runs one in its own processes), so the method
    # is checked on a one-device strategy's sibling class: MirroredStrategy's
    # extended object has it too, and answers False on one machine.
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    assert private_api.in_multi_worker_mode(strategy) is False


def test_a_pytorch_optimizer_config_loads_on_every_backend():
    torch_saved = {
        "module": "keras.src.backend.torch.optimizers.torch_adam",
        "class_name": "Adam",
        "config": {"learning_rate": 0.01},
        "registered_name": None,
    }
    portable = private_api.portable_optimizer_config(torch_saved)
    optimizer = keras.saving.deserialize_keras_object(portable)
    assert isinstance(optimizer, keras.optimizers.Adam)
    assert float(optimizer.learning_rate) == pytest.approx(0.01)
    # Left alone: a config that names the public module (on PyTorch,
    # serialize() itself writes the backend's module).
    plain = {**torch_saved, "module": "keras.optimizers"}
    assert private_api.portable_optimizer_config(plain) == plain


def test_keras_global_seed_is_what_set_random_seed_sets():
    import random

    random.seed(7)  # the global generator's seed is drawn from Python's
    private_api.set_keras_global_seed(7)
    drawn = keras.ops.convert_to_numpy(keras.random.normal((4,)))
    keras.utils.set_random_seed(7)
    assert (drawn == keras.ops.convert_to_numpy(keras.random.normal((4,)))).all()


def test_keras_asks_its_lazy_handle_whether_tensorflow_is_there():
    from keras.src.utils.module_utils import tensorflow

    try:
        private_api.keras_assumes_no_tensorflow(True)
        assert tensorflow.available is False
    finally:
        private_api.keras_assumes_no_tensorflow(False)
    assert tensorflow.available is True  # installed: asked anew


def _passes_on_pytorch(code):
    """Runs `code` in a process on Keras' PyTorch backend; it prints ok."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "KERAS_BACKEND": "torch"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["ok"]


def test_keras_pytorch_random_draws_from_the_global_generator_in_the_context():
    _passes_on_pytorch(
        "import keras, torch\n"
        "from keras_vae import private_api\n"
        "def draw(seed):\n"
        "    torch.manual_seed(seed)\n"
        "    return keras.random.normal((4,), seed=keras.random.SeedGenerator(1))\n"
        "with private_api.torch_random_from_global_generator():\n"
        "    torch.manual_seed(5)\n"
        "    expected = torch.normal(0.0, 1.0, size=(4,))\n"
        "    assert torch.equal(draw(5), expected)\n"
        "    assert not torch.equal(draw(6), expected)\n"
        "assert torch.equal(draw(5), draw(6))  # the SeedGenerator's numbers again\n"
        "print('ok')\n"
    )


# Trains two weights for 6 steps with an optimizer, in a context or not, and
# returns the optimizer, the weights, and their values and the optimizer's;
# and a learning-rate schedule.
UPDATES = (
    "import contextlib, keras, numpy as np, torch\n"
    "from keras_vae import private_api\n"
    "def run(make, context=None):\n"
    "    rng = np.random.default_rng(0)\n"
    "    weights = [keras.Variable(rng.normal(size=s).astype('float32'))\n"
    "               for s in ((30, 20), (20,))]\n"
    "    optimizer = make()\n"
    "    optimizer.build(weights)\n"
    "    for step in range(6):\n"
    "        grads = [torch.tensor(rng.normal(size=w.shape), dtype=torch.float32)\n"
    "                 * 10.0 ** -step for w in weights]\n"
    "        grads[0] = grads[0].T.contiguous().T  # strided, as a conv's\n"
    "        with context([optimizer]) if context else contextlib.nullcontext():\n"
    "            assert ('_parallel_update_step' in vars(optimizer)) == bool(context)\n"
    "            optimizer.apply(grads, weights)\n"
    "        assert '_parallel_update_step' not in vars(optimizer)\n"
    "    values = [w.numpy() for w in weights + list(optimizer.variables)[1:]]\n"
    "    return optimizer, weights, values\n"
    "schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.5)\n"
)


def test_keras_pytorch_adam_updates_as_pytorch_fused_adam_in_the_context():
    # Keras' update and the fused kernel's, from the same state, over steps
    # where the bias corrections still matter, with a schedule, AdamW's decay,
    # AMSGrad and a strided gradient; SGD and Adafactor are left to Keras.
    _passes_on_pytorch(
        UPDATES
        + "schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.5)\n"
        "for make in (lambda: keras.optimizers.Adam(1e-2),\n"
        "             lambda: keras.optimizers.Adam(schedule, 0.5, epsilon=1e-3),\n"
        "             lambda: keras.optimizers.AdamW(1e-2, weight_decay=0.1),\n"
        "             lambda: keras.optimizers.Adam(1e-2, amsgrad=True)):\n"
        "    *_, keras_update = run(make)\n"
        "    *_, fused_update = run(make, private_api.torch_fused_adam)\n"
        "    for mine, theirs in zip(fused_update, keras_update, strict=True):\n"
        "        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-7)\n"
        "others = [keras.optimizers.SGD(1e-2), keras.optimizers.Adafactor()]\n"
        "with private_api.torch_fused_adam(others):  # Adafactor has no such step\n"
        "    assert not any('_parallel_update_step' in vars(o) for o in others)\n"
        "print('ok')\n"
    )


def test_keras_pytorch_sgd_can_be_traced_in_the_context():
    # Keras' own update reads its tensor learning rate as a Python number,
    # which stops a trace; in the context it traces, and updates as Keras'.
    _passes_on_pytorch(
        UPDATES + "from torch.fx.experimental import proxy_tensor\n"
        "for make in (lambda: keras.optimizers.SGD(1e-2),\n"
        "             lambda: keras.optimizers.SGD(schedule, momentum=0.9),\n"
        "             lambda: keras.optimizers.SGD(1e-2, 0.9, nesterov=True)):\n"
        "    *_, keras_update = run(make)\n"
        "    optimizer, weights, traceable_update = run(\n"
        "        make, private_api.torch_traceable_sgd)\n"
        "    for mine, theirs in zip(traceable_update, keras_update, strict=True):\n"
        "        np.testing.assert_allclose(mine, theirs, rtol=1e-6, atol=1e-7)\n"
        "    grads = [torch.ones(w.shape) for w in weights]\n"
        "    def step(*grads):\n"
        "        optimizer.apply(list(grads), weights)\n"
        "    with private_api.torch_traceable_sgd([optimizer]):\n"
        "        proxy_tensor.make_fx(step)(*grads)\n"
        "    try:\n"
        "        proxy_tensor.make_fx(step)(*grads)\n"
        "    except RuntimeError as error:\n"
        "        assert '_local_scalar_dense' in str(error), error\n"
        "    else:\n"
        "        raise AssertionError('Keras SGD traced without the context')\n"
        "with private_api.torch_traceable_sgd([keras.optimizers.Ftrl()]):\n"
        "    pass  # an optimizer without Keras' parallel update step is left alone\n"
        "print('ok')\n"
    )
