"""Bad inputs across the library, its command lines and the tuner, with the
error each must end in.

`tests/test_bad_inputs.py` runs every case; `docs/bad_inputs_table.py` runs
them again to write the table of `docs/reliability.md`, which the test keeps
equal to what the cases print.

A case sets files up in an empty working folder (`setup`), then does one bad
thing there (`trigger`). Library calls must raise `ValueError` or `TypeError`;
command lines must exit non-zero with one line on stderr and no traceback. The
message must contain `received` and `expected` (what the user gave, what was
wanted), and the folder must hold the same files afterwards: nothing
half-written.
"""

import atexit
import contextlib
import dataclasses
import functools
import io
import json
import os
import shutil
import tempfile
import zipfile
from unittest import mock

import numpy as np

from tests.datasets.idx_files import idx_bytes, write_idx_folder


@dataclasses.dataclass(frozen=True)
class Case:
    area: str
    description: str  # the bad input, as the docs table shows it
    trigger: object  # callable(), run in the working folder
    received: str  # a part of the message naming what was received
    expected: str  # a part of the message naming what was expected
    setup: object = None  # callable(), run in the working folder first


@dataclasses.dataclass(frozen=True)
class Outcome:
    message: str  # the one line the user reads
    files_before: list
    files_after: list
    command_line: bool
    exit_code: int = None
    stderr: str = ""


def run_case(case, folder):
    """Runs `case` in `folder` (empty) and returns its `Outcome`."""
    import keras

    keras.backend.clear_session(free_memory=False)
    keras.utils.set_random_seed(0)
    previous = os.getcwd()
    os.chdir(folder)
    try:
        if case.setup is not None:
            case.setup()
        before = _listing(".")
        outcome = case.trigger()
        return dataclasses.replace(
            outcome, files_before=before, files_after=_listing(".")
        )
    finally:
        os.chdir(previous)


def _listing(folder):
    return sorted(
        os.path.relpath(os.path.join(root, name), folder)
        for root, _, names in os.walk(folder)
        for name in names
    )


# --- How a case does its bad thing ---------------------------------------------


def library(function, *arguments, **keywords):
    """A library call that must raise."""

    def trigger():
        try:
            function()(*arguments, **keywords)
        except (ValueError, TypeError) as error:
            line = str(error).strip().splitlines()[0]
            return Outcome(f"{type(error).__name__}: {line}", None, None, False)
        raise AssertionError("no error was raised")

    return trigger


def command(*argv, tuning=False, environment=None, read_only=None):
    """A command line (`keras-vae ...`, or `python -m tuning ...`) that must fail.

    `read_only` names a folder the command may not write to, as the operating
    system tells an unprivileged user (`os.access`), also when the tests run
    as root, whom permissions do not stop.
    """

    def trigger():
        from keras_vae import cli

        # `python -m tuning ARGV` is `keras-vae tune ARGV`.
        arguments = ("tune", *argv) if tuning else argv
        stderr = io.StringIO()
        saved = dict(os.environ)
        os.environ.update(environment or {})
        access = os.access

        def denied(path, mode, **keywords):
            if read_only and os.path.abspath(path) == os.path.abspath(read_only):
                return not mode & os.W_OK
            return access(path, mode, **keywords)

        try:
            with (
                contextlib.redirect_stderr(stderr),
                contextlib.redirect_stdout(io.StringIO()),
                mock.patch("os.access", denied),
            ):
                try:
                    code = cli.main(list(arguments))
                except SystemExit as exit:  # argparse
                    code = exit.code
        finally:
            os.environ.clear()
            os.environ.update(saved)
        text = stderr.getvalue()
        message = text.strip().splitlines()[-1] if text.strip() else ""
        return Outcome(message, None, None, True, code, text)

    return trigger


def _without_module(name, trigger):
    """`trigger` run as if the module `name` were not installed."""
    import importlib.util

    find_spec = importlib.util.find_spec

    def missing(module, *arguments, **keywords):
        if module == name:
            return None
        return find_spec(module, *arguments, **keywords)

    def run():
        with mock.patch("importlib.util.find_spec", missing):
            return trigger()

    return run


def _module(path):
    """`"keras_vae.layers.Sampling"` -> the object, imported when the case runs."""

    def get():
        import importlib

        module, name = path.rsplit(".", 1)
        return getattr(importlib.import_module(module), name)

    return get


def _new(path):
    """A factory of an instance of the class at `path`, built with no arguments."""
    return lambda: _module(path)()()


def _call(factory, method, *arguments, **keywords):
    """A callable that builds an object with `factory()` and calls `method` on it."""

    def call():
        return getattr(factory(), method)(*arguments, **keywords)

    return lambda: call


def _float(*shape, value=0.0):
    return np.full(shape, value, dtype="float32")


# --- Files the cases start from -----------------------------------------------


def _write(path, content):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as file:
        file.write(content)


def _npz(path, **overrides):
    labels = np.arange(20) % 2
    arrays = {
        "x_train": _float(20, 8, 8),
        "y_train": labels,
        "x_test": _float(20, 8, 8),
        "y_test": labels,
    }
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})


def _png(path, size=(8, 8)):
    import matplotlib.image

    os.makedirs(os.path.dirname(path), exist_ok=True)
    pixels = np.random.default_rng(len(path)).uniform(size=size)
    matplotlib.image.imsave(path, pixels, cmap="gray")


@functools.cache
def _finished_run(model="vae"):
    """A finished digits run (one epoch), trained once per process."""
    from keras_vae.experiments import training

    parent = tempfile.mkdtemp(prefix="bad-inputs-")
    atexit.register(shutil.rmtree, parent, ignore_errors=True)
    folder = os.path.join(parent, "run")
    training.train(
        out=folder,
        dataset="digits",
        model=model,
        epochs=1,
        latent_dim=2,
        say=lambda *_: None,
        verbose=0,
    )
    return folder


def _copy_run(target="run", edit_model=None, replace_model=None, kind="vae"):
    """Copies a finished run of model `kind` to `target`, optionally tampering
    with it."""

    def setup():
        source = _finished_run(kind)
        shutil.copytree(source, target)
        model = os.path.join(target, "model.keras")
        if replace_model is not None:
            replace_model(model)
        elif edit_model is not None:
            with zipfile.ZipFile(os.path.join(source, "model.keras")) as archive:
                items = [(i, archive.read(i.filename)) for i in archive.infolist()]
            with zipfile.ZipFile(model, "w") as archive:
                for item, content in items:
                    if item.filename == "config.json":
                        content = edit_model(content)
                    archive.writestr(item, content)

    return setup


