import keras
from keras import ops

from keras_vae import checks
from keras_vae.schedules.schedule import Schedule, as_float


@keras.saving.register_keras_serializable(package="keras_vae")
class LinearWarmup(Schedule):
    """Rises linearly from `minimum` to `maximum` over `steps`, then stays.

    KL annealing (Bowman et al. 2016): starting with a small beta lets the
    decoder learn to use the latent code before the KL term pulls the
    posterior to the prior. Also the capacity schedule of Burgess et al. 2018
    (C rising from 0 to C_max).

    Reference:
        Bowman et al., "Generating Sentences from a Continuous Space",
        CoNLL 2016.

    Args:
        steps: Integer, training steps (batches) of the rise, `>= 1`.
        maximum: Float, the value reached after `steps`. Defaults to `1.0`.
        minimum: Float, the value at step 0. Defaults to `0.0`.

    Example:

    ```python
    import keras_vae

    warmup = keras_vae.schedules.LinearWarmup(steps=1000, maximum=4.0)
    print([float(warmup(step)) for step in (0, 500, 5000)])  # [0.0, 2.0, 4.0]
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8), latent_dim=2), beta=warmup
    )
    ```
    """

    def __init__(self, steps, maximum=1.0, minimum=0.0):
        self.steps = checks.positive_integer("steps", steps)
        self.maximum = checks.finite_number("maximum", maximum, 0)
        self.minimum = checks.finite_number("minimum", minimum, 0)

    def __call__(self, step):
        fraction = ops.minimum(as_float(step) / self.steps, 1.0)
        return self.minimum + (self.maximum - self.minimum) * fraction

    def get_config(self):
        return {"steps": self.steps, "maximum": self.maximum, "minimum": self.minimum}
