"""The engine: a scalar ``Value`` that remembers how it was computed.

Every operation creates a new Value holding

* ``data``        - the number computed in the forward pass,
* ``parents``     - the Values it was computed from, and
* ``local_grads`` - the local derivatives d(out)/d(parent), one per parent,
  computed in the forward pass right next to the forward formula.

``backward()`` then needs only one line of calculus, the chain rule::

    parent.grad += local_grad * node.grad

applied to every edge of the graph in reverse topological order.

Reading guide: read ``Value.__init__``, ``__add__``, ``__mul__``, ``tanh``,
``backward`` and ``topological_order``, in that order. Everything else is
more operations or safety. ``autograd/reference.py`` is the same engine on
one page, without them.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import mul
from typing import Any, NamedTuple, NoReturn, Union

from . import floats
from .floats import as_float
from .grad_mode import ANOMALY, NO_GRAD, check_forward, check_step, current_mode, one_backward_at_a_time

__all__ = ["Value", "Step", "sum", "dot", "make_op", "topological_order"]

Operand = Union["Value", int, float]  # noqa: UP007 - a runtime alias, valid on Python 3.10


class Value:
    """A scalar that records the operations computing it, for ``backward()``.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> x.grad            # dy/dx = 2x + 3
    7.0
    """

    # ``constants``: set only by operations with numbers of their own (the n of x**n, leaky_relu's
    # slope, the plain numbers in a sum or dot, make_op's replay rule), for autograd.compile
    __slots__ = ("data", "grad", "parents", "local_grads", "op", "label", "constants")

    def __init__(
        self,
        data: float,
        parents: tuple[Value, ...] = (),
        local_grads: tuple[float, ...] = (),
        op: str = "",
        label: str = "",
    ) -> None:
        """A node: its number, the Values it was computed from, and d(self)/d(parent) for each parent.

        ``Value(2.0, label="x")`` makes a leaf (an input or a weight); every
        operation below makes its result with this same constructor.
        """
        if not parents:  # a leaf: check what we were given
            if type(data) is not float:
                data = as_float(data)  # int, numpy scalar... become a float; anything else is a TypeError
            if type(label) is not str:
                raise TypeError(f"label must be a str, got {type(label).__name__} {label!r:.60}")
        elif current_mode():  # an operation inside no_grad() or detect_anomaly(): see grad_mode.py
            if current_mode() & ANOMALY:
                check_forward(data, op, parents)
            if current_mode() & NO_GRAD:  # record nothing: the result is a plain leaf
                parents, local_grads, op = (), (), ""
        self.data = data
        self.grad = 0.0  # d(root)/d(self), filled in by root.backward()
        self.parents = parents
        self.local_grads = local_grads
        self.op = op
        self.label = label

    # ---- arithmetic: forward formula, then local derivatives ----------------
    def __add__(self, other: Operand) -> Value:
        """a + b.   d/da = 1,   d/db = 1."""
        other = other if isinstance(other, Value) else Value(other)  # a plain number becomes a constant leaf
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __radd__(self, other: Operand) -> Value:
        return Value(other) + self

    def __sub__(self, other: Operand) -> Value:
        """a - b.   d/da = 1,   d/db = -1."""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0), "-")

    def __rsub__(self, other: Operand) -> Value:
        return Value(other) - self

    def __mul__(self, other: Operand) -> Value:
        """a * b.   d/da = b,   d/db = a."""
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __rmul__(self, other: Operand) -> Value:
        return Value(other) * self

    def __truediv__(self, other: Operand) -> Value:
        """q = a / b.   d/da = 1/b,   d/db = -a/b^2 = -q/b (finite wherever the true value is)."""
        other = other if isinstance(other, Value) else Value(other)
        a, b = self.data, other.data
        q = floats.div(a, b)
        return Value(q, (self, other), (floats.div(1.0, b), floats.div(-q, b)), "/")

    def __rtruediv__(self, other: Operand) -> Value:
        return Value(other) / self

    def __neg__(self) -> Value:
        """-a.   d/da = -1."""
        return Value(-self.data, (self,), (-1.0,), "neg")

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        """|a|.   d/da = sign(a), taken as 0 at a = 0 (as PyTorch)."""
        a = self.data
        return Value(abs(a), (self,), (1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0,), "abs")

    def __pow__(self, exponent: Operand) -> Value:
        """a ** n.   d/da = n * a^(n-1), taken as 0 for n = 0.   (A Value n: see ``_pow``.)"""
        if isinstance(exponent, Value):
            return self._pow(exponent)
        n = as_float(exponent, "the exponent of **")
        a = self.data
        d_a = 0.0 if n == 0.0 else n * floats.constant_power(a, n - 1.0)
        out = Value(floats.constant_power(a, n), (self,), (d_a,), f"**{n:g}")
        out.constants = (n,)
        return out

    def __rpow__(self, base: Operand) -> Value:
        """b ** a for a plain-number base b.   d/da = b^a * ln b."""
        return Value(base)._pow(self)

    def _pow(self, exponent: Value) -> Value:
        """b ** n, both Values.   d/db = n * b^(n-1),   d/dn = b^n * ln b.

        As PyTorch: d/db is 0 where n = 0, and d/dn is 0 where b = 0 and n >= 0.
        """
        b, n = self.data, exponent.data
        out = floats.power(b, n)
        d_base = 0.0 if n == 0.0 else n * floats.power(b, n - 1.0)
        d_exponent = 0.0 if (b == 0.0 and n >= 0.0) else out * floats.log(b)
        return Value(out, (self, exponent), (d_base, d_exponent), "**")

    # ---- functions ----------------------------------------------------------
    def exp(self) -> Value:
        """e^a.   d/da = e^a."""
        e = floats.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def log(self) -> Value:
        """ln a.   d/da = 1/a."""
        a = self.data
        return Value(floats.log(a), (self,), (floats.div(1.0, a),), "log")

    def sqrt(self) -> Value:
        """s = sqrt(a).   d/da = 1 / (2 s)."""
        s = floats.sqrt(self.data)
        return Value(s, (self,), (floats.div(0.5, s),), "sqrt")

    def tanh(self) -> Value:
        """t = tanh(a).   d/da = 1 - t^2."""
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def sigmoid(self) -> Value:
        """s = 1 / (1 + e^-a).   d/da = s * (1 - s)."""
        a = self.data
        if a >= 0.0:
            s = 1.0 / (1.0 + math.exp(-a))
        else:  # the same, rearranged so that e^-a cannot overflow
            e = floats.exp(a)
            s = e / (1.0 + e)
        return Value(s, (self,), (s * (1.0 - s),), "sigmoid")

    def relu(self) -> Value:
        """max(0, a).   d/da = 1 if a > 0 else 0."""
        a = self.data
        if a > 0.0 or a != a:  # nan passes through
            return Value(a, (self,), (1.0,), "relu")
        return Value(0.0 if a < 0.0 else a, (self,), (0.0,), "relu")  # relu(-0.0) = -0.0, as in PyTorch

    def leaky_relu(self, slope: float = 0.01) -> Value:
        """a if a > 0 else slope * a.   d/da = 1 if a > 0 else slope."""
        slope = as_float(slope, "leaky_relu(slope)")
        a = self.data
        out = Value(a, (self,), (1.0,), "leaky_relu") if a > 0.0 else Value(slope * a, (self,), (slope,), "leaky_relu")
        out.constants = (slope,)
        return out

    def elu(self, alpha: float = 1.0) -> Value:
        """a if a > 0 else alpha * (e^a - 1).   d/da = 1 if a > 0 else alpha * e^a."""
        alpha = as_float(alpha, "elu(alpha)")
        a = self.data
        if a <= 0.0:  # expm1(a) = e^a - 1, exact even for tiny a
            out = Value(alpha * math.expm1(a), (self,), (alpha * math.exp(a),), "elu")
        else:
            out = Value(a, (self,), (1.0,), "elu")
        out.constants = (alpha,)
        return out

    def softplus(self) -> Value:
        """ln(1 + e^a).   d/da = e^a / (1 + e^a) = sigmoid(a).   As PyTorch: a itself for a > 20."""
        a = self.data
        if a > 20.0:
            return Value(a, (self,), (1.0,), "softplus")
        e = math.exp(a)
        return Value(math.log1p(e), (self,), (e / (1.0 + e),), "softplus")

    def sin(self) -> Value:
        """sin(a).   d/da = cos(a)."""
        a = self.data
        return Value(floats.trig(math.sin, a), (self,), (floats.trig(math.cos, a),), "sin")

    def cos(self) -> Value:
        """cos(a).   d/da = -sin(a)."""
        a = self.data
        return Value(floats.trig(math.cos, a), (self,), (-floats.trig(math.sin, a),), "cos")

    # ---- backward -----------------------------------------------------------
    def backward(self) -> None:
        """Fill in ``grad`` of every Value this one depends on: v.grad = d self / d v.

        The chain rule, once per edge, from this Value back to the leaves.
        ``backward_steps()`` (and ``detect_anomaly()``) run the same loop one
        edge at a time. Leaves accumulate: each call adds its own total to a
        leaf's gradient once, so two calls give exactly twice one. Interior
        nodes are recomputed from zero on every call.
        """
        # one pass at a time across threads, the cyclic collector paused: see benchmarks/README.md
        with one_backward_at_a_time():
            if current_mode() & ANOMALY:  # every step checked for nan and inf
                for _ in self.backward_steps():
                    pass
                return
            leaves, nodes = leaves_and_computed(self)
            if _has_compiled(leaves):  # outputs of autograd.compile: their backward is generated code
                from .compile import backward_through_compiled

                return backward_through_compiled(self)
            earlier = self._start_backward(leaves, nodes)
            for node in reversed(nodes):
                upstream = node.grad
                if upstream == 0.0 and math.isfinite(builtins.sum(node.local_grads)):
                    continue  # 0 * finite = 0: nothing to add (exact; see benchmarks/README.md)
                for parent, local_grad in zip(node.parents, node.local_grads):
                    if local_grad:  # a zero local derivative passes nothing, not even 0 * inf
                        parent.grad += local_grad * upstream
            for leaf, grad in earlier:
                leaf.grad += grad

    def backward_steps(self) -> Iterator[Step]:
        """``backward()`` one chain-rule step at a time.

        Each ``next()`` applies ``parent.grad += local_grad * upstream`` for
        one edge and yields the ``Step`` it applied. Exhausting the generator
        leaves exactly the gradients ``backward()`` gives.
        """
        leaves, nodes = leaves_and_computed(self)
        if _has_compiled(leaves):
            raise TypeError(
                "backward_steps() and detect_anomaly() cannot step inside compiled code: "
                "call the uncompiled function to step through its graph"
            )
        earlier = self._start_backward(leaves, nodes)
        check = current_mode() & ANOMALY
        try:
            for node in reversed(nodes):
                upstream = node.grad
                for parent, local_grad in zip(node.parents, node.local_grads):
                    contribution = local_grad * upstream if local_grad else 0.0
                    parent.grad += contribution
                    step = Step(node, parent, local_grad, upstream, contribution)
                    if check:
                        check_step(step)
                    yield step
        finally:
            for leaf, grad in earlier:
                leaf.grad += grad

    def _start_backward(self, leaves: list[Value], nodes: list[Value]) -> list[tuple[Value, float]]:
        """Zero the gradients; return the leaves whose gradient was not 0, with that gradient.

        Every gradient starts from zero and d self/d self = 1: a pass computes
        each leaf's total on its own, and the leaves' earlier gradients, set
        aside here, are added to it at the end (as PyTorch does).
        """
        for node in nodes:
            node.grad = 0.0
        earlier = [(leaf, leaf.grad) for leaf in leaves if leaf.grad]
        for leaf, _ in earlier:
            leaf.grad = 0.0
        self.grad = 1.0
        return earlier

    # ---- printing, comparing, converting, copying ---------------------------
    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __format__(self, spec: str) -> str:
        """``f"{v:.4f}"`` formats the number (as PyTorch's 0-dim tensors); ``f"{v}"`` is the repr."""
        return format(self.data, spec) if spec else repr(self)

    def item(self) -> float:
        """The number held, as ``torch.Tensor.item()``."""
        return self.data

    @property
    def _prev(self) -> set[Value]:
        """The parents as a set, as micrograd calls them."""
        return set(self.parents)

    @property
    def _op(self) -> str:
        """The operation, as micrograd calls it."""
        return self.op

    # == is identity (object's), so Values can be set members and dict keys;
    # < > <= >= compare the numbers (no gradient flows through a comparison).
    def __lt__(self, other: Operand) -> bool:
        return self.data < _number(other)

    def __le__(self, other: Operand) -> bool:
        return self.data <= _number(other)

    def __gt__(self, other: Operand) -> bool:
        return self.data > _number(other)

    def __ge__(self, other: Operand) -> bool:
        return self.data >= _number(other)

    def __bool__(self) -> bool:
        """True unless the number is 0, as ``bool()`` of a PyTorch 0-dim tensor."""
        return self.data != 0.0

    def _not_a_number(self, *args: object) -> NoReturn:
        raise TypeError(
            f"{self!r} is a Value, not a plain number: converting it would cut it out of the graph. "
            "Compute with its methods to keep the gradient (v.exp(), v.log(), v.tanh(), ...); "
            "use v.data (or v.item()) for the number itself, f'{v:.4f}' to print it"
        )

    # float(v), int(v), math.exp(v), round(v)... would silently drop v from the graph
    __float__ = __int__ = __index__ = __complex__ = _not_a_number
    __round__ = __trunc__ = __floor__ = __ceil__ = _not_a_number

    def __reduce__(self) -> tuple[Callable[..., Value], tuple[Any, ...]]:
        """Pickle and copy without recursion: a computed Value carries its whole graph as a flat list.

        Leaves (a model's parameters) are kept as themselves, so a model and
        a graph built on it stay connected in a copy. Interior nodes shared by
        two separately pickled Values are copied once for each.
        """
        if not self.parents:
            return _rebuild, (self.data, self.grad, self.label, self.op)
        nodes = topological_order(self)
        index = {node: i for i, node in enumerate(nodes)}
        records = [
            (node.data, node.grad, node.label, node.op, tuple(map(index.get, node.parents)), node.local_grads)
            if node.parents
            else node
            for node in nodes
        ]
        return _rebuild_graph, (records,)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """Copy the graph behind this Value node by node (no recursion), reusing what ``memo`` holds."""
        for node in topological_order(self):
            if id(node) not in memo:
                parents = tuple(memo[id(p)] for p in node.parents)
                twin = _rebuild(node.data, node.grad, node.label, node.op, parents, node.local_grads)
                memo[id(node)] = twin
        return memo[id(self)]


class Step(NamedTuple):
    """One application of the chain rule: ``parent.grad += contribution``."""

    node: Value  # the node whose gradient flows back
    parent: Value  # the input receiving it
    local_grad: float  # d node / d parent
    upstream: float  # d root / d node
    contribution: float  # local_grad * upstream (0 where local_grad is 0), added to parent.grad


def topological_order(root: Value, leaves: bool = True) -> list[Value]:
    """Every Value ``root`` depends on (itself included), each after the Values it is computed from.

    The leaves (inputs, weights, constants) come first, then the computed
    nodes. With ``leaves=False`` only the computed nodes are listed.
    """
    found, computed = leaves_and_computed(root)
    return found + computed if leaves else computed


def leaves_and_computed(root: Value) -> tuple[list[Value], list[Value]]:
    """The leaves behind ``root``, and its computed nodes in topological order.

    An iterative depth-first search (no recursion, so a graph a million nodes
    deep is fine): a node is placed once all of its parents are.
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order() takes a Value, got {type(root).__name__}")
    if not root.parents:
        return [root], []
    leaves: list[Value] = []
    computed: list[Value] = []
    visited = {root}
    stack = [(root, iter(root.parents))]
    try:
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in visited:
                    visited.add(parent)
                    if not parent.parents:  # a leaf: nothing behind it
                        leaves.append(parent)
                    else:  # visit its own parents first
                        stack.append((parent, iter(parent.parents)))
                        break
            else:  # every parent is placed: so is this node
                stack.pop()
                computed.append(node)
    except AttributeError:  # a parent that is not a Value
        raise TypeError(
            f"{node!r} has parents {node.parents!r:.80} that are not all Values; "
            "the second argument of Value() is its parents: give a label by name, Value(2.0, label='x')"
        ) from None
    return leaves, computed


# ---- n-ary nodes and your own operations ------------------------------------
def sum(values: Iterable[Operand]) -> Value:  # noqa: A001 - mirrors torch.sum
    """One node for v1 + v2 + ... + vn.   d/dvi = 1.

    Plain numbers are added in as constants. An empty sum is Value(0.0).
    """
    values = list(values)
    parents, numbers = [], []
    for v in values:
        if isinstance(v, Value):
            parents.append(v)
            numbers.append(v.data)
        else:
            numbers.append(as_float(v, "sum()"))
    total = builtins.sum(numbers, -0.0) if numbers else 0.0  # -0.0 + x = x for every x, even -0.0
    out = Value(total, tuple(parents), (1.0,) * len(parents), "sum")
    if len(parents) < len(numbers):  # plain numbers took part: remember them (None marks a parent)
        out.constants = tuple(None if isinstance(v, Value) else x for v, x in zip(values, numbers))
    return out


def dot(xs: Sequence[Operand], ws: Sequence[Operand]) -> Value:
    """One node for x1*w1 + x2*w2 + ... + xn*wn.   d/dxi = wi,   d/dwi = xi.

    Either side may hold plain numbers (e.g. a network's inputs); only Values
    become parents. An empty dot is Value(0.0).
    """
    xs, ws = tuple(xs), tuple(ws)
    if len(xs) != len(ws):
        raise ValueError(f"dot() needs two sequences of the same length, got {len(xs)} and {len(ws)}")
    if xs and set(map(type, xs + ws)) == {Value}:  # the usual case, kept fast
        x_data = [x.data for x in xs]
        w_data = [w.data for w in ws]
        return Value(builtins.sum(map(mul, x_data, w_data), -0.0), xs + ws, (*w_data, *x_data), "dot")
    # plain numbers take part in the sum but are not parents
    x_data = [x.data if isinstance(x, Value) else as_float(x, "dot()") for x in xs]
    w_data = [w.data if isinstance(w, Value) else as_float(w, "dot()") for w in ws]
    total = builtins.sum(map(mul, x_data, w_data), -0.0) if xs else 0.0
    parents, local_grads = [], []
    for v, d in zip(xs + ws, (*w_data, *x_data)):
        if isinstance(v, Value):
            parents.append(v)
            local_grads.append(d)
    out = Value(total, tuple(parents), tuple(local_grads), "dot")
    # the plain numbers of xs then ws, None where a Value stood
    out.constants = tuple(None if isinstance(v, Value) else d for v, d in zip(xs + ws, (*x_data, *w_data)))
    return out


def make_op(
    op: str,
    data: float,
    parents: Sequence[Value],
    local_grads: Sequence[float],
    replay: Callable[..., tuple[float, Sequence[float]]] | None = None,
) -> Value:
    """Make a node for any function whose local derivatives you know.

    ``make_op("cube", x.data**3, [x], [3 * x.data**2])`` behaves exactly like a
    built-in operation: ``backward()`` applies the chain rule through it.

    ``replay`` lets ``autograd.compile`` run the node again on new numbers: a
    function of the parents' numbers returning ``(data, local_grads)``, e.g.
    ``replay=lambda a: (a**3, [3 * a**2])``. Without it, compile refuses the graph.
    """
    parents = tuple(parents)
    local_grads = tuple(as_float(g, "make_op(): each local gradient") for g in local_grads)
    if len(parents) != len(local_grads):
        raise ValueError(
            f"make_op() needs one local gradient per parent, "
            f"got {len(parents)} parents and {len(local_grads)} gradients"
        )
    for p in parents:
        if not isinstance(p, Value):
            raise TypeError(f"make_op() parents must be Values, got {type(p).__name__} {p!r:.60}")
    if replay is not None and not callable(replay):
        raise TypeError(f"make_op(replay=...) takes a function of the parents' numbers, got {type(replay).__name__}")
    out = Value(as_float(data, "make_op(): data"), parents, local_grads, str(op))
    out.constants = (MAKE_OP, replay)
    return out


MAKE_OP = "make_op"  # first of a make_op node's constants: (MAKE_OP, its replay rule or None)


def _has_compiled(leaves: list[Value]) -> bool:
    """Whether some leaf is not a plain Value (an output of ``autograd.compile``)."""
    return len(set(map(type, leaves))) > 1 or type(leaves[0]) is not Value


def _number(x: Operand, what: str = "comparing a Value with") -> float:
    return x.data if isinstance(x, Value) else as_float(x, what)


def _rebuild(
    data: float,
    grad: float,
    label: str,
    op: str,
    parents: tuple[Value, ...] = (),
    local_grads: tuple[float, ...] = (),
) -> Value:
    """A Value with exactly these fields, whatever the grad mode (for copies and pickles)."""
    v = Value(data, label=label)
    v.grad, v.op, v.parents, v.local_grads = grad, op, parents, tuple(local_grads)
    return v


def _rebuild_graph(records: list[Any]) -> Value:
    """The graph ``Value.__reduce__`` flattened.

    Leaves come as Values, computed nodes as (data, grad, label, op, parent
    indices, local_grads), each after its parents.
    """
    nodes: list[Value] = []
    for record in records:
        if isinstance(record, Value):
            nodes.append(record)
        else:
            data, grad, label, op, parents, local_grads = record
            nodes.append(_rebuild(data, grad, label, op, tuple(nodes[i] for i in parents), local_grads))
    return nodes[-1]