def _narrower_layers(config):
    return config.replace(b'"units": 500', b'"units": 400')


def _unknown_class(config):
    config = config.replace(b'"class_name": "VAE"', b'"class_name": "NotAVAE"')
    return config.replace(b"keras_vae>VAE", b"elsewhere>NotAVAE")


def _truncate(path):
    with open(path, "rb") as file:
        content = file.read()
    _write(path, content[: len(content) // 2])


def _lambda_model(path):
    import keras

    inputs = keras.Input((8, 8, 1))
    keras.Model(inputs, keras.layers.Lambda(lambda x: 2 * x)(inputs)).save(path)


def _conditional_classifier():
    """A ConditionalVAE of two classes and a classifier, for the fidelity cases."""
    from keras_vae import architectures, evaluation, models

    encoder, decoder = architectures.conv_conditional((8, 8, 1), 2, 2)
    model = models.ConditionalVAE(encoder, decoder, num_classes=2)
    classifier = evaluation.train_classifier(
        _float(4, 8, 8, 1), np.array([0, 1, 0, 1]), 2, epochs=1
    )
    return model, classifier


def _vae():
    from keras_vae import architectures, models

    model = models.VAE(*architectures.mlp((8, 8, 1), 2))
    model.compile(optimizer="adam")
    return model


def _cvae():
    from keras_vae import architectures, models

    model = models.ConditionalVAE(
        *architectures.conv_conditional((8, 8, 1), 2, 3), num_classes=3
    )
    model.compile(optimizer="adam")
    return model


def _bernoulli_vae():
    from keras_vae import architectures, models

    model = models.VAE(*architectures.mlp((8, 8, 1), 2), likelihood="bernoulli")
    model.compile(optimizer="adam")
    return model


def _single_output_encoder_vae():
    import keras

    from keras_vae import architectures, models

    _, decoder = architectures.mlp((8, 8, 1), 2)
    encoder = keras.Sequential(
        [keras.Input((8, 8, 1)), keras.layers.Flatten(), keras.layers.Dense(2)]
    )
    model = models.VAE(encoder, decoder)
    model.compile(optimizer="adam")
    return model


def _mismatched_decoder_vae():
    from keras_vae import architectures, models

    encoder, _ = architectures.mlp((8, 8, 1), 2)
    _, decoder = architectures.mlp((28, 28, 1), 2)
    model = models.VAE(encoder, decoder)
    model.compile(optimizer="adam")
    return model


def _mixture_with_a_one_value_decoder():
    from keras_vae import architectures, likelihoods, models

    model = models.VAE(
        *architectures.mlp((8, 8, 1), 2),
        likelihood=likelihoods.DiscretizedLogisticMixture(num_components=2),
    )
    model.compile(optimizer="adam")
    return model


def _label_fidelity_of(model_factory, **keywords):
    def call():
        from keras_vae import evaluation

        _, classifier = _conditional_classifier()
        return evaluation.label_fidelity(model_factory(), classifier, **keywords)

    return lambda: call


def later(function):
    """For `library`: call `function` itself, imported lazily by its body."""
    return lambda: function


def _vae_with_nan_beta():
    from keras_vae import architectures, models

    return models.VAE(*architectures.mlp((8, 8, 1), 2), beta=float("nan"))


def _vae_with_a_penalty_name():
    from keras_vae import architectures, models

    return models.VAE(*architectures.mlp((8, 8, 1), 2), penalty="tcvae")


def _iwae_with_no_samples():
    from keras_vae import architectures, models

    return models.VAE(*architectures.mlp((8, 8, 1), 2), num_samples=0)


def _dequantized_vae(likelihood="gaussian", preprocessing=None):
    from keras_vae import architectures, datasets, models

    return models.VAE(
        *architectures.mlp((8, 8, 1), 2),
        likelihood=likelihood,
        preprocessing=preprocessing and datasets.Preprocessing(preprocessing),
        dequantize=True,
    )


def _class_prior_on_a_vae():
    from keras_vae import architectures, models, priors

    return models.VAE(*architectures.mlp((8, 8, 1), 2), prior=priors.ClassPrior(10))


def _class_prior_of_other_classes():
    from keras_vae import architectures, models, priors

    networks = architectures.conv_conditional((8, 8, 1), 2, 10)
    return models.ConditionalVAE(*networks, num_classes=10, prior=priors.ClassPrior(3))


def _prior_of_another_latent_size():
    from keras_vae import architectures, models, priors

    prior = priors.MixturePrior(4)
    models.VAE(*architectures.mlp((8, 8, 1), 2), prior=prior).build((None, 8, 8, 1))
    other = models.VAE(*architectures.mlp((8, 8, 1), 5), prior=prior)
    other.build((None, 8, 8, 1))


def _vamp_prior_of_other_inputs():
    from keras_vae import architectures, models, priors

    prior = priors.VampPrior(4)
    models.VAE(*architectures.mlp((8, 8, 1), 2), prior=prior).build((None, 8, 8, 1))
    other = models.VAE(*architectures.mlp((4, 4, 1), 2), prior=prior)
    other.build((None, 4, 4, 1))


def _factor_vae_on_a_last_batch_of_one():
    from keras_vae import architectures, layers, models

    model = models.VAE(
        *architectures.mlp((8, 8, 1), 2), penalty=layers.FactorVAEPenalty(units=8)
    )
    model.compile(optimizer="adam")
    x = np.zeros((33, 8, 8, 1), "float32")
    model.fit(x, batch_size=16, verbose=0)


def _bound_with_no_samples():
    from keras_vae import evaluation

    return evaluation.importance_weighted_bound(
        _vae(), _float(4, 8, 8, 1), num_samples=0
    )


def _built(make):
    model = make()
    if model.conditional:
        model.build([(None, 8, 8, 1), (None,)])
    else:
        model.build((None, 8, 8, 1))
    return model


def _anomaly_call(name, make=_vae, **keywords):
    """A `keras_vae.anomaly` function called on a built, untrained model."""

    def call():
        from keras_vae import anomaly

        return getattr(anomaly, name)(_built(make), **keywords)

    return lambda: call


def _flag_uncalibrated():
    return _built(_vae).flag_anomalies(_float(4, 8, 8, 1))


def _anomaly_scores_wrong_shape():
    return _built(_vae).anomaly_scores(_float(4, 28, 28, 1), method="elbo")


def _knn_without_reference():
    from keras_vae import anomaly

    model = _built(_vae)
    anomaly.calibrate(model, _float(40, 8, 8, 1), methods=("dose", "elbo"))
    return anomaly.score(model, _float(4, 8, 8, 1), method="knn")


def _without_detector(content):
    config = json.loads(content)
    config["config"]["anomaly_detector"] = None
    return json.dumps(config).encode()


def _grid_tuner():
    import tuning

    return tuning.make_tuner(tuning.VAEHyperModel((8, 8, 1)), tuner="grid")


def _within_class_diversity_with_bad_labels():
    from keras_vae import evaluation

    model, classifier = _conditional_classifier()
    return evaluation.within_class_diversity(
        model, classifier, _float(4, 8, 8, 1), np.array([0, 1, 2, 7])
    )


def _your_files(folder):
    def setup():
        _write(os.path.join(folder, "notes.txt"), b"my notes")
        _write(os.path.join(folder, "src", "main.py"), b"print(1)")
        _write(os.path.join(folder, "config.json"), b"{}")

    return setup


def _run_folder_with_config(content):
    def setup():
        from keras_vae.experiments import run_folder

        os.makedirs("run")
        run_folder.create("run")
        _write(os.path.join("run", "config.json"), content)

    return setup


def _labels_with_two_strangers():
    from keras_vae import architectures, models

    model = models.ConditionalVAE(
        *architectures.conv_conditional((8, 8, 1), 2, 3), num_classes=3
    )
    model.compile(optimizer="adam")
    return model


def _fit_on_a_pipeline_with_labels_5_and_7():
    import tensorflow as tf

    labels = np.arange(16) % 3
    labels[[3, 9]] = [5, 7]
    dataset = tf.data.Dataset.from_tensor_slices(
        (_float(16, 8, 8, 1, value=0.5), labels)
    ).batch(8)
    return _labels_with_two_strangers().fit(dataset, epochs=1, shuffle=False, verbose=0)


def _non_utf8_image_folder():
    _png("images/a/1.png")
    _png("images/a/2.png")
    _png("images/b/1.png")
    _png("images/b/2.png")
    os.rename("images/b/2.png", os.fsdecode(b"images/b/caf\xe9.png"))


RUN_ARGS = ("--dataset", "digits", "--epochs", "1")
# Every .npz case loads the file data.npz that its setup wrote.
LOAD_NPZ = library(_module("keras_vae.datasets.load"), "custom", "data.npz")

CASES = [
    # Layers
    Case(
        "layer",
        "`Sampling()` called on one tensor",
        library(_call(_new("keras_vae.layers.Sampling"), "__call__", _float(2, 3))),
        "Received input_shape=(2, 3)",
        "expects a list of two tensors",
    ),
    Case(
        "layer",
        "`Sampling()` on a mean and a scale of different shapes",
        library(
            _call(
                _new("keras_vae.layers.Sampling"),
                "__call__",
                [_float(2, 3), _float(2, 4)],
            )
        ),
        "mean.shape=(2, 3), raw_scale.shape=(2, 4)",
        "of the same shape",
    ),
    Case(
        "layer",
        "`KLRegularizer(beta=-1)`",
        library(_module("keras_vae.layers.KLRegularizer"), beta=-1),
        "beta=-1",
        "non-negative",
    ),
    Case(
        "layer",
        "`KLRegularizer(free_bits=-0.5)`",
        library(_module("keras_vae.layers.KLRegularizer"), free_bits=-0.5),
        "free_bits=-0.5",
        ">= 0",
    ),
    Case(
        "layer",
        '`KLRegularizer(parameterization="exp")`',
        library(_module("keras_vae.layers.KLRegularizer"), parameterization="exp"),
        "parameterization='exp'",
        "('softplus', 'log_var')",
    ),
    Case(
        "layer",
        '`DIPPenalty(variant="iii")`',
        library(_module("keras_vae.layers.DIPPenalty"), variant="iii"),
        "variant='iii'",
        "('i', 'ii')",
    ),
    Case(
        "layer",
        "`TotalCorrelationPenalty(weight=-1)`",
        library(_module("keras_vae.layers.TotalCorrelationPenalty"), weight=-1),
        "weight=-1",
        ">= 0",
    ),
    Case(
        "layer",
        "`ConditionalConcat(num_classes=0)`",
        library(_module("keras_vae.layers.ConditionalConcat"), num_classes=0),
        "num_classes=0",
        "integer >= 1",
    ),
    # Models
    Case(
        "model",
        '`VAE("encoder", decoder)`: not a Keras layer',
        library(_module("keras_vae.models.VAE"), "encoder", None),
        "encoder='encoder'",
        "Keras layer or model",
    ),
    Case(
        "model",
        '`VAE(encoder, decoder, penalty="tcvae")`: a name, not a layer',
        library(later(_vae_with_a_penalty_name)),
        "penalty='tcvae'",
        "keras_vae.layers.LatentPenalty",
    ),
    Case(
        "model",
        "FactorVAE `fit` on 33 examples at batch 16 (a last batch of one)",
        library(later(_factor_vae_on_a_last_batch_of_one)),
        "batch_size=16 with 33 examples",
        "batches of 2 or more",
    ),
    Case(
        "model",
        "`VAE(encoder, decoder, num_samples=0)`: the importance-weighted bound of no "
        "samples",
        library(later(_iwae_with_no_samples)),
        "num_samples=0",
        "an integer >= 1",
    ),
    Case(
        "model",
        '`VAE(..., likelihood="logistic", dequantize=True)`: dequantized discrete '
        "values",
        library(later(_dequantized_vae), likelihood="logistic"),
        "likelihood=DiscretizedLogistic",
        "a Gaussian or continuous Bernoulli",
    ),
    Case(
        "model",
        '`VAE(..., preprocessing=Preprocessing("binarize"), dequantize=True)`',
        library(later(_dequantized_vae), preprocessing="binarize"),
        "preprocessing 'binarize'",
        "standardized or scaled",
    ),
    Case(
        "model",
        "`model.dequantize_inputs(x)` of a model without a preprocessing",
        library(_call(_dequantized_vae, "dequantize_inputs", _float(2, 8, 8, 1))),
        "a model without one",
        "a model with a preprocessing",
    ),
    Case(
        "model",
        "`VAE(..., prior=ClassPrior(10))`: a conditional prior on an unconditional "
        "model",
        library(later(_class_prior_on_a_vae)),
        "not a VAE",
        "needs a ConditionalVAE",
    ),
    Case(
        "model",
        "`ConditionalVAE(..., num_classes=10, prior=ClassPrior(3))`",
        library(later(_class_prior_of_other_classes)),
        "The prior has 3 classes",
        "ClassPrior(10)",
    ),
    Case(
        "model",
        "A `MixturePrior` built for 2 latent dimensions given to a model of 5",
        library(later(_prior_of_another_latent_size)),
        "this model's latent shape is (5,)",
        "built for latent shape (2,)",
    ),
    Case(
        "model",
        "A `VampPrior` whose pseudo-inputs are 8×8 given to a model of 4×4 images",
        library(later(_vamp_prior_of_other_inputs)),
        "this model's input shape is (4, 4, 1)",
        "built for input shape (8, 8, 1)",
    ),
    Case(
        "model",
        "`VAE(encoder, decoder, beta=nan)`",
        library(later(_vae_with_nan_beta)),
        "beta=nan",
        "finite",
    ),
    Case(
        "model",
        "`fit` of a VAE whose encoder returns one tensor",
        library(_call(_single_output_encoder_vae, "fit", _float(4, 8, 8, 1))),
        "one tensor of shape (None, 2)",
        "two tensors (mean, raw_scale)",
    ),
    Case(
        "model",
        "`fit` of a VAE whose decoder draws 28x28 images for 8x8 inputs",
        library(_call(_mismatched_decoder_vae, "fit", _float(4, 8, 8, 1))),
        "(None, 28, 28, 1)",
        "must have the input's shape",
    ),
    Case(
        "model",
        "`fit` of a logistic-mixture VAE whose decoder outputs one number per pixel",
        library(_call(_mixture_with_a_one_value_decoder, "fit", _float(4, 8, 8, 1))),
        "(None, 8, 8, 1)",
        "parameters_per_value=6",
    ),
    Case(
        "model",
        "`fit` on images holding NaN",
        library(_call(_vae, "fit", _float(4, 8, 8, 1, value=np.nan), verbose=0)),
        "256 NaN or infinite values",
        "Clean or impute",
    ),
    Case(
        "model",
        "`fit` on 28x28 images of a model built for 8x8",
        library(_call(_vae, "fit", _float(4, 28, 28, 1), verbose=0)),
        "found shape=(None, 28, 28)",
        "expected shape=(None, 8, 8, 1)",
    ),
    Case(
        "model",
        "`fit` with `sample_weight`",
        library(
            _call(_vae, "fit", _float(4, 8, 8, 1), sample_weight=np.ones(4), verbose=0)
        ),
        "sample_weight",
        "Resample the data instead",
    ),
    Case(
        "model",
        "`fit` of a ConditionalVAE without labels",
        library(_call(_cvae, "fit", _float(4, 8, 8, 1), verbose=0)),
        "Received: one tensor of shape",
        "expects inputs [x, labels]",
    ),
    Case(
        "model",
        '`VAE(likelihood="bernoulli").fit(x, labels)`: labels for a VAE',
        library(
            _call(_bernoulli_vae, "fit", _float(4, 8, 8, 1), np.arange(4), verbose=0)
        ),
        "Received: y.shape=(4,)",
        "If `y` holds class labels, drop it or use ConditionalVAE",
    ),
    Case(
        "model",
        "`fit` with NaN in `validation_data`",
        library(
            _call(
                _vae,
                "fit",
                _float(4, 8, 8, 1),
                validation_data=_float(4, 8, 8, 1, value=np.nan),
                verbose=0,
            )
        ),
        "`validation_data` holds 256 NaN",
        "Clean or impute",
    ),
    Case(
        "model",
        "`fit` of a model built for 8x8x1 images on 8x8 arrays",
        library(
            _call(lambda: _built(_vae), "fit", _float(4, 8, 8), epochs=1, verbose=0)
        ),
        "`x` holds examples of shape (8, 8); this model was built for (8, 8, 1)",
        "`x[..., None]` adds the channel axis",
    ),
    Case(
        "model",
        "`fit` of the Gaussian likelihood on pixels in 0-255",
        library(_call(_vae, "fit", _float(4, 8, 8, 1, value=255.0), verbose=0)),
        "Received values up to 255",
        "Standardize the data",
    ),
    Case(
        "model",
        "ConditionalVAE `fit` on a `tf.data` pipeline with labels 5 and 7 of 3 classes",
        library(later(_fit_on_a_pipeline_with_labels_5_and_7)),
        "Received 2 other values in the training data's batches",
        "Labels must be integers in [0, 3)",
    ),
    # Likelihoods
    Case(
        "likelihood",
        '`likelihoods.get("poisson")`',
        library(_module("keras_vae.likelihoods.get"), "poisson"),
        "likelihood='poisson'",
        "['bernoulli', 'continuous_bernoulli', 'gaussian'",
    ),
    Case(
        "likelihood",
        "`Gaussian(variance=0)`",
        library(_module("keras_vae.likelihoods.Gaussian"), variance=0),
        "variance=0",
        "positive float",
    ),
    # Data
    Case(
        "data",
        "IDX file with a wrong magic number",
        library(_module("keras_vae.datasets.read_idx"), "bad-idx3-ubyte"),
        "bad-idx3-ubyte is not an IDX file",
        "magic number 0x0000",
        setup=lambda: _write("bad-idx3-ubyte", b"\x12\x34\x08\x01" + bytes(8)),
    ),
    Case(
        "data",
        "IDX file cut short",
        library(_module("keras_vae.datasets.read_idx"), "short-idx3-ubyte"),
        "it holds 100 bytes",
        "promises shape (10, 28, 28) (7840 bytes",
        setup=lambda: _write(
            "short-idx3-ubyte", idx_bytes(np.zeros((10, 28, 28), "uint8"))[:116]
        ),
    ),
    Case(
        "data",
        "gzipped IDX file that is not gzip data",
        library(_module("keras_vae.datasets.read_idx"), "corrupt-idx3-ubyte.gz"),
        "corrupt-idx3-ubyte.gz",
        "Cannot read IDX file",
        setup=lambda: _write("corrupt-idx3-ubyte.gz", b"\x1f\x8b" + b"garbage" * 9),
    ),
    Case(
        "data",
        "IDX folder whose test labels are missing",
        library(_module("keras_vae.datasets.load"), "custom", "idx"),
        "t10k-labels-idx1-ubyte",
        "idx",
        setup=lambda: (
            write_idx_folder("idx"),
            os.remove(os.path.join("idx", "t10k-labels-idx1-ubyte.gz")),
        ),
    ),
    Case(
        "data",
        "`.npz` without labels and test arrays",
        LOAD_NPZ,
        "lacks the arrays ['y_train', 'x_test', 'y_test']",
        "expected x_train, y_train, x_test and y_test",
        setup=lambda: np.savez("data.npz", x_train=_float(5, 8, 8)),
    ),
    Case(
        "data",
        "`.npz` whose images hold NaN",
        LOAD_NPZ,
        "x_train holds NaN",
        "NaN or infinite",
        setup=lambda: _npz("data.npz", x_train=_float(20, 8, 8, value=np.nan)),
    ),
    Case(
        "data",
        "`.npz` whose images are a flat vector",
        LOAD_NPZ,
        "Received shape (20,)",
        "(n, height, width[, channels])",
        setup=lambda: _npz("data.npz", x_train=np.zeros(20)),
    ),
    Case(
        "data",
        "`.npz` with fractional labels",
        LOAD_NPZ,
        "Received dtype float64",
        "non-negative integer labels",
        setup=lambda: _npz("data.npz", y_train=np.arange(20) / 2),
    ),
    Case(
        "data",
        "`.npz` with 20 images and 5 labels",
        LOAD_NPZ,
        "20 train images but 5 train labels",
        "data.npz",
        setup=lambda: _npz("data.npz", y_train=np.arange(5)),
    ),
    Case(
        "data",
        "`.npz` that is a text file",
        LOAD_NPZ,
        "data.npz is not an .npz file",
        "numpy.savez",
        setup=lambda: _write("data.npz", b"x_train,y_train\n"),
    ),
    Case(
        "data",
        "image folder holding a file that is not an image",
        library(_module("keras_vae.datasets.load"), "custom", "images"),
        "images/a/notes.png is not a readable image",
        "expected a PNG, JPEG, BMP or GIF file",
        setup=lambda: (
            _png("images/a/1.png"),
            _png("images/a/2.png"),
            _write("images/a/notes.png", b"shopping list"),
        ),
    ),
    Case(
        "data",
        "image folder with 8x8 and 9x9 images, no `image_size`",
        library(_module("keras_vae.datasets.load"), "custom", "images"),
        "9x9 in images/a/3.png",
        "pass `image_size=(H, W)` to resize them",
        setup=lambda: (
            _png("images/a/1.png"),
            _png("images/a/2.png"),
            _png("images/a/3.png", (9, 9)),
        ),
    ),
    Case(
        "data",
        "`.npz` with a label beyond int32 (2**32)",
        LOAD_NPZ,
        "holds the label 4294967296",
        "expected class indices 0, 1, 2, ...",
        setup=lambda: _npz("data.npz", y_train=np.full(20, 2**32)),
    ),
    Case(
        "data",
        "image folder holding a file name that is not UTF-8",
        library(_module("keras_vae.datasets.load"), "custom", "images"),
        "images/b/caf\\xe9.png: the file name is not UTF-8 text",
        "expected UTF-8 file names",
        setup=_non_utf8_image_folder,
    ),
    Case(
        "data",
        '`Preprocessing.fit("whiten", x)`',
        library(
            _call(
                _module("keras_vae.datasets.Preprocessing"),
                "fit",
                "whiten",
                _float(2, 8, 8),
            )
        ),
        "'whiten'",
        "('standardize', 'scale', 'binarize', 'binarize_static')",
    ),
    # Evaluation
    Case(
        "evaluation",
        "`importance_weighted_bound(model, x, num_samples=0)`",
        library(later(_bound_with_no_samples)),
        "num_samples=0",
        "integer >= 1",
    ),
    Case(
        "evaluation",
        "`label_fidelity` of a VAE (not conditional)",
        library(_label_fidelity_of(_vae)),
        "VAE",
        "ConditionalVAE",
    ),
    Case(
        "evaluation",
        "`within_class_diversity` with a label 7 for 2 classes",
        library(later(_within_class_diversity_with_bad_labels)),
        "7",
        "integers in [0, 2)",
    ),
    # Command line
    Case(
        "command line",
        "`keras-vae train --epochs 0`",
        command("train", "--epochs", "0"),
        "got 0",
        "expected an integer >= 1",
    ),
    Case(
        "command line",
        "`keras-vae train --data-path missing.npz`",
        command("train", "--data-path", "missing.npz", "--out", "run"),
        "missing.npz",
        "neither a folder of IDX files nor an existing .npz file",
    ),
    Case(
        "command line",
        "`keras-vae train --model cvae` on a flat folder of images",
        command("train", "--model", "cvae", "--data-path", "images", "--out", "run"),
        "flat folder of images",
        "each class in a sub-folder",
        setup=lambda: [_png(f"images/{i}.png") for i in range(4)],
    ),
    Case(
        "command line",
        "`keras-vae train --data-path black.npz` whose every pixel is 0",
        command("train", "--data-path", "black.npz", "--out", "run"),
        "Every training pixel has the value 0",
        "Expected images whose pixels vary",
        setup=lambda: _npz("black.npz"),
    ),
    Case(
        "command line",
        "`keras-vae train --dequantize --likelihood logistic`",
        command("train", "--dequantize", "--likelihood", "logistic", *RUN_ARGS),
        "likelihood logistic",
        "a density likelihood",
    ),
    Case(
        "command line",
        "`keras-vae train --condition-all-layers` with `--model vae`",
        command("train", "--condition-all-layers", *RUN_ARGS, "--out", "run"),
        "not 'vae'",
        "needs model 'cvae'",
    ),
    Case(
        "command line",
        "`keras-vae train --out run` where a finished run is",
        command("train", *RUN_ARGS, "--latent-dim", "2", "--out", "run"),
        "run already holds a finished run",
        "--overwrite",
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae train --prior gauss`",
        command("train", "--prior", "gauss"),
        "Invalid prior 'gauss'",
        "Expected KIND[:COMPONENTS]",
    ),
    Case(
        "command line",
        "`keras-vae train --likelihood logistic` on an `.npz` of pixels in [0, 1] "
        "that are not 8-bit values (k / 16)",
        command(
            "train",
            "--data-path",
            "data.npz",
            "--likelihood",
            "logistic",
            "--epochs",
            "1",
            "--out",
            "run",
        ),
        "Received values in [0.0625, 0.0625] off that grid",
        "expects 8-bit pixels",
        setup=lambda: _npz(
            "data.npz",
            x_train=_float(20, 8, 8, value=1 / 16),
            x_test=_float(20, 8, 8, value=1 / 16),
        ),
    ),
    Case(
        "command line",
        "`keras-vae train --objective infogan`",
        command("train", "--objective", "infogan"),
        "Invalid objective 'infogan'",
        "Expected KIND[:WEIGHT]",
    ),
    Case(
        "command line",
        "`keras-vae train --objective factor` with a last batch of one image",
        command(
            "train",
            *RUN_ARGS,
            "--objective",
            "factor",
            "--max-examples",
            "65",
            "--out",
            "run",
        ),
        "--batch-size 64 with 65 training images leaves one",
        "Choose another --batch-size",
    ),
    Case(
        "command line",
        "`keras-vae train --config run.toml` with an unknown key",
        command("train", "--config", "run.toml"),
        "unknown key 'epoch'",
        "expected one of backend, batch-size",
        setup=lambda: _write("run.toml", b"epoch = 3\n"),
    ),
    Case(
        "command line",
        "`keras-vae train --backend jax` with `KERAS_BACKEND=torch`",
        command("train", "--backend", "jax", environment={"KERAS_BACKEND": "torch"}),
        "KERAS_BACKEND=torch",
        "unset one of them",
    ),
    Case(
        "command line",
        "`keras-vae train --distribute data-parallel` on TensorFlow",
        command("train", "--distribute", "data-parallel", "--backend", "tensorflow"),
        "Keras runs on tensorflow",
        "runs on the jax backend",
    ),
    Case(
        "command line",
        "`keras-vae train --distribute multi-worker` without `TF_CONFIG`",
        command("train", "--distribute", "multi-worker", *RUN_ARGS, "--out", "run"),
        "--distribute multi-worker needs the environment variable TF_CONFIG",
        '"task": {"type": "worker", "index": 0}',
    ),
    Case(
        "command line",
        "`keras-vae evaluate folder` that is not a run",
        command("evaluate", "folder"),
        "lacks config.json, model.keras",
        "not a finished run folder",
        setup=lambda: os.makedirs("folder"),
    ),
    Case(
        "command line",
        "`keras-vae sample run/model.keras`: the model file, not its run",
        command("sample", os.path.join("run", "model.keras"), "--out", "s.png"),
        "run/model.keras is a file; the command takes a run folder (run).",
        "a run folder (run)",
        setup=lambda: (
            os.makedirs("run"),
            open(os.path.join("run", "model.keras"), "w").close(),
        ),
    ),
    Case(
        "command line",
        "`keras-vae evaluate run` whose model.keras is cut short",
        command("evaluate", "run"),
        "run/model.keras",
        "not a .keras file (a zip archive)",
        setup=_copy_run(replace_model=_truncate),
    ),
    Case(
        "command line",
        "`keras-vae evaluate run` whose model.keras holds a Lambda layer",
        command("evaluate", "run"),
        "`Lambda` layer whose `function` is a Python lambda",
        "disallowed",
        setup=_copy_run(replace_model=_lambda_model),
    ),
    Case(
        "command line",
        "`keras-vae evaluate run` whose model names an unknown class",
        command("evaluate", "run"),
        "'NotAVAE'",
        "Could not locate class",
        setup=_copy_run(edit_model=_unknown_class),
    ),
    Case(
        "command line",
        "`keras-vae evaluate run` whose model config has wrong layer sizes",
        command("evaluate", "run"),
        "received input with shape (None, 400)",
        "expected axis -1 of input shape to have value 500",
        setup=_copy_run(edit_model=_narrower_layers),
    ),
    Case(
        "command line",
        "`keras-vae evaluate run` whose config.json is not JSON",
        command("evaluate", "run"),
        "run/config.json",
        "written by keras-vae train",
        setup=lambda: (
            _copy_run()(),
            _write(os.path.join("run", "config.json"), b"{"),
        ),
    ),
    Case(
        "command line",
        "`keras-vae evaluate run --iw-samples -1`",
        command("evaluate", "run", "--iw-samples", "-1"),
        "got -1",
        "expected an integer >= 0",
    ),
    Case(
        "command line",
        "`keras-vae sweep --beta 1 1`",
        command("sweep", "--beta", "1", "1", *RUN_ARGS),
        "Received: [1.0, 1.0]",
        "Expected each beta once",
    ),
    Case(
        "command line",
        "`keras-vae sweep --beta 0 4 --distribute multi-worker`",
        command("sweep", "--beta", "0", "4", "--distribute", "multi-worker", *RUN_ARGS),
        "a sweep trains one per beta",
        "on the workers, train one run per beta instead",
    ),
    Case(
        "command line",
        "`keras-vae sample run --label 3` of a VAE run",
        command("sample", "run", "--label", "3", "--out", "s.png"),
        "a vae run",
        "--label needs a conditional (cvae) run",
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae sample run --out samples.jpg`",
        command("sample", "run", "--out", "samples.jpg"),
        "samples.jpg",
        ".png",
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae interpolate run --from missing.png --to test:0`",
        command("interpolate", "run", "--from", "missing.png", "--to", "test:0"),
        "missing.png is neither an image file nor test:N",
        "expected an image of the model's size",
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae encode run photos/` of 28x28 images for an 8x8 model",
        command("encode", "run", "photos", "--out", "codes.csv"),
        "photos/a.png is 28x28 pixels",
        "the model takes 8x8 images",
        setup=lambda: (_copy_run()(), _png("photos/a.png", (28, 28))),
    ),
    Case(
        "command line",
        "`keras-vae train --out notes.txt`, an existing file",
        command("train", *RUN_ARGS, "--out", "notes.txt"),
        "notes.txt is a file, not a folder",
        "expected a new or empty folder, or a keras-vae run folder",
        setup=lambda: _write("notes.txt", b"my notes"),
    ),
    Case(
        "command line",
        "`keras-vae train --out mine --overwrite` where your own files are",
        command("train", *RUN_ARGS, "--out", "mine", "--overwrite"),
        "mine holds files keras-vae did not write (config.json, notes.txt, src)",
        "expected a new or empty folder, or a keras-vae run folder",
        setup=_your_files("mine"),
    ),
    Case(
        "command line",
        "`keras-vae train --out` a name of 300 characters",
        command("train", *RUN_ARGS, "--out", "x" * 300),
        "(300 characters): the name is too long for the file system",
        "choose a shorter name",
    ),
    Case(
        "command line",
        "`keras-vae train --out notes.txt/run`: a file as a folder",
        command("train", *RUN_ARGS, "--out", "notes.txt/run"),
        "a part of the path is a file, not a folder",
        "choose a path whose folders are folders",
        setup=lambda: _write("notes.txt", b"my notes"),
    ),
    Case(
        "command line",
        "`keras-vae train --out archive/run` in a read-only folder",
        command("train", *RUN_ARGS, "--out", "archive/run", read_only="archive"),
        "archive: permission denied",
        "choose a location you may write to",
        setup=lambda: os.makedirs("archive"),
    ),
    Case(
        "command line",
        "`keras-vae train --out run` whose config.json is a JSON list",
        command("train", *RUN_ARGS, "--out", "run"),
        "run/config.json is not the config.json of a run",
        "it is written by keras-vae train",
        setup=_run_folder_with_config(b"[1, 2]"),
    ),
    Case(
        "command line",
        "`keras-vae train --config latin1.toml`, not UTF-8",
        command("train", "--config", "latin1.toml"),
        "is not UTF-8 text (byte 0xe9",
        "expected a TOML file, which is UTF-8",
        setup=lambda: _write("latin1.toml", b"dataset = 'caf\xe9'\n"),
    ),
    Case(
        "command line",
        "`keras-vae train --config twice.toml` with `latent-dim` and `latent_dim`",
        command("train", "--config", "twice.toml"),
        "'latent-dim' and 'latent_dim' are the same setting",
        "expected each setting once",
        setup=lambda: _write("twice.toml", b"latent-dim = 2\nlatent_dim = 3\n"),
    ),
    Case(
        "command line",
        "`keras-vae train --latent-dim 1000000000`",
        command("train", *RUN_ARGS, "--latent-dim", "1000000000", "--out", "run"),
        "1000000000",
        "out of memory",
    ),
    Case(
        "command line",
        "`KERAS_BACKEND=bogus keras-vae train`",
        command("train", environment={"KERAS_BACKEND": "bogus"}),
        "KERAS_BACKEND=bogus",
        "expected one of tensorflow, jax, torch",
    ),
    Case(
        "command line",
        "`keras-vae sample run --n 100000000000`",
        command("sample", "run", "--n", "100000000000", "--out", "s.png"),
        "100000000000",
        "out of memory",
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae sample run --out samples.png` where samples.png is a folder",
        command("sample", "run", "--out", "samples.png"),
        "samples.png is a folder",
        "expected a file name",
        setup=lambda: (_copy_run()(), os.makedirs("samples.png")),
    ),
    Case(
        "command line",
        "`keras-vae sample cvae --n 5` of a run with 10 classes",
        command("sample", "cvae", "--n", "5", "--out", "s.png"),
        "--n 5 cannot show each of the run's 10 classes",
        "expected at least 10, or --label K",
        setup=_copy_run("cvae", kind="cvae"),
    ),
    Case(
        "command line",
        "`keras-vae tune --directory . --project src` where your code is",
        command("tune", *RUN_ARGS, "--directory", ".", "--project", "src"),
        "./src holds files that are not a keras_vae search (main.py)",
        "expected a new folder or a search's folder",
        setup=lambda: _write(os.path.join("src", "main.py"), b"print(1)"),
    ),
    Case(
        "command line",
        "`keras-vae tune --max-trials 0`",
        command("tune", "--max-trials", "0"),
        "got 0",
        "expected an integer >= 1",
    ),
    Case(
        "command line",
        "`keras-vae tune --latent-dim 32 2`",
        command("tune", "--latent-dim", "32", "2", *RUN_ARGS),
        "32",
        "2",
    ),
    # Tuner
    Case(
        "tuner",
        '`tuning.make_tuner(hypermodel, tuner="grid")`',
        library(later(_grid_tuner)),
        "'grid'",
        "['bayesian', 'hyperband', 'random']",
    ),
    Case(
        "tuner",
        '`tuning.make_objective("accuracy")`',
        library(_module("tuning.make_objective"), "accuracy"),
        "'accuracy'",
        "any logged metric with its direction",
    ),
    Case(
        "tuner",
        "`VAEHyperModel(input_shape, latent_dim=(32, 2))`",
        library(_module("tuning.VAEHyperModel"), (8, 8, 1), latent_dim=(32, 2)),
        "(32, 2)",
        "latent_dim",
    ),
    Case(
        "tuner",
        "`python -m tuning --objective val_accuracy`",
        command("--objective", "val_accuracy", *RUN_ARGS, tuning=True),
        "val_accuracy",
        "val_elbo",
    ),
    # Anomaly scores
    Case(
        "anomaly",
        "`anomaly.score(model, x, method='likelihood')`",
        library(_anomaly_call("score", x=_float(4, 8, 8, 1), method="likelihood")),
        "Unknown anomaly score method 'likelihood'",
        "Expected one of dose, elbo, iwae, complexity, regret, knn",
    ),
    Case(
        "anomaly",
        "`anomaly.score(model, x, method='knn')` of a model calibrated without "
        "training images",
        library(lambda: _knn_without_reference),
        "calibrated without it",
        "reference=x_train",
    ),
    Case(
        "anomaly",
        "`anomaly.score` of 28x28 images with an 8x8 model",
        library(_anomaly_call("score", x=_float(4, 28, 28, 1), method="elbo")),
        "Received: images of shape (28, 28, 1)",
        "the model takes images of shape (8, 8, 1)",
    ),
    Case(
        "anomaly",
        "`model.anomaly_scores` of 28x28 images with an 8x8 model",
        library(lambda: _anomaly_scores_wrong_shape),
        "`VAE.anomaly_scores`: the model takes images of shape (8, 8, 1)",
        "Received: images of shape (28, 28, 1)",
    ),
    Case(
        "anomaly",
        "`anomaly.score(model, x, method='iwae', num_samples=0)`",
        library(
            _anomaly_call("score", x=_float(4, 8, 8, 1), method="iwae", num_samples=0)
        ),
        "num_samples=0",
        "integer >= 1",
    ),
    Case(
        "anomaly",
        "`anomaly.score` of a ConditionalVAE with label 7 of 3 classes",
        library(
            _anomaly_call(
                "score", _cvae, x=_float(2, 8, 8, 1), labels=[0, 7], method="elbo"
            )
        ),
        "Received values such as [7]",
        "integers in [0, 3)",
    ),
    Case(
        "anomaly",
        "`anomaly.calibrate(model, x, false_alarm_rate=1.5)`",
        library(
            _anomaly_call("calibrate", x=_float(40, 8, 8, 1), false_alarm_rate=1.5)
        ),
        "false_alarm_rate=1.5",
        "a fraction in (0, 1)",
    ),
    Case(
        "anomaly",
        "`anomaly.calibrate` on 10 images",
        library(_anomaly_call("calibrate", x=_float(10, 8, 8, 1))),
        "Received 10",
        "needs at least 40 images",
    ),
    Case(
        "anomaly",
        "`model.flag_anomalies(x)` of a model never calibrated",
        library(lambda: _flag_uncalibrated),
        "has no calibrated anomaly threshold",
        "keras_vae.anomaly.calibrate(model, x_validation)",
    ),
    Case(
        "command line",
        "`keras-vae score run photos/` of 28x28 images for an 8x8 model",
        command("score", "run", "photos", "--out", "scores.csv"),
        "photos/a.png is 28x28 pixels",
        "the model takes 8x8 images",
        setup=lambda: (_copy_run()(), _png("photos/a.png", (28, 28))),
    ),
    Case(
        "command line",
        "`keras-vae score run empty/`, a folder without images",
        command("score", "run", "empty", "--out", "scores.csv"),
        "empty holds no image files",
        ".png",
        setup=lambda: (_copy_run()(), os.makedirs("empty")),
    ),
    Case(
        "command line",
        "`keras-vae score run nothing` (no such file, split or set)",
        command("score", "run", "nothing", "--out", "scores.csv"),
        "nothing does not exist",
        "expected a folder of images, an image file, a split",
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae score run test` of a run without thresholds",
        command("score", "run", "test", "--out", "scores.csv"),
        "run has no calibrated anomaly thresholds",
        "run keras-vae calibrate run first",
        setup=_copy_run(edit_model=_without_detector),
    ),
    Case(
        "command line",
        "`keras-vae score run test --method iwae` (train calibrates dose, elbo, "
        "complexity)",
        command("score", "run", "test", "--method", "iwae", "--out", "scores.csv"),
        "no threshold for the 'iwae' score",
        "keras-vae calibrate run places one for every method",
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae score run test --iw-samples 0`",
        command("score", "run", "test", "--iw-samples", "0"),
        "got 0",
        ">= 1",
    ),
    Case(
        "command line",
        "`keras-vae calibrate run --false-alarm-rate 1.5`",
        command("calibrate", "run", "--false-alarm-rate", "1.5"),
        "got 1.5",
        "expected a fraction in (0, 1)",
    ),
    Case(
        "command line",
        "`keras-vae score cvae test --label 12` of a run with 10 classes",
        command("score", "cvae", "test", "--label", "12", "--out", "scores.csv"),
        "--label 12 is not a class of this run",
        "expected 0 to 9",
        setup=_copy_run("cvae", kind="cvae"),
    ),
    # Export and TensorBoard
    Case(
        "command line",
        "`keras-vae export run --format tflite`",
        command("export", "run", "--format", "tflite"),
        "invalid choice: 'tflite'",
        "(choose from 'saved_model', 'onnx')",
    ),
    Case(
        "command line",
        "`keras-vae export run --out served` where served exists",
        command("export", "run", "--out", "served"),
        "served already exists",
        "pass --overwrite to replace it",
        setup=lambda: (_copy_run()(), _write("served/mine.txt", b"keep")),
    ),
    Case(
        "command line",
        "`keras-vae export run` whose model.keras is truncated",
        command("export", "run", "--out", "served"),
        "run/model.keras cannot be loaded: it is not a .keras file",
        "it may be truncated or corrupt",
        setup=_copy_run(replace_model=_truncate),
    ),
    Case(
        "command line",
        "`keras-vae export run --format onnx` without tf2onnx installed",
        _without_module("tf2onnx", command("export", "run", "--format", "onnx")),
        "ONNX export needs tf2onnx, which is not installed",
        'pip install "keras-vae[onnx]"',
        setup=_copy_run(),
    ),
    Case(
        "command line",
        "`keras-vae export run --out archive/served` in a read-only folder",
        command("export", "run", "--out", "archive/served", read_only="archive"),
        "archive: permission denied",
        "choose a location you may write to",
        setup=lambda: (_copy_run()(), os.makedirs("archive")),
    ),
    Case(
        "command line",
        "`keras-vae train --tensorboard logs` in a read-only folder",
        command(
            "train",
            *RUN_ARGS,
            "--out",
            "run",
            "--tensorboard",
            "logs",
            read_only="logs",
        ),
        "logs: permission denied",
        "choose a location you may write to",
        setup=lambda: os.makedirs("logs"),
    ),
]
