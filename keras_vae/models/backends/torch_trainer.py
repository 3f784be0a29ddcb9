import contextlib
import warnings

import keras
import numpy as np
import torch
from torch.fx.experimental import proxy_tensor

from keras_vae import private_api

# Same-shaped training steps before the step is traced: the first runs eagerly,
# builds whatever Keras creates lazily and shows the step's warnings, and a
# fit of one batch never pays for a trace.
TRACE_AFTER_STEPS = 2


class TorchTrainer:
    """The VAE steps on PyTorch: `torch.autograd.grad` through the ELBO.

    Keras' PyTorch step runs every layer's Python on every batch: about two
    thirds of a small model's step (docs/benchmarks.md). With
    `compile(jit_compile="auto")`, the default, the training step is traced
    once into a graph of PyTorch operations (`torch.fx`: forward, gradients,
    optimizer and metrics) which then replays for every batch of the same
    shapes, as JAX's compiled step does; `jit_compile=True` also compiles that
    graph with TorchInductor. The variables are updated in place as in the
    eager step, so callbacks that assign them between batches (beta, the
    learning rate) reach the next step. Random numbers come from PyTorch's
    global generator (seeded by `keras.utils.set_random_seed`), and Keras'
    `Adam` / `AdamW` update the variables with PyTorch's fused kernel, to
    Keras' arithmetic (`private_api.torch_fused_adam`). A step that
    cannot be traced (Python control flow on a tensor's value) runs eagerly
    after a warning; `jit_compile=False` or `run_eagerly=True` choose Keras'
    eager step.
    """

    def train_step(self, data):
        x, labels, target = self._unpack_batch(data)
        terms = self.compute_elbo_terms(x, labels, target, training=True)
        weights = self.trainable_weights[:]
        own = self._penalty_variables()
        loss = terms["loss"]
        if own:
            # Reaches only the discriminator's weights (stop gradients).
            loss = loss + terms["discriminator_loss"]
        gradients = torch.autograd.grad(
            self.optimizer.scale_loss(loss),
            [v.value for v in weights + own],
            allow_unused=True,
        )
        with torch.no_grad():
            self.optimizer.apply(list(gradients[: len(weights)]), weights)
            if own:
                self.penalty.optimizer.apply(list(gradients[len(weights) :]), own)
            return self._update_trackers(terms, x, labels, training=True)

    def test_step(self, data):
        x, labels, target = self._unpack_batch(data)
        with torch.no_grad():
            terms = self.compute_elbo_terms(x, labels, target, training=False)
            return self._update_trackers(terms, x, labels)

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        jit_compile = getattr(self, "_requested_jit_compile", "auto")
        if (
            self.run_eagerly
            or jit_compile is False
            or self.steps_per_execution > 1
            or not all(map(_traceable, _optimizers(self)))
        ):
            # Keras' own step (and its error for steps_per_execution > 1).
            return super().make_train_function(force=force)
        self.train_function = TracedTrainStep(self, inductor=jit_compile is True)
        return self.train_function


