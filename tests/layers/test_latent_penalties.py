import keras
import numpy as np
import pytest
from scipy.special import logsumexp

import keras_vae
from keras_vae.layers import DIPPenalty, FactorVAEPenalty, TotalCorrelationPenalty
from tests.helpers import gradients, run_layer_test


def _codes(seed=0, batch=6, latent=3, spread=1.0):
    rng = np.random.default_rng(seed)
    mean = rng.normal(size=(batch, latent)).astype("float32") * spread
    sigma = rng.uniform(0.3, 1.2, size=(batch, latent)).astype("float32")
    z = (mean + sigma * rng.normal(size=mean.shape)).astype("float32")
    return mean, sigma, z


def _terms(penalty, mean, sigma, z):
    terms = penalty.penalty_terms(mean, sigma, z)
    return {name: float(keras.ops.convert_to_numpy(v)) for name, v in terms.items()}


def _log_raw_scale(sigma):
    return (2.0 * np.log(sigma)).astype("float32")


@pytest.mark.parametrize(
    "layer_cls, kwargs",
    [
        (TotalCorrelationPenalty, {"weight": 2.0, "dataset_size": 100}),
        (DIPPenalty, {"weight": 3.0, "variant": "i", "diagonal_weight": 1.5}),
        (DIPPenalty, {"weight": 3.0, "parameterization": "log_var"}),
    ],
)
def test_layer_contract(layer_cls, kwargs):
    mean, sigma, z = _codes()
    run_layer_test(
        layer_cls,
        kwargs,
        [mean, _log_raw_scale(sigma), z],
        expected_output_shape=((6, 3), (6, 3), (6, 3)),
        expected_num_losses=1,
    )


def _total_correlation_by_the_equations(mean, sigma, z, dataset_size=None):
    # log q(z_i | x_j) per dimension, Gaussian densities written out.
    diff = (z[:, None, :] - mean[None, :, :]) / sigma[None, :, :]
    log_q = -0.5 * (np.log(2 * np.pi) + 2 * np.log(sigma[None]) + diff**2)
    m, d = z.shape
    n = m if dataset_size is None else dataset_size * m
    # Minibatch estimates: log q(z_i) and sum_j log q(z_ij), each with its
    # log-normalizer.
    log_qz = logsumexp(log_q.sum(axis=2), axis=1) - np.log(m)
    log_marginals = (logsumexp(log_q, axis=1) - np.log(m)).sum(axis=1)
    constant = (d - 1) * np.log(n / m)
    return float(np.mean(log_qz - log_marginals) + constant)


@pytest.mark.parametrize("dataset_size", [None, 1000])
def test_total_correlation_is_the_minibatch_estimate(dataset_size):
    mean, sigma, z = _codes(seed=1, batch=8, latent=4)
    penalty = TotalCorrelationPenalty(weight=3.0, dataset_size=dataset_size)
    terms = _terms(penalty, mean, sigma, z)
    expected = _total_correlation_by_the_equations(
        mean, sigma, z, None if dataset_size is None else dataset_size
    )
    # With N, minibatch weighted sampling: log(N M) subtracted per estimate.
    if dataset_size is not None:
        expected = _total_correlation_by_the_equations(mean, sigma, z) + 3 * np.log(
            dataset_size
        )
    assert terms["total_correlation"] == pytest.approx(expected, abs=1e-4)
    assert terms["penalty"] == pytest.approx(3.0 * expected, abs=3e-4)


def test_total_correlation_of_independent_and_of_dependent_codes():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(64, 3)).astype("float32")
    # Collapsed posteriors: every q(z|x) is the prior, q(z) factorises.
    collapsed = _terms(TotalCorrelationPenalty(), np.zeros_like(z), np.ones_like(z), z)[
        "total_correlation"
    ]
    assert collapsed == pytest.approx(0.0, abs=1e-4)
    # Sharp posteriors on a line: the three dimensions repeat one variable
    # that takes 64 values, whose total correlation is 2 log 64.
    line = np.repeat(rng.normal(size=(64, 1)), 3, axis=1).astype("float32")
    sharp = np.full_like(line, 1e-4)
    dependent = _terms(TotalCorrelationPenalty(), line, sharp, line)
    assert dependent["total_correlation"] == pytest.approx(2 * np.log(64), abs=1e-3)


