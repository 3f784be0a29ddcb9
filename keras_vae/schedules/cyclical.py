import keras
from keras import ops

from keras_vae import checks
from keras_vae.schedules.schedule import Schedule, as_float


@keras.saving.register_keras_serializable(package="keras_vae")
class Cyclical(Schedule):
    """Repeats a linear rise and a plateau every `period` steps (Fu et al. 2019).

    Within each cycle the value rises linearly from `minimum` to `maximum`
    over the first `ramp_fraction` of the period, then stays at `maximum`
    for the rest. After `cycles` cycles (if given) it stays at `maximum`.
    Fu et al. found that re-opening the KL "gate" several times lets the
    decoder learn to use the latent code (4 cycles, ramp fraction 0.5).

    Reference:
        Fu et al., "Cyclical Annealing Schedule: A Simple Approach to
        Mitigating KL Vanishing", NAACL 2019.

    Args:
        period: Integer, training steps (batches) per cycle, `>= 1`.
        maximum: Float, the plateau value. Defaults to `1.0`.
        minimum: Float, the value at the start of each cycle. Defaults to
            `0.0`.
        ramp_fraction: Float in `(0, 1]`, the share of the cycle spent
            rising. Defaults to `0.5`.
        cycles: Integer or `None`, how many cycles before the value stays at
            `maximum`. Defaults to `None` (cycle for ever).

    Example:

    ```python
    import keras_vae

    cyclical = keras_vae.schedules.Cyclical(period=100, ramp_fraction=0.5, cycles=2)
    print([float(cyclical(step)) for step in (0, 25, 50, 99, 100, 125, 300)])
    # [0.0, 0.5, 1.0, 1.0, 0.0, 0.5, 1.0]
    ```
    """

    def __init__(
        self, period, maximum=1.0, minimum=0.0, ramp_fraction=0.5, cycles=None
    ):
        self.period = checks.positive_integer("period", period)
        self.maximum = checks.finite_number("maximum", maximum, 0)
        self.minimum = checks.finite_number("minimum", minimum, 0)
        ramp_fraction = checks.finite_number("ramp_fraction", ramp_fraction, 0, False)
        if not 0 < ramp_fraction <= 1:
            raise ValueError(
                "Invalid value received for argument `ramp_fraction`. Expected a "
                f"float in (0, 1]. Received: ramp_fraction={ramp_fraction}"
            )
        self.ramp_fraction = ramp_fraction
        self.cycles = (
            None if cycles is None else checks.positive_integer("cycles", cycles)
        )

    def __call__(self, step):
        step = as_float(step)
        position = ops.mod(step, float(self.period)) / self.period
        fraction = ops.minimum(position / self.ramp_fraction, 1.0)
        if self.cycles is not None:
            done = ops.greater_equal(step, float(self.cycles * self.period))
            fraction = ops.where(done, 1.0, fraction)
        return self.minimum + (self.maximum - self.minimum) * fraction

    def get_config(self):
        return {
            "period": self.period,
            "maximum": self.maximum,
            "minimum": self.minimum,
            "ramp_fraction": self.ramp_fraction,
            "cycles": self.cycles,
        }
