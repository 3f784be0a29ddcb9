import numbers

from keras_vae import architectures, defaults
from keras_vae.models import ConditionalVAE
from tuning.vae_hypermodel import VAEHyperModel, _draw, _space


class ConditionalVAEHyperModel(VAEHyperModel):
    """KerasTuner search space over the original study's conv conditional VAE.

    Searches `latent_dim`, `beta` and optionally `filters` (the first
    convolution's width; the second has twice as many) and `learning_rate`,
    with the same rules as `VAEHyperModel`. Search with
    `tuner.search(x, labels, validation_data=(x_val, labels_val), ...)`.

    Args:
        input_shape: Tuple `(height, width, channels)`.
        num_classes: Integer, number of classes.
        filters: Integer, `(min, max)` or list. Defaults to `32`.
        **kwargs: The other arguments of `VAEHyperModel` except
            `hidden_units`.

    Example:

    ```python
    import keras_tuner
    import tuning

    hypermodel = tuning.ConditionalVAEHyperModel((8, 8, 1), num_classes=10)
    model = hypermodel.build(keras_tuner.HyperParameters())
    print(model.num_classes)  # 10
    ```
    """

    def __init__(self, input_shape, num_classes, filters=defaults.FILTERS, **kwargs):
        if "hidden_units" in kwargs:
            raise ValueError(
                "ConditionalVAEHyperModel searches `filters`, not `hidden_units`."
            )
        if (
            isinstance(num_classes, bool)
            or not isinstance(num_classes, numbers.Integral)
            or num_classes < 1
        ):
            raise ValueError(
                "Invalid value received for argument `num_classes`. Expected a "
                f"positive integer. Received: num_classes={num_classes!r}"
            )
        super().__init__(input_shape, **kwargs)
        if len(self.input_shape) != 3:
            raise ValueError(
                "ConditionalVAEHyperModel needs input_shape (height, width, channels). "
                f"Received: input_shape={input_shape}"
            )
        self.num_classes = int(num_classes)
        self.filters = _space("filters", filters, integer=True, minimum=1)

    conditional = True

    def _draw_architecture(self, hp):
        return {"filters": _draw(hp, "filters", self.filters, default=defaults.FILTERS)}

    def _model(self, values):
        encoder, decoder = architectures.conv_conditional(
            self.input_shape,
            values["latent_dim"],
            self.num_classes,
            filters=(values["filters"], 2 * values["filters"]),
            parameters_per_value=self._parameters_per_value(),
        )
        return ConditionalVAE(
            encoder,
            decoder,
            num_classes=self.num_classes,
            **self._model_arguments(values),
        )

    def _build_shape(self):
        return [(None, *self.input_shape), (None,)]

    def get_config(self):
        config = super().get_config()
        config.pop("hidden_units")
        return {**config, "num_classes": self.num_classes, "filters": self.filters}
