import os

import keras
import numpy as np

from keras_vae import files

# TensorBoard's projector reads sprites up to 8192 x 8192 pixels.
SPRITE_LIMIT = 8192
FOLDER = "projector"


class LatentProjector(keras.callbacks.Callback):
    """Writes the posterior means of `images` for TensorBoard's embedding
    projector, with their labels and a sprite of the images.

    At the end of training (and every `every` epochs if given) it writes, in
    `log_dir`: `projector/codes.tsv` (one row of means per image),
    `projector/metadata.tsv` (label and class name), `projector/sprite.png`
    and `projector_config.pbtxt`, which `tensorboard --logdir log_dir` reads:
    the Projector tab then shows the codes in PCA, t-SNE or UMAP, coloured by
    class, each point drawn as its image.

    Args:
        images: Array of model inputs (as `fit` takes them) to encode.
        labels: Array of their labels: a `ConditionalVAE` encodes with them;
            for a `VAE` they colour the points. `None` for neither.
        log_dir: String, TensorBoard's log folder.
        class_names: List of strings, one per class, for the metadata.
        to_pixels: Callable mapping model inputs to pixels in [0, 1], for the
            sprite (e.g. `Preprocessing.to_pixels`). Defaults to clipping.
        every: Integer or `None`: also write every `every` epochs (the files
            are replaced). Defaults to `None`, the end of training only.

    Example:

    ```python
    import numpy as np
    import keras_vae

    x = np.random.default_rng(0).uniform(size=(64, 8, 8, 1)).astype("float32")
    vae = keras_vae.models.VAE(
        *keras_vae.architectures.mlp((8, 8, 1), latent_dim=2), likelihood="bernoulli"
    )
    vae.compile(optimizer="adam")
    projector = keras_vae.callbacks.LatentProjector(
        x, np.arange(64) % 4, log_dir="logs"
    )
    vae.fit(x, epochs=1, verbose=0, callbacks=[projector])
    print(sorted(projector.written))
    ```
    """

    def __init__(
        self,
        images,
        labels=None,
        log_dir="logs",
        class_names=None,
        to_pixels=None,
        every=None,
    ):
        super().__init__()
        self.images = np.asarray(images, "float32")
        if self.images.ndim not in (3, 4):
            raise ValueError(
                "Expected `images` of shape (n, height, width) or (n, height, width, "
                f"channels). Received: shape={self.images.shape}"
            )
        side = int(np.ceil(np.sqrt(len(self.images))))
        if side * max(self.images.shape[1:3]) > SPRITE_LIMIT:
            raise ValueError(
                f"{len(self.images)} images of {self.images.shape[1]}x"
                f"{self.images.shape[2]} make a sprite wider than TensorBoard's "
                f"{SPRITE_LIMIT} pixels; pass fewer `images`."
            )
        self.labels = None if labels is None else np.asarray(labels, "int32")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise ValueError(
                f"Expected one label per image: {len(self.images)} images, "
                f"{len(self.labels)} labels."
            )
        if every is not None and (
            isinstance(every, bool) or not isinstance(every, int) or every < 1
        ):
            raise ValueError(
                f"Expected a positive integer `every` or None. Received: {every!r}"
            )
        self.log_dir = os.fspath(log_dir)
        self.class_names = None if class_names is None else list(class_names)
        self.to_pixels = to_pixels or (lambda x: np.clip(x, 0.0, 1.0))
        self.every = every
        self.written = []

    def on_epoch_end(self, epoch, logs=None):
        if self.every is not None and (epoch + 1) % self.every == 0:
            self.write()

    def on_train_end(self, logs=None):
        self.write()

    def write(self):
        """Encodes the images and writes the projector's files."""
        from tensorboard.plugins import projector

        conditional = self.model.conditional
        means = self.model.encode(
            self.images, labels=self.labels if conditional else None, raw=True
        )[0]
        means = means.reshape(len(means), -1)
        folder = os.path.join(self.log_dir, FOLDER)
        os.makedirs(folder, exist_ok=True)
        paths = {
            name: os.path.join(folder, name)
            for name in ("codes.tsv", "metadata.tsv", "sprite.png")
        }
        with files.atomic_path(paths["codes.tsv"]) as temporary:
            np.savetxt(temporary, means, fmt="%.6g", delimiter="\t")
        config = projector.ProjectorConfig()
        embedding = config.embeddings.add()
        embedding.tensor_name = "posterior means"
        embedding.tensor_path = os.path.join(FOLDER, "codes.tsv")
        if self.labels is not None:
            with files.atomic_path(paths["metadata.tsv"]) as temporary:
                with open(temporary, "w", encoding="utf-8") as file:
                    file.write("label\tclass\n")
                    for label in self.labels:
                        name = (
                            self.class_names[label]
                            if self.class_names and 0 <= label < len(self.class_names)
                            else str(label)
                        )
                        file.write(f"{label}\t{_cell(name)}\n")
            embedding.metadata_path = os.path.join(FOLDER, "metadata.tsv")
        pixels = self.to_pixels(self.images)
        with files.atomic_path(paths["sprite.png"]) as temporary:
            _save_png(sprite(pixels), temporary)
        embedding.sprite.image_path = os.path.join(FOLDER, "sprite.png")
        embedding.sprite.single_image_dim.extend(pixels.shape[2:0:-1])
        projector.visualize_embeddings(self.log_dir, config)
        self.written = [
            *(path for path in paths.values() if os.path.exists(path)),
            os.path.join(self.log_dir, "projector_config.pbtxt"),
        ]


def sprite(pixels):
    """The images side by side in a square, row by row, without borders, as
    TensorBoard's projector cuts them: `(side * h, side * w[, c])`."""
    pixels = np.asarray(pixels, "float32")
    if pixels.ndim == 4 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    n, height, width = pixels.shape[:3]
    side = int(np.ceil(np.sqrt(n)))
    canvas = np.zeros((side * height, side * width) + pixels.shape[3:], "float32")
    for index, image in enumerate(pixels):
        row, column = divmod(index, side)
        canvas[
            row * height : (row + 1) * height, column * width : (column + 1) * width
        ] = image
    return canvas


def _cell(text):
    return " ".join(str(text).replace("\t", " ").split())


def _save_png(grid, path):
    from PIL import Image

    image = np.round(np.clip(grid, 0.0, 1.0) * 255).astype("uint8")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    Image.fromarray(image).save(path, format="PNG")
