"""How well codes separate the ground-truth factors that made the data.

Every metric takes NumPy `codes` `(n, d)` (the encoder's posterior means)
and the integer `factors` `(n, f)` of the same inputs (as
`keras_vae.datasets.load("dsprites")` gives them), and returns floats in
[0, 1], higher meaning more disentangled. The definitions and defaults are
those of Locatello et al., ICML 2019 (disentanglement_lib), which fixed one
reading of each paper; where a metric intervenes on a factor (the BetaVAE
and FactorVAE scores draw groups of inputs that share one factor), the
groups are drawn from the given points, so that codes and factors are all a
metric needs.

Reference:
    Locatello et al., "Challenging Common Assumptions in the Unsupervised
    Learning of Disentangled Representations", ICML 2019, appendix C.
"""

import math
import warnings

import numpy as np

from keras_vae import checks

DCI_ESTIMATORS = ("fast", "disentanglement_lib")


def check_codes_and_factors(function, codes, factors, minimum_codes=1):
    """`codes` as float64 `(n, d)` and `factors` as int64 `(n, f)`, checked."""
    codes = np.asarray(codes)
    factors = np.asarray(factors)
    if codes.ndim != 2 or len(codes) < 2:
        raise ValueError(
            f"`{function}` expects codes of shape (n, latent_dim) with n >= 2. "
            f"Received: codes.shape={codes.shape}"
        )
    if factors.ndim != 2 or factors.shape[1] < 1:
        raise ValueError(
            f"`{function}` expects factors of shape (n, num_factors). "
            f"Received: factors.shape={factors.shape}"
        )
    if len(codes) != len(factors):
        raise ValueError(
            f"`{function}`: codes and factors must describe the same inputs. "
            f"Received {len(codes)} codes and {len(factors)} rows of factors."
        )
    if codes.shape[1] < minimum_codes:
        raise ValueError(
            f"`{function}` compares the codes' dimensions: it needs at least "
            f"{minimum_codes}. Received: codes.shape={codes.shape}"
        )
    if not np.issubdtype(codes.dtype, np.number) or not np.isfinite(codes).all():
        raise ValueError(f"`{function}`: the codes hold NaN or infinite values.")
    if not np.issubdtype(factors.dtype, np.integer):
        if not (np.isfinite(factors).all() and (factors == np.round(factors)).all()):
            raise ValueError(
                f"`{function}` expects factors as integer indices (shape, scale, "
                f"...). Received values of type {factors.dtype} that are not "
                "whole numbers."
            )
    for column in range(factors.shape[1]):
        values = np.unique(factors[:, column])
        if len(values) < 2:
            raise ValueError(
                f"`{function}`: factor {column} takes one value ({values[0]}) in "
                "these points, so no code can carry it. Drop that column or "
                "pass points where it varies."
            )
    return codes.astype("float64"), factors.astype("int64")


def _split(count, num_train, num_test, seed):
    """Indices of a train and a test part: the requested sizes when there are
    enough points, else the points split in the same proportion."""
    num_train = checks.positive_integer("num_train", num_train)
    num_test = checks.positive_integer("num_test", num_test)
    order = np.random.default_rng(seed).permutation(count)
    if count < num_train + num_test:
        num_train = max(1, round(count * num_train / (num_train + num_test)))
        num_test = count - num_train
    return order[:num_train], order[num_train : num_train + num_test]


def _discrete_mutual_information(first, second):
    """I(first; second) in nats of two integer arrays, from their joint
    frequencies."""
    _, first = np.unique(first, return_inverse=True)
    _, second = np.unique(second, return_inverse=True)
    joint = np.zeros((first.max() + 1, second.max() + 1))
    np.add.at(joint, (first, second), 1.0)
    joint /= joint.sum()
    outer = joint.sum(1, keepdims=True) * joint.sum(0, keepdims=True)
    present = joint > 0
    return float(np.sum(joint[present] * np.log(joint[present] / outer[present])))


def histogram_discretize(codes, num_bins=20):
    """Each code dimension cut into `num_bins` equal-width bins between its
    minimum and maximum: integer bins 1..num_bins, shape of `codes`."""
    discrete = np.zeros(codes.shape, "int64")
    for column in range(codes.shape[1]):
        edges = np.histogram(codes[:, column], num_bins)[1]
        discrete[:, column] = np.digitize(codes[:, column], edges[:-1])
    return discrete


