"""One thin training step per Keras backend.

Keras builds `keras.Model` from one trainer per backend
(`keras/src/backend/{tensorflow,jax,torch}/trainer.py`); keras_vae's models do
the same. Each trainer only differentiates and applies the one
backend-agnostic loss, `VAE.compute_elbo_terms`, with its backend's own tool:
TensorFlow's `GradientTape`, JAX's `value_and_grad` on a stateless step, and
PyTorch's `torch.autograd.grad` in a step traced once into a `torch.fx` graph.
"""

import keras

from keras_vae import private_api

SUPPORTED_BACKENDS = ("tensorflow", "jax", "torch")

# `compile(steps_per_execution="auto")`, measured in docs/benchmarks.md: on
# TensorFlow one graph call runs a loop of N steps, and on JAX one compiled call
# scans the step over N stacked batches (`JAXTrainer.make_train_function`);
# either removes the per-step Python overhead. PyTorch requires 1.
AUTO_STEPS_PER_EXECUTION = {"tensorflow": 32, "jax": 32, "torch": 1}

_backend = keras.backend.backend()
if _backend == "tensorflow":
    from keras_vae.models.backends.tensorflow_trainer import (
        TensorFlowTrainer as Trainer,
    )
elif _backend == "jax":
    from keras_vae.models.backends.jax_trainer import JAXTrainer as Trainer
elif _backend == "torch":
    from keras_vae.models.backends.torch_trainer import TorchTrainer as Trainer
else:
    Trainer = object


def auto_steps_per_execution(model):
    """What `compile(steps_per_execution="auto")` means for `model`."""
    backend = keras.backend.backend()
    if backend == "tensorflow" and private_api.model_distribute_strategy(model):
        # Under a tf.distribute strategy Keras' loop of N steps per call fails
        # ("You must feed a value for placeholder tensor ... while/cond"):
        # one step per call.
        return 1
    return AUTO_STEPS_PER_EXECUTION[backend]


def check_backend(class_name):
    """Raises `RuntimeError` unless Keras runs on a backend with a trainer."""
    backend = keras.backend.backend()
    if backend not in SUPPORTED_BACKENDS:
        raise RuntimeError(
            f"keras_vae.models.{class_name} trains on the "
            f"{', '.join(SUPPORTED_BACKENDS)} backends, but Keras is running on "
            f"'{backend}'. Set the environment variable KERAS_BACKEND to one of "
            "them before Python imports Keras. (The layers in keras_vae.layers "
            "work on every backend.)"
        )


__all__ = [
    "AUTO_STEPS_PER_EXECUTION",
    "SUPPORTED_BACKENDS",
    "Trainer",
    "auto_steps_per_execution",
    "check_backend",
]
