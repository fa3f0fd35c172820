"""nn.metrics: accuracy, predict_classes and confusion_matrix on hand-computed examples."""

from __future__ import annotations

import math

import pytest

from autograd import Value
from nn.metrics import MAX_CLASSES, accuracy, class_labels, confusion_matrix, predict_classes


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


def test_confusion_matrix_takes_raw_outputs_like_accuracy():
    scores = [[Value(2.0), Value(0.0)], [Value(0.0), Value(1.0)], [Value(3.0), Value(1.0)]]  # argmax 0, 1, 0
    assert confusion_matrix([0, 1, 1], scores) == [[1, 0], [1, 1]]
    logits = [Value(0.7), Value(-1.2), Value(0.3)]  # class 1 above 0
    assert confusion_matrix([1, 0, 0], logits) == [[1, 1], [0, 1]]
    probabilities = [Value(0.7), Value(0.2), Value(0.3)]
    assert confusion_matrix([1, 0, 0], probabilities, threshold=0.5) == [[2, 0], [0, 1]]
    assert confusion_matrix([1, 0], [[Value(0.4)], [Value(-0.1)]]) == [[1, 0], [0, 1]]  # one-score lists


def test_a_threshold_needs_outputs():
    with pytest.raises(ValueError, match="threshold applies to model outputs"):
        confusion_matrix([0, 1], [0, 1], threshold=0.5)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "error", "message"),
    [
        ([10**5], [0], {}, ValueError, r"y_true\[0\] is int 100000: class labels go from 0 to 999"),
        ([1e300], [0], {}, ValueError, r"y_true\[0\] is float 1e\+300: class labels go from 0"),
        ([0], [math.inf], {}, ValueError, r"y_pred\[0\] must be a class label \(a whole number\), got float inf"),
        ([0], [math.nan], {}, ValueError, "y_pred.0. must be a class label"),
        ([0], [10**400], {}, ValueError, "class labels go from 0 to 999"),
        ([0], [0], {"num_classes": 10**6}, ValueError, "num_classes must be at most 1000, got 1000000"),
        ([0], [0.5], {}, ValueError, "whole number"),
        ([True], [0], {}, ValueError, "whole number"),
        (["a"], [0], {}, TypeError, "y_true.0. must be a Value or a number, got str 'a'"),
        ([0, -1], [0, 1], {}, ValueError, r"y_true\[1\] is -1: labels must be 0, 1, 2"),
    ],
)
def test_confusion_matrix_refuses_huge_or_broken_labels_before_allocating(y_true, y_pred, kwargs, error, message):
    with pytest.raises(error, match=message):
        confusion_matrix(y_true, y_pred, **kwargs)


def test_class_labels():
    assert class_labels([2, 0.0, 1]) == ([2, 0, 1], 3)
    assert class_labels([], "y") == ([], 0)
    assert class_labels([1], num_classes=4) == ([1], 4)
    assert class_labels([MAX_CLASSES - 1]) == ([999], 1000)
    with pytest.raises(ValueError, match=r"labels\[0\] is 3, too large for num_classes=2"):
        class_labels([3], num_classes=2)
