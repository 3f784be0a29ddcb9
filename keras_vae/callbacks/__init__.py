"""Callbacks for `fit` with keras_vae models."""

from keras_vae.callbacks.beta_scheduler import BetaScheduler as BetaScheduler
from keras_vae.callbacks.capacity_scheduler import (
    CapacityScheduler as CapacityScheduler,
)
from keras_vae.callbacks.image_logger import ImageLogger as ImageLogger
from keras_vae.callbacks.latent_projector import LatentProjector as LatentProjector
from keras_vae.callbacks.posterior_collapse_monitor import (
    PosteriorCollapseMonitor as PosteriorCollapseMonitor,
)

__all__ = [
    "BetaScheduler",
    "CapacityScheduler",
    "ImageLogger",
    "LatentProjector",
    "PosteriorCollapseMonitor",
]
