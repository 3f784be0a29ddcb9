"""`keras-vae sample`, `interpolate` and `encode` on runs trained on digits."""

import csv
import math
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from keras_vae import cli, datasets
from keras_vae.cli import common
from keras_vae.experiments import inference


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "vae"
    keras.utils.set_random_seed(0)
    arguments = ["train", "--dataset", "digits", "--epochs", "2", "--out", str(out)]
    # The commands below read the model; the run's figures are test_cli.py's.
    assert cli.main(arguments + ["--latent-dim", "4", "--no-figures"]) == 0
    return out


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cvae"
    keras.utils.set_random_seed(0)
    arguments = ["train", "--model", "cvae", "--dataset", "digits", "--epochs", "2"]
    arguments += ["--latent-dim", "3", "--latent-mixture", "2", "--out", str(out)]
    arguments += ["--no-figures"]
    assert cli.main(arguments) == 0
    return out


def _size(path):
    with Image.open(path) as image:
        return image.size


def _write_png(path, pixels):
    Image.fromarray(np.round(pixels[..., 0] * 255).astype("uint8")).save(path)


def _digits_test():
    data = datasets.load("digits")
    return data.x_test, data.y_test


def test_sample_writes_a_grid_and_an_array(vae_run, tmp_path, capsys):
    png, array = tmp_path / "grid.png", tmp_path / "grid.npy"
    assert cli.main(["sample", str(vae_run), "--n", "10", "--out", str(png)]) == 0
    assert "10 samples from the prior N(0, I)" in capsys.readouterr().out
    width, height = _size(png)
    assert 0.7 < width / height < 1.5  # 4 columns, 3 rows
    assert cli.main(["sample", str(vae_run), "--n", "10", "--out", str(array)]) == 0
    pixels = np.load(array)
    assert pixels.shape == (10, 8, 8, 1)
    assert pixels.min() >= 0 and pixels.max() <= 1
    assert cli.main(["sample", str(vae_run), "--n", "10", "--out", str(array)]) == 0
    np.testing.assert_array_equal(np.load(array), pixels)  # seeded
    assert (
        cli.main(
            ["sample", str(vae_run), "--n", "10", "--seed", "1", "--out", str(array)]
        )
        == 0
    )
    assert not np.allclose(np.load(array), pixels)


def test_sample_temperature_scales_the_draws(vae_run, cvae_run, tmp_path, capsys):
    out = tmp_path / "cold.npy"
    arguments = ["sample", str(vae_run), "--n", "6", "--out", str(out)]
    assert cli.main(arguments + ["--temperature", "0"]) == 0
    assert "6 samples from the prior N(0, I) at temperature 0" in (
        capsys.readouterr().out
    )
    run = inference.load_run(str(vae_run))
    # T = 0: every draw is the prior's mean, decoded.
    np.testing.assert_allclose(
        np.load(out), run.model.decode(np.zeros((6, 4), "float32")), atol=1e-5
    )
    # The same seed at another temperature: the same noise, scaled.
    cool = run.model.sample(6, seed=0, temperature=0.5, raw=True)
    z = 0.5 * keras.ops.convert_to_numpy(
        keras.random.normal((6, 4), seed=keras.random.SeedGenerator(0))
    )
    np.testing.assert_allclose(cool, run.model.decode(z, raw=True), atol=1e-5)
    # A conditional run's latent mixture (and its learned prior) at T = 0:
    # one image per component, whatever the seed.
    conditional = inference.load_run(str(cvae_run))
    for prior in (False, True):
        images = conditional.model.sample(
            40, labels=3, seed=1, prior=prior, temperature=0
        ).reshape(40, -1)
        components = 2 if not prior else 10
        assert 1 <= len(np.unique(images.round(5), axis=0)) <= components
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments + ["--temperature", "-1"])
    assert exit_info.value.code == 2
    assert "expected a finite number >= 0, got -1" in capsys.readouterr().err
    with pytest.raises(ValueError, match="temperature"):
        run.model.sample(2, temperature=float("nan"))