def _covariance_penalty_by_the_equations(mean, sigma, variant, lambda_od, lambda_d):
    centred = mean - mean.mean(axis=0)
    covariance = centred.T @ centred / len(mean)
    if variant == "ii":
        covariance = covariance + np.diag((sigma**2).mean(axis=0))
    off = covariance - np.diag(np.diag(covariance))
    return (
        lambda_od * (off**2).sum() + lambda_d * ((np.diag(covariance) - 1) ** 2).sum()
    )


@pytest.mark.parametrize("variant, diagonal_factor", [("i", 10.0), ("ii", 1.0)])
def test_dip_penalty_is_the_paper_equation(variant, diagonal_factor):
    mean, sigma, z = _codes(seed=2, batch=16, latent=4, spread=2.0)
    terms = _terms(DIPPenalty(weight=2.0, variant=variant), mean, sigma, z)
    expected = _covariance_penalty_by_the_equations(
        mean.astype("float64"),
        sigma.astype("float64"),
        variant,
        2.0,
        2.0 * diagonal_factor,
    )
    assert terms["penalty"] == pytest.approx(expected, rel=1e-5)
    # A standard normal aggregate posterior has nothing to penalise.
    rng = np.random.default_rng(3)
    white = rng.normal(size=(4096, 2))
    white = (
        (white - white.mean(0))
        @ np.linalg.inv(np.linalg.cholesky(np.cov(white.T, bias=True))).T
    ).astype("float32")
    if variant == "i":
        terms = _terms(DIPPenalty(variant="i"), white, np.ones_like(white), white)
    else:
        scaled = (white * np.sqrt(0.5)).astype("float32")
        terms = _terms(
            DIPPenalty(variant="ii"), scaled, np.full_like(scaled, np.sqrt(0.5)), scaled
        )
    assert terms["penalty"] == pytest.approx(0.0, abs=1e-4)


def test_penalties_refuse_bad_arguments():
    with pytest.raises(ValueError, match="weight"):
        TotalCorrelationPenalty(weight=-1.0)
    with pytest.raises(ValueError, match="dataset_size"):
        TotalCorrelationPenalty(dataset_size=0)
    with pytest.raises(ValueError, match="variant"):
        DIPPenalty(variant="iii")
    with pytest.raises(ValueError, match="diagonal_weight"):
        DIPPenalty(diagonal_weight=float("nan"))
    with pytest.raises(TypeError, match="discriminator"):
        FactorVAEPenalty(discriminator="mlp")
    with pytest.raises(ValueError, match="units"):
        FactorVAEPenalty(units=0)
    with pytest.raises(TypeError, match="penalty"):
        keras_vae.models.VAE(
            *keras_vae.architectures.mlp((4,), 2, hidden_units=(8,)), penalty="tcvae"
        )
    wrong = FactorVAEPenalty(discriminator=keras.layers.Dense(2))
    with pytest.raises(ValueError, match="one logit"):
        wrong.build([(None, 3)] * 3)


def test_factor_penalty_gradients_stay_on_their_side():
    mean, sigma, z = _codes(seed=4, batch=8, latent=3)
    penalty = FactorVAEPenalty(weight=5.0, units=16, seed=0)
    penalty.build([z.shape] * 3)

    def term(name):
        # (+ 0: TensorFlow's gradient helper hands in a variable.)
        return lambda codes: penalty.penalty_terms(mean, sigma, codes + 0.0)[name]

    assert np.abs(gradients(term("penalty"), [z])[0]).max() > 0
    # The discriminator's loss does not move the codes.
    assert np.abs(gradients(term("discriminator_loss"), [z])[0]).max() == 0


def _factor_vae(weight, x):
    keras.utils.set_random_seed(0)
    encoder, decoder = keras_vae.architectures.mlp(x.shape[1:], 3, hidden_units=(16,))
    penalty = FactorVAEPenalty(weight=weight, units=8, seed=0)
    model = keras_vae.models.VAE(encoder, decoder, penalty=penalty, seed=0)
    model.compile(optimizer="adam", steps_per_execution=1)
    model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    return model


