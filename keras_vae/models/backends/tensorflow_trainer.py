import tensorflow as tf


class TensorFlowTrainer:
    """The VAE steps on TensorFlow: one `GradientTape` around the ELBO."""

    def train_step(self, data):
        x, labels, target = self._unpack_batch(data)
        with tf.GradientTape() as tape:
            terms = self.compute_elbo_terms(x, labels, target, training=True)
            loss = terms["loss"]
            replicas = self.distribute_strategy.num_replicas_in_sync
            if replicas > 1:
                # Each replica averages its own batch; gradients are summed.
                loss = loss / replicas
            loss = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(
            zip(gradients, self.trainable_weights, strict=True)
        )
        return self._update_trackers(terms, x)

    def test_step(self, data):
        x, labels, target = self._unpack_batch(data)
        terms = self.compute_elbo_terms(x, labels, target, training=False)
        return self._update_trackers(terms, x)
