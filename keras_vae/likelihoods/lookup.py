"""Likelihoods by name: the one module that knows every subclass."""

import keras

from keras_vae.likelihoods.bernoulli import Bernoulli
from keras_vae.likelihoods.gaussian import Gaussian
from keras_vae.likelihoods.likelihood import Likelihood


def get(identifier):
    """Returns a likelihood from a name, a config dict or an instance.

    Args:
        identifier: String (`"bernoulli"` or `"gaussian"`), a dict from
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
    by_name = {"bernoulli": Bernoulli, "gaussian": Gaussian}
    if isinstance(identifier, str) and identifier.lower() in by_name:
        return by_name[identifier.lower()]()
    raise ValueError(
        "Invalid value received for argument `likelihood`. Expected one of "
        f"{sorted(by_name)} or a `keras_vae.likelihoods.Likelihood` instance. "
        f"Received: likelihood={identifier!r}"
    )
