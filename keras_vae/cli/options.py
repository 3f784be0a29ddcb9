"""The flags that several commands share, each declared once.

Defaults come from `keras_vae.settings.DEFAULTS` (itself from
`keras_vae.defaults`); a spec flag (`--beta-schedule`, `--capacity`) is parsed
here, once, into the library's object.
"""

import argparse
import os

from keras_vae import defaults, settings
from keras_vae.cli.common import (
    non_negative_float,
    non_negative_int,
    number_argument,
    positive_float,
    positive_int,
)
from keras_vae.framework import BACKENDS

DEFAULTS = settings.DEFAULTS


def framework(parser):
    """`--backend` and `--verbose`."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend (default: Keras' own configuration, KERAS_BACKEND or "
        "~/.keras/keras.json; tensorflow when neither is set)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="also show TensorFlow's C++ start-up lines (absl, CUDA, oneDNN)",
    )


def config(parser):
    """`--config FILE`, read by `keras_vae.cli.config_file`."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="TOML file of settings keyed by the flags' names (latent-dim = 2, "
        "dataset = 'fashion_mnist'); flags on the command line override it",
    )


def model(group, choices=settings.MODELS):
    group.add_argument(
        "--model",
        choices=choices,
        default=DEFAULTS["model"],
        help="vae: the original MLP VAE; conv_vae: a convolutional VAE for images "
        "of any size and colour; cvae: the original's conv conditional VAE, "
        "by default with the class at every layer, a learned prior per class "
        "and the discretized logistic likelihood (default: %(default)s)",
    )


def likelihood(group, by_model=True):
    """`--likelihood`; `by_model`: its default is the model's
    (`settings.MODEL_DEFAULTS`), else `DEFAULTS`'."""
    default = _by_model("likelihood") if by_model else DEFAULTS["likelihood"]
    group.add_argument(
        "--likelihood",
        choices=settings.LIKELIHOODS,
        default=None if by_model else default,
        help="gaussian (variance 1/2: squared error), bernoulli, "
        "continuous_bernoulli (a density on [0, 1]), gaussian_global / "
        "gaussian_pixel (a learned variance, one or one per pixel), logistic "
        "(8-bit pixels, discretized logistic), logistic_mixture (a mixture of 5 "
        f"of them per pixel) (default: {default})",
    )


def _by_model(key, unset=None):
    """`key`'s defaults as help text: `"gaussian; cvae: logistic"`; `unset`
    names a default of `None`."""
    text = str(unset if DEFAULTS[key] is None else DEFAULTS[key])
    for model, values in settings.MODEL_DEFAULTS.items():
        if key in values:
            text += f"; {model}: {values[key]}"
    return text


def parameterization(group):
    group.add_argument(
        "--parameterization",
        choices=settings.PARAMETERIZATIONS,
        default=DEFAULTS["parameterization"],
        help="sigma = softplus(rho) or exp(log_var / 2) (default: %(default)s)",
    )


def batch_size(group):
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULTS["batch_size"],
        help="(default: %(default)s)",
    )


def seed(group, help="seeds data order, initialization and sampling"):
    group.add_argument(
        "--seed",
        type=non_negative_int,
        default=DEFAULTS["seed"],
        help=f"{help} (default: %(default)s)",
    )


def max_examples(group):
    group.add_argument(
        "--max-examples",
        type=positive_int,
        metavar="N",
        help="train on N training images drawn at random by --seed (quick runs on "
        "a large set)",
    )


def data(group, images=True):
    """`--dataset`, `--data-path`, `--preprocessing`; with `images`, the
    options of a folder of image files too."""
    group.add_argument(
        "--dataset",
        choices=settings.DATASETS,
        help="default: mnist, or the bundled digits when mnist is "
        "neither cached nor downloadable (said on the first line)",
    )
    group.add_argument(
        "--data-path",
        metavar="PATH",
        help="a folder of IDX files, an .npz with x_train, y_train, x_test, y_test, "
        "or a folder of images (PNG, JPEG, BMP, GIF; class sub-folders give labels; "
        "90 %% training, 10 %% test, split by --seed)",
    )
    if images:
        group.add_argument(
            "--image-size",
            type=positive_int,
            nargs=2,
            metavar=("H", "W"),
            help="a folder of images: resize every image to H x W (default: every "
            "image must have the same size)",
        )
        group.add_argument(
            "--color-mode",
            choices=settings.COLOR_MODES,
            help="a folder of images: grayscale (default) or rgb",
        )
    group.add_argument(
        "--preprocessing",
        choices=settings.PREPROCESSINGS,
        help="default: standardize for gaussian, binarize (dynamic) for bernoulli",
    )


