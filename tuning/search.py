"""Tuners over keras_vae hypermodels, their results table, plot and best model."""

import csv
import json
import math
import os
import warnings

from keras_vae import defaults, text
from keras_vae.files import atomic_path, write_json
from tuning import persistence
from tuning.objectives import make_objective

# KerasTuner's tuners, saving their state atomically (a killed search resumes).
TUNERS = {
    "random": persistence.RandomSearch,
    "bayesian": persistence.BayesianOptimization,
    "hyperband": persistence.Hyperband,
}
FINGERPRINT = "keras_vae_search.json"
TABLE_METRICS = (
    "val_reconstruction_loss",
    "val_kl_loss",
    "val_elbo",
    "val_active_units",
)


def make_tuner(
    hypermodel,
    tuner=defaults.TUNER,
    objective="val_elbo",
    max_trials=defaults.MAX_TRIALS,
    max_epochs=None,
    directory=defaults.SEARCH_DIRECTORY,
    project_name="vae",
    seed=0,
    overwrite=False,
    **kwargs,
):
    """A KerasTuner tuner over a keras_vae hypermodel; resumes an existing search.

    A search in `directory/project_name` is resumed when its hypermodel, tuner
    and objective match (KerasTuner keeps completed trials and retries the one
    that was running); a different search there is refused. `max_trials` may
    grow between runs.

    Args:
        hypermodel: A `VAEHyperModel` or `ConditionalVAEHyperModel`.
        tuner: String, `"random"`, `"bayesian"` or `"hyperband"`.
        objective: String or `keras_tuner.Objective`, see `make_objective`.
            Defaults to `"val_elbo"`.
        max_trials: Integer, trials to run (random and bayesian).
        max_epochs: Integer, epochs of the longest Hyperband bracket
            (hyperband only; required there).
        directory: String, where the search lives.
        project_name: String, subfolder of `directory`.
        seed: Integer, seed of the tuner's sampling.
        overwrite: Boolean, start afresh, deleting an earlier search (a
            folder holding anything else is refused, with or without it).
        **kwargs: Other arguments of the KerasTuner tuner, e.g. the distribution
            strategy.

    Returns:
        A `keras_tuner.Tuner`.

    Raises:
        ValueError: on an unknown tuner or objective, bad counts, an objective
            that needs a setting the hypermodel lacks, or a directory holding
            a different search. Raised before any trial runs.

    Example:

    ```python
    import tuning

    hypermodel = tuning.VAEHyperModel((8, 8, 1), latent_dim=(2, 8), beta=(0.0, 4.0))
    tuner = tuning.make_tuner(hypermodel, "random", max_trials=3, directory="search")
    print(type(tuner).__name__)  # RandomSearch; tuner.search(x, ...) runs it
    ```
    """
    arguments, fingerprint = check_search(
        hypermodel,
        tuner,
        objective,
        max_trials,
        max_epochs,
        directory,
        project_name,
        seed,
        overwrite,
    )
    instance = TUNERS[tuner](hypermodel, **arguments, **kwargs)
    project = os.path.join(directory, project_name)
    os.makedirs(project, exist_ok=True)
    write_json(os.path.join(project, FINGERPRINT), fingerprint)
    return instance


def check_search(
    hypermodel,
    tuner,
    objective,
    max_trials,
    max_epochs,
    directory,
    project_name,
    seed,
    overwrite,
):
    """`make_tuner`'s checks, which write nothing.

    Returns:
        Tuple `(arguments, fingerprint)`: the tuner's keyword arguments, and
        what identifies the search in its folder.

    Raises:
        ValueError: see `make_tuner`.
    """
    if tuner not in TUNERS:
        raise ValueError(f"Unknown tuner {tuner!r}. Expected one of {sorted(TUNERS)}.")
    objective = make_objective(objective)
    if (
        objective.name == "val_reconstruction_at_rate"
        and hypermodel.rate_budget is None
    ):
        raise ValueError(
            "The 'rate' objective needs a KL budget: give the hypermodel "
            "`rate_budget=NATS`."
        )
    if objective.name in ("val_loss", "loss") and hypermodel.searches_beta:
        warnings.warn(
            f"Objective {objective.name!r} with beta searched: the loss is "
            "reconstruction + beta * KL, so it favours the smallest beta whatever "
            "the model's quality. Use 'val_elbo' (the negative ELBO at beta = 1) to "
            "compare models trained with different beta.",
            UserWarning,
            stacklevel=3,
        )
    arguments = {
        "objective": objective,
        "seed": seed,
        "directory": directory,
        "project_name": project_name,
        "overwrite": overwrite,
    }
    if tuner == "hyperband":
        _positive("max_epochs", max_epochs)
        arguments["max_epochs"] = max_epochs
    else:
        _positive("max_trials", max_trials)
        arguments["max_trials"] = max_trials

    fingerprint = {
        "hypermodel": hypermodel.get_config(),
        "tuner": tuner,
        "objective": [objective.name, objective.direction],
    }
    project = os.path.join(directory, project_name)
    path = os.path.join(project, FINGERPRINT)
    if os.path.lexists(project) and not os.path.isdir(project):
        raise ValueError(
            f"{project} is a file; expected a new folder or a keras_vae search's "
            "folder. Choose another directory or project name."
        )
    names = sorted(os.listdir(project)) if os.path.isdir(project) else []
    if names and FINGERPRINT not in names:
        # KerasTuner's overwrite deletes the whole folder: only ours.
        shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
        raise ValueError(
            f"{project} holds files that are not a keras_vae search ({shown}); "
            "expected a new folder or a search's folder. Choose another "
            "directory or project name: keras_vae never deletes other files."
        )
    if not overwrite and os.path.exists(path):
        with open(path) as file:
            earlier = json.load(file)
        if earlier != fingerprint:
            changed = sorted(k for k in fingerprint if earlier.get(k) != fingerprint[k])
            raise ValueError(
                f"{project} holds a different search (its {', '.join(changed)} "
                "differ). Choose another directory or project name, or overwrite it."
            )
    return arguments, fingerprint