def test_factor_vae_trains_its_discriminator_with_its_own_optimizer(tmp_path):
    # One step: after it the encoders differ, and so do the codes.
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    model = _factor_vae(0.0, x)
    penalty = model.penalty
    # The model's optimizer does not see the discriminator; the penalty's does.
    discriminator = {id(v) for v in penalty.discriminator.trainable_variables}
    assert not discriminator & {id(v) for v in model.trainable_variables}
    assert discriminator <= {id(v) for v in model.non_trainable_variables}
    assert int(penalty.optimizer.iterations) == int(model.optimizer.iterations) == 1
    # gamma changes the encoder's step, never the discriminator's.
    heavy = _factor_vae(1000.0, x)
    for light_weight, heavy_weight in zip(
        penalty.discriminator.weights, heavy.penalty.discriminator.weights, strict=True
    ):
        np.testing.assert_allclose(light_weight, heavy_weight, rtol=1e-6, atol=1e-7)
    assert not np.allclose(
        model.encoder.weights[0].numpy(), heavy.encoder.weights[0].numpy()
    )
    # The second optimizer's state is saved with the model and training resumes.
    path = tmp_path / "factor.keras"
    heavy.save(path)
    loaded = keras.models.load_model(path)
    assert int(loaded.penalty.optimizer.iterations) == 1
    for saved, restored in zip(
        heavy.penalty.optimizer.variables,
        loaded.penalty.optimizer.variables,
        strict=True,
    ):
        np.testing.assert_array_equal(saved, restored)
    history = loaded.fit(np.concatenate([x, x]), epochs=1, batch_size=16, verbose=0)
    assert int(loaded.penalty.optimizer.iterations) == 3
    assert {"total_correlation", "discriminator_loss", "discriminator_accuracy"} <= set(
        history.history
    )


def test_factor_vae_refuses_a_batch_of_one():
    x = np.random.default_rng(0).normal(size=(33, 6)).astype("float32")
    encoder, decoder = keras_vae.architectures.mlp(x.shape[1:], 3, hidden_units=(16,))
    model = keras_vae.models.VAE(encoder, decoder, penalty=FactorVAEPenalty(units=8))
    model.compile(optimizer="adam")
    for batch_size in (1, 16):
        with pytest.raises(ValueError, match="batch of one"):
            model.fit(x, epochs=1, batch_size=batch_size, verbose=0)
    assert int(model.optimizer.iterations) == 0
    mean, sigma, z = _codes(batch=1)
    with pytest.raises(ValueError, match="batch of one"):
        model.penalty.penalty_terms(mean, sigma, z)


def test_a_model_of_ones_own_trains_with_a_penalty_layer():
    # The functional API, one optimizer: the layer adds its losses.
    x = np.random.default_rng(0).normal(size=(64, 6)).astype("float32")
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    mean, raw_scale = keras.layers.Dense(3)(hidden), keras.layers.Dense(3)(hidden)
    z = keras_vae.layers.Sampling(seed=0)([mean, raw_scale])
    penalty = FactorVAEPenalty(weight=2.0, units=8, seed=0)
    _, _, z = penalty([mean, raw_scale, z])
    outputs = keras.layers.Dense(6)(z)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    before = [w.numpy().copy() for w in penalty.discriminator.weights]
    history = model.fit(x, x, epochs=2, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert any(
        not np.allclose(w.numpy(), b)
        for w, b in zip(penalty.discriminator.weights, before, strict=True)
    )


@pytest.mark.parametrize(
    "penalty",
    [TotalCorrelationPenalty(weight=4.0), DIPPenalty(weight=2.0, variant="ii")],
    ids=["tc", "dip"],
)
def test_vae_adds_the_penalty_to_its_loss_and_reports_its_terms(penalty):
    x = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
    encoder, decoder = keras_vae.architectures.mlp(x.shape[1:], 3, hidden_units=(16,))
    model = keras_vae.models.VAE(encoder, decoder, penalty=penalty, seed=0)
    model.compile(optimizer="adam")
    history = model.fit(x, epochs=1, batch_size=16, verbose=0)
    assert set(penalty.term_names) <= set(history.history)
    results = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    mean, raw_scale = (keras.ops.convert_to_numpy(t) for t in model.encoder_outputs(x))
    assert np.isfinite(mean).all() and np.isfinite(raw_scale).all()
    if isinstance(penalty, TotalCorrelationPenalty):
        expected = 4.0 * results["total_correlation"]
    else:
        expected = (
            2.0 * results["covariance_off_diagonal"]
            + 2.0 * results["covariance_diagonal"]
        )
    assert results["loss"] - results["elbo"] == pytest.approx(
        expected, rel=1e-4, abs=1e-3
    )
