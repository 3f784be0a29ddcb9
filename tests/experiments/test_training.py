import numpy as np
import pytest

from keras_vae import settings
from keras_vae.experiments import training


def _config(**overrides):
    return settings.resolve(dataset="digits", **overrides)


@pytest.mark.parametrize("model", ["vae", "cvae"])
def test_training_data_are_arrays_that_fit_shuffles(model):
    prepared = training.prepare_data(_config(model=model))
    arguments = prepared.training
    assert arguments["shuffle"] is True
    assert arguments["batch_size"] == 64
    x = arguments["x"]
    assert isinstance(x, np.ndarray) and len(x) == prepared.num_training
    expected = prepared.preprocessing.transform(
        prepared.data.x_train[prepared.train_index]
    )
    np.testing.assert_array_equal(x, expected)
    if model == "cvae":
        np.testing.assert_array_equal(
            arguments["y"], prepared.data.y_train[prepared.train_index]
        )
    else:
        assert arguments["y"] is None


def test_dynamic_binarization_keeps_the_tf_data_pipeline():
    import tensorflow as tf

    prepared = training.prepare_data(
        _config(likelihood="bernoulli", preprocessing="binarize")
    )
    assert prepared.training["shuffle"] is False
    dataset = prepared.training["x"]
    assert isinstance(dataset, tf.data.Dataset)
    first, second = (next(iter(dataset)).numpy() for _ in range(2))
    assert set(np.unique(first)) == {0.0, 1.0}
    assert (first != second).mean() > 0.05
