"""The likelihoods for real images: true densities and probabilities."""

import keras
import numpy as np
import pytest
from scipy.stats import norm

import keras_vae
from keras_vae.likelihoods import (
    ContinuousBernoulli,
    DiscretizedLogistic,
    DiscretizedLogisticMixture,
    Gaussian,
    LearnedGaussian,
)


def _numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


@pytest.mark.parametrize("logit", [-30.0, -3.0, -0.02, 0.0, 0.01, 0.5, 4.0, 25.0])
def test_continuous_bernoulli_is_a_density_with_its_mean(logit):
    likelihood = ContinuousBernoulli()
    x = np.linspace(0.0, 1.0, 20001, dtype="float32")[:, None]
    outputs = np.full_like(x, logit)
    density = np.exp(-_numpy(likelihood.negative_log_likelihood(x, outputs)))
    area = np.trapezoid(density, x[:, 0])
    assert area == pytest.approx(1.0, abs=2e-3)
    mean = np.trapezoid(density * x[:, 0], x[:, 0])
    got = float(_numpy(likelihood.mean(outputs[:1]))[0, 0])
    assert got == pytest.approx(mean, abs=2e-3)


def test_continuous_bernoulli_adds_the_normalizer_to_the_cross_entropy():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(3, 5)).astype("float32")
    logits = rng.normal(scale=3, size=(3, 5)).astype("float32")
    p = 1 / (1 + np.exp(-logits))
    normalizer = 2 * np.arctanh(1 - 2 * p) / (1 - 2 * p)
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p) + np.log(normalizer))
    got = ContinuousBernoulli().negative_log_likelihood(x, logits)
    np.testing.assert_allclose(_numpy(got), expected.sum(1), rtol=1e-4)


@pytest.mark.parametrize("scale", ["global", "pixel"])
def test_learned_gaussian_is_the_normal_density_at_its_sigma(scale):
    likelihood = LearnedGaussian(scale)
    likelihood.build((None, 2, 3))
    rng = np.random.default_rng(1)
    x, mu = rng.normal(size=(2, 4, 2, 3)).astype("float32")
    # Starts as the fixed likelihood (variance 1/2).
    np.testing.assert_allclose(
        _numpy(likelihood.negative_log_likelihood(x, mu)),
        _numpy(Gaussian().negative_log_likelihood(x, mu)),
        rtol=1e-5,
    )
    shape = () if scale == "global" else (2, 3)
    sigma = rng.uniform(0.2, 2.0, size=shape).astype("float32")
    likelihood.raw_scale.assign(np.log(np.expm1(sigma - 1e-3)))
    expected = -norm.logpdf(x, mu, np.broadcast_to(sigma, x.shape)).sum((1, 2))
    got = _numpy(likelihood.negative_log_likelihood(x, mu))
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("mean, log_scale", [(0.5, -2.3), (0.0, -4.0), (0.97, -1.0)])
def test_discretized_logistic_gives_every_8_bit_value_a_mass_that_sums_to_one(
    mean, log_scale
):
    likelihood = DiscretizedLogistic(scale="global")
    likelihood.build((None, 1))
    likelihood.log_scale.assign(log_scale)
    levels = (np.arange(256, dtype="float32") / 255)[:, None]
    nll = _numpy(likelihood.negative_log_likelihood(levels, np.full_like(levels, mean)))
    assert np.all(nll >= 0)  # probabilities, not densities
    assert np.exp(-nll).sum() == pytest.approx(1.0, abs=1e-4)
    # The likeliest value: the mean's, or an edge that takes a tail.
    assert np.argmin(nll) in (round(mean * 255), 0, 255)
    assert np.argmin(nll[1:-1]) + 1 == round(mean * 255) or mean == 0.0


def test_discretized_logistic_refuses_what_is_not_8_bit():
    likelihood = DiscretizedLogistic()
    likelihood.validate_targets(np.array([0.0, 1.0, 17 / 255]))
    with pytest.raises(ValueError, match=r"8-bit pixels.*off that grid"):
        likelihood.validate_targets(np.array([0.5]))
    with pytest.raises(ValueError, match=r"Received values in \[-1, 1\]"):
        likelihood.validate_targets(np.array([-1.0, 1.0]))
    with pytest.raises(ValueError, match="scale"):
        LearnedGaussian("channel")


def test_the_8_bit_check_reads_the_data_in_chunks(monkeypatch):
    import tracemalloc

    from keras_vae.likelihoods import discretized_logistic

    monkeypatch.setattr(discretized_logistic, "CHECK_CHUNK", 4096)
    rng = np.random.default_rng(0)
    pixels = (rng.integers(0, 256, (1024, 28, 28, 1)) / 255).astype("float32")
    likelihood = DiscretizedLogistic()
    tracemalloc.start()
    try:
        likelihood.validate_targets(pixels)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The grid test on the whole array made 5 copies of it at once.
    assert peak < pixels.nbytes / 8
    # A value off the grid in the last image, in the last chunk, is found.
    pixels[-1, -1, -1, 0] = 0.5
    with pytest.raises(ValueError, match="off that grid"):
        likelihood.validate_targets(pixels)
    # One value, and a 0-d array, are checked too.
    likelihood.validate_targets(np.float32(1.0))
    with pytest.raises(ValueError, match="off that grid"):
        likelihood.validate_targets(np.float32(0.5))


