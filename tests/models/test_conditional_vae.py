import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_vae.architectures import conv_conditional
from keras_vae.models import ConditionalVAE

METRICS = {"loss", "reconstruction_loss", "kl_loss", "elbo"}


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 8, 8, 1)).astype("float32"), rng.integers(0, 10, n)


def _cvae(latent_dim=2, **kwargs):
    encoder, decoder = conv_conditional((8, 8, 1), latent_dim, 10, filters=(4, 8))
    model = ConditionalVAE(encoder, decoder, num_classes=10, seed=0, **kwargs)
    model.compile(optimizer="adam")
    return model


def test_fit_with_labels_and_validation():
    model = _cvae(likelihood="bernoulli")
    x, labels = _data()
    history = model.fit(
        x,
        labels,
        validation_data=(x[:16], labels[:16]),
        epochs=2,
        batch_size=16,
        verbose=0,
    )
    # beta is logged for training only: evaluation has no beta of its own.
    assert set(history.history) == METRICS | {f"val_{m}" for m in METRICS} | {"beta"}


def test_fit_on_input_pairs_and_datasets():
    model = _cvae()
    x, labels = _data()
    model.fit((x, labels), epochs=1, batch_size=16, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices((x, labels)).batch(16)
    history = model.fit(
        dataset, validation_data=dataset, epochs=1, verbose=0, shuffle=False
    )
    assert np.isfinite(history.history["val_elbo"][0])


def test_builds_before_fit_from_a_dataset(tmp_path):
    model = _cvae()
    x, labels = _data()
    dataset = tf.data.Dataset.from_tensor_slices((x, labels)).batch(16)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    model.fit(dataset, epochs=1, verbose=0, shuffle=False, callbacks=[backup])
    assert model.built


def test_labels_change_the_samples():
    model = _cvae()
    x, labels = _data()
    model.fit(x, labels, epochs=1, verbose=0)
    threes = model.sample(4, labels=3, seed=0)
    sevens = model.sample(4, labels=7, seed=0)
    assert threes.shape == (4, 8, 8, 1)
    assert not np.allclose(threes, sevens)
    np.testing.assert_array_equal(threes, model.sample(4, labels=3, seed=0))


def test_inference_helpers():
    model = _cvae(latent_dim=3)
    x, labels = _data()
    model.fit(x, labels, epochs=1, verbose=0)
    mean, sigma = model.encode(x, labels)
    assert mean.shape == (64, 3) and np.all(sigma > 0)
    assert model.reconstruct(x, labels).shape == x.shape
    assert model.decode(mean, labels).shape == x.shape
    with pytest.raises(ValueError, match="one label per example.*3 labels for 64"):
        model.encode(x, labels[:3])


def test_keras_file_round_trip(tmp_path):
    model = _cvae(beta=4.0)
    x, labels = _data()
    model.fit(x, labels, epochs=1, verbose=0)
    model.save(tmp_path / "cvae.keras")
    restored = keras.models.load_model(tmp_path / "cvae.keras")
    assert isinstance(restored, ConditionalVAE)
    assert restored.num_classes == 10 and float(restored.beta) == 4.0
    z = np.zeros((3, 2), "float32")
    np.testing.assert_allclose(
        restored.decode(z, [0, 5, 9]), model.decode(z, [0, 5, 9]), rtol=1e-6
    )
    restored.fit(x, labels, epochs=1, verbose=0)
    assert int(restored.optimizer.iterations) == 4


@pytest.mark.parametrize(
    "labels, match",
    [
        (np.full(64, 10), r"\[0, 10\).*\[10"),
        (np.full(64, -1), r"\[0, 10\).*\[-1"),
        (np.full(64, 1.5), "integers"),
        (np.zeros((64, 10)), "shape.*argmax"),
    ],
)
def test_rejects_bad_labels_before_training(labels, match):
    model = _cvae()
    x, _ = _data()
    with pytest.raises(ValueError, match=match):
        model.fit(x, labels, epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 0


def test_rejects_bad_validation_labels():
    model = _cvae()
    x, labels = _data()
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        model.fit(x, labels, validation_data=(x, labels + 10), epochs=1, verbose=0)


@pytest.mark.parametrize("bad", [10, -1, 2.5])
def test_labels_out_of_range_in_a_pipeline_stop_fit_and_evaluate(bad):
    model = _cvae()
    x, labels = _data()
    wrong = labels.astype("float32")
    wrong[[5, 40]] = bad
    good = tf.data.Dataset.from_tensor_slices((x, labels)).batch(16)
    bad_batches = tf.data.Dataset.from_tensor_slices((x, wrong)).batch(16)
    # Two bad labels in two batches: the check stops at the first call that
    # saw one (one batch per call on PyTorch, up to 32 on TensorFlow and JAX).
    expected = r"Labels must be integers in \[0, 10\).*Received [12] other values? in"
    with pytest.raises(ValueError, match=expected + " the training data"):
        model.fit(bad_batches, epochs=2, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match=expected + " the evaluation data"):
        model.fit(good, validation_data=bad_batches, epochs=1, verbose=0, shuffle=False)
    with pytest.raises(ValueError, match=expected + " the evaluation data"):
        model.evaluate(bad_batches, verbose=0)
    # The model is whole afterwards, on every backend, and the check passes
    # good labels.
    history = model.fit(good, validation_data=good, epochs=1, verbose=0, shuffle=False)
    assert "invalid_labels" not in history.history
    assert set(model.evaluate(good, verbose=0, return_dict=True)) == METRICS


def test_rejects_bad_labels_in_helpers():
    model = _cvae()
    x, labels = _data()
    model.fit(x, labels, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        model.sample(labels=[3, 12])
    with pytest.raises(ValueError, match=r"\[0, 10\)"):
        model.sample(4, labels=10)
    with pytest.raises(ValueError, match="one sample per label"):
        model.sample(3, labels=[1, 2])


@pytest.mark.parametrize("num_classes", [0, -1, 2.5, None, True])
def test_rejects_bad_num_classes(num_classes):
    encoder, decoder = conv_conditional((8, 8, 1), 2, 10)
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalVAE(encoder, decoder, num_classes=num_classes)


def test_rejects_inputs_without_labels():
    model = _cvae()
    x, _ = _data()
    with pytest.raises(ValueError, match=r"inputs \[x, labels\]"):
        model.fit(x, epochs=1, verbose=0)


def test_the_helpers_need_labels_and_say_so():
    model = _cvae()
    x, labels = _data()
    model.fit(x, labels, epochs=1, verbose=0)
    for call in (
        lambda: model.encode(x),
        lambda: model.decode(np.zeros((2, 2), "float32")),
        lambda: model.reconstruct(x),
        lambda: model.sample(5),
    ):
        with pytest.raises(ValueError, match="needs `labels`, one class per example"):
            call()
    with pytest.raises(ValueError, match="with one label needs `n`"):
        model.sample(labels=3)
    with pytest.raises(ValueError, match="Received: n=3 and 2 labels"):
        model.sample(3, labels=[1, 2])
    assert model.sample(labels=[1, 2]).shape == (2, 8, 8, 1)
