"""The training loop: ``fit`` runs gradient descent and returns a ``History``.

One step of gradient descent is five lines (``train_step``), and ``fit`` is
those five lines plus bookkeeping::

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, NamedTuple

import autograd
from autograd import Value
from autograd.compile import Compiled

from . import checks
from .losses import LOSSES, decision_threshold, hinge_loss, loss_function
from .metrics import accuracy
from .module import Module
from .optim import LRScheduler, Optimizer

__all__ = ["fit", "train_step", "StepResult", "History", "EarlyStopping", "LOSSES", "TRAIN_METRICS"]

TRAIN_METRICS = ("running", "full")
"""How ``fit`` measures ``History.loss`` and ``History.accuracy`` (its ``train_metrics`` argument)."""

LossFunction = Callable[[list[Any], list[Any]], Value]


# --------------------------------------------------------------------------
# One step
# --------------------------------------------------------------------------
class StepResult(NamedTuple):
    """What ``train_step`` returns: the batch's ``loss`` as a float and the model's ``outputs``."""

    loss: float
    outputs: list[Any]


def train_step(
    model: Callable[[Any], Any],
    X: Sequence[Any],
    y: Sequence[Any],
    loss_fn: LossFunction,
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
    ``model`` may be a compiled model (``autograd.compile(model)``): its
    forward and backward then run as generated code, with the same numbers.
    """
    outputs = model.map(X) if isinstance(model, Compiled) else [model(x) for x in X]  # forward
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


# --------------------------------------------------------------------------
# What fit returns, and early stopping
# --------------------------------------------------------------------------
@dataclass
class History:
    """What happened during ``fit``, one entry per finished epoch.

    ``loss`` and ``accuracy`` describe the training set; what exactly depends
    on ``fit``'s ``train_metrics``: with ``"running"`` (the default) they are
    the mean over the epoch's mini-batches, weighted by batch size, of what the
    forward passes of training measured (in training mode, each batch before
    its update); with ``"full"`` the whole training set is evaluated again
    after the epoch (eval mode, the epoch's final weights). ``val_loss`` and
    ``val_accuracy`` are always measured on the whole validation set after the
    epoch (empty without one). ``lr`` is the learning rate used in each epoch.
    ``stopped`` says why training ended early: ``None`` (it ran every epoch),
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


class EarlyStopping:
    """Stop when the watched loss has not improved for ``patience`` epochs; remember the best weights."""

    def __init__(self, patience: int, params: list[Value]) -> None:
        self.patience = patience
        self.params = params
        self.best_loss = math.inf
        self.best_epoch: int | None = None
        self.best_weights: list[float] = []
        self.waited = 0

    def should_stop(self, epoch: int, loss: float) -> bool:
        """Record this epoch's ``loss``; True once ``patience`` epochs in a row brought no improvement."""
        if loss < self.best_loss:
            self.best_loss, self.best_epoch, self.best_weights, self.waited = loss, epoch, _weights(self.params), 0
            return False
        self.waited += 1
        return self.waited >= self.patience

    def restore_best(self) -> None:
        """Put the weights of the best epoch back into the parameters."""
        if self.best_epoch is not None:
            _set_weights(self.params, self.best_weights)


