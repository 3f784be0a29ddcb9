"""Argument checks shared across the package, with Keras-style messages."""

import math
import numbers

import numpy as np


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


def class_labels(labels, num_classes, count=None):
    """Returns `labels` as an int32 array `(n,)` of integers in `[0, num_classes)`.

    Accepts shape `(n,)` or `(n, 1)`.

    Args:
        labels: Array-like of class labels.
        num_classes: Integer, the number of classes.
        count: Integer or `None`, the number of labels expected.

    Raises:
        ValueError: on another shape or count, or a label that is not an
            integer in range; the message shows offending values.
    """
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            "Expected integer labels of shape (n,). Received labels of shape "
            f"{labels.shape}. One-hot labels: pass labels.argmax(axis=-1)."
        )
    if count is not None and len(labels) != count:
        raise ValueError(
            f"Expected one label per example. Received {len(labels)} labels for "
            f"{count} examples."
        )
    bad = labels[(labels < 0) | (labels >= num_classes) | (labels % 1 != 0)]
    if bad.size:
        raise ValueError(
            f"Labels must be integers in [0, {num_classes}) for "
            f"num_classes={num_classes}. Received values such as {bad[:5].tolist()}."
        )
    return labels.astype("int32")
