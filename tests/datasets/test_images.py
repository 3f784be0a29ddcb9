import os

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from keras_vae import cli, datasets
from keras_vae.datasets.images import ImageFiles, load_folder


def _digits_folder(folder, classes=(0, 1, 2), per_class=20, mode="L", size=None):
    """Real 8x8 digits written as PNG files, one sub-folder per class."""
    digits = load_digits()
    for label in classes:
        os.makedirs(folder / f"digit_{label}", exist_ok=True)
        chosen = np.flatnonzero(digits.target == label)[:per_class]
        for index in chosen:
            pixels = (digits.images[index] * 16).clip(0, 255).astype("uint8")
            image = Image.fromarray(pixels).convert(mode)
            if size:
                image = image.resize(size[::-1])
            image.save(folder / f"digit_{label}" / f"{index}.png")
    return folder


def _read(path, mode="L"):
    with Image.open(path) as image:
        return np.asarray(image.convert(mode), "float32") / 255.0


def test_class_folders_give_labels_and_a_seeded_stratified_split(tmp_path):
    folder = _digits_folder(tmp_path / "digits")
    x_train, y_train, x_test, y_test, classes = load_folder(str(folder), seed=0)
    assert classes == ["digit_0", "digit_1", "digit_2"]
    assert x_train.shape == (54, 8, 8, 1) and x_test.shape == (6, 8, 8, 1)
    assert np.bincount(y_test).tolist() == [2, 2, 2]
    assert set(x_train.paths).isdisjoint(x_test.paths)
    again = load_folder(str(folder), seed=0)
    np.testing.assert_array_equal(again[2].paths, x_test.paths)
    other = load_folder(str(folder), seed=1)
    assert set(other[2].paths) != set(x_test.paths)
    for path, label in zip(x_train.paths, y_train, strict=True):
        assert os.path.basename(os.path.dirname(path)) == f"digit_{label}"


def test_image_files_read_on_demand(tmp_path):
    folder = _digits_folder(tmp_path / "digits", classes=(0,), per_class=5)
    files = ImageFiles(
        sorted(str(p) for p in (folder / "digit_0").iterdir()), (8, 8, 1)
    )
    np.testing.assert_allclose(files[0][..., 0], _read(files.paths[0]), atol=1e-6)
    subset = files[[3, 1]]
    assert isinstance(subset, ImageFiles) and list(subset.paths) == [
        files.paths[3],
        files.paths[1],
    ]
    array = np.asarray(files, "float32")
    assert array.shape == (5, 8, 8, 1) and array.dtype == np.float32
    np.testing.assert_allclose(array[3], files[3])


def test_a_flat_folder_is_unlabelled(tmp_path):
    folder = _digits_folder(tmp_path / "digits", classes=(4,), per_class=12)
    flat = folder / "digit_4"
    x_train, y_train, x_test, y_test, classes = load_folder(str(flat))
    assert classes is None and len(x_train) + len(x_test) == 12
    assert not y_train.any() and not y_test.any()


def test_colour_modes_convert(tmp_path):
    grey = _digits_folder(tmp_path / "grey", classes=(0, 1), per_class=4)
    x_train, *_ = load_folder(str(grey), color_mode="rgb")
    image = x_train[0]
    assert image.shape == (8, 8, 3)
    np.testing.assert_allclose(image[..., 0], image[..., 2])
    colour = tmp_path / "colour"
    (colour / "a").mkdir(parents=True)
    (colour / "b").mkdir()
    rng = np.random.default_rng(0)
    for name in ("a/1.png", "a/2.jpg", "b/3.bmp", "b/4.gif"):
        pixels = rng.integers(0, 255, (6, 5, 3), dtype="uint8")
        Image.fromarray(pixels).save(colour / name)
    rgb, *_ = load_folder(str(colour), color_mode="rgb", test_fraction=0.5)
    assert np.asarray(rgb).shape == (2, 6, 5, 3)
    grey_of_colour, *_ = load_folder(str(colour), test_fraction=0.5)
    assert np.asarray(grey_of_colour).shape == (2, 6, 5, 1)


