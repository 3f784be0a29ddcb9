from keras_vae.callbacks.variable_scheduler import VariableScheduler, kl_regularizer


class BetaScheduler(VariableScheduler):
    """Drives a model's beta (the KL weight) from a callable during `fit`.

    For a schedule of the training step, give it to the model instead,
    `VAE(beta=keras_vae.schedules.LinearWarmup(...))`: it is evaluated inside
    every step (exact with any `steps_per_execution`) and saved with the
    model. This callback remains the tool for a beta that is not a function
    of the step alone (a callable that reads anything, e.g. a metric of the
    last epoch) on a model built with a number for beta. It writes the
    variable before a call of the compiled step, so with
    `steps_per_execution=N` it acts every N batches.

    Works with `keras_vae.models.VAE` / `ConditionalVAE` and with any model
    holding a `keras_vae.layers.KLRegularizer` (the first one found). The
    value is written to the non-trainable `beta` variable, which the next
    compiled step reads on every backend, and logged as `beta` at the end of
    each epoch (in `History` and TensorBoard).

    Args:
        schedule: Callable `step -> float` giving beta at a training step
            (batches seen), e.g. `keras_vae.schedules.LinearWarmup` (KL
            annealing) or `keras_vae.schedules.Cyclical` (Fu et al. 2019).
        update_freq: String, `"batch"` or `"epoch"`. Defaults to `"batch"`.
            With `steps_per_execution=N` per-batch updates happen every N
            batches.
        verbose: Integer, `1` prints beta at the start of each epoch.
            Defaults to `0`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(256, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8), latent_dim=2))
    vae.compile(optimizer="adam", steps_per_execution=1)
    warmup = keras_vae.callbacks.BetaScheduler(
        keras_vae.schedules.LinearWarmup(steps=16, maximum=1.0)
    )
    history = vae.fit(x, epochs=3, batch_size=32, verbose=0, callbacks=[warmup])
    print(history.history["beta"])  # beta at the last batch: [0.4375, 0.9375, 1.0]
    ```
    """

    name = "beta"

    def variable(self, model):
        layer = kl_regularizer(model)
        if layer.beta_schedule is not None:
            raise ValueError(
                f"{type(model).__name__}'s beta follows the schedule "
                f"{layer.beta_schedule!r} inside every training step; a "
                "BetaScheduler would fight it. Build the model with a number for "
                "beta to drive it from a callback."
            )
        return layer.beta
