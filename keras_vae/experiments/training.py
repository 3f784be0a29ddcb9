"""One training run: data, model, fit, metrics, figures, all in a run folder."""

import dataclasses
import datetime
import json
import os
import shutil
import sys
import tempfile

import keras
import numpy as np

from keras_vae import architectures, datasets, framework, likelihoods
from keras_vae import settings as config_lib
from keras_vae.experiments import backup, divergence, figures, resume, stopping
from keras_vae.experiments import distribution as distributing
from keras_vae.experiments.splits import split, validation_split
from keras_vae.files import atomic_path, write_json
from keras_vae.latent_mixture import LatentMixture
from keras_vae.models import VAE, ConditionalVAE
from keras_vae.models.vae import METRIC_NAMES
from keras_vae.priors import VampPrior


@dataclasses.dataclass
class Run:
    """What a finished run leaves behind, for the sweep's side-by-side panel."""

    directory: str
    config: dict
    metrics: dict
    model: keras.Model  # with its preprocessing and latent mixture
    data: datasets.ImageData
    latent: tuple = None  # (points, labels, method), for the figures
    reconstructions: tuple = None  # (originals, reconstructions), pixels
    samples: np.ndarray = None  # pixels


def load_data(config, say=print):
    """Loads the run's dataset; with no dataset named, MNIST or else digits.

    Returns:
        Tuple `(data, dataset_used)`.
    """
    name = config["dataset"]
    if name is None and config["data_path"] is None:
        try:
            return datasets.load("mnist"), "mnist"
        except datasets.DataUnavailableError:
            say(
                "MNIST is neither cached nor downloadable here: training on "
                "scikit-learn's bundled 8x8 digits instead (choose with `dataset`)."
            )
            return datasets.load("digits"), "digits"
    name = name or "custom"
    return load_named(name, config), name


def load_named(name, config):
    """The dataset `name` with the run's path, image options and split seed."""
    return datasets.load(
        name,
        config["data_path"],
        config.get("image_size"),
        config.get("color_mode"),
        config["seed"],
    )


def default_run_directory(model, root="runs"):
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = os.path.join(root, f"{stamp}-{model}")
    suffix = 1
    while os.path.exists(path):
        suffix += 1
        path = os.path.join(root, f"{stamp}-{model}-{suffix}")
    return path


def build_model(config, prepared):
    """The model `config` names (the original study's MLP VAE or conv CVAE,
    or the conv VAE), with its schedules in training steps, the run's
    preprocessing and class names, compiled with Adam."""
    data = prepared.data
    steps_per_epoch = -(-prepared.num_training // config["batch_size"])
    beta = config["beta"]
    if config["beta_schedule"] is not None:
        beta = config["beta_schedule"].build(beta, steps_per_epoch)
    capacity = config["capacity"]
    if capacity is not None:
        capacity = capacity.build(steps_per_epoch, config["epochs"])
    arguments = {
        "beta": beta,
        "parameterization": config["parameterization"],
        "likelihood": config["likelihood"],
        "seed": config["seed"],
        "free_bits": config["free_bits"],
        "capacity": capacity,
        "penalty": config["objective"] and config["objective"].build(config["seed"]),
        "prior": config["prior"]
        and config["prior"].build(data.num_classes, config["seed"]),
        "num_samples": config["train_samples"],
        "dequantize": config["dequantize"],
        "preprocessing": prepared.preprocessing,
        "class_names": data.class_names,
        "sample_temperature": config["sample_temperature"],
    }
    # The decoder outputs every parameter of the likelihood.
    parameters_per_value = likelihoods.get(config["likelihood"]).parameters_per_value
    if config["model"] in ("vae", "conv_vae"):
        architecture = (
            architectures.mlp if config["model"] == "vae" else architectures.conv
        )
        encoder, decoder = architecture(
            data.image_shape,
            config["latent_dim"],
            parameters_per_value=parameters_per_value,
        )
        model = VAE(encoder, decoder, **arguments)
    else:
        encoder, decoder = architectures.conv_conditional(
            data.image_shape,
            config["latent_dim"],
            data.num_classes,
            condition_all_layers=config["condition_all_layers"],
            parameters_per_value=parameters_per_value,
        )
        model = ConditionalVAE(
            encoder, decoder, num_classes=data.num_classes, **arguments
        )
    if isinstance(model.prior, VampPrior):
        _start_pseudo_inputs(model, prepared, config["seed"])
    model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]))
    return model


