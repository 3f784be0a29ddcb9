"""Layers to build variational autoencoders into any Keras model."""

from keras_vae.layers.conditional_concat import ConditionalConcat as ConditionalConcat
from keras_vae.layers.kl_regularizer import KLRegularizer as KLRegularizer
from keras_vae.layers.sampling import Sampling as Sampling

__all__ = ["ConditionalConcat", "KLRegularizer", "Sampling"]

# Last: registers every class with Keras once no keras_vae module is half-imported.
from keras_vae import registry  # noqa: E402

registry.complete(__name__)
