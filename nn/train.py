"""The training loop: ``fit`` runs gradient descent and returns a ``History``.

One step of gradient descent is five lines, and ``fit`` is those five lines
plus bookkeeping::

    outputs = [model(x) for x in batch_X]     # forward
    loss = loss_fn(outputs, batch_y)          # how wrong are we?
    optimizer.zero_grad()                     # forget the last step's gradients
    loss.backward()                           # chain rule: dloss/dw for every w
    optimizer.step()                          # w <- w - lr * dloss/dw
"""

from __future__ import annotations

import math
import random
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from autograd import Value, no_grad

from .module import Module

__all__ = ["fit", "train_step", "StepResult", "History", "LOSSES"]

LOSSES = ("mse", "mae", "bce", "bce_logits", "ce", "hinge")
_LOSS_FUNCTIONS = {
    "mse": "mse_loss",
    "mae": "mae_loss",
    "bce": "binary_cross_entropy",
    "bce_logits": "binary_cross_entropy_with_logits",
    "ce": "cross_entropy",
    "hinge": "hinge_loss",
}


class StepResult(NamedTuple):
    """What ``train_step`` returns: the batch's ``loss`` as a float and the model's ``outputs``."""

    loss: float
    outputs: list[Any]


def train_step(
    model: Callable[[Any], Any],
    X: Sequence[Any],
    y: Sequence[Any],
    loss_fn: Callable[[list[Any], list[Any]], Value],
    optimizer: Any,
    *,
    scale: float = 1.0,
    zero_grad: bool = True,
    step: bool = True,
) -> StepResult:
    """One step of gradient descent on the batch ``(X, y)``; return its loss and outputs.

    The five lines, in order: forward, loss, ``optimizer.zero_grad()``,
    ``loss.backward()``, ``optimizer.step()``. A ``nan`` or ``inf`` loss
    changes nothing: no gradient is computed and no weight moves, so the
    caller can stop with the weights it had.

    Gradient accumulation (PyTorch's recipe): for ``k`` batches whose
    gradients add up to one update, pass ``scale=1/k`` (or each batch's share
    of the samples), ``zero_grad=False`` for all but the first batch and
    ``step=False`` for all but the last. The gradient is then that of
    ``scale * loss``: d(scale * L)/dw = scale * dL/dw.

    ``outputs`` are the model's outputs for ``X`` (Values, recorded in the
    graph), for accuracy or other bookkeeping; read numbers from ``.data``.
    """
    outputs = [model(x) for x in X]  # forward
    loss = loss_fn(outputs, list(y))  # how wrong are we?
    loss = _check_loss(loss, loss_fn)
    if not math.isfinite(loss.data):
        return StepResult(loss.data, outputs)  # a nan/inf loss must not reach the weights
    if zero_grad:
        optimizer.zero_grad()  # forget the last step's gradients
    (loss if scale == 1.0 else loss * scale).backward()  # chain rule: dloss/dw for every w
    if step:
        optimizer.step()  # w <- w - lr * dloss/dw
    return StepResult(loss.data, outputs)


@dataclass
class History:
    """What happened during ``fit``, one entry per finished epoch.

    ``loss`` and ``accuracy`` are measured on the training set after each
    epoch, ``val_loss`` and ``val_accuracy`` on the validation set (empty
    without one), ``lr`` is the learning rate used in each epoch. ``stopped``
    says why training ended early: ``None`` (it ran every epoch),
    ``"early_stopping"`` or ``"diverged"``. ``best_epoch`` is the index (counting
    from 0, as the lists do) of the epoch whose weights the model holds after
    early stopping: ``history.val_loss[history.best_epoch]`` is its loss.
    """

    loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    stopped: str | None = None
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        """Number of finished epochs."""
        return len(self.loss)

    def __repr__(self) -> str:
        parts = [f"epochs={self.epochs}"]
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            values = getattr(self, name)
            if values:
                parts.append(f"{name}={values[0]:.4g} -> {values[-1]:.4g}")
        if self.best_epoch is not None:
            parts.append(f"best_epoch={self.best_epoch} (epoch {self.best_epoch + 1})")
        parts.append(f"stopped={self.stopped!r}")
        return f"History({', '.join(parts)})"


