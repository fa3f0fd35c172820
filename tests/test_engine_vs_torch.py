"""The engine against PyTorch (float64), the oracle: random graphs over every op.

Two differential tests: tame graphs (inputs in [-2, 2], every op inside its
domain) must agree to 1e-9 in value and gradient; nasty graphs (+-0, +-inf,
nan, subnormals, +-1e308, 1e-300, the edges of exp and softplus, every op
anywhere) must agree except for the documented differences, sorted by
``benchmarks/fuzz_vs_torch.py``. Over 80,000 nasty graphs (seeds 0-3, 20,000
each) that script counted: agree 75,342; sign of a zero 1,327 (chainrule's
zero gradients are +0.0); zero derivative passes nothing 3,287 (chainrule
masks every zero local derivative, PyTorch only those of relu, sign, max and
x**0); reciprocal of a subnormal 24 (log and / at |x| < 2.2e-308); sigmoid
below -708 19; ill-conditioned 1; other 0.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
from pathlib import Path

import pytest
from helpers import close
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from random_graphs import build, graphs, halves, output, value_ops

import autograd
from autograd import Value

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="PyTorch is the test oracle (pip install torch)")
F = torch.nn.functional

EXAMPLES = int(os.environ.get("CHAINRULE_EXAMPLES", "300"))


def _torch_sum(ts):
    # left to right, as autograd.sum adds: the same rounding, so kinks (abs, relu)
    # of a sum that cancels to ~0 fall on the same side in both engines
    total = ts[0]
    for t in ts[1:]:
        total = total + t
    return total


def _positive(t):
    return abs(t) + 0.1


TORCH_OPS = {
    "neg": lambda t: -t,
    "abs": torch.abs,
    "exp": torch.exp,
    "log": lambda t: torch.log(_positive(t)),
    "sqrt": lambda t: torch.sqrt(_positive(t)),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.1),
    "elu": lambda t: F.elu(t, 0.7),
    "softplus": F.softplus,
    "sin": torch.sin,
    "cos": torch.cos,
    "square": lambda t: t**2,
    "cube": lambda t: t**3,
    "inverse": lambda t: (t * t + 0.1) ** -1,
    "root": lambda t: _positive(t) ** 0.5,
    "two_to_the": lambda t: 2**t,
    "add_const": lambda t: t + 1.5,
    "rsub_const": lambda t: 1.5 - t,
    "mul_const": lambda t: 2 * t,
    "rdiv_const": lambda t: 1 / (t * t + 0.1),
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 0.1),
    "**": lambda a, b: (torch.tanh(a) * 0.5 + 1.0) ** b,
    "sum": _torch_sum,
    "dot": lambda ts: _torch_sum([x * w for x, w in zip(*halves(ts))]),
}
OPS = value_ops(autograd)


def _leaf(x):
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_match_pytorch(graph):
    n = len(graph[0])
    ours = build(graph, Value, OPS)
    theirs = build(graph, _leaf, TORCH_OPS)
    out = output(ours, n, autograd.sum)
    out_t = output(theirs, n, lambda ts: torch.stack(ts).sum())
    assume(math.isfinite(out_t.item()) and abs(out_t.item()) < 1e8)
    out_t.backward()
    out.backward()
    assert close(out.data, out_t.item(), rel=1e-9, abs_=1e-9)
    for v, t in zip(ours[:n], theirs[:n]):
        expected = 0.0 if t.grad is None else t.grad.item()  # None: the leaf is unused
        assert close(v.grad, expected, rel=1e-6, abs_=1e-9), (v.grad, expected)


def test_micrograd_sanity_check():
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xt = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    zt = 2 * xt + 2 + xt
    qt = zt.relu() + zt * xt
    ht = (zt * zt).relu()
    yt = ht + qt + qt * xt
    yt.backward()
    assert y.data == yt.item()
    assert x.grad == xt.grad.item()


def test_micrograd_more_ops():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    at = torch.tensor([-4.0], dtype=torch.float64, requires_grad=True)
    bt = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    ct = at + bt
    dt = at * bt + bt**3
    ct = ct + ct + 1
    ct = ct + 1 + ct + (-at)
    dt = dt + dt * 2 + (bt + at).relu()
    dt = dt + 3 * dt + (bt - at).relu()
    et = ct - dt
    ft = et**2
    gt = ft / 2.0
    gt = gt + 10.0 / ft
    gt.backward()
    assert close(g.data, gt.item()) and close(a.grad, at.grad.item()) and close(b.grad, bt.grad.item())


def test_backward_through_infinities_gives_what_pytorch_gives():
    x = Value(0.0)
    y = x.log() * 0.0 + x.sqrt()
    y.backward()  # log's local derivative 1/0 = inf times upstream 0 = nan, as in PyTorch
    xt = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    (xt.log() * 0.0 + xt.sqrt()).backward()
    assert close(x.grad, xt.grad.item())


def _load_fuzz():
    """benchmarks/fuzz_vs_torch.py (a folder of scripts, not a package)."""
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz_vs_torch.py"
    spec = importlib.util.spec_from_file_location("benchmarks_fuzz_vs_torch", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fuzz = _load_fuzz()
NASTY_LEAVES = st.one_of(st.sampled_from(fuzz.NASTY), st.floats(-3, 3, allow_nan=False))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(ops=tuple(fuzz.OPS), arity=fuzz.ARITY, leaf_values=NASTY_LEAVES))
def test_nasty_graphs_match_pytorch_but_for_the_documented_differences(graph):
    category, (ours, theirs) = fuzz.classify(graph)
    assert category in fuzz.CATEGORIES[:-1], f"{graph}: chainrule {ours}, PyTorch {theirs}"


@pytest.mark.parametrize(
    "graph, category",
    [
        (([0.0], [("abs", [0]), ("log", [1])]), "zero derivative passes nothing"),  # PyTorch: abs'(0) * -inf = nan
        (([2.0, -0.0], [("*", [0, 1])]), "sign of a zero"),
        (
            ([1e-310, -0.02246509279074438, 0.5, 0.5],
             [("sum", [0, 2, 0, 3, 2, 3]), ("log", [0]), ("tanh", [3]), ("mul_const", [2]), ("sigmoid", [1]),
              ("abs", [5]), ("relu", [2])]),
            "reciprocal of a subnormal",
        ),
        (([-745.0], [("sigmoid", [0]), ("log", [1])]), "sigmoid below -708"),
        (([0.3, -1.2], [("*", [0, 1]), ("tanh", [2])]), "agree"),
    ],
)
def test_each_documented_difference_is_recognised(graph, category):
    assert fuzz.classify(graph)[0] == category
