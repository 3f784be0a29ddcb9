"""End-to-end runs of the `keras-vae` command on scikit-learn's digits."""

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys

import keras
import matplotlib.image
import numpy as np
import pytest

import keras_vae
from keras_vae import cli
from keras_vae.datasets import load
from tests.datasets.idx_files import write_idx_folder

RUN_FILES = {
    "model.keras",
    "config.json",
    "history.csv",
    "metrics.json",
    "latent_tsne.png",
    "reconstructions.png",
    "samples.png",
}


def _png_size(path):
    image = matplotlib.image.imread(path)
    return image.shape[1], image.shape[0]


def _history(run):
    with open(run / "history.csv") as file:
        return list(csv.DictReader(file))


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    """One default-architecture run on digits, shared by the checks below."""
    out = tmp_path_factory.mktemp("runs") / "vae"
    keras.utils.set_random_seed(0)
    assert (
        cli.main(["train", "--dataset", "digits", "--epochs", "3", "--out", str(out)])
        == 0
    )
    return out


def test_train_writes_the_run_folder(vae_run):
    from keras_vae.experiments import run_folder

    assert RUN_FILES <= set(os.listdir(vae_run))
    hidden = {name for name in os.listdir(vae_run) if name.startswith(".")}
    # The marker and the lock: no temporaries, and no backup once finished.
    assert hidden == {run_folder.MARKER, run_folder.LOCK}
    assert _png_size(vae_run / "latent_tsne.png") == (600, 550)
    width, height = _png_size(vae_run / "reconstructions.png")
    assert width > 3 * height  # two rows of ten images
    width, height = _png_size(vae_run / "samples.png")
    assert 0.8 < width / height < 1.3  # eight by eight samples
    assert not (vae_run / "manifold.png").exists()  # latent_dim 20


def test_config_records_every_setting(vae_run):
    config = json.loads((vae_run / "config.json").read_text())
    assert config["dataset_used"] == "digits" and config["seed"] == 0
    assert config["latent_dim"] == 20 and config["batch_size"] == 64
    assert config["learning_rate"] == 1e-3 and config["likelihood"] == "gaussian"
    assert config["preprocessing_state"]["mode"] == "standardize"


def test_metrics_agree_with_the_last_history_row(vae_run):
    metrics = json.loads((vae_run / "metrics.json").read_text())
    last = _history(vae_run)[-1]
    assert metrics["epochs_trained"] == len(_history(vae_run)) == 3
    for name, value in metrics["train"].items():
        assert value == pytest.approx(float(last[name]), rel=1e-6)
    for name, value in metrics["validation"].items():
        assert value == pytest.approx(float(last[f"val_{name}"]), rel=1e-6)
    test = metrics["test"]
    assert test["elbo"] == pytest.approx(test["reconstruction_loss"] + test["kl_loss"])


