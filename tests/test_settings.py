import pytest

from keras_vae import likelihoods, parameterization, settings


def test_choices_mirror_the_library():
    assert settings.PARAMETERIZATIONS == parameterization.PARAMETERIZATIONS
    for name in settings.LIKELIHOODS:
        assert likelihoods.get(name).name == name


def test_defaults_follow_the_original_study():
    config = settings.resolve()
    assert (config["model"], config["batch_size"], config["epochs"]) == ("vae", 64, 15)
    assert config["learning_rate"] == 1e-3 and config["likelihood"] == "gaussian"
    assert config["preprocessing"] == "standardize"
    assert settings.resolve(likelihood="bernoulli")["preprocessing"] == "binarize"


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"latent_dim": 0}, "latent_dim=0"),
        ({"beta": -2.0}, "beta=-2.0"),
        ({"beta": float("nan")}, "beta=nan"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"model": "gan"}, "Expected one of: vae, conv_vae, cvae"),
        ({"validation_fraction": 0.7}, "below 0.5"),
        ({"colour": "red"}, "Unknown settings"),
        ({"likelihood": "bernoulli", "preprocessing": "standardize"}, "Bernoulli"),
        ({"condition_all_layers": True}, "needs model 'cvae', not 'vae'"),
        ({"model": "cvae", "condition_all_layers": "yes"}, "True or False"),
    ],
)
def test_invalid_settings(overrides, match):
    with pytest.raises(ValueError, match=match):
        settings.resolve(**overrides)
