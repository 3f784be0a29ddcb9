"""`compile` of the keras_vae models, and its counterpart when a file loads."""

import keras

from keras_vae import private_api
from keras_vae.models.backends import auto_steps_per_execution


class Compiling:
    """Takes only the optimizer; picks the backend's fastest
    `steps_per_execution`; restores the optimizer when a file loads, on any
    backend."""

    def compile(
        self,
        optimizer="adam",
        loss=None,
        metrics=None,
        steps_per_execution="auto",
        **kwargs,
    ):
        """Configures the model for training.

        Args:
            optimizer: String or `keras.optimizers.Optimizer`. Defaults to
                `"adam"`.
            loss: Must be `None`: the model computes its own loss.
            metrics: Must be `None`: the model reports its own metrics.
            steps_per_execution: Integer or `"auto"`, how many batches one
                call of the compiled training function processes. `"auto"`
                (the default) takes the fastest measured value of the backend
                (`keras_vae.models.backends.AUTO_STEPS_PER_EXECUTION`): 32 on
                TensorFlow and JAX, 1 on PyTorch; 1 for a model built under a
                `tf.distribute` strategy, where Keras' multi-step loop fails.
                Schedules given to the model are exact at every step whatever
                it is; per-batch callback hooks (`on_train_batch_begin/end`)
                run once every N batches. Pass `1` for hooks at every batch.
            **kwargs: Other arguments of `keras.Model.compile`, such as
                `run_eagerly` or `jit_compile`. On PyTorch, `jit_compile`
                `"auto"` (the default) traces the training step into one
                graph that replays for every batch, `True` also compiles that
                graph with TorchInductor, and `False` keeps Keras' eager step
                (`keras_vae.models.backends.torch_trainer`).
        """
        if loss is not None or metrics:
            raise ValueError(
                f"{type(self).__name__} computes its own loss and metrics (loss, "
                "reconstruction_loss, kl_loss, elbo): pass only the optimizer to "
                f"`compile`. Received: loss={loss!r}, metrics={metrics!r}"
            )
        self._requested_jit_compile = kwargs.get("jit_compile", "auto")
        if steps_per_execution == "auto":
            steps_per_execution = auto_steps_per_execution(self)
        super().compile(
            optimizer=optimizer, steps_per_execution=steps_per_execution, **kwargs
        )

    def compile_from_config(self, config):
        # Keras skips compiling on load when `compile` is overridden; this one
        # only adds checks, so restore the optimizer (and its state) as usual.
        if "optimizer" in config:
            optimizer = private_api.portable_optimizer_config(config["optimizer"])
            config = {**config, "optimizer": optimizer}
        config = keras.saving.deserialize_keras_object(config)
        # How steps execute belongs to the backend that saved the file (JAX's
        # jit_compile=True would mean torch.compile on PyTorch, and PyTorch
        # refuses steps_per_execution > 1): the loading backend chooses anew.
        config.pop("jit_compile", None)
        config.pop("steps_per_execution", None)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)
