import os

import numpy as np
import pytest
import tensorflow as tf

import keras_vae
from keras_vae.callbacks import ImageLogger


def _data(n=32, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(size=(n, 8, 8, 1)).astype("float32"), rng.integers(0, 10, n)


def _vae():
    model = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8, 1), 2, (16,)),
        likelihood="bernoulli",
        seed=0,
    )
    model.compile()
    return model


def test_writes_png_every_n_epochs_and_after_the_last(tmp_path):
    x, _ = _data()
    logger = ImageLogger(x[:6], directory=str(tmp_path), every=2)
    _vae().fit(x, epochs=5, verbose=0, callbacks=[logger])
    names = sorted(os.listdir(tmp_path))
    assert names == [
        f"epoch_{e:03d}_{kind}.png"
        for e in (2, 4, 5)
        for kind in ("reconstructions", "samples")
    ]


def test_samples_use_a_fixed_seed_so_epochs_are_comparable(tmp_path):
    x, _ = _data()
    model = _vae()
    model.fit(x, epochs=1, verbose=0)
    logger = ImageLogger(x[:4], log_dir=str(tmp_path), seed=5)
    logger.set_model(model)
    logger.log(1)
    logger.log(2)
    logger.on_train_end()
    (events,) = (tmp_path / "images").glob("events.out.tfevents.*")
    samples = []
    for record in tf.data.TFRecordDataset(str(events)):
        for value in tf.compat.v1.Event.FromString(record.numpy()).summary.value:
            if value.tag == "samples":
                samples.append(value.tensor.string_val[-1])
    assert len(samples) == 2 and samples[0] == samples[1]


def test_conditional_grid_and_tensorboard(tmp_path):
    x, labels = _data()
    encoder, decoder = keras_vae.architectures.conv_conditional(
        (8, 8, 1), 2, 10, (4, 8)
    )
    model = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=10, seed=0)
    model.compile()
    logger = ImageLogger(x[:5], labels[:5], log_dir=str(tmp_path / "tb"), num_samples=3)
    model.fit(x, labels, epochs=2, verbose=0, callbacks=[logger])
    (events,) = (tmp_path / "tb" / "images").glob("events.out.tfevents.*")
    images = {}
    for record in tf.data.TFRecordDataset(str(events)):
        event = tf.compat.v1.Event.FromString(record.numpy())
        for value in event.summary.value:
            images.setdefault(value.tag, []).append(event.step)
    assert images == {"reconstructions": [1, 2], "samples": [1, 2]}


def test_needs_a_destination_and_a_positive_interval():
    x, _ = _data()
    with pytest.raises(ValueError, match="somewhere to write"):
        ImageLogger(x)
    with pytest.raises(ValueError, match="every"):
        ImageLogger(x, directory="images", every=0)
