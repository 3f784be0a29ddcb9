import json

import keras
import pytest

from keras_vae.schedules import Cyclical, LinearWarmup


def test_linear_warmup_values():
    warmup = LinearWarmup(steps=100, maximum=4.0, minimum=1.0)
    assert [warmup(step) for step in (-5, 0, 25, 100, 1000)] == [
        1.0,
        1.0,
        1.75,
        4.0,
        4.0,
    ]


def test_linear_warmup_can_fall():
    # A cooling schedule: from minimum "down" to a smaller maximum.
    assert LinearWarmup(steps=10, maximum=0.0, minimum=2.0)(5) == 1.0


def test_cyclical_rises_then_holds_each_cycle_and_stops_after_cycles():
    cyclical = Cyclical(period=10, maximum=2.0, ramp_fraction=0.5, cycles=2)
    values = [cyclical(step) for step in range(25)]
    assert values[:10] == [0.0, 0.4, 0.8, 1.2, 1.6, 2.0, 2.0, 2.0, 2.0, 2.0]
    assert values[10:20] == values[:10]
    assert values[20:] == [2.0] * 5


def test_cyclical_without_a_cycle_limit_repeats():
    cyclical = Cyclical(period=4, ramp_fraction=1.0)
    assert [cyclical(step) for step in (0, 2, 4, 402)] == [0.0, 0.5, 0.0, 0.5]


@pytest.mark.parametrize(
    "schedule", [LinearWarmup(7, 3.0, 0.5), Cyclical(9, 2.0, 0.1, 0.25, 3)]
)
def test_config_round_trip_through_keras_serialization(schedule):
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(schedule)))
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(schedule)
    assert restored.get_config() == schedule.get_config()
    assert [restored(s) for s in range(30)] == [schedule(s) for s in range(30)]
    assert repr(restored) == repr(schedule)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: LinearWarmup(0), "steps"),
        (lambda: LinearWarmup(1.5), "steps"),
        (lambda: LinearWarmup(10, maximum=-1.0), "maximum"),
        (lambda: LinearWarmup(10, minimum=float("nan")), "minimum"),
        (lambda: Cyclical(0), "period"),
        (lambda: Cyclical(10, ramp_fraction=0.0), "ramp_fraction"),
        (lambda: Cyclical(10, ramp_fraction=1.5), "ramp_fraction"),
        (lambda: Cyclical(10, cycles=0), "cycles"),
    ],
)
def test_rejects_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
