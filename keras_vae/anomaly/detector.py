"""Calibrated thresholds, the density of statistics of the 'dose' score, and
the training images' features and statistics of the 'knn' score."""

import base64
import math
import numbers

import numpy as np

from keras_vae import checks, defaults
from keras_vae.anomaly import scores as scores_lib
from keras_vae.anomaly import statistics as stats_lib

# The density of the statistics: a Gaussian mixture with full covariances.
COMPONENTS = 10
MINIMUM_IMAGES = 40
# The 'knn' score's description of the encoder's last hidden representation:
# its first principal components, fitted on this many reference images.
FEATURE_COMPONENTS = 32
PROJECTION_IMAGES = 2000


class AnomalyDetector:
    """Thresholds of the anomaly scores, and what the 'dose' and 'knn' scores
    need.

    Made by `calibrate` from images of the training distribution (the
    validation split): half of them fit the density of the model's
    statistics, the other half place each method's threshold at the
    quantile `1 - rate` of its scores. For the 'knn' score it also keeps a
    description of each reference image (the training images), in 16 bits:
    the first `FEATURE_COMPONENTS` principal components of the encoder's last
    hidden representation (`statistics.feature_encoder`) beside the
    standardized statistics, each group scaled to a total variance of 1. A
    model keeps its detector in its `.keras` file (`model.anomaly_detector`);
    `model.flag_anomalies` uses it.

    Args:
        center, scale: Lists, the statistics' mean and standard deviation.
        weights, means, covariances: The mixture's parameters, in
            standardized units.
        thresholds: Dict mapping each method to its threshold, in nats.
        rate: Float, the false-alarm (or contamination) rate of the
            thresholds.
        rate_kind: `"false_alarm_rate"` or `"contamination"`.
        labels_given: Boolean, a conditional model's scores were calibrated
            with labels (else marginalised over classes).
        num_samples: Integer, the `"iwae"` score's k at calibration.
        reference: Array `(m, p + s)` of the reference images' projected
            features and `s` statistics (`features`), or `None`: calibrated
            without the `"knn"` score.
        reference_center, reference_scale: Lists, the mean and standard
            deviation that standardize the statistics.
        feature_center, feature_scale: Lists, the mean and standard
            deviation that standardize the hidden representation.
        components: Array `(p, h)`, the principal directions of the
            standardized hidden representation, divided by the square root
            of their total variance. `None` in a detector saved before the
            hidden features (its reference describes images by their
            posterior means beside the statistics, and is read as made).
        neighbours: Integer k of the `"knn"` score.
        statistics: The names of the statistics it was calibrated on, in
            order (`STATISTICS`; a detector saved before `absolute_error`
            existed has the first five).
    """

    def __init__(
        self,
        center,
        scale,
        weights,
        means,
        covariances,
        thresholds,
        rate,
        rate_kind="false_alarm_rate",
        labels_given=False,
        num_samples=defaults.SCORE_IW_SAMPLES,
        reference=None,
        reference_center=None,
        reference_scale=None,
        neighbours=defaults.KNN_NEIGHBOURS,
        statistics=stats_lib.STATISTICS,
        feature_center=None,
        feature_scale=None,
        components=None,
    ):
        self.center = np.asarray(center, "float64")
        self.scale = np.asarray(scale, "float64")
        self.weights = np.asarray(weights, "float64")
        self.means = np.asarray(means, "float64")
        self.covariances = np.asarray(covariances, "float64")
        self.thresholds = {k: float(v) for k, v in thresholds.items()}
        self.rate, self.rate_kind = float(rate), rate_kind
        self.labels_given = bool(labels_given)
        self.num_samples = int(num_samples)
        if isinstance(reference, dict):
            reference = _decode_array(reference)
        self.reference = None if reference is None else np.asarray(reference, "f2")
        self.reference_center = _optional_array(reference_center)
        self.reference_scale = _optional_array(reference_scale)
        self.neighbours = int(neighbours)
        self.statistics = tuple(statistics)
        self.feature_center = _optional_array(feature_center)
        self.feature_scale = _optional_array(feature_scale)
        if isinstance(components, dict):
            components = _decode_array(components)
        self.components = None if components is None else np.asarray(components, "f4")

    def project(self, hidden):
        """The encoder's hidden representations `(n, h)` as the reference's
        feature columns `(n, p)`."""
        values = (np.asarray(hidden, "float64") - self.feature_center) / (
            self.feature_scale
        )
        return (values @ self.components.T.astype("float64")).astype("float32")

    def features(self, statistics):
        """What the 'knn' score compares, `(n, p + s)` float32: the projected
        hidden representation (`statistics["features"]`, from `project`) and
        the detector's statistics, standardized and divided by `sqrt(s)`."""
        if self.components is None:
            return self._code_features(statistics)
        values = (self._stack(statistics) - self.reference_center) / (
            self.reference_scale * math.sqrt(len(self.statistics))
        )
        return np.concatenate(
            [np.asarray(statistics["features"], "float32"), values.astype("float32")],
            axis=1,
        )

    def _code_features(self, statistics):
        """A detector saved before the hidden representation: posterior means
        and statistics (`statistics["codes"]`), standardized, the statistics
        scaled by `sqrt(d / s)`."""
        values = np.concatenate(
            [np.asarray(statistics["codes"], "float64"), self._stack(statistics)],
            axis=1,
        )
        values = (values - self.reference_center) / self.reference_scale
        count = len(self.statistics)
        # Codes and statistics weigh the same in the distances: d standardized
        # codes against s statistics scaled by sqrt(d / s).
        values[:, -count:] *= math.sqrt((values.shape[1] - count) / count)
        return values.astype("float32")

    def neighbour_score(self, statistics):
        """-log of the k-nearest-neighbour density of the reference at each
        image (Loftsgaarden & Quesenberry 1965), in nats of the standardized
        space of `features`: log(m V_D r^D / k) for m reference
        images in D dimensions, V_D the volume of the unit ball, and r the
        mean distance to the k nearest (steadier than the k-th alone).
        `statistics` are `scored_statistics(..., features=self.project)`."""
        from sklearn.neighbors import NearestNeighbors

        if self.reference is None:
            raise ValueError(
                "The 'knn' score needs the features and statistics of training "
                "images: this detector was calibrated without it. Calibrate "
                "with keras_vae.anomaly.calibrate(model, x_validation, "
                "reference=x_train) (on the command line: keras-vae calibrate RUN)."
            )
        features = self.features(statistics)
        if features.shape[1] != self.reference.shape[1]:
            raise ValueError(
                f"The 'knn' reference has {self.reference.shape[1]} features per "
                f"image; the model gives {features.shape[1]}. Calibrate again."
            )
        count, dimension = self.reference.shape
        k = min(self.neighbours, count)
        finder = NearestNeighbors(n_neighbors=k, algorithm="brute")
        finder.fit(self.reference.astype("float32"))
        distances, _ = finder.kneighbors(features)
        radius = np.maximum(distances.mean(1), np.finfo("float32").tiny)
        log_unit_ball = 0.5 * dimension * math.log(math.pi) - math.lgamma(
            0.5 * dimension + 1
        )
        return math.log(count / k) + log_unit_ball + dimension * np.log(radius)

    def density_score(self, statistics):
        """-log density of the statistics (a dict of `STATISTICS` arrays)."""
        values = (self._stack(statistics) - self.center) / self.scale
        log_terms = []
        for weight, mean, covariance in zip(
            self.weights, self.means, self.covariances, strict=True
        ):
            cholesky = np.linalg.cholesky(covariance)
            solved = np.linalg.solve(cholesky, (values - mean).T)
            log_terms.append(
                np.log(weight)
                - 0.5 * np.sum(solved**2, axis=0)
                - np.sum(np.log(np.diag(cholesky)))
                - 0.5 * len(mean) * np.log(2 * np.pi)
            )
        log_terms = np.stack(log_terms, 1)
        top = log_terms.max(axis=1)
        return -(top + np.log(np.exp(log_terms - top[:, None]).sum(axis=1)))

    def _stack(self, statistics):
        return _columns(statistics, self.statistics)

    def flag(self, scores, method=scores_lib.DEFAULT_METHOD):
        """0/1 per score: 1 where it is above `method`'s threshold."""
        if method not in self.thresholds:
            raise ValueError(
                f"The detector has no threshold for {method!r}; it has "
                f"{', '.join(self.thresholds)}."
            )
        return (np.asarray(scores) > self.thresholds[method]).astype("int8")

    def check_labels(self, labels):
        given = labels is not None
        if given != self.labels_given:
            done, other = (
                ("with", "without")
                if self.labels_given
                else (
                    "without",
                    "with",
                )
            )
            raise ValueError(
                f"The detector was calibrated on scores {done} labels; these are "
                f"scored {other} them. Score {done} labels, or calibrate again "
                f"{other} them (keras_vae.anomaly.calibrate(..., labels=...); "
                "keras-vae calibrate RUN --with-labels)."
            )

    def get_config(self):
        return {
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "thresholds": dict(self.thresholds),
            "rate": self.rate,
            "rate_kind": self.rate_kind,
            "labels_given": self.labels_given,
            "num_samples": self.num_samples,
            "reference": None
            if self.reference is None
            else _encode_array(self.reference),
            "reference_center": None
            if self.reference_center is None
            else self.reference_center.tolist(),
            "reference_scale": None
            if self.reference_scale is None
            else self.reference_scale.tolist(),
            "neighbours": self.neighbours,
            "statistics": list(self.statistics),
            "feature_center": None
            if self.feature_center is None
            else self.feature_center.tolist(),
            "feature_scale": None
            if self.feature_scale is None
            else self.feature_scale.tolist(),
            "components": None
            if self.components is None
            else _encode_array(self.components, "<f4"),
        }

    @classmethod
    def from_config(cls, config):
        # A file saved before `absolute_error` existed has the first five.
        return cls(**{"statistics": stats_lib.FIRST_STATISTICS, **config})

    def __repr__(self):
        return (
            f"AnomalyDetector({self.rate_kind}={self.rate:g}, "
            f"thresholds={self.thresholds})"
        )


