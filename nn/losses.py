"""Loss functions: one number saying how wrong the predictions are.

All take ``(predictions, targets)`` in that order, like
``torch.nn.functional``, and average over the examples (``reduction="mean"``;
``"sum"`` adds them up and ``"none"`` returns one loss per example).
Predictions are a Value or a list of Values (a list of lists for several
outputs per example); targets are plain numbers of the same shape.

Each loss is a single node whose local derivative with respect to each
prediction is written next to its formula, so ``backward()`` is exact and fast.

``LOSSES`` maps every accepted name (PyTorch's spellings too: ``"mse"``,
``"l1"``, ``"bce_with_logits"``, ``"cross_entropy"``...) to its function;
``fit`` and the command line read it through ``loss_function(name)``.
``TARGETS`` says what each loss expects as targets, which tells ``fit`` how
to measure accuracy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from autograd import Value, make_op

from .checks import is_integer, is_real, shorten, show

__all__ = [
    "LOSSES",
    "TARGETS",
    "loss_function",
    "decision_threshold",
    "mse_loss",
    "mae_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
]

Predictions = Value | float | Sequence[Any]
Targets = float | Sequence[Any]
Loss = Value | list[Value]


# ---- checking inputs ---------------------------------------------------------
def _prediction(p: object, name: str) -> Value:
    if isinstance(p, Value):
        return p
    if is_real(p):
        return Value(p)  # a constant
    raise TypeError(f"{name}(): predictions must be Values or numbers, got {show(p)}")


def _target(t: object, name: str) -> float:
    if is_real(t):
        return float(t)  # type: ignore[arg-type]
    hint = "; use target.data (targets are fixed numbers)" if isinstance(t, Value) else ""
    raise TypeError(f"{name}(): targets must be numbers, got {show(t)}{hint}")


def _is_list(x: object) -> bool:
    """A list, tuple or array: anything with a length and items, except a string."""
    return isinstance(x, (list, tuple)) or (hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, str))


def _pairs(predictions: Predictions, targets: Targets, name: str) -> tuple[list[Value], list[float]]:
    """Flatten predictions and targets into matching lists (checking their shapes agree)."""
    if not _is_list(predictions):
        predictions, targets = [predictions], targets if _is_list(targets) else [targets]
    if not _is_list(targets):
        raise TypeError(f"{name}(): got {len(predictions)} predictions but a single target {targets!r}; pass a list of targets")
    predictions, targets = list(predictions), list(targets)
    if len(predictions) != len(targets):
        raise ValueError(f"{name}(): got {len(predictions)} predictions but {len(targets)} targets; they must match one to one")
    if not predictions:
        raise ValueError(f"{name}(): got no predictions (an empty list)")
    preds, goals = [], []
    for i, (p, t) in enumerate(zip(predictions, targets, strict=True)):
        if _is_list(p) or _is_list(t):  # several outputs per example
            if not (_is_list(p) and _is_list(t)) or len(p) != len(t):
                raise ValueError(f"{name}(): prediction {i} {p!r} and target {i} {t!r} have different shapes")
            preds.extend(_prediction(q, name) for q in p)
            goals.extend(_target(u, name) for u in t)
        else:
            preds.append(_prediction(p, name))
            goals.append(_target(t, name))
    return preds, goals


def _reduce(op: str, parents: list[Value], losses: list[float], grads: list[float], reduction: str) -> Loss:
    """One node holding the mean (or sum) of ``losses``; ``grads`` are d loss_i / d parent_i."""
    if reduction == "none":
        return [make_op(op, v, (p,), (g,)) for p, v, g in zip(parents, losses, grads, strict=True)]
    if reduction == "sum":
        return make_op(op, sum(losses), parents, grads)
    if reduction == "mean":
        n = len(losses)
        return make_op(op, sum(losses) / n, parents, [g / n for g in grads])
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _sign(x: float) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


# ---- regression ------------------------------------------------------------------
def mse_loss(predictions: Predictions, targets: Targets, reduction: str = "mean") -> Loss:
    """Mean squared error: mean (p - t)^2.   d/dp = 2 (p - t) / n."""
    preds, goals = _pairs(predictions, targets, "mse_loss")
    diffs = [p.data - t for p, t in zip(preds, goals, strict=True)]
    return _reduce("mse_loss", preds, [d * d for d in diffs], [2.0 * d for d in diffs], reduction)


def mae_loss(predictions: Predictions, targets: Targets, reduction: str = "mean") -> Loss:
    """Mean absolute error (torch's l1_loss): mean |p - t|.   d/dp = sign(p - t) / n (0 where p = t)."""
    preds, goals = _pairs(predictions, targets, "mae_loss")
    diffs = [p.data - t for p, t in zip(preds, goals, strict=True)]
    return _reduce("mae_loss", preds, [abs(d) for d in diffs], [_sign(d) for d in diffs], reduction)


# ---- binary classification -------------------------------------------------------
_EPSILON = 9.999999960041972e-13  # PyTorch's clamp for p (1 - p): 1e-12 rounded to a 32-bit float


def binary_cross_entropy(predictions: Predictions, targets: Targets, reduction: str = "mean") -> Loss:
    """Cross-entropy of probabilities p in [0, 1] and targets t in [0, 1]:

    mean -(t log p + (1 - t) log(1 - p)),   d/dp = (p - t) / (p (1 - p)) / n.

    As in PyTorch each log is clamped at -100 (so p = 0 gives a loss of 100,
    not infinity) and p (1 - p) at 1e-12. Feed it sigmoid outputs, or better,
    give the raw scores to ``binary_cross_entropy_with_logits``. A ``nan``
    prediction gives a ``nan`` loss and gradient (PyTorch raises instead), so
    ``fit`` sees the divergence.
    """
    preds, goals = _pairs(predictions, targets, "binary_cross_entropy")
    losses, grads = [], []
    for p, t in zip(preds, goals, strict=True):
        q = p.data
        _check_probability_target(t, "binary_cross_entropy")
        if math.isnan(q):  # the clamps below would turn it into a finite loss of 100
            losses.append(math.nan)
            grads.append(math.nan)
            continue
        if not 0.0 <= q <= 1.0:
            raise ValueError(
                f"binary_cross_entropy(): predictions are probabilities in [0, 1], got {q}; "
                "apply sigmoid first, or use binary_cross_entropy_with_logits on raw scores"
            )
        log_p = max(math.log(q), -100.0) if q > 0.0 else -100.0
        log_1mp = max(math.log1p(-q), -100.0) if q < 1.0 else -100.0
        losses.append(-(t * log_p + (1.0 - t) * log_1mp))
        grads.append((q - t) / max(q * (1.0 - q), _EPSILON))
    return _reduce("binary_cross_entropy", preds, losses, grads, reduction)


def binary_cross_entropy_with_logits(predictions: Predictions, targets: Targets, reduction: str = "mean") -> Loss:
    """Binary cross-entropy on raw scores x (logits), p = sigmoid(x):

    mean max(x, 0) - x t + log(1 + e^-|x|),   d/dx = (sigmoid(x) - t) / n.

    This form never overflows, and stays accurate where sigmoid saturates.
    At x = +-inf the loss is PyTorch's ``(1 - t) x - min(x, 0)``: inf for
    x = inf and t < 1, otherwise nan (inf - inf).
    """
    preds, goals = _pairs(predictions, targets, "binary_cross_entropy_with_logits")
    losses, grads = [], []
    for p, t in zip(preds, goals, strict=True):
        x = p.data
        _check_probability_target(t, "binary_cross_entropy_with_logits")
        e = math.exp(-abs(x))  # in (0, 1]: cannot overflow
        if math.isinf(x):
            losses.append((1.0 - t) * x - min(x, 0.0))
        else:
            losses.append(max(x, 0.0) - x * t + math.log1p(e))
        s = 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)
        grads.append(s - t)
    return _reduce("binary_cross_entropy_with_logits", preds, losses, grads, reduction)


