"""Settings of one training run, validated without importing TensorFlow."""

import dataclasses

from keras_vae import checks, defaults
from keras_vae.datasets.images import COLOR_MODES
from keras_vae.datasets.loading import DATASETS
from keras_vae.datasets.preprocessing import PREPROCESSINGS

MODELS = ("vae", "conv_vae", "cvae")
# Mirrors keras_vae.parameterization and keras_vae.likelihoods, which import
# Keras; a test keeps them equal.
PARAMETERIZATIONS = ("softplus", "log_var")
LIKELIHOODS = (
    "gaussian",
    "bernoulli",
    "continuous_bernoulli",
    "gaussian_global",
    "gaussian_pixel",
    "logistic",
    "logistic_mixture",
)
# The likelihoods of values in [0, 1], and those of 8-bit values.
UNIT_LIKELIHOODS = (
    "bernoulli",
    "continuous_bernoulli",
    "logistic",
    "logistic_mixture",
)
# The likelihoods of discrete values: nothing to dequantize.
DISCRETE_LIKELIHOODS = ("bernoulli", "logistic", "logistic_mixture")
# Data-parallel training (keras_vae.experiments.distribution): TensorFlow's
# MirroredStrategy and MultiWorkerMirroredStrategy, JAX's DataParallel.
DISTRIBUTIONS = ("mirrored", "multi-worker", "data-parallel")

# The settings of one run: the original study's, read from keras_vae.defaults.
DEFAULTS = {
    "model": "vae",
    "latent_dim": defaults.LATENT_DIM,
    "beta": defaults.BETA,
    "epochs": defaults.EPOCHS,
    "batch_size": defaults.BATCH_SIZE,
    "learning_rate": defaults.LEARNING_RATE,
    "parameterization": defaults.PARAMETERIZATION,
    "likelihood": defaults.LIKELIHOOD,
    "preprocessing": None,  # standardize for gaussian, binarize for bernoulli
    "dataset": None,  # mnist, or the bundled digits when mnist is unavailable
    "data_path": None,
    # A folder of image files only: resize to (height, width); "grayscale" or "rgb".
    "image_size": None,
    "color_mode": None,
    "seed": defaults.SEED,
    # Deterministic kernels on every backend (GPUs, tf.data); see
    # keras_vae.experiments.training.enable_determinism.
    "deterministic": False,
    "distribute": None,  # one of DISTRIBUTIONS: data-parallel training
    "early_stopping": None,
    "validation_fraction": defaults.VALIDATION_FRACTION,
    # Train on N training images drawn by the seed (quick runs on a large set).
    "max_examples": None,
    # Against posterior collapse; all off in the original study.
    "beta_schedule": None,  # a BetaSchedule
    "free_bits": defaults.FREE_BITS,
    "capacity": None,  # a Capacity
    # A disentangling objective's penalty on the codes; None: the plain VAE.
    "objective": None,  # an Objective
    # The prior p(z); None: N(0, I).
    "prior": None,  # a PriorSpec
    # Posterior samples of the training objective: 1 the ELBO, k > 1 the
    # importance-weighted bound (IWAE).
    "train_samples": 1,
    # Spread each 8-bit level over its bin at every training step (uniform
    # dequantization), for a density likelihood's true bits per pixel.
    "dequantize": False,
    # cvae only: the class enters every convolution, not only the Dense layers.
    "condition_all_layers": False,
    # Components of the Gaussian mixture fitted to the training codes after
    # training, to sample from instead of the prior; 0: the prior.
    "latent_mixture": 0,
    # The temperature the model's samples are drawn at by default (kept in
    # model.keras): the spread of z around its components' means.
    "sample_temperature": 1.0,
}