def mutual_information_gap(codes, factors, num_bins=20, num_points=10000, seed=0):
    """The mutual information gap (MIG) of codes about their factors.

    For each factor v_k, the gap between the two code dimensions with the
    most mutual information about it, over its entropy, averaged over
    factors: (I(z_a; v_k) - I(z_b; v_k)) / H(v_k). The codes are discretised
    into `num_bins` equal-width bins per dimension. 1 when each factor lives
    in one dimension alone; 0 when two dimensions share it equally or none
    carries it.

    Reference:
        Chen, Li, Grosse and Duvenaud, "Isolating Sources of Disentanglement
        in Variational Autoencoders", NeurIPS 2018.

    Args:
        codes: Array `(n, d)`, d >= 2, the representation of n inputs.
        factors: Integer array `(n, f)`, the ground-truth factors of the
            same inputs, each taking at least two values.
        num_bins: Integer, bins per code dimension. Defaults to `20`.
        num_points: Integer, points used (a random subset when there are
            more). Defaults to `10000`.
        seed: Integer, seed of the subset.

    Returns:
        Float in [0, 1].

    Example:

    ```python
    import numpy as np
    import keras_vae

    factors = np.stack(np.meshgrid(np.arange(4), np.arange(5)), -1).reshape(-1, 2)
    mixed = factors @ np.array([[1.0, 1.0], [1.0, -1.0]])  # each dimension mixes both
    print(keras_vae.evaluation.mutual_information_gap(factors, factors))  # 1.0
    print(keras_vae.evaluation.mutual_information_gap(mixed, factors) < 0.5)  # True
    ```
    """
    codes, factors = check_codes_and_factors(
        "mutual_information_gap", codes, factors, minimum_codes=2
    )
    num_bins = checks.positive_integer("num_bins", num_bins)
    num_points = checks.positive_integer("num_points", num_points, minimum=2)
    if len(codes) > num_points:
        subset = np.random.default_rng(seed).permutation(len(codes))[:num_points]
        codes, factors = codes[subset], factors[subset]
    discrete = histogram_discretize(codes, num_bins)
    gaps = []
    for k in range(factors.shape[1]):
        information = sorted(
            (
                _discrete_mutual_information(discrete[:, j], factors[:, k])
                for j in range(codes.shape[1])
            ),
            reverse=True,
        )
        entropy = _discrete_mutual_information(factors[:, k], factors[:, k])
        gaps.append((information[0] - information[1]) / entropy)
    return float(np.mean(gaps))


