"""The models' NumPy helpers, in data space, and what a model file carries to
work there on its own: the preprocessing, class names, latent mixture and
anomaly detector."""

import math

import keras
import numpy as np
from keras import ops

from keras_vae import checks, defaults
from keras_vae import parameterization as param_lib
from keras_vae.models import utils

BATCH_SIZE = defaults.INFERENCE_BATCH_SIZE


class Inference:
    """`encode`, `decode`, `reconstruct` and `sample` on NumPy arrays.

    `conditional` says whether the model takes labels; once the model is
    built, `data_shape` and `latent_shape` are the shapes of one example and of
    one code (without the batch axis).

    They work in data space: with a `preprocessing`, its inputs (pixels in
    [0, 1]) go in and come out; without one, the networks' own inputs. Every
    one takes `labels=` (required by a conditional model, refused by an
    unconditional one) and `raw=True` to skip the preprocessing.
    """

    conditional = False

    def set_data_space(
        self,
        preprocessing=None,
        class_names=None,
        latent_mixture=None,
        anomaly_detector=None,
        sample_temperature=1.0,
    ):
        """Sets what the helpers work with (and the model file keeps).

        Args:
            preprocessing: A `keras_vae.datasets.Preprocessing`, its config
                dict, or `None`.
            class_names: List of strings, one per class, or `None`.
            latent_mixture: A `keras_vae.LatentMixture`, its config dict, or
                `None`.
            anomaly_detector: A `keras_vae.anomaly.AnomalyDetector`, its
                config dict, or `None`.
            sample_temperature: Float >= 0, the temperature `sample` draws
                at when not given one.
        """
        from keras_vae.datasets import Preprocessing
        from keras_vae.latent_mixture import LatentMixture

        if isinstance(preprocessing, dict):
            preprocessing = Preprocessing(**preprocessing)
        if preprocessing is not None and not isinstance(preprocessing, Preprocessing):
            raise TypeError(
                "Invalid value received for argument `preprocessing`. Expected a "
                "keras_vae.datasets.Preprocessing or None. Received: "
                f"preprocessing={preprocessing!r}"
            )
        if isinstance(latent_mixture, dict):
            latent_mixture = LatentMixture.from_config(latent_mixture)
        if latent_mixture is not None:
            self._check_density(latent_mixture, "latent_mixture")
        if isinstance(anomaly_detector, dict):
            from keras_vae.anomaly import AnomalyDetector

            anomaly_detector = AnomalyDetector.from_config(anomaly_detector)
        if class_names is not None:
            class_names = [str(name) for name in class_names]
        sample_temperature = checks.finite_number(
            "sample_temperature", sample_temperature, 0
        )
        self.preprocessing = preprocessing
        self.class_names = class_names
        self.latent_mixture = latent_mixture
        self.anomaly_detector = anomaly_detector
        self.sample_temperature = sample_temperature

    def data_space_config(self):
        return {
            "preprocessing": None
            if self.preprocessing is None
            else self.preprocessing.get_config(),
            "class_names": self.class_names,
            "latent_mixture": None
            if self.latent_mixture is None
            else self.latent_mixture.get_config(),
            "anomaly_detector": None
            if self.anomaly_detector is None
            else self.anomaly_detector.get_config(),
            "sample_temperature": self.sample_temperature,
        }

    def encode(self, x, labels=None, batch_size=BATCH_SIZE, raw=False):
        """Posterior parameters of `x`.

        Args:
            x: Array of inputs in data space (pixels in [0, 1] with a
                preprocessing), or the networks' inputs with `raw=True`.
            labels: Array of labels, one per input: a conditional model's
                (required); `None` for an unconditional one.
            batch_size: Integer, how many inputs to encode at once.
            raw: Boolean, skip the preprocessing.

        Returns:
            Tuple `(mean, sigma)` of NumPy arrays `(n,) + latent_shape`.
        """
        self._require_built()
        labels = self._helper_labels("encode", labels, len(x))
        mean, raw_scale = utils.batched(
            lambda x_batch, labels_batch: self.encoder.predict_on_batch(
                self._encoder_inputs(x_batch, labels_batch)
            ),
            self._inputs(x, raw),
            labels,
            batch_size,
            pad=True,
        )
        sigma = param_lib.scale(raw_scale, self.parameterization)
        return mean, ops.convert_to_numpy(sigma)

    def decode(self, z, labels=None, batch_size=BATCH_SIZE, raw=False):
        """The likelihood's mean of codes `z`, in data space.

        Args:
            z: Array of latent codes `(n,) + latent_shape` (or `(n, size)`).
            labels: Array of labels, one per code (conditional models only).
            batch_size: Integer, how many codes to decode at once.
            raw: Boolean, return the networks' space (no preprocessing).

        Returns:
            NumPy array `(n,) + input_shape`: pixels in [0, 1] with a
            preprocessing (probabilities for the Bernoulli likelihood).
        """
        self._require_built()
        z = np.asarray(z, "float32")
        size = math.prod(self.latent_shape)
        if z.ndim == 0 or len(z) == 0 or math.prod(z.shape[1:]) != size:
            raise ValueError(
                f"`decode` expects codes of shape (n,) + {self.latent_shape} (or "
                f"(n, {size})), n >= 1. Received: z.shape={z.shape}"
            )
        z = z.reshape((len(z),) + self.latent_shape)
        labels = self._helper_labels("decode", labels, len(z))
        outputs = utils.batched(
            lambda z_batch, labels_batch: self.decoder.predict_on_batch(
                self._decoder_inputs(z_batch, labels_batch)
            ),
            z,
            labels,
            batch_size,
            pad=True,
        )
        return self._outputs(self.likelihood.mean(outputs), raw)

    def reconstruct(
        self, x, labels=None, sample=False, seed=None, batch_size=BATCH_SIZE, raw=False
    ):
        """Reconstructions of `x`, in data space.

        Args:
            x: Array of inputs in data space.
            labels: Array of labels (conditional models only).
            sample: Boolean, decode a posterior sample z ~ q(z|x) instead of
                the posterior mean. Defaults to `False`.
            seed: Integer or `None`, seed of the posterior sample.
            batch_size: Integer, how many inputs to process at once.
            raw: Boolean, skip the preprocessing both ways.

        Returns:
            NumPy array of the input's shape.
        """
        mean, sigma = self.encode(x, labels, batch_size, raw)
        z = mean
        if sample:
            noise = keras.random.normal(mean.shape, seed=self._seed(seed))
            z = mean + sigma * ops.convert_to_numpy(noise)
        return self.decode(z, labels, batch_size, raw)

    def sample(
        self,
        n=None,
        labels=None,
        seed=None,
        batch_size=BATCH_SIZE,
        density=None,
        prior=False,
        raw=False,
        temperature=None,
    ):
        """Decodes draws of z, in data space.

        z comes from `density`, else from the model's `latent_mixture` when it
        has one, else (or with `prior=True`) from the prior: the model's
        learned prior, or N(0, I). `temperature` scales the spread of the
        draws around the density's means (Kingma & Dhariwal's Glow samples at
        a temperature below 1): more typical, less varied samples.

        Args:
            n: Integer, how many samples (an unconditional model's; a
                conditional model's is `len(labels)`).
            labels: A conditional model's labels, one per sample wanted, or one
                integer label for `n` samples of that class.
            seed: Integer or `None`, seed of the draws; the same seed gives
                the same samples.
            batch_size: Integer, how many codes to decode at once.
            density: A `keras_vae.LatentMixture` fitted to this model's codes,
                or `None`.
            prior: Boolean, draw from the prior whatever the model carries.
            raw: Boolean, return the networks' space (no preprocessing).
            temperature: Float >= 0, the factor of the standard deviation of
                every Gaussian z is drawn from (N(0, I), a prior's or a
                mixture's components); 0 decodes their means, 1 draws from
                the density itself. Defaults to the model's
                `sample_temperature` (1 unless set).

        Returns:
            NumPy array `(n,) + input_shape`.
        """
        count, labels = self._sample_count(n, labels)
        if temperature is None:
            temperature = self.sample_temperature
        temperature = checks.finite_number("temperature", temperature, 0)
        if density is None and not prior:
            density = self.latent_mixture
        if density is None:
            self._require_built()
            if self.prior is None:
                z = temperature * keras.random.normal(
                    (count,) + self.latent_shape, seed=self._seed(seed)
                )
            else:
                z = self.prior.sample(
                    count, self, labels, seed=self._seed(seed), temperature=temperature
                )
            z = ops.convert_to_numpy(z)
        else:
            self._check_density(density, "density")
            codes = density.sample(
                count if labels is None else labels, seed, temperature
            )
            z = codes.reshape((len(codes),) + self.latent_shape)
        return self.decode(z, labels, batch_size, raw)

    def anomaly_scores(self, x, labels=None, method=None, **kwargs):
        """Anomaly scores of images in data space, in nats (higher: more
        anomalous); `keras_vae.anomaly.score` with this model.

        Args:
            x: Array of images in data space.
            labels: A conditional model's labels, or `None` to marginalise
                over its classes.
            method: String, one of `keras_vae.anomaly.METHODS`. Defaults to
                `"dose"`.
            **kwargs: More arguments of `keras_vae.anomaly.scores`.

        Returns:
            NumPy float32 array `(n,)`.
        """
        return self._anomaly_scores("anomaly_scores", x, labels, method, kwargs)

    def _anomaly_scores(self, caller, x, labels, method, kwargs):
        from keras_vae import anomaly
        from keras_vae.anomaly import statistics

        # Checked here too, so that the errors name the method called.
        caller = f"{type(self).__name__}.{caller}"
        statistics.check_model(caller, self)
        statistics.check_pixels(caller, self, x, kwargs.get("raw", False))
        method = anomaly.DEFAULT_METHOD if method is None else method
        return anomaly.scores(self, x, labels, methods=(method,), **kwargs)[method]

    def flag_anomalies(self, x, labels=None, method=None, **kwargs):
        """1 for each image whose score is above the calibrated threshold, else 0.

        The threshold is the model's `anomaly_detector`'s (see
        `keras_vae.anomaly.calibrate`): at its false-alarm rate, that
        fraction of normal images is flagged.

        Args:
            x: Array of images in data space.
            labels: A conditional model's labels, or `None` (as calibrated).
            method: String, one of `keras_vae.anomaly.METHODS`. Defaults to
                `"dose"`.
            **kwargs: More arguments of `keras_vae.anomaly.scores`.

        Returns:
            NumPy int8 array `(n,)` of 0 and 1.
        """
        from keras_vae import anomaly

        if self.anomaly_detector is None:
            raise ValueError(
                f"This {type(self).__name__} has no calibrated anomaly threshold. "
                "Calibrate it on validation images first: "
                "keras_vae.anomaly.calibrate(model, x_validation) (on the command "
                "line: keras-vae calibrate RUN)."
            )
        method = anomaly.DEFAULT_METHOD if method is None else method
        self.anomaly_detector.check_labels(labels)
        kwargs.setdefault("num_samples", self.anomaly_detector.num_samples)
        scores = self._anomaly_scores("flag_anomalies", x, labels, method, kwargs)
        return self.anomaly_detector.flag(scores, method)

    # What the conditional model changes.

    def _helper_labels(self, method, labels, count):
        if labels is not None:
            raise ValueError(
                f"`{type(self).__name__}.{method}` takes no `labels`: the model is "
                f"unconditional. Received: labels of shape {np.shape(labels)}. Use "
                "a ConditionalVAE to condition on classes."
            )
        return None

    def _sample_count(self, n, labels):
        self._helper_labels("sample", labels, None)
        if n is None:
            raise ValueError(
                f"`{type(self).__name__}.sample` needs `n`, how many samples."
            )
        return checks.positive_integer("n", n), None

    def _check_density(self, density, argument):
        from keras_vae.latent_mixture import LatentMixture

        if not isinstance(density, LatentMixture):
            raise TypeError(
                f"Invalid value received for argument `{argument}`. Expected a "
                f"keras_vae.LatentMixture. Received: {argument}={density!r:.80}"
            )
        if density.conditional != self.conditional:
            fitted, kind = (
                ("with", "ConditionalVAE")
                if density.conditional
                else ("without", "VAE")
            )
            raise ValueError(
                f"This LatentMixture was fitted {fitted} labels: it samples for a "
                f"{kind}, not a {type(self).__name__}."
            )
        if getattr(self, "latent_shape", None) is not None and density.latent_dim != (
            math.prod(self.latent_shape)
        ):
            raise ValueError(
                f"The density draws codes of size {density.latent_dim}; this "
                f"model's latent shape is {self.latent_shape}."
            )

    # Data space.

    def _inputs(self, x, raw):
        if self.preprocessing is None or raw:
            return np.asarray(x, "float32")
        return self.preprocessing.transform(x)

    def _outputs(self, outputs, raw):
        outputs = ops.convert_to_numpy(outputs)
        if self.preprocessing is None or raw:
            return outputs
        return self.preprocessing.to_pixels(outputs)

    def _seed(self, seed):
        return self.sampling.seed_generator if seed is None else seed

    def export(
        self,
        filepath,
        format="tf_saved_model",
        verbose=None,
        input_signature=None,
        **kwargs,
    ):
        """Writes the model for serving, as `keras_vae.export.export` does.

        Keras' `Model.export` serves a model's `call`; a VAE is served by its
        `encode`, `decode` and `sample` endpoints, in data space, written the
        same way on every backend (docs/guides/serving.md). Keras' version
        refused a trained VAE ("The model provided has never called").

        Args:
            filepath: String, the folder to create (written beside its place
                and moved there when complete).
            format: `"tf_saved_model"` (Keras' name; `"saved_model"` too) or
                `"onnx"`.
            verbose: Boolean, print where the export went. Defaults to `True`.
            input_signature: Not taken: the endpoints take the shapes the
                model was built for.
            **kwargs: `overwrite=True` replaces an existing folder.

        Returns:
            The dict written to `filepath/keras_vae_export.json`.

        Example:

        ```python
        import tempfile
        import keras_vae

        vae = keras_vae.models.VAE(*keras_vae.architectures.mlp((8, 8, 1), 2))
        vae.build((None, 8, 8, 1))
        folder = tempfile.mkdtemp() + "/served"
        print(sorted(vae.export(folder, verbose=False)["endpoints"]))
        # ['decode', 'encode', 'sample']
        ```
        """
        from keras_vae import export as export_lib

        formats = {"tf_saved_model": "saved_model", "saved_model": "saved_model"}
        formats["onnx"] = "onnx"
        if format not in formats:
            raise ValueError(
                f"{type(self).__name__}.export writes format 'tf_saved_model' or "
                f"'onnx' (keras_vae.export.export). Received: format={format!r}"
            )
        if input_signature is not None:
            raise ValueError(
                f"{type(self).__name__}.export takes no `input_signature`: its "
                "endpoints take the shapes the model was built for "
                f"({getattr(self, 'data_shape', None)}). Received: "
                f"input_signature={input_signature!r}"
            )
        overwrite = kwargs.pop("overwrite", False)
        if kwargs:
            raise ValueError(
                f"{type(self).__name__}.export takes `overwrite` besides Keras' "
                f"arguments. Received: {sorted(kwargs)}"
            )
        description = export_lib.export(
            self, filepath, format=formats[format], overwrite=overwrite
        )
        if verbose is None or verbose:
            endpoints = ", ".join(sorted(description["endpoints"]))
            print(f"Saved the {endpoints} endpoints at {filepath}")
        return description

    def _require_built(self):
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} is not built yet: call it on data, `fit` "
                "it, or call `model.build(input_shape)` first."
            )
