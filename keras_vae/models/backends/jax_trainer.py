import jax
import keras


class JAXTrainer:
    """The VAE steps on JAX: stateless, `jax.value_and_grad` of the ELBO.

    Every variable the step reads comes in through `state` and every one it
    changes goes out through it, as in Keras' own JAX trainer: the weights, the
    non-trainable variables (beta, the capacity, the sampling seed), the
    optimizer's and the metrics'. So a beta that a callback assigns between
    two batches reaches the next compiled step as data, not as a constant
    baked in when the step was traced.
    """

    def stateless_compute_elbo_terms(
        self,
        trainable_variables,
        non_trainable_variables,
        x,
        labels=None,
        target=None,
        training=False,
    ):
        """`compute_elbo_terms` on given variable values, for `jax.grad`.

        Returns:
            Tuple `(terms, non_trainable_variables)`: the loss terms, and the
            non-trainable variables' values after the step (the sampling
            seed advances).
        """
        mapping = _pairs(self.trainable_variables, trainable_variables) + _pairs(
            self.non_trainable_variables, non_trainable_variables
        )
        with keras.StatelessScope(state_mapping=mapping, collect_losses=True) as scope:
            terms = self.compute_elbo_terms(x, labels, target, training=training)
        return terms, [scope.get_current_value(v) for v in self.non_trainable_variables]

    def _scaled_loss_and_updates(
        self,
        trainable_variables,
        own_variables,
        non_trainable_variables,
        optimizer_variables,
        x,
        labels,
        target,
    ):
        # A penalty's discriminator weights are the last non-trainable
        # variables (`VAE.non_trainable_variables`), differentiated here too.
        if own_variables:
            kept = len(non_trainable_variables) - len(own_variables)
            non_trainable_variables = (
                list(non_trainable_variables[:kept]) + own_variables
            )
        terms, non_trainable_variables = self.stateless_compute_elbo_terms(
            trainable_variables,
            non_trainable_variables,
            x,
            labels,
            target,
            training=True,
        )
        loss = terms["loss"]
        if own_variables:
            # Reaches only the discriminator's weights (stop gradients).
            loss = loss + terms["discriminator_loss"]
        mapping = _pairs(self.optimizer.variables, optimizer_variables)
        with keras.StatelessScope(state_mapping=mapping):
            loss = self.optimizer.scale_loss(loss)
        return loss, (terms, non_trainable_variables)

    def _stateless_update_trackers(
        self, metrics_variables, terms, x, labels, training=False
    ):
        mapping = _pairs(self.metrics_variables, metrics_variables)
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = self._update_trackers(terms, x, labels, training=training)
        return logs, [scope.get_current_value(v) for v in self.metrics_variables]

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_variables, metrics_variables = state
        x, labels, target = self._unpack_batch(data)
        own = self._penalty_variables()
        own_values = list(non_trainable[len(non_trainable) - len(own) :]) if own else []
        gradient_function = jax.value_and_grad(
            self._scaled_loss_and_updates, argnums=(0, 1), has_aux=True
        )
        (_, (terms, non_trainable)), (gradients, own_gradients) = gradient_function(
            trainable,
            own_values,
            non_trainable,
            optimizer_variables,
            x,
            labels,
            target,
        )
        trainable, optimizer_variables = self.optimizer.stateless_apply(
            optimizer_variables, gradients, trainable
        )
        if own:
            non_trainable = self._apply_penalty_optimizer(
                non_trainable, own_values, own_gradients
            )
        logs, metrics_variables = self._stateless_update_trackers(
            metrics_variables, terms, x, labels, training=True
        )
        return logs, (trainable, non_trainable, optimizer_variables, metrics_variables)

    def _apply_penalty_optimizer(self, non_trainable, own_values, own_gradients):
        """The discriminator's step with the penalty's own optimizer, whose
        variables are non-trainable variables of the model."""
        optimizer = self.penalty.optimizer
        positions = {id(v): i for i, v in enumerate(self.non_trainable_variables)}
        slots = [positions[id(v)] for v in optimizer.variables]
        own_values, optimizer_values = optimizer.stateless_apply(
            [non_trainable[i] for i in slots], own_gradients, own_values
        )
        non_trainable = list(non_trainable)
        for i, value in zip(slots, optimizer_values, strict=True):
            non_trainable[i] = value
        non_trainable[len(non_trainable) - len(own_values) :] = own_values
        return non_trainable

    def _get_jax_state(
        self,
        trainable_variables=False,
        non_trainable_variables=False,
        optimizer_variables=False,
        metrics_variables=False,
        purge_model_variables=False,
    ):
        """Keras' `_get_jax_state`, keeping the state it purges where a failed
        call finds it.

        Keras' `fit`, `evaluate` and `predict` drop the variables' values while
        the compiled steps carry them, then put back the last step's state
        (`jax_state_sync`). When the first step fails (a shape error while
        tracing, Ctrl-C during compilation) there is no last step's state, and
        every variable was left without a value: a trained model lost its
        weights to one wrong call. The state taken here is that state until a
        step returns a newer one.
        """
        wanted = {
            "trainable_variables": trainable_variables,
            "non_trainable_variables": non_trainable_variables,
            "optimizer_variables": optimizer_variables,
            "metrics_variables": metrics_variables,
        }
        state = super()._get_jax_state(**wanted, purge_model_variables=False)
        if purge_model_variables:
            self._jax_state = dict(
                zip([kind for kind, on in wanted.items() if on], state, strict=True)
            )
            self._purge_model_variables(**wanted)
        return state

    def evaluate(self, *args, **kwargs):
        return self._state_back_on_error(super().evaluate, *args, **kwargs)

    def predict(self, *args, **kwargs):
        return self._state_back_on_error(super().predict, *args, **kwargs)

    def _state_back_on_error(self, call, *args, **kwargs):
        # Keras' JAX `evaluate` and `predict` put the state back only when
        # they finish; `fit` does it in a `finally`.
        try:
            return call(*args, **kwargs)
        except BaseException:
            self.jax_state_sync()
            raise

    def make_train_function(self, force=False):
        """Runs `steps_per_execution` batches in one compiled call.

        Keras' own JAX trainer calls its compiled step from Python once per
        batch whatever `steps_per_execution` is. On a CPU that Python work
        (the data iterator, the callbacks, re-attaching the state) competes
        with the step's own threads. Here one compiled call stacks N batches
        and runs the step over them with `jax.lax.scan`, so that work happens
        once every N batches, as on TensorFlow. A short remainder (fewer than
        N batches, or a smaller last batch) runs one compiled step per batch,
        so no shape is compiled twice. On a CPU a step with an XLA convolution
        also runs one compiled call per batch: XLA's CPU backend ran the conv
        CVAE 6x slower inside the loop (docs/benchmarks.md). The
        architectures' `keras_vae.layers.Conv2D` and `Conv2DTranspose` run as
        matrix products on JAX and leave no XLA convolution, so their models
        scan. Keras' own path is
        kept for `run_eagerly`, `jit_compile=False`, a `keras.distribution`,
        and NNX.
        """
        if self.train_function is not None and not force:
            return
        if (
            self.steps_per_execution == 1
            or self.run_eagerly
            or not self.jit_compile
            or keras.distribution.distribution() is not None
            or keras.config.is_nnx_enabled()
        ):
            return super().make_train_function(force=force)
        steps = self.steps_per_execution
        train_step = jax.jit(self.train_step, donate_argnums=0)
        train_steps = jax.jit(self._scanned_train_steps, donate_argnums=0)
        scan = None  # decided at the first full group of batches

        def iterator_step(state, iterator):
            nonlocal scan
            batches = [next(iterator)]
            try:
                while len(batches) < steps:
                    batches.append(next(iterator))
            except StopIteration:
                pass
            if len(batches) == steps and _same_shapes(batches):
                if scan is None:
                    scan = self._scan_pays(state, batches[0])
                if scan:
                    return train_steps(state, tuple(batches))
            for data in batches:
                logs, state = train_step(state, data)
            return logs, state

        self.train_function = iterator_step

    def _scan_pays(self, state, data):
        if jax.default_backend() != "cpu":
            return True
        jaxpr = jax.make_jaxpr(self.train_step)(state, data)
        return "conv_general_dilated" not in str(jaxpr)

    def _scanned_train_steps(self, state, batches):
        def body(state, data):
            logs, state = self.train_step(state, data)
            return state, logs

        stacked = jax.tree.map(lambda *values: jax.numpy.stack(values), *batches)
        state, logs = jax.lax.scan(body, state, stacked)
        return jax.tree.map(lambda values: values[-1], logs), state

    def test_step(self, state, data):
        trainable, non_trainable, metrics_variables = state
        x, labels, target = self._unpack_batch(data)
        terms, non_trainable = self.stateless_compute_elbo_terms(
            trainable, non_trainable, x, labels, target, training=False
        )
        logs, metrics_variables = self._stateless_update_trackers(
            metrics_variables, terms, x, labels
        )
        return logs, (trainable, non_trainable, metrics_variables)


def _same_shapes(batches):
    shapes = [
        [getattr(leaf, "shape", None) for leaf in jax.tree.leaves(data)]
        for data in batches
    ]
    return all(shape == shapes[0] for shape in shapes)


def _pairs(variables, values):
    return list(zip(variables, values, strict=True))
