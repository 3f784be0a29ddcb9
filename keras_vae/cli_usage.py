"""`keras-vae sample`, `interpolate` and `encode`: using a finished run.

Parsing imports no framework; each command imports what it needs after it.
"""

import argparse
import math
import os

from keras_vae.arguments import (
    add_framework_arguments,
    integer_argument,
    non_negative_int,
    positive_int,
)


def _output_path(*extensions):
    """An argparse type for an output file with one of `extensions`."""

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
    return check


def _command(commands, name, help, description):
    parser = commands.add_parser(name, help=help, description=description)
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a folder written by train")
    add_framework_arguments(parser)
    return parser


def _add_label(parser, help):
    parser.add_argument("--label", type=non_negative_int, metavar="K", help=help)


def _add_out(parser, default, extensions, help):
    parser.add_argument(
        "--out",
        type=_output_path(*extensions),
        default=default,
        metavar="FILE",
        help=f"{help}(default: %(default)s)",
    )


def add_commands(commands):
    """sample, interpolate and encode: using a finished run."""
    sample = _command(
        commands,
        "sample",
        "draw samples of a run's model",
        "Decode draws of a run's model into a PNG grid or a .npy array of pixels "
        "in [0, 1]. Draws come from the run's latent mixture when it has one "
        "(train --latent-mixture), else from the prior N(0, I).",
    )
    sample.add_argument(
        "--n",
        type=positive_int,
        help="how many (default: 64; cvae without --label: 8 per class)",
    )
    _add_label(sample, "cvae: samples of class K (default: every class, one row each)")
    sample.add_argument(
        "--seed", type=non_negative_int, default=0, help="(default: %(default)s)"
    )
    sample.add_argument(
        "--prior",
        action="store_true",
        help="draw from the prior even if the run has a latent mixture",
    )
    _add_out(sample, "samples.png", (".png", ".npy"), ".png grid or .npy array ")

    interpolate = _command(
        commands,
        "interpolate",
        "decode the line between the codes of two images",
        "Encode two images, decode STEPS codes on the line between their "
        "posterior means, and write them as a PNG strip (the two images at its "
        "ends) or a .npy array.",
    )
    for end in ("from", "to"):
        interpolate.add_argument(
            f"--{end}",
            dest=f"{end}_image",
            required=True,
            metavar="IMAGE",
            help="an image file of the model's size, or test:N / train:N, the N-th "
            "image of the run's dataset",
        )
    interpolate.add_argument(
        "--steps",
        type=integer_argument(minimum=2),
        default=10,
        help="codes on the line, ends included (default: %(default)s)",
    )
    _add_label(interpolate, "cvae (required): the class to encode and decode with")
    _add_out(
        interpolate, "interpolation.png", (".png", ".npy"), ".png strip or .npy array "
    )

    encode = _command(
        commands,
        "encode",
        "write the latent codes of images to a CSV",
        "Encode images with a run's model; one CSV row per image with the "
        "posterior's mean and standard deviation per latent dimension.",
    )
    encode.add_argument(
        "data",
        metavar="DATA",
        help="a folder of images (class sub-folders give labels), one image file, "
        "or test / train: a split of the run's dataset",
    )
    _add_label(encode, "cvae: encode every image with class K")
    _add_out(encode, "codes.csv", (".csv",), "")


def _sample(arguments):
    from keras_vae.experiments import inference

    run = inference.load_run(arguments.run_dir)
    pixels, labels = inference.sample(
        run, arguments.n, arguments.label, arguments.seed, arguments.prior
    )
    source = (
        "prior N(0, I)"
        if arguments.prior or run.density is None
        else f"latent mixture ({run.density.components} components)"
    )
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


def _interpolate(arguments):
    from keras_vae.experiments import inference

    run = inference.load_run(arguments.run_dir)
    start = inference.read_endpoint(run, arguments.from_image)
    end = inference.read_endpoint(run, arguments.to_image)
    pixels = inference.interpolate(run, start, end, arguments.steps, arguments.label)
    if arguments.out.lower().endswith(".npy"):
        inference.write_images(arguments.out, pixels, arguments.steps, "")
    else:
        import numpy as np

        strip = np.concatenate([start[None], pixels, end[None]])
        inference.write_images(
            arguments.out,
            strip,
            len(strip),
            f"{arguments.from_image} (left) to {arguments.to_image} (right): "
            f"{arguments.steps} decoded codes on the line between their means"
            + (
                ""
                if arguments.label is None
                else f", class {run.class_names[arguments.label]}"
            ),
        )
    print(
        f"{arguments.steps} images from {arguments.from_image} to "
        f"{arguments.to_image} -> {arguments.out}"
    )


def _encode(arguments):
    from keras_vae.experiments import inference

    run = inference.load_run(arguments.run_dir)
    pixels, labels, names = inference.read_images(run, arguments.data, arguments.label)
    mean, sigma = run.encode(pixels, labels)
    inference.write_codes(arguments.out, names, labels, mean, sigma)
    print(
        f"{len(names)} images encoded ({mean.shape[1]} latent dimensions: mean and "
        f"sigma) -> {arguments.out}"
    )


COMMANDS = {"sample": _sample, "interpolate": _interpolate, "encode": _encode}
