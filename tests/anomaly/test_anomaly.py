"""Anomaly scores, thresholds and detection metrics, on real 8x8 digits."""

import math
import os

import keras
import numpy as np
import pytest
from scipy import stats

import keras_vae
from keras_vae import anomaly
from keras_vae.anomaly import statistics as anomaly_statistics
from keras_vae.datasets import Preprocessing, load, outlier_images


@pytest.fixture(scope="module")
def digits():
    """A VAE trained on digits 0-8, calibrated on held-out ones; test images."""
    keras.utils.set_random_seed(0)
    data = load("digits")
    normal = data.y_train != 9
    x = data.x_train[normal]
    preprocessing = Preprocessing.fit("standardize", x[:1000])
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8, 1), 4), preprocessing=preprocessing
    )
    vae.compile(optimizer="adam")
    vae.fit(preprocessing.transform(x[:1000]), epochs=10, batch_size=32, verbose=0)
    anomaly.calibrate(vae, x[1000:], false_alarm_rate=0.05, reference=x[:1000])
    return vae, data.x_test[data.y_test != 9]


def _auroc(normal, unusual):
    return anomaly.detection_metrics(normal, unusual)["auroc"]


def test_each_method_ranks_the_outliers_the_guide_says_it_does(digits):
    vae, test = digits
    normal = anomaly.scores(vae, test)
    expected = {
        "noise": ("dose", "elbo", "iwae", "regret", "knn"),
        "photos": ("dose", "knn"),
        "constant": ("dose", "complexity", "knn"),
    }
    for name, methods in expected.items():
        unusual = anomaly.scores(
            vae, outlier_images(name, (8, 8, 1), count=200), methods=methods
        )
        for method in methods:
            assert _auroc(normal[method], unusual[method]) > 0.9, (name, method)


def test_thresholds_flag_outliers_and_about_the_rate_of_normal_images(digits):
    vae, test = digits
    flagged = vae.flag_anomalies(test).mean()
    assert 0.0 < flagged < 0.15  # calibrated for 5 %: not none, not all
    assert (
        vae.flag_anomalies(outlier_images("noise", (8, 8, 1), count=100)).mean() > 0.9
    )
    for method in ("elbo", "complexity", "dose"):
        threshold = vae.anomaly_detector.thresholds[method]
        scores = vae.anomaly_scores(test, method=method)
        np.testing.assert_array_equal(
            vae.flag_anomalies(test, method=method), scores > threshold
        )


def test_the_model_file_keeps_the_thresholds(digits, tmp_path):
    vae, test = digits
    vae.save(tmp_path / "vae.keras")
    loaded = keras.models.load_model(tmp_path / "vae.keras")
    assert loaded.anomaly_detector.thresholds == vae.anomaly_detector.thresholds
    for method in ("dose", "knn"):
        np.testing.assert_allclose(
            loaded.anomaly_scores(test[:50], method=method),
            vae.anomaly_scores(test[:50], method=method),
            rtol=1e-5,
        )


def test_complexity_subtracts_the_png_length_in_nats(digits):
    vae, test = digits
    result = anomaly.scores(vae, test[:20], methods=("elbo", "complexity"))
    bits = anomaly.compressed_bits(test[:20])
    np.testing.assert_allclose(
        result["complexity"], result["elbo"] - bits * math.log(2), rtol=1e-5
    )
    constant, noise = (
        outlier_images("constant", (8, 8, 1), 1),
        np.random.default_rng(0).uniform(size=(1, 8, 8, 1)),
    )
    assert anomaly.compressed_bits(constant)[0] < anomaly.compressed_bits(noise)[0]


