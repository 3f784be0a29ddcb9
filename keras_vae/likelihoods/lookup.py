"""Likelihoods by name: the one module that knows every subclass."""

import keras

from keras_vae.likelihoods.bernoulli import Bernoulli
from keras_vae.likelihoods.continuous_bernoulli import ContinuousBernoulli
from keras_vae.likelihoods.discretized_logistic import DiscretizedLogistic
from keras_vae.likelihoods.discretized_logistic_mixture import (
    DiscretizedLogisticMixture,
)
from keras_vae.likelihoods.gaussian import Gaussian
from keras_vae.likelihoods.learned_gaussian import LearnedGaussian
from keras_vae.likelihoods.likelihood import Likelihood

# Every likelihood by the name `keras-vae train --likelihood` takes.
BY_NAME = {
    "gaussian": Gaussian,
    "bernoulli": Bernoulli,
    "continuous_bernoulli": ContinuousBernoulli,
    "gaussian_global": lambda: LearnedGaussian("global"),
    "gaussian_pixel": lambda: LearnedGaussian("pixel"),
    "logistic": lambda: DiscretizedLogistic("pixel"),
    "logistic_mixture": DiscretizedLogisticMixture,
}


def get(identifier):
    """Returns a likelihood from a name, a config dict or an instance.

    Args:
        identifier: String, a name of `BY_NAME` (`"gaussian"`, `"bernoulli"`,
            `"continuous_bernoulli"`, `"gaussian_global"`, `"gaussian_pixel"`,
            `"logistic"`, `"logistic_mixture"`), a dict from
            `keras.saving.serialize_keras_object`, or a `Likelihood` instance.

    Returns:
        A `Likelihood` instance.

    Raises:
        ValueError: if the identifier is not recognized.

    Example:

    ```python
    import keras_vae

    likelihood = keras_vae.likelihoods.get("bernoulli")
    print(type(likelihood).__name__)  # Bernoulli
    ```
    """
    if isinstance(identifier, Likelihood):
        return identifier
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, str) and identifier.lower() in BY_NAME:
        return BY_NAME[identifier.lower()]()
    raise ValueError(
        "Invalid value received for argument `likelihood`. Expected one of "
        f"{sorted(BY_NAME)} or a `keras_vae.likelihoods.Likelihood` instance. "
        f"Received: likelihood={identifier!r}"
    )