def _start_pseudo_inputs(model, prepared, seed):
    """The VampPrior's pseudo-inputs start as training images drawn by the
    seed (in the networks' space), not as noise."""
    index = prepared.train_index
    count = model.prior.num_components
    chosen = np.random.default_rng(seed).choice(
        len(index), count, replace=len(index) < count
    )
    pixels = np.asarray(prepared.data.x_train[np.sort(index[chosen])])
    inputs = prepared.preprocessing.transform(pixels)
    model.build((None,) + tuple(inputs.shape[1:]))
    model.prior.initialize(inputs)


def train(
    out=None,
    say=print,
    verbose=None,
    overwrite=False,
    tensorboard=None,
    with_figures=True,
    **settings,
):
    """Trains one model and writes its run folder.

    The model and optimizer are backed up after every epoch; a run that was
    interrupted (killed, or out of memory) continues from its last finished
    epoch when `train` is called again on its folder with the same settings.

    Args:
        out: String or `None`, the run folder. Defaults to
            `runs/<timestamp>-<model>`.
        say: Callable for progress lines.
        verbose: Keras `fit` verbosity; defaults to a progress bar on a
            terminal and one line per epoch otherwise.
        overwrite: Boolean, replace a run already in `out` (finished, or
            unfinished with other settings).
        tensorboard: String or `None`, a TensorBoard log folder: per-epoch
            scalars (the loss terms, beta, active units, learning rate), image
            grids (reconstructions, prior samples or the conditioned grid) and
            the embedding projector of the test codes (`tensorboard_callbacks`).
        with_figures: Boolean, write the run's PNG figures (`write_figures`);
            without them the `Run`'s `latent`, `reconstructions` and
            `samples` stay `None`.
        **settings: Run settings, see `keras_vae.settings.DEFAULTS`.

    Returns:
        A `Run`, or `None` on a worker of a multi-worker run other than the
        chief (which writes the run folder).

    Raises:
        ValueError: on invalid settings, bad data, or a folder holding a
            finished run (without `overwrite`) or an unfinished one with other
            settings, before anything is written.
        keras_vae.datasets.DataUnavailableError: if the named dataset is not
            available.
    """
    config = config_lib.resolve(**settings)
    if tensorboard is not None:
        check_log_dir(tensorboard)
    distribution = distributing.start(config["distribute"], config["batch_size"])
    if not distribution.chief:
        # The chief writes the run folder; another worker trains beside it.
        out, overwrite = tempfile.mkdtemp(prefix="keras-vae-worker-"), True
    out = out or default_run_directory(config["model"])
    state = resume.claim(out, config, overwrite)
    prepared = prepare_data(config, say, multiple=distribution.batch_multiple)
    data = prepared.data
    if config["model"] == "cvae" and not data.labelled:
        raise ValueError(
            f'`model="cvae"` needs classes: {config["data_path"]} is a flat folder of '
            "images; put each class in a sub-folder of its own."
        )
    _check_mixture_size(config, data, prepared.train_index, settings)
    _check_batches_of_pairs(config, prepared.num_training)
    config = {
        **config,
        "dataset_used": prepared.dataset_used,
        "data_source": data.source,
        "backend": keras.backend.backend(),
        "replicas": distribution.replicas,
        "class_names": data.class_names,
    }
    if config["data_path"] is not None:
        # Evaluate and the other commands read the data from anywhere.
        config["data_path"] = os.path.abspath(config["data_path"])
    framework.set_random_seed(config["seed"])
    if config["deterministic"]:
        enable_determinism()
    with distribution.scope:
        model = build_model(config, prepared)
        # Built before fit, so that a backup can be restored into it.
        model.build(_input_shape(config, data.image_shape))
        model.optimizer.build(model.trainable_variables)
    try:
        _check_targets(model, prepared)
    except ValueError as error:
        note = config_lib.model_default_note(config, settings, "likelihood")
        raise ValueError(f"{error}{note}") from None

    lock = resume.begin(out, config, state)
    try:
        return _train_in(
            out,
            config,
            state,
            model,
            prepared,
            distribution,
            say,
            verbose,
            tensorboard,
            with_figures,
        )
    finally:
        lock.release()


