import numpy as np
import pytest
from PIL import Image

import keras_vae
from keras_vae.experiments import traversal


def _vae(latent_dim=3):
    vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), latent_dim))
    vae.build((None, 8, 8, 1))
    return vae


def _pixels(n, seed=0):
    return np.random.default_rng(seed).uniform(size=(n, 8, 8, 1)).astype("float32")


def test_each_row_sweeps_one_dimension_from_the_image_code():
    vae, images = _vae(), _pixels(2)
    sweeps = traversal.traverse(vae, images, steps=5, limit=2.0, reference=_pixels(50))
    assert sweeps.pixels.shape == (2, 3, 5, 8, 8, 1)
    np.testing.assert_allclose(sweeps.values, [-2, -1, 0, 1, 2])
    # Dimensions by decreasing KL on the reference images.
    assert list(np.argsort(-sweeps.kl, kind="stable")) == list(sweeps.order)
    codes = vae.encode(images)[0]
    for example in range(2):
        for row, dimension in enumerate(sweeps.order):
            expected = np.repeat(codes[example][None], 5, axis=0)
            expected[:, dimension] = sweeps.values
            np.testing.assert_allclose(
                sweeps.pixels[example, row], vae.decode(expected), atol=1e-5
            )


def test_dimensions_whose_mean_never_moves_are_inactive():
    vae = _vae()
    # Every reference image the same: no posterior mean varies.
    sweeps = traversal.traverse(vae, _pixels(1), reference=np.repeat(_pixels(1), 20, 0))
    assert not sweeps.active.any()


def test_a_png_grid_and_a_gif_animation(tmp_path):
    sweeps = traversal.traverse(_vae(), _pixels(2), steps=4)
    traversal.write_traversal(tmp_path / "t.png", sweeps, ["a", "b"], "title")
    with Image.open(tmp_path / "t.png") as image:
        assert image.size[1] > 200
    traversal.write_traversal(str(tmp_path / "t.gif"), sweeps, ["a", "b"], "title")
    with Image.open(tmp_path / "t.gif") as animation:
        # There and back again: 4 steps out, 2 back.
        assert animation.n_frames == 6
        # A row per image, a column per dimension, one-pixel borders.
        assert animation.size == (3 * 9 - 1, 2 * 9 - 1)


def test_a_conditional_model_needs_a_label():
    encoder, decoder = keras_vae.architectures.conv_conditional((8, 8, 1), 2, 3)
    cvae = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=3)
    cvae.build([(None, 8, 8, 1), (None,)])
    with pytest.raises(ValueError, match="within one class: pass `label`"):
        traversal.traverse(cvae, _pixels(1))
    sweeps = traversal.traverse(cvae, _pixels(1), steps=3, label=2)
    assert sweeps.pixels.shape == (1, 2, 3, 8, 8, 1)


@pytest.mark.parametrize(
    "latent_dim, arguments, message",
    [
        (1, {}, "this run has 1 latent dimension"),
        (3, {"steps": 1}, "steps"),
        (3, {"limit": 0}, "limit"),
    ],
)
def test_bad_arguments(latent_dim, arguments, message):
    with pytest.raises(ValueError, match=message):
        traversal.traverse(_vae(latent_dim), _pixels(1), **arguments)
