"""keras_vae: variational autoencoders for Keras 3.

Importing the package registers every serializable class with Keras, so that
`keras.models.load_model` reads `.keras` files of keras_vae models with no
`custom_objects`.
"""

import sys

__version__ = "0.1.0"


def _started_as_command():
    """Whether Python is loading this package to run a command line.

    `python -m keras_vae` imports the package while `sys.argv[0]` is still "-m";
    the console script runs as `keras-vae`; `python -m tuning` runs
    `tuning/__main__.py`. Those commands import what they need after parsing
    their arguments, so `--help` answers without TensorFlow.
    """
    program = (sys.argv[0] if sys.argv else "").replace("\\", "/")
    return (
        program == "-m"
        or program.rsplit("/", 1)[-1] in ("keras-vae", "keras-vae.exe")
        or program.endswith(("keras_vae/__main__.py", "tuning/__main__.py"))
    )


if not _started_as_command():
    from keras_vae import framework as _framework

    if _framework.keras_backend() == "tensorflow":
        # Keras imports TensorFlow: first, without its C++ start-up lines.
        _framework.import_tensorflow_quietly()
    from keras_vae import architectures as architectures
    from keras_vae import callbacks as callbacks
    from keras_vae import datasets as datasets
    from keras_vae import evaluation as evaluation
    from keras_vae import layers as layers
    from keras_vae import likelihoods as likelihoods
    from keras_vae import models as models
    from keras_vae import schedules as schedules
    from keras_vae.latent_mixture import LatentMixture as LatentMixture
