import keras
from keras import ops

from keras_vae import checks, defaults
from keras_vae import parameterization as param_lib
from keras_vae.priors.prior import Prior


@keras.saving.register_keras_serializable(package="keras_vae")
class VampPrior(Prior):
    """The variational mixture of posteriors: the prior is the encoder's
    posterior at `num_components` learned pseudo-inputs.

    p(z) = (1/K) sum_k q(z | u_k), where the pseudo-inputs u_k have the
    shape of the model's inputs (in the networks' space) and train with the
    networks. The optimal prior of the ELBO is the aggregate posterior
    (1/N) sum_n q(z | x_n); the VampPrior approximates it with K learned
    inputs. Each evaluation of p(z) runs the encoder on the K pseudo-inputs
    (in inference mode), so a step costs K more encoder passes.

    The pseudo-inputs start at draws of N(0, 0.01^2); `initialize(x)` sets
    them to inputs of the training set instead (`keras-vae train` does).
    Unconditional models only: a conditional encoder would need a label per
    pseudo-input (use `ClassPrior` for a `ConditionalVAE`).

    Reference:
        Tomczak and Welling, "VAE with a VampPrior", AISTATS 2018.

    Args:
        num_components: Integer >= 1, the number of pseudo-inputs K. Defaults
            to `50`.
        seed: Integer or `None`, seed of the initial pseudo-inputs. Defaults
            to `None`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    encoder, decoder = keras_vae.architectures.mlp(input_shape=(8, 8), latent_dim=2)
    prior = keras_vae.priors.VampPrior(num_components=8, seed=0)
    vae = keras_vae.models.VAE(encoder, decoder, prior=prior)
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(64, 8, 8)).astype("float32")
    vae.build(x.shape)
    prior.initialize(x[:8])  # start from training inputs
    vae.fit(x, epochs=1, batch_size=16, verbose=0)
    print(prior.pseudo_inputs.shape)  # (8, 8, 8)
    ```
    """

    def __init__(self, num_components=defaults.VAMP_COMPONENTS, seed=None, **kwargs):
        num_components = checks.positive_integer("num_components", num_components)
        super().__init__(**kwargs)
        self.num_components = num_components
        self.seed = seed

    def build(self, input_shape):
        super().build(input_shape)
        self.pseudo_inputs = self.add_weight(
            shape=(self.num_components,) + self.data_shape,
            initializer=keras.initializers.RandomNormal(stddev=0.01, seed=self.seed),
            name="pseudo_inputs",
        )

    def initialize(self, x):
        """Sets the pseudo-inputs to `num_components` inputs.

        Args:
            x: Array `(num_components,) + input_shape` in the networks' space.
        """
        x = ops.convert_to_numpy(x)
        expected = (self.num_components,) + self.data_shape
        if tuple(x.shape) != expected:
            raise ValueError(
                f"VampPrior.initialize expects {self.num_components} inputs of "
                f"shape {self.data_shape}: an array of shape {expected}. "
                f"Received: shape {tuple(x.shape)}"
            )
        self.pseudo_inputs.assign(x.astype(self.pseudo_inputs.dtype))

    @property
    def description(self):
        return f"a VampPrior of {self.num_components} pseudo-inputs"

    def components(self, model, labels=None):
        mean, raw_scale = model.encoder_outputs(self.pseudo_inputs, training=False)
        means = ops.reshape(ops.cast(mean, "float32"), (self.num_components, -1))
        sigmas = param_lib.scale(
            ops.reshape(ops.cast(raw_scale, "float32"), (self.num_components, -1)),
            model.parameterization,
        )
        return ops.zeros((self.num_components,), "float32"), means, sigmas

    def get_config(self):
        return {
            **super().get_config(),
            "num_components": self.num_components,
            "seed": self.seed,
        }
