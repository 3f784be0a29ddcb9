"""The `keras-vae` command line: train, evaluate, sweep, tune, and sample,
interpolate, encode with a finished run.

Parsing imports neither TensorFlow nor Keras, so `--help` and argument errors
answer at once; each command imports what it needs after parsing.
"""

import argparse
import os
import sys

from keras_vae import cli_usage, config_file, settings, text
from keras_vae.arguments import (
    Parser,
    add_framework_arguments,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    report_errors,
    start_framework,
)

EXAMPLES = """examples:
  keras-vae train                      the original MLP VAE, the study's defaults
  keras-vae train --model cvae --latent-dim 2 --dataset fashion_mnist
  keras-vae evaluate runs/20261124-101500-vae --split train
  keras-vae sweep --beta 0 12 200 --dataset fashion_mnist --epochs 10
  keras-vae tune --dataset digits --max-trials 10 --latent-dim 2 32 --beta 0 200
  keras-vae sample RUN_DIR --n 64 --label 3 --out samples.png
  keras-vae interpolate RUN_DIR --from test:0 --to test:1 --steps 10
  keras-vae encode RUN_DIR my_images/ --out codes.csv
"""


def _add_run_arguments(parser, with_beta=True):
    defaults = settings.DEFAULTS
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        choices=settings.MODELS,
        default=defaults["model"],
        help="vae: the original MLP VAE; conv_vae: a convolutional VAE for images "
        "of any size and colour; cvae: the original conv conditional VAE "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--latent-dim",
        type=positive_int,
        default=defaults["latent_dim"],
        help="size of z; 2 also draws the manifold (default: %(default)s)",
    )
    if with_beta:
        group.add_argument(
            "--beta",
            type=non_negative_float,
            default=defaults["beta"],
            help="weight of the KL term (default: %(default)s)",
        )
    group.add_argument(
        "--parameterization",
        choices=settings.PARAMETERIZATIONS,
        default=defaults["parameterization"],
        help="sigma = softplus(rho) or exp(log_var / 2) (default: %(default)s)",
    )
    group.add_argument(
        "--likelihood",
        choices=settings.LIKELIHOODS,
        default=defaults["likelihood"],
        help="gaussian (variance 1/2: squared error) or bernoulli "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--free-bits",
        type=non_negative_float,
        default=defaults["free_bits"],
        metavar="NATS",
        help="KL floor per latent dimension against posterior collapse "
        "(Kingma et al. 2016; default: off)",
    )
    group.add_argument(
        "--capacity",
        type=_spec(settings.parse_capacity),
        metavar="C_MAX[:EPOCHS]",
        help="train on beta*|KL - C| with C rising from 0 to C_MAX nats over "
        "EPOCHS (default: all); use a large --beta, e.g. 100 (Burgess et al. 2018)",
    )
    group.add_argument(
        "--condition-all-layers",
        action="store_true",
        help="cvae: join the class to every convolution, not only to the "
        "Dense layers (default: off, as in the original)",
    )
    group.add_argument(
        "--latent-mixture",
        type=non_negative_int,
        default=defaults["latent_mixture"],
        metavar="K",
        help="after training, fit a K-component Gaussian mixture (per class for "
        "cvae) to the training images' codes, save it as latent_mixture.npz, and "
        "draw samples from it instead of the prior (Ghosh et al. 2020; "
        "default: 0, the prior)",
    )
    group = parser.add_argument_group("training")
    if with_beta:
        group.add_argument(
            "--beta-schedule",
            type=_spec(settings.parse_beta_schedule),
            metavar="SPEC",
            help="warmup:EPOCHS (beta rises from 0 to --beta) or "
            "cyclical:EPOCHS_PER_CYCLE[:CYCLES] (Fu et al. 2019; default: constant)",
        )
    group.add_argument(
        "--epochs",
        type=positive_int,
        default=defaults["epochs"],
        help="(default: %(default)s)",
    )
    group.add_argument(
        "--batch-size",
        type=positive_int,
        default=defaults["batch_size"],
        help="(default: %(default)s)",
    )
    group.add_argument(
        "--learning-rate",
        type=positive_float,
        default=defaults["learning_rate"],
        help="Adam's (default: %(default)s)",
    )
    group.add_argument(
        "--early-stopping",
        type=positive_int,
        metavar="PATIENCE",
        help="stop when val_elbo has not improved for PATIENCE epochs "
        "and keep the best weights",
    )
    group.add_argument(
        "--seed",
        type=non_negative_int,
        default=defaults["seed"],
        help="seeds data order, initialization and sampling (default: %(default)s)",
    )
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
    parser.add_argument(
        "--out", metavar="DIR", help="output folder (default: runs/<timestamp>-<model>)"
    )
    config_file.add_config_argument(parser)
    add_framework_arguments(parser)


