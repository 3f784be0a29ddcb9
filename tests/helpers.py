"""The project's own layer test: what `keras.src.testing.TestCase.run_layer_test`
checks, on the public API only."""

import json

import keras
import numpy as np
import tensorflow as tf


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

    # One training step of a model around the layer: gradients reach the inputs
    # through a trainable projection, and the layer's losses are included.
    projections = [keras.layers.Dense(a.shape[-1]) for a in data]
    float_inputs = [
        tf.Variable(a) if np.issubdtype(a.dtype, np.floating) else tf.constant(a)
        for a in data
    ]
    with tf.GradientTape() as tape:
        projected = [
            p(x) if x.dtype.is_floating else x
            for p, x in zip(projections, float_inputs, strict=True)
        ]
        out = layer(projected if len(data) > 1 else projected[0], training=True)
        total = sum(tf.reduce_sum(o) for o in keras.tree.flatten(out))
        total += sum(layer.losses)
    weights = [w for p in projections for w in p.trainable_weights if p.built]
    gradients = tape.gradient(total, weights)
    assert all(g is not None for g in gradients)
    return output


def _as_tuples(structure):
    if (
        isinstance(structure, (list, tuple))
        and structure
        and isinstance(structure[0], (list, tuple))
    ):
        return tuple(tuple(s) for s in structure)
    return tuple(structure)