def spec(parse):
    """An argparse type that parses a spec into the library's object."""

    def check(value):
        try:
            return parse(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    check.__name__ = parse.__qualname__.split(".")[0]
    return check


def run(parser, with_beta=True):
    """Every setting of a training run (`train`, and `sweep` without `--beta`),
    then `--out`, `--config`, `--backend` and `--verbose`."""
    group = parser.add_argument_group("model")
    model(group)
    group.add_argument(
        "--latent-dim",
        type=positive_int,
        default=DEFAULTS["latent_dim"],
        help="size of z; 2 also draws the manifold (default: %(default)s)",
    )
    if with_beta:
        group.add_argument(
            "--beta",
            type=non_negative_float,
            default=DEFAULTS["beta"],
            help="weight of the KL term (default: %(default)s)",
        )
    parameterization(group)
    likelihood(group)
    group.add_argument(
        "--free-bits",
        type=non_negative_float,
        default=DEFAULTS["free_bits"],
        metavar="NATS",
        help="KL floor per latent dimension against posterior collapse "
        "(Kingma et al. 2016; default: off)",
    )
    group.add_argument(
        "--capacity",
        type=spec(settings.Capacity.parse),
        metavar="C_MAX[:EPOCHS]",
        help="train on beta*|KL - C| with C rising from 0 to C_MAX nats over "
        "EPOCHS (default: all); use a large --beta, e.g. 100 (Burgess et al. 2018)",
    )
    group.add_argument(
        "--objective",
        type=spec(settings.Objective.parse),
        metavar="KIND[:WEIGHT]",
        help="a disentangling objective: tcvae[:BETA_TC] (beta-TCVAE, default 6), "
        "dip-i[:LAMBDA] or dip-ii[:LAMBDA] (DIP-VAE, default 10), factor[:GAMMA] "
        "(FactorVAE, default 40); default: vae, the plain (beta-)VAE",
    )
    group.add_argument(
        "--prior",
        type=spec(settings.PriorSpec.parse),
        metavar="KIND[:K]",
        help="the prior p(z): normal (N(0, I)), mixture[:K] (a learned mixture "
        f"of K Gaussians, default {defaults.MIXTURE_COMPONENTS}), vamp[:K] "
        f"(VampPrior, K learned pseudo-inputs, default {defaults.VAMP_COMPONENTS}"
        "), class[:K] (cvae: a learned Gaussian, or a mixture of K, per class) "
        f"(default: {_by_model('prior', unset='normal')})",
    )
    group.add_argument(
        "--train-samples",
        type=positive_int,
        default=DEFAULTS["train_samples"],
        metavar="K",
        help="posterior samples per image in the training objective: K > 1 "
        "trains the K-sample importance-weighted bound (IWAE, Burda et al. "
        "2016); default: %(default)s, the ELBO",
    )
    group.add_argument(
        "--dequantize",
        action="store_true",
        help="spread each 8-bit pixel level uniformly over its bin at every "
        "training step, so that a density likelihood (gaussian*, "
        "continuous_bernoulli) fits the pixels' bins and its bits per pixel "
        "are true (default: off)",
    )
    group.add_argument(
        "--condition-all-layers",
        action=argparse.BooleanOptionalAction,
        help="cvae: join the class to every convolution, not only to the "
        "Dense layers (default: on; --no-condition-all-layers: the original's "
        "layout)",
    )
    group.add_argument(
        "--latent-mixture",
        type=non_negative_int,
        metavar="K",
        help="after training, fit a K-component Gaussian mixture (per class for "
        "cvae) to the training images' codes, keep it in model.keras, and draw "
        "samples from it instead of the prior (Ghosh et al. 2020; default: 0, "
        f"the prior; cvae: {settings.MODEL_DEFAULTS['cvae']['latent_mixture']})",
    )
    group.add_argument(
        "--sample-temperature",
        type=non_negative_float,
        metavar="T",
        help="the temperature the model's samples are drawn at unless told "
        "otherwise (kept in model.keras): the spread of z around the means of "
        "the prior's or mixture's components times T (default: 1; cvae: "
        f"{settings.MODEL_DEFAULTS['cvae']['sample_temperature']:g})",
    )
    group = parser.add_argument_group("training")
    if with_beta:
        group.add_argument(
            "--beta-schedule",
            type=spec(settings.BetaSchedule.parse),
            metavar="SPEC",
            help="warmup:EPOCHS (beta rises from 0 to --beta) or "
            "cyclical:EPOCHS_PER_CYCLE[:CYCLES] (Fu et al. 2019; default: constant)",
        )
    group.add_argument(
        "--epochs",
        type=positive_int,
        default=DEFAULTS["epochs"],
        help="(default: %(default)s)",
    )
    batch_size(group)
    group.add_argument(
        "--learning-rate",
        type=positive_float,
        default=DEFAULTS["learning_rate"],
        help="Adam's (default: %(default)s)",
    )
    group.add_argument(
        "--early-stopping",
        type=positive_int,
        metavar="PATIENCE",
        help="stop when val_elbo has not improved for PATIENCE epochs "
        "and keep the best weights",
    )
    seed(group)
    group.add_argument(
        "--deterministic",
        action="store_true",
        help="deterministic kernels (TensorFlow op determinism, PyTorch's "
        "deterministic algorithms, XLA's on GPUs): the same --seed then gives the "
        "same metrics.json on any device, at some cost in speed",
    )
    group.add_argument(
        "--distribute",
        choices=settings.DISTRIBUTIONS,
        help="data-parallel training: mirrored (TensorFlow, the GPUs of this "
        "machine), multi-worker (TensorFlow, the machines in TF_CONFIG) or "
        "data-parallel (JAX, every device); --batch-size is the global batch",
    )
    group = parser.add_argument_group("data")
    data(group)
    max_examples(group)
    parser.add_argument(
        "--out", metavar="DIR", help="output folder (default: runs/<timestamp>-<model>)"
    )
    config(parser)
    framework(parser)


def figures(parser):
    """`--no-figures`."""
    parser.add_argument(
        "--no-figures",
        dest="figures",
        action="store_false",
        help="write no PNG figures (the latent map's t-SNE is most of a short "
        "run's time after training); the model, config, history and metrics "
        "are the same",
    )


def tensorboard(parser, where=""):
    """`--tensorboard DIR`."""
    parser.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="TensorBoard log folder: per-epoch scalars (loss terms, beta, active "
        "units, learning rate), image grids every epoch and the embedding "
        f"projector of the test codes{where}; view with tensorboard --logdir DIR",
    )