class TracedTrainStep:
    """A model's training step, traced into a graph per batch shape and replayed.

    Called as Keras' PyTorch trainer calls its train function, with a list
    holding one batch. A batch runs eagerly until `TRACE_AFTER_STEPS` batches
    of its shapes have come in a row; that one is traced (the model's
    variables and PyTorch's random state are restored after the trace, so the
    trace changes nothing), and every later batch of those shapes runs the
    graph. So a short last batch, which never repeats, runs eagerly, and a
    new `fit` with another batch size gets a graph of its own. Eager and
    traced steps draw their random numbers from PyTorch's global generator
    and run Keras' Adam as PyTorch's fused kernel alike, so a step gives the
    same numbers whichever of the two runs it.
    """

    def __init__(self, model, inductor=False):
        self.model = model
        self.inductor = inductor
        self.graphs = {}  # batch signature -> graph
        self.uncompiled = {}  # the traced graphs until Inductor's first run
        self.previous = None
        self.repeats = 0
        self.failed = False

    def __call__(self, data):
        # `fit` gives tensors; `train_on_batch` passes the user's arrays on.
        batch = keras.tree.map_structure(_tensor, data[0])
        leaves = keras.tree.flatten(batch)
        signature = tuple(
            (leaf.shape, leaf.dtype) if isinstance(leaf, torch.Tensor) else leaf
            for leaf in leaves
        )
        graph = self.graphs.get(signature)
        self.repeats = self.repeats + 1 if signature == self.previous else 1
        self.previous = signature
        if graph is None:
            if (
                self.failed
                or self.repeats < TRACE_AFTER_STEPS
                or not self._trace(batch, leaves, signature)
            ):
                # The graph's random numbers and arithmetic: the same
                # numbers whichever of the two runs a step (a resumed run
                # traces later in its epoch than the uninterrupted one).
                with self._as_the_graph():
                    return self.model.train_step(batch)
            graph = self.graphs[signature]
        tensors = [leaf for leaf in leaves if isinstance(leaf, torch.Tensor)]
        with torch.no_grad():
            if signature not in self.uncompiled:
                return graph(*tensors)
            try:  # TorchInductor compiles at the first call
                logs = graph(*tensors)
            except Exception as error:  # noqa: BLE001 (falls back, said once)
                warnings.warn(
                    "TorchInductor could not compile the traced training step "
                    f"({_first_line(error)}); it runs uncompiled.",
                    stacklevel=2,
                )
                self.inductor = False
                self.graphs[signature] = self.uncompiled[signature]
                logs = self.graphs[signature](*tensors)
            del self.uncompiled[signature]
            return logs

    @contextlib.contextmanager
    def _as_the_graph(self):
        """A step's random numbers from PyTorch's global generator, SGD's
        learning rate as a tensor (which a trace can follow), and Adam as
        PyTorch's fused kernel (one pass over the variables instead of Keras'
        ten), unless TorchInductor compiles the graph: it fuses Keras' Adam
        itself, and cannot compile PyTorch's kernel."""
        optimizers = [] if self.inductor else _optimizers(self.model)
        with (
            private_api.torch_random_from_global_generator(),
            private_api.torch_fused_adam(optimizers),
            private_api.torch_traceable_sgd(_optimizers(self.model)),
        ):
            yield

    def _trace(self, batch, leaves, signature):
        """Traces the step on `batch`; returns whether it could."""
        model = self.model
        positions = [
            i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)
        ]

        def step(*tensors):
            values = list(leaves)
            for position, tensor in zip(positions, tensors, strict=True):
                values[position] = tensor
            return model.train_step(keras.tree.pack_sequence_as(batch, values))

        variables = _state_variables(model)
        saved = [v.value.detach().clone() for v in variables]
        random_state = torch.get_rng_state()
        try:
            # The step's own warnings came from its eager run on the batch
            # before (TRACE_AFTER_STEPS); the trace would only repeat them.
            with warnings.catch_warnings(), self._as_the_graph():
                warnings.simplefilter("ignore")
                graph = proxy_tensor.make_fx(step)(*(leaves[i] for i in positions))
        except Exception as error:  # noqa: BLE001 (any failure falls back)
            self.failed = True
            warnings.warn(
                f"{type(model).__name__}'s training step could not be traced into "
                f"one PyTorch graph ({_first_line(error)}); it runs eagerly, at "
                "Keras' speed. compile(jit_compile=False) chooses the eager step "
                "without this warning.",
                stacklevel=2,
            )
            return False
        finally:
            with torch.no_grad():
                for variable, value in zip(variables, saved, strict=True):
                    variable.value.copy_(value)
            torch.set_rng_state(random_state)
        self.graphs[signature] = graph
        if self.inductor:
            self.uncompiled[signature] = graph
            self.graphs[signature] = torch.compile(graph, dynamic=False)
        return True


def _optimizers(model):
    penalty = getattr(model, "penalty", None)
    own = getattr(penalty, "optimizer", None)
    return [model.optimizer] + ([own] if own is not None else [])


def _traceable(optimizer):
    """Whether `optimizer.apply` takes the same operations at every step:
    loss scaling (`mixed_float16`), gradient accumulation and the moving
    average's periodic overwrite choose a branch from a tensor's value
    (`keras.ops.cond`), which a trace cannot follow."""
    return not (
        isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        or optimizer.gradient_accumulation_steps
        or (optimizer.use_ema and optimizer.ema_overwrite_frequency)
    )


def _state_variables(model):
    """Every variable a training step may change, once each."""
    variables, seen = [], set()
    for variable in [
        *model.variables,
        *model.metrics_variables,
        *(v for optimizer in _optimizers(model) for v in optimizer.variables),
    ]:
        if id(variable) not in seen:
            seen.add(id(variable))
            variables.append(variable)
    return variables


def _tensor(leaf):
    """A NumPy array as the tensor Keras' data adapters make of it (floats in
    `keras.config.floatx()`); anything else as it is."""
    if not isinstance(leaf, np.ndarray):
        return leaf
    floating = np.issubdtype(leaf.dtype, np.floating)
    return keras.ops.convert_to_tensor(
        leaf, dtype=keras.config.floatx() if floating else None
    )


def _first_line(error):
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")
