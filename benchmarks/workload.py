"""One benchmark configuration, trained in this process; prints one JSON line.

Keras fixes its backend when it is first imported, so `benchmarks/run.py` starts
this script once per configuration with KERAS_BACKEND set, one at a time.

    KERAS_BACKEND=jax python benchmarks/workload.py --model mlp --latent-dim 2 \
        --batch-size 64 --epochs 4 [--data data.npz] [--variant handwritten]

Variants:
- `keras_vae`: `keras_vae.models.VAE` / `ConditionalVAE` trained with `fit` on
  arrays, with the library's documented defaults (the path users get, and
  what `keras-vae train` feeds on JAX and PyTorch); `--input tfdata` feeds the
  shuffled `tf.data` pipeline instead (which `keras-vae train` keeps for
  dynamic binarization), `--input training_inputs` what `keras-vae train`
  feeds on every backend (`Preprocessing.training_inputs`: a `tf.data`
  pipeline on TensorFlow).
- `handwritten`: the same network as the 40-line VAE of the Keras guide, a
  `train_step` with `tf.GradientTape` and one loss tracker (TensorFlow only).

The JSON holds the images per second of every epoch (the first one includes
tracing and compilation; `run.py` drops it), the training FLOPs per image and
the process's peak resident memory.
"""

import argparse
import json
import os
import resource
import time

import numpy as np


def load_images(path, limit):
    """Standardized images (n, 28, 28, 1) and labels from an .npz of uint8."""
    data = np.load(path)
    x = data["x_train"][:limit].astype("float32")[..., None] / 255.0
    return ((x - x.mean()) / x.std()).astype("float32"), data["y_train"][:limit]


def training_flops(encoder, decoder):
    """FLOPs of one training step per image: 2 per multiply-add, three passes
    (forward, input gradient, weight gradient) except for the encoder's first
    layer, which reads the data: its input gradient is never needed."""
    import keras

    def multiply_adds(layer):
        if isinstance(layer, keras.layers.Dense):
            return int(np.prod(layer.kernel.shape))
        if isinstance(layer, keras.layers.Conv2DTranspose):
            spatial = np.prod(layer.input.shape[1:-1])
            return int(spatial * np.prod(layer.kernel.shape))
        if isinstance(layer, keras.layers.Conv2D):
            spatial = np.prod(layer.output.shape[1:-1])
            return int(spatial * np.prod(layer.kernel.shape))
        return 0

    counts = [
        multiply_adds(layer) for net in (encoder, decoder) for layer in net.layers
    ]
    first = next(i for i, count in enumerate(counts) if count)
    return sum(count * (4 if i == first else 6) for i, count in enumerate(counts))


class EpochTimer:
    def __init__(self):
        import keras

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(inner, epoch, logs=None):
                inner.start = time.perf_counter()

            def on_epoch_end(inner, epoch, logs=None):
                self.seconds.append(time.perf_counter() - inner.start)
                self.losses.append(float(logs["loss"]))

        self.seconds, self.losses = [], []
        self.callback = Timer()


def handwritten_vae(encoder, decoder):
    """The Keras guide's VAE with a TensorFlow `train_step`: what users write."""
    import keras
    import tensorflow as tf

    class HandWrittenVAE(keras.Model):
        def __init__(self):
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

    return HandWrittenVAE()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("mlp", "cvae"), default="mlp")
    parser.add_argument("--latent-dim", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--data", help=".npz with x_train, y_train (uint8 images)")
    parser.add_argument("--limit", type=int, help="use only this many images")
    parser.add_argument("--variant", choices=("keras_vae", "handwritten"))
    parser.add_argument(
        "--input",
        choices=("arrays", "tfdata", "training_inputs"),
        default="arrays",
        help="arrays to fit, a shuffled tf.data pipeline, or what keras-vae train "
        "feeds (Preprocessing.training_inputs)",
    )
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        help="override the library's default (a lever, not the default path)",
    )
    parser.add_argument(
        "--jit-compile",
        choices=("true", "false"),
        help="override the library's default (a lever, not the default path)",
    )
    parser.add_argument(
        "--transposed-convolution",
        choices=("default", "keras", "sub_pixel"),
        default="default",
        help="keras_vae.layers.Conv2DTranspose as the library picks it per backend, "
        "as Keras' own, or as a sub-pixel convolution (a lever)",
    )
    arguments = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    import keras

    import keras_vae
    from keras_vae.layers import conv2d_transpose

    if arguments.transposed_convolution != "default":
        sub_pixel = arguments.transposed_convolution == "sub_pixel"
        conv2d_transpose.SUB_PIXEL_BACKENDS = (
            (keras.backend.backend(),) if sub_pixel else ()
        )

    if arguments.data:
        x, y = load_images(arguments.data, arguments.limit)
    else:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(arguments.limit or 4096, 28, 28, 1)).astype("float32")
        y = rng.integers(0, 10, len(x))
    keras.utils.set_random_seed(0)
    compile_arguments = {"optimizer": keras.optimizers.Adam(1e-3)}
    if arguments.steps_per_execution:
        compile_arguments["steps_per_execution"] = arguments.steps_per_execution
    if arguments.jit_compile:
        compile_arguments["jit_compile"] = arguments.jit_compile == "true"
    fit_arguments = {"x": x, "batch_size": arguments.batch_size}
    if arguments.model == "mlp":
        encoder, decoder = keras_vae.architectures.mlp(
            x.shape[1:], arguments.latent_dim
        )
        if arguments.variant == "handwritten":
            model = handwritten_vae(encoder, decoder)
        else:
            model = keras_vae.models.VAE(encoder, decoder)
    else:
        encoder, decoder = keras_vae.architectures.conv_conditional(
            x.shape[1:], arguments.latent_dim, 10
        )
        model = keras_vae.models.ConditionalVAE(encoder, decoder, num_classes=10)
        fit_arguments["y"] = y
    model.compile(**compile_arguments)
    if arguments.input == "tfdata":
        pipeline = keras_vae.datasets.Preprocessing("scale").training_dataset(
            x, fit_arguments.get("y"), arguments.batch_size, seed=0
        )
        fit_arguments = {"x": pipeline}
    elif arguments.input == "training_inputs":
        fit_arguments = keras_vae.datasets.Preprocessing("scale").training_inputs(
            x, fit_arguments.get("y"), arguments.batch_size, seed=0
        )
    timer = EpochTimer()
    model.fit(
        **fit_arguments, epochs=arguments.epochs, verbose=0, callbacks=[timer.callback]
    )
    print(
        json.dumps(
            {
                "backend": keras.backend.backend(),
                "images": len(x),
                "images_per_second": [len(x) / s for s in timer.seconds],
                "losses": timer.losses,
                "flops_per_image": training_flops(encoder, decoder),
                "steps_per_execution": model.steps_per_execution,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                / 1024,
            }
        )
    )


if __name__ == "__main__":
    main()
