"""Settings of one training run, validated without importing TensorFlow."""

from keras_vae import checks
from keras_vae.datasets.images import COLOR_MODES
from keras_vae.datasets.loading import DATASETS
from keras_vae.datasets.preprocessing import PREPROCESSINGS

MODELS = ("vae", "conv_vae", "cvae")
# Mirrors keras_vae.parameterization and keras_vae.likelihoods, which import
# Keras; a test keeps them equal.
PARAMETERIZATIONS = ("softplus", "log_var")
LIKELIHOODS = ("gaussian", "bernoulli")
# Data-parallel training (keras_vae.experiments.distribution): TensorFlow's
# MirroredStrategy and MultiWorkerMirroredStrategy, JAX's DataParallel.
DISTRIBUTIONS = ("mirrored", "multi-worker", "data-parallel")

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
    # A folder of image files only: resize to (height, width); "grayscale" or "rgb".
    "image_size": None,
    "color_mode": None,
    "seed": 0,
    # Deterministic kernels on every backend (GPUs, tf.data); see
    # keras_vae.experiments.training.enable_determinism.
    "deterministic": False,
    "distribute": None,  # one of DISTRIBUTIONS: data-parallel training
    "early_stopping": None,
    "validation_fraction": 0.1,
    # Against posterior collapse; all off in the original study.
    "beta_schedule": None,  # "warmup:EPOCHS" or "cyclical:EPOCHS[:CYCLES]"
    "free_bits": 0.0,
    "capacity": None,  # "C_MAX[:EPOCHS]"
    # cvae only: the class enters every convolution, not only the Dense layers.
    "condition_all_layers": False,
    # Components of the Gaussian mixture fitted to the training codes after
    # training, to sample from instead of the prior; 0: the prior.
    "latent_mixture": 0,
}

# Importance samples of `keras-vae evaluate`'s and `sweep`'s bound on -log p(x):
# under a minute for the MLP VAE on 10,000 test images on 2 CPU cores.
DEFAULT_IW_SAMPLES = 100

BETA_SCHEDULE_FORMS = "warmup:EPOCHS or cyclical:EPOCHS_PER_CYCLE[:CYCLES]"
CAPACITY_FORM = "C_MAX[:EPOCHS] (nats, e.g. 25:10)"


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
    for key in ("latent_dim", "epochs", "batch_size", "seed", "latent_mixture"):
        minimum = 0 if key in ("seed", "latent_mixture") else 1
        checks.positive_integer(key, config[key], minimum=minimum)
    if config["image_size"] is not None:
        size = config["image_size"]
        if not isinstance(size, (list, tuple)) or len(size) != 2:
            raise ValueError(f"image_size must be (height, width). Received: {size!r}")
        config["image_size"] = [checks.positive_integer("image_size", d) for d in size]
    if config["distribute"] is not None:
        _choice(config, "distribute", DISTRIBUTIONS)
    if config["color_mode"] is not None:
        _choice(config, "color_mode", COLOR_MODES)
    if config["early_stopping"] is not None:
        checks.positive_integer("early_stopping", config["early_stopping"])
    if config["beta_schedule"] is not None:
        parse_beta_schedule(config["beta_schedule"])
    if config["capacity"] is not None:
        parse_capacity(config["capacity"])
    for key, inclusive in (
        ("beta", True),
        ("free_bits", True),
        ("learning_rate", False),
        ("validation_fraction", False),
    ):
        config[key] = checks.finite_number(key, config[key], 0.0, inclusive)
    if config["validation_fraction"] >= 0.5:
        raise ValueError(
            "validation_fraction must be below 0.5. "
            f"Received: {config['validation_fraction']}"
        )
    for key in ("condition_all_layers", "deterministic"):
        if not isinstance(config[key], bool):
            raise ValueError(f"{key} must be True or False. Received: {config[key]!r}")
    if config["condition_all_layers"] and config["model"] != "cvae":
        raise ValueError(
            "condition_all_layers joins the class to every layer of the "
            f"conditional model: it needs model 'cvae', not {config['model']!r}."
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


def parse_beta_schedule(spec):
    """Reads a beta schedule as the command line writes it.

    Args:
        spec: String, `"warmup:EPOCHS"` (beta rises linearly from 0 to its
            value over EPOCHS epochs) or `"cyclical:EPOCHS_PER_CYCLE[:CYCLES]"`
            (Fu et al. 2019: rise over half of each cycle, then hold).

    Returns:
        Dict with `kind`, `epochs` and, for cyclical, `cycles` (or `None`).

    Raises:
        ValueError: naming the received spec and the accepted forms.
    """
    kind, *numbers = str(spec).split(":")
    counts = {"warmup": (1,), "cyclical": (1, 2)}
    try:
        if kind not in counts or len(numbers) not in counts[kind]:
            raise ValueError
        values = [int(number) for number in numbers]
        if min(values) < 1:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"Invalid beta_schedule {spec!r}. Expected {BETA_SCHEDULE_FORMS} with "
            "positive integers, e.g. warmup:5 or cyclical:4:3."
        ) from None
    schedule = {"kind": kind, "epochs": values[0]}
    if kind == "cyclical":
        schedule["cycles"] = values[1] if len(values) > 1 else None
    return schedule


def parse_capacity(spec):
    """Reads a capacity target as the command line writes it.

    Args:
        spec: String, `"C_MAX"` or `"C_MAX:EPOCHS"`: the KL target rises
            linearly from 0 to C_MAX nats over EPOCHS epochs (default: all).

    Returns:
        Dict with `maximum` (float) and `epochs` (int or `None`).

    Raises:
        ValueError: naming the received spec and the accepted form.
    """
    maximum, *rest = str(spec).split(":")
    try:
        if len(rest) > 1:
            raise ValueError
        value = float(maximum)
        epochs = int(rest[0]) if rest else None
        if not 0 <= value < float("inf") or (epochs is not None and epochs < 1):
            raise ValueError
    except ValueError:
        raise ValueError(
            f"Invalid capacity {spec!r}. Expected {CAPACITY_FORM}."
        ) from None
    return {"maximum": value, "epochs": epochs}
