"""`keras-vae tune` and `python -m tuning`: a KerasTuner search from the shell.

Parsing imports neither TensorFlow nor KerasTuner.
"""

import os
import sys

from keras_vae import config_file, settings
from keras_vae.arguments import (
    Parser,
    add_framework_arguments,
    integer_argument,
    non_negative_int,
    number_argument,
    positive_int,
    report_errors,
    start_framework,
)

TUNERS = ("random", "bayesian", "hyperband")
DISTRIBUTED_VARIABLES = (
    "KERASTUNER_TUNER_ID",
    "KERASTUNER_ORACLE_IP",
    "KERASTUNER_ORACLE_PORT",
)


def add_arguments(parser):
    """Adds the tune command's arguments to an argparse parser."""
    group = parser.add_argument_group("search space (one value: fixed; two: a range)")
    group.add_argument(
        "--latent-dim",
        type=integer_argument(),
        nargs="+",
        default=[2, 64],
        metavar="N",
        help="(default: 2 64, log-sampled)",
    )
    group.add_argument(
        "--beta",
        type=number_argument(),
        nargs="+",
        default=[0.0, 200.0],
        metavar="B",
        help="(default: 0 200, log scale; the decade below 0.01 stands for 0)",
    )
    group.add_argument(
        "--beta-values",
        type=number_argument(),
        nargs="+",
        metavar="B",
        help="candidate betas instead of a range, e.g. 0 1 200",
    )
    group.add_argument(
        "--hidden-units",
        type=integer_argument(),
        nargs="+",
        default=[500],
        metavar="N",
        help="first hidden layer of the MLP (default: 500)",
    )
    group.add_argument(
        "--filters",
        type=integer_argument(),
        nargs="+",
        default=[32],
        metavar="N",
        help="first convolution of the CVAE (default: 32)",
    )
    group.add_argument(
        "--learning-rate",
        type=number_argument(),
        nargs="+",
        default=[1e-3],
        metavar="LR",
        help="(default: 0.001)",
    )
    group = parser.add_argument_group("search")
    group.add_argument(
        "--tuner", choices=TUNERS, default="bayesian", help="(default: %(default)s)"
    )
    group.add_argument(
        "--objective",
        default="val_elbo",
        help="val_elbo (default, invariant to beta), active_units, rate "
        "(needs --rate-budget), any logged metric, or NAME:min|max",
    )
    group.add_argument(
        "--rate-budget",
        type=number_argument(),
        metavar="NATS",
        help="KL budget of the 'rate' objective",
    )
    group.add_argument(
        "--max-trials", type=positive_int, default=10, help="(default: %(default)s)"
    )
    group.add_argument(
        "--epochs",
        type=positive_int,
        default=5,
        help="epochs per trial; the longest bracket for hyperband "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--directory",
        default="tuning_runs",
        help="where searches live (default: %(default)s)",
    )
    group.add_argument(
        "--project", help="the search's folder name (default: the model)"
    )
    group.add_argument(
        "--overwrite",
        action="store_true",
        help="delete an earlier search in the same folder",
    )
    group.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="run a chief and N workers on this machine",
    )
    group = parser.add_argument_group("model and data")
    group.add_argument("--model", choices=("vae", "cvae"), default="vae")
    group.add_argument("--likelihood", choices=settings.LIKELIHOODS, default="gaussian")
    group.add_argument(
        "--parameterization", choices=settings.PARAMETERIZATIONS, default="softplus"
    )
    group.add_argument("--dataset", choices=settings.DATASETS)
    group.add_argument("--data-path", metavar="PATH")
    group.add_argument("--preprocessing", choices=settings.PREPROCESSINGS)
    group.add_argument(
        "--max-examples",
        type=positive_int,
        metavar="N",
        help="train each trial on the first N training images",
    )
    group.add_argument("--batch-size", type=positive_int, default=64)
    group.add_argument("--seed", type=non_negative_int, default=0)
    config_file.add_config_argument(parser)
    add_framework_arguments(parser)


def build_parser():
    parser = Parser(
        prog="python -m tuning",
        description="KerasTuner search over latent size and beta of keras_vae models.",
    )
    add_arguments(parser)
    return parser


def _space(values, name):
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return tuple(values)
    raise ValueError(
        f"--{name} takes one value (fixed) or two (a range). Received: {values}"
    )