def _check_targets(model, prepared):
    """The likelihood's check of the data (8-bit values for the discretized
    logistic, say) on some training images, before the run folder is written:
    `fit` checks them all, too late to leave nothing behind."""
    index = np.sort(prepared.train_index[:1024])
    pixels = np.asarray(prepared.data.x_train[index], "float32")
    model.likelihood.validate_targets(prepared.preprocessing.transform(pixels))


def _check_batches_of_pairs(config, count):
    objective = config["objective"]
    if objective is None or objective.kind != "factor":
        return
    batch_size = config["batch_size"]
    if batch_size == 1 or count % batch_size == 1:
        raise ValueError(
            "FactorVAE compares the codes of a batch with each other, and a batch "
            f"of one has none to compare: --batch-size {batch_size} with {count} "
            "training images leaves one. Choose another --batch-size (or "
            "--max-examples)."
        )


def _input_shape(config, image_shape):
    x_shape = (None, *image_shape)
    return [x_shape, (None,)] if config["model"] == "cvae" else x_shape


def _train_in(
    out,
    config,
    state,
    model,
    prepared,
    distribution,
    say,
    verbose,
    tensorboard,
    with_figures,
):
    """`train` once `out` is claimed and locked."""
    data, preprocessing = prepared.data, prepared.preprocessing
    backup_folder = os.path.join(out, resume.BACKUP_DIR)
    history_path = os.path.join(out, "history.csv")
    done, history = 0, []
    if state == resume.RESUME and not distribution.multi_worker:
        done, history = backup.restore(model, backup_folder)
        datasets.skip_epochs(prepared.training, done)
    write_json(
        os.path.join(out, "config.json"),
        {
            **config_lib.record(config),
            "preprocessing_state": preprocessing.get_config(),
        },
    )
    backup.write_history(history_path, history)
    say(f"Training {config['model']} on {prepared.describe()} -> {out}")
    if state == resume.RESUME:
        say(
            f"Resuming the unfinished run in {out} after epoch {done} of "
            f"{config['epochs']}."
            if done
            else f"Starting the unfinished run in {out} again: none of its epochs "
            "was backed up."
        )
    early, keep = None, None
    if config["early_stopping"]:
        early, note = stopping.resumed(
            config["early_stopping"], history, model, backup_folder
        )
        if note:
            say(note)
        keep = stopping.kept_generation
    fit_callbacks = []
    # Multi-worker runs are not backed up: each worker would resume from its
    # own folder, out of step, so such a run starts again.
    fit_callbacks.append(
        backup.EpochBackup(
            None if distribution.multi_worker else backup_folder,
            history_path,
            history,
            keep,
        )
    )
    if early is not None:
        fit_callbacks.append(early)
    guard = divergence.StopOnDivergence()
    fit_callbacks.append(guard)
    if tensorboard is not None and distribution.chief:
        # After the backup: history.csv keeps the same columns either way.
        fit_callbacks.extend(
            tensorboard_callbacks(config, data, preprocessing, tensorboard)
        )
    if verbose is None:
        verbose = 1 if sys.stdout.isatty() else 2
    if early is not None and early.stopped_before:
        # Stopped early, then interrupted before the run was written: only
        # the best epoch's weights are left to take.
        model.set_weights(early.resumed_best_weights)
    else:
        model.fit(
            **prepared.training,
            validation_data=prepared.validation,
            epochs=config["epochs"],
            initial_epoch=done,
            callbacks=fit_callbacks,
            verbose=verbose,
        )
    train_index = prepared.train_index
    # The preprocessed training and validation arrays (190 MB for
    # Fashion-MNIST) are not needed after fit; the figures' peak is lower
    # without them (docs/benchmarks.md).
    del prepared
    if guard.diverged_epoch is not None:
        divergence.report(model, config, out, guard)
    distribution.end_training()
    if distribution.multi_worker:
        model = _leave_cluster(model, out, distribution)
        if model is None:
            return None

    if os.path.isdir(backup_folder):
        # Training is over: the newest generation is all a rerun needs, and
        # the space of the others may be what model.keras needs.
        backup.prune(
            backup_folder, keep=1, also=keep(resume.history_rows(out)) if keep else None
        )
    # The whole history, epochs before a resumption included.
    rows = resume.history_rows(out)
    test = model_inputs(
        config, preprocessing, data.x_test, data.y_test, config["seed"] + 1
    )
    last = rows[-1]
    metrics = {
        "epochs_trained": len(rows),
        "train": {name: last[name] for name in METRIC_NAMES},
        "validation": {name: last[f"val_{name}"] for name in METRIC_NAMES},
        "test": evaluate_split(model, test),
    }
    write_json(os.path.join(out, "metrics.json"), metrics)
    components = config["latent_mixture"] and _mixture_components(
        config, data, train_index, say
    )
    if components:
        say(
            f"Fitting a {components}-component Gaussian mixture to the codes of the "
            "training images (kept in model.keras)"
        )
        model.latent_mixture = fit_latent_mixture(
            model, config, data, components, train_index
        )
    from keras_vae.experiments import anomaly  # it imports this module

    say(anomaly.calibrate_after_training(model, config, data))
    with atomic_path(os.path.join(out, "model.keras")) as temporary:
        model.save(temporary)
    # The finished model replaces the backup.
    shutil.rmtree(backup_folder, ignore_errors=True)
    run = Run(out, config, metrics, model, data)
    if with_figures:
        figures.write_figures(run)
    return run