def _add_iw_samples_argument(parser):
    parser.add_argument(
        "--iw-samples",
        type=non_negative_int,
        default=settings.DEFAULT_IW_SAMPLES,
        metavar="K",
        help="importance samples of the test bound on -log p(x) (Burda et al. "
        "2015); 0 skips it (default: %(default)s)",
    )


def _spec(parse):
    """An argparse type that checks a spec with `parse` and keeps the string."""

    def check(value):
        try:
            parse(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return value

    check.__name__ = parse.__name__.removeprefix("parse_")
    return check


def build_parser():
    parser = Parser(
        prog="keras-vae",
        description="Variational autoencoders with Keras: the original study's "
        "experiments as one command each.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from keras_vae import __version__

    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=Parser
    )
    commands.required = True

    train = commands.add_parser(
        "train",
        help="train one model and write its run folder with figures",
        description="Train one model; writes model.keras, config.json, history.csv, "
        "metrics.json and PNG figures into the run folder. An interrupted run "
        "continues from its last finished epoch when the same command is run again.",
    )
    _add_run_arguments(train)
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in --out (a folder holding an unfinished run "
        "with the same settings is resumed without it)",
    )

    evaluate = commands.add_parser(
        "evaluate",
        help="metrics of a saved run",
        description="Evaluate a run folder's model on its dataset's test (or "
        "train) split.",
    )
    evaluate.add_argument(
        "run_dir", metavar="RUN_DIR", help="a folder written by train"
    )
    evaluate.add_argument(
        "--split",
        choices=("test", "train"),
        default="test",
        help="(default: %(default)s)",
    )
    _add_iw_samples_argument(evaluate)
    evaluate.add_argument(
        "--latent-mixture",
        type=non_negative_int,
        default=0,
        metavar="K",
        help="cvae: also judge samples with z from a K-component Gaussian mixture "
        "per class fitted now to the training codes (default: the run's "
        "latent_mixture.npz if it has one)",
    )
    add_framework_arguments(evaluate)

    sweep = commands.add_parser(
        "sweep",
        help="the beta study: one run per beta, side by side",
        description="Train one run per beta; writes sweep.png, rate_distortion.png and "
        "sweep.csv beside the runs.",
    )
    sweep.add_argument(
        "--beta",
        type=non_negative_float,
        nargs="+",
        required=True,
        metavar="BETA",
        help="e.g. --beta 0 12 200",
    )
    _add_run_arguments(sweep, with_beta=False)
    _add_iw_samples_argument(sweep)

    cli_usage.add_commands(commands)

    from tuning import cli as tuning_cli

    tune = commands.add_parser(
        "tune",
        help="KerasTuner search over latent size and beta",
        description="KerasTuner search over latent size and beta (and more), ranked "
        "by val_elbo; resumable, and distributable with --workers. Also: "
        "python -m tuning.",
    )
    tuning_cli.add_arguments(tune)
    parser.commands = commands
    return parser


def _run_settings(arguments, exclude=()):
    names = set(settings.DEFAULTS) - {"validation_fraction", *exclude}
    return {
        name: getattr(arguments, name) for name in names if hasattr(arguments, name)
    }


def _print_metrics_table(rows):
    keys = ("loss", "reconstruction_loss", "kl_loss", "elbo")
    cells = [(name, *(f"{m[key]:.2f}" for key in keys)) for name, m in rows]
    header = ("", "loss", "-log p(x|z)", "KL", "ELBO")
    print(text.table(header, cells, first_column_left=True))
    print(
        "(nats per example; ELBO is the negative ELBO at beta = 1, "
        "comparable across beta)"
    )


def _train(arguments):
    from keras_vae.experiments import training

    out = arguments.out or training.default_run_directory(arguments.model)
    try:
        run = training.train(
            out=out, overwrite=arguments.overwrite, **_run_settings(arguments)
        )
    except BaseException as error:
        if not isinstance(error, ValueError):
            # Stopped from outside (Ctrl-C, a full disk, memory): it can go on.
            error.hint = _resume_hint(arguments, out)
        raise
    if run is None:
        print("Training done; the chief worker writes the run folder.")
        return
    print(f"\nRun folder: {run.directory}")
    print(
        f"Dataset: {run.config['dataset_used']} ({run.config['data_source']}), "
        f"epochs trained: {run.metrics['epochs_trained']}, "
        f"backend: {run.config['backend']}"
        + (
            f", {run.config['distribute']} on {run.config['replicas']} replicas"
            if run.config["distribute"]
            else ""
        )
    )
    _print_metrics_table(
        [(split, run.metrics[split]) for split in ("train", "validation", "test")]
    )
    figures = sorted(
        name for name in os.listdir(run.directory) if name.endswith(".png")
    )
    print("Figures: " + ", ".join(figures))


def _resume_hint(arguments, out):
    """How to continue a run that stopped after some of its epochs."""
    from keras_vae.experiments import resume

    try:
        done = resume.backed_up_epochs(out)
    except OSError:
        return None
    if not done:
        return None
    command = "the same command" if arguments.out else f"it with --out {out}"
    return f"{out} keeps epoch {done} of {arguments.epochs}: run {command} to resume."


def _evaluate(arguments):
    from keras_vae.experiments import evaluation

    metrics, config = evaluation.evaluate_run(
        arguments.run_dir,
        arguments.split,
        arguments.iw_samples,
        latent_mixture=arguments.latent_mixture,
    )
    import keras

    print(
        f"{arguments.run_dir}: {config['model']} on {config['dataset_used']}, "
        f"{arguments.split} split, trained on {config.get('backend', 'tensorflow')}, "
        f"evaluated on {keras.backend.backend()}"
    )
    _print_metrics_table([(arguments.split, metrics)])
    for line in _latent_lines(metrics):
        print(line)


def _sample_lines(metrics, prefix, source):
    """Label fidelity and within-class diversity of one source of samples."""
    fidelity = metrics[f"{prefix}label_fidelity_per_class"]
    diversity = metrics[f"{prefix}within_class_diversity_per_class"]
    return [
        f"{source}: label fidelity {metrics[f'{prefix}label_fidelity']:.1%} of "
        f"{metrics['samples_per_class']} per class classified as asked "
        f"(classifier accuracy on real test images "
        f"{metrics['classifier_accuracy']:.1%}); per class "
        + " ".join(f"{value:.0%}" for value in fidelity),
        f"{source}: within-class diversity "
        f"{metrics[f'{prefix}within_class_diversity']:.2f} of the real images' "
        "(mean pairwise feature distance); per class "
        + " ".join(f"{value:.2f}" for value in diversity),
    ]


def _latent_lines(metrics):
    """The bound and latent-usage figures of `latent_summary`, as text."""
    lines = []
    if "iw_bound" in metrics:
        lines.append(
            f"-log p(x) <= {metrics['iw_bound']:.2f} nats "
            f"({metrics['bits_per_dim']:.4f} bits/dim; importance-weighted bound, "
            f"k = {metrics['iw_samples']})"
        )
    kl = metrics["kl_per_dimension"]
    lines.append(
        f"active units: {metrics['active_units']} of {metrics['latent_dim']} "
        f"(Cov_x E[z|x] > 0.01); KL per dimension {min(kl):.2f} to {max(kl):.2f} nats"
    )
    if "label_fidelity" in metrics:
        lines += _sample_lines(metrics, "", "prior samples")
        if "mixture_label_fidelity" in metrics:
            lines += _sample_lines(
                metrics,
                "mixture_",
                f"latent mixture ({metrics['mixture_components']} components per "
                "class) samples",
            )
        lines.append(
            "reconstructions of real test images score "
            f"{metrics['reconstruction_label_fidelity']:.1%} and "
            f"{metrics['reconstruction_diversity']:.2f}: what samples of this "
            "decoder reach where real codes lie"
        )
    information, limit = (
        metrics["mutual_information"],
        metrics["mutual_information_limit"],
    )
    lines.append(
        f"mutual information I(x; z): {information:.2f} nats "
        f"(the estimate cannot exceed log n = {limit:.2f})"
    )
    return lines


def _sweep(arguments):
    from keras_vae.experiments import run_folder, training
    from keras_vae.experiments.beta_sweep import format_table, sweep

    out = arguments.out or training.default_run_directory("sweep")
    try:
        rows = sweep(
            arguments.beta,
            out=out,
            iw_samples=arguments.iw_samples,
            **_run_settings(arguments, exclude=("beta",)),
        )
    except BaseException as error:
        if not isinstance(error, ValueError) and run_folder.read_marker(out):
            command = "the same command" if arguments.out else f"it with --out {out}"
            error.hint = f"run {command} to resume the sweep in {out}."
        raise
    print()
    print(format_table(rows))
    print(
        "(test set, nats per example; bound: importance-weighted bound on "
        f"-log p(x), k = {arguments.iw_samples})"
    )


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    arguments = config_file.parse_args(parser, argv, parser.commands)
    prog = f"keras-vae {arguments.command}"
    if report_errors(prog, start_framework, arguments):
        return 1
    if arguments.command == "tune":
        from tuning import cli as tuning_cli

        tune_argv = argv[argv.index("tune") + 1 :]
        return tuning_cli.run_command(arguments, tune_argv, prog=prog)
    command = {
        "train": _train,
        "evaluate": _evaluate,
        "sweep": _sweep,
        **cli_usage.COMMANDS,
    }[arguments.command]
    return report_errors(prog, command, arguments)


def run():
    """Console-script entry point."""
    sys.exit(main())
