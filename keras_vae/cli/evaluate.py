"""`keras-vae evaluate`: the metrics of a saved run on a split of its data."""

from keras_vae.cli import common, options
from keras_vae.cli.common import non_negative_float, non_negative_int


def add_parser(commands):
    parser = commands.add_parser(
        "evaluate",
        help="metrics of a saved run",
        description="Evaluate a run folder's model on its dataset's test (or "
        "train) split. Writes nothing into the run folder.",
    )
    options.run_dir(parser)
    parser.add_argument(
        "--split",
        choices=("test", "train"),
        default="test",
        help="(default: %(default)s)",
    )
    options.iw_samples(parser)
    parser.add_argument(
        "--latent-mixture",
        type=non_negative_int,
        default=0,
        metavar="K",
        help="cvae: also judge samples with z from a K-component Gaussian mixture "
        "per class fitted now to the training codes (default: the run's own "
        "mixture if it has one)",
    )
    parser.add_argument(
        "--temperature",
        type=non_negative_float,
        metavar="T",
        help="cvae: judge samples drawn at temperature T, their spread around the "
        "means of the prior's (or mixture's) components scaled by T "
        "(default: the model's, train --sample-temperature)",
    )
    parser.add_argument(
        "--ood",
        metavar="DATA",
        help="instead: how well each anomaly score separates the test split from "
        "DATA (AUROC, AUPRC, false-positive rate at 95%% true positives); DATA as "
        "score takes it: a folder, an image, a split, or digits, photos, noise, "
        "constant, inverted",
    )
    options.score_samples(parser, "--score-iw-samples")
    options.framework(parser)
    return parser


def run(arguments):
    import keras

    from keras_vae.experiments import evaluation

    if arguments.ood is not None:
        return _ood(arguments)

    metrics, config = evaluation.evaluate_run(
        arguments.run_dir,
        arguments.split,
        arguments.iw_samples,
        latent_mixture=arguments.latent_mixture,
        temperature=arguments.temperature,
    )
    print(
        f"{arguments.run_dir}: {config['model']} on {config['dataset_used']}, "
        f"{arguments.split} split, trained on {config.get('backend', 'tensorflow')}, "
        f"evaluated on {keras.backend.backend()}"
    )
    common.print_metrics_table([(arguments.split, metrics)])
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
        bits = ""
        if "bits_per_dim" in metrics and "dequantized_bound" not in metrics:
            bits = f"{metrics['bits_per_dim']:.4f} bits/dim; "
        lines.append(
            f"-log p(x) <= {metrics['iw_bound']:.2f} nats "
            f"({bits}importance-weighted bound, k = {metrics['iw_samples']})"
        )
        if "dequantized_bound" in metrics:
            lines.append(
                f"8-bit pixels: <= {metrics['bits_per_dim']:.4f} bits/dim (the "
                f"bound on dequantized pixels, {metrics['dequantized_bound']:.2f} "
                "nats)"
            )
    kl = metrics["kl_per_dimension"]
    lines.append(
        f"active units: {metrics['active_units']} of {metrics['latent_dim']} "
        f"(Cov_x E[z|x] > 0.01); KL per dimension {min(kl):.2f} to {max(kl):.2f} nats"
    )
    if "label_fidelity" in metrics:
        cooled = (
            f" at temperature {metrics['temperature']:g}"
            if metrics["temperature"] != 1
            else ""
        )
        lines += _sample_lines(metrics, "", f"prior samples{cooled}")
        if "mixture_label_fidelity" in metrics:
            lines += _sample_lines(
                metrics,
                "mixture_",
                f"latent mixture ({metrics['mixture_components']} components per "
                f"class) samples{cooled}",
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
    if "disentanglement" in metrics:
        scores = metrics["disentanglement"]
        lines.append(
            f"disentanglement: MIG {scores['mig']:.3f}, SAP {scores['sap']:.3f}, "
            f"DCI disentanglement {scores['dci_disentanglement']:.3f} / completeness "
            f"{scores['dci_completeness']:.3f} / informativeness "
            f"{scores['dci_informativeness']:.3f}, BetaVAE score "
            f"{scores['beta_vae_score']:.3f}, FactorVAE score "
            f"{scores['factor_vae_score']:.3f}"
        )
    return lines


def _ood(arguments):
    from keras_vae.experiments import anomaly, inference

    run = inference.load_run(arguments.run_dir)
    rows, (normal, unusual) = anomaly.ood_table(
        run, arguments.ood, num_samples=arguments.score_iw_samples
    )
    print(
        f"{arguments.run_dir}: its test split ({normal} images, normal) against "
        f"{arguments.ood} ({unusual} images, anomalies)"
    )
    print(f"{'method':<12}{'AUROC':>8}{'AUPRC':>8}{'FPR@95%TPR':>12}")
    for method, metrics in rows:
        print(
            f"{method:<12}{metrics['auroc']:>8.3f}{metrics['auprc']:>8.3f}"
            f"{metrics['fpr_at_95_tpr']:>12.3f}"
        )
    detector = run.model.anomaly_detector
    if detector is None or detector.reference is None:
        needing = "dose and knn need" if detector is None else "knn needs"
        print(
            f"{needing} the run's calibration: keras-vae calibrate {arguments.run_dir}"
        )
