import numpy as np

from keras_vae import plots


def test_latent_maps_of_every_code_size():
    rng = np.random.default_rng(0)
    means = rng.normal(size=(60, 2)).astype("float32")
    points, method = plots.embed_latents(means)
    assert method == "latent" and points is means
    points, method = plots.embed_latents(means[:, :1])
    assert method == "latent" and points.shape == (60, 2) and not points[:, 1].any()
    points, method = plots.embed_latents(rng.normal(size=(60, 5)))
    assert method == "t-SNE" and points.shape == (60, 2)


def test_a_collapsed_code_is_drawn_without_t_sne():
    # scikit-learn's t-SNE crashes the process on identical points.
    means = np.full((200, 20), 0.3, "float32")
    points, method = plots.embed_latents(means)
    assert method == "latent" and points.shape == (200, 2)
    np.testing.assert_array_equal(points, np.float32(0.3))