# --------------------------------------------------------------------------
# fit
# --------------------------------------------------------------------------
def fit(
    model: Module,
    X: Sequence[Any],
    y: Sequence[Any],
    loss: str | LossFunction,
    optimizer: Optimizer,
    epochs: int,
    batch_size: int | None = None,
    accumulation_steps: int = 1,
    validation: tuple[Sequence[Any], Sequence[Any]] | None = None,
    early_stopping: int | None = None,
    progress: bool = True,
    random_state: int | random.Random | None = None,
    scheduler: LRScheduler | None = None,
    train_metrics: str = "running",
    compile: bool = False,  # noqa: A002 - as torch.compile
) -> History:
    """Train ``model`` on ``(X, y)`` by gradient descent; return a ``History``.

    - ``loss``: a name from ``nn.losses.LOSSES`` (``"mse"``, ``"mae"``/``"l1"``,
      ``"bce"``, ``"bce_logits"``/``"bce_with_logits"``, ``"ce"``/``"cross_entropy"``,
      ``"hinge"`` with targets -1/+1...), or a function ``loss(outputs, targets) -> Value``.
      With a function, ``History.loss``, ``val_loss`` and early stopping see
      exactly what it returns: a penalty it adds (``+ 1e-4 * l2_penalty(...)``)
      is part of the recorded loss.
    - ``batch_size``: ``None`` uses every sample in each step (batch gradient
      descent), ``k`` uses ``k`` samples (mini-batch), ``1`` one sample
      (stochastic). The samples are shuffled every epoch from ``random_state``:
      an int seed or a ``random.Random``; ``None`` draws from Python's global
      ``random``, so ``random.seed(s)`` reproduces a whole run.
    - ``accumulation_steps=k``: gradients of ``k`` mini-batches are summed
      (weights held fixed meanwhile) before one ``optimizer.step()``; each
      mini-batch loss is divided by ``k``, so the update equals that of one
      ``k`` times larger batch: mean(L1..Lk) = (L1 + ... + Lk) / k.
    - ``validation=(X_val, y_val)``: also measure loss and accuracy there,
      on the whole set after every epoch (eval mode, no graph recorded).
    - ``train_metrics``: how ``History.loss`` and ``History.accuracy`` are
      measured. ``"running"`` (default, free): the mean of the losses the
      epoch's training steps computed, weighted by batch size, and the
      accuracy of their outputs, as a PyTorch loop records them (the weights
      change during the epoch, and dropout is on). ``"full"``: after each
      epoch, the whole training set is evaluated again with the final
      weights in eval mode (one extra forward pass per epoch).
    - ``early_stopping=patience``: stop when the validation loss (the training
      loss ``History.loss`` without validation) has not improved for
      ``patience`` epochs, and keep the weights of the best epoch (as they
      were at that epoch's end).
    - ``scheduler``: a learning-rate scheduler of ``optimizer``, stepped once per epoch.
    - ``compile=True``: trace the model's forward pass for one example once
      and run it (and its backward) as generated Python code
      (``autograd.compile``): the same losses and gradients as without, several
      times faster. The model's Python control flow is frozen at the first
      example (a dropout mask too: a model with ``Dropout`` is refused).
    - ``progress``: show a progress bar in Jupyter and in a terminal (none
      when the output goes to a file or a pipe); ``False`` shows none.

    A ``nan`` or ``inf`` training loss (or weight) stops training: the model
    keeps its last weights with a finite loss, ``History.stopped`` is
    ``"diverged"`` and a ``RuntimeWarning`` suggests a smaller learning rate.
    Data containing ``nan`` or ``inf`` is refused before training starts.
    The model ends in the mode (train or eval) it was in before.
    """
    loss_fn = _check_fit_args(
        model, X, y, loss, optimizer, epochs, batch_size, accumulation_steps, validation, early_stopping,
        scheduler, train_metrics,
    )  # fmt: skip
    rng = checks.as_rng(random_state, "random_state")
    params = model.parameters()
    history = History()
    stopper = EarlyStopping(early_stopping, params) if early_stopping is not None else None
    last_good = _weights(params)  # the latest weights known to give a finite loss
    modes = [(m, m.training) for m in model.modules()]
    bar = _progress_bar(epochs) if progress else None
    if not isinstance(compile, bool):
        raise TypeError(f"compile is True or False, got {checks.show(compile)}")
    forward: Callable[[Any], Any] = autograd.compile(model) if compile else model
    try:
        model.train()
        for epoch in bar if bar is not None else range(epochs):
            history.lr.append(_learning_rate(optimizer))
            groups = _groups(len(X), batch_size, accumulation_steps, rng)
            run = _train_epoch(forward, params, X, y, loss_fn, optimizer, groups, last_good)
            last_good = run.last_good
            if run.bad is not None:
                return _diverged(history, params, last_good, epoch, run.bad, run.what, optimizer)
            if train_metrics == "full":
                train_loss, train_acc = _evaluate(model, X, y, loss_fn)
            else:
                train_loss, train_acc = run.loss, _accuracy(run.outputs, run.targets, loss_fn)
            if not math.isfinite(train_loss):
                return _diverged(history, params, last_good, epoch, train_loss, "loss", optimizer)
            val = _evaluate(model, validation[0], validation[1], loss_fn) if validation is not None else None
            _record(history, train_loss, train_acc, val)
            if bar is not None:
                bar.set_postfix(_postfix(history))
            if scheduler is not None:
                scheduler.step()
            if stopper is not None:
                stop = stopper.should_stop(epoch, val[0] if val is not None else train_loss)
                history.best_epoch = stopper.best_epoch
                if stop:
                    history.stopped = "early_stopping"
                    break
        if stopper is not None:
            stopper.restore_best()
        return history
    finally:
        for module, mode in modes:
            module.training = mode
        if bar is not None:
            bar.close()


