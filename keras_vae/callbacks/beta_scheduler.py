from keras_vae.callbacks.variable_scheduler import VariableScheduler


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

    def variable_setter(self, model):
        layer = _kl_regularizer(model)

        def assign(value):
            layer.beta = value

        return assign


def _kl_regularizer(model):
    from keras_vae.layers import KLRegularizer

    if isinstance(model, KLRegularizer):
        return model

    def walk(layer):
        for sublayer in getattr(layer, "layers", ()):
            yield sublayer
            yield from walk(sublayer)

    layers = [model.kl_regularizer] if hasattr(model, "kl_regularizer") else []
    layers = layers or [
        layer for layer in walk(model) if isinstance(layer, KLRegularizer)
    ]
    if not layers:
        raise ValueError(
            f"{type(model).__name__} has no KLRegularizer layer whose beta or "
            "capacity a scheduler could drive. Use a keras_vae model or a model "
            "that contains keras_vae.layers.KLRegularizer."
        )
    return layers[0]
