import keras
import numpy as np
import pytest

from keras_vae.layers import ConditionalConcat
from tests.helpers import run_layer_test


def test_layer_contract_rank2_labels():
    run_layer_test(
        ConditionalConcat,
        {"num_classes": 10},
        [np.ones((3, 5), "float32"), np.array([0, 4, 9], "int32")],
        expected_output_shape=(3, 15),
    )


def test_layer_contract_rank4_dense_condition():
    run_layer_test(
        ConditionalConcat,
        {"num_classes": None},
        [np.ones((2, 4, 4, 3), "float32"), np.ones((2, 6), "float32")],
        expected_output_shape=(2, 4, 4, 9),
    )


def test_rank2_one_hot_values():
    out = keras.ops.convert_to_numpy(
        ConditionalConcat(num_classes=3)(
            [np.zeros((2, 1), "float32"), np.array([[2], [0]])]
        )
    )
    np.testing.assert_array_equal(out, [[0, 0, 0, 1], [0, 1, 0, 0]])


def test_labels_outside_the_classes_condition_on_nothing_on_every_backend():
    out = keras.ops.convert_to_numpy(
        ConditionalConcat(num_classes=3)(
            [np.zeros((3, 1), "float32"), np.array([[3], [-1], [1]])]
        )
    )
    np.testing.assert_array_equal(out, [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 1, 0]])


def test_rank4_broadcasts_condition_over_space():
    features = np.zeros((2, 3, 5, 1), "float32")
    out = keras.ops.convert_to_numpy(
        ConditionalConcat(num_classes=4)([features, np.array([1, 3])])
    )
    assert out.shape == (2, 3, 5, 5)
    np.testing.assert_array_equal(
        out[0, :, :, 1:], np.broadcast_to([0, 1, 0, 0], (3, 5, 4))
    )
    np.testing.assert_array_equal(
        out[1, :, :, 1:], np.broadcast_to([0, 0, 0, 1], (3, 5, 4))
    )


def test_dense_condition_concatenated_as_given():
    condition = np.array([[0.2, 0.8]], "float32")
    out = ConditionalConcat()([np.ones((1, 2), "float32"), condition])
    np.testing.assert_allclose(out, [[1, 1, 0.2, 0.8]])


def test_mismatched_batch_sizes_name_shapes():
    with pytest.raises(ValueError, match=r"different batch sizes.*\(4, 5\).*\(3,\)"):
        ConditionalConcat(num_classes=3)(
            [np.ones((4, 5), "float32"), np.array([0, 1, 2])]
        )


def test_rejects_features_of_rank_3():
    with pytest.raises(ValueError, match=r"rank 2.*rank 4.*\(2, 3, 4\)"):
        ConditionalConcat(num_classes=3)(
            [np.ones((2, 3, 4), "float32"), np.array([0, 1])]
        )


def test_rejects_labels_without_num_classes():
    with pytest.raises(ValueError, match="set `num_classes`"):
        ConditionalConcat()([np.ones((2, 3), "float32"), np.array([0, 1])])


def test_rejects_matrix_condition_with_num_classes():
    with pytest.raises(ValueError, match=r"integer labels.*\(2, 3\)"):
        ConditionalConcat(num_classes=3)([np.ones((2, 3), "float32"), np.eye(2, 3)])


@pytest.mark.parametrize("num_classes", [0, -2, 2.5, True])
def test_rejects_bad_num_classes(num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalConcat(num_classes=num_classes)
