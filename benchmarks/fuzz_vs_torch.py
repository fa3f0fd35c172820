"""Differential fuzz: random graphs on nasty numbers, chainrule against PyTorch (float64).

    python benchmarks/fuzz_vs_torch.py                 # 20,000 graphs, about a minute
    python benchmarks/fuzz_vs_torch.py --graphs 2000 --seed 3 --show 5

Each graph has 1-4 leaves drawn from nasty values (+-0, +-inf, nan,
subnormals, +-1e308, +-1e-300, the overflow edges of exp, the softplus
threshold...) or ordinary ones, then 1-12 operations over every op of the
engine, each on earlier nodes (so subexpressions are shared), then an output
that depends on every node. Both engines build the same graph; the output's
value and every leaf's gradient are compared, and each graph is sorted into:

* ``agree``: equal, nan for nan, inf for the same inf, within 1e-9 of the
  size of the terms that were added up (float residue where the true value
  cancels to about 0), or apart by less than the smallest normal float;
* ``sign of a zero``: only the sign of a zero differs (chainrule's gradients
  start at +0.0, and +0.0 + -0.0 = +0.0; PyTorch keeps -0.0 at times);
* ``zero derivative passes nothing``: chainrule gives 0 where PyTorch gives nan
  or inf, because a zero local derivative times an inf or nan upstream
  gradient passes nothing in chainrule (PyTorch masks only relu, sign, max
  and x**0 this way, not abs at 0, a product with 0 or leaky_relu with slope 0);
  checked by backpropagating again without that rule;
* ``reciprocal of a subnormal``: ``log`` or ``/`` at a nonzero |x| < 2.3e-308,
  where chainrule's stored local derivative 1/x overflows to inf and
  PyTorch divides the upstream gradient by x instead;
* ``sigmoid below -708``: chainrule computes sigmoid(a) for a < 0 as
  e^a / (1 + e^a), a tiny positive number (5e-324 at a = -745); PyTorch's
  1 / (1 + e^-a) rounds it to 0, so a log of it is -inf there;
* ``ill-conditioned``: the difference is no larger than what a change of the
  leaves in their 13th digit does to chainrule's own result (rounding
  differences amplified by cancellation);
* ``other``: unexplained. ``tests/test_engine_vs_torch.py`` runs the same
  comparison under hypothesis and fails on any.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import autograd
except ImportError:  # running from a checkout without installing it
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import autograd

import torch

F = torch.nn.functional
Graph = tuple[list[float], list[tuple[str, list[int]]]]
SMALLEST_NORMAL = 2.2250738585072014e-308

NASTY = [
    0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324, -5e-324, 1e-310, -2.5e-309, 2.2250738585072014e-308,
    1e308, -1e308, 1.7976931348623157e308, 1e-300, -1e-300, 1e200, -1e200, 1e16, 700.0, 710.0, 745.0,
    -745.0, 1000.0, -1000.0, 20.0, 20.000001, 1.0, -1.0, 0.5, -0.5, 2.0, 3.0, 1e-8,
]


def _torch_sum(ts: list[Any]) -> Any:
    total = ts[0]
    for t in ts[1:]:
        total = total + t
    return total


def _halves(items: list[Any]) -> tuple[list[Any], list[Any]]:
    n = len(items) // 2
    return items[:n], items[n : 2 * n]


# name -> (number of inputs, 0 for n-ary; on chainrule Values; on PyTorch tensors)
OPS: dict[str, tuple[int, Callable[..., Any], Callable[..., Any]]] = {
    "neg": (1, lambda v: -v, lambda t: -t),
    "abs": (1, abs, torch.abs),
    "exp": (1, lambda v: v.exp(), torch.exp),
    "log": (1, lambda v: v.log(), torch.log),
    "sqrt": (1, lambda v: v.sqrt(), torch.sqrt),
    "tanh": (1, lambda v: v.tanh(), torch.tanh),
    "sigmoid": (1, lambda v: v.sigmoid(), torch.sigmoid),
    "relu": (1, lambda v: v.relu(), torch.relu),
    "leaky_relu": (1, lambda v: v.leaky_relu(0.1), lambda t: F.leaky_relu(t, 0.1)),
    "elu": (1, lambda v: v.elu(0.7), lambda t: F.elu(t, 0.7)),
    "softplus": (1, lambda v: v.softplus(), F.softplus),
    "sin": (1, lambda v: v.sin(), torch.sin),
    "cos": (1, lambda v: v.cos(), torch.cos),
    "square": (1, lambda v: v**2, lambda t: t**2),
    "cube": (1, lambda v: v**3, lambda t: t**3),
    "inverse": (1, lambda v: v**-1, lambda t: t**-1),
    "root": (1, lambda v: v**0.5, lambda t: t**0.5),
    "rsqrt": (1, lambda v: v**-0.5, lambda t: t**-0.5),
    "pow_1.5": (1, lambda v: v**1.5, lambda t: t**1.5),
    "two_to_the": (1, lambda v: 2**v, lambda t: 2**t),
    "add_const": (1, lambda v: v + 1.5, lambda t: t + 1.5),
    "rsub_const": (1, lambda v: 1.5 - v, lambda t: 1.5 - t),
    "mul_const": (1, lambda v: 2 * v, lambda t: 2 * t),
    "rdiv_const": (1, lambda v: 1 / v, lambda t: 1 / t),
    "+": (2, lambda a, b: a + b, lambda a, b: a + b),
    "-": (2, lambda a, b: a - b, lambda a, b: a - b),
    "*": (2, lambda a, b: a * b, lambda a, b: a * b),
    "/": (2, lambda a, b: a / b, lambda a, b: a / b),
    "**": (2, lambda a, b: a**b, lambda a, b: a**b),
    "sum": (0, autograd.sum, _torch_sum),
    "dot": (0, lambda vs: autograd.dot(*_halves(vs)), lambda ts: _torch_sum([x * w for x, w in zip(*_halves(ts))])),
}
ARITY = {name: n for name, (n, _, _) in OPS.items()}
CHAINRULE = {name: f for name, (_, f, _) in OPS.items()}
TORCH = {name: f for name, (_, _, f) in OPS.items()}
CATEGORIES = ["agree", "sign of a zero", "zero derivative passes nothing", "reciprocal of a subnormal",
              "sigmoid below -708", "ill-conditioned", "other"]


def random_graph(rng: random.Random) -> Graph:
    """1-4 leaves (nasty two times in three), then 1-12 operations on earlier nodes."""
    leaves = [rng.choice(NASTY) if rng.random() < 2 / 3 else rng.uniform(-3.0, 3.0) for _ in range(rng.randint(1, 4))]
    steps = []
    for _ in range(rng.randint(1, 12)):
        name = rng.choice(sorted(OPS))
        n_args = ARITY[name] or rng.randint(2, 6)
        steps.append((name, [rng.randrange(len(leaves) + len(steps)) for _ in range(n_args)]))
    return leaves, steps


def _build(graph: Graph, leaf: Callable[[float], Any], ops: dict[str, Callable[..., Any]], total: Callable) -> tuple:
    leaves, steps = graph
    nodes = [leaf(x) for x in leaves]
    for name, args in steps:
        inputs = [nodes[i] for i in args]
        nodes.append(ops[name](inputs) if ARITY[name] == 0 else ops[name](*inputs))
    root = total(nodes[len(leaves) :]) + nodes[-1] * nodes[-1]
    return root, nodes[: len(leaves)]


def chainrule_result(graph: Graph, scale: float = 1.0) -> tuple[float, list[float], Any, list[Any]]:
    """The output, the leaves' gradients, the root and the leaves, with every leaf multiplied by ``scale``."""
    root, leaves = _build((([x * scale for x in graph[0]]), graph[1]), autograd.Value, CHAINRULE, autograd.sum)
    root.backward()
    return root.data, [leaf.grad for leaf in leaves], root, leaves