def test_discretized_logistic_mixture_is_the_weighted_sum_of_its_components():
    rng = np.random.default_rng(0)
    mixture = DiscretizedLogisticMixture(num_components=3)
    assert mixture.parameter_shape((8, 8, 1)) == (8, 8, 1, 9)
    # Four values, each with its own weights, means and log scales.
    logits = rng.normal(size=(4, 3))
    means = rng.uniform(-0.1, 1.1, size=(4, 3))
    log_scales = rng.uniform(-5.0, -1.0, size=(4, 3))
    outputs = np.concatenate([logits, means, log_scales], -1)[None].astype("float32")
    levels = np.arange(256, dtype="float32") / 255
    mass = np.zeros((256, 4))
    for level in range(256):
        targets = np.full((1, 4), levels[level], "float32")
        for value in range(4):
            nll = mixture.negative_log_likelihood(
                targets[:, value : value + 1], outputs[:, value : value + 1]
            )
            mass[level, value] = np.exp(-float(_numpy(nll)[0]))
    np.testing.assert_allclose(mass.sum(0), 1.0, atol=1e-4)
    # Each component is DiscretizedLogistic's distribution.
    weights = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    single = DiscretizedLogistic(scale="global")
    single.build((None, 1))
    expected = np.zeros((256, 4))
    for value in range(4):
        for component in range(3):
            single.log_scale.assign(log_scales[value, component])
            nll = single.negative_log_likelihood(
                levels[:, None], np.full((256, 1), means[value, component], "float32")
            )
            expected[:, value] += weights[value, component] * np.exp(-_numpy(nll))
    np.testing.assert_allclose(mass, expected, rtol=1e-3, atol=1e-7)
    # Two modes, background and stroke: a mixture puts its mass on both, one
    # logistic between them.
    x = np.array([[0.0, 1.0]], "float32")
    both = np.array([[[0, 0, 0.0, 1.0, -6, -6]] * 2], "float32")
    between = np.array([[[0, 0.5, -1.0]] * 2], "float32")
    two_modes = _numpy(DiscretizedLogisticMixture(2).negative_log_likelihood(x, both))
    one_mode = _numpy(DiscretizedLogisticMixture(1).negative_log_likelihood(x, between))
    assert two_modes[0] < one_mode[0] - 1.0


def test_a_decoder_must_output_every_parameter_of_the_mixture(tmp_path):
    mixture = DiscretizedLogisticMixture(num_components=2)
    with pytest.raises(
        ValueError, match=r"shape \(8, 8, 1, 6\).*parameters_per_value=6"
    ):
        keras_vae.models.VAE(
            *keras_vae.architectures.mlp((8, 8, 1), latent_dim=2), likelihood=mixture
        ).build((None, 8, 8, 1))
    with pytest.raises(ValueError, match="num_components"):
        DiscretizedLogisticMixture(num_components=0)
    with pytest.raises(ValueError, match="parameters_per_value"):
        keras_vae.architectures.conv((8, 8, 1), 2, parameters_per_value=0)
    with pytest.raises(ValueError, match=r"logistic mixture.*off that grid"):
        mixture.validate_targets(np.array([0.5]))
    for architecture in (
        lambda: keras_vae.architectures.mlp((8, 8, 1), 2, parameters_per_value=6),
        lambda: keras_vae.architectures.conv((8, 8, 3), 2, parameters_per_value=6),
    ):
        _, decoder = architecture()
        assert decoder.output_shape[-1] == 6
    encoder, decoder = keras_vae.architectures.conv_conditional(
        (9, 9, 3), 2, 4, parameters_per_value=6
    )
    assert decoder.output_shape == (None, 9, 9, 3, 6)


@pytest.mark.parametrize(
    "name",
    ["gaussian_pixel", "logistic", "continuous_bernoulli", "logistic_mixture"],
)
def test_a_vae_learns_the_likelihoods_weights_and_saves_them(name, tmp_path):
    x = np.round(np.random.default_rng(0).uniform(size=(128, 8, 8)) * 255) / 255
    x = x.astype("float32")
    likelihood = keras_vae.likelihoods.get(name)
    model = keras_vae.models.VAE(
        *keras_vae.architectures.mlp(
            (8, 8),
            latent_dim=2,
            hidden_units=(16,),
            parameters_per_value=likelihood.parameters_per_value,
        ),
        likelihood=likelihood,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.build(x.shape)
    before = [_numpy(w) for w in getattr(model.likelihood, "weights", [])]
    history = model.fit(x, epochs=3, batch_size=32, verbose=0)
    assert history.history["elbo"][-1] < history.history["elbo"][0]
    after = [_numpy(w) for w in getattr(model.likelihood, "weights", [])]
    assert len(after) == (
        0 if name in ("continuous_bernoulli", "logistic_mixture") else 1
    )
    assert all(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.likelihood.name == name
    for a, b in zip(after, getattr(loaded.likelihood, "weights", []), strict=True):
        np.testing.assert_array_equal(a, _numpy(b))
