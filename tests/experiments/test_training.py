import keras
import numpy as np
import pytest

from keras_vae import settings
from keras_vae.experiments import divergence, training


def _config(**overrides):
    return settings.resolve(dataset="digits", **overrides)


def _passes(dataset, count=2):
    """Every batch of `count` passes over `dataset`, as NumPy arrays."""
    return [
        [keras.tree.map_structure(lambda t: t.numpy(), batch) for batch in dataset]
        for _ in range(count)
    ]


@pytest.mark.parametrize("model", ["vae", "cvae"])
def test_training_data_on_tensorflow_are_every_image_once_in_a_new_order_each_epoch(
    model,
):
    import tensorflow as tf

    # The suite runs on TensorFlow, where Keras' shuffling of arrays repeats
    # one order in every epoch once a global seed is set.
    keras.utils.set_random_seed(0)
    prepared = training.prepare_data(_config(model=model))
    arguments = prepared.training
    assert arguments["shuffle"] is False
    dataset = arguments["x"]
    assert isinstance(dataset, tf.data.Dataset)
    assert len(dataset) == -(-prepared.num_training // 64)  # the progress bar's
    expected = prepared.preprocessing.transform(
        prepared.data.x_train[prepared.train_index]
    )
    labels = prepared.data.y_train[prepared.train_index]
    orders = []
    for batches in _passes(dataset):
        assert [len(keras.tree.flatten(b)[0]) for b in batches[:-1]] == [64] * (
            len(batches) - 1
        )
        if model == "cvae":
            images = np.concatenate([b[0] for b in batches])
            seen = np.concatenate([b[1] for b in batches])
        else:
            images = np.concatenate(batches)
        # Each training image once: find each one's row by its pixels.
        rows = {image.tobytes(): row for row, image in enumerate(expected)}
        order = np.array([rows[image.tobytes()] for image in images])
        assert sorted(order) == list(range(len(expected)))
        if model == "cvae":
            np.testing.assert_array_equal(seen, labels[order])
        orders.append(order)
    assert (orders[0] != orders[1]).mean() > 0.9
    # The same orders in another process, whatever TensorFlow's global seed.
    keras.utils.set_random_seed(7)
    again = training.prepare_data(_config(model=model)).training["x"]
    first = keras.tree.flatten(next(iter(again)))[0].numpy()
    np.testing.assert_array_equal(first, expected[orders[0][:64]])


def test_skip_epochs_starts_a_pipeline_where_the_uninterrupted_run_was():
    from keras_vae import datasets

    config = _config(likelihood="bernoulli", preprocessing="binarize")
    uninterrupted = _passes(training.prepare_data(config).training["x"], 3)
    resumed = training.prepare_data(config).training
    datasets.skip_epochs(resumed, 2)
    np.testing.assert_array_equal(
        np.concatenate(_passes(resumed["x"], 1)[0]), np.concatenate(uninterrupted[2])
    )


def test_max_examples_draws_training_images_at_random_by_the_seed():
    full = training.prepare_data(_config())
    prepared = training.prepare_data(_config(max_examples=100))
    assert prepared.num_training == 100
    index = prepared.train_index
    assert set(index) <= set(full.train_index) and len(set(index)) == 100
    # Spread over the whole set, not its first images (a set stored in
    # order, as dSprites is, would give one kind of image).
    assert index.max() > np.sort(full.train_index)[len(full.train_index) // 2]
    again = training.prepare_data(_config(max_examples=100))
    np.testing.assert_array_equal(again.train_index, index)
    other = training.prepare_data(_config(max_examples=100, seed=1))
    assert set(other.train_index) != set(index)
    # The validation split and the test set stay whole.
    assert len(training._first(prepared.validation)) == len(
        training._first(full.validation)
    )
    with pytest.raises(ValueError, match="max_examples"):
        _config(max_examples=0)


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


def test_divergence_stops_fit_and_restores_the_last_finite_epoch():
    import keras

    import keras_vae

    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8), latent_dim=2, hidden_units=(8,))
    )
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(64, 8, 8)).astype("float32")
    kept = {}

    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                kept["weights"] = self.model.get_weights()
                self.model.set_weights(
                    [np.full_like(w, np.nan) for w in self.model.get_weights()]
                )

    guard = divergence.StopOnDivergence()
    history = vae.fit(
        x, epochs=5, batch_size=32, verbose=0, callbacks=[Poison(), guard]
    )
    assert guard.diverged_epoch == 2 and guard.good_epochs == 2
    assert len(history.history["loss"]) == 3  # stopped after the NaN epoch
    for restored, expected in zip(vae.get_weights(), kept["weights"], strict=True):
        np.testing.assert_array_equal(restored, expected)


def test_a_diverging_run_is_one_line_naming_the_epoch(tmp_path, capsys):
    from keras_vae import cli

    out = tmp_path / "run"
    arguments = ["train", "--dataset", "digits", "--epochs", "2", "--out", str(out)]
    assert cli.main(arguments + ["--learning-rate", "1e30"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "Training diverged: the loss became NaN or infinite in epoch 1 of 2" in error
    assert "no epoch ended with a finite loss, so no model is saved" in error
    assert not (out / "model.keras").exists()
    assert not (out / divergence.LAST_GOOD_FILE).exists()


def test_cvaes_default_latent_mixture_shrinks_to_the_smallest_class():
    config = _config(model="cvae", max_examples=100)
    prepared = training.prepare_data(config)
    data, index = prepared.data, prepared.train_index
    smallest = np.bincount(data.y_train[index], minlength=10).min()
    assert 0 < smallest < config["latent_mixture"] == 30
    # The model's default: fewer components, said; asked for: an error.
    training._check_mixture_size(config, data, index, {})
    said = []
    assert training._mixture_components(config, data, index, said.append) == smallest
    assert f"{smallest} components per class, not 30" in said[0]
    with pytest.raises(ValueError, match=f"the smallest count is {smallest}"):
        training._check_mixture_size(config, data, index, {"latent_mixture": 30})
    full = training.prepare_data(_config(model="cvae"))
    said = []
    assert (
        training._mixture_components(config, full.data, full.train_index, said.append)
        == 30
    )
    assert not said
