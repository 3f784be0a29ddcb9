import torch


class TorchTrainer:
    """The VAE steps on PyTorch: `loss.backward()` through the ELBO."""

    def train_step(self, data):
        x, labels, target = self._unpack_batch(data)
        self.zero_grad()
        terms = self.compute_elbo_terms(x, labels, target, training=True)
        own = self._penalty_variables()
        loss = terms["loss"]
        if own:
            # Reaches only the discriminator's weights (stop gradients).
            loss = loss + terms["discriminator_loss"]
        self.optimizer.scale_loss(loss).backward()
        weights = self.trainable_weights[:]
        with torch.no_grad():
            self.optimizer.apply([v.value.grad for v in weights], weights)
            if own:
                self.penalty.optimizer.apply([v.value.grad for v in own], own)
            return self._update_trackers(terms, x, labels, training=True)

    def test_step(self, data):
        x, labels, target = self._unpack_batch(data)
        with torch.no_grad():
            terms = self.compute_elbo_terms(x, labels, target, training=False)
            return self._update_trackers(terms, x, labels)
