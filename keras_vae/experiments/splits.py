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
