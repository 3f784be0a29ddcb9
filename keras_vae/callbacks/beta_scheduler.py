from keras_vae.callbacks.variable_scheduler import VariableScheduler, kl_regularizer


class BetaScheduler(VariableScheduler):
    """Drives a model's beta (the KL weight) from a schedule during `fit`.

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
        return kl_regularizer(model).beta
