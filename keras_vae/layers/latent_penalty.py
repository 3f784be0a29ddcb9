import keras
from keras import ops

from keras_vae import checks
from keras_vae import parameterization as param_lib


class LatentPenalty(keras.layers.Layer):
    """Base class of the penalties on a VAE's codes that disentangling objectives add.

    A penalty sees a batch's posterior means and standard deviations and the
    codes sampled from them, and returns a scalar loss plus named terms to
    report. Pass one to a model (`keras_vae.models.VAE(..., penalty=...)`),
    which adds the loss to its objective and reports the terms as metrics;
    or call it in a model of your own as a pass-through layer on
    `[mean, raw_scale, z]`, which adds the loss with `add_loss` (as
    `KLRegularizer` does for the KL term).

    Subclasses set `term_names` and implement `penalty_terms`.

    Args:
        weight: Float, the penalty's weight, `>= 0`.
        parameterization: String, how a raw scale maps to sigma when the
            layer is called on `[mean, raw_scale, z]`: `"softplus"` or
            `"log_var"`. Defaults to `"softplus"`. (A model passes sigma
            itself and ignores it.)
        **kwargs: Base layer keyword arguments, such as `name`.

    Call arguments:
        inputs: List of three tensors `[mean, raw_scale, z]` of equal shape
            `(batch_size, latent_dim)`.
        training: Python boolean, whether the layer runs in training mode.

    Output shape:
        The same three tensors, unchanged.
    """

    # The terms `penalty_terms` returns besides "penalty", for the logs.
    term_names = ()
    # Whether the penalty compares a batch's examples with each other, so
    # that a batch of one is an error.
    needs_pairs = False

    def __init__(self, weight, parameterization="softplus", **kwargs):
        weight = checks.finite_number("weight", weight, 0)
        param_lib.validate_parameterization(parameterization)
        super().__init__(**kwargs)
        self.weight = weight
        self.parameterization = parameterization

    def penalty_terms(self, mean, sigma, z, training=False):
        """The penalty on a batch of codes.

        Args:
            mean: Tensor `(batch_size, latent_dim)`, the posterior means.
            sigma: Tensor of the same shape, the posterior standard deviations.
            z: Tensor of the same shape, a sample of the posteriors.
            training: Python boolean, whether the step trains.

        Returns:
            Dict of scalar float32 tensors: `"penalty"` (weighted, added to the
            model's loss) and every name in `term_names`.
        """
        raise NotImplementedError

    @property
    def optimizer(self):
        """The optimizer of the penalty's own weights (a discriminator), or `None`."""
        return None

    @property
    def own_variables(self):
        """The weights that `optimizer` trains on `"discriminator_loss"`, not the
        model's optimizer."""
        return []

    def build(self, input_shape):
        shapes = [tuple(shape) for shape in input_shape]
        if len(shapes) != 3 or len({len(shape) for shape in shapes}) != 1:
            raise ValueError(
                f"Layer '{self.name}' expects a list of three tensors "
                "[mean, raw_scale, z] of equal shape. "
                f"Received: input_shape={input_shape}"
            )
        if len(shapes[0]) != 2:
            raise ValueError(
                f"Layer '{self.name}' expects codes of shape (batch_size, latent_dim). "
                f"Received: input_shape={input_shape}"
            )

    def call(self, inputs, training=None):
        mean, raw_scale, z = inputs
        sigma = param_lib.scale(ops.cast(raw_scale, "float32"), self.parameterization)
        terms = self.penalty_terms(mean, sigma, z, training=bool(training))
        loss = terms["penalty"]
        if "discriminator_loss" in terms:
            # One optimizer for everything: the discriminator's loss reaches
            # only its weights, the penalty only the encoder (stop gradients).
            loss = loss + terms["discriminator_loss"]
        self.add_loss(loss)
        return mean, raw_scale, z

    def compute_output_shape(self, input_shape):
        return tuple(tuple(shape) for shape in input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "weight": self.weight,
            "parameterization": self.parameterization,
        }


def gaussian_log_density(z, mean, sigma):
    """log N(z; mean, sigma^2) elementwise, float32."""
    z, mean, sigma = (ops.cast(t, "float32") for t in (z, mean, sigma))
    return -0.5 * (
        param_lib.LOG_2PI + 2.0 * ops.log(sigma) + ops.square((z - mean) / sigma)
    )


def batch_of_two_or_more(layer, tensor):
    """Raises on a batch whose static size is 1 (no pairs to compare)."""
    if tensor.shape[0] == 1:
        raise ValueError(pairs_message(layer))


def pairs_message(layer, detail=""):
    return (
        f"{type(layer).__name__} compares the examples of a batch with each "
        f"other, and a batch of one has none to compare{detail}. Use batches of "
        "2 or more examples, and a batch size that leaves no last batch of one."
    )
