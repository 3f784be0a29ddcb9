"""Callbacks for `fit` with keras_vae models."""

from keras_vae.callbacks.image_logger import ImageLogger as ImageLogger

__all__ = ["ImageLogger"]
