"""`keras-vae encode`: images' latent codes, as a CSV."""

from keras_vae.cli import options


def add_parser(commands):
    parser = commands.add_parser(
        "encode",
        help="write the latent codes of images to a CSV",
        description="Encode images with a run's model; one CSV row per image with "
        "the posterior's mean and standard deviation per latent dimension.",
    )
    options.run_dir(parser)
    options.framework(parser)
    parser.add_argument(
        "data",
        metavar="DATA",
        help="a folder of images (class sub-folders give labels), one image file, "
        "or test / train: a split of the run's dataset",
    )
    options.label(parser, "cvae: encode every image with class K")
    options.output_file(parser, "codes.csv", (".csv",), "")
    return parser


def run(arguments):
    from keras_vae.experiments import inference

    run = inference.load_run(arguments.run_dir)
    pixels, labels, names = inference.read_images(run, arguments.data, arguments.label)
    # The dataset's labels go into the CSV; only a conditional model reads them.
    mean, sigma = run.model.encode(pixels, labels=labels if run.conditional else None)
    mean, sigma = mean.reshape(len(mean), -1), sigma.reshape(len(sigma), -1)
    inference.write_codes(arguments.out, names, labels, mean, sigma)
    print(
        f"{len(names)} images encoded ({mean.shape[1]} latent dimensions: mean and "
        f"sigma) -> {arguments.out}"
    )
