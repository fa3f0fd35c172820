"""How often a classifier is right: ``accuracy``, ``predict_classes`` and ``confusion_matrix``.

``accuracy(outputs, targets)`` and ``confusion_matrix(y_true, y_pred)`` both
take a model's raw outputs (``confusion_matrix`` also takes predicted labels).

A model's output for one sample is either

* one score (a ``Value`` or a number): a binary classifier. The predicted
  class is 1 when ``score > threshold`` (``threshold=0.0`` by default, right
  for raw scores and logits; pass ``threshold=0.5`` for sigmoid
  probabilities). If the targets are -1/+1 (as for ``hinge_loss``), the
  prediction is +1 or -1 instead of 1 or 0;
* a list of scores, one per class: the predicted class is the index of the
  largest score (``argmax``; the first one on a tie). Thresholds don't apply.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from autograd import Value

from .checks import is_integer, is_real, positive_int, show

__all__ = ["accuracy", "predict_classes", "confusion_matrix", "class_labels", "MAX_CLASSES"]

MAX_CLASSES = 1000
"""The most classes a label may name (labels 0..999): a label like 1e300 is a mistake, not a class."""


def _as_float(x: object, what: str) -> float:
    """A Value's ``data`` or a number, as a float."""
    if isinstance(x, Value):
        return x.data
    if is_real(x):
        try:
            return float(x)  # type: ignore[arg-type]
        except OverflowError:
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    raise TypeError(f"{what} must be a Value or a number, got {show(x)}")


def _scores(output: Any, i: int) -> float | list[float]:
    """One sample's output as a single score or a list of class scores."""
    if isinstance(output, Value) or is_real(output):
        return _as_float(output, f"outputs[{i}]")
    if isinstance(output, (list, tuple)) and output:
        if len(output) == 1:  # a one-neuron output layer given as a list
            return _as_float(output[0], f"outputs[{i}][0]")
        return [_as_float(s, f"outputs[{i}][{j}]") for j, s in enumerate(output)]
    raise TypeError(f"outputs[{i}] must be a score or a list of class scores, got {type(output).__name__} {output!r}")


def _argmax(scores: list[float]) -> int:
    best = 0
    for j, s in enumerate(scores):
        if s > scores[best]:
            best = j
    return best


def _label(t: object, what: str) -> int:
    if is_integer(t):
        value = int(t)  # type: ignore[call-overload]
    elif isinstance(t, bool) or not _as_float(t, what).is_integer():  # also nan and inf
        raise ValueError(f"{what} must be a class label (a whole number), got {show(t)}")
    else:
        value = int(_as_float(t, what))
    if abs(value) >= MAX_CLASSES:
        raise ValueError(f"{what} is {show(t)}: class labels go from 0 to {MAX_CLASSES - 1} at most")
    return value


def class_labels(labels: Iterable[Any], what: str = "labels", num_classes: int | None = None) -> tuple[list[int], int]:
    """``labels`` as ints 0..k-1 and the number of classes ``k``, checked before anything is built.

    ``k`` is ``num_classes``, or the largest label + 1. Labels must be whole
    numbers (ints, or floats such as 2.0) from 0 to ``MAX_CLASSES - 1``; anything
    else raises ValueError naming the first bad label (TypeError for a non-number).
    """
    ints = [_label(c, f"{what}[{i}]") for i, c in enumerate(labels)]
    for i, c in enumerate(ints):
        if c < 0:
            raise ValueError(
                f"{what}[{i}] is {c}: labels must be 0, 1, 2, ...; "
                "map -1/+1 labels to 0/1 first, e.g. [(t + 1) // 2 for t in y]"
            )
    if num_classes is None:
        return ints, max(ints) + 1 if ints else 0
    k = positive_int(num_classes, "num_classes")
    if k > MAX_CLASSES:
        raise ValueError(f"num_classes must be at most {MAX_CLASSES}, got {k}")
    for i, c in enumerate(ints):
        if c >= k:
            raise ValueError(f"{what}[{i}] is {c}, too large for num_classes={k} (labels go 0..{k - 1})")
    return ints, k


