"""`keras-vae train`: one model, its run folder and figures."""

import os

from keras_vae.cli import common, options


def add_parser(commands):
    parser = commands.add_parser(
        "train",
        help="train one model and write its run folder with figures",
        description="Train one model; writes model.keras (with its preprocessing, "
        "usable alone), config.json, history.csv, metrics.json and PNG figures into "
        "the run folder. An interrupted run continues from its last finished "
        "epoch when the same command is run again.",
    )
    options.run(parser)
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the run already in --out (a folder holding an unfinished run "
        "with the same settings is resumed without it)",
    )
    options.figures(parser)
    options.tensorboard(parser)
    return parser


def run(arguments):
    from keras_vae.experiments import training

    out = arguments.out or training.default_run_directory(arguments.model)
    try:
        run = training.train(
            out=out,
            overwrite=arguments.overwrite,
            tensorboard=arguments.tensorboard,
            with_figures=arguments.figures,
            **options.run_settings(arguments),
        )
    except BaseException as error:
        if not isinstance(error, ValueError):
            # Stopped from outside (Ctrl-C, a full disk, memory): it can go on.
            error.hint = _resume_hint(arguments, out)
        raise
    if run is None:
        print("Training done; the chief worker writes the run folder.")
        return
    print(f"\nRun folder: {run.directory}")
    print(
        f"Dataset: {run.config['dataset_used']} ({run.config['data_source']}), "
        f"epochs trained: {run.metrics['epochs_trained']}, "
        f"backend: {run.config['backend']}"
        + (
            f", {run.config['distribute']} on {run.config['replicas']} replicas"
            if run.config["distribute"]
            else ""
        )
    )
    common.print_metrics_table(
        [(split, run.metrics[split]) for split in ("train", "validation", "test")]
    )
    figures = sorted(
        name for name in os.listdir(run.directory) if name.endswith(".png")
    )
    print("Figures: " + (", ".join(figures) if figures else "none (--no-figures)"))
    if arguments.tensorboard:
        print(f"TensorBoard: tensorboard --logdir {arguments.tensorboard}")


def _resume_hint(arguments, out):
    """How to continue a run that stopped after some of its epochs."""
    from keras_vae.experiments import resume

    try:
        done = resume.backed_up_epochs(out)
    except OSError:
        return None
    if not done:
        return None
    command = "the same command" if arguments.out else f"it with --out {out}"
    return f"{out} keeps epoch {done} of {arguments.epochs}: run {command} to resume."