@pytest.mark.parametrize("channels", [1, 5])  # PNG, and zlib beyond 4 channels
def test_compressed_bits_of_many_images_on_several_threads_are_each_images_own(
    channels, monkeypatch
):
    import io
    import zlib

    from PIL import Image

    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # threads even on one core
    rng = np.random.default_rng(0)
    # Images of different complexity, so that a mix-up would show.
    pixels = rng.uniform(size=(600, 8, 8, channels)) * rng.uniform(size=(600, 1, 1, 1))
    images = np.round(pixels * 255).astype("uint8")

    def own(image):
        if channels == 5:
            return 8 * len(zlib.compress(image.tobytes(), 9))
        buffer = io.BytesIO()
        Image.fromarray(image[..., 0]).save(buffer, "PNG", optimize=True)
        return 8 * len(buffer.getvalue())

    expected = [own(image) for image in images]
    np.testing.assert_array_equal(anomaly.compressed_bits(pixels), expected)


def test_regret_is_the_elbo_gained_by_refitting_the_posterior():
    keras.utils.set_random_seed(0)
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))
    vae.build((None, 8, 8, 1))
    inputs = np.random.default_rng(0).normal(size=(40, 8, 8, 1)).astype("float32")
    regret = anomaly.likelihood_regret(vae, inputs, steps=5, batch_size=20)
    assert regret.shape == (40,) and (regret >= 0).all() and regret.mean() > 0
    longer = anomaly.likelihood_regret(vae, inputs, steps=20, batch_size=20)
    assert longer.mean() > regret.mean()  # more steps fit the posterior better


def test_dose_is_the_mixture_density_of_the_standardized_statistics(digits):
    vae, test = digits
    detector = vae.anomaly_detector
    statistics = anomaly.summary_statistics(vae, test[:30])
    values = np.stack([statistics[name] for name in statistics], 1)
    values = (values - detector.center) / detector.scale
    density = sum(
        weight * stats.multivariate_normal(mean, covariance).pdf(values)
        for weight, mean, covariance in zip(
            detector.weights, detector.means, detector.covariances, strict=True
        )
    )
    np.testing.assert_allclose(
        anomaly.score(vae, test[:30]), -np.log(density), rtol=1e-4
    )


def test_absolute_error_is_the_pixel_error_of_the_sampled_reconstruction(digits):
    vae, test = digits
    images = test[:25]
    statistics = anomaly.summary_statistics(vae, images, seed=3)
    mean, sigma = vae.encode(images)
    noise = np.random.default_rng(3).standard_normal(mean.shape, dtype="float32")
    pixels = vae.decode(mean + sigma * noise)
    np.testing.assert_allclose(
        statistics["absolute_error"],
        np.abs(pixels - images).reshape(25, -1).sum(1),
        rtol=1e-4,
    )
    # Noise is far from anything the decoder draws.
    noise_images = outlier_images("noise", (8, 8, 1), count=25)
    noisy = anomaly.summary_statistics(vae, noise_images)["absolute_error"]
    assert noisy.min() > statistics["absolute_error"].max()


def test_a_detector_saved_with_five_statistics_scores_with_those_five(digits):
    vae, test = digits
    config = {
        **vae.anomaly_detector.get_config(),
        "center": np.zeros(5),
        "scale": np.ones(5),
        "weights": [1.0],
        "means": np.zeros((1, 5)),
        "covariances": np.eye(5)[None],
        "reference": None,
    }
    del config["statistics"]  # as files written before `absolute_error`
    old = anomaly.AnomalyDetector.from_config(config)
    assert old.statistics == anomaly_statistics.STATISTICS[:5]
    statistics = anomaly.summary_statistics(vae, test[:10])
    values = np.stack([statistics[name] for name in old.statistics], 1)
    np.testing.assert_allclose(
        old.density_score(statistics),
        -stats.multivariate_normal(np.zeros(5), np.eye(5)).logpdf(values),
        rtol=1e-6,
    )


