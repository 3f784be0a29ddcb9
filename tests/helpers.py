"""The project's own layer test: what `keras.src.testing.TestCase.run_layer_test`
checks, on the public API only."""

import json

import keras
import numpy as np


def run_layer_test(
    layer_cls,
    init_kwargs,
    input_data,
    expected_output_shape,
    expected_num_losses=0,
    expected_num_non_trainable_weights=0,
):
    """Checks a layer's config round trip, symbolic and eager calls, losses and
    that gradients flow through it in one training step.

    Args:
        layer_cls: The layer class.
        init_kwargs: Dict of constructor arguments.
        input_data: NumPy array or list of arrays, one batch.
        expected_output_shape: Shape or tuple of shapes of the eager output.
        expected_num_losses: Integer, losses the layer adds per call.
        expected_num_non_trainable_weights: Integer.

    Returns:
        The eager output.
    """
    layer = layer_cls(**init_kwargs)

    # Config round trip, through JSON as in a .keras file.
    config = layer.get_config()
    for key, value in init_kwargs.items():
        assert config[key] == value, (key, config[key], value)
    restored = layer_cls.from_config(json.loads(json.dumps(config)))
    assert restored.get_config() == config

    # Symbolic call: output shapes match the eager ones.
    data = input_data if isinstance(input_data, list) else [input_data]
    symbolic_inputs = [
        keras.Input(batch_shape=a.shape, dtype=str(a.dtype)) for a in data
    ]
    symbolic_out = layer(symbolic_inputs if len(data) > 1 else symbolic_inputs[0])

    # Eager call.
    output = layer(input_data)
    shapes = keras.tree.map_structure(lambda t: tuple(t.shape), output)
    assert _as_tuples(shapes) == _as_tuples(expected_output_shape), shapes
    symbolic_shapes = keras.tree.map_structure(lambda t: tuple(t.shape), symbolic_out)
    assert _as_tuples(symbolic_shapes) == _as_tuples(expected_output_shape)
    assert len(layer.losses) == expected_num_losses
    assert len(layer.non_trainable_weights) == expected_num_non_trainable_weights

    # One training step of a model around the layer, on the current backend:
    # gradients reach trainable projections of the float inputs through it,
    # and its losses join the objective.
    inputs = [keras.Input(shape=a.shape[1:], dtype=str(a.dtype)) for a in data]
    projections = [
        keras.layers.Dense(a.shape[-1]) if np.issubdtype(a.dtype, np.floating) else None
        for a in data
    ]
    projected = [
        x if p is None else p(x) for p, x in zip(projections, inputs, strict=True)
    ]
    out = layer(projected if len(data) > 1 else projected[0], training=True)
    total = sum(keras.ops.sum(o, axis=-1) for o in keras.tree.flatten(out))
    model = keras.Model(inputs, total)
    model.compile(optimizer="sgd", loss=lambda _, y_pred: keras.ops.mean(y_pred))
    projections = [p for p in projections if p is not None]
    before = [[w.numpy().copy() for w in p.weights] for p in projections]
    model.fit(data, np.zeros(len(data[0])), batch_size=len(data[0]), verbose=0)
    for projection, weights in zip(projections, before, strict=True):
        assert any(
            not np.allclose(w.numpy(), b)
            for w, b in zip(projection.weights, weights, strict=True)
        ), f"no gradient reached {projection.name}"
    return output


def _as_tuples(structure):
    if (
        isinstance(structure, (list, tuple))
        and structure
        and isinstance(structure[0], (list, tuple))
    ):
        return tuple(tuple(s) for s in structure)
    return tuple(structure)


def gradients(function, arrays):
    """Gradients of the scalar `function(*arrays)` with respect to each array,
    as NumPy arrays, with the current backend's own differentiation."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        grads = jax.grad(function, argnums=tuple(range(len(arrays))))(*arrays)
    elif backend == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        function(*tensors).backward()
        grads = [t.grad for t in tensors]
    else:
        import tensorflow as tf

        variables = [tf.Variable(a) for a in arrays]
        with tf.GradientTape() as tape:
            value = function(*variables)
        grads = tape.gradient(value, variables)
    # No gradient at all (TensorFlow's and PyTorch's None) reads as zeros.
    return [
        np.zeros_like(a) if g is None else keras.ops.convert_to_numpy(g)
        for a, g in zip(arrays, grads, strict=True)
    ]


def keras_twin(layer_class, x, **arguments):
    """`layer_class(**arguments)` and the Keras layer it subclasses, both built
    for `x`, with the same weights."""
    ours = layer_class(**arguments)
    plain = layer_class.__bases__[0](**arguments)
    ours.build(x.shape)
    plain.build(x.shape)
    plain.set_weights(ours.get_weights())
    return ours, plain


def assert_same_sgd_step(ours, plain, x, y):
    """One SGD step of each layer alone moves its weights, and moves both
    alike: equal gradients of every weight."""
    initial = ours.get_weights()[0]
    weights = []
    for layer in (ours, plain):
        model = keras.Sequential([keras.Input(x.shape[1:]), layer])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.train_on_batch(x, y)
        weights.append(layer.get_weights())
    assert not np.allclose(weights[0][0], initial)
    for got, expected in zip(*weights, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-5)
