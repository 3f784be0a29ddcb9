"""Learned priors p(z) for `VAE(..., prior=...)`; the default is N(0, I)."""

from keras_vae.priors.class_prior import ClassPrior as ClassPrior
from keras_vae.priors.mixture_prior import MixturePrior as MixturePrior
from keras_vae.priors.prior import Prior as Prior
from keras_vae.priors.vamp_prior import VampPrior as VampPrior

__all__ = ["ClassPrior", "MixturePrior", "Prior", "VampPrior"]

# Last: registers every class with Keras once no keras_vae module is half-imported.
from keras_vae import registry  # noqa: E402

registry.complete(__name__)
