"""Layers to build variational autoencoders into any Keras model."""

from keras_vae.layers.conditional_concat import ConditionalConcat as ConditionalConcat
from keras_vae.layers.conv2d import Conv2D as Conv2D
from keras_vae.layers.conv2d_transpose import Conv2DTranspose as Conv2DTranspose
from keras_vae.layers.dip_penalty import DIPPenalty as DIPPenalty
from keras_vae.layers.factor_vae_penalty import FactorVAEPenalty as FactorVAEPenalty
from keras_vae.layers.kl_regularizer import KLRegularizer as KLRegularizer
from keras_vae.layers.latent_penalty import LatentPenalty as LatentPenalty
from keras_vae.layers.sampling import Sampling as Sampling
from keras_vae.layers.total_correlation_penalty import (
    TotalCorrelationPenalty as TotalCorrelationPenalty,
)

__all__ = [
    "ConditionalConcat",
    "Conv2D",
    "Conv2DTranspose",
    "DIPPenalty",
    "FactorVAEPenalty",
    "KLRegularizer",
    "LatentPenalty",
    "Sampling",
    "TotalCorrelationPenalty",
]

# Last: registers every class with Keras once no keras_vae module is half-imported.
from keras_vae import registry  # noqa: E402

registry.complete(__name__)
