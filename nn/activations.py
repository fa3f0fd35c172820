"""Activation functions: what a neuron does with its weighted sum z.

Each takes a Value (or a plain number, which becomes a constant) and returns
a Value; the derivative that ``backward()`` uses is given next to each formula.
``maxout``, ``softmax`` and ``log_softmax`` act on a whole list of values.

``ACTIVATIONS`` is the one list of per-neuron activations by name: neurons,
saved models, the PyTorch bridge, the command line and the playground all read
it. ``TORCH_MODULES`` says which ``torch.nn`` module computes the same
function. ``register_activation`` adds your own function to both, so a model
using it can be built by name, saved, loaded and converted to PyTorch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from autograd import Value, make_op

from .checks import shorten, show

__all__ = [
    "ACTIVATIONS",
    "TORCH_MODULES",
    "BUILT_IN",
    "Activation",
    "get_activation",
    "activation_name",
    "register_activation",
    "identity",
    "step",
    "sign",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "maxout",
    "softmax",
    "log_softmax",
]

Activation = Callable[[Value], Value]
Scalar = Value | float


def _value(x: Scalar) -> Value:
    return x if isinstance(x, Value) else Value(x)


def identity(x: Scalar) -> Value:
    """z (the linear activation).   d/dz = 1."""
    return _value(x)


def _step_rule(z: float) -> tuple[float, tuple[float]]:
    return (1.0 if z > 0.0 else 0.0), (0.0,)


def step(x: Scalar) -> Value:
    """Heaviside step: 1 if z > 0 else 0.   d/dz = 0 (nothing flows back: why perceptrons
    are trained by their own rule, not by gradient descent)."""
    x = _value(x)
    return make_op("step", _step_rule(x.data)[0], (x,), (0.0,), replay=_step_rule)


def _sign_rule(z: float) -> tuple[float, tuple[float]]:
    return (1.0 if z > 0.0 else (-1.0 if z < 0.0 else 0.0)), (0.0,)


def sign(x: Scalar) -> Value:
    """1 if z > 0, -1 if z < 0, 0 at 0.   d/dz = 0 (as torch.sign)."""
    x = _value(x)
    return make_op("sign", _sign_rule(x.data)[0], (x,), (0.0,), replay=_sign_rule)


def sigmoid(x: Scalar) -> Value:
    """s = 1 / (1 + e^-z).   d/dz = s (1 - s)."""
    return _value(x).sigmoid()


def tanh(x: Scalar) -> Value:
    """t = tanh(z).   d/dz = 1 - t^2."""
    return _value(x).tanh()


def relu(x: Scalar) -> Value:
    """max(0, z).   d/dz = 1 if z > 0 else 0."""
    return _value(x).relu()


def leaky_relu(x: Scalar, slope: float = 0.01) -> Value:
    """z if z > 0 else slope * z.   d/dz = 1 if z > 0 else slope."""
    return _value(x).leaky_relu(slope)


def elu(x: Scalar, alpha: float = 1.0) -> Value:
    """z if z > 0 else alpha (e^z - 1).   d/dz = 1 if z > 0 else alpha e^z."""
    return _value(x).elu(alpha)


def softplus(x: Scalar) -> Value:
    """ln(1 + e^z), a smooth ReLU.   d/dz = sigmoid(z)."""
    return _value(x).softplus()


def _values(values: Sequence[Scalar], name: str) -> list[Value]:
    if isinstance(values, (Value, int, float)):
        raise TypeError(f"{name}() takes a list of Values, got a single {type(values).__name__}")
    xs = [_value(v) for v in values]
    if not xs:
        raise ValueError(f"{name}() needs at least one value, got an empty list")
    return xs


def maxout(values: Sequence[Scalar]) -> Value:
    """max(z1, ..., zn).   d/dzi = 1 for the largest, 0 for the others.

    Ties share the gradient evenly (1/k each), as ``torch.max`` does.
    """
    xs = _values(values, "maxout")
    top, local_grads = _maxout_rule(*(x.data for x in xs))
    return make_op("maxout", top, xs, local_grads, replay=_maxout_rule)


def _maxout_rule(*data: float) -> tuple[float, list[float]]:
    """(the maximum, its local derivatives): 1/k for each of the k largest, 0 for the others."""
    if any(d != d for d in data):  # nan wins, as in torch
        winners = [d != d for d in data]
        top = math.nan
    else:
        top = max(data)
        winners = [d == top for d in data]
    share = 1.0 / sum(winners)
    return top, [share if won else 0.0 for won in winners]


def softmax(values: Sequence[Scalar]) -> list[Value]:
    """p_i = e^(z_i) / sum_j e^(z_j), probabilities summing to 1.   d p_i / d z_j = p_i (δij - p_j).

    Numerically stable: the largest z is subtracted first (which leaves the
    result unchanged), so no e^z overflows. Each p_i is one node whose parents
    are all the z_j.
    """
    xs = _values(values, "softmax")
    top = max(x.data for x in xs)
    exps = [math.exp(x.data - top) for x in xs]
    total = math.fsum(exps)
    probs = [e / total for e in exps]
    out = []
    for i, p_i in enumerate(probs):
        local = [-p_i * p_j for p_j in probs]
        local[i] = p_i * (1.0 - p_i)
        out.append(make_op("softmax", p_i, xs, local))
    return out


def log_softmax(values: Sequence[Scalar]) -> list[Value]:
    """log p_i = z_i - log sum_j e^(z_j).   d log p_i / d z_j = δij - p_j.

    Stable: log sum_j e^(z_j) = m + log sum_j e^(z_j - m) with m = max z.
    """
    xs = _values(values, "log_softmax")
    top = max(x.data for x in xs)
    exps = [math.exp(x.data - top) for x in xs]
    total = math.fsum(exps)
    log_total = top + math.log(total)
    minus_probs = [-e / total for e in exps]
    out = []
    for i, x in enumerate(xs):
        local = minus_probs.copy()
        local[i] += 1.0
        out.append(make_op("log_softmax", x.data - log_total, xs, local))
    return out


ACTIVATIONS: dict[str, Activation] = {
    "identity": identity,
    "linear": identity,
    "step": step,
    "sign": sign,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "relu": relu,
    "leaky_relu": leaky_relu,
    "elu": elu,
    "softplus": softplus,
}

_LIST_FUNCTIONS = ("maxout", "softmax", "log_softmax")  # act on a whole layer, not on one neuron
BUILT_IN = frozenset(ACTIVATIONS)  # the names that come with nn (register_activation cannot replace them)


def _torch_module(class_name: str, **settings: float) -> Callable[[], Any]:
    """A function building ``torch.nn.<class_name>(**settings)``; torch is imported only when it is called."""

    def build() -> Any:
        import torch  # optional: only the PyTorch bridge calls this

        return getattr(torch.nn, class_name)(**settings)

    build.__qualname__ = build.__name__ = f"torch.nn.{class_name}"
    return build


# activation name -> a function building the torch.nn module that computes the same thing
TORCH_MODULES: dict[str, Callable[[], Any]] = {
    "identity": _torch_module("Identity"),
    "relu": _torch_module("ReLU"),
    "tanh": _torch_module("Tanh"),
    "sigmoid": _torch_module("Sigmoid"),
    "leaky_relu": _torch_module("LeakyReLU", negative_slope=0.01),  # Value.leaky_relu's default slope
    "elu": _torch_module("ELU", alpha=1.0),
    "softplus": _torch_module("Softplus", beta=1.0, threshold=20.0),
}


def _unknown(name_or_fn: object) -> ValueError:
    return ValueError(
        f"unknown activation {shorten(repr(name_or_fn), 80)}; use one of {', '.join(ACTIVATIONS)}, "
        "a function taking a Value and returning a Value, or register your own with "
        "nn.register_activation(name, fn)"
    )


def get_activation(name_or_fn: str | Activation | None) -> Activation:
    """The activation called ``name_or_fn`` (``None`` means identity), or the callable itself."""
    if name_or_fn is None:
        return identity
    if callable(name_or_fn):
        return name_or_fn
    if isinstance(name_or_fn, str):
        key = name_or_fn.lower()
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]
        if key in _LIST_FUNCTIONS:
            raise ValueError(
                f"{key} acts on a whole list of values, not on one neuron's sum; "
                f"call nn.{key}(values) on a layer's outputs instead"
            )
    raise _unknown(name_or_fn)


def activation_name(name_or_fn: str | Activation | None) -> str | None:
    """The name an activation is saved under (``"linear"`` and ``None`` are ``"identity"``),
    or ``None`` for a function that was never registered."""
    if name_or_fn is None:
        return "identity"
    if isinstance(name_or_fn, str):
        get_activation(name_or_fn)  # raises a helpful error for unknown names
        key = name_or_fn.lower()
        return "identity" if key == "linear" else key
    for name, fn in ACTIVATIONS.items():  # "identity" comes before its alias "linear"
        if fn is name_or_fn:
            return name
    get_activation(name_or_fn)  # raises for what is neither a name nor a function
    return None


def register_activation(name: str, fn: Activation, torch_module: Callable[[], Any] | None = None) -> Activation:
    """Make ``fn`` a per-neuron activation known by ``name``; returns ``fn``.

    ``fn`` maps a Value to a Value: compose Value operations, or write one node
    with its derivative through ``autograd.make_op``. Neurons then accept the
    name (``MLP(2, [8, 1], activation="swish")``) or the function itself, and
    ``save()`` stores the name, so ``Module.load`` rebuilds the model in any
    program that registered the name first. ``torch_module`` (a function with no
    arguments returning a ``torch.nn`` module that computes the same thing, such
    as ``torch.nn.SiLU``) lets ``nn.to_torch`` and ``nn.from_torch`` convert it.

    >>> def swish(x):  # swish(z) = z * s with s = sigmoid(z);  d/dz = s + z * s * (1 - s)
    ...     s = 1.0 / (1.0 + math.exp(-x.data))
    ...     return make_op("swish", x.data * s, (x,), (s + x.data * s * (1.0 - s),))
    >>> nn.register_activation("swish", swish, torch_module=torch.nn.SiLU)  # doctest: +SKIP

    Registering a name again replaces it (handy when a notebook cell runs
    twice); the built-in names cannot be replaced.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"register_activation(name, fn): name is a word such as 'swish', got {show(name)}")
    key = name.lower()
    if key in BUILT_IN or key in _LIST_FUNCTIONS:
        raise ValueError(f"{key!r} is a built-in activation and cannot be replaced; register yours under another name")
    if not callable(fn):
        raise TypeError(f"register_activation({key!r}, fn): fn is a function taking a Value and returning a Value, got {show(fn)}")
    if torch_module is not None and not callable(torch_module):
        raise TypeError(
            f"register_activation({key!r}, fn, torch_module): torch_module is a function returning a torch.nn module "
            f"(such as torch.nn.SiLU), got {show(torch_module)}"
        )
    probe = fn(Value(0.5))
    if not isinstance(probe, Value):
        raise TypeError(
            f"register_activation({key!r}, fn): fn(Value(0.5)) returned {show(probe)}, not a Value; "
            "build the result from Value operations or with autograd.make_op so backward() can use its derivative"
        )
    ACTIVATIONS[key] = fn
    if torch_module is None:
        TORCH_MODULES.pop(key, None)
    else:
        TORCH_MODULES[key] = torch_module
    return fn
