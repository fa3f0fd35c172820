"""The engine against PyTorch (float64), the oracle: random graphs over every op."""

from __future__ import annotations

import math
import os

import pytest
from helpers import close
from hypothesis import HealthCheck, assume, given, settings
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
