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


def _title_inside(figure):
    figure.canvas.draw()
    box = figure.bbox
    for axis in figure.axes:
        extent = axis.title.get_window_extent()
        if axis.title.get_text():
            assert box.x0 <= extent.x0 and extent.x1 <= box.x1, axis.title.get_text()


def test_long_titles_stay_inside_the_figure():
    long = (
        "t-SNE of encoder means, 2000 training images (latent_dim=20, test ELBO "
        "556.3 nats) and then some more words that no figure is wide enough for"
    )
    rng = np.random.default_rng(0)
    figures = [
        plots.latent_figure(rng.normal(size=(20, 2)), np.arange(20) % 3, "t-SNE", long),
        plots.images_figure(rng.uniform(size=(3, 28, 28)), 3, long),
        plots.rate_distortion_figure([0, 1], [1, 2], [3, 4], long),
    ]
    for figure in figures:
        _title_inside(figure)
        plots.pyplot().close(figure)


def test_a_collapsed_code_is_drawn_without_t_sne():
    # scikit-learn's t-SNE crashes the process on identical points.
    means = np.full((200, 20), 0.3, "float32")
    points, method = plots.embed_latents(means)
    assert method == "latent" and points.shape == (200, 2)
    np.testing.assert_array_equal(points, np.float32(0.3))
