from keras_vae.callbacks.variable_scheduler import VariableScheduler, kl_regularizer


class CapacityScheduler(VariableScheduler):
    """Raises the KL target C of the capacity objective during `fit`.

    For a schedule of the training step, give it to the model instead,
    `VAE(capacity=keras_vae.schedules.LinearWarmup(steps, C_max))`: exact at
    every step and saved with the model. This callback remains for a target
    computed by a callable of your own, on a model built with
    `capacity=0.0`.

    Burgess et al. (2018) train with `beta * |KL - C|` (beta large, e.g.
    100-1000) while C rises linearly from 0 to C_max nats: the model gains
    latent capacity gradually and learns the most important factors first.
    The model needs a capacity term: build it with `capacity=0.0`. C is
    logged as `capacity` at the end of each epoch.

    Reference:
        Burgess et al., "Understanding disentangling in beta-VAE", 2018.

    Args:
        schedule: Callable `step -> float` giving C in nats at a training
            step, usually `keras_vae.schedules.LinearWarmup(steps, C_max)`.
        update_freq: String, `"batch"` or `"epoch"`. Defaults to `"batch"`.
        verbose: Integer, `1` prints C at the start of each epoch. Defaults
            to `0`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).normal(size=(256, 8, 8)).astype("float32")
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8), latent_dim=2), beta=100.0, capacity=0.0
    )
    vae.compile(optimizer="adam")
    rise = keras_vae.callbacks.CapacityScheduler(
        keras_vae.schedules.LinearWarmup(steps=24, maximum=5.0), update_freq="epoch"
    )
    history = vae.fit(x, epochs=3, batch_size=32, verbose=0, callbacks=[rise])
    print(history.history["capacity"])  # C of each epoch: [0.0, ~1.67, ~3.33]
    ```
    """

    name = "capacity"

    def variable(self, model):
        layer = kl_regularizer(model)
        capacity = layer.capacity
        if layer.capacity_schedule is not None:
            raise ValueError(
                f"{type(model).__name__}'s capacity follows the schedule "
                f"{layer.capacity_schedule!r} inside every training step; a "
                "CapacityScheduler would fight it."
            )
        if capacity is None:
            raise ValueError(
                f"{type(model).__name__} has no capacity term for CapacityScheduler "
                "to drive: build it with `capacity=0.0`."
            )
        return capacity
