"""nn.metrics: accuracy, predict_classes and confusion_matrix on hand-computed examples."""

from __future__ import annotations

import pytest

from autograd import Value
from nn.metrics import accuracy, confusion_matrix, predict_classes


def test_binary_raw_scores_threshold_zero():
    # predictions 1, 0, 1, 0 (a score of exactly 0 counts as class 0)
    assert accuracy([2.3, -0.4, 0.1, 0.0], [1, 0, 0, 0]) == 0.75


def test_binary_values_are_read_through_data():
    outputs = [Value(0.7), Value(-1.2), Value(3.0)]
    assert accuracy(outputs, [1, 0, 0]) == pytest.approx(2 / 3)


def test_binary_probabilities_with_threshold():
    probs = [0.9, 0.4, 0.6, 0.2]
    assert accuracy(probs, [1, 0, 0, 1], threshold=0.5) == 0.5
    assert accuracy(probs, [1, 0, 0, 1]) == 0.5  # with the default 0.0 all would be 1: two right
    assert accuracy(probs, [1, 1, 1, 1]) == 1.0


def test_signed_targets_compare_signs():
    # micrograd's demo: targets -1/+1, correct when (score > 0) == (target > 0)
    scores = [Value(0.5), Value(-2.0), Value(-0.1), Value(1.5)]
    assert accuracy(scores, [1, -1, 1, -1]) == 0.5
    assert accuracy(scores, [1.0, -1.0, -1.0, 1.0]) == 1.0


def test_one_element_lists_count_as_single_scores():
    assert accuracy([[Value(1.0)], [Value(-1.0)]], [1, 0]) == 1.0


def test_multiclass_argmax():
    outputs = [[0.1, 2.0, -1.0], [3.0, 0.5, 0.2], [0.0, 0.0, 4.0], [1.0, 1.0, 0.0]]
    # argmax: 1, 0, 2, 0 (first index on a tie)
    assert accuracy(outputs, [1, 1, 2, 0]) == 0.75
    assert predict_classes(outputs) == [1, 0, 2, 0]


def test_multiclass_with_values_and_one_hot_targets():
    outputs = [[Value(0.2), Value(0.8)], [Value(0.6), Value(0.4)]]
    assert accuracy(outputs, [[0.0, 1.0], [0.0, 1.0]]) == 0.5


def test_predict_classes_binary():
    assert predict_classes([0.3, -0.3, 0.0]) == [1, 0, 0]
    assert predict_classes([0.3, -0.3, 0.0], signed=True) == [1, -1, -1]
    assert predict_classes([0.6, 0.4], threshold=0.5) == [1, 0]


@pytest.mark.parametrize(
    "outputs, targets, kwargs, error, match",
    [
        ([1.0, 2.0], [1], {}, ValueError, "2 outputs but 1 targets"),
        ([], [], {}, ValueError, "empty"),
        ([1.0, 2.0], [0, 2], {}, ValueError, "list of class scores"),
        ([1.0, 2.0], [0, -1], {}, ValueError, r"\[-1, 0\]"),
        ([[1.0, 2.0]], [1], {"threshold": 0.5}, ValueError, "argmax"),
        ([[1.0, 2.0], [1.0, 2.0, 3.0]], [1, 1], {}, ValueError, "same number"),
        (["yes"], [1], {}, TypeError, "str"),
        ([0.5], [0.5], {}, ValueError, "whole number"),
    ],
)
def test_accuracy_errors(outputs, targets, kwargs, error, match):
    with pytest.raises(error, match=match):
        accuracy(outputs, targets, **kwargs)


def test_confusion_matrix():
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 2, 2]
    assert confusion_matrix(y_true, y_pred) == [[1, 1, 0], [0, 2, 1], [0, 0, 1]]
    assert confusion_matrix([0, 1], [0, 0], num_classes=3) == [[1, 0, 0], [1, 0, 0], [0, 0, 0]]
    m = confusion_matrix(y_true, y_pred)
    assert sum(m[i][i] for i in range(3)) / len(y_true) == pytest.approx(4 / 6)


def test_confusion_matrix_from_model_outputs():
    outputs = [[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]]
    assert confusion_matrix([0, 1, 1], predict_classes(outputs)) == [[1, 0], [1, 1]]


@pytest.mark.parametrize(
    "y_true, y_pred, k",
    [([0, 1], [0], None), ([0, -1], [0, 1], None), ([0, 3], [0, 1], 3), ([0], [0], 0)],
)
def test_confusion_matrix_errors(y_true, y_pred, k):
    with pytest.raises(ValueError):
        confusion_matrix(y_true, y_pred, k)
