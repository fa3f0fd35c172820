"""Optimisers and learning-rate schedules, with ``torch.optim``'s update rules.

An optimiser holds a list of parameters (``Value``s) and, after
``loss.backward()`` has filled in every ``p.grad``, ``step()`` moves each
``p.data`` a little way downhill::

    for step in range(100):
        optimizer.zero_grad()       # p.grad = 0.0 for every parameter
        loss = ...                  # forward pass
        loss.backward()             # p.grad = d loss / d p
        optimizer.step()            # p.data -= lr * (something built from p.grad)

Each class uses the same argument names, defaults and arithmetic as its
``torch.optim`` namesake, so the numbers agree with PyTorch step for step.
A scheduler changes ``optimizer.lr`` between steps, like
``torch.optim.lr_scheduler``.

In the formulas below ``g`` is the gradient ``p.grad``, ``t`` counts steps
from 1, and ``lr`` is the learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from autograd import Value

from . import checks

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "LinearLR",
]


# --------------------------------------------------------------------------
# Argument checking
# --------------------------------------------------------------------------
def _setting(owner: str, name: str, x: object, high: float = math.inf, high_open: bool = False) -> float:
    """A finite hyperparameter in [0, high] (or [0, high)) as a float; TypeError for a non-number."""
    return checks.in_range(x, f"{owner}: {name}", 0.0, high, high_open=high_open)


def _flag(owner: str, name: str, x: object) -> bool:
    if not isinstance(x, bool):
        raise TypeError(f"{owner}: {name} must be True or False, got {checks.show(x)}")
    return x


def _param_list(params: Iterable[Value], owner: str) -> list[Value]:
    """The parameters as a list of distinct Values, in their first-seen order."""
    if isinstance(params, Value):
        raise TypeError(f"{owner} takes a list of Values, got a single Value; wrap it: {owner}([p], ...)")
    if hasattr(params, "parameters") and not isinstance(params, (list, tuple)):
        name = type(params).__name__
        raise TypeError(f"{owner} takes the parameters, got a {name}; did you mean {owner}(model.parameters(), ...)?")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(
            f"{owner} takes an iterable of Values such as model.parameters(), got {type(params).__name__}"
        ) from None
    unique: list[Value] = []
    seen: set[int] = set()
    for i, p in enumerate(items):
        if not isinstance(p, Value):
            raise TypeError(f"{owner}: parameter {i} is a {checks.show(p)}, not a Value")
        if id(p) not in seen:  # the same Value listed twice is updated once
            seen.add(id(p))
            unique.append(p)
    if not unique:
        raise ValueError(f"{owner} got an empty parameter list; there is nothing to optimise")
    return unique


# --------------------------------------------------------------------------
# Optimisers
# --------------------------------------------------------------------------
class Optimizer:
    """Base class: the parameters, the learning rate ``lr`` and the per-parameter state.

    Subclasses list their hyperparameters in ``_hyper`` (checked by
    ``_check_settings``, in the constructor and in ``load_state_dict`` alike)
    and their per-parameter state (one float per parameter) in ``_buffers``;
    ``steps`` counts the calls to ``step()``.
    """

    _hyper: tuple[str, ...] = ()
    _buffers: tuple[str, ...] = ()
    _nonnegative: tuple[str, ...] = ()  # buffers of squared gradients, which no run makes negative

    def __init__(self, params: Iterable[Value], lr: float, **settings: Any) -> None:
        name = type(self).__name__
        self.params: list[Value] = _param_list(params, name)
        self.lr: float = _setting(name, "lr", lr)
        for setting, value in self._check_settings(settings).items():
            setattr(self, setting, value)
        self.steps: int = 0
        for buffer in self._buffers:
            setattr(self, buffer, [0.0] * len(self.params))

    def _check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The hyperparameters (``_hyper``) checked and converted; a mistake raises and changes nothing."""
        return {}

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0 (gradients accumulate otherwise)."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every ``p.data`` from ``p.grad``."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The learning rate, hyperparameters, step count and buffers as a JSON-safe dict."""
        return {
            "type": type(self).__name__,
            "lr": self.lr,
            **{h: getattr(self, h) for h in self._hyper},
            "steps": self.steps,
            "state": {b: list(getattr(self, b)) for b in self._buffers},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned.

        Everything is checked as the constructor checks it (and converted)
        before anything is assigned: a mismatch or a bad value raises
        (ValueError, or TypeError for a wrong type) and changes nothing.
        """
        name = type(self).__name__
        expected = {"type", "lr", "steps", "state", *self._hyper}
        if not isinstance(state, dict):
            raise ValueError(f"{name}.load_state_dict takes a dict from state_dict(), got {type(state).__name__}")
        if state.get("type") != name:
            raise ValueError(f"this state belongs to a {checks.shorten(str(state.get('type')), 80)}, not a {name}")
        if set(state) != expected:
            keys = checks.shorten(str(sorted(map(str, state))))
            raise ValueError(f"{name}.load_state_dict expects keys {sorted(expected)}, got {keys}")
        lr = _setting(name, "lr", state["lr"])
        settings = self._check_settings({h: state[h] for h in self._hyper})
        steps = checks.positive_int(state["steps"], f"{name}: steps", minimum=0)
        buffers = self._check_buffers(state["state"])
        # everything is valid: now change the optimiser
        self.lr, self.steps = lr, steps
        for setting, value in {**settings, **buffers}.items():
            setattr(self, setting, value)

    def _check_buffers(self, buffers: object) -> dict[str, list[float]]:
        name = type(self).__name__
        if not isinstance(buffers, dict) or set(buffers) != set(self._buffers):
            raise ValueError(f"{name} state must hold the buffers {list(self._buffers)}")
        checked = {}
        for b, values in buffers.items():
            if not isinstance(values, (list, tuple)):
                raise ValueError(f"buffer {b!r} must be a list of numbers, got {checks.show(values)}")
            if len(values) != len(self.params):
                raise ValueError(f"buffer {b!r} has {len(values)} entries for {len(self.params)} parameters")
            # nan or inf may be in a buffer legitimately (a run whose gradients became nan or inf), so they are kept
            checked[b] = [checks.real(v, f"{name} buffer {b}[{i}]", finite=False) for i, v in enumerate(values)]
            if b in self._nonnegative:  # a mean of squares: a negative one only comes from a corrupted state
                for i, v in enumerate(checked[b]):
                    if v < 0.0:
                        raise ValueError(
                            f"{name} buffer {b}[{i}] is {v!r}, but it is a mean of squared gradients, never "
                            "negative: this state is corrupted. Nothing was changed."
                        )
        return checked

    def __repr__(self) -> str:
        hyper = "".join(f", {h}={getattr(self, h)!r}" for h in self._hyper)
        return f"{type(self).__name__}({len(self.params)} parameters, lr={self.lr!r}{hyper})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum, as ``torch.optim.SGD``.

    ::

        g = g + weight_decay * p                  (L2 penalty, if weight_decay)
        b = g                                     (first step)
        b = momentum * b + (1 - dampening) * g    (later steps)
        g = g + momentum * b  if nesterov  else  b    (if momentum)
        p = p - lr * g
    """

    _hyper = ("momentum", "dampening", "nesterov", "weight_decay")
    _buffers = ("momentum_buffer",)
    momentum_buffer: list[float]

    momentum: float
    dampening: float
    nesterov: bool
    weight_decay: float

    def __init__(self, params: Iterable[Value], lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                         weight_decay=weight_decay)

    def _check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        checked = {
            "momentum": _setting("SGD", "momentum", settings["momentum"]),
            "dampening": _setting("SGD", "dampening", settings["dampening"], high=1.0),
            "nesterov": _flag("SGD", "nesterov", settings["nesterov"]),
            "weight_decay": _setting("SGD", "weight_decay", settings["weight_decay"]),
        }
        if checked["nesterov"] and (checked["momentum"] <= 0.0 or checked["dampening"] != 0.0):
            raise ValueError("SGD: nesterov=True needs a momentum > 0 and dampening=0")
        return checked

    def step(self) -> None:
        lr, mu, wd, nesterov = self.lr, self.momentum, self.weight_decay, self.nesterov
        keep = 1.0 - self.dampening
        first = self.steps == 0
        buf = self.momentum_buffer
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                g = g + wd * p.data
            if mu:
                b = g if first else mu * buf[i] + keep * g
                buf[i] = b
                g = g + mu * b if nesterov else b
            p.data -= lr * g
        self.steps += 1


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2014), as ``torch.optim.Adam``.

    ::

        g = g + weight_decay * p                  (L2 penalty, if weight_decay)
        m = beta1 * m + (1 - beta1) * g           (mean of gradients)
        v = beta2 * v + (1 - beta2) * g * g       (mean of squared gradients)
        v_max = max(v_max, v); use v_max for v    (if amsgrad)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    ``m`` and ``v`` start at 0; dividing by ``1 - beta**t`` corrects that bias.
    """

    _hyper = ("betas", "eps", "weight_decay", "amsgrad")
    _buffers = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    _nonnegative = ("exp_avg_sq", "max_exp_avg_sq")
    exp_avg: list[float]
    exp_avg_sq: list[float]
    max_exp_avg_sq: list[float]
    betas: tuple[float, float]
    eps: float
    weight_decay: float
    amsgrad: bool
    _decoupled = False  # AdamW decays the weights directly instead of through g

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad)

    def _check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        name = type(self).__name__
        betas = settings["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas must be a pair (beta1, beta2), got {checks.show(betas)}")
        return {
            "betas": (  # a tuple, also after JSON turned it into a list
                _setting(name, "betas[0]", betas[0], high=1.0, high_open=True),
                _setting(name, "betas[1]", betas[1], high=1.0, high_open=True),
            ),
            "eps": _setting(name, "eps", settings["eps"]),
            "weight_decay": _setting(name, "weight_decay", settings["weight_decay"]),
            "amsgrad": _flag(name, "amsgrad", settings["amsgrad"]),
        }

    def step(self) -> None:
        self.steps += 1
        lr, eps, wd, amsgrad = self.lr, self.eps, self.weight_decay, self.amsgrad
        beta1, beta2 = self.betas
        w1, w2 = 1.0 - beta1, 1.0 - beta2
        step_size = lr / (1.0 - beta1**self.steps)
        bias2_sqrt = math.sqrt(1.0 - beta2**self.steps)
        decay = 1.0 - lr * wd  # AdamW's decoupled weight decay
        decoupled = self._decoupled and wd != 0.0
        coupled = not self._decoupled and wd != 0.0
        ms, vs, vmaxs = self.exp_avg, self.exp_avg_sq, self.max_exp_avg_sq
        for i, p in enumerate(self.params):
            g = p.grad
            if decoupled:
                p.data *= decay
            elif coupled:
                g = g + wd * p.data
            m = ms[i]
            m = m + w1 * (g - m)  # = beta1 * m + (1 - beta1) * g, as torch's lerp
            v = beta2 * vs[i] + w2 * g * g
            ms[i] = m
            vs[i] = v
            if amsgrad:
                if not v <= vmaxs[i]:  # keeps a nan, as torch.maximum does
                    vmaxs[i] = v
                v = vmaxs[i]
            denom = math.sqrt(v) / bias2_sqrt + eps
            p.data -= step_size * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2017), as ``torch.optim.AdamW``.

    ::

        p = p * (1 - lr * weight_decay)           (shrink the weight itself, not g)
        then the Adam step above with weight_decay = 0
    """

    _decoupled = True

    def __init__(self, params: Iterable[Value], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012), as ``torch.optim.RMSprop``.

    ::

        g = g + weight_decay * p                  (L2 penalty, if weight_decay)
        v = alpha * v + (1 - alpha) * g * g       (mean of squared gradients)
        a = alpha * a + (1 - alpha) * g           (mean of gradients, if centered)
        d = sqrt(v - a * a) + eps  if centered  else  sqrt(v) + eps
        b = momentum * b + g / d;  p = p - lr * b     (if momentum)
        p = p - lr * g / d                            (otherwise)
    """

    _hyper = ("alpha", "eps", "weight_decay", "momentum", "centered")
    _buffers = ("square_avg", "grad_avg", "momentum_buffer")
    _nonnegative = ("square_avg",)
    square_avg: list[float]
    grad_avg: list[float]
    momentum_buffer: list[float]

    alpha: float
    eps: float
    weight_decay: float
    momentum: float
    centered: bool

    def __init__(self, params: Iterable[Value], lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False) -> None:
        super().__init__(params, lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                         centered=centered)

    def _check_settings(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {
            "alpha": _setting("RMSprop", "alpha", settings["alpha"], high=1.0),
            "eps": _setting("RMSprop", "eps", settings["eps"]),
            "weight_decay": _setting("RMSprop", "weight_decay", settings["weight_decay"]),
            "momentum": _setting("RMSprop", "momentum", settings["momentum"]),
            "centered": _flag("RMSprop", "centered", settings["centered"]),
        }

    def step(self) -> None:
        self.steps += 1
        lr, alpha, eps, wd, mu, centered = (
            self.lr, self.alpha, self.eps, self.weight_decay, self.momentum, self.centered)
        w = 1.0 - alpha
        vs, avgs, buf = self.square_avg, self.grad_avg, self.momentum_buffer
        for i, p in enumerate(self.params):
            g = p.grad
            if wd:
                g = g + wd * p.data
            v = alpha * vs[i] + w * g * g
            vs[i] = v
            if centered:
                a = avgs[i]
                a = a + w * (g - a)  # as torch's lerp
                avgs[i] = a
                v = v - a * a
            d = (math.sqrt(v) if v >= 0.0 else math.nan) + eps
            if mu > 0.0:
                b = mu * buf[i] + g / d
                buf[i] = b
                p.data -= lr * b
            else:
                p.data -= lr * (g / d)


# --------------------------------------------------------------------------
# Learning-rate schedules
# --------------------------------------------------------------------------
class LRScheduler:
    """Base class: changes ``optimizer.lr`` each time ``step()`` is called (once per epoch).

    ``base_lr`` is the optimiser's learning rate when the scheduler was made;
    ``last_epoch`` counts the calls to ``step()``.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not checks.is_real(getattr(optimizer, "lr", None)):
            raise TypeError(f"{type(self).__name__} takes an optimiser with an lr, got {checks.show(optimizer)}")
        self.optimizer = optimizer
        self.base_lr: float = optimizer.lr
        self.last_epoch: int = 0
        optimizer.lr = self._initial_lr(optimizer.lr)
        self._last_lr: float = optimizer.lr

    def _initial_lr(self, lr: float) -> float:
        return lr

    def _next_lr(self, lr: float) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimiser's new learning rate."""
        self.last_epoch += 1
        self.optimizer.lr = self._next_lr(self.optimizer.lr)
        self._last_lr = self.optimizer.lr

    def get_last_lr(self) -> list[float]:
        """The current learning rate as a one-element list, as in PyTorch (one per parameter group)."""
        return [self._last_lr]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr!r})"


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs, as ``torch``'s StepLR.

    ``lr = base_lr * gamma ** (epoch // step_size)``
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        self.step_size = checks.positive_int(step_size, "StepLR: step_size")
        self.gamma = _setting("StepLR", "gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr


class ExponentialLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every epoch, as ``torch``'s ExponentialLR.

    ``lr = base_lr * gamma ** epoch``
    """

    def __init__(self, optimizer: Optimizer, gamma: float) -> None:
        self.gamma = _setting("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma


class LinearLR(LRScheduler):
    """Warm up (or down) linearly over ``total_iters`` epochs, as ``torch``'s LinearLR.

    ``lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters)``

    The start factor applies at once: right after construction ``lr = base_lr * start_factor``.
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5) -> None:
        self.start_factor = _setting("LinearLR", "start_factor", start_factor, high=1.0)
        if self.start_factor == 0.0:
            raise ValueError("LinearLR: start_factor must be in (0, 1], got 0; the rate would be 0 at the start")
        self.end_factor = _setting("LinearLR", "end_factor", end_factor, high=1.0)
        self.total_iters = checks.positive_int(total_iters, "LinearLR: total_iters")
        super().__init__(optimizer)

    def _initial_lr(self, lr: float) -> float:
        return lr * self.start_factor

    def _next_lr(self, lr: float) -> float:
        if self.last_epoch > self.total_iters:
            return lr
        # torch's chainable form: the ratio of this epoch's factor to the last one's
        change = self.end_factor - self.start_factor
        return lr * (1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change))
