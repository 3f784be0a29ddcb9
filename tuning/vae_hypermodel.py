import math
import numbers

import keras
import keras_tuner

from keras_vae import architectures, checks, defaults, likelihoods, settings
from keras_vae import parameterization as param_lib
from keras_vae.models import VAE
from tuning.objectives import ObjectiveMetrics

# With a beta range starting at 0, the decade below this value stands for 0.
BETA_FLOOR = 0.01


class VAEHyperModel(keras_tuner.HyperModel):
    """KerasTuner search space over the original study's MLP VAE.

    Fixed settings (input shape, likelihood, parameterization) are validated
    here; searched ones are drawn from `hp` in `build`. Each searched setting
    takes a number (fixed), a `(min, max)` tuple (a range) or a list (the
    candidates), so ranges change without subclassing:

    - `latent_dim`: Int, log-sampled over a range.
    - `beta`: Float on a log scale. A range starting at 0 keeps 0 reachable:
      it is searched as `beta_log10` over `[log10(0.01) - 1, log10(max)]`, and
      the lowest decade, below 0.01, stands for beta = 0.
    - `hidden_units`: width of the first hidden layer (the second is a quarter
      of it, as 500 and 120 in the original).
    - `learning_rate`: Adam's, log-sampled over a range.
    - `prior`: the prior as `keras-vae train --prior` writes it (`"normal"`,
      `"mixture:10"`, `"vamp:50"`, `"class"` for the conditional model), or
      a list of them to choose from.
    - `train_samples`: the posterior samples of the training objective (1:
      the ELBO, k > 1: the importance-weighted bound).

    `fit` adds `val_active_units` (latent dimensions whose encoder mean varies
    across validation examples by more than 0.01, Burda et al. 2016) and, with
    `rate_budget`, `val_reconstruction_at_rate` to the logs, so that they can
    be tuning objectives.

    Args:
        input_shape: Tuple of integers, one example's shape.
        likelihood: String, a name of `keras_vae.likelihoods.get`
            (`"gaussian"`, `"bernoulli"`, ...). Defaults to `"gaussian"`.
        parameterization: String, `"softplus"` or `"log_var"`. Defaults to
            `"softplus"`.
        latent_dim: Integer, `(min, max)` or list. Defaults to `(2, 64)`.
        beta: Float, `(min, max)` or list. Defaults to `(0.0, 200.0)`.
        hidden_units: Integer, `(min, max)` or list. Defaults to `500`.
        learning_rate: Float, `(min, max)` or list. Defaults to `1e-3`.
        prior: String or list of strings, see above. Defaults to `"normal"`.
        train_samples: Integer, `(min, max)` or list. Defaults to `1`.
        rate_budget: Float or `None`, the KL budget in nats of the
            `val_reconstruction_at_rate` objective. Defaults to `None`.
        seed: Integer or `None`, seed of the models' latent sampling.

    Example:

    ```python
    import keras_tuner
    import tuning

    hypermodel = tuning.VAEHyperModel(input_shape=(8, 8, 1), beta=[0.0, 1.0, 200.0])
    model = hypermodel.build(keras_tuner.HyperParameters())  # the defaults
    print(model.encoder.output_shape, float(model.beta))  # [(None, 20), (None, 20)] 1.0
    ```
    """

    def __init__(
        self,
        input_shape,
        likelihood=defaults.LIKELIHOOD,
        parameterization=defaults.PARAMETERIZATION,
        latent_dim=defaults.SEARCH_LATENT_DIM,
        beta=defaults.SEARCH_BETA,
        hidden_units=defaults.HIDDEN_UNITS,
        learning_rate=defaults.LEARNING_RATE,
        prior="normal",
        train_samples=1,
        rate_budget=None,
        seed=None,
        name=None,
        tunable=True,
    ):
        self.input_shape = _shape(input_shape)
        likelihoods.get(likelihood)
        param_lib.validate_parameterization(parameterization)
        self.likelihood = likelihood
        self.parameterization = parameterization
        self.latent_dim = _space("latent_dim", latent_dim, integer=True, minimum=1)
        self.beta = _space("beta", beta, integer=False, minimum=0.0)
        self.hidden_units = _space(
            "hidden_units", hidden_units, integer=True, minimum=4
        )
        self.learning_rate = _space(
            "learning_rate", learning_rate, integer=False, minimum=0.0, inclusive=False
        )
        self.prior = self._prior_space(prior)
        self.train_samples = _space(
            "train_samples", train_samples, integer=True, minimum=1
        )
        if rate_budget is not None:
            _space("rate_budget", float(rate_budget), integer=False, minimum=0.0)
        self.rate_budget = rate_budget
        self.seed = seed
        super().__init__(name=name, tunable=tunable)

    conditional = False

    def _prior_space(self, prior):
        candidates = prior if isinstance(prior, list) else [prior]
        if not candidates or len(set(candidates)) != len(candidates):
            raise ValueError(f"`prior` candidates are empty or repeat: {prior!r}")
        for text in candidates:
            kind = settings.PriorSpec.parse(text).kind
            if (kind == "class") != (kind in ("class", "vamp") and self.conditional):
                model = "ConditionalVAE" if self.conditional else "VAE"
                raise ValueError(
                    f"Invalid prior {text!r} for a {model}: the class prior needs "
                    "a ConditionalVAE, the VampPrior an unconditional VAE."
                )
        return list(candidates) if isinstance(prior, list) else prior

    @property
    def searches_beta(self):
        return not isinstance(self.beta, (int, float))

    def draw(self, hp):
        """The searched values for `hp`: a dict with `latent_dim`, `beta`,
        `learning_rate` and the architecture's width."""
        return {
            "latent_dim": _draw(
                hp, "latent_dim", self.latent_dim, default=defaults.LATENT_DIM
            ),
            "beta": self._draw_beta(hp),
            "learning_rate": _draw(
                hp, "learning_rate", self.learning_rate, default=defaults.LEARNING_RATE
            ),
            # Left out of `hp` unless set: searches written before these
            # settings existed keep their space and their trials.
            "prior": _draw_unless(hp, "prior", self.prior, default="normal"),
            "train_samples": _draw_unless(
                hp, "train_samples", self.train_samples, default=1
            ),
            **self._draw_architecture(hp),
        }

    def _draw_beta(self, hp):
        if isinstance(self.beta, tuple) and self.beta[0] == 0:
            low = math.log10(BETA_FLOOR) - 1
            high = math.log10(self.beta[1])
            exponent = hp.Float(
                "beta_log10", low, high, default=min(max(0.0, low), high)
            )
            return 0.0 if exponent < math.log10(BETA_FLOOR) else 10.0**exponent
        return _draw(hp, "beta", self.beta, default=defaults.BETA)

    def _draw_architecture(self, hp):
        return {
            "hidden_units": _draw(
                hp, "hidden_units", self.hidden_units, default=defaults.HIDDEN_UNITS
            )
        }

    def build(self, hp):
        values = self.draw(hp)
        model = self._model(values)
        model.compile(optimizer=keras.optimizers.Adam(values["learning_rate"]))
        # Built with its optimizer, so that KerasTuner's checkpoints restore the
        # optimizer state too and the best model saves completely.
        model.build(self._build_shape())
        model.optimizer.build(model.trainable_variables)
        return model

    def _build_shape(self):
        return (None, *self.input_shape)

    def _model(self, values):
        units = values["hidden_units"]
        encoder, decoder = architectures.mlp(
            self.input_shape,
            values["latent_dim"],
            hidden_units=(units, max(1, units // 4)),
            parameters_per_value=self._parameters_per_value(),
        )
        return VAE(encoder, decoder, **self._model_arguments(values))

    def _parameters_per_value(self):
        """The numbers the decoder outputs per value for the likelihood."""
        return likelihoods.get(self.likelihood).parameters_per_value

    def _model_arguments(self, values):
        return {
            "beta": values["beta"],
            "parameterization": self.parameterization,
            "likelihood": self.likelihood,
            "seed": self.seed,
            "prior": settings.PriorSpec.parse(values["prior"]).build(
                getattr(self, "num_classes", None), self.seed
            ),
            "num_samples": values["train_samples"],
        }

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        metrics = ObjectiveMetrics(kwargs.get("validation_data"), self.rate_budget)
        return model.fit(*args, callbacks=[metrics, *(callbacks or [])], **kwargs)

    def get_config(self):
        """The fixed settings and the search space, JSON-friendly."""
        return {
            "class": type(self).__name__,
            "input_shape": list(self.input_shape),
            "likelihood": self.likelihood,
            "parameterization": self.parameterization,
            "latent_dim": _json(self.latent_dim),
            "beta": _json(self.beta),
            "hidden_units": _json(self.hidden_units),
            "learning_rate": _json(self.learning_rate),
            "prior": self.prior,
            "train_samples": _json(self.train_samples),
            "rate_budget": self.rate_budget,
        }


def _shape(input_shape):
    shape = tuple(input_shape)
    if not shape or any(
        isinstance(d, bool) or not isinstance(d, numbers.Integral) or d < 1
        for d in shape
    ):
        raise ValueError(
            "Invalid value received for argument `input_shape`. Expected positive "
            f"integers. Received: input_shape={input_shape}"
        )
    return tuple(int(d) for d in shape)


def _space(name, value, integer, minimum, inclusive=True):
    """Validates a fixed value, a `(min, max)` range or a list of candidates."""

    def check(number):
        if integer:
            return checks.positive_integer(name, number, minimum=int(minimum))
        return checks.finite_number(name, number, minimum, inclusive)

    if isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"`{name}` range must be (min, max). Received: {value!r}")
        low, high = check(value[0]), check(value[1])
        if low >= high:
            raise ValueError(
                f"`{name}` range ({low}, {high}) is empty or inverted: min must be "
                f"below max. For a fixed value pass a number: `{name}={low}`."
            )
        return (low, high)
    if isinstance(value, list):
        if not value:
            raise ValueError(f"`{name}` candidates list is empty.")
        candidates = [check(v) for v in value]
        if len(set(candidates)) != len(candidates):
            raise ValueError(f"`{name}` candidates repeat a value: {value!r}")
        return candidates
    return check(value)


def _draw(hp, name, space, default):
    if isinstance(space, tuple):
        low, high = space
        default = min(max(default, low), high)
        sampling = "log" if low > 0 and high / low >= 4 else "linear"
        if isinstance(low, int):
            return hp.Int(name, low, high, sampling=sampling, default=int(default))
        return hp.Float(name, low, high, sampling=sampling, default=float(default))
    if isinstance(space, list):
        return hp.Choice(name, space, default=default if default in space else space[0])
    return hp.Fixed(name, space)


def _draw_unless(hp, name, space, default):
    """`_draw`, but the default itself, not searched, stays out of `hp`."""
    if space == default:
        return default
    return _draw(hp, name, space, default)


def _json(space):
    return list(space) if isinstance(space, tuple) else space
