"""`keras-vae tune`: a KerasTuner search over latent size and beta from the shell.

Parsing imports neither TensorFlow nor KerasTuner. (`python -m tuning` is the
same command.)
"""

import os
import sys

from keras_vae import defaults, settings
from keras_vae.cli import options
from keras_vae.cli.common import integer_argument, number_argument, positive_int

TUNERS = ("random", "bayesian", "hyperband")


def add_parser(commands):
    parser = commands.add_parser(
        "tune",
        help="KerasTuner search over latent size and beta",
        description="KerasTuner search over latent size and beta (and more), ranked "
        "by val_elbo; resumable, and distributable with --workers. Also: "
        "python -m tuning.",
    )
    group = parser.add_argument_group("search space (one value: fixed; two: a range)")

    def space(flag, kind, default, metavar, help):
        group.add_argument(
            flag,
            type=kind,
            nargs="+",
            default=list(default) if isinstance(default, tuple) else [default],
            metavar=metavar,
            help=help + " (default: " + " ".join(map(str, _listed(default))) + ")",
        )

    space("--latent-dim", integer_argument(), defaults.SEARCH_LATENT_DIM, "N", "")
    space(
        "--beta",
        number_argument(),
        defaults.SEARCH_BETA,
        "B",
        "log scale; the decade below 0.01 stands for 0",
    )
    group.add_argument(
        "--beta-values",
        type=number_argument(),
        nargs="+",
        metavar="B",
        help="candidate betas instead of a range, e.g. 0 1 200",
    )
    space(
        "--hidden-units",
        integer_argument(),
        defaults.HIDDEN_UNITS,
        "N",
        "first hidden layer of the MLP",
    )
    space(
        "--filters",
        integer_argument(),
        defaults.FILTERS,
        "N",
        "first convolution of the CVAE",
    )
    space("--learning-rate", number_argument(), defaults.LEARNING_RATE, "LR", "")
    group.add_argument(
        "--prior",
        type=options.spec(_prior_text),
        nargs="+",
        default=["normal"],
        metavar="KIND[:K]",
        help="candidate priors, as train --prior takes them, e.g. normal vamp:50 "
        "(default: normal)",
    )
    group.add_argument(
        "--train-samples",
        type=positive_int,
        nargs="+",
        default=[1],
        metavar="K",
        help="candidate posterior samples of the training objective, e.g. 1 5 "
        "(default: 1, the ELBO)",
    )
    group = parser.add_argument_group("search")
    group.add_argument(
        "--tuner", choices=TUNERS, default=defaults.TUNER, help="(default: %(default)s)"
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
        "--max-trials",
        type=positive_int,
        default=defaults.MAX_TRIALS,
        help="(default: %(default)s)",
    )
    group.add_argument(
        "--epochs",
        type=positive_int,
        default=defaults.SEARCH_EPOCHS,
        help="epochs per trial; the longest bracket for hyperband "
        "(default: %(default)s)",
    )
    group.add_argument(
        "--directory",
        default=defaults.SEARCH_DIRECTORY,
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
    options.model(group, choices=("vae", "cvae"))
    options.likelihood(group, by_model=False)
    options.parameterization(group)
    options.data(group, images=False)
    options.max_examples(group)
    options.batch_size(group)
    options.seed(group)
    options.config(parser)
    options.framework(parser)
    return parser


def _listed(value):
    return value if isinstance(value, tuple) else (value,)


def _prior_text(text):
    return str(settings.PriorSpec.parse(text))


def _candidates(values):
    """One value: fixed; more: the candidates to choose from."""
    return values[0] if len(values) == 1 else list(values)


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
        "prior": _candidates(arguments.prior),
        "train_samples": _candidates(arguments.train_samples),
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


def run(arguments):
    """Runs the search that `arguments` describe; with `--workers`, the
    command's own arguments (`arguments.command_argv`) start the chief and the
    workers."""
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
        max_examples=arguments.max_examples,
    )
    distributed_role = os.environ.get("KERASTUNER_TUNER_ID")
    say = print if distributed_role is None else (lambda *_: None)
    project = arguments.project or config["model"]
    folder = os.path.join(arguments.directory, project)
    prepared = training.prepare_data(config, say)
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
        return _search(arguments, hypermodel, prepared, project, folder, say)
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
        return _search(arguments, hypermodel, prepared, project, folder, say)


def _search(arguments, hypermodel, prepared, project, folder, say):
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

        command = [sys.executable, "-m", "keras_vae", "tune", *arguments.command_argv]
        distributed.launch(command, arguments.workers, folder, say)
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
