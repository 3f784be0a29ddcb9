"""Registers keras_vae's classes with Keras once Keras is imported, so that
`keras.models.load_model` reads keras_vae files after a bare `import keras_vae`.

`import keras_vae` itself imports no framework: the command line's `--help`
answers at once, and TensorFlow is not loaded on JAX or PyTorch. The classes
can only be registered once Keras is imported, so `install` either registers
them at once (Keras is already there) or waits for `import keras`
(`keras_vae.framework.when_imported`): after Keras runs, the classes are
registered. (TensorFlow, whenever it is
imported, is imported quietly: `keras_vae.framework.quiet_tensorflow`.)

A keras_vae module that is itself being imported when Keras arrives (a user's
`import keras_vae.models` before Keras) cannot have its neighbours imported
then: they would find it half-initialized. Registration then waits for the
end of the outermost keras_vae import: each package that defines classes
calls `complete` as its last line.

Whether a module is half-initialized is CPython's private knowledge:
`keras_vae.private_api.module_initializing`.
"""

import importlib
import sys

from keras_vae import framework, private_api

# The packages whose classes Keras must know to load keras_vae files.
PACKAGES = (
    "keras_vae.layers",
    "keras_vae.likelihoods",
    "keras_vae.schedules",
    "keras_vae.models",
    "keras_vae.priors",
)

_done = False


def install():
    """Registers now if Keras is imported, else as soon as it is; TensorFlow
    will be imported quietly (`keras_vae.framework.quiet_tensorflow`)."""
    framework.quiet_tensorflow()
    if "keras" in sys.modules:
        complete()
    else:
        framework.when_imported("keras", _then_complete)


def complete(caller=None):
    """Imports the packages of `PACKAGES`, which registers their classes, if
    Keras is imported and no keras_vae module but `caller` is half-imported."""
    global _done
    if _done or "keras" not in sys.modules or _importing(besides=caller):
        return
    _done = True
    for name in PACKAGES:
        importlib.import_module(name)


def _importing(besides=None):
    return any(
        private_api.module_initializing(module)
        for name, module in list(sys.modules.items())
        if (name == "keras_vae" or name.startswith("keras_vae."))
        and name != besides
        and name not in ("keras_vae", "keras_vae.registry")
    )


def _then_complete(execute, module):
    execute(module)
    complete()