def predict_classes(outputs: Sequence[Any], threshold: float | None = None, signed: bool = False) -> list[int]:
    """The predicted class of each sample: ``score > threshold`` for one score, argmax for a list.

    Binary predictions are 1/0, or +1/-1 with ``signed=True``.
    ``threshold`` defaults to 0.0.
    """
    preds = []
    for i, output in enumerate(outputs):
        s = _scores(output, i)
        if isinstance(s, list):
            if threshold is not None:
                raise ValueError(
                    "threshold applies to one score per sample; outputs with one score per class use argmax"
                )
            preds.append(_argmax(s))
        else:
            positive = s > (0.0 if threshold is None else threshold)
            preds.append((1 if positive else -1) if signed else int(positive))
    return preds


def accuracy(outputs: Sequence[Any], targets: Sequence[Any], threshold: float | None = None) -> float:
    """The fraction of samples whose predicted class equals the target, between 0.0 and 1.0.

    ``outputs``: one score per sample (binary) or a list of class scores per
    sample (multi-class), as ``Value``s or numbers. ``targets``: labels 0/1 or
    -1/+1 for binary outputs (compared with ``score > threshold``, threshold
    0.0 unless given); class indices ``0..k-1`` (or one-hot rows) for
    multi-class outputs.

    >>> accuracy([2.3, -0.4, 0.1], [1, 0, 0])         # predictions 1, 0, 1
    0.6666666666666666
    >>> accuracy([[0.1, 2.0], [3.0, 0.5]], [1, 1])    # argmax 1, 0
    0.5
    """
    outputs, targets = list(outputs), list(targets)
    if len(outputs) != len(targets):
        raise ValueError(f"got {len(outputs)} outputs but {len(targets)} targets; they must match")
    if not outputs:
        raise ValueError("accuracy of no samples is undefined; outputs and targets are empty")
    scores = [_scores(o, i) for i, o in enumerate(outputs)]
    if isinstance(scores[0], list):  # multi-class
        k = len(scores[0])
        if any(not isinstance(s, list) or len(s) != k for s in scores):
            raise ValueError(f"every sample must have the same number of class scores ({k} for outputs[0])")
        labels = [
            _argmax([_as_float(v, f"targets[{i}]") for v in t]) if isinstance(t, (list, tuple))
            else _label(t, f"targets[{i}]")
            for i, t in enumerate(targets)
        ]
        preds = predict_classes(scores, threshold)
        return sum(p == t for p, t in zip(preds, labels, strict=True)) / len(labels)
    labels = [_label(t, f"targets[{i}]") for i, t in enumerate(targets)]
    seen = set(labels)
    if seen <= {0, 1}:
        signed = False
    elif seen <= {-1, 1}:
        signed = True
    else:
        raise ValueError(
            f"one score per sample means a binary classifier with targets 0/1 or -1/+1, got labels {sorted(seen)}; "
            f"for more classes give a list of class scores per sample"
        )
    if any(isinstance(s, list) for s in scores):
        raise ValueError("outputs mix single scores and lists of class scores")
    preds = predict_classes(scores, threshold, signed=signed)
    return sum(p == t for p, t in zip(preds, labels, strict=True)) / len(labels)


def confusion_matrix(
    y_true: Sequence[Any], y_pred: Sequence[Any], num_classes: int | None = None, threshold: float | None = None
) -> list[list[int]]:
    """Counts of (true class, predicted class) pairs: ``matrix[i][j]`` samples of class ``i`` predicted as ``j``.

    Rows are the true classes and columns the predictions, as in
    scikit-learn; the diagonal holds the correct predictions. Labels are
    ``0..num_classes-1`` (``num_classes`` defaults to the largest label + 1).
    ``y_pred`` holds predicted labels, or the model's outputs as ``accuracy``
    takes them: a ``Value`` per sample (class 1 when it is above ``threshold``,
    0 by default) or a list of class scores per sample (argmax).
    """
    y_pred = list(y_pred)
    if any(isinstance(p, (Value, list, tuple)) for p in y_pred):  # model outputs
        y_pred = predict_classes(y_pred, threshold)
    elif threshold is not None:
        raise ValueError("threshold applies to model outputs (Values); y_pred holds labels already")
    true, k_true = class_labels(y_true, "y_true", num_classes)
    pred, k_pred = class_labels(y_pred, "y_pred", num_classes)
    if len(true) != len(pred):
        raise ValueError(f"got {len(true)} true labels but {len(pred)} predictions; they must match")
    k = max(k_true, k_pred)
    matrix = [[0] * k for _ in range(k)]
    for t, p in zip(true, pred, strict=True):
        matrix[t][p] += 1
    return matrix
