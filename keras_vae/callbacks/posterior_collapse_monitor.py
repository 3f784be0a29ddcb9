import warnings

import keras
import numpy as np

from keras_vae import checks
from keras_vae.evaluation import latent_usage


class PosteriorCollapseMonitor(keras.callbacks.Callback):
    """Logs active units and KL per latent dimension each epoch; warns on collapse.

    Posterior collapse, the encoder's posterior falling back to the prior in
    every dimension, shows as a KL near zero and no active units (Burda et
    al.'s Cov_x(E_q[z|x]) > threshold). At the end of every epoch this
    callback encodes `x` and adds `active_units` and `kl_per_dimension_min`
    / `_max` to the logs (so History, TensorBoard and CSVLogger record
    them); the full per-dimension KL of every epoch stays in
    `monitor.kl_per_dimension`. It warns once, with the epoch, when no unit
    is active.

    Args:
        x: Array of inputs to encode (held-out data; a few thousand
            examples are plenty).
        labels: Array of their labels, for a `ConditionalVAE`; else `None`.
        threshold: Float, the variance of a posterior mean above which a unit
            counts as active. Defaults to `0.01`.
        batch_size: Integer, examples per encoder call. Defaults to `256`.
        warn: Boolean, warn once when no unit is active. Defaults to `True`;
            `keras-vae train --tensorboard` logs the count without warning.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(256, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=4))
    vae.compile(optimizer="adam")
    monitor = keras_vae.callbacks.PosteriorCollapseMonitor(x[:128])
    history = vae.fit(x, epochs=2, verbose=0, callbacks=[monitor])
    print(history.history["active_units"], len(monitor.kl_per_dimension))  # [..] 2
    ```
    """

    def __init__(self, x, labels=None, threshold=0.01, batch_size=256, warn=True):
        super().__init__()
        self.x = np.asarray(x, dtype="float32")
        self.labels = None if labels is None else np.asarray(labels)
        self.threshold = checks.finite_number("threshold", threshold, 0)
        self.batch_size = batch_size
        self.kl_per_dimension = []
        self.active_units = []
        self._warned = not warn

    def on_epoch_end(self, epoch, logs=None):
        mean, sigma = latent_usage.posteriors(
            type(self).__name__, self.model, self.x, self.labels, self.batch_size
        )
        count, _ = latent_usage.active_units_of(mean, self.threshold)
        kl = latent_usage.kl_per_dimension_of(mean, sigma)
        self.active_units.append(count)
        self.kl_per_dimension.append(kl)
        if logs is not None:
            logs["active_units"] = count
            logs["kl_per_dimension_min"] = float(kl.min())
            logs["kl_per_dimension_max"] = float(kl.max())
        if count == 0 and not self._warned:
            self._warned = True
            warnings.warn(
                f"Posterior collapse at epoch {epoch + 1}: no active latent unit "
                f"(KL {float(kl.sum()):.3g} nats in total). Lower beta, warm it up "
                "(BetaScheduler), or set free bits (free_bits=).",
                stacklevel=2,
            )
