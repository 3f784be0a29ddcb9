"""Variational autoencoder models trained with `fit`."""

from keras_vae.models.conditional_vae import ConditionalVAE as ConditionalVAE
from keras_vae.models.vae import VAE as VAE

__all__ = ["ConditionalVAE", "VAE"]

# Last: registers every class with Keras once no keras_vae module is half-imported.
from keras_vae import registry  # noqa: E402

registry.complete(__name__)
