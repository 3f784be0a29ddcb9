"""Argument checks shared across the package, with Keras-style messages."""

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
