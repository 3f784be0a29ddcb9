"""Variational autoencoder models trained with `fit`."""

from keras_vae.models.conditional_vae import ConditionalVAE as ConditionalVAE
from keras_vae.models.vae import VAE as VAE

__all__ = ["ConditionalVAE", "VAE"]
