"""The engine: a scalar ``Value`` that remembers how it was computed.

Every operation creates a new Value holding

* ``data``        - the number computed in the forward pass,
* ``parents``     - the Values it was computed from, and
* ``local_grads`` - the local derivatives d(out)/d(parent), one per parent,
  computed in the forward pass right next to the forward formula.

``backward()`` then needs only one line of calculus, the chain rule::

    parent.grad += local_grad * node.grad

applied to every edge of the graph in reverse topological order.
"""

from __future__ import annotations

import builtins
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import mul
from typing import Any, NamedTuple, NoReturn, Union

from .grad_mode import ANOMALY, MODE, NO_GRAD, check_forward, check_step, one_backward_at_a_time

__all__ = [
    "Value",
    "Step",
    "sum",
    "dot",
    "make_op",
    "topological_order",
]

Operand = Union["Value", int, float]  # noqa: UP007 - a runtime alias, valid on Python 3.10

_inf = math.inf
_nan = math.nan
_isfinite = math.isfinite

# --------------------------------------------------------------------------
# IEEE float helpers: Python raises where IEEE (and PyTorch) give inf or nan.
# --------------------------------------------------------------------------
def _div(a: float, b: float) -> float:
    """a / b with IEEE semantics: 1/0 = inf, -1/0 = -inf, 0/0 = nan."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return _nan
        return math.copysign(_inf, a) * math.copysign(1.0, b)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _inf


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)  # also log(inf) = inf
    return -_inf if x == 0.0 else _nan


def _is_odd_integer(y: float) -> bool:
    return y.is_integer() and y % 2.0 == 1.0


def _pow(x: float, y: float) -> float:
    """x ** y with IEEE semantics (C's pow): never raises, never complex."""
    try:
        return math.pow(x, y)
    except OverflowError:  # |result| too large
        return -_inf if x < 0.0 and _is_odd_integer(y) else _inf
    except ValueError:  # 0 ** negative, or negative ** fraction
        if x == 0.0:
            return math.copysign(_inf, x) if _is_odd_integer(y) else _inf
        return _nan


def _trig(f: Callable[[float], float], x: float) -> float:
    try:
        return f(x)
    except ValueError:  # sin(inf), cos(inf)
        return _nan


def _as_float(data: object) -> float:
    """Check that ``data`` is a real number and return it as a float."""
    if type(data) is float:
        return data
    if isinstance(data, bool) or not isinstance(data, numbers.Real):
        if isinstance(data, Value):
            hint = "; it is already a Value, use it directly (or Value(v.data) for a copy)"
        elif isinstance(data, str):
            hint = f"; did you mean Value({data})?" if _looks_numeric(data) else ""
        elif isinstance(data, bool):
            hint = f"; did you mean Value({float(data)})?"
        else:
            hint = ""
        raise TypeError(
            f"Value() takes a real number (int or float), got {type(data).__name__} {data!r}{hint}"
        )
    return float(data)


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------
# Value
# --------------------------------------------------------------------------
class Value:
    """A scalar that records the operations computing it, for ``backward()``.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.grad            # dy/dx = 2x + 3
    7.0
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "local_grads", "__weakref__")

    data: float
    grad: float
    label: str
    op: str
    parents: tuple[Value, ...]
    local_grads: tuple[float, ...]

    def __init__(self, data: float, label: str = "") -> None:
        self.data = _as_float(data)
        self.grad = 0.0
        self.label = label
        self.op = ""
        self.parents = ()
        self.local_grads = ()

    # ---- micrograd compatibility -----------------------------------------
    @property
    def _prev(self) -> set[Value]:
        """The parents as a set, as micrograd calls them."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        return self.op

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def item(self) -> float:
        """The number held, as ``torch.Tensor.item()``."""
        return self.data

    # A Value never silently becomes a plain number: float(v), math.exp(v), int(v),
    # round(v)... would drop it from the graph, and no gradient would flow.
    def _not_a_number(self, *args: object) -> NoReturn:
        raise TypeError(
            f"{self!r} is a Value, not a plain number: converting it would cut it out of the graph. "
            "Compute with its methods to keep the gradient (v.exp(), v.log(), v.tanh(), ...); "
            "use v.data (or v.item()) for the number itself, f'{v:.4f}' to print it"
        )

    __float__ = __int__ = __index__ = __complex__ = _not_a_number
    __round__ = __trunc__ = __floor__ = __ceil__ = _not_a_number

    def __format__(self, spec: str) -> str:
        """``f"{v:.4f}"`` formats the number (as PyTorch's 0-dim tensors); ``f"{v}"`` is the repr."""
        return format(self.data, spec) if spec else repr(self)

    def __bool__(self) -> bool:
        """True unless the number is 0, as ``bool()`` of a PyTorch 0-dim tensor."""
        return self.data != 0.0

    # Comparisons look at the numbers only (no gradient flows through them).
    # Equality stays identity, so Values can live in sets and dicts.
    def __lt__(self, other: Operand) -> bool:
        return self.data < _data_of(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _data_of(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _data_of(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _data_of(other)

    __hash__ = object.__hash__

    def __reduce__(self) -> tuple[Callable[..., Value], tuple[Any, ...]]:
        """Pickle and copy without recursion: a computed Value carries its whole graph as a flat list.

        Leaves (a model's parameters) are kept as themselves, so a model and
        a graph built on it stay connected in a copy. Interior nodes shared by
        two separately pickled Values are copied once for each.
        """
        if not self.parents:
            return _rebuild_leaf, (self.data, self.grad, self.label, self.op)
        nodes = topological_order(self)
        index = {node: i for i, node in enumerate(nodes)}
        records = [
            (node.data, node.grad, node.label, node.op, tuple(index[p] for p in node.parents), node.local_grads)
            if node.parents
            else node
            for node in nodes
        ]
        return _rebuild_graph, (records,)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """Copy the graph behind this Value node by node (no recursion), reusing what ``memo`` holds."""
        for node in topological_order(self):
            if id(node) not in memo:
                twin = _rebuild_leaf(node.data, node.grad, node.label, node.op)
                twin.parents = tuple(memo[id(p)] for p in node.parents)
                twin.local_grads = node.local_grads
                memo[id(node)] = twin
        return memo[id(self)]

    # ---- arithmetic: forward formula, then local derivatives --------------
    def __add__(self, other: Operand) -> Value:
        """a + b.   d/da = 1,   d/db = 1."""
        other = other if type(other) is Value else _as_value(other)
        return _result(self.data + other.data, "+", (self, other), _ONE_ONE)

    def __radd__(self, other: Operand) -> Value:
        return _as_value(other) + self

    def __sub__(self, other: Operand) -> Value:
        """a - b.   d/da = 1,   d/db = -1."""
        other = other if type(other) is Value else _as_value(other)
        return _result(self.data - other.data, "-", (self, other), _ONE_MINUS_ONE)

    def __rsub__(self, other: Operand) -> Value:
        return _as_value(other) - self

    def __mul__(self, other: Operand) -> Value:
        """a * b.   d/da = b,   d/db = a."""
        other = other if type(other) is Value else _as_value(other)
        return _result(self.data * other.data, "*", (self, other), (other.data, self.data))

    def __rmul__(self, other: Operand) -> Value:
        return _as_value(other) * self

    def __truediv__(self, other: Operand) -> Value:
        """q = a / b.   d/da = 1/b,   d/db = -a/b^2 = -q/b (finite wherever the true value is)."""
        other = other if type(other) is Value else _as_value(other)
        a, b = self.data, other.data
        q = _div(a, b)
        return _result(q, "/", (self, other), (_div(1.0, b), _div(-q, b)))

    def __rtruediv__(self, other: Operand) -> Value:
        return _as_value(other) / self

    def __neg__(self) -> Value:
        """-a.   d/da = -1."""
        return _result(-self.data, "neg", (self,), _MINUS_ONE)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        """|a|.   d/da = sign(a), taken as 0 at a = 0 (as PyTorch)."""
        a = self.data
        sign = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else 0.0)
        return _result(abs(a), "abs", (self,), (sign,))

    def __pow__(self, exponent: Operand) -> Value:
        """a ** n.   d/da = n * a^(n-1).  With a Value exponent, also d/dn = a^n * ln a."""
        if type(exponent) is Value or isinstance(exponent, Value):
            return _pow_values(self, exponent)
        n = _as_float(exponent)
        a = self.data
        d_a = 0.0 if n == 0.0 else n * _pow(a, n - 1.0)
        return _result(_pow(a, n), f"**{exponent:g}", (self,), (d_a,))

    def __rpow__(self, base: Operand) -> Value:
        """b ** a for a plain-number base b.   d/da = b^a * ln b."""
        return _pow_values(_as_value(base), self)

    # ---- functions ---------------------------------------------------------
    def exp(self) -> Value:
        """e^a.   d/da = e^a."""
        e = _exp(self.data)
        return _result(e, "exp", (self,), (e,))

    def log(self) -> Value:
        """ln a.   d/da = 1/a."""
        a = self.data
        return _result(_log(a), "log", (self,), (_div(1.0, a),))

    def sqrt(self) -> Value:
        """sqrt(a).   d/da = 1 / (2 sqrt(a))."""
        a = self.data
        s = math.sqrt(a) if a >= 0.0 else _nan
        return _result(s, "sqrt", (self,), (_div(0.5, s),))

    def tanh(self) -> Value:
        """t = tanh(a).   d/da = 1 - t^2."""
        t = math.tanh(self.data)
        return _result(t, "tanh", (self,), (1.0 - t * t,))

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e^-a).   d/da = s * (1 - s)."""
        a = self.data
        if a >= 0.0:
            s = 1.0 / (1.0 + math.exp(-a))
        else:  # same formula rearranged so that e^-a cannot overflow
            e = _exp(a)
            s = e / (1.0 + e)
        return _result(s, "sigmoid", (self,), (s * (1.0 - s),))

    def relu(self) -> Value:
        """max(0, a).   d/da = 1 if a > 0 else 0."""
        a = self.data
        if a <= 0.0:
            return _result(0.0, "relu", (self,), _ZERO)
        return _result(a, "relu", (self,), _ONE)  # also passes nan through

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """a if a > 0 else slope * a.   d/da = 1 if a > 0 else slope."""
        a = self.data
        if a > 0.0:
            return _result(a, "leaky_relu", (self,), _ONE)
        return _result(slope * a, "leaky_relu", (self,), (float(slope),))

    def elu(self, alpha: float = 1.0) -> Value:
        """a if a > 0 else alpha * (e^a - 1).   d/da = 1 if a > 0 else alpha * e^a."""
        a = self.data
        if a <= 0.0:  # expm1(a) = e^a - 1, exact even for tiny a
            return _result(alpha * math.expm1(a), "elu", (self,), (alpha * math.exp(a),))
        return _result(a, "elu", (self,), _ONE)

    def softplus(self) -> Value:
        """ln(1 + e^a).   d/da = e^a / (1 + e^a) = sigmoid(a).

        As in PyTorch, for a > 20 the result is a itself (and d/da = 1).
        """
        a = self.data
        if a > 20.0:
            return _result(a, "softplus", (self,), _ONE)
        e = math.exp(a)
        return _result(math.log1p(e), "softplus", (self,), (e / (1.0 + e),))

    def sin(self) -> Value:
        """sin(a).   d/da = cos(a)."""
        a = self.data
        return _result(_trig(math.sin, a), "sin", (self,), (_trig(math.cos, a),))

    def cos(self) -> Value:
        """cos(a).   d/da = -sin(a)."""
        a = self.data
        return _result(_trig(math.cos, a), "cos", (self,), (-_trig(math.sin, a),))

    # ---- backward ----------------------------------------------------------
    def backward(self) -> None:
        """Fill in ``grad`` of every Value this one depends on (d self / d v).

        Leaves accumulate: each pass adds its own total to a leaf's gradient
        once, so calling it twice gives exactly twice the gradient. Interior
        nodes are recomputed from zero on every call.
        """
        with one_backward_at_a_time():
            nodes, leaves, earlier = self._start_backward()
            try:
                if MODE.get() & ANOMALY:
                    for step in _steps(nodes):
                        check_step(step)
                    return
                # The chain rule, once per edge, from the output back to the inputs.
                for node in reversed(nodes):
                    upstream = node.grad
                    if upstream == 0.0 and _isfinite(builtins.sum(node.local_grads)):
                        continue  # every contribution would be 0 * (a finite number) = 0 (a finite sum has no inf or nan)
                    for parent, local_grad in zip(node.parents, node.local_grads):
                        if local_grad:  # a zero local derivative passes nothing, not even 0 * inf (as PyTorch's relu)
                            parent.grad += local_grad * upstream
            finally:
                for leaf, grad in zip(leaves, earlier):
                    leaf.grad += grad

    def backward_steps(self) -> Iterator[Step]:
        """``backward()`` one chain-rule step at a time.

        Each ``next()`` applies ``parent.grad += local_grad * upstream`` for
        one edge and yields the ``Step`` it applied. Exhausting the
        generator leaves the same gradients as ``backward()``.
        """
        nodes, leaves, earlier = self._start_backward()
        check = MODE.get() & ANOMALY
        try:
            for step in _steps(nodes):
                if check:
                    check_step(step)
                yield step
        finally:
            for leaf, grad in zip(leaves, earlier):
                leaf.grad += grad

    def _start_backward(self) -> tuple[list[Value], list[Value], list[float]]:
        """Every node in topological order, the leaves, and the leaves' earlier gradients.

        Every gradient is set to zero and d self/d self = 1: the pass computes
        its own total for each leaf, which is added to the earlier gradient
        at the end (as PyTorch does), so two passes give exactly twice one.
        """
        nodes = topological_order(self)
        leaves = [v for v in nodes if not v.parents]
        earlier = [v.grad for v in leaves]
        for node in nodes:
            node.grad = 0.0
        self.grad = 1.0
        return nodes, leaves, earlier


class Step(NamedTuple):
    """One application of the chain rule: ``parent.grad += contribution``."""

    node: Value  # the node whose gradient flows back
    parent: Value  # the input receiving it
    local_grad: float  # d node / d parent
    upstream: float  # d root / d node
    contribution: float  # local_grad * upstream, added to parent.grad


def _steps(order: list[Value]) -> Iterator[Step]:
    """Apply the chain rule edge by edge, yielding each ``Step`` once applied."""
    for node in reversed(order):
        upstream = node.grad
        for parent, local_grad in zip(node.parents, node.local_grads):
            contribution = local_grad * upstream if local_grad else 0.0
            parent.grad += contribution
            yield Step(node, parent, local_grad, upstream, contribution)


_ONE = (1.0,)
_ZERO = (0.0,)
_MINUS_ONE = (-1.0,)
_ONE_ONE = (1.0, 1.0)
_ONE_MINUS_ONE = (1.0, -1.0)
_new_value = object.__new__


def _result(data: float, op: str, parents: tuple[Value, ...], local_grads: tuple[float, ...]) -> Value:
    """Make the output node of an operation (or a plain leaf under ``no_grad``)."""
    mode = MODE.get()
    if mode:
        if mode & ANOMALY:
            check_forward(data, op, parents)
        if mode & NO_GRAD:
            parents = local_grads = ()
            op = ""
    out = _new_value(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out.op = op
    out.parents = parents
    out.local_grads = local_grads
    return out


def _rebuild_leaf(data: float, grad: float, label: str, op: str) -> Value:
    leaf = Value(data, label=label)
    leaf.grad, leaf.op = grad, op
    return leaf


def _rebuild_graph(records: list[Any]) -> Value:
    """The graph ``Value.__reduce__`` flattened: leaves as Values, then (data, grad, label, op, parent indices, local_grads)."""
    nodes: list[Value] = []
    for record in records:
        if isinstance(record, Value):
            nodes.append(record)
            continue
        data, grad, label, op, parents, local_grads = record
        node = _rebuild_leaf(data, grad, label, op)  # set field by field: no_grad must not drop the parents
        node.parents = tuple(nodes[i] for i in parents)
        node.local_grads = tuple(local_grads)
        nodes.append(node)
    return nodes[-1]


def _as_value(x: Operand) -> Value:
    """A plain number becomes a constant leaf, so the graph shows it."""
    return x if isinstance(x, Value) else Value(x)


def _data_of(x: Operand) -> float:
    return x.data if isinstance(x, Value) else _as_float(x)


def _pow_values(base: Value, exponent: Value) -> Value:
    """b ** n.   d/db = n * b^(n-1),   d/dn = b^n * ln b.

    As PyTorch: d/db is 0 where n = 0, and d/dn is 0 where b = 0 and n >= 0.
    """
    b, n = base.data, exponent.data
    out = _pow(b, n)
    d_base = 0.0 if n == 0.0 else n * _pow(b, n - 1.0)
    d_exponent = 0.0 if (b == 0.0 and n >= 0.0) else out * _log(b)
    return _result(out, "**", (base, exponent), (d_base, d_exponent))


# --------------------------------------------------------------------------
# n-ary nodes
# --------------------------------------------------------------------------
def sum(values: Iterable[Operand]) -> Value:  # noqa: A001 - mirrors torch.sum
    """One node for v1 + v2 + ... + vn.   d/dvi = 1.

    Plain numbers are added in as constants. An empty sum is Value(0.0).
    """
    parents = []
    total = 0.0
    for v in values:
        if isinstance(v, Value):
            parents.append(v)
            total += v.data
        else:
            total += _as_float(v)
    return _result(total, "sum", tuple(parents), (1.0,) * len(parents))


def dot(xs: Sequence[Operand], ws: Sequence[Operand]) -> Value:
    """One node for x1*w1 + x2*w2 + ... + xn*wn.   d/dxi = wi,   d/dwi = xi.

    Either side may hold plain numbers (e.g. a network's inputs); only Values
    become parents.
    """
    xs, ws = tuple(xs), tuple(ws)
    if len(xs) != len(ws):
        raise ValueError(f"dot() needs two sequences of the same length, got {len(xs)} and {len(ws)}")
    n = len(xs)
    weights_are_values = list(map(type, ws)).count(Value) == n
    x_types = list(map(type, xs))
    if weights_are_values and x_types.count(Value) == n:  # the usual case: all Values
        x_data = [x.data for x in xs]
        w_data = [w.data for w in ws]
        parents, local_grads = xs + ws, (*w_data, *x_data)  # d/dxi = wi, d/dwi = xi
    elif weights_are_values and x_types.count(float) == n:  # plain-number inputs (a first layer)
        x_data = xs
        w_data = [w.data for w in ws]
        parents, local_grads = ws, xs  # d/dwi = xi
    else:  # plain numbers take part in the sum but are not parents
        x_data = [_data_of(x) for x in xs]
        w_data = [_data_of(w) for w in ws]
        edges = [(p, g) for p, g in zip(xs + ws, (*w_data, *x_data)) if isinstance(p, Value)]
        parents = tuple(p for p, _ in edges)
        local_grads = tuple(g for _, g in edges)
    total = builtins.sum(map(mul, x_data, w_data))
    return _result(total, "dot", parents, local_grads)


def make_op(op: str, data: float, parents: Sequence[Value], local_grads: Sequence[float]) -> Value:
    """Make a node for any function whose local derivatives you know.

    ``make_op("cube", x.data**3, [x], [3 * x.data**2])`` behaves exactly like a
    built-in operation: ``backward()`` applies the chain rule through it.
    """
    parents = tuple(parents)
    local_grads = tuple(_as_float(g) for g in local_grads)
    if len(parents) != len(local_grads):
        raise ValueError(f"make_op() needs one local gradient per parent, got {len(parents)} parents and {len(local_grads)} gradients")
    for p in parents:
        if not isinstance(p, Value):
            raise TypeError(f"make_op() parents must be Values, got {type(p).__name__} {p!r}")
    return _result(_as_float(data), str(op), parents, local_grads)


# --------------------------------------------------------------------------
# Graph traversal
# --------------------------------------------------------------------------
def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every Value ``root`` depends on, each before the nodes computed from it.

    Iterative depth-first search (no recursion, so a graph a million nodes
    deep is fine). With ``leaves=False`` only computed nodes are listed.
    """
    order: list[Value] = []
    visited = {root}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                if parent.parents:  # visit its own parents first
                    stack.append((parent, iter(parent.parents)))
                    break
                order.append(parent)  # a leaf: nothing behind it
        else:  # every parent is placed: so is this node
            stack.pop()
            order.append(node)
    return order if leaves else [v for v in order if v.parents]
