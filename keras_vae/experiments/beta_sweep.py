"""The beta study: one run per beta, side by side, with a rate-distortion plot."""

import csv
import os

from keras_vae import checks, defaults, plots, text
from keras_vae import settings as config_lib
from keras_vae.experiments import run_folder, training
from keras_vae.experiments.evaluation import latent_summary
from keras_vae.files import atomic_path

COLUMNS = (
    "beta",
    "test_loss",
    "test_reconstruction_loss",
    "test_kl_loss",
    "test_elbo",
    "test_iw_bound",
    "test_active_units",
    "epochs_trained",
    "run",
)


def sweep(
    betas,
    out=None,
    say=print,
    verbose=None,
    iw_samples=defaults.IW_SAMPLES,
    tensorboard=None,
    **settings,
):
    """Trains one run per beta into `out/beta-<beta>` and compares them.

    Writes `sweep.png` (latent map, reconstructions and samples per beta),
    `rate_distortion.png` and `sweep.csv` into `out`.

    Args:
        betas: Sequence of non-negative floats, at least one.
        out: String or `None`, the sweep folder. Defaults to
            `runs/<timestamp>-sweep`.
        say: Callable for progress lines.
        verbose: Keras `fit` verbosity.
        iw_samples: Integer k of the importance-weighted bound on the test
            set's -log p(x); `0` skips the bound. Defaults to `100`.
        tensorboard: String or `None`, a TensorBoard log folder: each run
            logs into `tensorboard/beta-<beta>` (see `training.train`), so
            TensorBoard shows the betas side by side.
        **settings: Run settings shared by every run (not `beta`).

    Returns:
        List of rows, one dict per beta with the keys of `COLUMNS`.
    """
    if not betas:
        raise ValueError("Give at least one beta, e.g. `betas=(0, 12, 200)`.")
    if "beta" in settings:
        raise ValueError("Pass the betas as `betas`, not as a `beta` setting.")
    for beta in betas:
        config_lib.resolve(**settings, beta=beta)  # every error before any run
    checks.positive_integer("iw_samples", iw_samples, minimum=0)
    if tensorboard is not None:
        training.check_log_dir(tensorboard)
    if len(set(betas)) != len(betas):
        raise ValueError(f"Expected each beta once. Received: {list(betas)}")
    if settings.get("distribute") == "multi-worker":
        raise ValueError(
            '`distribute="multi-worker"` trains one model per process, and a sweep '
            "trains one per beta: on the workers, train one run per beta instead "
            "(mirrored and data-parallel sweep as usual)."
        )
    out = out or training.default_run_directory("sweep")
    if run_folder.check_folder(out, "sweep"):
        run_folder.check_unlocked(out)
    if os.path.exists(os.path.join(out, "sweep.csv")):
        raise ValueError(f"{out} already holds a sweep; choose another `out`.")
    os.makedirs(out, exist_ok=True)
    with run_folder.Lock(out, "keras-vae sweep"):
        run_folder.create(out, "sweep")
        return _sweep_in(out, betas, say, verbose, iw_samples, tensorboard, settings)


def _sweep_in(out, betas, say, verbose, iw_samples, tensorboard, settings):
    """`sweep` once `out` is created and locked."""
    runs, summaries, rows = [], [], []
    for index, beta in enumerate(betas):
        say(f"[{index + 1}/{len(betas)}] beta = {beta:g}")
        folder = os.path.join(out, f"beta-{beta:g}")
        if os.path.exists(os.path.join(folder, "model.keras")):
            # A sweep that was interrupted: its finished runs are kept.
            say(f"{folder} holds this beta's finished run: using it.")
            run = training.finished_run(folder, {**settings, "beta": beta})
        else:
            logs = None
            if tensorboard is not None:
                logs = os.path.join(tensorboard, os.path.basename(folder))
            run = training.train(
                out=folder,
                say=say,
                verbose=verbose,
                tensorboard=logs,
                **settings,
                beta=beta,
            )
        runs.append(run)
        test = run.metrics["test"]
        config = run.config
        inputs = training.model_inputs(
            config,
            run.model.preprocessing,
            run.data.x_test,
            run.data.y_test,
            config["seed"] + 1,
        )
        summary = latent_summary(
            run.model, inputs, iw_samples, seed=config["seed"], bits=False
        )
        summaries.append(summary)
        rows.append(
            {
                "beta": beta,
                **{f"test_{k}": v for k, v in test.items()},
                "test_iw_bound": summary.get("iw_bound", float("nan")),
                "test_active_units": summary["active_units"],
                "epochs_trained": run.metrics["epochs_trained"],
                "run": os.path.basename(run.directory),
            }
        )

    with atomic_path(os.path.join(out, "sweep.csv")) as temporary:
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    plots.save(_panel(runs, summaries), os.path.join(out, "sweep.png"))
    plots.save(
        plots.rate_distortion_figure(
            betas,
            [r["test_kl_loss"] for r in rows],
            [r["test_reconstruction_loss"] for r in rows],
            f"rate-distortion on the test set ({runs[0].config['dataset_used']})",
        ),
        os.path.join(out, "rate_distortion.png"),
    )
    return rows


def _panel(runs, summaries):
    plt = plots.pyplot()
    figure, axes = plt.subplots(
        3,
        len(runs),
        figsize=(4 * len(runs), 7.5),
        layout="constrained",
        squeeze=False,
        gridspec_kw={"height_ratios": [5, 1, 1]},
    )
    for column, (run, summary) in enumerate(zip(runs, summaries, strict=True)):
        test = run.metrics["test"]
        points, labels, method = run.latent
        axis = axes[0, column]
        plots.show_latent_map(
            axis, points, labels, method, run.data.class_names, legend=column == 0
        )
        bound = f", bound {summary['iw_bound']:.1f}" if "iw_bound" in summary else ""
        plots.set_title(
            axis,
            f"β = {run.config['beta']:g}: {summary['active_units']} of "
            f"{summary['latent_dim']} units active\nELBO {test['elbo']:.1f}{bound}, "
            f"KL {test['kl_loss']:.1f}, "
            f"−log p(x|z) {test['reconstruction_loss']:.1f} nats",
            fontsize=9,
        )
        originals, reconstructions = run.reconstructions
        plots.show_images(
            axes[1, column],
            list(originals) + list(reconstructions),
            len(originals),
            "test images / reconstructions",
        )
        plots.show_images(
            axes[2, column], run.samples, len(run.samples), "prior samples"
        )
    return figure


def format_table(rows):
    """The sweep's rows as an aligned text table."""
    header = (
        "beta",
        "loss",
        "-log p(x|z)",
        "KL",
        "ELBO",
        "bound",
        "active units",
        "epochs",
    )
    metrics = (
        "test_loss",
        "test_reconstruction_loss",
        "test_kl_loss",
        "test_elbo",
        "test_iw_bound",
    )
    cells = [
        (
            f"{r['beta']:g}",
            *(f"{r[m]:.2f}" for m in metrics),
            str(r["test_active_units"]),
            str(r["epochs_trained"]),
        )
        for r in rows
    ]
    return text.table(header, cells)