# Test images whose codes the projector shows, and whose reconstructions the
# image grids do; the images whose active units are counted every epoch.
PROJECTOR_POINTS = 2000
LOGGED_IMAGES = 10
ACTIVE_UNITS_IMAGES = 1000


def check_log_dir(path):
    """Creates a TensorBoard log folder and checks that it can be written, before
    training starts.

    Raises:
        ValueError: if `path` is a file.
        OSError: if the folder cannot be created or written.
    """
    if os.path.isfile(path):
        raise ValueError(
            f"{path} is a file; `tensorboard` is a folder. Choose another name."
        )
    from keras_vae.files import check_creatable

    # The folder if it exists (its parent's rights do not matter), else the
    # nearest existing parent.
    check_creatable(os.path.join(path, "events"))
    os.makedirs(path, exist_ok=True)


def tensorboard_callbacks(config, data, preprocessing, log_dir):
    """What `train(tensorboard=log_dir)` adds to `fit`: active units (on test
    images), `keras.callbacks.TensorBoard`'s scalars, `ImageLogger`'s grids
    every epoch and `LatentProjector`'s codes of up to 2,000 test images."""
    from keras_vae.callbacks import (
        ImageLogger,
        LatentProjector,
        PosteriorCollapseMonitor,
    )
    from keras_vae.experiments.splits import stratified_subset

    conditional = config["model"] == "cvae"
    seed = config["seed"]
    chosen = stratified_subset(data.y_test, PROJECTOR_POINTS, seed)
    labels = data.y_test[chosen]
    inputs = preprocessing.transform(np.asarray(data.x_test[chosen]), seed + 1)
    shown = stratified_subset(labels, LOGGED_IMAGES, seed)
    counted = slice(0, ACTIVE_UNITS_IMAGES)
    return [
        PosteriorCollapseMonitor(
            inputs[counted], labels[counted] if conditional else None, warn=False
        ),
        keras.callbacks.TensorBoard(log_dir),
        ImageLogger(
            inputs[shown],
            labels[shown] if conditional else None,
            log_dir=log_dir,
            to_pixels=preprocessing.to_pixels,
        ),
        LatentProjector(
            inputs,
            labels,
            log_dir=log_dir,
            class_names=data.class_names,
            to_pixels=preprocessing.to_pixels,
        ),
    ]