def _check_probability_target(t: float, name: str) -> None:
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"{name}(): targets are probabilities in [0, 1] (class labels 0 and 1), got {t}")


def hinge_loss(scores: Predictions, targets: Targets, reduction: str = "mean") -> Loss:
    """micrograd's max-margin loss for labels y in {-1, +1}:

    mean max(0, 1 - y s),   d/ds = -y / n where 1 - y s > 0, else 0.
    """
    preds, goals = _pairs(scores, targets, "hinge_loss")
    losses, grads = [], []
    for s, y in zip(preds, goals, strict=True):
        if y not in (-1.0, 1.0):
            raise ValueError(f"hinge_loss(): targets are -1 or +1, got {y:g}; map 0/1 labels with y = 2 * label - 1")
        margin = 1.0 - y * s.data
        if margin > 0.0:
            losses.append(margin)
            grads.append(-y)
        else:
            losses.append(margin if margin != margin else 0.0)  # nan stays nan
            grads.append(0.0)
    return _reduce("hinge_loss", preds, losses, grads, reduction)


# ---- multi-class classification ------------------------------------------------
def cross_entropy(logits: Sequence[Any], target: int | Sequence[int], reduction: str = "mean") -> Loss:
    """Cross-entropy of raw class scores (logits) z and the index of the true class c:

    -log softmax(z)_c = log sum_j e^(z_j) - z_c,   d/dz_j = softmax(z)_j - (1 if j = c else 0).

    One example: ``cross_entropy([z0, z1, z2], 2)``. A batch:
    ``cross_entropy([[...], [...]], [2, 0])``, averaged over the examples.
    Stable: the largest logit is subtracted before exponentiating.
    """
    if not _is_list(logits):
        raise TypeError(f"cross_entropy(): logits are a list of class scores, got {type(logits).__name__} {logits!r}")
    if logits and _is_list(logits[0]):  # a batch
        if not _is_list(target):
            raise TypeError(f"cross_entropy(): a batch of {len(logits)} logit lists needs a list of class indices, got {target!r}")
        if len(logits) != len(target):
            raise ValueError(f"cross_entropy(): got {len(logits)} logit lists but {len(target)} class indices")
        rows, classes = [list(row) for row in logits], list(target)
    elif _is_list(target):  # one score per example, as a one-output model gives
        raise ValueError(
            f"cross_entropy(): got {len(logits)} single scores and {len(target)} class indices, but cross-entropy "
            "needs one output per class: a model with k outputs for k classes (e.g. MLP(2, [8, 2]) for two "
            "classes), giving a list of k logits per example. For one output and 0/1 targets use \"bce_logits\""
        )
    else:
        rows, classes = [list(logits)], [target]
    parents: list[Value] = []
    losses, grads, sizes = [], [], []
    for row, c in zip(rows, classes, strict=True):
        zs = [_prediction(z, "cross_entropy") for z in row]
        if not zs:
            raise ValueError("cross_entropy(): got an empty list of logits")
        c = _class_index(c, len(zs))
        data = [z.data for z in zs]
        top = max(data)
        exps = [math.exp(d - top) for d in data]
        total = math.fsum(exps)
        losses.append(top + math.log(total) - data[c])
        row_grads = [e / total for e in exps]
        row_grads[c] -= 1.0
        parents.extend(zs)
        grads.append(row_grads)
        sizes.append(len(zs))
    if reduction == "none":
        return [make_op("cross_entropy", v, zs, g) for v, zs, g in zip(losses, _split(parents, sizes), grads, strict=True)]
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    n = len(losses) if reduction == "mean" else 1
    return make_op("cross_entropy", sum(losses) / n, parents, [g / n for row in grads for g in row])