def test_evaluate_reproduces_the_test_metrics(vae_run, capsys):
    assert cli.main(["evaluate", str(vae_run)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("test"))
    elbo = float(row.split()[-1])
    expected = json.loads((vae_run / "metrics.json").read_text())["test"]["elbo"]
    assert elbo == pytest.approx(expected, rel=0.02)  # one-sample ELBO estimate
    bound_line = next(line for line in out.splitlines() if "-log p(x) <=" in line)
    bound = float(bound_line.split("<=")[1].split()[0])
    assert bound < elbo  # k = 100 tightens the one-sample ELBO
    assert "k = 100" in bound_line
    # Bits of the 8-bit pixels, as for any likelihood: for a density, its
    # bound on the dequantized pixels, plus D log 256 and D log std.
    bits_line = next(line for line in out.splitlines() if "8-bit pixels" in line)
    bits = float(bits_line.split("<=")[1].split()[0])
    model = keras.saving.load_model(vae_run / "model.keras")
    x_test = model.preprocessing.transform(load("digits").x_test)
    seed = json.loads((vae_run / "config.json").read_text())["seed"]
    spread = keras_vae.evaluation.importance_weighted_bound(
        model, x_test, num_samples=100, seed=seed, dequantize=True
    ).mean()
    assert float(bits_line.split("pixels, ")[1].split()[0]) == pytest.approx(
        spread, abs=0.01
    )
    shape = x_test.shape[1:]
    assert bits == pytest.approx(
        keras_vae.evaluation.bits_per_dimension(spread, shape, model=model), abs=2e-4
    )
    assert bits != pytest.approx(
        keras_vae.evaluation.bits_per_dimension(spread, shape), abs=0.1
    )
    assert "active units:" in out and "of 20" in out
    assert "mutual information I(x; z)" in out
    assert (
        cli.main(["evaluate", str(vae_run), "--split", "train", "--iw-samples", "0"])
        == 0
    )
    assert "-log p(x) <=" not in capsys.readouterr().out
    assert cli.main(["evaluate", str(vae_run), "--latent-mixture", "5"]) == 1
    assert "needs a cvae run" in capsys.readouterr().err
    assert cli.main(["evaluate", str(vae_run), "--temperature", "0.5"]) == 1
    assert "--temperature sets the spread" in capsys.readouterr().err


def test_evaluate_reports_disentanglement_when_the_data_have_factors(
    vae_run, capsys, monkeypatch
):
    from keras_vae.experiments import training

    def with_factors(name, config):
        data = load("digits")
        # Two factors: the digit, and whether it is odd.
        return dataclasses.replace(
            data,
            factors_test=np.c_[data.y_test, data.y_test % 2],
            factor_names=("digit", "odd"),
        )

    monkeypatch.setattr(training, "load_named", with_factors)
    assert cli.main(["evaluate", str(vae_run), "--iw-samples", "0"]) == 0
    out = capsys.readouterr().out
    assert "360 posterior means against the dataset's factors (digit, odd)" in out
    line = next(line for line in out.splitlines() if line.startswith("disentangle"))
    values = [float(word.strip(",")) for word in line.split() if word[0].isdigit()]
    assert len(values) == 7 and all(0 <= value <= 1 for value in values)
    # The codes know the digit: far above the 10 % of chance.
    assert "informativeness 0." in line and values[4] > 0.5


def test_traverse_writes_a_grid_or_an_animation(vae_run, tmp_path, capsys):
    out = tmp_path / "traversal.png"
    assert cli.main(["traverse", str(vae_run), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "20 latent dimensions (" in printed
    assert f"x 3 images x 9 steps -> {out}" in printed
    assert out.is_file()
    gif = tmp_path / "traversal.gif"
    arguments = ["--images", "test:4", "--steps", "3", "--limit", "2", "--out"]
    assert cli.main(["traverse", str(vae_run), *arguments, str(gif)]) == 0
    assert "x 1 image x 3 steps" in capsys.readouterr().out
    assert _gif_frames(gif) == 4
    assert cli.main(["traverse", str(vae_run), "--images", "test:99999"]) == 1
    assert "test:99999: expected test:N with N from 0 to" in capsys.readouterr().err


def _gif_frames(path):
    from PIL import Image

    with Image.open(path) as animation:
        return animation.n_frames


def test_dsprites_trains_on_a_subset_with_a_bounded_validation(
    tmp_path, capsys, monkeypatch
):
    from keras_vae.experiments import splits

    # The bound at 1,000 instead of 10,000: the same code path, a tenth of
    # the validation images to evaluate and calibrate on (72,728 without it).
    monkeypatch.setattr(splits, "MAX_VALIDATION", 1000)
    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "--dataset",
            "dsprites",
            "--max-examples",
            "128",
            "--epochs",
            "1",
            "--latent-dim",
            "2",
            "--objective",
            "tcvae:4",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "128 training, 1000 validation, 10000 test images" in printed
    # beta-TCVAE: beta 4 on the total correlation, of which the KL holds one.
    assert json.loads((out / "config.json").read_text())["objective"] == "tcvae:4"
    assert "total_correlation" in _history(out)[0]
    model = keras.models.load_model(out / "model.keras")
    assert isinstance(model.penalty, keras_vae.layers.TotalCorrelationPenalty)
    assert model.penalty.weight == 3.0
    assert "calibrated on the 1000 validation images" in printed
    # Data made from factors: the run's figures show what each dimension means.
    assert "traversal.png" in printed and (out / "traversal.png").is_file()
    assert json.loads((out / "metrics.json").read_text())["test"]["elbo"] > 0


def test_cvae_with_two_latent_dimensions(tmp_path, capsys):
    out = tmp_path / "cvae"
    code = cli.main(
        [
            "train",
            "--dataset",
            "digits",
            "--model",
            "cvae",
            "--latent-dim",
            "2",
            "--epochs",
            "1",
            "--latent-mixture",
            "3",
            "--out",
            str(out),
            "--tensorboard",
            str(tmp_path / "logs"),
        ]
    )
    assert code == 0
    assert {"conditioned.png", "manifold.png"} | RUN_FILES <= set(os.listdir(out))
    _check_tensorboard_logs(tmp_path / "logs", len(load("digits").y_test))
    config = json.loads((out / "config.json").read_text())
    assert config["latent_mixture"] == 3
    # cvae's defaults: the class at every layer, a learned mixture of 10
    # Gaussians per class, the discretized logistic of 8-bit pixels.
    assert config["condition_all_layers"] and config["prior"] == "class:10"
    assert (config["likelihood"], config["preprocessing"]) == ("logistic", "scale")
    model = keras.models.load_model(out / "model.keras")
    assert (model.prior.num_classes, model.prior.num_components) == (10, 10)
    assert isinstance(model.likelihood, keras_vae.likelihoods.DiscretizedLogistic)
    joins = [layer for layer in model.decoder.layers if "concat" in layer.name]
    assert len(joins) == 4  # the Dense layer's and the three convolutions'
    assert model.latent_mixture.components == 3  # kept in the model file
    # Drawn at cvae's default temperature, kept in the model file too.
    assert config["sample_temperature"] == model.sample_temperature == 0.7
    np.testing.assert_allclose(
        model.sample(labels=[1, 2], seed=4),
        model.sample(labels=[1, 2], seed=4, temperature=0.7),
        atol=1e-6,
    )
    assert not (out / "latent_mixture.npz").exists()
    width, height = _png_size(out / "conditioned.png")
    assert height > width * 0.8  # ten rows, one per class
    assert "conditioned.png" in capsys.readouterr().out

    # evaluate trains the sample classifier once per dataset, caches it outside
    # the run, and reports fidelity and diversity beside its accuracy.
    before = sorted(os.listdir(out))
    assert cli.main(["evaluate", str(out), "--iw-samples", "10"]) == 0
    first = capsys.readouterr().out
    assert "Training the classifier" in first
    assert sorted(os.listdir(out)) == before  # nothing written into the run
    cached = os.path.join(os.environ["KERAS_VAE_CACHE"], "classifiers")
    assert any(name.endswith(".keras") for name in os.listdir(cached))
    fidelity = next(line for line in first.splitlines() if "label fidelity" in line)
    assert "classifier accuracy on real test images" in fidelity
    assert "within-class diversity" in first
    assert "reconstructions of real test images score" in first
    # Samples of the run's latent mixture are judged beside prior samples,
    # at the model's temperature.
    mixture = "latent mixture (3 components per class) samples at temperature 0.7"
    assert f"{mixture}: label fidelity" in first
    assert "prior samples at temperature 0.7: within-class diversity" in first
    assert cli.main(["evaluate", str(out), "--iw-samples", "0"]) == 0
    second = capsys.readouterr().out
    assert "Training the classifier" not in second
    assert fidelity in second  # same classifier, same seed: same numbers
    # At temperature 0 every sample of a class is one of its components'
    # means: the samples' spread, measured by the diversity, falls.
    assert (
        cli.main(["evaluate", str(out), "--iw-samples", "0", "--temperature", "0"]) == 0
    )
    cold = capsys.readouterr().out

    def diversity(text, source):
        line = next(
            line
            for line in text.splitlines()
            if line.startswith(source) and "within-class diversity" in line
        )
        return float(line.split("diversity ")[1].split()[0])

    assert diversity(cold, "prior samples at temperature 0:") < diversity(
        second, "prior samples at temperature 0.7:"
    )
    assert (
        cli.main(["evaluate", str(out), "--iw-samples", "0", "--temperature", "1"]) == 0
    )
    assert "prior samples: within-class diversity" in capsys.readouterr().out
    assert "latent mixture (3 components per class) samples at temperature 0" in cold


def _check_tensorboard_logs(logs, test_images):
    """What `train --tensorboard` promises, read back as TensorBoard reads it."""
    from google.protobuf import text_format
    from tensorboard.backend.event_processing.event_accumulator import (
        EventAccumulator,
    )
    from tensorboard.plugins import projector

    def tags(run):
        events = EventAccumulator(str(logs / run), size_guidance={"tensors": 0})
        events.Reload()
        return {tag: events.Tensors(tag) for tag in events.Tags()["tensors"]}

    scalars = tags("train")
    for name in ("elbo", "kl_loss", "reconstruction_loss", "loss", "beta"):
        assert len(scalars[f"epoch_{name}"]) == 1, name  # one epoch
    for name in ("active_units", "learning_rate"):
        assert len(scalars[f"epoch_{name}"]) == 1, name
    assert "epoch_elbo" in tags("validation")
    images = tags("images")
    # The reconstructions, and the conditioned grid (one row per class).
    assert set(images) == {"reconstructions", "samples"}
    assert images["samples"][0].step == 1
    config = text_format.Parse(
        (logs / "projector_config.pbtxt").read_text(), projector.ProjectorConfig()
    )
    (embedding,) = config.embeddings
    codes = np.loadtxt(logs / embedding.tensor_path, delimiter="\t")
    assert codes.shape == (min(test_images, 2000), 2)
    metadata = (logs / embedding.metadata_path).read_text().splitlines()
    assert metadata[0] == "label\tclass" and len(metadata) == len(codes) + 1
    assert list(embedding.sprite.single_image_dim) == [8, 8]
    side = int(np.ceil(np.sqrt(len(codes))))
    assert _png_size(logs / embedding.sprite.image_path) == (8 * side, 8 * side)


def test_export_writes_a_saved_model_and_refuses_to_overwrite(vae_run, capsys):
    import tensorflow as tf

    out = vae_run.parent / "served"
    assert cli.main(["export", str(vae_run), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"SavedModel -> {out}" in printed
    assert "encode       (pixels (batch, 8, 8, 1)) -> (mean (batch, 20)" in printed
    x = load("digits").x_test[:5]
    model = keras.models.load_model(vae_run / "model.keras")
    served = tf.saved_model.load(str(out))
    np.testing.assert_allclose(
        served.encode(tf.constant(x))["mean"].numpy(), model.encode(x)[0], atol=1e-5
    )
    assert cli.main(["export", str(vae_run), "--out", str(out)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli.main(["export", str(vae_run), "--out", str(out), "--overwrite"]) == 0


def test_early_stopping_keeps_best_weights(tmp_path):
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--dataset",
                "digits",
                "--latent-dim",
                "2",
                "--epochs",
                "40",
                "--learning-rate",
                "0.05",
                "--early-stopping",
                "1",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert len(_history(out)) < 40


def test_default_dataset_falls_back_to_digits_on_the_first_line(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _offline)
    monkeypatch.chdir(tmp_path)
    assert cli.main(["train", "--epochs", "1", "--latent-dim", "2"]) == 0
    first_line = capsys.readouterr().out.splitlines()[0]
    assert "MNIST" in first_line and "digits" in first_line
    (run,) = (tmp_path / "runs").iterdir()
    assert json.loads((run / "config.json").read_text())["dataset_used"] == "digits"


def test_explicit_mnist_never_substitutes(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(keras.datasets.mnist, "load_data", _offline)
    out = tmp_path / "run"
    assert cli.main(["train", "--dataset", "mnist", "--out", str(out)]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "--data-path" in error
    assert not out.exists()


def test_data_path_with_malformed_file_leaves_nothing(tmp_path, capsys):
    write_idx_folder(tmp_path / "data")
    (tmp_path / "data" / "train-images-idx3-ubyte.gz").write_bytes(b"garbage")
    out = tmp_path / "run"
    assert (
        cli.main(["train", "--data-path", str(tmp_path / "data"), "--out", str(out)])
        == 1
    )
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "train-images-idx3-ubyte.gz" in error
    assert not out.exists()


def test_data_path_trains_on_idx_files(tmp_path, capsys):
    write_idx_folder(tmp_path / "data", n_train=40, n_test=10)
    out = tmp_path / "run"
    assert (
        cli.main(
            [
                "train",
                "--data-path",
                str(tmp_path / "data"),
                "--epochs",
                "1",
                "--latent-dim",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    config = json.loads((out / "config.json").read_text())
    assert config["data_source"] == str(tmp_path / "data")
    # Too few validation images for anomaly thresholds: the run finishes and says so.
    assert "No anomaly thresholds: the 4 validation images" in capsys.readouterr().out


def test_refuses_to_overwrite_a_run(vae_run, capsys):
    assert cli.main(["train", "--dataset", "digits", "--out", str(vae_run)]) == 1
    error = capsys.readouterr().err
    assert "already holds a finished run" in error and "--overwrite" in error


@pytest.mark.parametrize(
    "arguments, message",
    [
        (
            ["train", "--model", "gan"],
            "invalid choice: 'gan' (choose from 'vae', 'conv_vae', 'cvae')",
        ),
        (["train", "--beta", "-1"], "expected a finite number >= 0"),
        (["train", "--latent-dim", "0"], "expected an integer >= 1"),
        (["train", "--learning-rate", "0"], "expected a finite number > 0"),
        (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
        (["train", "--frobnicate"], "unrecognized arguments: --frobnicate"),
        (["sweep"], "the following arguments are required: --beta"),
        (["train", "--beta-schedule", "linear:5"], "Invalid beta_schedule 'linear:5'"),
        (["train", "--beta-schedule", "warmup:0"], "warmup:EPOCHS"),
        (["train", "--capacity", "25:x"], "Invalid capacity '25:x'"),
        (["train", "--capacity", "-3"], "C_MAX[:EPOCHS]"),
        (["train", "--objective", "tcvae:x"], "Invalid objective 'tcvae:x'"),
        (["train", "--objective", "betavae"], "KIND one of vae, tcvae, dip-i"),
        (["train", "--objective", "tcvae:0.5"], "must be a finite number >= 1"),
        (["train", "--objective", "vae:2"], "the plain VAE takes no weight"),
        (["train", "--prior", "gauss"], "KIND one of normal, mixture, vamp, class"),
        (["train", "--train-samples", "0"], "expected an integer >= 1, got 0"),
        (["train", "--free-bits", "-0.5"], "expected a finite number >= 0"),
        (["train", "--latent-mixture", "-1"], "expected an integer >= 0"),
        (["evaluate", "run", "--iw-samples", "-1"], "expected an integer >= 0"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_flags_are_one_line_errors(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error


def test_semantic_errors_are_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(
        [
            "train",
            "--likelihood",
            "bernoulli",
            "--preprocessing",
            "standardize",
            "--out",
            str(out),
        ]
    )
    assert code == 1 and not out.exists()
    assert "bernoulli likelihood needs inputs in [0, 1]" in capsys.readouterr().err
    assert cli.main(["train", "--condition-all-layers", "--out", str(out)]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "needs model 'cvae'" in error
    assert not out.exists()
    arguments = ["train", "--dataset", "digits", "--model", "cvae", "--out", str(out)]
    assert cli.main([*arguments, "--latent-mixture", "500"]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "--latent-mixture 500 needs at least 500 training images per class" in error
    assert not out.exists()
    assert cli.main(["evaluate", str(tmp_path / "missing")]) == 1
    assert "not a finished run folder" in capsys.readouterr().err


def _calibrate_with_pythons_sigint_handler(tmp_path):
    """`keras-vae calibrate` with Python's own SIGINT handler, whatever the
    test runner inherited (a background job starts with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return cli.main(["calibrate", str(tmp_path / "run")])
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_while_the_framework_starts_exits_130(tmp_path, capsys, monkeypatch):
    # Ctrl-C in the first seconds (Keras and the backend importing) is Ctrl-C
    # too: 130 and one line, as later, not a user error's 1.
    from keras_vae.cli import common

    def interrupted(arguments):
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(common, "start_framework", interrupted)
    assert _calibrate_with_pythons_sigint_handler(tmp_path) == 130
    assert capsys.readouterr().err == "keras-vae calibrate: interrupted\n"
    assert not (tmp_path / "run").exists()


def test_ctrl_c_in_a_garbage_collector_callback_still_interrupts(
    tmp_path, capsys, monkeypatch
):
    # Python ignores an exception raised in a gc callback ("Exception ignored
    # in ..."), and JAX runs one at every collection: a Ctrl-C landing there
    # was lost and the command ran to its end.
    import gc
    import time

    from keras_vae.cli import common

    finished = []

    def interrupting(phase, info):
        if phase == "start":
            gc.callbacks.remove(interrupting)
            signal.raise_signal(signal.SIGINT)  # Ctrl-C during the callback

    def work(arguments):
        gc.callbacks.append(interrupting)
        gc.collect()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.01)
        finished.append(True)

    monkeypatch.setattr(common, "start_framework", work)
    try:
        code = _calibrate_with_pythons_sigint_handler(tmp_path)
    finally:
        if interrupting in gc.callbacks:
            gc.callbacks.remove(interrupting)
    assert code == 130
    assert not finished
    assert capsys.readouterr().err == "keras-vae calibrate: interrupted\n"


def test_sweep_compares_betas_and_resumes(tmp_path, capsys, monkeypatch):
    from keras_vae.experiments import training

    out = tmp_path / "sweep"
    arguments = ["sweep", "--beta", "0", "4", "--dataset", "digits", "--epochs", "2"]
    arguments += ["--latent-dim", "2", "--out", str(out)]
    arguments += ["--tensorboard", str(tmp_path / "logs")]
    train = training.train

    def interrupted_at_beta_4(**settings):
        if settings["beta"] == 4:
            raise KeyboardInterrupt
        return train(**settings)

    monkeypatch.setattr(training, "train", interrupted_at_beta_4)
    assert cli.main(arguments) == 130
    assert capsys.readouterr().err.strip() == (
        f"keras-vae sweep: interrupted; run the same command to resume the sweep in "
        f"{out}."
    )
    monkeypatch.setattr(training, "train", train)
    assert cli.main(arguments) == 0
    table = capsys.readouterr().out
    assert f"{out / 'beta-0'} holds this beta's finished run: using it." in table
    with open(out / "sweep.csv") as file:
        rows = list(csv.DictReader(file))
    assert [float(r["beta"]) for r in rows] == [0.0, 4.0]
    # More weight on the KL term buys a lower rate.
    assert float(rows[1]["test_kl_loss"]) < float(rows[0]["test_kl_loss"])
    for name in ("sweep.png", "rate_distortion.png"):
        assert _png_size(out / name)[0] > 300
    assert {"beta-0", "beta-4"} <= set(os.listdir(out))
    # One TensorBoard run per beta, the resumed sweep's beta-0 from its first part.
    assert sorted(os.listdir(tmp_path / "logs")) == ["beta-0", "beta-4"]
    for beta in ("beta-0", "beta-4"):
        logs = tmp_path / "logs" / beta
        assert {"train", "validation", "images", "projector_config.pbtxt"} <= set(
            os.listdir(logs)
        )
    assert "ELBO" in table and "-log p(x|z)" in table and "active units" in table
    for row in rows:
        assert float(row["test_iw_bound"]) < float(row["test_elbo"])
        assert 0 <= int(row["test_active_units"]) <= 2


def test_train_with_schedule_free_bits_and_capacity(tmp_path, capsys):
    out = tmp_path / "run"
    arguments = ["train", "--dataset", "digits", "--epochs", "2", "--out", str(out)]
    extra = ["--beta", "4", "--beta-schedule", "cyclical:2", "--free-bits", "0.1"]
    assert cli.main(arguments + extra + ["--capacity", "6:2", "--no-figures"]) == 0
    # Everything but the figures.
    assert RUN_FILES - set(os.listdir(out)) == {
        "latent_tsne.png",
        "reconstructions.png",
        "samples.png",
    }
    assert not [name for name in os.listdir(out) if name.endswith(".png")]
    assert "Figures: none (--no-figures)" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["beta_schedule"] == "cyclical:2" and config["free_bits"] == 0.1
    assert config["capacity"] == "6:2"
    # The schedules run inside the step: the history holds the values of each
    # epoch's last step (steps 20 and 41; digits has 21 batches per epoch).
    # The cycle of 42 steps ramps over its first 21, then holds.
    history = _history(out)
    betas = [float(row["beta"]) for row in history]
    assert betas == pytest.approx([4 * 20 / 21, 4.0], rel=1e-6)
    capacities = [float(row["capacity"]) for row in history]
    assert capacities == pytest.approx([6 * 20 / 42, 6 * 41 / 42], rel=1e-6)
    model = keras.models.load_model(out / "model.keras")
    assert model.free_bits == 0.1
    # The model file keeps the schedules and the step count: it continues.
    regularizer = model.kl_regularizer
    assert regularizer.beta_schedule == keras_vae.schedules.Cyclical(42, maximum=4.0)
    assert regularizer.capacity_schedule == keras_vae.schedules.LinearWarmup(
        42, maximum=6.0
    )
    assert int(keras.ops.convert_to_numpy(regularizer.iterations)) == 42


def test_train_with_a_vamp_prior_and_the_importance_weighted_bound(tmp_path):
    out = tmp_path / "run"
    arguments = ["train", "--dataset", "digits", "--epochs", "1", "--out", str(out)]
    extra = ["--max-examples", "300", "--prior", "vamp:8", "--train-samples", "3"]
    assert cli.main(arguments + extra + ["--no-figures"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["prior"] == "vamp:8" and config["train_samples"] == 3
    history = _history(out)[0]
    assert float(history["loss"]) < float(history["elbo"])  # the tighter bound
    model = keras.models.load_model(out / "model.keras")
    assert isinstance(model.prior, keras_vae.priors.VampPrior)
    assert model.num_samples == 3
    # The pseudo-inputs started as standardized training images, not as noise.
    pseudo = keras.ops.convert_to_numpy(model.prior.pseudo_inputs)
    assert pseudo.shape == (8, 8, 8, 1) and pseudo.std() > 0.5
    # Another prior is another run: no silent resume.
    assert cli.main(arguments + ["--max-examples", "300", "--prior", "mixture"]) == 1


def test_train_dequantized_reports_bits_of_the_dequantized_pixels(tmp_path, capsys):
    out = tmp_path / "run"
    arguments = ["train", "--dataset", "digits", "--epochs", "1", "--out", str(out)]
    extra = ["--max-examples", "300", "--likelihood", "continuous_bernoulli"]
    assert cli.main(arguments + extra + ["--dequantize", "--no-figures"]) == 0
    assert json.loads((out / "config.json").read_text())["dequantize"] is True
    model = keras.models.load_model(out / "model.keras")
    assert model.dequantize is True and model.preprocessing.mode == "scale"
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--iw-samples", "5"]) == 0
    assert "8-bit pixels: <=" in capsys.readouterr().out


def test_cvae_trains_the_originals_model_with_five_flags(tmp_path):
    out = tmp_path / "original"
    arguments = ["train", "--dataset", "digits", "--model", "cvae", "--epochs", "1"]
    arguments += ["--likelihood", "gaussian", "--prior", "normal"]
    arguments += ["--no-condition-all-layers", "--max-examples", "300"]
    arguments += ["--latent-mixture", "0", "--sample-temperature", "1"]
    assert cli.main([*arguments, "--no-figures", "--out", str(out)]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["condition_all_layers"] is False and config["prior"] == "normal"
    assert config["preprocessing"] == "standardize"
    model = keras.models.load_model(out / "model.keras")
    assert model.prior is None and model.likelihood.name == "gaussian"
    joins = [layer for layer in model.decoder.layers if "concat" in layer.name]
    assert len(joins) == 1  # the class joins the Dense layer only
    # Samples from the prior N(0, I) itself.
    assert model.latent_mixture is None and model.sample_temperature == 1


@pytest.mark.parametrize("flags", [["--likelihood", "logistic"], ["--model", "cvae"]])
def test_the_discretized_logistic_refuses_other_levels_before_writing(
    tmp_path, capsys, flags
):
    # 17 grey levels (k / 16), not 8-bit values; cvae's default likelihood is
    # the discretized logistic, and the line says how to choose another.
    path = tmp_path / "levels.npz"
    pixels = np.random.default_rng(0).integers(0, 17, (40, 8, 8)) / 16
    labels = np.arange(40) % 2
    np.savez(path, x_train=pixels, y_train=labels, x_test=pixels, y_test=labels)
    out = tmp_path / "run"
    arguments = ["train", "--data-path", str(path), *flags, "--out", str(out)]
    assert cli.main(arguments) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "expects 8-bit pixels" in error
    assert ("--likelihood gaussian" in error) == ("cvae" in flags)
    assert not out.exists()


def test_digits_are_8_bit_pixels():
    # Their 17 levels k / 16, each at the nearest 8-bit value.
    data = keras_vae.datasets.load("digits")
    levels = np.concatenate([data.x_train.ravel(), data.x_test.ravel()]) * 255
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-3)
    assert len(np.unique(np.round(levels))) == 17


@pytest.mark.parametrize("model", ["vae", "cvae"])
def test_train_with_the_logistic_mixture_decodes_its_mean(tmp_path, model):
    write_idx_folder(tmp_path / "data", n_train=200, n_test=20)
    out = tmp_path / "run"
    arguments = ["train", "--data-path", str(tmp_path / "data"), "--model", model]
    extra = ["--likelihood", "logistic_mixture", "--epochs", "1", "--latent-dim", "2"]
    assert cli.main(arguments + extra + ["--no-figures", "--out", str(out)]) == 0
    model = keras.models.load_model(out / "model.keras")
    assert isinstance(
        model.likelihood, keras_vae.likelihoods.DiscretizedLogisticMixture
    )
    assert model.likelihood.num_components == 5
    assert model.decoder.output_shape[-1] == 15
    labels = np.arange(3) if model.conditional else None
    pixels = model.decode(np.zeros((3, 2), "float32"), labels=labels)
    assert pixels.shape == (3, 8, 8, 1) and 0 <= pixels.min() <= pixels.max() <= 1
    metrics = json.loads((out / "metrics.json").read_text())
    # -log of a probability of 64 8-bit values (uniform: 64 log 256 = 355
    # nats), plus the KL term: positive, not a density's unbounded value.
    assert 0 < metrics["test"]["reconstruction_loss"] < 2 * 64 * np.log(256)


def test_factor_vae_refuses_a_last_batch_of_one_before_writing(tmp_path, capsys):
    out = tmp_path / "run"
    arguments = ["train", "--dataset", "digits", "--objective", "factor"]
    extra = ["--max-examples", "65", "--batch-size", "64", "--out", str(out)]
    assert cli.main(arguments + extra) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert "--batch-size 64 with 65 training images leaves one" in error
    assert not out.exists()


def test_sweep_rejects_duplicate_betas(tmp_path, capsys):
    assert cli.main(["sweep", "--beta", "1", "1", "--out", str(tmp_path / "s")]) == 1
    assert "Expected each beta once" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "keras_vae"],
        ["-m", "keras_vae", "train"],
        ["-m", "keras_vae", "tune"],
        ["-m", "tuning"],
    ],
)
def test_help_does_not_import_tensorflow(command):
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "usage: " in result.stdout
    assert not {"tensorflow", "keras", "keras_tuner"} & _imported(result.stderr)


def _imported(importtime_lines):
    """The top-level packages of `python -X importtime`'s report (a package's
    own line can be missing: TensorFlow's is written while its start-up lines
    are captured)."""
    return {
        line.split("|")[-1].strip().split(".")[0]
        for line in importtime_lines.splitlines()
        if line.startswith("import time:")
    }


@pytest.mark.parametrize(
    "command", ["evaluate", "sample", "encode", "score", "calibrate", "export"]
)
def test_a_missing_run_is_reported_before_the_framework_starts(command, tmp_path):
    """The check of RUN_DIR needs no Keras: a typo costs no 10-s TensorFlow
    import."""
    arguments = {"encode": ["image.png"], "score": ["test"]}.get(command, [])
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keras_vae", command]
        + [str(tmp_path / "missing-run"), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "import time" not in line]
    assert lines == [
        f"keras-vae {command}: error: {tmp_path / 'missing-run'} is not a finished "
        "run folder: it lacks config.json, model.keras."
    ]
    assert not {"tensorflow", "keras", "jax", "torch"} & _imported(result.stderr)


@pytest.mark.parametrize(
    "line, noise",
    [
        (
            "WARNING: All log messages before absl::InitializeLog() is called are "
            "written to STDERR",
            True,
        ),
        (
            "I0000 00:00:1795588843.173457   27856 cudart_stub.cc:31] Could not find "
            "cuda drivers on your machine, GPU will not be used.",
            True,
        ),
        ("W0000 00:00:1795588843.173457   27856 x.cc:1] a real warning", False),
        ("UserWarning: something the user should see", False),
    ],
)
def test_only_tensorflow_start_up_info_lines_are_dropped(line, noise):
    from keras_vae.framework import _START_UP_NOISE

    assert bool(_START_UP_NOISE.fullmatch(line)) == noise


def test_library_use_prints_nothing_of_tensorflows_start_up():
    script = (
        "import numpy as np, keras_vae\n"
        "vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))\n"
        "vae.compile()\n"
        "vae.fit(np.full((16, 8, 8, 1), 0.5, 'float32'), epochs=1, verbose=0)\n"
    )
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""  # no absl, CUDA, cuInit or CPU-feature lines


def test_verbose_shows_tensorflow_start_up_lines(tmp_path):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")
    }
    # A folder that looks finished, so that the command starts TensorFlow.
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.keras").write_text("not a model")

    def stderr(*flags):
        result = subprocess.run(
            [sys.executable, "-m", "keras_vae", "evaluate", str(tmp_path), *flags],
            capture_output=True,
            text=True,
            timeout=120,
            env={**environment, "TF_CPP_MIN_LOG_LEVEL": "0"},
        )
        assert result.returncode == 1
        return result.stderr

    quiet = stderr()
    assert quiet.count("\n") == 1 and "is not the config.json of a run" in quiet
    assert "absl" in stderr("--verbose")


def _offline():
    raise Exception("URL fetch failure: no network")


# Backends.


def test_backend_must_be_a_known_one(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--backend", "numpy"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'numpy'" in capsys.readouterr().err


def test_backend_and_keras_backend_variable_must_agree(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    out = tmp_path / "run"
    assert cli.main(["train", "--backend", "torch", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "--backend torch disagrees with" in error
    assert "KERAS_BACKEND=jax" in error
    assert not out.exists()


def test_missing_backend_names_the_extra(tmp_path, monkeypatch, capsys):
    from keras_vae.cli import common

    real_find_spec = common.importlib.util.find_spec
    monkeypatch.setattr(
        common.importlib.util,
        "find_spec",
        lambda name: None if name == "jax" else real_find_spec(name),
    )
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert cli.main(["evaluate", "x", "--backend", "jax"]) == 1
    error = capsys.readouterr().err
    assert 'The jax backend is not installed: pip install "keras-vae[jax]"' in error


def test_backend_cannot_change_once_keras_runs(monkeypatch, capsys):
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    other = "jax" if keras.backend.backend() != "jax" else "torch"
    assert cli.main(["evaluate", "x", "--backend", other]) == 1
    assert "must be chosen before Keras is imported" in capsys.readouterr().err


def test_train_on_jax_evaluate_on_torch_sample_on_tensorflow(tmp_path):
    """The real path: a fresh process per command, the backend from the flag.
    (On the PyTorch backend, TensorFlow imported before Keras crashes the
    process when PyTorch is a CUDA build; the command line imports Keras
    first.) JAX and PyTorch never import TensorFlow, which Keras would import
    to seed it and to save a model."""
    out = tmp_path / "run"
    environment = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}

    def command(*arguments):
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "keras_vae", *arguments],
            capture_output=True,
            text=True,
            timeout=300,
            env=environment,
        )
        lines = result.stderr.splitlines()
        assert result.returncode == 0, result.stderr[-2000:]
        # Only our output: none of TensorFlow's C++ start-up lines (absl, CUDA).
        assert [line for line in lines if not line.startswith("import time:")] == []
        backend = arguments[arguments.index("--backend") + 1]
        assert ("tensorflow" in _imported(result.stderr)) == (backend == "tensorflow")
        return result.stdout

    assert "backend: jax" in command(
        "train",
        "--backend",
        "jax",
        "--dataset",
        "digits",
        "--epochs",
        "1",
        # A 2-D latent (no t-SNE in the figures) and a smaller bound: the
        # test is about the backends.
        "--latent-dim",
        "2",
        "--out",
        str(out),
    )
    with open(out / "config.json") as file:
        assert json.load(file)["backend"] == "jax"
    evaluated_output = command(
        "evaluate", str(out), "--backend", "torch", "--iw-samples", "10"
    )
    assert "trained on jax, evaluated on torch" in evaluated_output
    with open(out / "metrics.json") as file:
        trained = json.load(file)["test"]["elbo"]
    row = next(
        line for line in evaluated_output.splitlines() if line.startswith("test")
    )
    evaluated = float(row.split()[-1])
    # One-sample ELBO estimates of the same model: equal up to sampling noise.
    assert evaluated == pytest.approx(trained, rel=0.02)
    # The third backend, in a fresh process too.
    samples = tmp_path / "samples.npy"
    command("sample", str(out), "--backend", "tensorflow", "--out", str(samples))
    assert np.load(samples).shape == (64, 8, 8, 1)


def test_evaluate_refuses_a_model_whose_class_is_not_importable(
    vae_run, tmp_path, capsys
):
    import shutil
    import zipfile

    tampered = tmp_path / "tampered"
    tampered.mkdir()
    shutil.copy(vae_run / "config.json", tampered)
    with (
        zipfile.ZipFile(vae_run / "model.keras") as source,
        zipfile.ZipFile(tampered / "model.keras", "w") as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "config.json":
                content = content.replace(b"keras_vae>VAE", b"elsewhere>VAE")
                content = content.replace(b'"VAE"', b'"NotImportable"')
            target.writestr(item, content)
    assert cli.main(["evaluate", str(tampered)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "cannot be loaded: Could not locate class 'NotImportable'" in error


_ENDS = """
import atexit, sys, threading, time
from keras_vae.cli import run
atexit.register(lambda: print("handler ran", flush=True))
def late():
    time.sleep(0.5)
    print("thread done", flush=True)
threading.Thread(target=late).start()
sys.argv = ["keras-vae"] + sys.argv[1:]
run()
"""


@pytest.mark.parametrize(
    "argv, code",
    [(["evaluate", "/nonexistent/run"], 1), (["sample"], 2)],
    ids=["a user error", "a malformed flag"],
)
def test_the_command_ends_as_python_would_without_its_teardown(argv, code):
    # `run` ends the process with os._exit once the command returned: the
    # other threads joined, the atexit handlers run, the output flushed,
    # and the command's exit code.
    result = subprocess.run(
        [sys.executable, "-c", _ENDS, *argv], capture_output=True, text=True
    )
    assert result.returncode == code
    assert result.stdout.splitlines() == ["thread done", "handler ran"]
    assert "keras-vae" in result.stderr


def test_the_command_exits_as_usual_under_a_profiler(monkeypatch):
    # cProfile and coverage write their data after the program: no os._exit.
    monkeypatch.setattr(cli, "main", lambda: 0)
    monkeypatch.setattr(sys, "getprofile", lambda: object())
    monkeypatch.setattr(os, "_exit", lambda code: pytest.fail("os._exit"))
    with pytest.raises(SystemExit) as stopped:
        cli.run()
    assert stopped.value.code == 0