def test_sample_draws_the_class_asked_for(cvae_run, tmp_path):
    run = inference.load_run(str(cvae_run))
    out = tmp_path / "samples.npy"
    for label in (3, 4):
        arguments = ["sample", str(cvae_run), "--n", "6", "--label", str(label)]
        assert cli.main(arguments + ["--out", str(out)]) == 0
        expected = run.model.sample(6, labels=label, seed=0)  # pixels
        np.testing.assert_allclose(np.load(out), expected, atol=1e-5)
    # Without --label: every class in order, --n spread evenly over them.
    pixels, labels = inference.sample(run, 25)
    assert pixels.shape == (25, 8, 8, 1)
    assert np.bincount(labels).tolist() == [3] * 5 + [2] * 5
    assert (np.diff(labels) >= 0).all()
    _, labels = inference.sample(run, None)  # the default: 8 of each class
    assert np.bincount(labels).tolist() == [8] * 10
    grid, columns = inference.rows_by_class(
        pixels, np.repeat(np.arange(10), [3] * 5 + [2] * 5)
    )
    assert columns == 3 and grid.shape == (30, 8, 8, 1)
    # Class 1's row is full; class 5's ends in white.
    assert not (grid[5] == 1).all() and not (grid[16] == 1).all()
    assert (grid[17] == 1).all()


def test_sample_uses_the_runs_latent_mixture_unless_prior(cvae_run, tmp_path, capsys):
    out = tmp_path / "s.npy"
    assert cli.main(["sample", str(cvae_run), "--label", "1", "--out", str(out)]) == 0
    assert "latent mixture (2 components per class)" in capsys.readouterr().out
    mixture = np.load(out)
    arguments = ["sample", str(cvae_run), "--label", "1", "--prior", "--out", str(out)]
    assert cli.main(arguments) == 0
    # cvae's default prior, named.
    printed = capsys.readouterr().out
    assert "prior (a learned mixture of 10 Gaussians per class)" in printed
    assert not np.allclose(np.load(out), mixture)


def test_interpolate_runs_between_the_two_reconstructions(vae_run, tmp_path):
    out = tmp_path / "path.npy"
    arguments = ["interpolate", str(vae_run), "--from", "test:0", "--to", "test:7"]
    assert cli.main(arguments + ["--steps", "5", "--out", str(out)]) == 0
    path = np.load(out)
    assert path.shape == (5, 8, 8, 1)
    run = inference.load_run(str(vae_run))
    x_test, _ = _digits_test()
    ends = run.model.reconstruct(x_test[[0, 7]])
    np.testing.assert_allclose(path[[0, -1]], ends, atol=1e-5)
    # The middle lies between the ends.
    distances = [np.abs(image - ends[1]).sum() for image in path]
    assert distances[0] > distances[2] > distances[-1]


def test_interpolate_reads_image_files(vae_run, tmp_path, capsys):
    x_test, _ = _digits_test()
    start, end = tmp_path / "a.png", tmp_path / "b.png"
    _write_png(start, x_test[0])
    _write_png(end, x_test[7])
    from_files, from_split = tmp_path / "files.npy", tmp_path / "split.npy"
    arguments = ["interpolate", str(vae_run), "--from", str(start), "--to", str(end)]
    assert cli.main(arguments + ["--out", str(from_files)]) == 0
    arguments = ["interpolate", str(vae_run), "--from", "test:0", "--to", "test:7"]
    assert cli.main(arguments + ["--out", str(from_split)]) == 0
    # Equal up to the PNG's 8-bit quantization of the inputs.
    np.testing.assert_allclose(np.load(from_files), np.load(from_split), atol=0.02)
    png = tmp_path / "strip.png"
    assert (
        cli.main(
            [
                "interpolate",
                str(vae_run),
                "--from",
                str(start),
                "--to",
                str(end),
                "--out",
                str(png),
            ]
        )
        == 0
    )
    width, height = _size(png)
    assert width > 4 * height  # one row: the two images and 10 steps


