"""`keras-vae score`: anomaly scores of images, as a CSV and a histogram."""

import os

from keras_vae.cli import options


def add_parser(commands):
    parser = commands.add_parser(
        "score",
        help="score images for anomalies",
        description="Score images with a run's model: one CSV row per image with "
        "its score by --method (higher is more anomalous), 0/1 by the run's "
        "calibrated threshold, the scores of the other calibrated methods, and a "
        "histogram figure of the scores with the threshold beside the CSV.",
    )
    options.run_dir(parser)
    options.framework(parser)
    parser.add_argument(
        "data",
        metavar="DATA",
        help="a folder of images (class sub-folders give labels), one image file, "
        "test / train: a split of the run's dataset, or a generated outlier set: "
        "digits, photos, noise, constant, inverted",
    )
    options.score_method(parser, "the score and anomaly columns' method")
    options.label(parser, "cvae calibrated --with-labels: score as class K")
    options.score_samples(parser)
    options.output_file(parser, "scores.csv", (".csv",), "")
    return parser


def run(arguments):
    from keras_vae import anomaly, plots
    from keras_vae.experiments import anomaly as run_anomaly
    from keras_vae.experiments import inference

    run = inference.load_run(arguments.run_dir)
    detector = run_anomaly.detector_of(run, arguments.method)
    pixels, labels, names = run_anomaly.read_scored_images(
        run, arguments.data, arguments.label
    )
    model_labels = run_anomaly.score_labels(run, detector, labels)
    methods = [arguments.method] + [
        m for m in detector.thresholds if m != arguments.method
    ]
    results = anomaly.scores(
        run.model,
        pixels,
        model_labels,
        methods,
        num_samples=arguments.score_iw_samples or detector.num_samples,
    )
    flags = detector.flag(results[arguments.method], arguments.method)
    posteriors = None
    if run.conditional and model_labels is None:
        posteriors = anomaly.class_posteriors(run.model, pixels)
    run_anomaly.write_scores(
        arguments.out, names, labels, results, arguments.method, flags, posteriors
    )
    figure_path = os.path.splitext(arguments.out)[0] + ".png"
    threshold = detector.thresholds[arguments.method]
    plots.save(
        plots.scores_figure(
            results[arguments.method],
            threshold,
            f"{arguments.data}: {int(flags.sum())} of {len(flags)} above the "
            f"threshold ({detector.rate_kind.replace('_', ' ')} {detector.rate:g})",
            arguments.method,
        ),
        figure_path,
    )
    print(
        f"{len(names)} images scored by {arguments.method}: {int(flags.sum())} "
        f"({flags.mean():.1%}) above the threshold {threshold:.4g} (calibrated for a "
        f"{detector.rate_kind.replace('_', ' ')} of {detector.rate:g}) -> "
        f"{arguments.out}, {figure_path}"
    )