def hypermodel_arguments(arguments, input_shape, num_classes):
    beta = (
        list(arguments.beta_values)
        if arguments.beta_values
        else _space(arguments.beta, "beta")
    )
    common = {
        "likelihood": arguments.likelihood,
        "parameterization": arguments.parameterization,
        "latent_dim": _space(arguments.latent_dim, "latent-dim"),
        "beta": beta,
        "learning_rate": _space(arguments.learning_rate, "learning-rate"),
        "rate_budget": arguments.rate_budget,
        "seed": arguments.seed,
    }
    if arguments.model == "vae":
        return {
            "input_shape": input_shape,
            **common,
            "hidden_units": _space(arguments.hidden_units, "hidden-units"),
        }
    return {
        "input_shape": input_shape,
        "num_classes": num_classes,
        **common,
        "filters": _space(arguments.filters, "filters"),
    }


def run(arguments, argv):
    """Runs the search that `arguments` describe; `argv` re-launches it in
    chief and worker processes when `--workers` is given."""
    import tuning
    from keras_vae.experiments import run_folder, training

    config = settings.resolve(
        model=arguments.model,
        likelihood=arguments.likelihood,
        preprocessing=arguments.preprocessing,
        dataset=arguments.dataset,
        data_path=arguments.data_path,
        seed=arguments.seed,
        batch_size=arguments.batch_size,
        epochs=arguments.epochs,
        parameterization=arguments.parameterization,
    )
    distributed_role = os.environ.get("KERASTUNER_TUNER_ID")
    say = print if distributed_role is None else (lambda *_: None)
    project = arguments.project or config["model"]
    folder = os.path.join(arguments.directory, project)
    prepared = training.prepare_data(config, say, arguments.max_examples)
    data = prepared.data
    hypermodel_class = (
        tuning.ConditionalVAEHyperModel
        if config["model"] == "cvae"
        else tuning.VAEHyperModel
    )
    hypermodel = hypermodel_class(
        **hypermodel_arguments(arguments, data.image_shape, data.num_classes)
    )
    if distributed_role is not None:
        # The launching process holds the lock for its chief and workers.
        return _search(arguments, argv, hypermodel, prepared, project, folder, say)
    # Every check before the lock file is written.
    from tuning.search import check_search

    check_search(
        hypermodel,
        arguments.tuner,
        arguments.objective,
        arguments.max_trials,
        arguments.epochs,
        arguments.directory,
        project,
        arguments.seed,
        arguments.overwrite,
    )
    os.makedirs(arguments.directory, exist_ok=True)
    lock = run_folder.Lock(
        arguments.directory, "keras-vae tune", name=f".{project}.keras-vae.lock"
    )
    with lock:
        return _search(arguments, argv, hypermodel, prepared, project, folder, say)


def _search(arguments, argv, hypermodel, prepared, project, folder, say):
    """The search itself, once the project folder is checked (and locked)."""
    import tuning

    distributed_role = os.environ.get("KERASTUNER_TUNER_ID")
    tuner = tuning.make_tuner(
        hypermodel,
        tuner=arguments.tuner,
        objective=arguments.objective,
        max_trials=arguments.max_trials,
        max_epochs=arguments.epochs,
        directory=arguments.directory,
        project_name=project,
        seed=arguments.seed,
        overwrite=arguments.overwrite and distributed_role is None,
    )
    if arguments.workers:
        from tuning import distributed

        distributed.launch(argv, arguments.workers, folder, say)
        tuner.reload()
    else:
        say(f"Searching on {prepared.describe()} -> {folder}")
        search_arguments = {
            "validation_data": prepared.validation,
            "verbose": 1 if sys.stdout.isatty() and not distributed_role else 2,
        }
        if arguments.tuner != "hyperband":
            search_arguments["epochs"] = arguments.epochs
        tuner.search(**prepared.training, **search_arguments)
    if distributed_role is not None:
        return
    rows = tuning.results(tuner)
    tuning.write_results(tuner, rows, folder)
    print()
    print(tuning.format_results(rows))
    print(
        f"\nResults: {os.path.join(folder, 'results.csv')}, results.png; "
        f"best model: {os.path.join(folder, 'best.keras')}"
    )


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    argv = sys.argv[1:] if argv is None else list(argv)
    arguments = config_file.parse_args(build_parser(), argv)
    prog = "python -m tuning"
    if report_errors(prog, start_framework, arguments):
        return 1
    return run_command(arguments, argv, prog=prog)


def run_command(arguments, argv, prog):
    """Runs the search; user errors become one line on stderr and exit code 1."""
    return report_errors(prog, run, arguments, argv)
