"""Training speed of keras_vae's VAE against the same model written by hand in Keras.

Both train the original study's MLP VAE (784-500-120-z, softplus scale, squared
error on standardized pixels) with Adam on the same data and batch size, one
epoch each, alternating in one process so that machine noise hits both alike.

    python benchmarks/train_speed.py [--repeats 3] [--batch-size 64] [--latent-dim 20]

Uses Fashion-MNIST (Debian's dataset-fashion-mnist) when present, else random
28x28 images. Prints images per second per run and the median ratio.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras_vae  # noqa: E402


class HandWrittenVAE(keras.Model):
    """What a user writes from the Keras VAE guide: one loss tracker, tf ops."""

    def __init__(self, encoder, decoder):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, x):
        with tf.GradientTape() as tape:
            mean, rho = self.encoder(x, training=True)
            sigma = tf.nn.softplus(rho)
            z = mean + sigma * tf.random.normal(tf.shape(mean))
            reconstruction = tf.reduce_sum(
                tf.square(self.decoder(z, training=True) - x), axis=[1, 2, 3]
            )
            kl = -0.5 * tf.reduce_sum(
                1 + 2 * tf.math.log(sigma) - mean**2 - sigma**2, axis=1
            )
            loss = tf.reduce_mean(reconstruction + kl)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(
            zip(gradients, self.trainable_weights, strict=True)
        )
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def images():
    try:
        data = keras_vae.datasets.load("fashion_mnist")
        x, source = data.x_train, data.source
    except (ValueError, keras_vae.datasets.DataUnavailableError):
        x = np.random.default_rng(0).uniform(size=(60000, 28, 28, 1)).astype("float32")
        source = "random images"
    return ((x - x.mean()) / x.std()).astype("float32"), source


def images_per_second(make_model, x, batch_size):
    model = make_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x[: 10 * batch_size], epochs=1, batch_size=batch_size, verbose=0)  # trace
    start = time.perf_counter()
    model.fit(x, epochs=1, batch_size=batch_size, verbose=0)
    return len(x) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--latent-dim", type=int, default=20)
    arguments = parser.parse_args()
    x, source = images()
    print(
        f"{len(x)} images from {source}, batch {arguments.batch_size}, "
        f"latent {arguments.latent_dim}, {arguments.repeats} alternating repeats"
    )

    def networks():
        return keras_vae.architectures.mlp(x.shape[1:], arguments.latent_dim)

    variants = {
        "keras_vae.models.VAE": lambda: keras_vae.models.VAE(*networks()),
        "hand-written Keras": lambda: HandWrittenVAE(*networks()),
    }
    results = {name: [] for name in variants}
    for repeat in range(arguments.repeats):
        for name, make_model in variants.items():
            speed = images_per_second(make_model, x, arguments.batch_size)
            results[name].append(speed)
            print(f"repeat {repeat + 1}  {name:22s} {speed:7.0f} img/s", flush=True)
    medians = {name: statistics.median(speeds) for name, speeds in results.items()}
    ours, theirs = medians.values()
    for name, median in medians.items():
        print(f"median  {name:22s} {median:7.0f} img/s")
    print(f"ratio keras_vae / hand-written: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
