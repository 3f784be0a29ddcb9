"""`keras-vae sweep`: the beta study, one run per beta, side by side."""

from keras_vae.cli import options
from keras_vae.cli.common import non_negative_float


def add_parser(commands):
    parser = commands.add_parser(
        "sweep",
        help="the beta study: one run per beta, side by side",
        description="Train one run per beta; writes sweep.png, rate_distortion.png "
        "and sweep.csv beside the runs. An interrupted sweep keeps its finished "
        "runs when the same command is run again.",
    )
    parser.add_argument(
        "--beta",
        type=non_negative_float,
        nargs="+",
        required=True,
        metavar="BETA",
        help="e.g. --beta 0 12 200",
    )
    options.run(parser, with_beta=False)
    options.iw_samples(parser)
    options.tensorboard(parser, "; one sub-folder per beta")
    return parser


def run(arguments):
    from keras_vae.experiments import run_folder, training
    from keras_vae.experiments.beta_sweep import format_table, sweep

    out = arguments.out or training.default_run_directory("sweep")
    try:
        rows = sweep(
            arguments.beta,
            out=out,
            iw_samples=arguments.iw_samples,
            tensorboard=arguments.tensorboard,
            **options.run_settings(arguments, exclude=("beta",)),
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