def test_encode_writes_means_and_sigmas(vae_run, tmp_path, capsys):
    out = tmp_path / "codes.csv"
    assert cli.main(["encode", str(vae_run), "test", "--out", str(out)]) == 0
    with open(out) as file:
        rows = list(csv.reader(file))
    x_test, _ = _digits_test()
    assert len(rows) == len(x_test) + 1
    assert rows[0] == ["image", "label"] + [f"mean_{j}" for j in range(4)] + [
        f"sigma_{j}" for j in range(4)
    ]
    assert rows[1][:2] == ["test:0", str(_digits_test()[1][0])]
    run = inference.load_run(str(vae_run))
    mean, sigma = run.model.encode(x_test)  # from pixels, as the command
    values = np.array([row[2:] for row in rows[1:]], "float32")
    np.testing.assert_allclose(values[:, :4], mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(values[:, 4:], sigma, rtol=1e-4, atol=1e-5)
    assert f"{len(x_test)} images encoded" in capsys.readouterr().out


def test_the_model_file_alone_works_in_pixels(vae_run, tmp_path):
    """A fresh process that loads model.keras, and nothing else of the run,
    encodes pixels as `keras-vae encode` does and samples pixels."""
    codes = tmp_path / "codes.csv"
    assert cli.main(["encode", str(vae_run), "test", "--out", str(codes)]) == 0
    script = (
        "import sys, numpy as np, keras, keras_vae\n"
        "model = keras.models.load_model(sys.argv[1])\n"
        "x = keras_vae.datasets.load('digits').x_test\n"
        "np.save(sys.argv[2], np.concatenate(model.encode(x), axis=1))\n"
        "np.save(sys.argv[3], model.sample(16, seed=0))\n"
    )
    encoded, sampled = tmp_path / "encoded.npy", tmp_path / "sampled.npy"
    result = subprocess.run(
        [sys.executable, "-c", script, str(vae_run / "model.keras")]
        + [str(encoded), str(sampled)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    with open(codes) as file:
        rows = list(csv.reader(file))[1:]
    expected = np.array([row[2:] for row in rows], "float32")
    np.testing.assert_allclose(np.load(encoded), expected, rtol=1e-4, atol=1e-5)
    samples = np.load(sampled)
    assert samples.shape == (16, 8, 8, 1)
    assert samples.min() >= 0 and samples.max() <= 1  # pixels, not standardized


def test_a_run_of_an_earlier_release_is_read(vae_run, tmp_path, capsys):
    """Up to 0.1.0 the preprocessing lived in config.json only."""
    old = tmp_path / "old"
    shutil.copytree(vae_run, old)
    model = keras.models.load_model(old / "model.keras")
    model.set_data_space(None)
    model.save(old / "model.keras")
    lines = []
    run = inference.load_run(str(old), say=lines.append)
    assert len(lines) == 1 and "a run of an earlier release" in lines[0]
    x_test, _ = _digits_test()
    expected = inference.load_run(str(vae_run)).model.encode(x_test[:20])
    np.testing.assert_allclose(run.model.encode(x_test[:20])[0], expected[0], rtol=1e-5)
    assert cli.main(["sample", str(old), "--out", str(tmp_path / "s.png")]) == 0
    assert "a run of an earlier release" in capsys.readouterr().out


def test_encode_takes_class_folders_for_a_conditional_run(cvae_run, tmp_path):
    x_test, y_test = _digits_test()
    folder = tmp_path / "images"
    for label in (0, 1):
        (folder / f"class_{label}").mkdir(parents=True)
        for index in np.flatnonzero(y_test == label)[:3]:
            _write_png(folder / f"class_{label}" / f"{index}.png", x_test[index])
    out = tmp_path / "codes.csv"
    assert cli.main(["encode", str(cvae_run), str(folder), "--out", str(out)]) == 0
    with open(out) as file:
        rows = list(csv.DictReader(file))
    assert [row["label"] for row in rows] == ["0"] * 3 + ["1"] * 3
    assert os.path.basename(os.path.dirname(rows[0]["image"])) == "class_0"


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["sample", "{vae}", "--label", "1"], "--label needs a conditional (cvae) run"),
        (
            ["sample", "{cvae}", "--label", "10"],
            "--label 10 is not a class of this run",
        ),
        (["sample", "{missing}"], "is not a finished run folder"),
        (
            ["interpolate", "{cvae}", "--from", "test:0", "--to", "test:1"],
            "interpolates within one class: pass --label",
        ),
        (
            ["interpolate", "{vae}", "--from", "test:0", "--to", "test:100000"],
            "expected test:N with N from 0 to",
        ),
        (
            ["interpolate", "{vae}", "--from", "{big}", "--to", "test:1"],
            "is 12x9 pixels; the model takes 8x8 images. Resize it first.",
        ),
        (
            ["interpolate", "{vae}", "--from", "{corrupt}", "--to", "test:1"],
            "is not a readable image",
        ),
        (["traverse", "{cvae}"], "is traversed within one class: pass --label"),
        (["traverse", "{vae}", "--images", "{big}"], "the model takes 8x8 images"),
        (["traverse", "{vae}", "--limit", "0"], "--limit"),
        (["encode", "{vae}", "{corrupt}"], "is not a readable image"),
        (["encode", "{vae}", "{empty}"], "holds no image files"),
        (["encode", "{vae}", "nowhere"], "is neither an image file, a folder"),
        (["encode", "{cvae}", "{flat}"], "encodes images with their class"),
    ],
)
def test_mistakes_are_one_line_and_write_nothing(
    arguments, message, vae_run, cvae_run, tmp_path, capsys
):
    paths = {
        "vae": str(vae_run),
        "cvae": str(cvae_run),
        "missing": str(tmp_path / "missing"),
        "big": str(tmp_path / "big.png"),
        "corrupt": str(tmp_path / "corrupt.png"),
        "empty": str(tmp_path / "empty"),
        "flat": str(tmp_path / "flat"),
    }
    Image.new("L", (9, 12)).save(paths["big"])
    with open(paths["corrupt"], "wb") as file:
        file.write(b"\x89PNG\r\n\x1a\n truncated")
    os.makedirs(paths["empty"])
    os.makedirs(paths["flat"])
    Image.new("L", (8, 8)).save(os.path.join(paths["flat"], "a.png"))
    out = tmp_path / {"encode": "out.csv", "traverse": "out.gif"}.get(
        arguments[0], "out.npy"
    )
    arguments = [part.format(**paths) for part in arguments] + ["--out", str(out)]
    assert cli.main(arguments) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error
    assert not out.exists()
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".")]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["sample", "r", "--out", "grid.jpg"], "must end with .png or .npy"),
        (["encode", "r", "test", "--out", "codes.txt"], "must end with .csv"),
        (["sample", "r", "--out", "no/such/folder/grid.png"], "is not a folder"),
        (["interpolate", "r", "--from", "a.png"], "required: --to"),
        (["interpolate", "r", "--from", "a", "--to", "b", "--steps", "1"], ">= 2"),
        (["sample", "r", "--n", "0"], "--n"),
    ],
)
def test_bad_flags_are_one_line_errors(arguments, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(arguments)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error


@pytest.mark.parametrize(
    "backend",
    [b for b in ("tensorflow", "jax", "torch") if b != keras.backend.backend()],
)
def test_runs_of_one_backend_are_used_on_another(vae_run, tmp_path, backend):
    """Interpolation is deterministic: equal on every backend. On JAX, the
    command keeps what it compiled in the cache folder, and the same command
    again compiles nothing new."""
    here = tmp_path / "here.npy"
    arguments = ["interpolate", str(vae_run), "--from", "test:0", "--to", "test:3"]
    assert cli.main(arguments + ["--out", str(here)]) == 0
    # The command line's own cache, not the test session's.
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("KERAS_BACKEND", "JAX_COMPILATION_CACHE_DIR")
    }
    environment["KERAS_VAE_CACHE"] = str(tmp_path / "cache")
    compiled = tmp_path / "cache" / "jax"

    def there(out):
        result = subprocess.run(
            [sys.executable, "-m", "keras_vae", *arguments, "--out", str(out)]
            + ["--backend", backend],
            capture_output=True,
            text=True,
            timeout=300,
            env=environment,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stderr == ""
        np.testing.assert_allclose(np.load(out), np.load(here), atol=1e-4)
        return sorted(os.listdir(compiled)) if compiled.exists() else []

    kept = there(tmp_path / "there.npy")
    if backend != "jax":
        assert kept == []
        return
    assert len(kept) > 5, kept
    assert there(tmp_path / "again.npy") == kept


def test_an_unwritable_cache_folder_leaves_jax_uncached_and_says_so(
    tmp_path, monkeypatch, capsys
):
    (tmp_path / "cache").write_text("a file where the cache folder would be")
    monkeypatch.setenv("KERAS_VAE_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    common.cache_jax_compilations()
    assert "JAX_COMPILATION_CACHE_DIR" not in os.environ
    assert capsys.readouterr().out == (
        "JAX's compiled programs are not kept for the next command: "
        f"{tmp_path / 'cache' / 'jax'}: a part of the path is a file, not a "
        "folder; choose a path whose folders are folders.\n"
    )
    # A cache the user configured, even none, is theirs.
    monkeypatch.setenv("KERAS_VAE_CACHE", str(tmp_path / "writable"))
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "")
    common.cache_jax_compilations()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == ""
    assert not (tmp_path / "writable").exists()
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR")
    common.cache_jax_compilations()
    assert os.environ["JAX_COMPILATION_CACHE_DIR"] == str(tmp_path / "writable" / "jax")


def test_a_conv_vae_run_is_trained_and_used(tmp_path):
    out = tmp_path / "conv"
    arguments = ["train", "--model", "conv_vae", "--dataset", "digits", "--epochs", "2"]
    arguments += ["--latent-dim", "4", "--no-figures", "--out", str(out)]
    assert cli.main(arguments) == 0
    run = inference.load_run(str(out))
    assert run.model.encoder.name == "conv_encoder" and not run.conditional
    samples = tmp_path / "s.npy"
    assert cli.main(["sample", str(out), "--n", "5", "--out", str(samples)]) == 0
    assert np.load(samples).shape == (5, 8, 8, 1)


def _rows(path):
    with open(path) as file:
        return list(csv.DictReader(file))


def test_score_writes_scores_flags_and_a_histogram(vae_run, tmp_path, capsys):
    from keras_vae import anomaly

    out = tmp_path / "scores.csv"
    assert cli.main(["score", str(vae_run), "test", "--out", str(out)]) == 0
    rows = _rows(out)
    x_test, y_test = _digits_test()
    assert list(rows[0]) == ["image", "label", "score", "anomaly", "elbo", "complexity"]
    assert [int(row["label"]) for row in rows] == list(y_test)
    run = inference.load_run(str(vae_run))
    expected = anomaly.score(run.model, x_test)  # dose, from pixels
    scores = np.array([float(row["score"]) for row in rows])
    np.testing.assert_allclose(scores, expected, rtol=1e-4)
    flags = np.array([int(row["anomaly"]) for row in rows])
    threshold = run.model.anomaly_detector.thresholds["dose"]
    np.testing.assert_array_equal(flags, scores > threshold)
    assert 0 < flags.mean() < 0.1  # calibrated at 1 % on the validation split
    assert _size(tmp_path / "scores.png")[0] > 300
    assert "360 images scored by dose" in capsys.readouterr().out
    noise = tmp_path / "noise.csv"
    assert cli.main(["score", str(vae_run), "noise", "--out", str(noise)]) == 0
    assert np.mean([int(row["anomaly"]) for row in _rows(noise)]) > 0.9


def test_calibrate_then_evaluate_ood_with_every_method(vae_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(vae_run, run_dir)
    assert cli.main(["calibrate", str(run_dir), "--false-alarm-rate", "0.05"]) == 0
    detector = inference.load_run(str(run_dir)).model.anomaly_detector
    assert set(detector.thresholds) == {
        "dose",
        "elbo",
        "iwae",
        "complexity",
        "regret",
        "knn",
    }
    assert detector.rate == 0.05
    # The knn score's reference: the run's training images, without the
    # validation split the thresholds are placed on.
    count = len(datasets.load("digits").x_train)
    assert len(detector.reference) == count - math.ceil(0.1 * count)
    noise = tmp_path / "noise"
    noise.mkdir()
    rng = np.random.default_rng(0)
    for index in range(40):
        _write_png(noise / f"{index}.png", rng.uniform(size=(8, 8, 1)))
    capsys.readouterr()
    assert cli.main(["evaluate", str(run_dir), "--ood", str(noise)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "(40 images, anomalies)" in lines[0]
    table = {line.split()[0]: line.split()[1:] for line in lines[2:8]}
    assert set(table) == set(detector.thresholds)
    assert float(table["dose"][0]) > 0.9  # AUROC
    assert float(table["knn"][0]) > 0.9
    assert not any("needs the run" in line for line in lines)  # none missing
    out = tmp_path / "scores.csv"
    arguments = ["score", str(run_dir), "test", "--method", "iwae", "--out", str(out)]
    assert cli.main(arguments) == 0
    assert list(_rows(out)[0])[2:] == [
        "score",
        "anomaly",
        "dose",
        "elbo",
        "complexity",
        "regret",
        "knn",
    ]


def test_conditional_score_marginalises_and_classifies(cvae_run, tmp_path):
    out = tmp_path / "scores.csv"
    assert cli.main(["score", str(cvae_run), "test", "--out", str(out)]) == 0
    rows = _rows(out)
    assert list(rows[0])[-3:] == [
        "class_entropy",
        "predicted_class",
        "class_probability",
    ]
    _, y_test = _digits_test()
    predicted = np.array([int(row["predicted_class"]) for row in rows])
    assert (predicted == y_test).mean() > 0.3  # chance: 0.1


JAX_PROGRAMS_WITH_THE_CLI_CACHE = """
import errno, os, sys
os.environ.pop("JAX_COMPILATION_CACHE_DIR", None)
os.environ["KERAS_VAE_CACHE"] = sys.argv[1]
from keras_vae.cli import common
common.cache_jax_compilations()
import jax, jax.numpy as jnp
from jax._src import lru_cache

def full_disk(self, key, value):
    raise OSError(errno.ENOSPC, "No space left on device")

if sys.argv[2] == "full disk":
    lru_cache.LRUCache.put = full_disk
for n in range(1, 6):
    print(float(jax.jit(lambda x: x * n)(jnp.ones(n)).sum()))
"""


def _jax_programs(cache, fault):
    result = subprocess.run(
        [sys.executable, "-c", JAX_PROGRAMS_WITH_THE_CLI_CACHE, str(cache), fault],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KERAS_BACKEND": "jax"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""  # five programs, no warning about any of them
    lines = result.stdout.splitlines()
    assert [float(line) for line in lines[-5:]] == [1.0, 4.0, 9.0, 16.0, 25.0]
    return lines[:-5]


def test_a_full_disk_or_a_cut_entry_under_the_jax_cache_is_one_line(tmp_path):
    cache = tmp_path / "cache"
    assert _jax_programs(cache, "full disk") == [
        "JAX's compiled programs are no longer kept for the next command: "
        f"{cache / 'jax'}: no space left on the device; free some space."
    ]
    assert _jax_programs(cache, "none") == []
    entries = list((cache / "jax").iterdir())
    assert entries
    for entry in entries:  # writes cut short (a killed process, a full disk)
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    message = (
        f"JAX's compilation cache {cache / 'jax'} holds damaged entries (a write "
        "was cut short): their programs are compiled again; delete the folder to "
        "clear them."
    )
    assert _jax_programs(cache, "none") == [message]
