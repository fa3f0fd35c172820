"""Random expression graphs for the engine's property tests, buildable in any engine.

A graph is ``(leaves, steps)``: the numbers of the leaves, then steps
``(op name, input indices)``. Each step's result is a new node that later
steps may use again, so graphs have shared subexpressions (several paths
from a leaf to the output). ``build`` turns a graph into nodes of one engine
(chainrule's Values, the reference engine's, PyTorch tensors) given that
engine's operations by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st


def positive(v: Any) -> Any:
    """|v| + 0.1: keeps log, sqrt and fractional powers in their domain (for tame graphs)."""
    return abs(v) + 0.1


def halves(items: Sequence[Any]) -> tuple[Sequence[Any], Sequence[Any]]:
    n = len(items) // 2
    return items[:n], items[n : 2 * n]


# name -> number of inputs (0: any number from 2 to 6)
ARITY = {
    **dict.fromkeys(
        ["neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus",
         "sin", "cos", "square", "cube", "inverse", "root", "two_to_the", "add_const", "rsub_const",
         "mul_const", "rdiv_const"],
        1,
    ),
    **dict.fromkeys(["+", "-", "*", "/", "**"], 2),
    **dict.fromkeys(["sum", "dot"], 0),
}

# The operations the reference engine has too.
CORE = ["exp", "tanh", "relu", "square", "cube", "inverse", "add_const", "rsub_const", "mul_const",
        "rdiv_const", "+", "-", "*", "/", "**", "sum", "dot"]


def value_ops(engine: Any) -> dict[str, Callable[..., Any]]:
    """The operations on Values of ``engine`` (``autograd`` or ``autograd.reference``), tame domain.

    Unary and binary ones are the Value's own operators and methods; the
    n-ary ones are ``engine.sum`` and ``engine.dot``.
    """
    return {
        "neg": lambda v: -v,
        "abs": abs,
        "exp": lambda v: v.exp(),
        "log": lambda v: positive(v).log(),
        "sqrt": lambda v: positive(v).sqrt(),
        "tanh": lambda v: v.tanh(),
        "sigmoid": lambda v: v.sigmoid(),
        "relu": lambda v: v.relu(),
        "leaky_relu": lambda v: v.leaky_relu(0.1),
        "elu": lambda v: v.elu(0.7),
        "softplus": lambda v: v.softplus(),
        "sin": lambda v: v.sin(),
        "cos": lambda v: v.cos(),
        "square": lambda v: v**2,
        "cube": lambda v: v**3,
        "inverse": lambda v: (v * v + 0.1) ** -1,
        "root": lambda v: positive(v) ** 0.5,
        "two_to_the": lambda v: 2**v,
        "add_const": lambda v: v + 1.5,
        "rsub_const": lambda v: 1.5 - v,
        "mul_const": lambda v: 2 * v,
        "rdiv_const": lambda v: 1 / (v * v + 0.1),
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / (b * b + 0.1),
        "**": lambda a, b: (a.tanh() * 0.5 + 1.0) ** b,
        "sum": lambda vs: engine.sum(vs),
        "dot": lambda vs: engine.dot(*halves(vs)),
    }


@st.composite
def graphs(draw: st.DrawFn, ops: Sequence[str] = tuple(ARITY), leaf_values: st.SearchStrategy[float] | None = None,
           max_leaves: int = 4, max_steps: int = 12,
           arity: Mapping[str, int] = ARITY) -> tuple[list[float], list[tuple[str, list[int]]]]:
    """A random graph over ``ops`` (names in ``arity``): leaves from ``leaf_values``, then steps reusing earlier nodes."""
    if leaf_values is None:
        leaf_values = st.floats(-2, 2, allow_nan=False, allow_subnormal=False)
    leaves = draw(st.lists(leaf_values, min_size=1, max_size=max_leaves))
    steps = []
    n_nodes = len(leaves)
    for _ in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(sorted(ops)))
        n_args = arity[name] or draw(st.integers(2, 6))
        steps.append((name, draw(st.lists(st.integers(0, n_nodes - 1), min_size=n_args, max_size=n_args))))
        n_nodes += 1
    return leaves, steps


def build(graph: tuple[list[float], list[tuple[str, list[int]]]], leaf: Callable[[float], Any],
          ops: Mapping[str, Callable[..., Any]], arity: Mapping[str, int] = ARITY) -> list[Any]:
    """Every node of ``graph`` in one engine: its leaves made by ``leaf``, then one node per step."""
    leaves, steps = graph
    nodes = [leaf(x) for x in leaves]
    for name, args in steps:
        inputs = [nodes[i] for i in args]
        nodes.append(ops[name](inputs) if arity[name] == 0 else ops[name](*inputs))
    return nodes


def output(nodes: list[Any], n_leaves: int, total: Callable[[list[Any]], Any]) -> Any:
    """A root depending on every computed node (``total`` sums them), plus the last node squared."""
    return total(nodes[n_leaves:]) + nodes[-1] * nodes[-1]