def _class_index(c: object, n: int) -> int:
    if isinstance(c, float) and c.is_integer():
        c = int(c)
    if not is_integer(c):
        raise TypeError(f"cross_entropy(): the target is a class index (an int), got {show(c)}")
    if not 0 <= c < n:
        raise ValueError(f"cross_entropy(): class index {c} is out of range for {n} logits (0 to {n - 1})")
    return int(c)


def _split(values: list[Value], sizes: list[int]) -> list[list[Value]]:
    out, start = [], 0
    for size in sizes:
        out.append(values[start : start + size])
        start += size
    return out


# ---- regularisation ----------------------------------------------------------------
def _params(params: Iterable[Value] | Any, name: str) -> list[Value]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()  # a Module
    values = list(params)
    for p in values:
        if not isinstance(p, Value):
            raise TypeError(f"{name}(): takes Values (e.g. model.parameters()), got {show(p)}")
    return values


def l1_penalty(params: Iterable[Value]) -> Value:
    """L1 regularisation: sum |p|.   d/dp = sign(p) (0 at 0). Pushes weights to exactly 0 (sparsity).

    Multiply by your own strength: ``loss + 1e-4 * l1_penalty(model.parameters())``.
    """
    values = _params(params, "l1_penalty")
    return make_op("l1_penalty", sum(abs(p.data) for p in values), values, [_sign(p.data) for p in values])


