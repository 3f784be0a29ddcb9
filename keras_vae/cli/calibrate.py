"""`keras-vae calibrate`: place a run's anomaly thresholds on its validation
split, for `score` and `flag_anomalies`."""

from keras_vae import defaults
from keras_vae.cli import options


def add_parser(commands):
    parser = commands.add_parser(
        "calibrate",
        help="place a run's anomaly thresholds",
        description="Fit a run's anomaly detector on its validation split: the "
        "density of the model's statistics (the dose score), the hidden "
        "features and statistics of up to 60,000 training images (the knn "
        "score) and a "
        "threshold per score method at a false-alarm rate. `train` calibrates "
        "dose, elbo and complexity at 1%%; this places thresholds for every "
        "method (or --methods) and rewrites model.keras.",
    )
    options.run_dir(parser)
    options.framework(parser)
    options.anomaly_rate(parser)
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=defaults.ANOMALY_METHODS,
        metavar="METHOD",
        help=f"methods to place thresholds for: {', '.join(defaults.ANOMALY_METHODS)} "
        "(default: every one that applies; class_entropy to a cvae calibrated "
        "without labels)",
    )
    parser.add_argument(
        "--with-labels",
        action="store_true",
        help="cvae: calibrate scores given the images' classes (default: scores "
        "marginalised over the classes, for images of unknown class)",
    )
    return parser


def run(arguments):
    from keras_vae.experiments import anomaly

    detector = anomaly.calibrate_run(
        arguments.run_dir,
        arguments.methods,
        arguments.with_labels,
        **options.rate_keywords(arguments),
    )
    rate = detector.rate_kind.replace("_", " ")
    print(f"Thresholds at a {rate} of {detector.rate:g} -> {arguments.run_dir}")
    for method, value in detector.thresholds.items():
        print(f"  {method:<11} {value:.6g}")
