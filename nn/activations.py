"""Activation functions: what a neuron does with its weighted sum z.

Each takes a Value (or a plain number, which becomes a constant) and returns
a Value; the derivative that ``backward()`` uses is given next to each formula.
``maxout``, ``softmax`` and ``log_softmax`` act on a whole list of values.
Choose a per-neuron activation by name with ``get_activation("tanh")``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from autograd import Value, make_op

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "get_activation",
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


def step(x: Scalar) -> Value:
    """Heaviside step: 1 if z > 0 else 0.   d/dz = 0 (nothing flows back: why perceptrons
    are trained by their own rule, not by gradient descent)."""
    x = _value(x)
    return make_op("step", 1.0 if x.data > 0.0 else 0.0, (x,), (0.0,))


def sign(x: Scalar) -> Value:
    """1 if z > 0, -1 if z < 0, 0 at 0.   d/dz = 0 (as torch.sign)."""
    x = _value(x)
    z = x.data
    return make_op("sign", 1.0 if z > 0.0 else (-1.0 if z < 0.0 else 0.0), (x,), (0.0,))


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
    data = [x.data for x in xs]
    if any(d != d for d in data):  # nan wins, as in torch
        winners = [d != d for d in data]
        top = math.nan
    else:
        top = max(data)
        winners = [d == top for d in data]
    share = 1.0 / sum(winners)
    return make_op("maxout", top, xs, [share if won else 0.0 for won in winners])


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
        if key in ("maxout", "softmax", "log_softmax"):
            raise ValueError(
                f"{key} acts on a whole list of values, not on one neuron's sum; "
                f"call nn.{key}(values) on a layer's outputs instead"
            )
    raise ValueError(
        f"unknown activation {name_or_fn!r}; use one of {', '.join(ACTIVATIONS)} "
        "or a function taking a Value and returning a Value"
    )
