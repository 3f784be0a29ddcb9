from keras import ops


class Schedule:
    """Base of the schedules of beta and of the KL capacity: a value per
    training step, evaluated inside the compiled training step.

    Give one to `VAE(beta=...)`, `VAE(capacity=...)` or
    `keras_vae.layers.KLRegularizer`, as Keras' learning-rate schedules are
    given to an optimizer: the layer counts its training steps in a variable
    and evaluates the schedule at that count in every step, so the value is
    exact at every step whatever `steps_per_execution` is, and is saved with
    the model.

    Subclasses implement `__call__(step)` with `keras.ops` (`step` is a
    tensor; a Python number works too) and `get_config` (their constructor
    arguments); `from_config` and `repr` follow from the config. Register a
    subclass with `keras.saving.register_keras_serializable` so that a saved
    model finds it again.

    Example:

    ```python
    import keras
    from keras import ops

    import keras_vae


    @keras.saving.register_keras_serializable(package="my_schedules")
    class HalvingBeta(keras_vae.schedules.Schedule):
        # beta = start, halved every `steps` steps.

        def __init__(self, start, steps):
            self.start, self.steps = start, steps

        def __call__(self, step):
            return self.start * ops.power(0.5, ops.floor(step / self.steps))

        def get_config(self):
            return {"start": self.start, "steps": self.steps}


    encoder, decoder = keras_vae.architectures.mlp((8, 8), latent_dim=2)
    vae = keras_vae.models.VAE(encoder, decoder, beta=HalvingBeta(8.0, 100))
    print(float(HalvingBeta(8.0, 100)(250)))  # 2.0
    ```
    """

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self).__name__, repr(self)))


def as_float(step):
    """A training step, a tensor or a number, as a float32 tensor >= 0."""
    return ops.maximum(ops.cast(step, "float32"), 0.0)