def l2_penalty(params: Iterable[Value]) -> Value:
    """L2 regularisation (weight decay, ridge): sum p^2.   d/dp = 2 p. Keeps weights small.

    Multiply by your own strength: ``loss + 1e-4 * l2_penalty(model.parameters())``.
    """
    values = _params(params, "l2_penalty")
    return make_op("l2_penalty", sum(p.data * p.data for p in values), values, [2.0 * p.data for p in values])


# ---- losses by name ------------------------------------------------------------------
LOSSES: dict[str, Callable[..., Loss]] = {
    "mse": mse_loss,
    "mse_loss": mse_loss,
    "mae": mae_loss,
    "mae_loss": mae_loss,
    "l1": mae_loss,
    "l1_loss": mae_loss,
    "bce": binary_cross_entropy,
    "binary_cross_entropy": binary_cross_entropy,
    "bce_logits": binary_cross_entropy_with_logits,
    "bce_with_logits": binary_cross_entropy_with_logits,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "ce": cross_entropy,
    "cross_entropy": cross_entropy,
    "hinge": hinge_loss,
    "hinge_loss": hinge_loss,
}
"""Every loss name ``fit`` and the command line accept, PyTorch's spellings included."""

TARGETS: dict[Callable[..., Loss], str] = {
    mse_loss: "real",
    mae_loss: "real",
    binary_cross_entropy: "0/1",
    binary_cross_entropy_with_logits: "0/1",
    hinge_loss: "-1/+1",
    cross_entropy: "class",
}
"""What each loss wants as targets.

``"real"``: any numbers (regression; 0/1 or -1/+1 labels make it a classifier
too); ``"0/1"``: labels 0 and 1 (or probabilities), one output per sample;
``"-1/+1"``: labels -1 and +1, one score per sample; ``"class"``: class
indices 0..k-1, one score per class.
"""

# Losses whose outputs move towards the target values themselves (a probability
# or the label), so a classifier with 0/1 labels splits its single output at 0.5;
# the other losses score on the whole real line and split at 0.
_OUTPUTS_NEAR_TARGETS = (mse_loss, mae_loss, binary_cross_entropy)


def loss_function(loss: str | Callable[..., Loss]) -> Callable[..., Loss]:
    """The loss function for a name in ``LOSSES`` (a function is returned as it is)."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            names = ", ".join(map(repr, LOSSES))
            raise ValueError(f"unknown loss {shorten(repr(loss), 80)}; use one of {names} or a function loss(outputs, targets)")
        return LOSSES[loss]
    if callable(loss):
        return loss
    raise TypeError(f"loss must be a name such as 'mse' or a function loss(outputs, targets), got {show(loss)}")


def decision_threshold(loss: str | Callable[..., Loss], targets: Iterable[Any]) -> float | None:
    """Where a single output splits class 0 from class 1 when a model trained with ``loss`` is measured.

    0.5 for a loss whose outputs approach 0/1 labels (``mse``, ``mae``,
    ``bce``: probabilities); ``None`` otherwise, which ``nn.metrics.accuracy``
    reads as 0 (raw scores, logits, -1/+1 labels) or argmax (one score per class).
    """
    if loss_function(loss) not in _OUTPUTS_NEAR_TARGETS:
        return None
    try:
        labels = set(targets)
    except TypeError:  # rows of targets (several outputs): not one score per sample
        return None
    return 0.5 if labels <= {0, 1} else None
