import math

import keras
import numpy as np
import pytest

from keras_vae import likelihoods


def _to_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def test_gaussian_matches_normal_log_density():
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(3, 4, 5)).astype("float32")
    outputs = rng.normal(size=(3, 4, 5)).astype("float32")
    variance = 0.3
    nll = _to_numpy(
        likelihoods.Gaussian(variance).negative_log_likelihood(targets, outputs)
    )
    expected = np.sum(
        0.5 * (targets - outputs) ** 2 / variance
        + 0.5 * np.log(2 * math.pi * variance),
        axis=(1, 2),
    )
    np.testing.assert_allclose(nll, expected, rtol=1e-5)


def test_default_gaussian_is_sum_of_squared_errors_plus_constant():
    targets = np.array([[1.0, 2.0, 0.0]], "float32")
    outputs = np.array([[0.0, 0.0, 0.0]], "float32")
    nll = _to_numpy(likelihoods.Gaussian().negative_log_likelihood(targets, outputs))
    assert nll[0] == pytest.approx(5.0 + 3 * 0.5 * math.log(math.pi), rel=1e-6)


def test_bernoulli_matches_cross_entropy():
    targets = np.array([[0.0, 1.0, 0.25]], "float32")
    logits = np.array([[2.0, -1.0, 0.5]], "float32")
    p = 1 / (1 + np.exp(-logits))
    expected = -np.sum(targets * np.log(p) + (1 - targets) * np.log(1 - p))
    nll = _to_numpy(likelihoods.Bernoulli().negative_log_likelihood(targets, logits))
    assert nll[0] == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(
        _to_numpy(likelihoods.Bernoulli().mean(logits)), p, rtol=1e-6
    )


def test_bernoulli_stable_for_large_logits():
    nll = likelihoods.Bernoulli().negative_log_likelihood(
        np.array([[1.0, 0.0]], "float32"), np.array([[-200.0, 200.0]], "float32")
    )
    assert float(nll[0]) == pytest.approx(400.0)


def test_bernoulli_rejects_targets_outside_unit_interval():
    with pytest.raises(ValueError, match=r"\[0, 1\].*\[-0.5, 2.0\]"):
        likelihoods.Bernoulli().validate_targets(np.array([-0.5, 2.0]))
    likelihoods.Bernoulli().validate_targets(np.array([0.0, 1.0, 0.5]))


def test_gaussian_check_reads_the_largest_magnitude_of_any_dtype():
    import warnings

    gaussian = likelihoods.Gaussian()
    with pytest.warns(UserWarning, match="values up to 50, 71 standard deviations"):
        gaussian.validate_targets(np.array([-50.0, 1.0], "float32"))
    # Unsigned integers: no wrap-around from negating their minimum.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gaussian.validate_targets(np.array([5, 10], "uint8"))
    with pytest.raises(ValueError, match="values up to 250"):
        gaussian.validate_targets(np.array([5, 250], "uint8"))
    # A NaN is not taken for a small value (as before the extremes were read).
    with pytest.warns(UserWarning, match="values up to nan"):
        gaussian.validate_targets(np.array([1.0, np.nan], "float32"))


@pytest.mark.parametrize(
    "name, cls",
    [("gaussian", likelihoods.Gaussian), ("Bernoulli", likelihoods.Bernoulli)],
)
def test_get_by_name(name, cls):
    assert isinstance(likelihoods.get(name), cls)


def test_get_round_trips_serialized_instances():
    serialized = keras.saving.serialize_keras_object(likelihoods.Gaussian(0.1))
    restored = likelihoods.get(serialized)
    assert isinstance(restored, likelihoods.Gaussian)
    assert restored.variance == 0.1


def test_get_rejects_unknown_names():
    with pytest.raises(
        ValueError,
        match=r"\['bernoulli', 'continuous_bernoulli', 'gaussian'.*'laplace'",
    ):
        likelihoods.get("laplace")


@pytest.mark.parametrize("variance", [0.0, -1.0, float("nan"), "1"])
def test_gaussian_rejects_bad_variance(variance):
    with pytest.raises(ValueError, match="variance"):
        likelihoods.Gaussian(variance)