def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"Expected a positive integer `{name}`. Received: {name}={value!r}"
        )


def results(tuner):
    """One row per trial: id, status, searched values, objective and metrics.

    Metrics are those of the trial's best epoch (the one whose weights
    KerasTuner keeps). Rows are sorted best first; unfinished trials last.

    Example:

    ```python
    import keras_vae
    import tuning

    data = keras_vae.datasets.load("digits")
    x = (data.x_train - data.x_train.mean()) / data.x_train.std()
    hypermodel = tuning.VAEHyperModel(
        input_shape=data.image_shape, latent_dim=(2, 8), beta=1.0, hidden_units=64
    )
    tuner = tuning.make_tuner(
        hypermodel, tuner="random", max_trials=1, directory="runs"
    )
    tuner.search(x[:1200], validation_data=x[1200:], epochs=1, verbose=0)
    rows = tuning.results(tuner)
    print(rows[0]["latent_dim"], rows[0]["objective"])  # e.g. 5 val_elbo
    print(tuning.format_results(rows))
    tuning.write_results(tuner, rows, "runs/summary")  # results.csv/.png, best.keras
    ```
    """
    objective = tuner.oracle.objective
    hypermodel = tuner.hypermodel
    rows = []
    for trial in tuner.oracle.trials.values():
        values = hypermodel.draw(trial.hyperparameters.copy())
        row = {
            "trial": trial.trial_id,
            "status": trial.status,
            "latent_dim": values["latent_dim"],
            "beta": values["beta"],
            **{k: v for k, v in values.items() if k not in ("latent_dim", "beta")},
            "objective": objective.name,
            "score": trial.score if trial.score is not None else math.nan,
        }
        for name in TABLE_METRICS:
            row[name] = _value_at_step(trial, name, trial.best_step)
        rows.append(row)
    sign = -1 if objective.direction == "max" else 1
    rows.sort(
        key=lambda r: (
            math.isnan(r["score"]),
            sign * r["score"] if not math.isnan(r["score"]) else 0,
            r["trial"],
        )
    )
    return rows


def _value_at_step(trial, name, step):
    if not trial.metrics.exists(name):
        return math.nan
    history = trial.metrics.get_history(name)
    for observation in history:
        if observation.step == step:
            return float(
                observation.value[0]
                if isinstance(observation.value, list)
                else observation.value
            )
    return float(trial.metrics.get_last_value(name))


def write_results(tuner, rows, folder):
    """Writes `results.csv`, `results.png` and `best.keras` into `folder`.

    `rows` are those of `results(tuner)`; `best.keras` is the best completed
    trial's model, written only when a trial completed.

    Example: see `results`.
    """
    os.makedirs(folder, exist_ok=True)
    with atomic_path(os.path.join(folder, "results.csv")) as temporary:
        with open(temporary, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    from keras_vae import plots

    plots.save(_plot(rows, tuner.oracle.objective), os.path.join(folder, "results.png"))
    completed = [r for r in rows if not math.isnan(r["score"])]
    if completed:
        (best,) = tuner.get_best_models(1)
        with atomic_path(os.path.join(folder, "best.keras")) as temporary:
            best.save(temporary)


def _plot(rows, objective):
    from keras_vae import plots

    plt = plots.pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 5), layout="constrained")
    done = [r for r in rows if not math.isnan(r["score"])]
    points = axis.scatter(
        [r["latent_dim"] for r in done],
        [r["beta"] for r in done],
        c=[r["score"] for r in done],
        cmap="viridis_r" if objective.direction == "min" else "viridis",
        s=60,
    )
    figure.colorbar(points, label=f"{objective.name} ({objective.direction})")
    if done:
        axis.scatter(
            [done[0]["latent_dim"]],
            [done[0]["beta"]],
            marker="*",
            s=300,
            facecolors="none",
            edgecolors="red",
            label="best",
        )
        axis.legend(loc="best")
    axis.set_xscale("log", base=2)
    axis.set_yscale("symlog", linthresh=0.01)
    # beta >= 0: show 0 but not the negative half of the symlog axis.
    axis.set_ylim(-0.002, 3 * max([r["beta"] for r in done] + [1.0]))
    axis.set_xlabel("latent_dim")
    axis.set_ylabel("β")
    plots.set_title(
        axis, f"{len(done)} trials: {objective.name} over (latent_dim, β)", 10
    )
    axis.grid(alpha=0.3)
    return figure


def format_results(rows):
    """The results of `results(tuner)` as an aligned text table, best first.

    Example: see `results`.
    """
    columns = [
        "trial",
        "latent_dim",
        "beta",
        "score",
        "val_reconstruction_loss",
        "val_kl_loss",
        "val_elbo",
        "val_active_units",
        "status",
    ]
    header = [
        "trial",
        "latent",
        "beta",
        rows[0]["objective"],
        "-log p(x|z)",
        "KL",
        "ELBO",
        "active",
        "status",
    ]

    def cell(value):
        if isinstance(value, float):
            return "-" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    return text.table(header, [[cell(r[c]) for c in columns] for r in rows])