# --------------------------------------------------------------------------
# Pieces of the loop
# --------------------------------------------------------------------------
class _Epoch(NamedTuple):
    """One epoch of training: its running loss, outputs (numbers) and targets, or the nan/inf that stopped it."""

    loss: float
    outputs: list[Any]
    targets: list[Any]
    last_good: list[float]  # the latest weights known to give a finite loss
    bad: float | None = None
    what: str = "loss"  # what became nan/inf: "loss" or "weights"


def _train_epoch(
    model: Callable[[Any], Any], params: list[Value], X: Sequence[Any], y: Sequence[Any], loss_fn: LossFunction, optimizer: Any,
    groups: list[list[list[int]]], last_good: list[float],
) -> _Epoch:  # fmt: skip
    """Every update of one epoch; one group of mini-batches makes one update."""
    losses, sizes, outputs, targets = [], [], [], []
    for group in groups:
        group_size = sum(len(batch) for batch in group)
        before = _weights(params)
        for j, batch in enumerate(group):
            batch_y = [y[i] for i in batch]
            # each mini-batch's mean, weighted by its share of the group
            # (1/k for k equal mini-batches): the group's mean loss
            result = train_step(
                model, [X[i] for i in batch], batch_y, loss_fn, optimizer,
                scale=len(batch) / group_size, zero_grad=j == 0, step=j == len(group) - 1,
            )  # fmt: skip
            if not math.isfinite(result.loss):
                return _Epoch(result.loss, [], [], last_good, result.loss)
            losses.append(result.loss)
            sizes.append(len(batch))
            outputs.extend(_numbers(o) for o in result.outputs)
            targets.extend(batch_y)
        last_good = before  # every batch of the group had a finite loss there
        if not all(math.isfinite(p.data) for p in params):
            return _Epoch(math.nan, [], [], last_good, math.nan, "weights")
    # the mean over the batches weighted by their sizes (one batch: its loss exactly)
    mean = losses[0] if len(losses) == 1 else sum(v * k for v, k in zip(losses, sizes, strict=True)) / len(X)
    return _Epoch(mean, outputs, targets, last_good)


def _groups(
    n: int, batch_size: int | None, accumulation_steps: int, rng: random.Random | ModuleType
) -> list[list[list[int]]]:
    """Split sample indices into mini-batches, and those into groups of one update each."""
    order = list(range(n))
    if batch_size is not None and batch_size < n:
        rng.shuffle(order)
    else:
        batch_size = n
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    return [batches[i : i + accumulation_steps] for i in range(0, len(batches), accumulation_steps)]


