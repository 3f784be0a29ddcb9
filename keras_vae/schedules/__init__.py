"""Schedules of beta or of the KL capacity, as functions of the training step.

Give one to the model (`VAE(beta=LinearWarmup(...))`, `capacity=...`) or to
`keras_vae.layers.KLRegularizer`: it is evaluated inside every training step
from the step count, saved and loaded with the model. (The callbacks
`BetaScheduler` and `CapacityScheduler` take any callable `step -> float`.)
"""

from keras_vae.schedules.cyclical import Cyclical as Cyclical
from keras_vae.schedules.linear_warmup import LinearWarmup as LinearWarmup
from keras_vae.schedules.schedule import Schedule as Schedule

__all__ = ["Cyclical", "LinearWarmup", "Schedule"]

# Last: registers every class with Keras once no keras_vae module is half-imported.
from keras_vae import registry  # noqa: E402

registry.complete(__name__)
