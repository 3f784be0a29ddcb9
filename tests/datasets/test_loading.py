import os

import keras
import numpy as np
import pytest

from keras_vae import datasets
from keras_vae.datasets import loading
from tests.datasets.idx_files import write_idx, write_idx_folder


def test_digits_is_real_and_split():
    data = datasets.load("digits")
    assert data.x_train.shape == (1437, 8, 8, 1) and data.x_test.shape == (360, 8, 8, 1)
    assert data.x_train.dtype == np.float32
    assert 0 <= data.x_train.min() and data.x_train.max() == 1.0
    assert data.num_classes == 10
    assert set(np.bincount(data.y_test)) <= {35, 36, 37}  # stratified


def test_idx_folder(tmp_path):
    arrays = write_idx_folder(tmp_path)
    data = datasets.load("fashion_mnist", tmp_path)
    np.testing.assert_allclose(
        data.x_train[..., 0], arrays["train-images-idx3-ubyte.gz"] / 255.0, rtol=1e-6
    )
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    assert data.source == str(tmp_path)


def test_fashion_mnist_prefers_the_debian_package(tmp_path, monkeypatch):
    write_idx_folder(tmp_path)
    monkeypatch.setattr(loading, "DEBIAN_FASHION_MNIST", str(tmp_path))
    data = datasets.load("fashion_mnist")
    assert data.source.startswith("Debian package dataset-fashion-mnist")
    assert data.x_train.shape == (30, 8, 8, 1)


def test_npz(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "data.npz",
        x_train=rng.uniform(size=(20, 6, 6)),
        y_train=np.arange(20) % 3,
        x_test=rng.uniform(size=(5, 6, 6)),
        y_test=np.arange(5) % 3,
    )
    data = datasets.load("custom", tmp_path / "data.npz")
    assert data.image_shape == (6, 6, 1) and data.num_classes == 3


def test_npz_missing_arrays(tmp_path):
    np.savez(tmp_path / "data.npz", x_train=np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match=r"data.npz lacks the arrays \['y_train'"):
        datasets.load("custom", tmp_path / "data.npz")


@pytest.mark.parametrize(
    "change, match",
    [
        ({"x_train": np.full((4, 4, 4), np.nan)}, "NaN"),
        ({"x_train": np.zeros((4, 16))}, r"images.*\(4, 16\)"),
        ({"y_train": np.zeros(3, "int64")}, "4 train images but 3 train labels"),
        ({"y_train": np.zeros(4, "float32")}, "integer labels"),
        ({"x_train": np.full((4, 4, 4), 300.0)}, r"\[300.0, 300.0\]"),
        ({"x_test": np.zeros((2, 5, 5))}, "differ in shape"),
        ({"x_train": np.array([["a"] * 4] * 4 * 4).reshape(4, 4, 4)}, "dtype"),
    ],
)
def test_malformed_npz_names_the_file(tmp_path, change, match):
    arrays = {
        "x_train": np.zeros((4, 4, 4)),
        "y_train": np.zeros(4, "int64"),
        "x_test": np.zeros((2, 4, 4)),
        "y_test": np.zeros(2, "int64"),
        **change,
    }
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=match) as info:
        datasets.load("custom", tmp_path / "bad.npz")
    assert "bad.npz" in str(info.value)


def test_image_label_count_mismatch_in_idx(tmp_path):
    write_idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(9, "uint8"))
    with pytest.raises(ValueError, match="10 test images but 9 test labels"):
        datasets.load("mnist", tmp_path)


def test_missing_idx_file(tmp_path):
    write_idx_folder(tmp_path)
    os.remove(tmp_path / "train-labels-idx1-ubyte.gz")
    with pytest.raises(ValueError, match="holds no train-labels-idx1-ubyte"):
        datasets.load("mnist", tmp_path)


def test_bad_paths_and_names(tmp_path):
    with pytest.raises(ValueError, match="neither a folder of IDX files nor"):
        datasets.load("mnist", tmp_path / "nothing.npz")
    with pytest.raises(ValueError, match="Unknown dataset 'cifar'"):
        datasets.load("cifar")


def test_unavailable_mnist_says_how_to_provide_it(monkeypatch, capsys):
    def offline():
        print("Downloading data from https://example.invalid/mnist.npz")
        raise Exception("URL fetch failure")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(datasets.DataUnavailableError, match="mnist.npz.*`data_path`"):
        datasets.load("mnist")
    assert capsys.readouterr().out == ""  # Keras' download chatter is kept off


def test_unavailable_cifar10_says_how_to_provide_it(monkeypatch):
    def offline():
        raise Exception("URL fetch failure")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    with pytest.raises(
        datasets.DataUnavailableError, match="cifar-10-python.tar.gz.*~/.keras/datasets"
    ):
        datasets.load("cifar10")


def test_cifar10_labels_and_class_names(monkeypatch):
    rng = np.random.default_rng(0)

    def cached():
        images = rng.integers(0, 256, (20, 32, 32, 3), dtype="uint8")
        labels = (np.arange(20) % 10).reshape(-1, 1).astype("uint8")
        return (images, labels), (images[:10], labels[:10])

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", cached)
    data = datasets.load("cifar10")
    assert data.image_shape == (32, 32, 3) and data.y_train.shape == (20,)
    assert data.class_names[:2] == ["airplane", "automobile"]
