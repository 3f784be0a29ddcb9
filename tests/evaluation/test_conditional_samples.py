import itertools

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.evaluation import (
    label_fidelity,
    train_classifier,
    within_class_diversity,
)
from keras_vae.evaluation.conditional_samples import (
    _mean_pairwise_distance,
    classified_as,
    spread_ratios,
)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    return x[:1400], data.target[:1400], x[1400:], data.target[1400:]


@pytest.fixture(scope="module")
def classifier(digits):
    x, y, _, _ = digits
    return train_classifier(x, y, 10, epochs=8, batch_size=64)


def _cvae(digits, beta, epochs):
    x, y, _, _ = digits
    keras.utils.set_random_seed(0)
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 4, 10),
        num_classes=10,
        beta=beta,
        likelihood="bernoulli",
    )
    cvae.compile(optimizer=keras.optimizers.Adam(3e-3))
    cvae.fit(x, y, epochs=epochs, batch_size=32, verbose=0)
    return cvae


def test_classifier_learns_the_digits(digits, classifier):
    _, _, x_test, y_test = digits
    accuracy = classifier.evaluate(x_test, y_test, verbose=0, return_dict=True)
    assert accuracy["accuracy"] > 0.85
    assert classifier.get_layer("features").output.shape == (None, 128)


def test_trained_cvae_draws_its_classes_and_an_untrained_one_does_not(
    digits, classifier
):
    trained, _ = label_fidelity(_cvae(digits, 1.0, 12), classifier)
    untrained, per_class = label_fidelity(_cvae(digits, 1.0, 0), classifier)
    assert trained > 0.6
    assert untrained < 0.35  # about chance (0.1) and far below the trained one
    assert per_class.shape == (10,)


def test_diversity_tells_a_collapsed_model_from_a_varied_one(digits, classifier):
    _, _, x_test, y_test = digits
    varied, per_class = within_class_diversity(
        _cvae(digits, 1.0, 12), classifier, x_test, y_test, num_per_class=40
    )
    # beta = 300: the posterior collapses, every sample of a class is close
    # to the decoder's class mean. Right class, little variation.
    collapsed_model = _cvae(digits, 300.0, 12)
    collapsed, _ = within_class_diversity(
        collapsed_model, classifier, x_test, y_test, num_per_class=40
    )
    fidelity, _ = label_fidelity(collapsed_model, classifier)
    assert per_class.shape == (10,)
    assert collapsed < 0.15 and varied > 2 * collapsed
    assert fidelity > 0.9


def test_real_images_judged_as_samples_score_the_classifier_accuracy_and_one(
    digits, classifier
):
    # What evaluate applies to reconstructions: real images in their place
    # score the classifier's accuracy and a spread ratio near 1; one image
    # repeated has no spread.
    _, _, x_test, y_test = digits
    accuracy = classifier.evaluate(x_test, y_test, verbose=0, return_dict=True)
    overall, per_class = classified_as(classifier, x_test, y_test, 10)
    assert overall == pytest.approx(accuracy["accuracy"], abs=1e-6)
    assert per_class.shape == (10,)
    ratio, _ = spread_ratios(classifier, x_test, y_test, x_test, y_test, 10, 20, 1)
    assert 0.8 < ratio < 1.25
    same = np.repeat(x_test[:1], 20, axis=0)
    ratio, _ = spread_ratios(
        classifier, same, np.full(20, y_test[0]), x_test, y_test, 10, 20, 1
    )
    assert ratio == pytest.approx(0.0, abs=1e-6)


def test_mean_pairwise_distance_matches_the_definition():
    points = np.random.default_rng(0).normal(size=(7, 3))
    pairs = list(itertools.combinations(points, 2))
    expected = np.mean([np.linalg.norm(a - b) for a, b in pairs])
    assert _mean_pairwise_distance(points) == pytest.approx(expected)


def test_bad_input(digits, classifier):
    x, y, x_test, y_test = digits
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))
    vae.build((None, 8, 8, 1))
    with pytest.raises(TypeError, match="ConditionalVAE"):
        label_fidelity(vae, classifier)
    five_classes = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 2, 5), num_classes=5
    )
    five_classes.build([(None, 8, 8, 1), (None,)])
    with pytest.raises(ValueError, match="predicts 10 classes"):
        label_fidelity(five_classes, classifier)
    with pytest.raises(ValueError, match=r"integers in \[0, 10\)"):
        train_classifier(x[:10], np.arange(10) + 1, 10)
    with pytest.raises(ValueError, match="one label per example"):
        train_classifier(x[:10], y[:9], 10)
    with pytest.raises(ValueError, match="num_classes"):
        train_classifier(x[:10], y[:10], 1)
    cvae = _cvae(digits, 1.0, 0)
    plain = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(10)]
    )
    with pytest.raises(ValueError, match="layer named 'features'"):
        within_class_diversity(cvae, plain, x_test, y_test)
    with pytest.raises(ValueError, match="at least 2 of every class"):
        within_class_diversity(cvae, classifier, x_test[:5], y_test[:5])


def test_a_cached_classifier_is_compiled_for_the_loading_process(
    digits, classifier, tmp_path, monkeypatch
):
    # A classifier cached by another backend carries its compile settings
    # (JAX's and TensorFlow's jit_compile=True is a minute of torch.compile on
    # PyTorch); the cache loads the weights and compiles for this process.
    from types import SimpleNamespace

    from keras_vae.experiments.evaluation import run_classifier

    monkeypatch.setenv("KERAS_VAE_CACHE", str(tmp_path))
    x, y, x_test, _ = digits
    data = SimpleNamespace(x_train=x[:64], y_train=y[:64], num_classes=10)
    run_classifier(tmp_path / "run", data, say=lambda line: None)
    (cached,) = (tmp_path / "classifiers").iterdir()
    other = keras.models.clone_model(classifier)
    other.set_weights(classifier.get_weights())
    other.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    other.save(cached)
    lines = []
    loaded = run_classifier(tmp_path / "run", data, say=lines.append)
    assert lines == []  # from the cache, not trained again
    assert not loaded.run_eagerly and loaded.loss == "sparse_categorical_crossentropy"
    np.testing.assert_allclose(
        loaded.predict(x_test, verbose=0),
        classifier.predict(x_test, verbose=0),
        rtol=1e-5,
        atol=1e-6,
    )