def test_mixed_sizes_need_an_image_size(tmp_path):
    folder = _digits_folder(tmp_path / "digits", classes=(0,), per_class=3)
    _digits_folder(folder, classes=(1,), per_class=3, size=(12, 10))
    with pytest.raises(ValueError, match=r"different sizes \(8x8 in .*, 12x10 in .*"):
        load_folder(str(folder))
    x_train, _, x_test, _, _ = load_folder(str(folder), image_size=(16, 16))
    assert np.asarray(x_train).shape == (4, 16, 16, 1)
    assert np.asarray(x_test).shape == (2, 16, 16, 1)


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda folder: None, "holds no image files"),
        (
            lambda folder: [
                Image.new("L", (4, 4)).save(folder / "b.png"),
                (folder / "a.png").write_bytes(b"not an image"),
            ],
            r"a\.png is not a readable image",
        ),
        (
            lambda folder: [
                (folder / "one").mkdir(),
                Image.new("L", (4, 4)).save(folder / "one" / "x.png"),
                (folder / "two").mkdir(),
                Image.new("L", (4, 4)).save(folder / "two" / "y.png"),
                Image.new("L", (4, 4)).save(folder / "two" / "z.png"),
            ],
            r"Class folder .*one holds 1 image; every class needs at least 2",
        ),
    ],
)
def test_bad_folders_are_named(build, match, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    build(folder)
    with pytest.raises(ValueError, match=match):
        load_folder(str(folder))


def test_statistics_and_training_pipeline_match_the_arrays(tmp_path):
    folder = _digits_folder(tmp_path / "digits", per_class=10)
    data = datasets.load("custom", str(folder))
    assert data.class_names == ["digit_0", "digit_1", "digit_2"]
    array = np.asarray(data.x_train)
    streamed = datasets.Preprocessing.fit("standardize", data.x_train)
    in_memory = datasets.Preprocessing.fit("standardize", array)
    assert streamed.mean == pytest.approx(in_memory.mean, rel=1e-6)
    assert streamed.std == pytest.approx(in_memory.std, rel=1e-6)
    inputs = streamed.training_inputs(data.x_train, data.y_train, batch_size=8)
    batches = list(inputs["x"].as_numpy_iterator())
    x = np.concatenate([batch[0] for batch in batches])
    labels = np.concatenate([batch[1] for batch in batches])
    expected = streamed.transform(array)
    # One epoch holds every image once, with its label, shuffled.
    order = np.lexsort(x.reshape(len(x), -1).T)
    expected_order = np.lexsort(expected.reshape(len(expected), -1).T)
    np.testing.assert_allclose(x[order], expected[expected_order], atol=1e-5)
    np.testing.assert_array_equal(labels[order], data.y_train[expected_order])


def test_image_options_need_a_folder_of_images():
    with pytest.raises(ValueError, match="apply to a folder of image files"):
        datasets.load("digits", image_size=(8, 8))


def test_train_evaluate_and_encode_a_folder_from_the_command_line(tmp_path, capsys):
    folder = _digits_folder(tmp_path / "digits", per_class=30, mode="RGB")
    out = tmp_path / "run"
    arguments = ["train", "--data-path", str(folder), "--model", "conv_vae"]
    arguments += ["--color-mode", "rgb", "--image-size", "12", "12", "--epochs", "2"]
    assert cli.main(arguments + ["--latent-dim", "3", "--out", str(out)]) == 0
    output = capsys.readouterr().out
    assert "90 images in" in output and "12x12 RGB, 3 classes" in output
    assert cli.main(["evaluate", str(out), "--iw-samples", "5"]) == 0
    assert "test " in capsys.readouterr().out
    codes = tmp_path / "codes.csv"
    assert cli.main(["encode", str(out), str(folder), "--out", str(codes)]) == 1
    # The model takes 12x12 images; the files are 8x8: encode does not resize.
    assert "the model takes 12x12 images" in capsys.readouterr().err
    assert cli.main(["encode", str(out), "test", "--out", str(codes)]) == 0
    assert len(codes.read_text().splitlines()) == 1 + 9


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--data-path", "{empty}"], "holds neither the four IDX files"),
        (["--data-path", "{mixed}"], "different sizes"),
        (["--dataset", "digits", "--image-size", "8", "8"], "apply to a folder"),
        (["--data-path", "{flat}", "--model", "cvae"], "classes"),
    ],
)
def test_folder_mistakes_are_one_line_and_leave_no_run(
    arguments, message, tmp_path, capsys
):
    empty = tmp_path / "empty"
    empty.mkdir()
    mixed = _digits_folder(tmp_path / "mixed", classes=(0,), per_class=2)
    _digits_folder(mixed, classes=(1,), per_class=2, size=(9, 9))
    flat = _digits_folder(tmp_path / "flat", classes=(3,), per_class=10) / "digit_3"
    paths = {"empty": str(empty), "mixed": str(mixed), "flat": str(flat)}
    out = tmp_path / "run"
    arguments = [part.format(**paths) for part in arguments]
    assert cli.main(["train", *arguments, "--epochs", "1", "--out", str(out)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error
    assert not out.exists()
