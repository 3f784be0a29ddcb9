"""Argument checks shared across the package, with Keras-style messages."""

import math
import numbers


def positive_integer(name, value, minimum=1):
    """Returns `value` as an int if it is an integer >= `minimum`, else raises.

    Raises:
        ValueError: naming the argument, what it expects and what it received.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected an integer "
            f">= {minimum}. Received: {name}={value!r}"
        )
    return int(value)


def finite_number(name, value, minimum, inclusive=True):
    """Returns `value` as a float if it is a finite number >= (or >) `minimum`.

    Raises:
        ValueError: naming the argument, what it expects and what it received.
    """
    valid = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and (value >= minimum if inclusive else value > minimum)
    )
    if not valid:
        bound = ">=" if inclusive else ">"
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a finite number "
            f"{bound} {minimum:g}. Received: {name}={value!r}"
        )
    return float(value)
