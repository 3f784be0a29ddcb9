import functools

import keras
from keras import ops

from keras_vae import checks, defaults, likelihoods
from keras_vae import parameterization as param_lib
from keras_vae.datasets.preprocessing import LEVELS_8_BIT
from keras_vae.layers.kl_regularizer import KLRegularizer
from keras_vae.layers.latent_penalty import LatentPenalty
from keras_vae.layers.sampling import Sampling
from keras_vae.models import utils
from keras_vae.models.backends import Trainer, check_backend
from keras_vae.models.compiling import Compiling
from keras_vae.models.data_checks import DataChecks
from keras_vae.models.inference import Inference
from keras_vae.priors.prior import Prior, log_posterior, log_standard_normal
from keras_vae.priors.vamp_prior import VampPrior

METRIC_NAMES = ("loss", "reconstruction_loss", "kl_loss", "elbo")


@keras.saving.register_keras_serializable(package="keras_vae")
class VAE(Trainer, Compiling, DataChecks, Inference, keras.Model):
    """Variational autoencoder trained with `fit` on the evidence lower bound.

    Wires a user-supplied encoder and decoder through `KLRegularizer` and
    `Sampling`: `x -> encoder -> (mean, raw_scale) -> z -> decoder`. Training
    minimizes

        loss = reconstruction + beta * KL(q(z|x) || p(z)) (+ any other
        losses the networks add, such as weight regularizers),

    where the reconstruction term is the negative log-likelihood of the data
    under the chosen likelihood. Every term is in nats per example: summed
    over pixels and latent dimensions, averaged over the batch.

    `fit` and `evaluate` report:

    - `loss`: the objective above;
    - `reconstruction_loss`: -log p(x|z), one posterior sample;
    - `kl_loss`: the KL divergence, not weighted by beta;
    - `elbo`: the negative ELBO at beta = 1, `reconstruction_loss + kl_loss`.
      An upper bound on -log p(x) that does not depend on beta: the number to
      compare models trained with different beta.

    and `fit` logs `beta` (and the capacity `C`, with the capacity objective)
    as it was at the end of each epoch.

    Two changes make the bound itself tighter at the same networks. A
    learned prior (`prior=`, from `keras_vae.priors`: `MixturePrior`,
    `VampPrior`, or `ClassPrior` for a `ConditionalVAE`) replaces N(0, I);
    where the KL divergence to it has no closed form, `kl_loss` is the
    one-sample estimate log q(z|x) - log p(z). With `num_samples=k > 1` the
    model trains the importance-weighted bound of Burda et al. (IWAE):

        loss = -mean_x log (1/k) sum_i exp(log p(x|z_i)
                                           + beta * (log p(z_i) - log q(z_i|x)))

    over k posterior samples decoded in one batched pass (at beta = 1 the
    k-sample bound on -log p(x), which tightens as k grows; k = 1 is the
    ELBO). `reconstruction_loss`, `kl_loss` and `elbo` stay the one-sample
    ELBO's terms, comparable with every other model's, so `loss` is then
    below `elbo`.

    beta may be a number or a schedule (`keras_vae.schedules`, e.g.
    `LinearWarmup`), evaluated inside every training step from the step
    count: exact at every step with any `steps_per_execution`, and saved with
    the model. A number lives in a non-trainable variable (`model.beta`) that
    callbacks may change between steps.

    The model trains on the TensorFlow, JAX and PyTorch backends of Keras 3:
    `compute_elbo_terms` is the one loss computation (`keras.ops` only), and
    a thin trainer per backend differentiates it (see
    `keras_vae.models.backends`). A `.keras` file saved on one backend loads
    on the others. It takes no `loss` or `metrics` in `compile`: pass only the
    optimizer.

    The NumPy helpers `encode`, `decode`, `reconstruct` and `sample` work in
    *data space*: with a `preprocessing` (what `keras-vae train` gives its
    models), pixels in [0, 1] go in and come out, and the model file carries
    the preprocessing, its class names and its latent mixture, so that a
    loaded `.keras` file is all one needs; without one, data space is the
    networks' own space. `raw=True` skips the preprocessing, and calling the
    model (or `predict`) gives the decoder's raw output.

    References:
        Kingma and Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
        Burda, Grosse and Salakhutdinov, "Importance Weighted Autoencoders",
        ICLR 2016.

    Args:
        encoder: Keras layer or model mapping `x` to two tensors
            `(mean, raw_scale)` of equal shape `(batch, latent_dim)`.
        decoder: Keras layer or model mapping `z` of shape `(batch, latent_dim)`
            to a tensor of the input's shape: the likelihood's raw output
            (logits for `"bernoulli"`, means for `"gaussian"`).
        beta: Float, weight of the KL term, `>= 0`, or a
            `keras_vae.schedules.Schedule` of it. Defaults to `1.0`.
        parameterization: String, how the encoder's raw scale maps to sigma:
            `"softplus"` or `"log_var"`. Defaults to `"softplus"`.
        likelihood: String (`"gaussian"` or `"bernoulli"`) or a
            `keras_vae.likelihoods.Likelihood`. Defaults to `"gaussian"` (fixed
            variance 0.5, i.e. sum of squared errors plus a constant).
        seed: Integer or `None`, seed of the latent sampling. Defaults to `None`.
        free_bits: Float, KL floor per latent dimension in nats (Kingma et
            al. 2016), see `keras_vae.layers.KLRegularizer`. Defaults to `0.0`
            (off).
        capacity: Float, a `keras_vae.schedules.Schedule`, or `None`: the KL
            target C of the capacity objective `beta * |KL - C|` (Burgess et
            al. 2018). Defaults to `None` (plain `beta * KL`).
        preprocessing: A `keras_vae.datasets.Preprocessing` or `None`: how
            data-space inputs (pixels) map to the networks' inputs and back,
            for the NumPy helpers. Defaults to `None` (the same space).
        class_names: List of strings or `None`, a conditional model's class
            names (kept in the model file). Defaults to `None`.
        latent_mixture: A `keras_vae.LatentMixture` fitted to this model's
            codes, or `None`: what `sample` draws z from (kept in the model
            file). Defaults to `None` (the prior).
        sample_temperature: Float >= 0, the temperature `sample` draws at
            when not given one (kept in the model file): the factor of the
            spread of z around the means of the prior's or mixture's
            components. Defaults to `1.0`.
        penalty: A `keras_vae.layers.LatentPenalty` or `None`: a term on the
            codes added to the loss, the disentangling objectives'
            (`TotalCorrelationPenalty` for β-TCVAE, `DIPPenalty` for
            DIP-VAE, `FactorVAEPenalty` for FactorVAE, whose discriminator
            trains inside the step with its own optimizer). Its terms are
            reported beside the others. Defaults to `None`.
        prior: A `keras_vae.priors.Prior` or `None`: the prior p(z), trained
            with the networks and saved with the model. Defaults to `None`
            (N(0, I)).
        num_samples: Integer >= 1, the posterior samples k of the training
            objective: 1 trains the ELBO, k > 1 the importance-weighted
            bound. Defaults to `1`.
        dequantize: Boolean, whether training spreads every 8-bit pixel
            level uniformly over its bin (`dequantize_inputs`; uniform
            dequantization, Theis et al. 2016), fresh noise at every step,
            so that a density likelihood (Gaussian, continuous Bernoulli)
            fits the bins of the pixels rather than peaks at their exact
            values, and its bits per pixel are those of the 8-bit images.
            Needs a `preprocessing` that standardizes or scales. Training
            only: `evaluate`, `predict` and the helpers see the data as it
            is. Defaults to `False`.
        **kwargs: Base model keyword arguments, such as `name`.

    Call arguments:
        inputs: Tensor `x`.
        training: Python boolean, whether the model runs in training mode.

    Returns:
        The decoder's raw output for a posterior sample of `x`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    encoder, decoder = keras_vae.architectures.mlp(input_shape=(8, 8), latent_dim=2)
    warmup = keras_vae.schedules.LinearWarmup(steps=8, maximum=1.0)
    vae = keras_vae.models.VAE(encoder, decoder, beta=warmup)
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(64, 8, 8)).astype("float32")
    history = vae.fit(x, epochs=2, batch_size=16, verbose=0)
    print(history.history["beta"])  # [0.375, 0.875]: beta after 4 and 8 steps
    mean, sigma = vae.encode(x[:4])
    samples = vae.sample(4, seed=0)
    ```
    """

    def __init__(
        self,
        encoder,
        decoder,
        beta=defaults.BETA,
        parameterization=defaults.PARAMETERIZATION,
        likelihood=defaults.LIKELIHOOD,
        seed=None,
        free_bits=defaults.FREE_BITS,
        capacity=None,
        preprocessing=None,
        class_names=None,
        latent_mixture=None,
        anomaly_detector=None,
        sample_temperature=1.0,
        penalty=None,
        prior=None,
        num_samples=1,
        dequantize=False,
        **kwargs,
    ):
        check_backend(type(self).__name__)
        for argument, network in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(network, keras.layers.Layer):
                raise TypeError(
                    f"Invalid value received for argument `{argument}`. Expected a "
                    f"Keras layer or model. Received: {argument}={network!r}"
                )
        if penalty is not None and not isinstance(penalty, LatentPenalty):
            raise TypeError(
                "Invalid value received for argument `penalty`. Expected a "
                "keras_vae.layers.LatentPenalty (TotalCorrelationPenalty, "
                f"DIPPenalty, FactorVAEPenalty) or None. Received: penalty={penalty!r}"
            )
        num_samples = checks.positive_integer("num_samples", num_samples)
        self._check_prior(prior, num_samples, free_bits, capacity)
        likelihood = likelihoods.get(likelihood)
        dequantize = _check_dequantize(dequantize, likelihood)
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.kl_regularizer = KLRegularizer(
            beta,
            parameterization,
            free_bits=free_bits,
            capacity=capacity,
            name="kl_regularizer",
        )
        self.sampling = Sampling(parameterization, seed=seed, name="sampling")
        self.parameterization = parameterization
        self.likelihood = likelihood
        self.seed = seed
        self.penalty = penalty
        self.prior = prior
        self.num_samples = num_samples
        self.dequantize = dequantize
        if dequantize:
            # Its own stream, not the latent sampling's.
            self.dequantization_seed = keras.random.SeedGenerator(
                None if seed is None else seed + 1
            )
        names = METRIC_NAMES + (penalty.term_names if penalty is not None else ())
        self.trackers = [keras.metrics.Mean(name=name) for name in names]
        self.set_data_space(
            preprocessing,
            class_names,
            latent_mixture,
            anomaly_detector,
            sample_temperature,
        )
        if dequantize and self.preprocessing is not None:
            self.preprocessing.pixel_affine()  # Raises for binary inputs.

    def _check_prior(self, prior, num_samples, free_bits, capacity):
        if prior is not None and not isinstance(prior, Prior):
            raise TypeError(
                "Invalid value received for argument `prior`. Expected a "
                "keras_vae.priors.Prior (MixturePrior, VampPrior, ClassPrior) or "
                f"None for N(0, I). Received: prior={prior!r}"
            )
        name = type(self).__name__
        if prior is not None and prior.conditional and not self.conditional:
            raise ValueError(
                f"{type(prior).__name__} is a conditional prior p(z | y): it needs "
                f"a ConditionalVAE, not a {name}. Use MixturePrior or VampPrior."
            )
        if isinstance(prior, VampPrior) and self.conditional:
            raise ValueError(
                "VampPrior runs the encoder on its pseudo-inputs, which have no "
                f"labels: it needs an unconditional VAE, not a {name}. Use "
                "ClassPrior for a learned conditional prior."
            )
        if free_bits and prior is not None:
            raise ValueError(
                "free_bits floors the KL divergence to N(0, I) per latent "
                f"dimension; with a learned prior it has none. Received: "
                f"free_bits={free_bits}, prior={type(prior).__name__}"
            )
        if num_samples > 1 and (free_bits or capacity is not None):
            raise ValueError(
                "The importance-weighted bound (num_samples > 1) has no KL term "
                "to floor or to hold at a capacity. Received: "
                f"num_samples={num_samples}, free_bits={free_bits}, "
                f"capacity={capacity!r}"
            )

    @property
    def beta(self):
        """The non-trainable variable holding the KL weight; assign to change it
        (a number: a model whose beta follows a schedule refuses)."""
        return self.kl_regularizer.beta

    @beta.setter
    def beta(self, value):
        self.kl_regularizer.beta = value

    @property
    def capacity(self):
        """The non-trainable variable holding the KL target C, or `None`."""
        return self.kl_regularizer.capacity

    @capacity.setter
    def capacity(self, value):
        self.kl_regularizer.capacity = value

    @property
    def free_bits(self):
        """Float, the KL floor per latent dimension in nats (0 when off)."""
        return self.kl_regularizer.free_bits

    @property
    def metrics(self):
        return list(self.trackers)

    @property
    def trainable_variables(self):
        own = {id(v) for v in self._penalty_variables()}
        return [v for v in super().trainable_variables if id(v) not in own]

    @property
    def non_trainable_variables(self):
        # A penalty's discriminator trains with the penalty's own optimizer:
        # the model's optimizer must not see its weights.
        return super().non_trainable_variables + self._penalty_variables()

    @property
    def trainable_weights(self):
        return self.trainable_variables if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return self.non_trainable_variables

    def _penalty_variables(self):
        if self.penalty is None or not self.trainable or not self.penalty.trainable:
            return []
        return list(self.penalty.own_variables)

    # Structure of the data; ConditionalVAE overrides these four methods.

    def _split_inputs(self, inputs):
        """Returns `(x, labels)` from the model's call inputs."""
        return inputs, None

    def _encoder_inputs(self, x, labels):
        return x

    def _decoder_inputs(self, z, labels):
        return z

    def _unpack_batch(self, data):
        """Returns `(x, labels, target)` from a batch given to fit or evaluate."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        utils.reject_sample_weight(sample_weight)
        if y is None:
            return x, None, x
        if tuple(y.shape[1:]) != tuple(x.shape[1:]):
            raise ValueError(
                "VAE reconstructs its input; targets `y`, if given, must have the "
                f"input's shape {tuple(x.shape)}. Received: y.shape={tuple(y.shape)}. "
                "If `y` holds class labels, drop it or use ConditionalVAE."
            )
        return x, None, y

    # The networks on tensors, and the ELBO.

    def build(self, input_shape):
        x_shape, labels_shape = self._split_inputs(input_shape)
        x = keras.KerasTensor(tuple(x_shape))
        labels = (
            None
            if labels_shape is None
            else keras.KerasTensor(tuple(labels_shape), dtype="int32")
        )
        encoded = self.encoder(self._encoder_inputs(x, labels))
        if not isinstance(encoded, (list, tuple)) or len(encoded) != 2:
            raise ValueError(
                "The encoder must return two tensors (mean, raw_scale). Received: "
                f"{utils.describe(encoded)}"
            )
        mean, raw_scale = encoded
        if tuple(mean.shape) != tuple(raw_scale.shape):
            raise ValueError(
                "The encoder must return mean and raw_scale of equal shape. "
                f"Received: mean.shape={mean.shape}, raw_scale.shape={raw_scale.shape}"
            )
        self.kl_regularizer.build([mean.shape, raw_scale.shape])
        self.sampling.build([mean.shape, raw_scale.shape])
        if self.penalty is not None:
            self.penalty.build([mean.shape, raw_scale.shape, mean.shape])
        if self.prior is not None:
            self._build_prior(x_shape, mean.shape)
        if isinstance(self.likelihood, keras.layers.Layer) and not (
            self.likelihood.built
        ):
            self.likelihood.build(tuple(x_shape))
        decoded = self.decoder(self._decoder_inputs(mean, labels))
        expected = self.likelihood.parameter_shape(x_shape[1:])
        if not hasattr(decoded, "shape") or tuple(decoded.shape[1:]) != expected:
            raise ValueError(
                (
                    "The decoder's output must have the input's shape. "
                    if expected == tuple(x_shape[1:])
                    else "The decoder's output must hold every parameter of the "
                    f"likelihood: expected shape {expected}, the input's and "
                    f"{self.likelihood.parameters_per_value} parameters per value "
                    f"for {self.likelihood!r} (build the decoder with "
                    f"parameters_per_value={self.likelihood.parameters_per_value}). "
                )
                + f"Received: input shape {tuple(x_shape)}, "
                f"decoder output {utils.describe(decoded)}"
            )
        self.data_shape, self.latent_shape = tuple(x_shape[1:]), tuple(mean.shape[1:])

    def _build_prior(self, x_shape, z_shape):
        if len(z_shape) != 2:
            raise ValueError(
                "A learned prior models flat codes: the encoder must return a mean "
                f"of shape (batch, latent_dim). Received: mean.shape={z_shape}"
            )
        if not self.prior.built:
            self.prior.build([x_shape, z_shape])
        for what, shape, own in (
            ("latent", tuple(z_shape[1:]), self.prior.latent_shape),
            ("input", tuple(x_shape[1:]), self.prior.data_shape),
        ):
            if what == "input" and not isinstance(self.prior, VampPrior):
                continue
            if tuple(own) != shape:
                raise ValueError(
                    f"The prior {self.prior.name} was built for {what} shape "
                    f"{tuple(own)}; this model's {what} shape is {shape}. Give "
                    "the model a new prior."
                )

    def call(self, inputs, training=None):
        return self._forward(*self._split_inputs(inputs), training)[-1]

    def encoder_outputs(self, x, labels=None, training=False):
        """The encoder's `(mean, raw_scale)` tensors for a batch of the networks'
        inputs (not data space); `labels` for a conditional model."""
        return self.encoder(self._encoder_inputs(x, labels), training=training)

    def decoder_outputs(self, z, labels=None, training=False):
        """The decoder's raw output tensor (the likelihood's parameters) for a
        batch of codes; `labels` for a conditional model."""
        return self.decoder(self._decoder_inputs(z, labels), training=training)

    def dequantize_inputs(self, x, seed=None):
        """Spreads each 8-bit pixel level k of a batch of inputs uniformly over
        its bin [k, k + 1) / 256 of the pixel range (uniform dequantization).

        A density's -log p of the result, plus D log 256 (and the
        standardization's log-Jacobian), bounds -log P of the 8-bit pixels
        (`keras_vae.evaluation.bits_per_dimension`); `dequantize=True` trains
        on it.

        Args:
            x: Tensor, a batch of the networks' inputs (preprocessed pixels).
            seed: A `keras.random.SeedGenerator`, an integer or `None` (the
                model's own generator when it dequantizes).

        Returns:
            Tensor of the shape and dtype of `x`, in the same input units.

        Raises:
            ValueError: if the likelihood models discrete values (nothing to
                dequantize), or the model has no preprocessing, or it binarizes.
        """
        _check_dequantize(True, self.likelihood)
        if self.preprocessing is None:
            raise ValueError(
                "Dequantization spreads the 8-bit pixel levels, which the "
                "model's preprocessing maps to its inputs: expected a model with "
                "a preprocessing (keras_vae.datasets.Preprocessing, e.g. "
                'Preprocessing("scale") for pixels in [0, 1]). Received: a model '
                "without one."
            )
        scale, shift = self.preprocessing.pixel_affine()
        if seed is None:
            seed = getattr(self, "dequantization_seed", None)
        levels = ops.round((x * scale + shift) * LEVELS_8_BIT)
        noise = keras.random.uniform(ops.shape(x), dtype=x.dtype, seed=seed)
        return ((levels + noise) / (LEVELS_8_BIT + 1) - shift) / scale

    def _forward(self, x, labels, training):
        """Returns `(mean, raw_scale, z, decoder output)` for one posterior sample."""
        mean, raw_scale = self.kl_regularizer(
            self.encoder_outputs(x, labels, training), training=training
        )
        z = self.sampling([mean, raw_scale], training=training)
        return mean, raw_scale, z, self.decoder_outputs(z, labels, training)

    def compute_elbo_terms(self, x, labels=None, target=None, training=False):
        """Runs the model once and returns its loss terms, in nats per example.

        Uses `keras.ops` only: the training and test steps of every backend
        call it (on JAX through `stateless_compute_elbo_terms`). A training
        call advances the beta and capacity schedules by one step.

        Args:
            x: Tensor, a batch of inputs.
            labels: Tensor or `None`, the batch's labels (ConditionalVAE only).
            target: Tensor or `None`, what to reconstruct. Defaults to `x`.
            training: Python boolean, whether the model runs in training mode.

        Returns:
            Dict of scalar float32 tensors with keys `loss`,
            `reconstruction_loss`, `kl_loss` and `elbo`, the `beta` (and
            `capacity`) of the step, and the penalty's terms (`term_names`;
            `discriminator_loss` is what the penalty's own optimizer
            minimizes, not a part of `loss`).
        """
        if training and self.dequantize:
            if target is None:
                x = self.dequantize_inputs(x)
            else:
                target = self.dequantize_inputs(target)
        target = x if target is None else target
        self._build_for(x, labels)
        if self.num_samples == 1:
            mean, raw_scale, z, outputs = self._forward(x, labels, training)
            nll = self.likelihood.negative_log_likelihood(target, outputs)
        else:
            mean, raw_scale, z, nll = self._forward_samples(x, labels, target, training)
        sigma = param_lib.scale(ops.cast(raw_scale, "float32"), self.parameterization)
        batch = ops.shape(mean)[0]
        first_z = z if self.num_samples == 1 else z[:batch]
        reconstruction = ops.mean(nll if self.num_samples == 1 else nll[:batch])
        kl_per_example = self.latent_kl_divergence(mean, raw_scale, first_z, labels)
        kl = ops.mean(kl_per_example)
        # The layer adds beta * KL(q || N(0, I)): the objective, unless a
        # learned prior or the importance-weighted bound replaces it.
        own = self.prior is None and self.num_samples == 1
        skipped = set() if own else {id(t) for t in self.kl_regularizer.losses}
        if own:
            loss = reconstruction
        elif self.num_samples == 1:
            loss = reconstruction + self._weighted_kl(kl)
        else:
            loss = ops.mean(self._importance_weighted_loss(mean, sigma, z, nll, labels))
        for extra in self.losses:
            if id(extra) not in skipped:
                loss = loss + ops.cast(extra, "float32")
        penalty_terms = {}
        if self.penalty is not None:
            penalty_terms = self.penalty.penalty_terms(
                mean, sigma, first_z, training=training
            )
            loss = loss + penalty_terms.pop("penalty")
        terms = {
            **penalty_terms,
            "loss": loss,
            "reconstruction_loss": reconstruction,
            "kl_loss": kl,
            "elbo": reconstruction + kl,
            "beta": ops.cast(self.beta, "float32"),
        }
        if self.capacity is not None:
            terms["capacity"] = ops.cast(self.capacity, "float32")
        return terms

    def latent_kl_divergence(self, mean, raw_scale, z=None, labels=None):
        """KL(q(z|x) || p(z)) per example, in nats, under the model's prior.

        In closed form for N(0, I) and a one-Gaussian `ClassPrior`; for the
        other learned priors, the one-sample estimate log q(z|x) - log p(z)
        at `z`.

        Args:
            mean: Tensor `(n, latent_dim)`, the encoder's means.
            raw_scale: Tensor of the same shape, the encoder's raw scales.
            z: Tensor `(n, latent_dim)`, a posterior sample (needed by a
                mixture prior), or `None`.
            labels: A conditional model's labels, or `None`.

        Returns:
            Float32 tensor `(n,)`.
        """
        if self.prior is None:
            return param_lib.kl_divergence(mean, raw_scale, self.parameterization)
        sigma = param_lib.scale(ops.cast(raw_scale, "float32"), self.parameterization)
        if z is None and not self.prior.closed_form_kl:
            raise ValueError(
                f"The KL divergence to a {type(self.prior).__name__} is estimated "
                "at a posterior sample: pass `z`."
            )
        return self.prior.kl_divergence(mean, sigma, z, self, labels)

    def latent_log_prior(self, z, labels=None):
        """log p(z) per code under the model's prior, float32 `(n,)`."""
        if self.prior is None:
            return log_standard_normal(z)
        return self.prior.log_prob(z, self, labels)

    def _weighted_kl(self, kl):
        beta = ops.cast(self.beta, "float32")
        if self.capacity is not None:
            return beta * ops.abs(kl - ops.cast(self.capacity, "float32"))
        return beta * kl

    def _forward_samples(self, x, labels, target, training):
        """`(mean, raw_scale, z, nll)` for `num_samples` posterior samples per
        example, decoded in one pass: z `(k * n, latent_dim)` and the negative
        log-likelihoods `(k * n,)`, sample-major (the first n are sample 1)."""
        mean, raw_scale = self.kl_regularizer(
            self.encoder_outputs(x, labels, training), training=training
        )
        k = self.num_samples
        tiled = functools.partial(_tiled, k=k)
        z = self.sampling([tiled(mean), tiled(raw_scale)], training=training)
        tiled_labels = None if labels is None else tiled(labels)
        outputs = self.decoder_outputs(z, tiled_labels, training)
        nll = self.likelihood.negative_log_likelihood(tiled(target), outputs)
        return mean, raw_scale, z, nll

    def _importance_weighted_loss(self, mean, sigma, z, nll, labels):
        """-log (1/k) sum_i w_i per example, log w_i = log p(x|z_i) +
        beta * (log p(z_i) - log q(z_i|x))."""
        k = self.num_samples
        tiled = functools.partial(_tiled, k=k)
        tiled_labels = None if labels is None else tiled(labels)
        log_ratio = self.latent_log_prior(z, tiled_labels) - log_posterior(
            tiled(mean), tiled(sigma), z
        )
        beta = ops.cast(self.beta, "float32")
        log_weights = ops.reshape(-ops.cast(nll, "float32") + beta * log_ratio, (k, -1))
        return ops.log(float(k)) - ops.logsumexp(log_weights, axis=0)

    def _update_trackers(self, terms, x, labels=None, training=False):
        # Weight each batch by its size so a short last batch does not skew means.
        batch_size = ops.cast(ops.shape(x)[0], "float32")
        for tracker in self.trackers:
            tracker.update_state(terms[tracker.name], sample_weight=batch_size)
        logs = {tracker.name: tracker.result() for tracker in self.trackers}
        if training:
            # Not metrics: `evaluate` leaves them out, `fit` logs their value
            # at the end of the epoch (its logs are then the last step's).
            logs.update({k: terms[k] for k in ("beta", "capacity") if k in terms})
        return logs

    # Serialization.

    def get_config(self):
        regularizer = self.kl_regularizer.get_config()
        return {
            **super().get_config(),
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "beta": regularizer["beta"],
            "parameterization": self.parameterization,
            "likelihood": keras.saving.serialize_keras_object(self.likelihood),
            "seed": self.seed,
            "free_bits": self.free_bits,
            "capacity": regularizer["capacity"],
            "penalty": keras.saving.serialize_keras_object(self.penalty),
            "prior": keras.saving.serialize_keras_object(self.prior),
            "num_samples": self.num_samples,
            "dequantize": self.dequantize,
            **self.data_space_config(),
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        for key in ("beta", "capacity"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key])
        config["likelihood"] = likelihoods.get(config["likelihood"])
        for key in ("penalty", "prior"):
            if config.get(key) is not None:
                config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


def _check_dequantize(dequantize, likelihood):
    """Raises unless `dequantize` is a boolean, and on a likelihood of
    discrete values, which has nothing to dequantize."""
    if not isinstance(dequantize, bool):
        raise ValueError(
            "Invalid value received for argument `dequantize`. Expected True or "
            f"False. Received: dequantize={dequantize!r}"
        )
    if dequantize and likelihood.discrete:
        raise ValueError(
            "Dequantization spreads each pixel level over its bin, for a density "
            "likelihood: expected a Gaussian or continuous Bernoulli one. "
            f"Received: dequantize=True with likelihood={type(likelihood).__name__}, "
            "which models the discrete values themselves."
        )
    return dequantize


def _tiled(tensor, k):
    """`k` copies of a batch, one after the other along the batch axis."""
    return ops.tile(tensor, (k,) + (1,) * (len(tensor.shape) - 1))
