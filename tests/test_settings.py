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
    assert config["dequantize"] is False
    dequantized = settings.resolve(likelihood="continuous_bernoulli", dequantize=True)
    assert dequantized["preprocessing"] == "scale" and dequantized["dequantize"]


def test_the_conditional_model_defaults_to_the_studys_best_setting():
    config = settings.resolve(model="cvae")
    assert config["likelihood"] == "logistic" and config["preprocessing"] == "scale"
    assert config["prior"] == settings.PriorSpec("class", 10)
    assert config["condition_all_layers"] is True
    # Its samples come from a latent mixture of 30 per class, at 0.7.
    assert (config["latent_mixture"], config["sample_temperature"]) == (30, 0.7)
    original = settings.resolve(
        model="cvae",
        likelihood="gaussian",
        prior=settings.PriorSpec("normal"),
        condition_all_layers=False,
        latent_mixture=0,
        sample_temperature=1,
    )
    assert original["likelihood"] == "gaussian"
    assert original["preprocessing"] == "standardize"
    assert original["prior"] == settings.PriorSpec("normal")
    assert original["condition_all_layers"] is False
    assert (original["latent_mixture"], original["sample_temperature"]) == (0, 1.0)
    # The other models keep the original study's.
    for model in ("vae", "conv_vae"):
        config = settings.resolve(model=model)
        assert config["likelihood"] == "gaussian" and config["prior"] is None
        assert config["condition_all_layers"] is False
        assert (config["latent_mixture"], config["sample_temperature"]) == (0, 1.0)


@pytest.mark.parametrize(
    "arguments, default",
    [
        ({"free_bits": 0.5}, "prior class:10 is the default of `model='cvae'`"),
        ({"dequantize": True}, "likelihood logistic is the default of"),
        ({"preprocessing": "standardize"}, "`likelihood='gaussian'`"),
    ],
)
def test_a_conflict_with_a_model_default_says_it_is_the_default(arguments, default):
    with pytest.raises(ValueError, match=default):
        settings.resolve(model="cvae", **arguments)
    # Chosen by the user, the same conflict does not call it a default.
    chosen = {"prior": settings.PriorSpec("class"), "likelihood": "logistic"}
    with pytest.raises(ValueError) as error:
        settings.resolve(model="cvae", **chosen, **arguments)
    assert "default" not in str(error.value)


@pytest.mark.parametrize(
    "overrides, match",
    [
        ({"latent_dim": 0}, "latent_dim=0"),
        ({"beta": -2.0}, "beta=-2.0"),
        ({"beta": float("nan")}, "beta=nan"),
        ({"sample_temperature": -0.5}, "sample_temperature=-0.5"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"model": "gan"}, "Expected one of: vae, conv_vae, cvae"),
        ({"validation_fraction": 0.7}, "below 0.5"),
        ({"colour": "red"}, "Unknown settings"),
        (
            {"likelihood": "bernoulli", "preprocessing": "standardize"},
            "bernoulli likelihood needs",
        ),
        ({"condition_all_layers": True}, "needs model 'cvae', not 'vae'"),
        ({"model": "cvae", "condition_all_layers": "yes"}, "True or False"),
        ({"dequantize": 1}, "dequantize must be True or False"),
        (
            {"dequantize": True, "likelihood": "logistic_mixture"},
            "Received: likelihood logistic_mixture",
        ),
        (
            {"dequantize": True, "preprocessing": "binarize_static"},
            "Received: preprocessing binarize_static",
        ),
    ],
)
def test_invalid_settings(overrides, match):
    with pytest.raises(ValueError, match=match):
        settings.resolve(**overrides)


@pytest.mark.parametrize(
    "text, penalty, weight, extra",
    [
        ("tcvae", "TotalCorrelationPenalty", 5.0, {}),
        ("tcvae:4", "TotalCorrelationPenalty", 3.0, {}),
        ("dip-i:2", "DIPPenalty", 2.0, {"variant": "i"}),
        ("dip-ii", "DIPPenalty", 10.0, {"variant": "ii"}),
        ("factor:20", "FactorVAEPenalty", 20.0, {"seed": 7}),
    ],
)
def test_objectives_build_their_penalty(text, penalty, weight, extra):
    objective = settings.Objective.parse(text)
    assert str(objective) == text
    layer = objective.build(seed=7)
    assert type(layer).__name__ == penalty and layer.weight == weight
    assert {key: getattr(layer, key) for key in extra} == extra
    assert settings.Objective.parse("vae").build() is None
    config = settings.resolve(objective=objective)
    assert settings.record(config)["objective"] == text


@pytest.mark.parametrize(
    "text, model, prior, components",
    [
        ("mixture", "vae", "MixturePrior", 100),
        ("mixture:3", "conv_vae", "MixturePrior", 3),
        ("vamp", "vae", "VampPrior", 50),
        ("vamp:7", "vae", "VampPrior", 7),
        ("class", "cvae", "ClassPrior", 1),
        ("class:3", "cvae", "ClassPrior", 3),
    ],
)
def test_priors_build_their_layer(text, model, prior, components):
    spec = settings.PriorSpec.parse(text)
    assert str(spec) == text
    layer = spec.build(num_classes=4, seed=7)
    assert type(layer).__name__ == prior
    assert getattr(layer, "num_components", None) == components
    assert settings.PriorSpec.parse("normal").build() is None
    config = settings.resolve(model=model, prior=spec, train_samples=5)
    assert settings.record(config)["prior"] == text
    assert config["train_samples"] == 5


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"prior": "mixture"}, "keras_vae.settings.PriorSpec"),
        ({"prior": settings.PriorSpec("class")}, "needs model 'cvae', not 'vae'"),
        (
            {"prior": settings.PriorSpec("vamp"), "model": "cvae"},
            "needs model 'vae' or 'conv_vae'",
        ),
        ({"prior": settings.PriorSpec("vamp"), "free_bits": 1.0}, "free_bits"),
        ({"train_samples": 0}, "train_samples"),
        ({"train_samples": 4, "free_bits": 0.5}, "importance-weighted"),
    ],
)
def test_invalid_prior_settings(arguments, match):
    with pytest.raises(ValueError, match=match):
        settings.resolve(**arguments)
    for text, message in (
        ("gamma", "KIND one of normal, mixture, vamp, class"),
        ("normal:3", "only mixture, vamp and class take"),
        ("mixture:x", "Invalid prior 'mixture:x'"),
    ):
        with pytest.raises(ValueError, match=message):
            settings.PriorSpec.parse(text)


@pytest.mark.parametrize(
    "text, match",
    [
        ("tcvae:", "Invalid objective 'tcvae:'"),
        ("tcvae:1:2", "Invalid objective"),
        ("factor:-1", "must be a finite number >= 0"),
        ("factor:inf", "must be a finite number >= 0"),
        ("vae:1", "takes no weight"),
        ("infogan", "KIND one of"),
    ],
)
def test_invalid_objectives(text, match):
    with pytest.raises(ValueError, match=match):
        settings.Objective.parse(text)
    with pytest.raises(ValueError, match="keras_vae.settings.Objective"):
        settings.resolve(objective=text)