def test_knn_is_the_density_of_the_nearest_training_features_and_statistics(digits):
    from sklearn.decomposition import PCA

    vae, test = digits
    data = load("digits")
    reference = data.x_train[data.y_train != 9][:1000]
    detector = vae.anomaly_detector
    # 32 principal components of the hidden layer, and the six statistics.
    assert detector.reference.shape == (1000, 32 + 6)

    # The input of the encoder's mean head: its 120-unit hidden layer.
    hidden_layer = keras.Model(vae.encoder.inputs, vae.encoder.get_layer("mean").input)

    def parts(images):
        statistics = anomaly.summary_statistics(vae, images)
        hidden = hidden_layer.predict(vae.preprocessing.transform(images), verbose=0)
        return hidden.astype("float64"), np.stack(list(statistics.values()), 1)

    (hidden, values), (probe_hidden, probe_values) = parts(reference), parts(test[:40])
    center, scale = hidden.mean(0), hidden.std(0)
    scale[scale == 0] = 1
    pca = PCA(32).fit((hidden - center) / scale)
    total = math.sqrt(pca.explained_variance_.sum())

    def features(hidden, values):
        projected = pca.transform((hidden - center) / scale) / total
        standardized = (values - values_center) / values_scale / math.sqrt(6)
        return np.concatenate([projected, standardized], 1)

    values_center, values_scale = values.mean(0), values.std(0)
    train, probe = features(hidden, values), features(probe_hidden, probe_values)
    # Each group has a total variance of 1 in the reference.
    assert np.var(train[:, :32], axis=0).sum() == pytest.approx(1, rel=1e-3)
    assert np.var(train[:, 32:], axis=0).sum() == pytest.approx(1, rel=1e-6)
    distances = np.sqrt(np.square(probe[:, None] - train[None]).sum(-1))
    radius = np.sort(distances, axis=1)[:, :5].mean(1)
    log_ball = 19 * math.log(math.pi) - math.lgamma(20)  # unit ball of 38-D
    expected = math.log(1000 / 5) + log_ball + 38 * np.log(radius)
    # The reference is kept in 16 bits.
    np.testing.assert_allclose(
        anomaly.score(vae, test[:40], method="knn"), expected, atol=0.05
    )
    # The class the model never saw lies farther from the training images.
    nines = data.x_test[data.y_test == 9]
    scores = anomaly.score(vae, np.concatenate([test, nines]), method="knn")
    assert _auroc(scores[: len(test)], scores[len(test) :]) > 0.6


def test_a_detector_saved_before_the_hidden_features_scores_with_codes(digits):
    vae, test = digits
    data = load("digits")
    reference = data.x_train[data.y_train != 9][:1000]

    def codes_and_statistics(images):
        statistics = anomaly.summary_statistics(vae, images)
        codes = vae.encode(images)[0]
        return np.concatenate([codes, np.stack(list(statistics.values()), 1)], 1)

    train, probe = codes_and_statistics(reference), codes_and_statistics(test[:40])
    center, scale = train.mean(0), train.std(0)
    weights = np.r_[np.ones(4), np.full(6, math.sqrt(4 / 6))]
    config = vae.anomaly_detector.get_config()
    for key in ("feature_center", "feature_scale", "components"):
        del config[key]  # as files written before them
    train = (train - center) / scale * weights
    config.update(
        reference=train,
        reference_center=center,
        reference_scale=scale,
    )
    old = anomaly.AnomalyDetector.from_config(config)
    assert old.components is None
    probe = (probe - center) / scale * weights
    distances = np.sqrt(np.square(probe[:, None] - train[None]).sum(-1))
    radius = np.sort(distances, axis=1)[:, :5].mean(1)
    log_ball = 5 * math.log(math.pi) - math.lgamma(6)  # unit ball of 10-D
    expected = math.log(1000 / 5) + log_ball + 10 * np.log(radius)
    np.testing.assert_allclose(
        anomaly.score(vae, test[:40], method="knn", detector=old), expected, atol=0.05
    )


