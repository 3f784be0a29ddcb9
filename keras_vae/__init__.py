"""keras_vae: variational autoencoders for Keras 3.

`import keras_vae` imports no framework: the subpackages (`keras_vae.models`,
`keras_vae.layers`, ...) load when first used, and every serializable class is
registered with Keras as soon as Keras is imported, so that
`keras.models.load_model` reads `.keras` files of keras_vae models with no
`custom_objects` (see `keras_vae.registry`). On the TensorFlow backend,
TensorFlow is then imported without its C++ start-up lines.
"""

import importlib
import typing

__version__ = "0.1.0"

_SUBPACKAGES = (
    "anomaly",
    "architectures",
    "callbacks",
    "datasets",
    "evaluation",
    "export",
    "layers",
    "likelihoods",
    "models",
    "priors",
    "schedules",
)
_ATTRIBUTES = {"LatentMixture": "keras_vae.latent_mixture"}

__all__ = sorted((*_SUBPACKAGES, *_ATTRIBUTES))

if typing.TYPE_CHECKING:  # what static tools (IDEs, the API reference) see
    from keras_vae.latent_mixture import LatentMixture as LatentMixture


def __getattr__(name):
    if name in _SUBPACKAGES:
        module = importlib.import_module(f"keras_vae.{name}")
    elif name in _ATTRIBUTES:
        module = getattr(importlib.import_module(_ATTRIBUTES[name]), name)
    else:
        raise AttributeError(f"module 'keras_vae' has no attribute {name!r}")
    registry.complete()
    return module


def __dir__():
    return sorted({*globals(), *__all__})


from keras_vae import registry  # noqa: E402

registry.install()