def _evaluate(model: Module, X: Sequence[Any], y: Sequence[Any], loss_fn: LossFunction) -> tuple[float, float | None]:
    """Loss and accuracy on (X, y) in eval mode, without recording a graph."""
    with model.evaluating():
        outputs = [model(x) for x in X]
        value = _check_loss(loss_fn(outputs, list(y)), loss_fn).data
    return value, _accuracy([_numbers(o) for o in outputs], list(y), loss_fn)


def _accuracy(outputs: list[Any], targets: list[Any], loss_fn: LossFunction) -> float | None:
    """Fraction of samples classified right, or None when the targets are not class labels.

    ``nn.metrics.accuracy`` picks the rule: argmax for several outputs, the
    sign for -1/+1 labels, ``output > threshold`` for 0/1 labels, with the
    threshold ``nn.losses.decision_threshold`` gives for the loss.
    """
    try:
        return accuracy(outputs, targets, decision_threshold(loss_fn, targets))
    except (ValueError, TypeError):
        return None  # e.g. regression targets such as 0.37: accuracy means nothing


def _record(
    history: History, loss: float, acc: float | None, validation: tuple[float, float | None] | None
) -> None:
    history.loss.append(loss)
    if acc is not None:
        history.accuracy.append(acc)
    if validation:
        val_loss, val_acc = validation
        history.val_loss.append(val_loss)
        if val_acc is not None:
            history.val_accuracy.append(val_acc)


def _diverged(
    history: History, params: list[Value], last_good: list[float], epoch: int, value: float, what: str, optimizer: Any
) -> History:
    _set_weights(params, last_good)
    for p in params:
        p.grad = 0.0
    history.stopped = "diverged"
    lr = _learning_rate(optimizer)
    lr_text = f" (lr={lr:g})" if not math.isnan(lr) else ""
    became = f"the loss became {value}" if what == "loss" else f"a weight became {value}"
    warnings.warn(
        f"Training diverged in epoch {epoch + 1}: {became}. "
        f"The learning rate{lr_text} is probably too large; try a smaller one, e.g. ten times smaller. "
        "The model keeps its last weights that gave a finite loss.",
        RuntimeWarning,
        stacklevel=3,
    )
    return history


# --------------------------------------------------------------------------
# Checking fit's arguments
# --------------------------------------------------------------------------
def _check_fit_args(
    model: Any, X: Any, y: Any, loss: Any, optimizer: Any, epochs: Any, batch_size: Any, accumulation_steps: Any,
    validation: Any, early_stopping: Any, scheduler: Any, train_metrics: Any,
) -> LossFunction:  # fmt: skip
    """Check everything before anything changes; return the loss function."""
    if not isinstance(model, Module):
        raise TypeError(f"fit trains an nn.Module such as nn.MLP(2, [8, 1]), got {checks.show(model)}")
    loss_fn = loss_function(loss)
    _check_optimizer(optimizer, model)
    if scheduler is not None:
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(f"scheduler must be a learning-rate scheduler such as StepLR(optimizer, 10), got {checks.show(scheduler)}")
        if getattr(scheduler, "optimizer", optimizer) is not optimizer:
            raise ValueError("the scheduler belongs to a different optimizer; make it from the one you pass to fit")
    checks.positive_int(epochs, "epochs", minimum=0)
    checks.positive_int(accumulation_steps, "accumulation_steps")
    if batch_size is not None:
        checks.positive_int(batch_size, "batch_size")
    if early_stopping is not None:
        checks.positive_int(early_stopping, "early_stopping")
    if train_metrics not in TRAIN_METRICS:
        raise ValueError(f"train_metrics must be 'running' or 'full', got {checks.show(train_metrics)}")
    _check_data(X, y, "X", "y")
    if validation is not None:
        if not isinstance(validation, (tuple, list)) or len(validation) != 2:
            raise TypeError(f"validation must be a pair (X_val, y_val), got {type(validation).__name__}")
        _check_data(validation[0], validation[1], "X_val", "y_val")
    if loss_fn is hinge_loss:
        for targets in (y, validation[1] if validation is not None else ()):
            bad = [t for t in targets if t not in (-1, 1)]
            if bad:
                raise ValueError(
                    "hinge loss needs targets -1 or +1; convert 0/1 labels with y = [2 * t - 1 for t in y] "
                    f"(got {checks.shorten(repr(bad[0]), 80)})"
                )
    return loss_fn