def test_knn_needs_its_reference_and_the_labels_it_was_calibrated_with(digits):
    vae, test = digits
    data = load("digits")
    calibrated = vae.anomaly_detector
    try:
        _check_knn_inputs(vae, test, data)
    finally:
        vae.anomaly_detector = calibrated  # the module's other tests use it


def _check_knn_inputs(vae, test, data):
    detector = anomaly.calibrate(vae, test[:100], methods=("dose", "elbo"))
    assert detector.reference is None
    with pytest.raises(ValueError, match="calibrated without it"):
        anomaly.score(vae, test, method="knn")
    # Without `reference`, the half of the images that fits the density.
    detector = anomaly.calibrate(vae, test[:100], methods=("knn",))
    assert detector.reference.shape == (50, 38) and set(detector.thresholds) == {"knn"}
    encoder, decoder = keras_vae.architectures.conv_conditional((8, 8, 1), 2, 10)
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=10)
    cvae.build([(None, 8, 8, 1), (None,)])
    x, y = data.x_test[:60], data.y_test[:60]
    with pytest.raises(ValueError, match="`reference_labels`"):
        anomaly.calibrate(cvae, x, y, methods=("knn",), reference=x)
    with pytest.raises(ValueError, match="unconditional VAE"):
        anomaly.calibrate(vae, x, methods=("knn",), reference=x, reference_labels=y)
    anomaly.calibrate(cvae, x, y, methods=("knn",), reference=x, reference_labels=y)
    assert cvae.anomaly_detector.reference.shape == (60, 32 + 6)
    assert anomaly.score(cvae, x, y, method="knn").shape == (60,)


def test_conditional_scores_marginalise_over_classes(monkeypatch):
    keras.utils.set_random_seed(0)
    encoder, decoder = keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3)
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=3)
    cvae.build([(None, 8, 8, 1), (None,)])
    x = np.random.default_rng(0).uniform(size=(6, 8, 8, 1)).astype("float32")
    per_class = -anomaly.class_log_likelihoods(cvae, x)  # -ELBO of each class
    marginal = anomaly.score(cvae, x, method="elbo")
    expected = -np.log(np.exp(-per_class.astype("float64")).mean(axis=1))
    np.testing.assert_allclose(marginal, expected, rtol=1e-5)
    given = anomaly.score(cvae, x, labels=[0, 1, 2, 0, 1, 2], method="elbo")
    np.testing.assert_allclose(
        given, per_class[np.arange(6), [0, 1, 2, 0, 1, 2]], rtol=1e-5
    )
    # The inputs' PNG lengths do not depend on the class: compressed once.
    compressed = []
    bits = anomaly_statistics.compressed_bits

    def counted_bits(pixels):
        compressed.append(len(pixels))
        return bits(pixels)

    monkeypatch.setattr(anomaly_statistics, "compressed_bits", counted_bits)
    posteriors = anomaly.class_posteriors(cvae, x)
    assert compressed == [6]
    np.testing.assert_allclose(posteriors.sum(1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(posteriors.argmax(1), per_class.argmin(1))
    # The class entropy is the entropy of these posteriors, from 0 to log 3.
    entropy = anomaly.score(cvae, x, method="class_entropy")
    expected = -(posteriors * np.log(posteriors)).sum(1)
    np.testing.assert_allclose(entropy, expected, rtol=1e-4, atol=1e-6)
    assert (entropy >= 0).all() and (entropy <= np.log(3) + 1e-6).all()
    assert "class_entropy" in anomaly.applicable_methods(cvae)
    assert "class_entropy" not in anomaly.applicable_methods(cvae, [0] * 6)
    with pytest.raises(ValueError, match="for images of unknown class"):
        anomaly.score(cvae, x, labels=[0] * 6, method="class_entropy")


def test_knn_reads_the_hidden_layer_at_the_most_probable_class_or_the_codes():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).uniform(size=(60, 8, 8, 1)).astype("float32")
    encoder, decoder = keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3)
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=3)
    cvae.build([(None, 8, 8, 1), (None,)])
    project = anomaly.calibrate(cvae, x, methods=("knn",), reference=x).project
    # Without labels, each image's features under its most probable class.
    most_probable = anomaly.class_log_likelihoods(cvae, x[:6]).argmax(1)
    marginal, *_ = anomaly_statistics.scored_statistics(cvae, x[:6], features=project)
    given, *_ = anomaly_statistics.scored_statistics(
        cvae, x[:6], most_probable, features=project
    )
    assert marginal["features"].shape == (6, 32)
    np.testing.assert_allclose(marginal["features"], given["features"], rtol=1e-6)
    # One input; a hidden layer narrower than 32 keeps all its components.
    encoder, decoder = keras_vae.architectures.mlp((8, 8, 1), 2, hidden_units=(16,))
    vae = keras_vae.models.VAE(encoder, decoder)
    vae.build((None, 8, 8, 1))
    detector = anomaly.calibrate(vae, x, methods=("knn",), reference=x)
    assert detector.reference.shape == (60, 16 + 6)

    class Encoder(keras.Model):  # no layer graph to read a hidden layer from
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(8, activation="relu")
            self.mean, self.scale = keras.layers.Dense(2), keras.layers.Dense(2)

        def call(self, images):
            hidden = self.hidden(keras.ops.reshape(images, (-1, 64)))
            return self.mean(hidden), self.scale(hidden)

    vae = keras_vae.models.VAE(Encoder(), decoder)
    vae.build((None, 8, 8, 1))
    assert anomaly_statistics.feature_encoder(vae) is None
    detector = anomaly.calibrate(vae, x, methods=("knn",), reference=x)
    assert detector.reference.shape == (60, 2 + 6)  # the posterior mean's 2
    assert np.isfinite(anomaly.score(vae, x[:6], method="knn")).all()