@dataclasses.dataclass(frozen=True)
class BetaSchedule:
    """A beta schedule counted in epochs, as the command line writes it.

    `"warmup:EPOCHS"`: beta rises linearly from 0 to its value over EPOCHS
    epochs (Bowman et al. 2016). `"cyclical:EPOCHS_PER_CYCLE[:CYCLES]"`: it
    rises over half of each cycle, then holds (Fu et al. 2019). `build` turns
    it into the `keras_vae.schedules` object, counted in training steps, that
    the model evaluates inside every step.

    Args:
        kind: String, `"warmup"` or `"cyclical"`.
        epochs: Integer >= 1, epochs of the rise (warmup) or of a cycle.
        cycles: Integer >= 1 or `None` (cyclical only): how many cycles before
            beta stays at its value; `None` cycles for ever.
    """

    kind: str
    epochs: int
    cycles: int = None

    FORMS = "warmup:EPOCHS or cyclical:EPOCHS_PER_CYCLE[:CYCLES]"

    def __post_init__(self):
        valid = (
            self.kind in ("warmup", "cyclical")
            and _is_count(self.epochs)
            and (self.cycles is None or _is_count(self.cycles))
            and not (self.kind == "warmup" and self.cycles is not None)
        )
        if not valid:
            raise ValueError(
                f"Invalid beta schedule {self}. Expected {self.FORMS} with positive "
                "integers, e.g. warmup:5 or cyclical:4:3."
            )

    @classmethod
    def parse(cls, text):
        """Reads `"warmup:5"` or `"cyclical:4[:3]"`; raises `ValueError`."""
        kind, *numbers = str(text).split(":")
        counts = {"warmup": (1,), "cyclical": (1, 2)}
        try:
            if kind not in counts or len(numbers) not in counts[kind]:
                raise ValueError
            values = [int(number) for number in numbers]
            return cls(kind, *values)
        except ValueError:
            raise ValueError(
                f"Invalid beta_schedule {text!r}. Expected {cls.FORMS} with "
                "positive integers, e.g. warmup:5 or cyclical:4:3."
            ) from None

    def __str__(self):
        parts = [self.kind, str(self.epochs)]
        if self.cycles is not None:
            parts.append(str(self.cycles))
        return ":".join(parts)

    def build(self, maximum, steps_per_epoch):
        """The schedule in training steps, rising to `maximum`."""
        from keras_vae import schedules

        steps = self.epochs * steps_per_epoch
        if self.kind == "warmup":
            return schedules.LinearWarmup(steps, maximum=maximum)
        return schedules.Cyclical(steps, maximum=maximum, cycles=self.cycles)


@dataclasses.dataclass(frozen=True)
class Capacity:
    """The capacity objective's target, as the command line writes it.

    `"C_MAX[:EPOCHS]"`: the KL target C rises linearly from 0 to C_MAX nats
    over EPOCHS epochs (all of them by default), and the KL term becomes
    beta * |KL - C| (Burgess et al. 2018).

    Args:
        maximum: Float >= 0, C_MAX in nats.
        epochs: Integer >= 1 or `None` (every epoch of the run).
    """

    maximum: float
    epochs: int = None

    FORM = "C_MAX[:EPOCHS] (nats, e.g. 25:10)"

    def __post_init__(self):
        valid = (
            isinstance(self.maximum, (int, float))
            and not isinstance(self.maximum, bool)
            and 0 <= self.maximum < float("inf")
            and (self.epochs is None or _is_count(self.epochs))
        )
        if not valid:
            raise ValueError(f"Invalid capacity {self}. Expected {self.FORM}.")

    @classmethod
    def parse(cls, text):
        """Reads `"25"` or `"25:10"`; raises `ValueError`."""
        maximum, *rest = str(text).split(":")
        try:
            if len(rest) > 1:
                raise ValueError
            return cls(float(maximum), int(rest[0]) if rest else None)
        except ValueError:
            raise ValueError(
                f"Invalid capacity {text!r}. Expected {cls.FORM}."
            ) from None

    def __str__(self):
        text = f"{self.maximum:g}"
        return text if self.epochs is None else f"{text}:{self.epochs}"

    def build(self, steps_per_epoch, run_epochs):
        """The target's schedule in training steps."""
        from keras_vae import schedules

        epochs = self.epochs or run_epochs
        return schedules.LinearWarmup(epochs * steps_per_epoch, maximum=self.maximum)