def _check_optimizer(optimizer: Any, model: Module) -> None:
    if not (callable(getattr(optimizer, "step", None)) and callable(getattr(optimizer, "zero_grad", None))):
        raise TypeError(
            f"optimizer must be an optimiser such as nn.optim.SGD(model.parameters(), lr=0.1), got {checks.show(optimizer)}"
        )
    held = getattr(optimizer, "params", None)
    if isinstance(held, list):
        mine = {id(p) for p in model.parameters()}
        if not any(id(p) in mine for p in held):
            raise ValueError(
                "the optimizer holds none of this model's parameters, so training would change nothing; "
                "make it from this model: optimizer = SGD(model.parameters(), lr=...)"
            )


def _check_data(X: Any, y: Any, x_name: str, y_name: str) -> None:
    if len(X) != len(y):
        raise ValueError(f"{x_name} and {y_name} must have one target per sample, got {len(X)} samples and {len(y)} targets")
    if len(X) == 0:
        raise ValueError(f"{x_name} is empty: fit needs at least one sample")
    for name, rows in ((x_name, X), (y_name, y)):
        where = _non_finite(rows, name)
        if where is not None:
            place, value = where
            raise ValueError(
                f"{name} contains {value} ({place}); training on it would only give {value} losses. "
                "Drop those samples or fill in the missing values first"
            )


def _non_finite(rows: Iterable[Any], name: str) -> tuple[str, float] | None:
    """Where the first nan or inf in ``rows`` (numbers, or rows of numbers) is, and its value."""
    for i, row in enumerate(rows):
        items = row if isinstance(row, (list, tuple)) else (row,)
        for j, v in enumerate(items):
            if checks.is_real(v) and not checks.is_integer(v):
                try:
                    value = float(v)
                except OverflowError:
                    value = math.inf
                if not math.isfinite(value):
                    return (f"{name}[{i}][{j}]" if items is row else f"{name}[{i}]"), value
    return None


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
def _check_loss(value: Any, loss: Any) -> Value:
    if not isinstance(value, Value):
        name = getattr(loss, "__name__", repr(loss))
        raise TypeError(f"the loss function {name} must return one Value (the mean loss), got {checks.show(value)}")
    return value


def _numbers(output: Any) -> Any:
    """A model output with its Values replaced by their numbers (so the graph can be freed)."""
    if isinstance(output, Value):
        return output.data
    if isinstance(output, (list, tuple)):
        return [v.data if isinstance(v, Value) else v for v in output]
    return output


def _weights(params: list[Value]) -> list[float]:
    return [p.data for p in params]


def _set_weights(params: list[Value], weights: list[float]) -> None:
    for p, w in zip(params, weights, strict=True):
        p.data = w


def _learning_rate(optimizer: Any) -> float:
    lr = getattr(optimizer, "lr", math.nan)
    return float(lr) if checks.is_real(lr) else math.nan


def _progress_bar(epochs: int) -> Any:
    from tqdm.auto import tqdm  # imported when needed: it looks for Jupyter

    # disable=None: in a terminal shown, in a file or pipe hidden; the notebook bar always shows
    return tqdm(range(epochs), desc="fit", unit="epoch", disable=None, leave=True)


def _postfix(history: History) -> dict[str, str]:
    postfix = {"loss": f"{history.loss[-1]:.4f}"}
    if history.accuracy:
        postfix["acc"] = f"{history.accuracy[-1]:.3f}"
    if history.val_loss:
        postfix["val_loss"] = f"{history.val_loss[-1]:.4f}"
    if history.val_accuracy:
        postfix["val_acc"] = f"{history.val_accuracy[-1]:.3f}"
    return postfix