def finished_run(out, settings):
    """The `Run` of a finished run folder trained with `settings`, its figures
    drawn again (the sweep's panel needs their data).

    Raises:
        ValueError: if the folder holds a run with other settings.
    """
    from keras_vae.experiments import inference

    loaded = inference.load_run(out)
    wanted = config_lib.resolve(**settings)
    differences = resume.differences_between(loaded.config, wanted)
    if differences:
        raise ValueError(
            f"{out} holds a finished run with other settings ("
            + ", ".join(differences[:4])
            + "); choose another `out`."
        )
    with open(os.path.join(out, "metrics.json"), encoding="utf-8") as file:
        metrics = json.load(file)
    data = load_named(loaded.config["dataset_used"], loaded.config)
    run = Run(out, loaded.config, metrics, loaded.model, data)
    figures.write_figures(run)
    return run


def _leave_cluster(model, out, distribution):
    """The trained model on this process only, or `None` on a worker.

    Under a multi-worker strategy, `evaluate` and `predict` are collective
    and `predict` gathers every worker's batch: after `fit`, the chief
    evaluates and draws the figures on a copy of the model outside the
    strategy, and the other workers are done.
    """
    path = os.path.join(out, ".trained.keras")
    model.save(path)
    if not distribution.chief:
        shutil.rmtree(out)
        return None
    trained = keras.models.load_model(path)
    os.remove(path)
    return trained


def enable_determinism():
    """Makes every kernel that training uses deterministic, on any device.

    TensorFlow's op determinism (which covers `tf.data`, used on every
    backend) and PyTorch's deterministic algorithms. On CPUs, runs with the
    same seed are identical without it (measured; docs/reliability.md); on
    GPUs, atomic additions in reductions and convolutions vary between runs.
    JAX reads `--xla_gpu_deterministic_ops` from `XLA_FLAGS` when it starts,
    which `keras-vae train --deterministic` sets before importing Keras.
    """
    # TensorFlow when it is imported (now on its backend; for `tf.data` on the
    # others, if they use it).
    framework.after_import(
        "tensorflow", lambda tf: tf.config.experimental.enable_op_determinism()
    )
    if keras.backend.backend() == "torch":
        import torch

        torch.use_deterministic_algorithms(True)


def _check_mixture_size(config, data, train_index, settings):
    """Fails before training if the latent mixture asked for cannot be fitted
    after it. The model's default (cvae's) gets fewer components instead
    (`_mixture_components`)."""
    components = config["latent_mixture"]
    if not components or settings.get("latent_mixture") is None:
        return
    smallest = _smallest_group(config, data, train_index)
    if components > smallest:
        per_class = " per class" if config["model"] == "cvae" else ""
        raise ValueError(
            f"`latent_mixture={components}` needs at least {components} training "
            f"images{per_class}; the smallest count is {smallest}."
        )


def _smallest_group(config, data, train_index):
    """Training images of the smallest class (cvae), or of the whole set."""
    if config["model"] != "cvae":
        return len(train_index)
    counts = np.bincount(data.y_train[train_index], minlength=data.num_classes)
    return int(counts.min())


