import keras
import numpy as np
import pytest

import keras_vae
from keras_vae import LatentMixture


def _two_far_components(conditional=False):
    weights = [[0.25, 0.75]]
    means = [[[-10.0, 0.0], [10.0, 5.0]]]
    covariances = [[np.diag([1.0, 4.0]), [[2.0, 1.0], [1.0, 2.0]]]]
    if conditional:
        weights, means, covariances = weights * 2, means * 2, covariances * 2
    return LatentMixture(weights, means, covariances, conditional)


def test_draws_follow_the_weights_means_and_covariances():
    mixture = _two_far_components()
    z = mixture.sample(40_000, seed=0)
    assert z.shape == (40_000, 2) and z.dtype == np.float32
    second = z[:, 0] > 0
    assert second.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(z[~second].mean(0), [-10.0, 0.0], atol=0.05)
    np.testing.assert_allclose(np.cov(z[~second].T), np.diag([1.0, 4.0]), atol=0.15)
    np.testing.assert_allclose(np.cov(z[second].T), [[2, 1], [1, 2]], atol=0.1)
    np.testing.assert_array_equal(mixture.sample(5, seed=3), mixture.sample(5, seed=3))
    assert not np.array_equal(mixture.sample(5, seed=3), mixture.sample(5, seed=4))
    # A temperature scales each component's spread (its covariance by T^2):
    # the weights and means stay, and T = 0 gives the means.
    cool = mixture.sample(40_000, seed=0, temperature=0.5)
    second = cool[:, 0] > 0
    assert second.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(cool[second].mean(0), [10.0, 5.0], atol=0.05)
    np.testing.assert_allclose(
        np.cov(cool[second].T), [[0.5, 0.25], [0.25, 0.5]], atol=0.03
    )
    modes = mixture.sample(100, seed=0, temperature=0)
    assert {tuple(row) for row in modes} == {(-10.0, 0.0), (10.0, 5.0)}
    for bad in (-1, float("inf"), None):
        with pytest.raises(ValueError, match="temperature"):
            mixture.sample(3, temperature=bad)


def test_a_conditional_mixture_draws_from_each_label_class():
    mixture = LatentMixture(
        [[1.0], [1.0]],
        [[[-5.0]], [[5.0]]],
        [[[[0.01]]], [[[0.01]]]],
        conditional=True,
    )
    labels = np.array([0, 1, 1, 0])
    z = mixture.sample(labels, seed=0)
    np.testing.assert_allclose(z[:, 0], [-5, 5, 5, -5], atol=0.5)


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.images / 16.0).astype("float32")[..., None], data.target


def test_fit_matches_the_codes_of_each_class_and_saves(digits, tmp_path):
    x, labels = digits
    keras.utils.set_random_seed(0)
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 3, 10),
        num_classes=10,
        likelihood="bernoulli",
    )
    cvae.compile(optimizer=keras.optimizers.Adam(3e-3))
    cvae.fit(x, labels, epochs=3, batch_size=64, verbose=0)
    mixture = LatentMixture.fit(cvae, x, labels, components=4)
    assert mixture.weights.shape == (10, 4) and mixture.latent_dim == 3
    means, scales = cvae.encode(x, labels)
    draws = mixture.sample(np.repeat(np.arange(10), 2000), seed=0)
    for k in range(10):
        codes = means[labels == k]
        # The aggregate posterior of class k: mean of the codes, covariance
        # of the codes plus the mean posterior variance.
        np.testing.assert_allclose(
            draws[2000 * k : 2000 * (k + 1)].mean(0), codes.mean(0), atol=0.1
        )
        expected = np.var(codes, 0) + np.mean(scales[labels == k] ** 2, 0)
        np.testing.assert_allclose(
            draws[2000 * k : 2000 * (k + 1)].var(0), expected, rtol=0.2
        )

    images = cvae.sample(labels=np.array([3, 7]), seed=5, density=mixture)
    expected = cvae.decode(mixture.sample(np.array([3, 7]), seed=5), [3, 7])
    np.testing.assert_allclose(images, expected, atol=1e-6)

    mixture.save(tmp_path / "mixture.npz")
    loaded = LatentMixture.load(tmp_path / "mixture.npz")
    assert loaded.conditional and loaded.components == 4
    np.testing.assert_array_equal(
        loaded.sample(np.arange(10), seed=1), mixture.sample(np.arange(10), seed=1)
    )

    with pytest.raises(ValueError, match="needs the labels"):
        LatentMixture.fit(cvae, x)
    with pytest.raises(ValueError, match="at least components=200"):
        LatentMixture.fit(cvae, x, labels, components=200)
    with pytest.raises(ValueError, match="fitted without labels: it samples for a VAE"):
        cvae.sample(labels=[0, 1], density=_two_far_components())
    with pytest.raises(ValueError, match="codes of size 2"):
        cvae.sample(labels=[0, 1], density=_two_far_components(conditional=True))


def test_an_unconditional_vae_samples_from_its_mixture(digits):
    x, labels = digits
    keras.utils.set_random_seed(0)
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))
    vae.compile(optimizer="adam")
    vae.fit(x, epochs=1, batch_size=64, verbose=0)
    mixture = LatentMixture.fit(vae, x, components=3)
    assert not mixture.conditional and mixture.weights.shape == (1, 3)
    np.testing.assert_allclose(
        vae.sample(4, seed=2, density=mixture),
        vae.decode(mixture.sample(4, seed=2)),
        atol=1e-6,
    )
    np.testing.assert_allclose(
        vae.sample(4, seed=2, density=mixture, temperature=0.25),
        vae.decode(mixture.sample(4, seed=2, temperature=0.25)),
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="labels for an unconditional VAE"):
        LatentMixture.fit(vae, x, labels)
    with pytest.raises(ValueError, match="for a ConditionalVAE, not a VAE"):
        vae.sample(3, density=_two_far_components(conditional=True))
    with pytest.raises(TypeError, match="keras_vae VAE"):
        LatentMixture.fit(keras.Sequential([keras.layers.Dense(2)]), x)


def test_bad_mixtures_and_files(tmp_path):
    with pytest.raises(ValueError, match="sum to 1"):
        LatentMixture([[0.5, 0.2]], np.zeros((1, 2, 1)), np.ones((1, 2, 1, 1)), False)
    with pytest.raises(ValueError, match="positive definite"):
        LatentMixture([[1.0]], np.zeros((1, 1, 2)), -np.eye(2)[None, None], False)
    with pytest.raises(ValueError, match="shapes"):
        LatentMixture([[1.0]], np.zeros((1, 1, 2)), np.ones((1, 1, 3, 3)), False)
    with pytest.raises(ValueError, match="one group"):
        LatentMixture([[1.0]] * 2, np.zeros((2, 1, 1)), np.ones((2, 1, 1, 1)), False)
    with pytest.raises(ValueError, match="samples a count"):
        _two_far_components().sample(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"integers in \[0, 2\)"):
        _two_far_components(conditional=True).sample(np.array([0, 2]))
    path = tmp_path / "other.npz"
    np.savez(path, something=np.zeros(3))
    with pytest.raises(ValueError, match="is not a LatentMixture file"):
        LatentMixture.load(path)
