"""Checks of the model and data handed to the evaluation functions."""

import numpy as np

from keras_vae import checks
from keras_vae.models import VAE, ConditionalVAE, utils


def model_inputs(function, model, x, labels):
    """Returns `(x, labels)` as float32 / int32 arrays, or raises.

    Args:
        function: String, the calling function's name, for messages.
        model: Expected a built `VAE` or `ConditionalVAE`.
        x: Array-like of inputs.
        labels: Array-like of labels (`ConditionalVAE`) or `None` (`VAE`).

    Raises:
        TypeError: if `model` is not a keras_vae model.
        ValueError: if the model is not built, labels are missing, present
            for a `VAE`, out of range or not one per example, or `x` is empty
            or not finite.
    """
    if not isinstance(model, VAE):
        raise TypeError(
            f"`{function}` expects a keras_vae `VAE` or `ConditionalVAE`. "
            f"Received: model={model!r:.100}"
        )
    if not model.built:
        raise ValueError(
            f"`{function}` needs a built model: call it on data, `fit` it, or "
            "call `model.build(input_shape)` first."
        )
    x = np.asarray(x, dtype="float32")
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(
            f"`{function}` expects a non-empty batch of inputs of shape (n, ...). "
            f"Received: x.shape={x.shape}"
        )
    utils.check_finite("x", x)
    if isinstance(model, ConditionalVAE):
        if labels is None:
            raise ValueError(
                f"`{function}` on a ConditionalVAE needs `labels`, one per example."
            )
        labels = checks.class_labels(labels, model.num_classes, count=len(x))
    elif labels is not None:
        raise ValueError(
            f"`{function}` received `labels` for an unconditional VAE. Pass "
            "labels=None, or evaluate a ConditionalVAE."
        )
    return x, labels
