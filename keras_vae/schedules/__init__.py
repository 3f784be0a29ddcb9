"""Schedules of beta or of the KL capacity, as functions of the training step.

Give one to `keras_vae.callbacks.BetaScheduler` or `CapacityScheduler`.
Any callable `step -> float` works too.
"""

from keras_vae.schedules.cyclical import Cyclical as Cyclical
from keras_vae.schedules.linear_warmup import LinearWarmup as LinearWarmup

__all__ = ["Cyclical", "LinearWarmup"]