def _columns(statistics, names):
    """The statistics `names` as the columns of an `(n, s)` float64 array."""
    return np.stack([np.asarray(statistics[name], "float64") for name in names], 1)


def _optional_array(values):
    return None if values is None else np.asarray(values, "float64")


_ENCODINGS = {"<f2": "float16_base64", "<f4": "float32_base64"}


def _encode_array(array, dtype="<f2"):
    """An array as JSON: its shape and its bytes in base64 (54,000 images of
    38 numbers in 16 bits: 5.2 MB, not the 30 MB of a list of numbers)."""
    array = np.ascontiguousarray(array, dtype)
    return {
        "shape": list(array.shape),
        _ENCODINGS[dtype]: base64.b64encode(array.tobytes()).decode("ascii"),
    }


def _decode_array(value):
    dtype, key = next((d, k) for d, k in _ENCODINGS.items() if k in value)
    data = base64.b64decode(value[key])
    return np.frombuffer(data, dtype).reshape(value["shape"]).copy()


def calibrate(
    model,
    x,
    labels=None,
    false_alarm_rate=None,
    contamination=None,
    methods=None,
    num_samples=defaults.SCORE_IW_SAMPLES,
    seed=0,
    raw=False,
    reference=None,
    reference_labels=None,
):
    """Fits an `AnomalyDetector` to images of the training distribution and
    gives it to the model (`model.anomaly_detector`, saved in its file).

    Args:
        model: A built `VAE` or `ConditionalVAE`.
        x: Array of images the model should call normal, not seen in
            training (the validation split), in data space.
        labels: A conditional model's labels, to calibrate scores with
            labels; `None` calibrates marginalised scores.
        false_alarm_rate: Float in (0, 1), the fraction of normal images to
            flag. Defaults to `0.01` when `contamination` is not given.
        contamination: Float in (0, 1): instead, the fraction of `x` believed
            anomalous; the same quantile, for data that is not clean.
        methods: Methods to place thresholds for. Defaults to every method
            that applies (`class_entropy` to a conditional model calibrated
            without labels only).
        num_samples: Integer, the `"iwae"` score's k.
        seed: Integer, seed of the split into halves and of the samples.
        raw: Boolean, `x` are the networks' inputs.
        reference: Images of the training distribution that the `"knn"`
            score measures distances to: pass the training images (more is
            better; up to 60,000, drawn by `seed`, are kept). Defaults to
            the half of `x` that fits the statistics' density. Used only
            when `methods` includes `"knn"`.
        reference_labels: A conditional model's labels of `reference`,
            needed when calibrating with `labels`; without labels, each
            reference image is taken at its most probable class, as the
            scores take images.

    Returns:
        The `AnomalyDetector`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(400, 8, 8, 1)) * 0.2).astype("float32")
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), latent_dim=2))
    vae.compile(optimizer="adam")
    vae.fit(x[:300], epochs=2, verbose=0)
    keras_vae.anomaly.calibrate(vae, x[300:], false_alarm_rate=0.05)
    odd = rng.uniform(size=(5, 8, 8, 1)).astype("float32")
    print(vae.flag_anomalies(odd))  # [1 1 1 1 1]
    ```
    """
    from sklearn.mixture import GaussianMixture

    stats_lib.check_model("calibrate", model)
    if (false_alarm_rate is None) == (contamination is None):
        if contamination is not None:
            raise ValueError(
                "Pass `false_alarm_rate` or `contamination`, not both. Received: "
                f"false_alarm_rate={false_alarm_rate}, contamination={contamination}"
            )
        false_alarm_rate = defaults.FALSE_ALARM_RATE
    rate_kind = "false_alarm_rate" if contamination is None else "contamination"
    rate = false_alarm_rate if contamination is None else contamination
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 < rate < 1:
        raise ValueError(
            f"Invalid value received for argument `{rate_kind}`. Expected a "
            f"fraction in (0, 1). Received: {rate_kind}={rate!r}"
        )
    x = stats_lib.check_pixels("calibrate", model, x, raw)
    labels = stats_lib.check_labels(model, labels, len(x))
    methods = scores_lib.check_methods(methods, model, labels)
    if len(x) < MINIMUM_IMAGES:
        raise ValueError(
            f"`calibrate` needs at least {MINIMUM_IMAGES} images: half fit the "
            f"density of the statistics, half place the thresholds. Received "
            f"{len(x)}."
        )
    order = np.random.default_rng(seed).permutation(len(x))
    half = len(x) // 2
    fit_half, threshold_half = np.sort(order[:half]), np.sort(order[half:])

    def part(indices):
        return x[indices], None if labels is None else labels[indices]

    statistics, _, _, _ = stats_lib.scored_statistics(
        model, *part(fit_half), seed=seed, raw=raw
    )
    if "knn" in methods:
        if reference is not None:
            reference, reference_labels = _reference_images(
                model, reference, reference_labels, labels is not None, seed, raw
            )
        elif reference_labels is not None:
            raise ValueError("Received `reference_labels` without `reference` images.")
        else:
            reference, reference_labels = part(fit_half)
        knn = _fit_reference(model, reference, reference_labels, seed, raw)
    else:
        knn = {}
    values = _columns(statistics, stats_lib.STATISTICS)
    center, scale = values.mean(0), values.std(0)
    scale[scale == 0] = 1.0
    components = min(COMPONENTS, len(fit_half) // 10)
    mixture = GaussianMixture(
        components, covariance_type="full", reg_covar=1e-4, random_state=seed
    ).fit((values - center) / scale)
    detector = AnomalyDetector(
        center,
        scale,
        mixture.weights_,
        mixture.means_,
        mixture.covariances_,
        {},
        rate,
        rate_kind,
        labels is not None,
        num_samples,
        **knn,
    )
    held_out = scores_lib.scores(
        model,
        *part(threshold_half),
        methods=methods,
        detector=detector,
        num_samples=num_samples,
        seed=seed,
        raw=raw,
    )
    detector.thresholds = {
        method: float(np.quantile(values, 1 - rate, method="higher"))
        for method, values in held_out.items()
    }
    model.anomaly_detector = detector
    return detector


def _reference_images(model, reference, labels, labels_given, seed, raw):
    """Up to `KNN_REFERENCE_IMAGES` of `reference`, drawn by `seed`, and
    their labels: given when the scores are given labels, else `None` (each
    image at its most probable class)."""
    reference = stats_lib.check_pixels("calibrate", model, reference, raw)
    if labels is not None:
        if not model.conditional:
            raise ValueError(
                "Received `reference_labels` for an unconditional VAE. Pass "
                "reference_labels=None."
            )
        labels = checks.class_labels(labels, model.num_classes, count=len(reference))
    elif labels_given:
        raise ValueError(
            "Calibrating a ConditionalVAE with `labels` needs the "
            "`reference_labels` of the `reference` images too."
        )
    kept = min(len(reference), defaults.KNN_REFERENCE_IMAGES)
    chosen = np.sort(np.random.default_rng(seed).permutation(len(reference))[:kept])
    return reference[chosen], None if labels is None else labels[chosen]


def _fit_reference(model, images, labels, seed, raw):
    """The `AnomalyDetector` arguments of the 'knn' score: the principal
    directions of the hidden representation of up to `PROJECTION_IMAGES` of
    `images`, then every image's projected features and statistics."""
    sample = np.random.default_rng(seed).permutation(len(images))[:PROJECTION_IMAGES]
    sampled, _, _, _ = stats_lib.scored_statistics(
        model,
        images[sample],
        None if labels is None else labels[sample],
        seed=seed,
        raw=raw,
        features=lambda hidden: hidden.astype("float16"),
    )
    hidden = np.asarray(sampled["features"], "float64")
    feature_center, feature_scale = hidden.mean(0), hidden.std(0)
    feature_scale[feature_scale == 0] = 1.0
    standardized = (hidden - feature_center) / feature_scale
    _, singular, directions = np.linalg.svd(standardized, full_matrices=False)
    count = min(FEATURE_COMPONENTS, len(singular))
    # The projected features' total variance is 1, as the statistics' is.
    variance = np.sum(singular[:count] ** 2) / max(len(standardized) - 1, 1)
    components = directions[:count] / math.sqrt(max(variance, np.finfo("f4").tiny))
    detector = AnomalyDetector(
        [],
        [],
        [],
        [],
        [],
        {},
        0.5,
        feature_center=feature_center,
        feature_scale=feature_scale,
        components=components,
    )
    statistics, _, _, _ = stats_lib.scored_statistics(
        model, images, labels, seed=seed, raw=raw, features=detector.project
    )
    values = _columns(statistics, stats_lib.STATISTICS)
    center, scale = values.mean(0), values.std(0)
    scale[scale == 0] = 1.0
    detector.reference_center, detector.reference_scale = center, scale
    return {
        "reference": detector.features(statistics).astype("float16"),
        "reference_center": center,
        "reference_scale": scale,
        "feature_center": feature_center,
        "feature_scale": feature_scale,
        "components": detector.components,
    }
