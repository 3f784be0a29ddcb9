"""`keras-vae interpolate`: the line between the codes of two images."""

from keras_vae.cli import options
from keras_vae.cli.common import integer_argument


def add_parser(commands):
    parser = commands.add_parser(
        "interpolate",
        help="decode the line between the codes of two images",
        description="Encode two images, decode STEPS codes on the line between "
        "their posterior means, and write them as a PNG strip (the two images at "
        "its ends) or a .npy array.",
    )
    options.run_dir(parser)
    options.framework(parser)
    for end in ("from", "to"):
        parser.add_argument(
            f"--{end}",
            dest=f"{end}_image",
            required=True,
            metavar="IMAGE",
            help="an image file of the model's size, or test:N / train:N, the N-th "
            "image of the run's dataset",
        )
    parser.add_argument(
        "--steps",
        type=integer_argument(minimum=2),
        default=10,
        help="codes on the line, ends included (default: %(default)s)",
    )
    options.label(parser, "cvae (required): the class to encode and decode with")
    options.output_file(
        parser, "interpolation.png", (".png", ".npy"), ".png strip or .npy array "
    )
    return parser


def run(arguments):
    import numpy as np

    from keras_vae.experiments import inference

    run = inference.load_run(arguments.run_dir)
    start = inference.read_endpoint(run, arguments.from_image)
    end = inference.read_endpoint(run, arguments.to_image)
    pixels = inference.interpolate(run, start, end, arguments.steps, arguments.label)
    if arguments.out.lower().endswith(".npy"):
        inference.write_images(arguments.out, pixels, arguments.steps, "")
    else:
        strip = np.concatenate([start[None], pixels, end[None]])
        label = (
            ""
            if arguments.label is None
            else f", class {run.class_names[arguments.label]}"
        )
        inference.write_images(
            arguments.out,
            strip,
            len(strip),
            f"{arguments.from_image} (left) to {arguments.to_image} (right): "
            f"{arguments.steps} decoded codes on the line between their means{label}",
        )
    print(
        f"{arguments.steps} images from {arguments.from_image} to "
        f"{arguments.to_image} -> {arguments.out}"
    )