@dataclasses.dataclass(frozen=True)
class Objective:
    """A disentangling objective and its weight, as the command line writes it.

    `"KIND[:WEIGHT]"`, KIND one of `OBJECTIVES`:

    - `vae`: the plain (beta-)VAE, no weight;
    - `tcvae`: β-TCVAE (Chen et al. 2018), WEIGHT the β on the total
      correlation (>= 1, default 6): the penalty adds WEIGHT - 1 times it to
      the KL term, which holds it once;
    - `dip-i`, `dip-ii`: DIP-VAE I / II (Kumar et al. 2018), WEIGHT the
      off-diagonal weight lambda_od (default 10; lambda_d = 10 lambda_od for
      I, lambda_od for II);
    - `factor`: FactorVAE (Kim and Mnih 2018), WEIGHT gamma (default 40).

    Args:
        kind: String, one of `OBJECTIVES`.
        weight: Float or `None` (the kind's default).
    """

    kind: str
    weight: float = None

    OBJECTIVES = ("vae", "tcvae", "dip-i", "dip-ii", "factor")
    DEFAULT_WEIGHTS = {"tcvae": 6.0, "dip-i": 10.0, "dip-ii": 10.0, "factor": 40.0}
    FORM = "KIND[:WEIGHT], KIND one of vae, tcvae, dip-i, dip-ii, factor"

    def __post_init__(self):
        if self.kind not in self.OBJECTIVES:
            raise ValueError(
                f"Invalid objective {self.kind!r}. Expected {self.FORM}, e.g. "
                "tcvae:6 or factor."
            )
        if self.weight is None:
            return
        if self.kind == "vae":
            raise ValueError(
                f"Invalid objective {str(self)!r}: the plain VAE takes no weight "
                "(its KL weight is --beta)."
            )
        minimum = 1.0 if self.kind == "tcvae" else 0.0
        valid = (
            isinstance(self.weight, (int, float))
            and not isinstance(self.weight, bool)
            and minimum <= self.weight < float("inf")
        )
        if not valid:
            raise ValueError(
                f"Invalid objective {str(self)!r}: the weight of {self.kind} must "
                f"be a finite number >= {minimum:g}."
            )

    @classmethod
    def parse(cls, text):
        """Reads `"tcvae"` or `"tcvae:6"`; raises `ValueError`."""
        return cls(
            *_kind_and_value(text, float, "objective", f"{cls.FORM}, e.g. tcvae:6")
        )

    def __str__(self):
        return self.kind if self.weight is None else f"{self.kind}:{self.weight:g}"

    @property
    def value(self):
        """The weight, or the kind's default."""
        if self.weight is None:
            return self.DEFAULT_WEIGHTS.get(self.kind)
        return self.weight

    def build(self, seed=None):
        """The `keras_vae.layers.LatentPenalty` of the objective, or `None`."""
        from keras_vae import layers

        if self.kind == "tcvae":
            return layers.TotalCorrelationPenalty(self.value - 1.0)
        if self.kind in ("dip-i", "dip-ii"):
            return layers.DIPPenalty(self.value, variant=self.kind[4:])
        if self.kind == "factor":
            return layers.FactorVAEPenalty(self.value, seed=seed)
        return None