def run_settings(arguments, exclude=()):
    """The run settings among parsed `arguments`, as `keras_vae.settings` names
    them."""
    names = set(settings.DEFAULTS) - {"validation_fraction", *exclude}
    return {
        name: getattr(arguments, name) for name in names if hasattr(arguments, name)
    }


def iw_samples(parser):
    parser.add_argument(
        "--iw-samples",
        type=non_negative_int,
        default=defaults.IW_SAMPLES,
        metavar="K",
        help="importance samples of the test bound on -log p(x) (Burda et al. "
        "2015); 0 skips it (default: %(default)s)",
    )


def run_dir(parser):
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by train")


def label(parser, help):
    parser.add_argument("--label", type=non_negative_int, metavar="K", help=help)


def output_file(parser, default, extensions, help):
    """`--out FILE` ending with one of `extensions`, in an existing folder."""

    def check(value):
        if not value.lower().endswith(extensions):
            raise argparse.ArgumentTypeError(
                f"{value!r} must end with {' or '.join(extensions)}"
            )
        if os.path.isdir(value):
            raise argparse.ArgumentTypeError(
                f"{value} is a folder; expected a file name"
            )
        folder = os.path.dirname(value)
        if folder and not os.path.isdir(folder):
            raise argparse.ArgumentTypeError(f"{folder} is not a folder")
        return value

    check.__name__ = "output file"
    parser.add_argument(
        "--out",
        type=check,
        default=default,
        metavar="FILE",
        help=f"{help}(default: %(default)s)",
    )


def fraction(text):
    """An argparse type: a number strictly between 0 and 1."""
    value = number_argument()(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {text}")
    return value


def anomaly_rate(parser):
    """`--false-alarm-rate R` or `--contamination R`: where thresholds go."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--false-alarm-rate",
        type=fraction,
        metavar="R",
        help="fraction of normal (validation) images each threshold flags "
        f"(default: {defaults.FALSE_ALARM_RATE:g})",
    )
    group.add_argument(
        "--contamination",
        type=fraction,
        metavar="R",
        help="instead: the fraction of the validation images believed anomalous",
    )


def rate_keywords(arguments):
    """`calibrate`'s rate argument from the flags (none: its default)."""
    if arguments.contamination is not None:
        return {"contamination": arguments.contamination}
    if arguments.false_alarm_rate is not None:
        return {"false_alarm_rate": arguments.false_alarm_rate}
    return {}


def score_method(parser, help):
    parser.add_argument(
        "--method",
        choices=defaults.ANOMALY_METHODS,
        default=defaults.ANOMALY_METHOD,
        help=f"{help} (default: %(default)s)",
    )


def score_samples(parser, flag="--iw-samples"):
    parser.add_argument(
        flag,
        dest="score_iw_samples",
        type=positive_int,
        default=None,
        metavar="K",
        help="importance samples of the iwae score (default: as calibrated, "
        f"{defaults.SCORE_IW_SAMPLES})",
    )
