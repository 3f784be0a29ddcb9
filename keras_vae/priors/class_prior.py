import math

import keras
from keras import ops

from keras_vae import checks
from keras_vae.priors.prior import Prior

_UNIT_SCALE = math.log(math.e - 1.0)


@keras.saving.register_keras_serializable(package="keras_vae")
class ClassPrior(Prior):
    """A learned conditional prior p(z | y) for a `ConditionalVAE`: one
    Gaussian per class, N(mu_y, diag(sigma_y^2)), or a mixture of
    `num_components` Gaussians per class.

    Under the standard prior N(0, I) the codes of every class must crowd
    around the origin, and a conditioned sample draws z where that class's
    codes may not be. A learned Gaussian per class puts each class's prior
    where its codes are, so `sample(labels=...)` draws from it. Every class
    starts at N(0, I) (the standard prior), and the KL term keeps its closed
    form (two Gaussians). The codes of one class need not be one Gaussian:
    with `num_components=K > 1` each class gets a learned mixture of K (the
    means start at draws from N(0, I), as `MixturePrior`'s), and the KL term
    is the one-sample estimate log q(z|x, y) - log p(z|y).

    Reference:
        Sohn, Lee and Yan, "Learning Structured Output Representation using
        Deep Conditional Generative Models", NeurIPS 2015 (the prior network
        p(z | y)).

    Args:
        num_classes: Integer >= 2, the model's number of classes.
        num_components: Integer >= 1, the Gaussians per class. Defaults to
            `1`.
        seed: Integer or `None`, seed of the initial means of a mixture.
            Defaults to `None`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:

    ```python
    import numpy as np
    import keras_vae

    encoder, decoder = keras_vae.architectures.conv_conditional(
        input_shape=(8, 8, 1), latent_dim=2, num_classes=3
    )
    vae = keras_vae.models.ConditionalVAE(
        encoder, decoder, num_classes=3, prior=keras_vae.priors.ClassPrior(3)
    )
    vae.compile(optimizer="adam")
    x = np.random.default_rng(0).normal(size=(60, 8, 8, 1)).astype("float32")
    y = np.arange(60) % 3
    vae.fit(x, y, epochs=1, batch_size=20, verbose=0)
    print(vae.sample(labels=[0, 1, 2], seed=0).shape)  # (3, 8, 8, 1)
    ```
    """

    conditional = True

    def __init__(self, num_classes, num_components=1, seed=None, **kwargs):
        num_classes = checks.positive_integer("num_classes", num_classes, minimum=2)
        num_components = checks.positive_integer("num_components", num_components)
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.num_components = num_components
        self.seed = seed

    def build(self, input_shape):
        super().build(input_shape)
        latent_size = math.prod(self.latent_shape)
        if self.num_components == 1:
            shape, means = (self.num_classes, latent_size), "zeros"
        else:
            shape = (self.num_classes, self.num_components, latent_size)
            means = keras.initializers.RandomNormal(seed=self.seed)
            self.logits = self.add_weight(
                shape=shape[:2], initializer="zeros", name="logits"
            )
        self.means = self.add_weight(shape=shape, initializer=means, name="means")
        self.raw_scales = self.add_weight(
            shape=shape,
            initializer=keras.initializers.Constant(_UNIT_SCALE),
            name="raw_scales",
        )

    def components(self, model, labels=None):
        if labels is None:
            raise ValueError(
                "ClassPrior is a prior p(z | y): it needs the labels of the codes."
            )
        labels = ops.cast(ops.reshape(labels, (-1,)), "int32")
        means = ops.take(ops.cast(self.means, "float32"), labels, axis=0)
        sigmas = ops.softplus(
            ops.take(ops.cast(self.raw_scales, "float32"), labels, axis=0)
        )
        sigmas = sigmas + 1e-6
        if self.num_components > 1:
            logits = ops.take(ops.cast(self.logits, "float32"), labels, axis=0)
            return logits, means, sigmas
        return ops.zeros_like(means[:, :1]), means[:, None], sigmas[:, None]

    @property
    def description(self):
        if self.num_components == 1:
            return "a learned Gaussian per class"
        return f"a learned mixture of {self.num_components} Gaussians per class"

    @property
    def closed_form_kl(self):
        return self.num_components == 1

    def kl_divergence(self, mean, sigma, z, model, labels=None):
        """KL(q(z|x,y) || p(z|y)): in closed form for one Gaussian per class,
        else the one-sample estimate at `z`."""
        if self.num_components > 1:
            return super().kl_divergence(mean, sigma, z, model, labels)
        _, prior_means, prior_sigmas = self.components(model, labels)
        prior_means, prior_sigmas = prior_means[:, 0], prior_sigmas[:, 0]
        mean, sigma = ops.cast(mean, "float32"), ops.cast(sigma, "float32")
        ratio = ops.square(sigma / prior_sigmas)
        return 0.5 * ops.sum(
            ratio
            + ops.square((mean - prior_means) / prior_sigmas)
            - 1.0
            - ops.log(ratio),
            axis=-1,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "num_components": self.num_components,
            "seed": self.seed,
        }
