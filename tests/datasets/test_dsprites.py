import math

import numpy as np

import keras_vae
from keras_vae.datasets import dsprites


def test_the_factor_grid_is_dsprites():
    factors = dsprites.all_factors()
    assert factors.shape == (737280, 5)
    assert len(np.unique(factors, axis=0)) == 737280
    # dSprites' order: the last factor (y) varies fastest.
    np.testing.assert_array_equal(factors[:2], [[0, 0, 0, 0, 0], [0, 0, 0, 0, 1]])
    shape, scale, angle, x, y = dsprites.factor_values(factors[[0, -1]])
    np.testing.assert_allclose(scale, [0.5, 1.0])
    np.testing.assert_allclose(angle, [0.0, 2 * math.pi])
    np.testing.assert_allclose([x, y], [[0, 1], [0, 1]])


def test_shapes_scales_orientations_and_positions():
    def image(*factor):
        return dsprites.render(np.array([factor]))[0]

    square, ellipse, heart = (image(k, 5, 0, 10, 10) for k in range(3))
    assert square.sum() == 400  # a 20 px side at scale 1
    assert abs(ellipse.sum() - math.pi * 10 * 5) < 10  # semi-axes 10 and 5 px
    assert 350 < heart.sum() < 500
    assert image(0, 0, 0, 10, 10).sum() == 100  # 10 px at scale 0.5
    sizes = [image(1, scale, 0, 10, 10).sum() for scale in range(6)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    # A position step moves the sprite one pixel.
    np.testing.assert_array_equal(
        image(2, 3, 7, 11, 10), np.roll(image(2, 3, 7, 10, 10), 1, 1)
    )
    np.testing.assert_array_equal(
        image(2, 3, 7, 10, 11), np.roll(image(2, 3, 7, 10, 10), 1, 0)
    )
    # A quarter turn of the ellipse swaps its axes: its pixels change.
    assert (image(1, 5, 0, 10, 10) != image(1, 5, 10, 10, 10)).sum() > 50
    # The extreme positions keep the largest sprites inside the image.
    for corner in (0, 31):
        assert image(0, 5, 5, corner, corner).sum() == image(0, 5, 5, 15, 15).sum()


def test_the_cached_bits_are_the_drawn_images(tmp_path, monkeypatch):
    lines = []
    bits, factors = dsprites.cached(tmp_path, say=lines.append)
    assert bits.shape == (737280, 512) and bits.dtype == np.uint8
    assert "Drawing the 737,280 dSprites images" in lines[0]
    rows = np.random.default_rng(0).integers(0, len(bits), 300)
    drawn = dsprites.render(factors[rows]).reshape(300, -1)
    np.testing.assert_array_equal(np.unpackbits(bits[rows], axis=1), drawn)

    def refuse():
        raise AssertionError("drawn again although cached")

    monkeypatch.setattr(dsprites, "generate", refuse)
    again, again_factors = dsprites.cached(tmp_path, say=lines.append)
    np.testing.assert_array_equal(again, bits)
    np.testing.assert_array_equal(again_factors, factors)
    assert len(lines) == 1


def _small_generate():
    # The cache's logic on a few images: drawing all of them is tested above.
    factors = dsprites.all_factors()[:10]
    bits = np.packbits(dsprites.render(factors).reshape(10, -1), axis=1)
    return bits, factors


def test_a_damaged_cache_file_is_drawn_again(tmp_path, monkeypatch):
    monkeypatch.setattr(dsprites, "generate", _small_generate)
    path = tmp_path / f"dsprites-v{dsprites.VERSION}.npz"
    path.write_bytes(b"PK\x03\x04 cut short")
    lines = []
    bits, _ = dsprites.cached(tmp_path, say=lines.append)
    assert len(bits) == 10 and len(lines) == 1
    with np.load(path) as arrays:
        np.testing.assert_array_equal(arrays["bits"], bits)


def test_an_unwritable_cache_still_gives_the_images(tmp_path, monkeypatch):
    monkeypatch.setattr(dsprites, "generate", _small_generate)
    (tmp_path / "file").write_text("")
    lines = []
    bits, _ = dsprites.cached(tmp_path / "file" / "dsprites", say=lines.append)
    assert len(bits) == 10
    assert lines[1].startswith("The dSprites images are not kept for next time: ")
    assert "a part of the path is a file" in lines[1]


def test_load_gives_packed_training_images_and_every_factor():
    data = keras_vae.datasets.load("dsprites")
    assert isinstance(data.x_train, keras_vae.datasets.PackedImages)
    assert data.x_train.shape == (727280, 64, 64, 1)
    assert data.x_test.shape == (10000, 64, 64, 1) and data.x_test.dtype == np.float32
    assert data.factors_train.shape == (727280, 5)
    assert data.factors_test.shape == (10000, 5)
    assert data.factor_names == ("shape", "scale", "orientation", "x", "y")
    assert data.class_names == ["square", "ellipse", "heart"]
    np.testing.assert_array_equal(data.y_train, data.factors_train[:, 0])
    both = np.concatenate([data.factors_train, data.factors_test])
    assert len(np.unique(both, axis=0)) == 737280
    np.testing.assert_array_equal(
        data.x_test[:20, ..., 0], dsprites.render(data.factors_test[:20])
    )
    np.testing.assert_array_equal(
        data.x_train[123456][..., 0], dsprites.render(data.factors_train[[123456]])[0]
    )

    assert "dsprites" in keras_vae.datasets.DATASETS
