import tensorflow as tf

from keras_vae import private_api


class TensorFlowTrainer:
    """The VAE steps on TensorFlow: one `GradientTape` around the ELBO."""

    def make_train_function(self, force=False):
        """Keras' training function, with the optimizer's variables made first.

        Without a distribution strategy Keras' TensorFlow trainer leaves the
        optimizer unbuilt until the step is traced, and variables made inside
        a `tf.function` trace are lifted out of it one by one: the first `fit`
        of a new model took 3.7 s instead of 2.2 s (MLP VAE, 256 images, on
        the 2-core machine of docs/benchmarks.md). Made here, eagerly, once
        the encoder and the decoder are built (the model's own layers make
        no variables when they build); a network that builds on its first
        call keeps Keras' way.
        """
        if (
            self.train_function is None or force
        ) and self._optimizer_can_be_built_now():
            with self.distribute_strategy.scope():
                self.optimizer.build(self.trainable_variables)
        return super().make_train_function(force)

    def _optimizer_can_be_built_now(self):
        return (
            self.optimizer is not None
            and not self.optimizer.built
            and self.encoder.built
            and self.decoder.built
        )

    def train_step(self, data):
        x, labels, target = self._unpack_batch(data)
        own = self._penalty_variables()
        with tf.GradientTape() as tape:
            terms = self.compute_elbo_terms(x, labels, target, training=True)
            loss = terms["loss"]
            if own:
                # Reaches only the discriminator's weights (stop gradients).
                loss = loss + terms["discriminator_loss"]
            replicas = self.distribute_strategy.num_replicas_in_sync
            if replicas > 1:
                # Each replica averages its own batch; gradients are summed.
                loss = loss / replicas
            loss = self.optimizer.scale_loss(loss)
        weights = self.trainable_weights
        gradients = tape.gradient(loss, weights + own)
        self.optimizer.apply_gradients(
            zip(gradients[: len(weights)], weights, strict=True)
        )
        if own:
            self.penalty.optimizer.apply_gradients(
                zip(gradients[len(weights) :], own, strict=True)
            )
        logs = self._update_trackers(terms, x, labels, training=True)
        return self._replica_logs(logs)

    def test_step(self, data):
        x, labels, target = self._unpack_batch(data)
        terms = self.compute_elbo_terms(x, labels, target, training=False)
        return self._replica_logs(self._update_trackers(terms, x, labels))

    def _replica_logs(self, logs):
        # Keras 3 averages a multi-worker step's logs over the replicas with
        # strategy.reduce("MEAN", value, axis=0), which fails on scalars
        # (tensorflow/tensorflow#72388); with a leading axis of 1 each log
        # reduces to the scalar Keras expects.
        strategy = self.distribute_strategy
        if isinstance(
            strategy, tf.distribute.MultiWorkerMirroredStrategy
        ) and private_api.in_multi_worker_mode(strategy):
            return {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs
