"""`keras-vae sample`: draws of a trained run's model, as pixels."""

import math

from keras_vae.cli import options
from keras_vae.cli.common import non_negative_float, non_negative_int, positive_int


def add_parser(commands):
    parser = commands.add_parser(
        "sample",
        help="draw samples of a run's model",
        description="Decode draws of a run's model into a PNG grid or a .npy array "
        "of pixels in [0, 1]. Draws come from the run's latent mixture when it has "
        "one (train --latent-mixture), else from the model's prior.",
    )
    options.run_dir(parser)
    options.framework(parser)
    parser.add_argument(
        "--n",
        type=positive_int,
        help="how many (default: 64; cvae without --label: 8 per class)",
    )
    options.label(
        parser, "cvae: samples of class K (default: every class, one row each)"
    )
    parser.add_argument(
        "--seed", type=non_negative_int, default=0, help="(default: %(default)s)"
    )
    parser.add_argument(
        "--prior",
        action="store_true",
        help="draw from the prior even if the run has a latent mixture",
    )
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        metavar="T",
        help="scale the spread of the draws around the means of the prior's or "
        "mixture's components by T: below 1, more typical and less varied "
        "samples; 0, the means (default: the model's, train --sample-temperature)",
    )
    options.output_file(
        parser, "samples.png", (".png", ".npy"), ".png grid or .npy array "
    )
    return parser


def run(arguments):
    from keras_vae.experiments import figures, inference

    run = inference.load_run(arguments.run_dir)
    pixels, labels = inference.sample(
        run,
        arguments.n,
        arguments.label,
        arguments.seed,
        arguments.prior,
        arguments.temperature,
    )
    source = figures.sample_source(run.model, arguments.prior, arguments.temperature)
    # A square grid, or one labelled row per class.
    grid, columns, rows = pixels, math.isqrt(len(pixels) - 1) + 1, None
    if labels is not None and arguments.label is None:
        grid, columns = inference.rows_by_class(pixels, labels)
        rows = run.class_names
    elif labels is not None:
        source += f", class {run.class_names[arguments.label]}"
    if arguments.out.lower().endswith(".npy"):
        grid = pixels
    inference.write_images(
        arguments.out, grid, columns, f"{len(pixels)} samples, {source}", rows
    )
    print(f"{len(pixels)} samples from the {source} -> {arguments.out}")