def fit(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    loss: str | Callable[[list[Any], list[Any]], Value],
    optimizer: Any,
    epochs: int,
    batch_size: int | None = None,
    accumulation_steps: int = 1,
    validation: tuple[Sequence[Sequence[float]], Sequence[Any]] | None = None,
    early_stopping: int | None = None,
    progress: bool = True,
    random_state: int | random.Random | None = None,
    scheduler: Any = None,
) -> History:
    """Train ``model`` on ``(X, y)`` by gradient descent; return a ``History``.

    - ``loss``: ``"mse"``, ``"mae"``, ``"bce"``, ``"bce_logits"``, ``"ce"``,
      ``"hinge"`` (targets -1/+1), or a function ``loss(outputs, targets) -> Value``.
      With a function, ``History.loss``, ``val_loss`` and early stopping see
      exactly what it returns: a penalty it adds (``+ 1e-4 * l2_penalty(...)``)
      is part of the recorded loss.
    - ``batch_size``: ``None`` uses every sample in each step (batch gradient
      descent), ``k`` uses ``k`` samples (mini-batch), ``1`` one sample
      (stochastic). The samples are shuffled every epoch from ``random_state``.
    - ``accumulation_steps=k``: gradients of ``k`` mini-batches are summed
      (weights held fixed meanwhile) before one ``optimizer.step()``; each
      mini-batch loss is divided by ``k``, so the update equals that of one
      ``k`` times larger batch: mean(L1..Lk) = (L1 + ... + Lk) / k.
    - ``validation=(X_val, y_val)``: also measure loss and accuracy there.
    - ``early_stopping=patience``: stop when the validation loss (the training
      loss without validation) has not improved for ``patience`` epochs, and
      keep the weights of the best epoch.
    - ``scheduler``: a learning-rate scheduler, stepped once per epoch.
    - ``progress``: show a progress bar (only when writing to a terminal).

    A ``nan`` or ``inf`` loss stops training: the model keeps its last weights
    with a finite loss, ``History.stopped`` is ``"diverged"`` and a
    ``RuntimeWarning`` suggests a smaller learning rate.
    """
    loss_fn = _resolve_loss(loss)
    _check_data(X, y, "X", "y")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(f"validation must be a pair (X_val, y_val), got {type(validation).__name__}")
        _check_data(validation[0], validation[1], "X_val", "y_val")
    _check_positive(epochs, "epochs", allow_zero=True)
    _check_positive(accumulation_steps, "accumulation_steps")
    if batch_size is not None:
        _check_positive(batch_size, "batch_size")
    if early_stopping is not None:
        _check_positive(early_stopping, "early_stopping")
    if loss == "hinge":
        for targets in (y, validation[1] if validation is not None else ()):
            _check_labels(targets, (-1, 1), "hinge loss needs targets -1 or +1; convert 0/1 labels with y = [2 * t - 1 for t in y]")

    rng = random_state if isinstance(random_state, random.Random) else random.Random(random_state)
    params = list(model.parameters())
    history = History()
    last_good = _weights(params)  # the latest weights known to give a finite loss
    best, best_loss, waited = last_good, math.inf, 0

    bar = _progress_bar(epochs, progress)
    try:
        for epoch in bar:
            history.lr.append(_learning_rate(optimizer))
            model.train()
            # one group = the mini-batches of one update (one, without accumulation)
            for group in _groups(len(X), batch_size, accumulation_steps, rng):
                group_size = sum(len(batch) for batch in group)
                before = _weights(params)
                for j, batch in enumerate(group):
                    # each mini-batch's mean, weighted by its share of the group
                    # (1/k for k equal mini-batches): the group's mean loss
                    result = train_step(
                        model, [X[i] for i in batch], [y[i] for i in batch], loss_fn, optimizer,
                        scale=len(batch) / group_size, zero_grad=j == 0, step=j == len(group) - 1,
                    )
                    if not math.isfinite(result.loss):
                        return _diverged(history, params, last_good, epoch, result.loss, optimizer)
                last_good = before  # every batch of the group had a finite loss there

            train_loss, train_acc = _evaluate(model, X, y, loss_fn, loss)
            if not math.isfinite(train_loss):
                return _diverged(history, params, last_good, epoch, train_loss, optimizer)
            history.loss.append(train_loss)
            _append_if(history.accuracy, train_acc)
            monitored = train_loss
            if validation is not None:
                val_loss, val_acc = _evaluate(model, validation[0], validation[1], loss_fn, loss)
                history.val_loss.append(val_loss)
                _append_if(history.val_accuracy, val_acc)
                monitored = val_loss
            bar.set_postfix(_postfix(history))
            if scheduler is not None:
                scheduler.step()

            if early_stopping is not None:
                if monitored < best_loss:
                    best, best_loss, waited, history.best_epoch = _weights(params), monitored, 0, epoch
                else:
                    waited += 1
                    if waited >= early_stopping:
                        history.stopped = "early_stopping"
                        break
        if early_stopping is not None and history.best_epoch is not None:
            _set_weights(params, best)
        return history
    finally:
        bar.close()


# --------------------------------------------------------------------------
# Pieces of the loop
# --------------------------------------------------------------------------
def _groups(n: int, batch_size: int | None, accumulation_steps: int, rng: random.Random) -> list[list[list[int]]]:
    """Split sample indices into mini-batches, and those into groups of one update each."""
    order = list(range(n))
    if batch_size is not None and batch_size < n:
        rng.shuffle(order)
    else:
        batch_size = n
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    return [batches[i : i + accumulation_steps] for i in range(0, len(batches), accumulation_steps)]


