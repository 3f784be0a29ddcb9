import math

import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.evaluation import (
    bits_per_dimension,
    importance_weighted_bound,
    negative_elbo,
)

# A linear-Gaussian VAE has an exact likelihood: with z ~ N(0, I) and
# x | z ~ N(W z + b, s I), p(x) = N(b, W W^T + s I). With W's columns
# orthogonal its true posterior is diagonal, so an encoder can output it
# exactly; then every importance weight equals p(x).
W = np.array([[1.5, 0.0], [0.0, -0.8], [0.0, 0.0], [0.0, 0.0]])
B = np.array([0.3, -0.2, 0.1, 0.0])
S = 0.5  # the Gaussian likelihood's fixed variance


def _exact_negative_log_likelihood(x):
    covariance = W @ W.T + S * np.eye(4)
    difference = x - B
    _, log_determinant = np.linalg.slogdet(covariance)
    mahalanobis = np.sum(difference @ np.linalg.inv(covariance) * difference, axis=1)
    return 0.5 * (mahalanobis + log_determinant + 4 * math.log(2 * math.pi))


def _linear_gaussian_vae(variance_scale=1.0, mean_shift=0.0):
    """The exact posterior, or a deliberately wrong one."""
    precision = np.eye(2) + W.T @ W / S
    covariance = np.linalg.inv(precision)
    gain = covariance @ W.T / S  # posterior mean = gain (x - b)
    inputs = keras.Input((4,))
    mean = keras.layers.Dense(
        2,
        kernel_initializer=keras.initializers.Constant(gain.T),
        bias_initializer=keras.initializers.Constant(-gain @ B + mean_shift),
    )(inputs)
    log_var = keras.layers.Dense(
        2,
        kernel_initializer="zeros",
        bias_initializer=keras.initializers.Constant(
            np.log(np.diag(covariance) * variance_scale)
        ),
    )(inputs)
    encoder = keras.Model(inputs, [mean, log_var])
    latent = keras.Input((2,))
    decoder = keras.Model(
        latent,
        keras.layers.Dense(
            4,
            kernel_initializer=keras.initializers.Constant(W.T),
            bias_initializer=keras.initializers.Constant(B),
        )(latent),
    )
    vae = keras_vae.models.VAE(encoder, decoder, parameterization="log_var")
    vae.build((None, 4))
    return vae


def _x(n=200):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(n, 2))
    return (z @ W.T + B + rng.normal(size=(n, 4)) * math.sqrt(S)).astype("float32")


@pytest.mark.parametrize("num_samples", [1, 7, 300])
def test_exact_posterior_gives_the_exact_likelihood_for_every_k(num_samples):
    x = _x()
    bound = importance_weighted_bound(
        _linear_gaussian_vae(), x, num_samples=num_samples
    )
    np.testing.assert_allclose(bound, _exact_negative_log_likelihood(x), atol=2e-3)


def test_samples_split_across_chunks_add_up_to_the_exact_likelihood():
    # 70 samples in chunks of 32: 32 + 32 + 6, one example at a time.
    x = _x(12)
    bound = importance_weighted_bound(
        _linear_gaussian_vae(), x, num_samples=70, batch_size=32
    )
    np.testing.assert_allclose(bound, _exact_negative_log_likelihood(x), atol=2e-3)


def test_wrong_posterior_bound_is_above_the_truth_and_tightens_with_k():
    x = _x(1000)
    vae = _linear_gaussian_vae(variance_scale=4.0, mean_shift=0.5)
    exact = _exact_negative_log_likelihood(x).mean()
    elbo = negative_elbo(vae, x, num_samples=50).mean()
    # Large chunks (25 of them at k = 1000): the eager arithmetic between the
    # network calls, not the 4-unit networks, costs time here.
    bounds = [
        importance_weighted_bound(vae, x, num_samples=k, batch_size=40_000).mean()
        for k in (1, 10, 100, 1000)
    ]
    assert elbo > bounds[1] > bounds[2] > bounds[3]
    assert bounds[2] > exact
    # k = 1 is a one-sample ELBO (standard error here about 0.06 nats).
    assert bounds[0] == pytest.approx(elbo, abs=0.25)
    # A bound in expectation: at k = 1000 within Monte Carlo noise of the truth.
    assert abs(bounds[3] - exact) < 0.05 * (elbo - exact)


def test_the_seed_fixes_the_bound():
    x = _x(50)
    vae = _linear_gaussian_vae(variance_scale=2.0)
    one = importance_weighted_bound(vae, x, num_samples=64, seed=3)
    np.testing.assert_array_equal(
        one, importance_weighted_bound(vae, x, num_samples=64, seed=3)
    )
    assert not np.array_equal(
        one, importance_weighted_bound(vae, x, num_samples=64, seed=4)
    )


def test_negative_elbo_matches_evaluate():
    x = _x(4000)
    vae = _linear_gaussian_vae(variance_scale=2.0)
    vae.compile(optimizer="adam")
    reported = vae.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)["elbo"]
    # evaluate draws one sample: its standard error here is about 0.025 nats.
    assert negative_elbo(vae, x, num_samples=100).mean() == pytest.approx(
        reported, abs=0.1
    )


