import keras
from keras import ops

from keras_vae import checks
from keras_vae.layers.latent_penalty import LatentPenalty, batch_of_two_or_more


@keras.saving.register_keras_serializable(package="keras_vae")
class FactorVAEPenalty(LatentPenalty):
    """The FactorVAE penalty: a discriminator's estimate of the total correlation.

    A discriminator D learns to tell codes z ~ q(z) from codes whose every
    dimension was shuffled across the batch independently (samples of
    prod_j q(z_j)). Its logit, log D(z) / (1 - D(z)), estimates
    log q(z) / prod_j q(z_j), whose mean is the total correlation; the
    penalty is `weight` times that mean (Kim and Mnih 2018). As in
    disentanglement_lib, the shuffled codes come from the same batch.

    The discriminator trains on its own loss (binary cross-entropy of real
    against shuffled codes), reported as `discriminator_loss`, with its own
    optimizer: a `keras_vae.models.VAE` given this penalty applies that
    optimizer to the discriminator's weights inside its training step and
    its own optimizer to the rest, and the `.keras` file keeps both
    optimizers' state. The penalty reaches only the encoder and the
    discriminator's loss only the discriminator (stop gradients), so in a
    model of your own, where `call` adds both losses, one optimizer trains
    both correctly, at one learning rate.

    The discriminator's weights and its optimizer's state are non-trainable
    weights of the model (`model.trainable_weights` are what the model's
    optimizer updates).

    Reference:
        Kim and Mnih, "Disentangling by Factorising", ICML 2018.

    Args:
        weight: Float, gamma, the weight of the total correlation, `>= 0`.
            Defaults to `40.0`.
        discriminator: Keras layer or model mapping codes
            `(batch_size, latent_dim)` to one logit `(batch_size, 1)`, or
            `None` for Kim and Mnih's: 6 Dense layers of `units` units with
            LeakyReLU(0.2). Defaults to `None`.
        units: Integer, the default discriminator's width. Defaults to `1000`.
        optimizer: A `keras.optimizers.Optimizer` (or its name) for the
            discriminator, or `None` for Kim and Mnih's
            `Adam(1e-4, beta_1=0.5, beta_2=0.9)`. Defaults to `None`.
        seed: Integer or `None`, seed of the shuffles. Defaults to `None`.
        parameterization: String, how a raw scale maps to sigma when called
            on `[mean, raw_scale, z]`. Defaults to `"softplus"`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: List `[mean, raw_scale, z]` of tensors
            `(batch_size, latent_dim)`, batches of 2 or more.
        training: Python boolean, whether the layer runs in training mode.

    Output shape:
        The same three tensors, unchanged.

    Example:

    ```python
    import numpy as np
    import keras_vae

    encoder, decoder = keras_vae.architectures.mlp(input_shape=(8, 8), latent_dim=4)
    penalty = keras_vae.layers.FactorVAEPenalty(weight=10.0, units=64, seed=0)
    vae = keras_vae.models.VAE(encoder, decoder, penalty=penalty)
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(256, 8, 8)).astype("float32")
    history = vae.fit(x, epochs=1, batch_size=64, verbose=0)
    print(round(history.history["discriminator_accuracy"][0], 2))
    ```
    """

    term_names = ("total_correlation", "discriminator_loss", "discriminator_accuracy")
    needs_pairs = True

    def __init__(
        self,
        weight=40.0,
        discriminator=None,
        units=1000,
        optimizer=None,
        seed=None,
        **kwargs,
    ):
        units = checks.positive_integer("units", units)
        if discriminator is not None and not isinstance(
            discriminator, keras.layers.Layer
        ):
            raise TypeError(
                "Invalid value received for argument `discriminator`. Expected a "
                "Keras layer or model, or None. "
                f"Received: discriminator={discriminator!r}"
            )
        if optimizer is None:
            optimizer = keras.optimizers.Adam(1e-4, beta_1=0.5, beta_2=0.9)
        super().__init__(weight, **kwargs)
        self.units = units
        self.seed = seed
        self.discriminator = discriminator or _discriminator(units)
        # Kept in a list: Keras' saving walks a layer's optimizers as its own
        # and would store their variables twice; the tracked list below
        # stores them once, as this layer's weights.
        self._optimizers = [keras.optimizers.get(optimizer)]
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def optimizer(self):
        return self._optimizers[0]

    @property
    def own_variables(self):
        return self.discriminator.trainable_variables

    def build(self, input_shape):
        super().build(input_shape)
        latent_dim = input_shape[0][-1]
        self.discriminator.build((None, latent_dim))
        logits = self.discriminator.compute_output_shape((None, latent_dim))
        if tuple(logits)[1:] != (1,):
            raise ValueError(
                f"Layer '{self.name}': the discriminator must map codes "
                f"(batch_size, {latent_dim}) to one logit (batch_size, 1). "
                f"Received: output shape {tuple(logits)}"
            )
        self.optimizer.build(self.own_variables)
        self.optimizer_variables = list(self.optimizer.variables)

    def penalty_terms(self, mean, sigma, z, training=False):
        batch_of_two_or_more(self, z)
        z = ops.cast(z, "float32")
        shape = ops.shape(z)
        order = ops.argsort(
            keras.random.uniform(shape, seed=self.seed_generator), axis=0
        )
        shuffled = ops.take_along_axis(z, order, axis=0)
        # The penalty moves the encoder, not the discriminator.
        frozen = [
            ops.stop_gradient(v.value) for v in self.discriminator.trainable_variables
        ]
        fixed = [v.value for v in self.discriminator.non_trainable_variables]
        logits, _ = self.discriminator.stateless_call(frozen, fixed, z)
        total_correlation = ops.mean(ops.cast(logits, "float32"))
        # The discriminator's loss moves the discriminator, not the encoder.
        both = ops.stop_gradient(ops.concatenate([z, shuffled], axis=0))
        logits = ops.cast(self.discriminator(both, training=training), "float32")
        real, permuted = ops.split(ops.reshape(logits, (-1,)), 2)
        discriminator_loss = 0.5 * (
            ops.mean(ops.softplus(-real)) + ops.mean(ops.softplus(permuted))
        )
        accuracy = 0.5 * (
            ops.mean(ops.cast(real > 0, "float32"))
            + ops.mean(ops.cast(permuted < 0, "float32"))
        )
        return {
            "penalty": self.weight * total_correlation,
            "total_correlation": total_correlation,
            "discriminator_loss": discriminator_loss,
            "discriminator_accuracy": accuracy,
        }

    def get_config(self):
        return {
            **super().get_config(),
            "discriminator": keras.saving.serialize_keras_object(self.discriminator),
            "units": self.units,
            "optimizer": keras.optimizers.serialize(self.optimizer),
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["discriminator"] = keras.saving.deserialize_keras_object(
            config["discriminator"]
        )
        config["optimizer"] = keras.optimizers.deserialize(config["optimizer"])
        return cls(**config)


def _discriminator(units):
    layers = []
    for _ in range(6):
        layers += [keras.layers.Dense(units), keras.layers.LeakyReLU(0.2)]
    return keras.Sequential([*layers, keras.layers.Dense(1)], name="discriminator")
