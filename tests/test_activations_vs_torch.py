"""nn.activations against PyTorch (the oracle): values and gradients equal in float64."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch", reason="PyTorch is the test oracle (pip install torch)")
F = torch.nn.functional

from helpers import close  # noqa: E402

import nn  # noqa: E402
from autograd import Value  # noqa: E402

pytestmark = pytest.mark.torch


finite = st.floats(-1000.0, 1000.0, allow_nan=False)

moderate = st.floats(-30.0, 30.0, allow_nan=False)

EDGES = [0.0, -0.0, 1e-12, -1e-12, 20.0, 20.000001, 700.0, -700.0, 1000.0, -1000.0]


def check_unary(ours, theirs, x: float) -> None:
    v = Value(x)
    out = ours(v)
    out.backward()
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ref = theirs(t)
    ref.backward()
    assert close(out.data, ref.item()), (x, out.data, ref.item())
    grad = 0.0 if t.grad is None else t.grad.item()
    assert close(v.grad, grad), (x, v.grad, grad)

UNARY = {
    "identity": (nn.identity, lambda t: t * 1.0),
    "sigmoid": (nn.sigmoid, torch.sigmoid),
    "tanh": (nn.tanh, torch.tanh),
    "relu": (nn.relu, F.relu),
    "leaky_relu": (nn.leaky_relu, F.leaky_relu),
    "leaky_relu_0.1": (lambda v: nn.leaky_relu(v, 0.1), lambda t: F.leaky_relu(t, 0.1)),
    "elu": (nn.elu, F.elu),
    "elu_0.5": (lambda v: nn.elu(v, alpha=0.5), lambda t: F.elu(t, alpha=0.5)),
    "softplus": (nn.softplus, F.softplus),
    "sign": (nn.sign, torch.sign),
    # torch.heaviside has no gradient; step's derivative is 0, like sign's
    "step": (nn.step, lambda t: (t > 0).double() + 0.0 * t),
}

@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=60, deadline=None)
@given(x=finite)
def test_unary_matches_torch(name, x):
    check_unary(*UNARY[name], x)

@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("x", EDGES)
def test_unary_matches_torch_at_edges(name, x):
    check_unary(*UNARY[name], x)

def check_vector(ours, theirs, xs: list[float], upstream: list[float]) -> None:
    """Compare every output and the gradient of sum_i u_i * out_i (which uses the full Jacobian)."""
    vs = [Value(x) for x in xs]
    outs = ours(vs)
    outs = outs if isinstance(outs, list) else [outs]
    loss = Value(0.0)
    for u, o in zip(upstream, outs, strict=False):
        loss = loss + u * o
    loss.backward()
    t = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    ref = theirs(t).reshape(-1)
    (ref * torch.tensor(upstream[: ref.numel()], dtype=torch.float64)).sum().backward()
    for o, r in zip(outs, ref.tolist(), strict=True):
        assert math.isfinite(o.data) == math.isfinite(r)
        assert close(o.data, r, 1e-10, 1e-10), (xs, o.data, r)
    for v, g in zip(vs, t.grad.tolist(), strict=True):
        assert close(v.grad, g, 1e-10, 1e-10), (xs, v.grad, g)

vectors = st.integers(1, 6).flatmap(
    lambda n: st.tuples(st.lists(finite, min_size=n, max_size=n), st.lists(moderate, min_size=n, max_size=n))
)

@settings(max_examples=80, deadline=None)
@given(vectors)
def test_softmax_matches_torch(data):
    xs, upstream = data
    check_vector(nn.softmax, lambda t: F.softmax(t, dim=0), xs, upstream)

@settings(max_examples=80, deadline=None)
@given(vectors)
def test_log_softmax_matches_torch(data):
    xs, upstream = data
    check_vector(nn.log_softmax, lambda t: F.log_softmax(t, dim=0), xs, upstream)

@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(-3, 3).map(float) | finite, min_size=1, max_size=6))
def test_maxout_matches_torch_max_including_ties(xs):
    check_vector(nn.maxout, torch.max, xs, [1.0])


@pytest.mark.parametrize("fn", [nn.softmax, nn.log_softmax])
def test_softmax_extreme_logits_match_torch(fn):
    check_vector(fn, lambda t: (F.softmax if fn is nn.softmax else F.log_softmax)(t, dim=0),
                 [1000.0, 0.0, -1000.0], [0.3, -1.2, 2.0])