def test_conditional_model_bound_is_below_its_elbo():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(64, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, 64)
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3),
        num_classes=3,
        likelihood="bernoulli",
    )
    cvae.compile(optimizer="adam")
    cvae.fit(x, labels, epochs=2, batch_size=16, verbose=0)
    bound = importance_weighted_bound(cvae, x, labels, num_samples=10)
    assert bound.shape == (64,)
    assert bound.mean() < negative_elbo(cvae, x, labels, num_samples=10).mean()


def test_bits_per_dimension():
    assert bits_per_dimension(784 * math.log(2.0), (28, 28, 1)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="at least one"):
        bits_per_dimension(1.0, (0,))


def test_bad_input():
    vae = _linear_gaussian_vae()
    x = _x(8)
    with pytest.raises(ValueError, match="num_samples"):
        importance_weighted_bound(vae, x, num_samples=0)
    with pytest.raises(TypeError, match="expects a keras_vae"):
        importance_weighted_bound(keras.Sequential(), x)
    with pytest.raises(ValueError, match="labels"):
        negative_elbo(vae, x, labels=np.zeros(8))
    with pytest.raises(ValueError, match="non-empty"):
        negative_elbo(vae, x[:0])
    with pytest.raises(ValueError, match="NaN"):
        negative_elbo(vae, np.full((2, 4), np.nan, "float32"))
    unbuilt = keras_vae.models.VAE(*keras_vae.architectures.mlp((4,), 2))
    with pytest.raises(ValueError, match="needs a built model"):
        negative_elbo(unbuilt, x)
    cvae = keras_vae.models.ConditionalVAE(
        *keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3), num_classes=3
    )
    cvae.build([(None, 8, 8, 1), (None,)])
    images = np.zeros((4, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="needs `labels`"):
        importance_weighted_bound(cvae, images)
    with pytest.raises(ValueError, match=r"Labels must be integers in \[0, 3\)"):
        importance_weighted_bound(cvae, images, np.array([0, 1, 2, 3]))


def test_bits_per_dimension_of_8_bit_pixels_are_comparable_across_likelihoods():
    from keras_vae.datasets import Preprocessing

    def model(likelihood, preprocessing):
        encoder, decoder = keras_vae.architectures.mlp((4,), 2, hidden_units=(4,))
        return keras_vae.models.VAE(
            encoder, decoder, likelihood=likelihood, preprocessing=preprocessing
        )

    # A continuous Bernoulli of logit 0 is the uniform density on [0, 1]: 0
    # nats, and 8 bits per 8-bit pixel, the uniform distribution of 256 levels.
    uniform = model("continuous_bernoulli", Preprocessing("scale"))
    assert bits_per_dimension(0.0, (4,), uniform) == pytest.approx(8.0)
    # Standardized by std 1/4, a density's pixels are 4 times as spread out.
    standardized = model("gaussian", Preprocessing("standardize", 0.5, 0.25))
    assert bits_per_dimension(0.0, (4,), standardized) == pytest.approx(6.0)
    # The discretized logistic's nats are the mass of the 8-bit values already.
    logistic = model("logistic", Preprocessing("scale"))
    nats = 4 * math.log(2.0)
    assert bits_per_dimension(nats, (4,), logistic) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="needs a model with a preprocessing"):
        bits_per_dimension(1.0, (4,), model("gaussian", None))
    # Binarized pixels: the bits of the binary images.
    binary = model("bernoulli", Preprocessing("binarize"))
    assert bits_per_dimension(nats, (4,), binary) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="not a normalized density"):
        bits_per_dimension(1.0, (4,), model("bernoulli", Preprocessing("scale")))


def test_latent_summary_gives_bits_only_where_they_are_bits_of_pixels():
    from keras_vae.datasets import Preprocessing
    from keras_vae.experiments.evaluation import latent_summary

    x = np.random.default_rng(0).uniform(size=(16, 4)).astype("float32")
    summaries = {}
    for likelihood in ("continuous_bernoulli", "bernoulli"):
        encoder, decoder = keras_vae.architectures.mlp((4,), 2, hidden_units=(4,))
        scale = Preprocessing("scale")
        model = keras_vae.models.VAE(
            encoder, decoder, likelihood=likelihood, preprocessing=scale
        )
        model.build((None, 4))
        summaries[likelihood] = latent_summary(model, x, iw_samples=3)
    summary = summaries["continuous_bernoulli"]
    # A density's bits are those of its bound on dequantized pixels.
    assert summary["dequantized_bound"] != pytest.approx(summary["iw_bound"])
    assert summary["bits_per_dim"] == pytest.approx(
        (summary["dequantized_bound"] / 4 + math.log(256.0)) / math.log(2.0)
    )
    # The Bernoulli of grey levels is not a density: a bound, no bits.
    assert "iw_bound" in summaries["bernoulli"]
    assert "bits_per_dim" not in summaries["bernoulli"]
    assert "dequantized_bound" not in summaries["bernoulli"]
