import keras
import numpy as np
import pytest

import keras_vae
from keras_vae.datasets import PackedImages, Preprocessing


def _images(n=40, size=(6, 5), seed=0):
    pixels = np.random.default_rng(seed).uniform(size=(n,) + size) < 0.3
    bits = np.packbits(pixels.reshape(n, -1), axis=1)
    return PackedImages(bits, size + (1,)), pixels[..., None].astype("float32")


def test_indexing_selects_and_unpacks():
    images, pixels = _images()
    assert images.shape == (40, 6, 5, 1) and len(images) == 40
    np.testing.assert_array_equal(images[7], pixels[7])
    chosen = images[10:30][[1, 5, 2]]
    assert isinstance(chosen, PackedImages) and chosen.shape == (3, 6, 5, 1)
    np.testing.assert_array_equal(np.asarray(chosen), pixels[[11, 15, 12]])
    np.testing.assert_array_equal(np.asarray(images), pixels)


def test_moments_count_pixels_not_padding():
    # 6 x 5 = 30 pixels: 2 padding bits per image, never counted.
    images, pixels = _images()
    mean, std = images.moments()
    assert mean == pytest.approx(pixels.mean(), abs=1e-12)
    assert std == pytest.approx(pixels.std(), abs=1e-6)
    preprocessing = Preprocessing.fit("standardize", images)
    assert preprocessing.mean == pytest.approx(pixels.mean(), abs=1e-12)


@pytest.mark.parametrize("mode", ["standardize", "scale", "binarize"])
def test_training_batches_are_the_preprocessed_images(mode):
    images, pixels = _images(50)
    preprocessing = Preprocessing.fit(mode, images)
    # The labels are the images' positions: each batch row can be checked.
    arguments = preprocessing.training_inputs(images, np.arange(50), batch_size=16)
    assert arguments["shuffle"] is False
    seen = []
    for x, y in arguments["x"].as_numpy_iterator():
        np.testing.assert_allclose(
            x, preprocessing.transform(pixels[y]), rtol=1e-6, atol=1e-6
        )
        seen.extend(y)
    assert sorted(seen) == list(range(50)) and seen != list(range(50))


def test_a_vae_fits_on_packed_images():
    images, pixels = _images(64, (8, 8))
    preprocessing = Preprocessing.fit("standardize", images)
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8, 1), latent_dim=2),
        preprocessing=preprocessing,
    )
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = vae.fit(
        **preprocessing.training_inputs(images, batch_size=16), epochs=2, verbose=0
    )
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "bits, image_shape, message",
    [
        (np.zeros((4, 8), "int32"), (8, 8, 1), "uint8"),
        (np.zeros((4, 8), "uint8"), (8, 8, 3), r"\(height, width, 1\)"),
        (np.zeros((4, 7), "uint8"), (8, 8, 1), "7 bytes per image cannot hold 8x8"),
    ],
)
def test_bad_arguments(bits, image_shape, message):
    with pytest.raises(ValueError, match=message):
        PackedImages(bits, image_shape)