def test_class_entropy_on_hand_made_elbos():
    from keras_vae.anomaly.statistics import class_entropy

    elbos = np.array([[5.0, 5.0, 5.0, 5.0], [0.0, 60.0, 60.0, 60.0]])
    np.testing.assert_allclose(class_entropy(elbos), [np.log(4), 0.0], atol=1e-6)
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))
    vae.build((None, 8, 8, 1))
    with pytest.raises(ValueError, match="Received: an unconditional VAE"):
        anomaly.score(vae, np.zeros((2, 8, 8, 1), "float32"), method="class_entropy")


@pytest.mark.parametrize(
    "normal, unusual, auroc, fpr",
    [
        ([0.1, 0.2, 0.3], [0.4, 0.9], 1.0, 0.0),  # separated
        ([0.4, 0.9], [0.1, 0.2, 0.3], 0.0, 1.0),  # in reverse
        ([0.1, 0.2, 0.3], [0.25, 0.9], 5 / 6, 1 / 3),  # 5 of 6 pairs in order
    ],
)
def test_detection_metrics_on_hand_made_scores(normal, unusual, auroc, fpr):
    metrics = anomaly.detection_metrics(normal, unusual)
    assert metrics["auroc"] == pytest.approx(auroc)
    assert metrics["fpr_at_95_tpr"] == pytest.approx(fpr)
    assert 0 <= metrics["auprc"] <= 1


def test_calibration_rates_and_reconstruction_maps(digits):
    vae, test = digits
    maps = anomaly.reconstruction_error_map(vae, test[:5])
    np.testing.assert_allclose(
        maps, (vae.reconstruct(test[:5]) - test[:5]) ** 2, rtol=1e-5, atol=1e-7
    )
    x = test[:200]
    loose = anomaly.calibrate(vae, x, contamination=0.2, methods=("elbo",))
    strict = anomaly.calibrate(vae, x, false_alarm_rate=0.01, methods=("elbo",))
    assert loose.rate_kind == "contamination" and loose.rate == 0.2
    assert loose.thresholds["elbo"] < strict.thresholds["elbo"]
    assert vae.anomaly_detector is strict