@dataclasses.dataclass(frozen=True)
class PriorSpec:
    """The prior p(z), as the command line writes it.

    `"KIND[:COMPONENTS]"`, KIND one of `PRIORS`: `normal` (N(0, I), no
    components), `mixture` (a learned Gaussian mixture, default 100
    components), `vamp` (the VampPrior, default 50 pseudo-inputs), `class`
    (cvae only: a learned Gaussian per class, or a mixture of COMPONENTS
    per class).

    Args:
        kind: String, one of `PRIORS`.
        components: Integer >= 1 or `None` (the kind's default).
    """

    kind: str
    components: int = None

    PRIORS = ("normal", "mixture", "vamp", "class")
    DEFAULT_COMPONENTS = {
        "mixture": defaults.MIXTURE_COMPONENTS,
        "vamp": defaults.VAMP_COMPONENTS,
        "class": 1,
    }
    FORM = "KIND[:COMPONENTS], KIND one of normal, mixture, vamp, class"

    def __post_init__(self):
        if self.kind not in self.PRIORS:
            raise ValueError(
                f"Invalid prior {self.kind!r}. Expected {self.FORM}, e.g. mixture:10."
            )
        if self.components is not None and (
            self.kind not in self.DEFAULT_COMPONENTS or not _is_count(self.components)
        ):
            raise ValueError(
                f"Invalid prior {str(self)!r}: only mixture, vamp and class take "
                "a number of components, a positive integer."
            )

    @classmethod
    def parse(cls, text):
        """Reads `"mixture"` or `"mixture:10"`; raises `ValueError`."""
        return cls(*_kind_and_value(text, int, "prior", f"{cls.FORM}, e.g. mixture:10"))

    def __str__(self):
        if self.components is None:
            return self.kind
        return f"{self.kind}:{self.components}"

    def build(self, num_classes=None, seed=None):
        """The `keras_vae.priors.Prior`, or `None` for N(0, I)."""
        from keras_vae import priors

        components = self.components or self.DEFAULT_COMPONENTS.get(self.kind)
        if self.kind == "mixture":
            return priors.MixturePrior(components, seed=seed)
        if self.kind == "vamp":
            return priors.VampPrior(components, seed=seed)
        if self.kind == "class":
            return priors.ClassPrior(num_classes, components, seed=seed)
        return None


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _kind_and_value(text, convert, what, expected):
    """Splits `"KIND"` or `"KIND:VALUE"` into `(kind, convert(VALUE) or None)`."""
    kind, *rest = str(text).split(":")
    try:
        if len(rest) > 1:
            raise ValueError
        return kind, convert(rest[0]) if rest else None
    except ValueError:
        raise ValueError(f"Invalid {what} {text!r}. Expected {expected}.") from None


