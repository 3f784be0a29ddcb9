"""Tuning objectives that compare VAEs trained with different beta fairly.

`val_loss` is reconstruction + beta * KL: ranking trials by it always favours
the smallest beta, whatever the model's quality. `val_elbo`, the negative ELBO
at beta = 1, bounds -log p(x) whatever beta was used in training, so it is the
default objective.
"""

import keras
import keras_tuner
import numpy as np

ACTIVE_UNIT_THRESHOLD = 0.01
RATE_PENALTY = 100.0
MAX_ACTIVE_UNIT_EXAMPLES = 2000

# Named objectives and their directions; any other logged metric can be used
# as "name:min" or "name:max".
DIRECTIONS = {
    "val_elbo": "min",
    "val_loss": "min",
    "val_reconstruction_loss": "min",
    "val_kl_loss": "min",
    "val_active_units": "max",
    "val_reconstruction_at_rate": "min",
    "elbo": "min",
    "loss": "min",
    "reconstruction_loss": "min",
    "kl_loss": "min",
}
ALIASES = {"active_units": "val_active_units", "rate": "val_reconstruction_at_rate"}


def make_objective(spec):
    """A `keras_tuner.Objective` from a name, `"name:min"`/`"name:max"`, or an
    `Objective`.

    Args:
        spec: String or `keras_tuner.Objective`. Names: `val_elbo` (default),
            `active_units`, `rate` (reconstruction under the hypermodel's
            `rate_budget`), any metric the models log (`val_loss`,
            `val_kl_loss`, ...), or any other metric with its direction.

    Returns:
        A `keras_tuner.Objective`.

    Raises:
        ValueError: if the name is unknown and has no direction.

    Example:

    ```python
    import tuning

    print(tuning.make_objective("val_elbo"))  # minimized
    print(tuning.make_objective("val_active_units:max").direction)  # max
    ```
    """
    if isinstance(spec, keras_tuner.Objective):
        return spec
    if not isinstance(spec, str) or not spec:
        raise ValueError(f"Expected an objective name. Received: {spec!r}")
    name = ALIASES.get(spec, spec)
    if name in DIRECTIONS:
        return keras_tuner.Objective(name, DIRECTIONS[name])
    metric, _, direction = spec.rpartition(":")
    if metric and direction in ("min", "max"):
        return keras_tuner.Objective(metric, direction)
    raise ValueError(
        f"Unknown objective {spec!r}. Expected one of "
        f"{sorted(set(DIRECTIONS) | set(ALIASES))}, or any logged metric with its "
        "direction, such as 'val_my_metric:max'."
    )


class ObjectiveMetrics(keras.callbacks.Callback):
    """Adds `val_active_units` and, with a rate budget,
    `val_reconstruction_at_rate` to each epoch's logs.

    - `val_active_units`: latent dimensions whose posterior mean varies across
      validation examples with variance above 0.01 (Burda et al., 2016).
    - `val_reconstruction_at_rate`: `val_reconstruction_loss` plus 100 nats per
      nat of `val_kl_loss` above the budget: the distortion of models that stay
      within the rate, with a steep but smooth penalty for those that do not.

    It must run before the callbacks that read these metrics (the tuner's),
    which `VAEHyperModel.fit` ensures by putting it first.

    Args:
        validation_data: `x`, `(x,)` or `(x, labels)` arrays, or `None`.
        rate_budget: Float or `None`, the KL budget in nats.

    Example:

    ```python
    import numpy as np
    import keras_vae
    import tuning

    x = np.random.default_rng(0).normal(size=(256, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=4))
    vae.compile(optimizer="adam")
    history = vae.fit(
        x[:192],
        validation_data=x[192:],
        epochs=2,
        verbose=0,
        callbacks=[tuning.ObjectiveMetrics(x[192:], rate_budget=5.0)],
    )
    print(history.history["val_active_units"])  # per epoch
    print(history.history["val_reconstruction_at_rate"])
    ```
    """

    def __init__(self, validation_data, rate_budget=None):
        super().__init__()
        self.x, self.labels = _arrays(validation_data)
        self.rate_budget = rate_budget

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if self.x is not None:
            logs["val_active_units"] = float(self.active_units())
        if self.rate_budget is not None and "val_kl_loss" in logs:
            excess = max(0.0, logs["val_kl_loss"] - self.rate_budget)
            logs["val_reconstruction_at_rate"] = (
                logs["val_reconstruction_loss"] + RATE_PENALTY * excess
            )

    def active_units(self):
        x = self.x[:MAX_ACTIVE_UNIT_EXAMPLES]
        labels = None if self.labels is None else self.labels[: len(x)]
        means = self.model.encode(x, labels=labels, raw=True)[0]
        return int(np.sum(np.var(means, axis=0) > ACTIVE_UNIT_THRESHOLD))


def _arrays(validation_data):
    """`(x, labels)` as NumPy arrays from fit's validation_data, or `(None, None)`
    for datasets and generators."""
    if validation_data is None:
        return None, None
    if isinstance(validation_data, (tuple, list)):
        x = validation_data[0]
        labels = validation_data[1] if len(validation_data) > 1 else None
    else:
        x, labels = validation_data, None
    if not isinstance(x, np.ndarray):
        return None, None
    if labels is not None and np.asarray(labels).shape[1:] == x.shape[1:]:
        labels = None  # reconstruction targets, not labels
    return x, None if labels is None else np.asarray(labels)