def torch_result(graph: Graph) -> tuple[float, list[float]]:
    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    root, leaves = _build(graph, leaf, TORCH, lambda ts: _torch_sum(ts))
    root.backward()
    return root.item(), [0.0 if t.grad is None else t.grad.item() for t in leaves]


def _magnitudes(root: Any) -> tuple[float, dict[int, float]]:
    """How big the terms added up are: for the value, and for each leaf's gradient (sums of |path products|)."""
    nodes = autograd.topological_order(root)
    size = {id(n): 0.0 for n in nodes}
    size[id(root)] = 1.0
    for node in reversed(nodes):
        for parent, local in zip(node.parents, node.local_grads):
            size[id(parent)] += abs(local) * size[id(node)]
    value = sum(size[id(n)] * abs(n.data) for n in nodes if math.isfinite(size[id(n)] * n.data))
    return value, size


def _same(a: float, b: float, scale: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return (
        abs(a - b) <= 1e-9 * max(abs(a), abs(b))
        or (math.isfinite(scale) and abs(a - b) <= 1e-9 * scale)
        or abs(a - b) < SMALLEST_NORMAL  # subnormal noise, e.g. 1.5e-323 against 1e-323
    )


def _unmasked_grads(root: Any, leaves: list[Any]) -> list[float]:
    """chainrule's leaf gradients if every edge added local * upstream, zero local derivatives included."""
    nodes = autograd.topological_order(root)
    grad = {id(n): 0.0 for n in nodes}
    grad[id(root)] = 1.0
    for node in reversed(nodes):
        for parent, local in zip(node.parents, node.local_grads):
            grad[id(parent)] += local * grad[id(node)]
    return [grad.get(id(leaf), 0.0) for leaf in leaves]


def _has_subnormal_reciprocal(root: Any) -> bool:
    for node in autograd.topological_order(root):
        args = node.parents[:1] if node.op == "log" else node.parents[1:2] if node.op == "/" else ()
        if any(0.0 < abs(p.data) < SMALLEST_NORMAL for p in args):
            return True
    return False


def classify(graph: Graph) -> tuple[str, tuple[Any, ...]]:
    """The category of one graph (see the module docstring) and the two engines' numbers."""
    theirs = torch_result(graph)
    data, grads, root, leaves = chainrule_result(graph)
    ours = (data, grads)
    value_scale, sizes = _magnitudes(root)
    pairs = [(data, theirs[0], value_scale)] + [
        (g, t, sizes.get(id(leaf), 0.0)) for g, t, leaf in zip(grads, theirs[1], leaves)
    ]
    bad = [(a, b) for a, b, scale in pairs if not _same(a, b, scale)]
    if not bad:
        both_zero = [(a, b) for a, b, _ in pairs if a == 0.0 and b == 0.0]
        if any(math.copysign(1.0, a) != math.copysign(1.0, b) for a, b in both_zero):
            return "sign of a zero", (ours, theirs)
        return "agree", (ours, theirs)
    same_value = _same(data, theirs[0], value_scale)
    unmasked = _unmasked_grads(root, leaves)
    if same_value and all(
        _same(u, t, sizes.get(id(leaf), 0.0)) or _same(g, t, sizes.get(id(leaf), 0.0))
        for u, g, t, leaf in zip(unmasked, grads, theirs[1], leaves)
    ):
        return "zero derivative passes nothing", (ours, theirs)
    if same_value and _has_subnormal_reciprocal(root):  # only gradients go through 1/x
        return "reciprocal of a subnormal", (ours, theirs)
    if any(n.op == "sigmoid" and n.parents[0].data < -708.0 for n in autograd.topological_order(root)):
        return "sigmoid below -708", (ours, theirs)
    nudged = chainrule_result(graph, 1.0 + 1e-13)
    if all(math.isfinite(a) and math.isfinite(b) for a, b in bad) and all(
        abs(a - b) <= 10 * abs(a - c) for (a, b), c in zip(bad, _matching(pairs, bad, nudged))
    ):
        return "ill-conditioned", (ours, theirs)
    return "other", (ours, theirs)


def _matching(pairs: list[tuple[float, float, float]], bad: list[tuple[float, float]], nudged: tuple) -> list[float]:
    """For each mismatching number, the same number from the nudged run."""
    again = [nudged[0], *nudged[1]]
    out = []
    for (a, b, _), c in zip(pairs, again):
        if (a, b) in bad and len(out) < len(bad):
            out.append(c)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--graphs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="print this many graphs of each category but agree")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    for _ in range(args.graphs):
        graph = random_graph(rng)
        category, numbers = classify(graph)
        counts[category] += 1
        if category != "agree" and shown[category] < args.show:
            shown[category] += 1
            print(f"[{category}] {graph}\n    chainrule {numbers[0]}\n    PyTorch   {numbers[1]}")
    print(f"\n{args.graphs:,} random graphs (seed {args.seed}), chainrule against PyTorch float64:")
    for name in CATEGORIES:
        print(f"  {name:32} {counts[name]:>7,}")
    return 1 if counts["other"] else 0


if __name__ == "__main__":
    sys.exit(main())