def _mixture_components(config, data, train_index, say):
    """The latent mixture's components: the setting's, or, when the smallest
    class has fewer training images than the model's default asks, that
    many (said), none for a class without images."""
    components = config["latent_mixture"]
    smallest = _smallest_group(config, data, train_index)
    if components > smallest:
        say(
            f"The smallest class has {smallest} training images: the latent "
            f"mixture gets {smallest} components per class, not {components}"
            + ("" if smallest else " (none: no mixture)")
            + "."
        )
        components = smallest
    return components


def fit_latent_mixture(model, config, data, components, train_index=None):
    """A `LatentMixture` of `model`'s codes of the run's training images.

    `train_index` defaults to the run's training split (without the
    validation hold-out), recomputed from `config`.
    """
    if train_index is None:
        train_index, _ = split(data.y_train, config)
    return LatentMixture.fit(
        model,
        data.x_train[train_index],
        data.y_train[train_index] if config["model"] == "cvae" else None,
        components=components,
        seed=config["seed"],
    )


@dataclasses.dataclass
class PreparedData:
    """A run's data, preprocessed and split, as `fit` takes it."""

    data: datasets.ImageData
    dataset_used: str
    preprocessing: datasets.Preprocessing
    training: dict  # `fit` arguments (Preprocessing.training_inputs)
    validation: object  # x or (x, labels) arrays
    train_index: np.ndarray  # the training images' indices in data.x_train

    @property
    def num_training(self):
        return len(self.train_index)

    def describe(self):
        return (
            f"{self.dataset_used} ({self.data.source}): {self.num_training} training, "
            f"{len(_first(self.validation))} validation, {len(self.data.x_test)} "
            "test images"
        )


def prepare_data(config, say=print, multiple=1):
    """Loads `config`'s dataset, fits the preprocessing on the training images,
    holds out a stratified validation split and builds the training pipeline.

    Args:
        config: Resolved settings (`keras_vae.settings.resolve`).
        say: Callable for progress lines (the dataset fallback notice).
        multiple: Integer, keep a multiple of it of training and of
            validation images (for `Distribution.batch_multiple`).

    Returns:
        A `PreparedData`.
    """
    data, dataset_used = load_data(config, say)
    preprocessing = datasets.Preprocessing.fit(
        config["preprocessing"], data.x_train, seed=config["seed"]
    )
    train_index, validation_index = validation_split(data.y_train, config)
    if config["max_examples"]:
        # A random subset: a large set may be stored in order (dSprites is
        # stored by its factors, so its first images are all small squares).
        rng = np.random.default_rng(config["seed"])
        count = min(config["max_examples"], len(train_index))
        train_index = np.sort(rng.choice(train_index, count, replace=False))
    train_index = train_index[: len(train_index) // multiple * multiple]
    validation_index = validation_index[: len(validation_index) // multiple * multiple]
    conditional = config["model"] == "cvae"
    training = preprocessing.training_inputs(
        data.x_train[train_index],
        data.y_train[train_index] if conditional else None,
        config["batch_size"],
        config["seed"],
    )
    validation = model_inputs(
        config,
        preprocessing,
        data.x_train[validation_index],
        data.y_train[validation_index],
        config["seed"],
    )
    return PreparedData(
        data, dataset_used, preprocessing, training, validation, train_index
    )


def _first(inputs):
    return inputs[0] if isinstance(inputs, tuple) else inputs


def model_inputs(config, preprocessing, x, y, seed):
    """Evaluation data as `config`'s model's networks take it: `x` or
    `(x, labels)`, preprocessed with `seed`."""
    x = preprocessing.transform(x, seed)
    return (x, y) if config["model"] == "cvae" else x


def evaluate_split(model, inputs, batch_size=256):
    """Metrics of `model` on `inputs` (`x` or `(x, labels)`), as floats."""
    x, y = inputs if isinstance(inputs, tuple) else (inputs, None)
    results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
    return {name: float(results[name]) for name in METRIC_NAMES}
