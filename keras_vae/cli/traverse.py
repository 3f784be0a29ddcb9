"""`keras-vae traverse`: what each latent dimension does, one at a time."""

from keras_vae.cli import options
from keras_vae.cli.common import integer_argument

# Test images whose codes rank the dimensions by KL and mark inactive ones.
REFERENCE_IMAGES = 2000


def add_parser(commands):
    parser = commands.add_parser(
        "traverse",
        help="decode sweeps of each latent dimension (latent traversals)",
        description="Encode a few images; for each latent dimension, decode STEPS "
        "codes equal to an image's posterior mean but for that dimension, swept "
        "from -LIMIT to LIMIT. Dimensions are ordered by their average KL on the "
        "run's test images, inactive ones marked. A PNG has one row per image and "
        "dimension; a GIF animates the sweep, a row per image and a column per "
        "dimension.",
    )
    options.run_dir(parser)
    options.framework(parser)
    parser.add_argument(
        "--images",
        nargs="+",
        default=["test:0", "test:1", "test:2"],
        metavar="IMAGE",
        help="image files of the model's size, or test:N / train:N, the N-th "
        "image of the run's dataset (default: test:0 test:1 test:2)",
    )
    parser.add_argument(
        "--steps",
        type=integer_argument(minimum=2),
        default=9,
        help="codes per sweep, ends included (default: %(default)s)",
    )
    parser.add_argument(
        "--limit",
        type=float,
        default=3.0,
        help="sweep from -LIMIT to LIMIT, in prior standard deviations "
        "(default: %(default)s)",
    )
    options.label(parser, "cvae (required): the class to encode and decode with")
    options.output_file(
        parser, "traversal.png", (".png", ".gif"), ".png grid or .gif animation "
    )
    return parser


def run(arguments):
    import numpy as np

    from keras_vae.experiments import inference, traversal

    run = inference.load_run(arguments.run_dir)
    images = np.stack(
        [inference.read_endpoint(run, source) for source in arguments.images]
    )
    reference, _ = run.split("test")
    sweeps = inference.traverse(
        run,
        images,
        arguments.steps,
        arguments.limit,
        arguments.label,
        reference=reference[:REFERENCE_IMAGES],
    )
    label = (
        "" if arguments.label is None else f", class {run.class_names[arguments.label]}"
    )
    traversal.write_traversal(
        arguments.out,
        sweeps,
        arguments.images,
        f"each latent dimension swept from {-arguments.limit:g} to "
        f"{arguments.limit:g}, the others at the image's code{label}",
    )
    active = int(sweeps.active.sum())
    print(
        f"{len(sweeps.order)} latent dimensions ({active} active) x "
        f"{len(images)} image{'' if len(images) == 1 else 's'} x "
        f"{arguments.steps} steps -> {arguments.out}"
    )
