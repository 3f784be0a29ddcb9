import json

import keras
import keras_tuner
import pytest

import tuning


def _dense_units(network):
    return [layer.units for layer in network.layers if hasattr(layer, "units")]


def test_build_with_default_hyperparameters_gives_documented_defaults():
    hypermodel = tuning.VAEHyperModel((8, 8, 1))
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert model.encoder.output_shape == [(None, 20), (None, 20)]
    assert float(model.beta) == 1.0
    learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    assert learning_rate == pytest.approx(1e-3)
    assert _dense_units(model.encoder) == [500, 125, 20, 20]
    assert hp.values == {
        "latent_dim": 20,
        "beta_log10": 0.0,
        "learning_rate": 1e-3,
        "hidden_units": 500,
    }
    assert model.prior is None and model.num_samples == 1


def test_priors_and_train_samples_are_searched():
    hypermodel = tuning.VAEHyperModel(
        (8, 8, 1), prior=["normal", "mixture:3", "vamp:4"], train_samples=[1, 5]
    )
    kinds = set()
    for prior in ("normal", "mixture:3", "vamp:4"):
        hp = keras_tuner.HyperParameters()
        hp.Choice("prior", ["normal", "mixture:3", "vamp:4"], default=prior)
        hp.Choice("train_samples", [1, 5], default=5)
        model = hypermodel.build(hp)
        kinds.add(type(model.prior).__name__)
        assert model.num_samples == 5
    assert kinds == {"NoneType", "MixturePrior", "VampPrior"}
    assert json.loads(json.dumps(hypermodel.get_config()))["prior"][1] == "mixture:3"
    conditional = tuning.ConditionalVAEHyperModel((8, 8, 1), 3, prior="class")
    model = conditional.build(keras_tuner.HyperParameters())
    assert model.prior.num_classes == 3


def test_ranges_are_configurable_without_subclassing():
    hypermodel = tuning.VAEHyperModel(
        (8, 8, 1),
        latent_dim=(4, 8),
        beta=(0.5, 50.0),
        hidden_units=[32, 64],
        learning_rate=(1e-4, 1e-2),
    )
    hp = keras_tuner.HyperParameters()
    hypermodel.build(hp)
    space = {p.name: p for p in hp.space}
    assert (space["latent_dim"].min_value, space["latent_dim"].max_value) == (4, 8)
    assert space["beta"].sampling == "log" and space["beta"].max_value == 50.0
    assert space["hidden_units"].values == [32, 64]
    assert space["learning_rate"].sampling == "log"
    assert hp.values["latent_dim"] == 8  # the default 20, clipped into the range


@pytest.mark.parametrize("exponent, beta", [(-2.5, 0.0), (-2.0, 0.01), (1.0, 10.0)])
def test_zero_beta_is_reachable_on_the_log_scale(exponent, beta):
    hypermodel = tuning.VAEHyperModel((8, 8, 1), latent_dim=2, beta=(0.0, 200.0))
    hp = keras_tuner.HyperParameters()
    hp.Float("beta_log10", -3.0, 2.30103)
    hp.values["beta_log10"] = exponent
    assert float(hypermodel.build(hp).beta) == pytest.approx(beta)


def test_fixed_values_are_not_searched():
    hypermodel = tuning.VAEHyperModel((8, 8, 1), latent_dim=3, beta=4.0)
    assert not hypermodel.searches_beta
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert model.encoder.output_shape[0] == (None, 3) and float(model.beta) == 4.0


def test_conditional_hypermodel():
    hypermodel = tuning.ConditionalVAEHyperModel(
        (8, 8, 1), num_classes=10, filters=(8, 32), latent_dim=2
    )
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    assert model.num_classes == 10 and hp.values["filters"] == 32
    assert "hidden_units" not in hp.values
    assert json.loads(json.dumps(hypermodel.get_config()))["filters"] == [8, 32]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"latent_dim": (8, 4)}, "empty or inverted"),
        ({"latent_dim": (4, 4)}, "empty or inverted"),
        ({"latent_dim": (0, 4)}, "latent_dim"),
        ({"beta": (-1.0, 10.0)}, r"beta.*>= 0"),
        ({"beta": []}, "empty"),
        ({"beta": [1.0, 1.0]}, "repeat"),
        ({"beta": (1.0, 2.0, 3.0)}, r"\(min, max\)"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"likelihood": "poisson"}, "likelihood"),
        ({"parameterization": "exp"}, "parameterization"),
        ({"input_shape": (8, 0)}, "input_shape"),
        ({"prior": "class"}, "the class prior needs a ConditionalVAE"),
        ({"prior": ["mixture", "mixture"]}, "repeat"),
        ({"prior": "gauss"}, "KIND one of normal"),
        ({"train_samples": 0}, "train_samples"),
    ],
)
def test_bad_settings_are_rejected_in_init(kwargs, match):
    arguments = {"input_shape": (8, 8, 1), **kwargs}
    with pytest.raises(ValueError, match=match):
        tuning.VAEHyperModel(**arguments)


def test_conditional_rejects_bad_settings():
    with pytest.raises(ValueError, match="num_classes"):
        tuning.ConditionalVAEHyperModel((8, 8, 1), num_classes=0)
    with pytest.raises(ValueError, match="height, width, channels"):
        tuning.ConditionalVAEHyperModel((64,), num_classes=3)
    with pytest.raises(ValueError, match="filters"):
        tuning.ConditionalVAEHyperModel((8, 8, 1), num_classes=3, hidden_units=8)
    with pytest.raises(ValueError, match="the VampPrior an unconditional VAE"):
        tuning.ConditionalVAEHyperModel((8, 8, 1), num_classes=3, prior="vamp")