def sap_score(
    codes,
    factors,
    num_train=10000,
    num_test=5000,
    continuous_factors=False,
    seed=0,
):
    """The Separated Attribute Predictability (SAP) score.

    A matrix of how well each code dimension alone predicts each factor:
    the test accuracy of a linear SVM (C = 0.01, balanced classes) on that
    one dimension, or, for continuous factors, the R^2 of a linear fit.
    For each factor, the gap between its two best dimensions, averaged.

    Reference:
        Kumar, Sattigeri and Balakrishnan, "Variational Inference of
        Disentangled Latent Concepts from Unlabeled Observations", ICLR 2018.

    Args:
        codes: Array `(n, d)`, d >= 2.
        factors: Integer array `(n, f)`.
        num_train: Integer, points that fit the classifiers. Defaults to
            `10000`.
        num_test: Integer, points that score them. Defaults to `5000`. With
            fewer than `num_train + num_test` points, the points are split in
            the same proportion.
        continuous_factors: Boolean, score with R^2 instead of accuracy.
            Defaults to `False`.
        seed: Integer, seed of the split.

    Returns:
        Float in [0, 1].
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.svm import LinearSVC

    codes, factors = check_codes_and_factors(
        "sap_score", codes, factors, minimum_codes=2
    )
    train, test = _split(len(codes), num_train, num_test, seed)
    scores = np.zeros((codes.shape[1], factors.shape[1]))
    for j in range(codes.shape[1]):
        for k in range(factors.shape[1]):
            if continuous_factors:
                code, factor = codes[train, j], factors[train, k]
                variance = code.var()
                covariance = np.mean((code - code.mean()) * (factor - factor.mean()))
                scores[j, k] = (
                    covariance**2 / (variance * factor.var())
                    if variance > 1e-12
                    else 0.0
                )
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                classifier = LinearSVC(C=0.01, class_weight="balanced").fit(
                    codes[train, j : j + 1], factors[train, k]
                )
            predicted = classifier.predict(codes[test, j : j + 1])
            scores[j, k] = np.mean(predicted == factors[test, k])
    ordered = np.sort(scores, axis=0)
    return float(np.mean(ordered[-1] - ordered[-2]))


def disentanglement_completeness(importance):
    """DCI disentanglement and completeness of an importance matrix `(d, f)`:
    how much code dimension i matters to predicting factor k.

    Disentanglement: sum_i rho_i (1 - H_f(P_i.)), where P_ik is row i
    normalised and rho_i is dimension i's share of all importance.
    Completeness: the same over columns, 1 - H_d(P_.k) weighted by each
    factor's share. Entropies in base f and d, so each is in [0, 1].

    Returns:
        Tuple of floats `(disentanglement, completeness)`.
    """
    importance = np.abs(np.asarray(importance, "float64"))
    total = importance.sum()
    if total == 0:
        return 0.0, 0.0

    def weighted_one_minus_entropy(matrix):
        # Rows of `matrix` are distributions over its columns.
        if matrix.shape[1] == 1:
            return 1.0
        rows = matrix + 1e-11
        rows = rows / rows.sum(1, keepdims=True)
        entropy = -np.sum(rows * np.log(rows), 1) / math.log(matrix.shape[1])
        return float(np.sum((1 - entropy) * matrix.sum(1) / total))

    return weighted_one_minus_entropy(importance), weighted_one_minus_entropy(
        importance.T
    )


def _log_loss_importance(classifier, codes, factor, train_factor, seed):
    """Per dimension, the rise of the log loss on held-out points when that
    dimension is shuffled (clipped at 0); all zero when the classifier
    predicts the factor no better than its training frequencies, since then
    chance changes in loss are no importance."""
    from sklearn.inspection import permutation_importance

    seen = np.isin(factor, classifier.classes_)
    codes, factor = codes[seen], factor[seen]
    if not len(factor):
        return np.zeros(codes.shape[1])
    column = np.searchsorted(classifier.classes_, factor)
    probabilities = classifier.predict_proba(codes)[np.arange(len(factor)), column]
    frequencies = np.mean(train_factor[:, None] == classifier.classes_, axis=0)
    loss = -np.mean(np.log(np.maximum(probabilities, 1e-15)))
    if loss >= -np.mean(np.log(frequencies[column])):
        return np.zeros(codes.shape[1])
    return permutation_importance(
        classifier,
        codes,
        factor,
        scoring="neg_log_loss",
        n_repeats=3,
        random_state=seed,
    ).importances_mean.clip(min=0)


def dci(codes, factors, num_train=10000, num_test=5000, estimator="fast", seed=0):
    """Disentanglement, completeness and informativeness (DCI).

    One classifier per factor predicts it from all code dimensions; how much
    each dimension matters to it forms the importance matrix that
    `disentanglement_completeness` summarises, and its accuracy on held-out
    points is the informativeness.

    Reference:
        Eastwood and Williams, "A Framework for the Quantitative Evaluation of
        Disentangled Representations", ICLR 2018.

    Args:
        codes: Array `(n, d)`.
        factors: Integer array `(n, f)`.
        num_train, num_test: Integers, as in `sap_score`.
        estimator: `"fast"`: gradient-boosted trees of depth 3 (50 rounds,
            scikit-learn's histogram implementation), importances by
            permutation: the rise of the held-out log loss when a
            dimension is shuffled, so that a dimension of noise the trees
            split on counts for nothing (a factor the codes predict no
            better than its frequencies gives no importance); seconds.
            `"disentanglement_lib"`: scikit-learn's default
            `GradientBoostingClassifier` and its impurity importances, as
            Locatello et al. computed them; minutes for factors with tens
            of values. Defaults to `"fast"`.
        seed: Integer, seed of the split, the trees and the permutations.

    Returns:
        Dict with `disentanglement`, `completeness`, `informativeness` (test
        accuracy, averaged over factors) and `informativeness_train`.
    """
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
    )

    if estimator not in DCI_ESTIMATORS:
        raise ValueError(
            f"Invalid value received for argument `estimator`. Expected one of "
            f"{', '.join(map(repr, DCI_ESTIMATORS))}. Received: "
            f"estimator={estimator!r}"
        )
    codes, factors = check_codes_and_factors("dci", codes, factors)
    train, test = _split(len(codes), num_train, num_test, seed)
    importance = np.zeros((codes.shape[1], factors.shape[1]))
    train_accuracy, test_accuracy = [], []
    for k in range(factors.shape[1]):
        if estimator == "fast":
            classifier = HistGradientBoostingClassifier(
                max_iter=50, max_depth=3, early_stopping=False, random_state=seed
            ).fit(codes[train], factors[train, k])
            importance[:, k] = _log_loss_importance(
                classifier, codes[test], factors[test, k], factors[train, k], seed
            )
        else:
            classifier = GradientBoostingClassifier(random_state=seed)
            classifier.fit(codes[train], factors[train, k])
            importance[:, k] = np.abs(classifier.feature_importances_)
        train_accuracy.append(classifier.score(codes[train], factors[train, k]))
        test_accuracy.append(classifier.score(codes[test], factors[test, k]))
    disentanglement, completeness = disentanglement_completeness(importance)
    return {
        "disentanglement": disentanglement,
        "completeness": completeness,
        "informativeness": float(np.mean(test_accuracy)),
        "informativeness_train": float(np.mean(train_accuracy)),
    }


class _Groups:
    """Random points that share one factor's value with a given point."""

    def __init__(self, factors, rng):
        self.rng = rng
        self.orders, self.starts, self.counts = [], [], []
        for k in range(factors.shape[1]):
            order = np.argsort(factors[:, k], kind="stable")
            values, starts, counts = np.unique(
                factors[order, k], return_index=True, return_counts=True
            )
            lookup = np.searchsorted(values, factors[:, k])
            self.orders.append(order)
            self.starts.append(starts[lookup])
            self.counts.append(counts[lookup])

    def like(self, points, k):
        """For each point, a random point with the same value of factor k."""
        offset = np.floor(self.rng.random(points.shape) * self.counts[k][points])
        return self.orders[k][self.starts[k][points] + offset.astype("int64")]


def _check_batches(batch_size, num_train, num_eval):
    batch_size = checks.positive_integer("batch_size", batch_size, minimum=2)
    return (
        batch_size,
        checks.positive_integer("num_train", num_train),
        checks.positive_integer("num_eval", num_eval),
    )


def beta_vae_score(
    codes, factors, batch_size=64, num_train=10000, num_eval=5000, seed=0
):
    """The BetaVAE disentanglement score.

    Each example: a factor k at random and `batch_size` pairs of inputs
    that share factor k's value; the feature is the mean absolute
    difference of the pairs' codes, the label is k. A logistic regression
    learns k from `num_train` examples; the score is its accuracy on
    `num_eval` new ones. 1 when one dimension alone is constant whenever a
    factor is; 1/f (chance) for codes that ignore the factors.

    Reference:
        Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
        Constrained Variational Framework", ICLR 2017.

    Args:
        codes: Array `(n, d)`.
        factors: Integer array `(n, f)`.
        batch_size: Integer >= 2, pairs per example. Defaults to `64`.
        num_train: Integer, examples that fit the classifier. Defaults to
            `10000`.
        num_eval: Integer, examples that score it. Defaults to `5000`.
        seed: Integer, seed of the draws and the classifier.

    Returns:
        Float in [0, 1], the evaluation accuracy.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    codes, factors = check_codes_and_factors("beta_vae_score", codes, factors)
    batch_size, num_train, num_eval = _check_batches(batch_size, num_train, num_eval)
    rng = np.random.default_rng(seed)
    groups = _Groups(factors, rng)

    def examples(count):
        labels = rng.integers(factors.shape[1], size=count)
        features = np.zeros((count, codes.shape[1]))
        for k in range(factors.shape[1]):
            rows = np.flatnonzero(labels == k)
            first = rng.integers(len(codes), size=(len(rows), batch_size))
            second = groups.like(first, k)
            features[rows] = np.abs(codes[first] - codes[second]).mean(1)
        return features, labels

    train_features, train_labels = examples(num_train)
    eval_features, eval_labels = examples(num_eval)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier = LogisticRegression(random_state=seed).fit(
            train_features, train_labels
        )
    return float(classifier.score(eval_features, eval_labels))


def factor_vae_score(
    codes,
    factors,
    batch_size=64,
    num_train=10000,
    num_eval=5000,
    num_variance_estimate=10000,
    prune_threshold=0.05,
    seed=0,
):
    """The FactorVAE disentanglement score.

    Each example: a factor k at random and `batch_size` inputs that share
    its value; the vote goes to the active code dimension whose variance,
    relative to its variance over all inputs, is smallest. A majority-vote
    classifier maps each dimension to the factor it is voted for most
    (`num_train` examples); the score is its accuracy on `num_eval` new
    ones. Dimensions whose standard deviation over all inputs is below
    `prune_threshold` (collapsed to the prior) are not candidates; with
    none left the score is 0.

    Reference:
        Kim and Mnih, "Disentangling by Factorising", ICML 2018.

    Args:
        codes: Array `(n, d)`.
        factors: Integer array `(n, f)`.
        batch_size: Integer >= 2, inputs per example. Defaults to `64`.
        num_train, num_eval: Integers, examples to fit and to score the
            classifier. Default to `10000` and `5000`.
        num_variance_estimate: Integer, points of the global variances.
            Defaults to `10000`.
        prune_threshold: Float, the standard deviation under which a
            dimension is inactive. Defaults to `0.05`.
        seed: Integer, seed of the draws.

    Returns:
        Float in [0, 1], the evaluation accuracy.
    """
    codes, factors = check_codes_and_factors("factor_vae_score", codes, factors)
    batch_size, num_train, num_eval = _check_batches(batch_size, num_train, num_eval)
    num_variance_estimate = checks.positive_integer(
        "num_variance_estimate", num_variance_estimate, minimum=2
    )
    prune_threshold = checks.finite_number("prune_threshold", prune_threshold, 0)
    rng = np.random.default_rng(seed)
    points = rng.permutation(len(codes))[:num_variance_estimate]
    global_variance = codes[points].var(0, ddof=1)
    active = np.flatnonzero(np.sqrt(global_variance) >= prune_threshold)
    if not len(active):
        return 0.0
    groups = _Groups(factors, rng)
    num_factors = factors.shape[1]

    def votes(count):
        table = np.zeros((num_factors, codes.shape[1]), "int64")
        labels = rng.integers(num_factors, size=count)
        for k in range(num_factors):
            rows = np.count_nonzero(labels == k)
            first = rng.integers(len(codes), size=(rows, 1))
            batch = groups.like(np.repeat(first, batch_size - 1, axis=1), k)
            batch = np.concatenate([first, batch], axis=1)
            local = codes[batch][:, :, active].var(1, ddof=1)
            chosen = active[np.argmin(local / global_variance[active], axis=1)]
            np.add.at(table, (k, chosen), 1)
        return table

    train_votes = votes(num_train)
    classifier = np.argmax(train_votes, axis=0)
    eval_votes = votes(num_eval)
    dimensions = np.arange(codes.shape[1])
    return float(eval_votes[classifier, dimensions].sum() / eval_votes.sum())


def disentanglement_metrics(codes, factors, seed=0):
    """Every metric of this module with its defaults, as one dict of floats:
    `mig`, `sap`, `dci_disentanglement`, `dci_completeness`,
    `dci_informativeness`, `beta_vae_score`, `factor_vae_score`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    grid = np.stack(np.meshgrid(*[np.arange(4)] * 3), -1).reshape(-1, 3)
    factors = np.repeat(grid, 20, axis=0)
    codes = factors + np.random.default_rng(0).normal(0, 0.1, factors.shape)
    scores = keras_vae.evaluation.disentanglement_metrics(codes, factors)
    print({name: round(value, 2) for name, value in scores.items()})
    ```
    """
    codes, factors = check_codes_and_factors(
        "disentanglement_metrics", codes, factors, minimum_codes=2
    )
    results = {
        "mig": mutual_information_gap(codes, factors, seed=seed),
        "sap": sap_score(codes, factors, seed=seed),
    }
    scores = dci(codes, factors, seed=seed)
    results.update(
        dci_disentanglement=scores["disentanglement"],
        dci_completeness=scores["completeness"],
        dci_informativeness=scores["informativeness"],
        beta_vae_score=beta_vae_score(codes, factors, seed=seed),
        factor_vae_score=factor_vae_score(codes, factors, seed=seed),
    )
    return results