# The defaults that differ by model, over DEFAULTS: the conditional model's
# are the best setting of the conditional study (docs/commands/evaluate.md);
# the original study's cvae is likelihood "gaussian", prior "normal",
# condition_all_layers False, latent_mixture 0 and sample_temperature 1
# (docs/study.md).
MODEL_DEFAULTS = {
    "cvae": {
        "likelihood": "logistic",
        "prior": PriorSpec("class", defaults.CLASS_PRIOR_COMPONENTS),
        "condition_all_layers": True,
        "latent_mixture": defaults.CVAE_LATENT_MIXTURE,
        "sample_temperature": defaults.CVAE_SAMPLE_TEMPERATURE,
    },
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
    given = {k: v for k, v in settings.items() if v is not None}
    model_defaults = MODEL_DEFAULTS.get(given.get("model", DEFAULTS["model"]), {})
    config = {**DEFAULTS, **model_defaults, **given}
    _choice(config, "model", MODELS)
    _choice(config, "parameterization", PARAMETERIZATIONS)
    _choice(config, "likelihood", LIKELIHOODS)
    if config["dataset"] is not None and config["data_path"] is None:
        _choice(config, "dataset", DATASETS)
    for key in (
        "latent_dim",
        "epochs",
        "batch_size",
        "seed",
        "latent_mixture",
        "train_samples",
    ):
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
    for key in ("early_stopping", "max_examples"):
        if config[key] is not None:
            checks.positive_integer(key, config[key])
    for key, kind, example in (
        ("beta_schedule", BetaSchedule, "warmup:5"),
        ("capacity", Capacity, "25:10"),
        ("objective", Objective, "tcvae:6"),
        ("prior", PriorSpec, "mixture:10"),
    ):
        if config[key] is not None and not isinstance(config[key], kind):
            raise ValueError(
                f"Invalid value received for argument `{key}`. Expected a "
                f"keras_vae.settings.{kind.__name__}, such as "
                f"{kind.__name__}.parse({example!r}), or None. "
                f"Received: {key}={config[key]!r}"
            )
    for key, inclusive in (
        ("beta", True),
        ("free_bits", True),
        ("sample_temperature", True),
        ("learning_rate", False),
        ("validation_fraction", False),
    ):
        config[key] = checks.finite_number(key, config[key], 0.0, inclusive)
    if config["validation_fraction"] >= 0.5:
        raise ValueError(
            "validation_fraction must be below 0.5. "
            f"Received: {config['validation_fraction']}"
        )
    for key in ("condition_all_layers", "deterministic", "dequantize"):
        if not isinstance(config[key], bool):
            raise ValueError(f"{key} must be True or False. Received: {config[key]!r}")
    if config["condition_all_layers"] and config["model"] != "cvae":
        raise ValueError(
            "condition_all_layers joins the class to every layer of the "
            f"conditional model: it needs model 'cvae', not {config['model']!r}."
        )
    prior = config["prior"] and config["prior"].kind
    if prior == "class" and config["model"] != "cvae":
        raise ValueError(
            "The class prior is a learned p(z | y): it needs model 'cvae', not "
            f"{config['model']!r}. Use prior mixture or vamp."
        )
    if prior == "vamp" and config["model"] == "cvae":
        raise ValueError(
            "The VampPrior runs the encoder on pseudo-inputs without labels: it "
            "needs model 'vae' or 'conv_vae', not 'cvae'. Use prior class."
        )
    if prior not in (None, "normal") and config["free_bits"]:
        raise ValueError(
            f"free_bits floors the KL to N(0, I); the {prior} prior has no "
            "per-dimension KL. Use one of them."
            + model_default_note(config, settings, "prior")
        )
    if config["train_samples"] > 1 and (
        config["free_bits"] or config["capacity"] is not None
    ):
        raise ValueError(
            "The importance-weighted bound (train_samples > 1) has no KL term for "
            "free_bits or capacity. Use one of them."
        )
    likelihood = config["likelihood"]
    if config["preprocessing"] is None:
        config["preprocessing"] = {"bernoulli": "binarize"}.get(
            likelihood, "scale" if likelihood in UNIT_LIKELIHOODS else "standardize"
        )
    _choice(config, "preprocessing", PREPROCESSINGS)
    if config["dequantize"]:
        if likelihood in DISCRETE_LIKELIHOODS:
            why = f"likelihood {likelihood}, which models the discrete values"
        elif config["preprocessing"].startswith("binarize"):
            why = f"preprocessing {config['preprocessing']}, which makes binary pixels"
        else:
            why = None
        if why:
            raise ValueError(
                "dequantize spreads the 8-bit pixel levels: expected a density "
                "likelihood (gaussian, gaussian_global, gaussian_pixel, "
                "continuous_bernoulli) of standardized or scaled pixels. "
                f"Received: {why}." + model_default_note(config, settings, "likelihood")
            )
    if likelihood in UNIT_LIKELIHOODS and config["preprocessing"] == "standardize":
        raise ValueError(
            f"The {likelihood} likelihood needs inputs in [0, 1]: use "
            '`preprocessing="scale"` (or binarize, binarize_static), not '
            "standardize." + model_default_note(config, settings, "likelihood")
        )
    return config


def model_default_note(config, settings, key):
    """The sentence telling a user that a setting at fault was the model's
    default (`MODEL_DEFAULTS`), not theirs; empty when they chose it.

    Args:
        config: The resolved settings.
        settings: The settings as given to `resolve`.
        key: The setting at fault.
    """
    if settings.get(key) is not None or key not in MODEL_DEFAULTS.get(
        config["model"], {}
    ):
        return ""
    other = "normal" if key == "prior" else DEFAULTS[key]
    return (
        f" ({key} {config[key]} is the default of `model={config['model']!r}`; "
        f"choose another, e.g. `{key}={other!r}`.)"
    )


def record(config):
    """`config` as JSON (for config.json): the spec objects as their strings."""
    return {
        key: str(value)
        if isinstance(value, (BetaSchedule, Capacity, Objective, PriorSpec))
        else value
        for key, value in config.items()
    }


def _choice(config, key, choices):
    if config[key] not in choices:
        raise ValueError(
            f"Invalid {key} {config[key]!r}. Expected one of: {', '.join(choices)}."
        )
