"""Seeded, stratified choices of examples: validation hold-outs and subsets."""

import numpy as np


def split(labels, config):
    """Training and validation indices, stratified by label when possible."""
    from sklearn.model_selection import train_test_split

    indices = np.arange(len(labels))
    return train_test_split(
        indices,
        test_size=config["validation_fraction"],
        random_state=config["seed"],
        stratify=_stratify(labels),
    )


# Validation images are evaluated whole, every epoch and for calibration: a
# random 10,000 of a large set (dsprites: 72,728) say as much, in 160 MB of
# float32 pixels instead of 1.2 GB.
MAX_VALIDATION = 10000


def validation_split(labels, config):
    """`split`, with at most `MAX_VALIDATION` validation indices."""
    train_index, validation_index = split(labels, config)
    return train_index, validation_index[:MAX_VALIDATION]


def stratified_subset(labels, size, seed):
    """Up to `size` indices with every class in proportion, in a fixed order."""
    if len(labels) <= size:
        return np.arange(len(labels))
    from sklearn.model_selection import train_test_split

    classes = len(np.unique(labels))
    # Stratifying needs every class on both sides of the split.
    stratify = _stratify(labels) if min(size, len(labels) - size) >= classes else None
    chosen, _ = train_test_split(
        np.arange(len(labels)),
        train_size=size,
        random_state=seed,
        stratify=stratify,
    )
    return np.sort(chosen)


def _stratify(labels):
    """`labels` for stratified splits, or `None` when a class has one example."""
    counts = np.bincount(labels)
    return labels if counts[counts > 0].min() >= 2 else None
