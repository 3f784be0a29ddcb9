import keras
import numpy as np
import pytest
from scipy.special import logsumexp
from sklearn.datasets import load_digits

import keras_vae
from keras_vae.evaluation import importance_weighted_bound
from keras_vae.priors import ClassPrior, MixturePrior, VampPrior


def _digits(n=512):
    x = load_digits().images[:n].astype("float32") / 16.0
    return (x > 0.5).astype("float32"), load_digits().target[:n]


def _numpy(variable):
    return keras.ops.convert_to_numpy(variable)


def _vae(**kwargs):
    encoder, decoder = keras_vae.architectures.mlp(
        (8, 8), latent_dim=2, hidden_units=(32,)
    )
    model = keras_vae.models.VAE(
        encoder, decoder, likelihood="bernoulli", seed=0, **kwargs
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def _cvae(**kwargs):
    encoder, decoder = keras_vae.architectures.conv_conditional(
        (8, 8, 1), latent_dim=2, num_classes=10, filters=(4, 8)
    )
    model = keras_vae.models.ConditionalVAE(
        encoder, decoder, num_classes=10, likelihood="bernoulli", seed=0, **kwargs
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    return model


def _copy(model, **changes):
    """The same networks in a model built with other arguments."""
    config = {**model.get_config(), "prior": None, **changes}
    if config["prior"] is not None:
        config["prior"] = keras.saving.serialize_keras_object(config["prior"])
    twin = type(model).from_config(config)
    twin.compile(optimizer="adam")
    twin.build(model._build_shapes_dict["input_shape"])
    for part in ("encoder", "decoder"):
        getattr(twin, part).set_weights(getattr(model, part).get_weights())
    return twin


def test_mixture_log_prob_and_samples_follow_the_mixture():
    prior = MixturePrior(num_components=3, seed=0)
    model = _vae(prior=prior)
    model.build((None, 8, 8))
    weights = np.array([0.2, 0.3, 0.5], "float32")
    means = np.array([[-4.0, 0.0], [0.0, 4.0], [4.0, 0.0]], "float32")
    sigmas = np.array([[0.5, 1.0], [1.0, 0.5], [0.7, 0.7]], "float32")
    prior.logits.assign(np.log(weights))
    prior.means.assign(means)
    prior.raw_scales.assign(np.log(np.expm1(sigmas)))
    z = np.random.default_rng(1).normal(size=(7, 2)).astype("float32") * 3
    expected = logsumexp(
        np.log(weights)
        - 0.5 * (((z[:, None] - means) / sigmas) ** 2 + np.log(2 * np.pi)).sum(-1)
        - np.log(sigmas).sum(-1),
        axis=1,
    )
    got = keras.ops.convert_to_numpy(model.latent_log_prior(z))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    draws = keras.ops.convert_to_numpy(prior.sample(20000, model, seed=3))
    nearest = np.argmin(((draws[:, None] - means) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(np.bincount(nearest) / 20000, weights, atol=0.02)
    right = draws[nearest == 2]
    np.testing.assert_allclose(right.std(axis=0), sigmas[2], atol=0.05)
    # A temperature scales every component's spread, not the weights or means.
    cooled = keras.ops.convert_to_numpy(
        prior.sample(20000, model, seed=3, temperature=0.5)
    )
    nearest = np.argmin(((cooled[:, None] - means) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(np.bincount(nearest) / 20000, weights, atol=0.02)
    np.testing.assert_allclose(
        cooled[nearest == 2].std(axis=0), 0.5 * sigmas[2], atol=0.03
    )
    modes = keras.ops.convert_to_numpy(prior.sample(50, model, seed=3, temperature=0))
    assert {tuple(row) for row in modes} <= {tuple(row) for row in means}
    for bad in (-0.5, float("nan"), "hot"):
        with pytest.raises(ValueError, match="temperature"):
            prior.sample(2, model, temperature=bad)


def test_iwae_loss_is_the_importance_weighted_bound_and_tightens_with_k():
    x, _ = _digits()
    model = _vae()
    model.fit(x, epochs=3, batch_size=64, verbose=0)
    losses = {}
    for k in (1, 10, 100):
        twin = _copy(model, num_samples=k)
        losses[k] = twin.evaluate(x, batch_size=512, verbose=0, return_dict=True)
    # elbo stays the one-sample ELBO whatever k is.
    assert abs(losses[1]["elbo"] - losses[100]["elbo"]) < 0.3
    assert abs(losses[1]["loss"] - losses[1]["elbo"]) < 1e-3
    assert losses[1]["loss"] > losses[10]["loss"] + 0.2 > losses[100]["loss"] + 0.2
    bound = importance_weighted_bound(model, x, num_samples=100).mean()
    assert abs(losses[100]["loss"] - bound) < 0.15, (losses[100]["loss"], bound)


def test_a_standard_component_gives_the_standard_bound():
    """A one-component mixture at N(0, I) is the standard prior: the same
    importance-weighted bound, sample by sample, and the same sample draws'
    decoder."""
    x, _ = _digits(128)
    model = _vae()
    model.fit(x, epochs=1, batch_size=64, verbose=0)
    twin = _copy(model, prior=MixturePrior(num_components=1))
    twin.prior.means.assign(np.zeros((1, 2), "float32"))
    plain = importance_weighted_bound(model, x, num_samples=20, seed=4)
    mixed = importance_weighted_bound(twin, x, num_samples=20, seed=4)
    np.testing.assert_allclose(mixed, plain, rtol=1e-5, atol=1e-4)
    elbo = keras_vae.evaluation.negative_elbo(twin, x, num_samples=200)
    exact = keras_vae.evaluation.negative_elbo(model, x, num_samples=200)
    assert abs(elbo.mean() - exact.mean()) < 0.1


def test_class_prior_kl_is_closed_form_and_starts_at_the_standard_prior():
    x, y = _digits(256)
    model = _cvae()
    model.fit(x[..., None], y, epochs=1, batch_size=64, verbose=0)
    twin = _copy(model, prior=ClassPrior(10))
    data = (x[..., None], y)
    np.testing.assert_allclose(
        twin.evaluate(*data, verbose=0),
        _copy(model).evaluate(*data, verbose=0),
        rtol=1e-5,
    )
    twin.prior.means.assign(np.tile([[1.0, -2.0]], (10, 1)).astype("float32"))
    mean = np.zeros((3, 2), "float32")
    raw = np.full((3, 2), np.log(np.expm1(1.0)), "float32")  # sigma = 1
    kl = twin.latent_kl_divergence(mean, raw, labels=np.array([0, 1, 2]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(kl), 2.5, rtol=1e-5)


def test_a_class_mixture_draws_and_scores_each_class_from_its_own_components():
    model = _cvae(prior=ClassPrior(10, num_components=2, seed=0))
    model.build([(None, 8, 8, 1), (None,)])
    prior = model.prior
    assert not prior.closed_form_kl and ClassPrior(10).closed_form_kl
    rng = np.random.default_rng(0)
    means = rng.normal(size=(10, 2, 2)).astype("float32") * 10
    sigmas = rng.uniform(0.3, 1.0, (10, 2, 2)).astype("float32")
    weights = np.tile(np.array([[0.25, 0.75]], "float32"), (10, 1))
    prior.means.assign(means)
    prior.raw_scales.assign(np.log(np.expm1(sigmas)))
    prior.logits.assign(np.log(weights))
    labels = np.array([3, 7, 3])
    z = rng.normal(size=(3, 2)).astype("float32") * 5
    expected = logsumexp(
        np.log(weights[labels])
        - 0.5
        * (
            ((z[:, None] - means[labels]) / sigmas[labels]) ** 2 + np.log(2 * np.pi)
        ).sum(-1)
        - np.log(sigmas[labels]).sum(-1),
        axis=1,
    )
    got = _numpy(model.latent_log_prior(z, labels))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    draws = _numpy(prior.sample(4000, model, labels=np.full(4000, 7), seed=1))
    nearest = np.argmin(((draws[:, None] - means[7]) ** 2).sum(-1), axis=1)
    np.testing.assert_allclose(np.bincount(nearest) / 4000, weights[7], atol=0.03)
    # The KL term is the one-sample estimate at the posterior sample.
    mean, raw = np.zeros((3, 2), "float32"), np.zeros((3, 2), "float32")
    kl = _numpy(model.latent_kl_divergence(mean, raw, z, labels))
    sigma = np.log1p(np.exp(raw))
    log_q = -0.5 * (((z - mean) / sigma) ** 2 + np.log(2 * np.pi)).sum(-1)
    np.testing.assert_allclose(kl, log_q - np.log(sigma).sum(-1) - expected, rtol=1e-4)
    with pytest.raises(ValueError, match="pass `z`"):
        model.latent_kl_divergence(mean, raw, labels=labels)


def test_vamp_prior_is_the_posterior_at_its_pseudo_inputs():
    x, _ = _digits(64)
    prior = VampPrior(num_components=4, seed=0)
    model = _vae(prior=prior)
    model.build((None, 8, 8))
    prior.initialize(x[:4])
    mean, sigma = model.encode(x[:4])
    z = mean[1:2]
    densities = np.exp(
        -0.5 * (((z - mean) / sigma) ** 2 + np.log(2 * np.pi)).sum(-1)
        - np.log(sigma).sum(-1)
    )
    expected = np.log(densities.mean())
    got = float(keras.ops.convert_to_numpy(model.latent_log_prior(z))[0])
    np.testing.assert_allclose(got, expected, rtol=1e-4)


@pytest.mark.parametrize(
    "make",
    [
        lambda: _vae(num_samples=4),
        lambda: _vae(prior=MixturePrior(3, seed=0)),
        lambda: _vae(prior=VampPrior(5, seed=0), num_samples=3),
        lambda: _cvae(prior=ClassPrior(10), num_samples=2),
        lambda: _cvae(prior=ClassPrior(10, num_components=3, seed=0)),
    ],
    ids=["iwae", "mixture", "vamp-iwae", "class-prior", "class-mixture"],
)
def test_trains_saves_and_continues(make, tmp_path):
    x, y = _digits(256)
    data = (x,) if not make().conditional else (x[..., None], y)
    model = make()
    model.build([(None, 8, 8, 1), (None,)] if model.conditional else (None, 8, 8))
    before = [_numpy(w) for w in model.prior.weights] if model.prior else []
    history = model.fit(*data, epochs=2, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    if model.prior is not None:  # the prior learned
        after = [_numpy(w) for w in model.prior.weights]
        assert any(not np.allclose(a, b) for a, b in zip(before, after, strict=True))
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.num_samples == model.num_samples
    assert type(loaded.prior) is type(model.prior)
    for a, b in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(_numpy(a), _numpy(b))
    labels = {} if not model.conditional else {"labels": y[:5]}
    assert loaded.sample(5, seed=0, **labels).shape == (5,) + data[0].shape[1:]
    loaded.fit(*data, epochs=1, batch_size=64, verbose=0)


def test_bad_priors_and_sample_counts_are_refused():
    with pytest.raises(ValueError, match="num_samples"):
        _vae(num_samples=0)
    with pytest.raises(TypeError, match="keras_vae.priors.Prior"):
        _vae(prior="mixture")
    with pytest.raises(ValueError, match="needs a ConditionalVAE"):
        _vae(prior=ClassPrior(10))
    with pytest.raises(ValueError, match="needs an unconditional VAE"):
        _cvae(prior=VampPrior(4))
    with pytest.raises(ValueError, match=r"The prior has 3 classes.*ClassPrior\(10\)"):
        _cvae(prior=ClassPrior(3))
    with pytest.raises(ValueError, match="free_bits"):
        _vae(prior=MixturePrior(2), free_bits=0.5)
    with pytest.raises(ValueError, match="capacity"):
        _vae(num_samples=5, capacity=10.0)
    with pytest.raises(ValueError, match="num_components"):
        MixturePrior(0)
    used = MixturePrior(2)
    _vae(prior=used).build((None, 8, 8))
    encoder, decoder = keras_vae.architectures.mlp((8, 8), latent_dim=5)
    other = keras_vae.models.VAE(encoder, decoder, prior=used)
    with pytest.raises(ValueError, match=r"built for latent shape \(2,\)"):
        other.build((None, 8, 8))
    vamp = VampPrior(3)
    _vae(prior=vamp).build((None, 8, 8))
    encoder, decoder = keras_vae.architectures.mlp((4, 4), latent_dim=2)
    with pytest.raises(ValueError, match=r"built for input shape \(8, 8\)"):
        keras_vae.models.VAE(encoder, decoder, prior=vamp).build((None, 4, 4))
    with pytest.raises(ValueError, match=r"3 inputs of shape \(8, 8\)"):
        vamp.initialize(np.zeros((2, 8, 8)))
