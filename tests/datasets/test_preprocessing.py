import numpy as np
import pytest

from keras_vae.datasets import Preprocessing
from keras_vae.datasets.preprocessing import _tensor_of


def _pixels(n=50, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, 4, 4, 1)).astype("float32")


def test_standardize_uses_training_statistics_and_inverts():
    x = _pixels()
    preprocessing = Preprocessing.fit("standardize", x)
    inputs = preprocessing.transform(x)
    assert abs(inputs.mean()) < 1e-5 and abs(inputs.std() - 1) < 1e-5
    np.testing.assert_allclose(preprocessing.to_pixels(inputs), x, atol=1e-6)
    restored = Preprocessing(**preprocessing.get_config())
    np.testing.assert_allclose(restored.transform(x), inputs)


@pytest.mark.parametrize(
    "x",
    [
        np.random.default_rng(1).uniform(size=(1000, 28, 28, 1)).astype("float32"),
        np.random.default_rng(2).integers(0, 256, size=(7, 300, 301, 3)),
        np.full((3, 5, 5, 1), 0.25, "float32") + np.arange(3)[:, None, None, None],
        np.random.default_rng(3).uniform(size=(2, 4)).tolist(),
    ],
    ids=["more rows than a chunk", "rows larger than a chunk", "3 values", "a list"],
)
def test_standardization_statistics_are_every_pixel_s(x):
    # Taken a few rows at a time, not as np.std of the whole array.
    preprocessing = Preprocessing.fit("standardize", x)
    pixels = np.asarray(x, "float64")
    assert preprocessing.mean == pytest.approx(pixels.mean(), rel=1e-12)
    assert preprocessing.std == pytest.approx(pixels.std(), rel=1e-9)


def test_standardization_without_pixels_says_so():
    with pytest.raises(ValueError, match="needs training pixels"):
        Preprocessing.fit("standardize", np.zeros((0, 4, 4, 1), "float32"))


def test_static_binarization_is_seeded():
    x = _pixels()
    preprocessing = Preprocessing.fit("binarize_static", x)
    a = preprocessing.transform(x, seed=1)
    assert set(np.unique(a)) == {0.0, 1.0}
    np.testing.assert_array_equal(a, preprocessing.transform(x, seed=1))
    assert abs(a.mean() - x.mean()) < 0.05


def test_dynamic_binarization_changes_every_epoch():
    x = _pixels(64)
    dataset = Preprocessing("binarize").training_dataset(x, batch_size=64, seed=3)
    first = next(iter(dataset)).numpy()
    second = next(iter(dataset)).numpy()
    assert set(np.unique(first)) == {0.0, 1.0}
    assert (first != second).mean() > 0.1
    again = next(
        iter(Preprocessing("binarize").training_dataset(x, batch_size=64, seed=3))
    )
    np.testing.assert_array_equal(again.numpy(), first)


def test_training_dataset_with_labels_keeps_pairs():
    x = _pixels(10)
    labels = np.arange(10)
    x[:, 0, 0, 0] = labels / 10
    batches = list(Preprocessing("scale").training_dataset(x, labels, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    for images, batch_labels in batches:
        np.testing.assert_allclose(
            images.numpy()[:, 0, 0, 0], batch_labels.numpy() / 10
        )


def test_rejects_unknown_mode_and_missing_statistics():
    with pytest.raises(ValueError, match="Unknown preprocessing 'whiten'"):
        Preprocessing("whiten")
    with pytest.raises(ValueError, match="positive std"):
        Preprocessing("standardize", mean=0.5, std=0.0)


def test_tensor_of_an_array_owns_its_copy():
    array = np.random.default_rng(0).normal(size=(5, 3, 2)).astype("float32")
    tensor = _tensor_of(array)
    expected = array.copy()
    array[...] = 0
    np.testing.assert_array_equal(tensor.numpy(), expected)
    assert tensor.shape == expected.shape and tensor.dtype == expected.dtype