def _evaluate(
    model: Any, X: Sequence[Any], y: Sequence[Any], loss_fn: Callable[..., Value], loss: str | Callable[..., Value]
) -> tuple[float, float | None]:
    """Loss and accuracy on (X, y) in eval mode, without recording a graph."""
    model.eval()
    try:
        with no_grad():
            outputs = [model(x) for x in X]
            value = _check_loss(loss_fn(outputs, list(y)), loss).data
    finally:
        model.train()
    return value, _accuracy(outputs, list(y), loss)


def _accuracy(outputs: list[Any], targets: list[Any], loss: str | Callable[..., Value]) -> float | None:
    """Fraction of samples classified right, or None when the targets are not class labels.

    ``nn.metrics.accuracy`` picks the rule: argmax for several outputs, the
    sign for -1/+1 labels, ``output > threshold`` for 0/1 labels. The threshold
    is 0 for scores and logits, 0.5 when the loss wants outputs near 0 and 1.
    """
    from .metrics import accuracy

    threshold = None
    if not isinstance(outputs[0], (list, tuple)) and loss in ("bce", "mse", "mae") and set(targets) <= {0, 1}:
        threshold = 0.5
    try:
        return accuracy(outputs, targets, threshold)
    except (ValueError, TypeError):
        return None  # e.g. regression targets such as 0.37: accuracy means nothing


def _diverged(
    history: History, params: list[Value], last_good: list[float], epoch: int, value: float, optimizer: Any
) -> History:
    _set_weights(params, last_good)
    for p in params:
        p.grad = 0.0
    history.stopped = "diverged"
    lr = _learning_rate(optimizer)
    lr_text = f" (lr={lr:g})" if not math.isnan(lr) else ""
    warnings.warn(
        f"Training diverged in epoch {epoch + 1}: the loss became {value}. "
        f"The learning rate{lr_text} is probably too large; try a smaller one, e.g. ten times smaller. "
        "The model keeps its last weights that gave a finite loss.",
        RuntimeWarning,
        stacklevel=3,
    )
    return history


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
def _resolve_loss(loss: str | Callable[..., Value]) -> Callable[..., Value]:
    if isinstance(loss, str):
        if loss not in _LOSS_FUNCTIONS:
            raise ValueError(f"unknown loss {loss!r}; use one of {', '.join(map(repr, LOSSES))} or a function loss(outputs, targets)")
        from . import losses

        return getattr(losses, _LOSS_FUNCTIONS[loss])
    if callable(loss):
        return loss
    raise TypeError(f"loss must be a name such as 'mse' or a function loss(outputs, targets), got {type(loss).__name__} {loss!r}")


def _check_loss(value: Any, loss: str | Callable[..., Value]) -> Value:
    if not isinstance(value, Value):
        name = getattr(loss, "__name__", repr(loss))
        raise TypeError(f"the loss function {name} must return one Value (the mean loss), got {type(value).__name__} {value!r}")
    return value


def _check_data(X: Any, y: Any, x_name: str, y_name: str) -> None:
    if len(X) != len(y):
        raise ValueError(f"{x_name} and {y_name} must have one target per sample, got {len(X)} samples and {len(y)} targets")
    if len(X) == 0:
        raise ValueError(f"{x_name} is empty: fit needs at least one sample")


def _check_positive(n: Any, name: str, allow_zero: bool = False) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < (0 if allow_zero else 1):
        least = "0 or more" if allow_zero else "1 or more"
        raise ValueError(f"{name} must be a whole number, {least}; got {n!r}")


def _check_labels(y: Sequence[Any], allowed: tuple[int, ...], message: str) -> None:
    bad = [t for t in y if t not in allowed]
    if bad:
        raise ValueError(f"{message} (got {bad[0]!r})")


def _weights(params: list[Value]) -> list[float]:
    return [p.data for p in params]


def _set_weights(params: list[Value], weights: list[float]) -> None:
    for p, w in zip(params, weights, strict=True):
        p.data = w


def _append_if(values: list[float], value: float | None) -> None:
    if value is not None:
        values.append(value)


def _learning_rate(optimizer: Any) -> float:
    lr = getattr(optimizer, "lr", math.nan)
    return float(lr) if isinstance(lr, (int, float)) else math.nan


def _progress_bar(epochs: int, progress: bool) -> Any:
    from tqdm import tqdm

    # disable=None: show the bar only when stderr is a terminal
    return tqdm(range(epochs), desc="fit", unit="epoch", disable=None if progress else True, leave=True)


def _postfix(history: History) -> dict[str, str]:
    postfix = {"loss": f"{history.loss[-1]:.4f}"}
    if history.accuracy:
        postfix["acc"] = f"{history.accuracy[-1]:.3f}"
    if history.val_loss:
        postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
    if history.val_accuracy:
        postfix["val_acc"] = f"{history.val_accuracy[-1]:.3f}"
    return postfix
