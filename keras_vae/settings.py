"""Settings of one training run, validated without importing TensorFlow."""

from keras_vae import checks
from keras_vae.datasets.loading import DATASETS
from keras_vae.datasets.preprocessing import PREPROCESSINGS

MODELS = ("vae", "cvae")
# Mirrors keras_vae.parameterization and keras_vae.likelihoods, which import
# Keras; a test keeps them equal.
PARAMETERIZATIONS = ("softplus", "log_var")
LIKELIHOODS = ("gaussian", "bernoulli")

# The original study's settings.
DEFAULTS = {
    "model": "vae",
    "latent_dim": 20,
    "beta": 1.0,
    "epochs": 15,
    "batch_size": 64,
    "learning_rate": 1e-3,
    "parameterization": "softplus",
    "likelihood": "gaussian",
    "preprocessing": None,  # standardize for gaussian, binarize for bernoulli
    "dataset": None,  # mnist, or the bundled digits when mnist is unavailable
    "data_path": None,
    "seed": 0,
    "early_stopping": None,
    "validation_fraction": 0.1,
}


def resolve(**settings):
    """Returns the full settings of a run, with defaults filled in.

    Raises:
        ValueError: naming the first invalid setting, what it received and
            what it expects.
    """
    unknown = set(settings) - set(DEFAULTS)
    if unknown:
        raise ValueError(
            f"Unknown settings {sorted(unknown)}; expected {sorted(DEFAULTS)}."
        )
    config = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    _choice(config, "model", MODELS)
    _choice(config, "parameterization", PARAMETERIZATIONS)
    _choice(config, "likelihood", LIKELIHOODS)
    if config["dataset"] is not None and config["data_path"] is None:
        _choice(config, "dataset", DATASETS)
    for key in ("latent_dim", "epochs", "batch_size", "seed"):
        checks.positive_integer(key, config[key], minimum=0 if key == "seed" else 1)
    if config["early_stopping"] is not None:
        checks.positive_integer("early_stopping", config["early_stopping"])
    for key, inclusive in (
        ("beta", True),
        ("learning_rate", False),
        ("validation_fraction", False),
    ):
        config[key] = checks.finite_number(key, config[key], 0.0, inclusive)
    if config["validation_fraction"] >= 0.5:
        raise ValueError(
            "validation_fraction must be below 0.5. "
            f"Received: {config['validation_fraction']}"
        )
    if config["preprocessing"] is None:
        gaussian = config["likelihood"] == "gaussian"
        config["preprocessing"] = "standardize" if gaussian else "binarize"
    _choice(config, "preprocessing", PREPROCESSINGS)
    if config["likelihood"] == "bernoulli" and config["preprocessing"] == "standardize":
        raise ValueError(
            "The Bernoulli likelihood needs inputs in [0, 1]: use --preprocessing "
            "binarize, binarize_static or scale, not standardize."
        )
    return config


def _choice(config, key, choices):
    if config[key] not in choices:
        raise ValueError(
            f"Invalid {key} {config[key]!r}. Expected one of: {', '.join(choices)}."
        )
