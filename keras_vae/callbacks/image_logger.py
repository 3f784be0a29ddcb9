import os

import keras
import numpy as np

from keras_vae import plots


class ImageLogger(keras.callbacks.Callback):
    """Logs reconstructions and prior samples every few epochs, as PNG files
    and to TensorBoard.

    The original study stopped training "by visual inspection"; this callback
    makes that inspection reproducible. Samples use a fixed seed, so the same
    latent codes are decoded at every logged epoch and the images show how the
    decoder changes. For a `ConditionalVAE` the samples form the conditioned
    grid: one row per class.

    Args:
        images: Array of model inputs whose reconstructions are shown (about
            10 is plenty).
        labels: Array of their labels, for a `ConditionalVAE`; else `None`.
        directory: String or `None`, folder for `epoch_NNN_reconstructions.png`
            and `epoch_NNN_samples.png`. Created if missing.
        log_dir: String or `None`, TensorBoard log folder; images go to its
            `images` subfolder.
        every: Integer, log every `every` epochs (and after the last one).
            Defaults to `1`.
        num_samples: Integer, prior samples for a `VAE`, or samples per class
            for a `ConditionalVAE`. Defaults to `32` and `8`.
        to_pixels: Callable mapping model outputs to pixels in [0, 1], e.g.
            `Preprocessing.to_pixels`. Defaults to clipping to [0, 1].
        seed: Integer, seed of the prior samples. Defaults to `0`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8, 1), latent_dim=2), likelihood="bernoulli"
    )
    vae.compile(optimizer="adam")
    logger = keras_vae.callbacks.ImageLogger(x[:8], directory="images", every=2)
    vae.fit(x, epochs=4, verbose=0, callbacks=[logger])
    print(sorted(logger.written)[:2])
    ```
    """

    def __init__(
        self,
        images,
        labels=None,
        directory=None,
        log_dir=None,
        every=1,
        num_samples=None,
        to_pixels=None,
        seed=0,
    ):
        super().__init__()
        if directory is None and log_dir is None:
            raise ValueError(
                "ImageLogger needs somewhere to write: pass `directory` (PNG files), "
                "`log_dir` (TensorBoard) or both."
            )
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(
                f"Expected a positive integer `every`. Received: {every!r}"
            )
        self.images = np.asarray(images, "float32")
        self.labels = None if labels is None else np.asarray(labels, "int32")
        self.directory = directory
        self.log_dir = log_dir
        self.every = every
        self.num_samples = num_samples
        self.to_pixels = to_pixels or (lambda x: np.clip(x, 0.0, 1.0))
        self.seed = seed
        self.written = []
        self._writer = None

    def on_epoch_end(self, epoch, logs=None):
        last = self.params.get("epochs") == epoch + 1
        if (epoch + 1) % self.every == 0 or last:
            self.log(epoch + 1)

    def log(self, step):
        """Renders and writes the images for `step` (the epoch number)."""
        # Model inputs in, model outputs out: `to_pixels` maps them.
        reconstructions = self.model.reconstruct(
            self.images, labels=self.labels, raw=True
        )
        if self.labels is not None:
            columns = self.num_samples or 8
            classes = np.repeat(np.arange(self.model.num_classes), columns)
            samples = self.model.sample(labels=classes, seed=self.seed, raw=True)
        else:
            count, columns = self.num_samples or 32, 8
            samples = self.model.sample(count, seed=self.seed, raw=True)
        grids = {
            "reconstructions": plots.tile(
                np.concatenate(
                    [self.to_pixels(self.images), self.to_pixels(reconstructions)]
                ),
                len(self.images),
            ),
            "samples": plots.tile(self.to_pixels(samples), columns),
        }
        if self.directory is not None:
            os.makedirs(self.directory, exist_ok=True)
            for name, grid in grids.items():
                title = f"epoch {step}: {name}" + (
                    " (one row per class)"
                    if self.labels is not None and name == "samples"
                    else ""
                )
                figure = plots.images_figure_from_grid(grid, title)
                path = os.path.join(self.directory, f"epoch_{step:03d}_{name}.png")
                plots.save(figure, path)
                self.written.append(path)
        if self.log_dir is not None:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(
                    os.path.join(self.log_dir, "images")
                )
            with self._writer.as_default():
                for name, grid in grids.items():
                    image = grid[None, ..., None] if grid.ndim == 2 else grid[None]
                    tf.summary.image(name, image, step=step)
            self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
