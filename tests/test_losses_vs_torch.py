"""nn.losses against torch.nn.functional (float64): the same values and gradients."""

import math

import pytest
from helpers import close
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="PyTorch is the test oracle (pip install torch)")
F = torch.nn.functional


def compare(ours, theirs, preds: list[float], targets, reduction: str = "mean") -> None:
    """Our loss and the gradient of every prediction equal torch's."""
    vs = [Value(p) for p in preds]
    loss = ours(vs, targets, reduction=reduction)
    total = loss if isinstance(loss, Value) else sum(loss, Value(0.0))
    total.backward()
    t = torch.tensor(preds, dtype=torch.float64, requires_grad=True)
    ref = theirs(t, torch.tensor(targets, dtype=torch.float64), reduction=reduction)
    ref.sum().backward()
    if reduction == "none":
        assert [v.data for v in loss] == pytest.approx(ref.tolist(), rel=1e-10, abs=1e-10)
    else:
        assert close(loss.data, ref.item(), rel=1e-10, abs_=1e-10), (loss.data, ref.item())
    for v, g in zip(vs, t.grad.tolist(), strict=True):
        assert close(v.grad, g, rel=1e-10, abs_=1e-10), (preds, targets, v.grad, g)


def hinge_torch(s, y, reduction="mean"):
    losses = torch.relu(1 - y * s)
    return {"mean": losses.mean(), "sum": losses.sum(), "none": losses}[reduction]


finite = st.floats(-1000.0, 1000.0, allow_nan=False)
probability = st.floats(0.0, 1.0)
label01 = st.sampled_from([0.0, 1.0])
reductions = st.sampled_from(["mean", "sum", "none"])


def paired(x, y):
    return st.integers(1, 8).flatmap(
        lambda n: st.tuples(st.lists(x, min_size=n, max_size=n), st.lists(y, min_size=n, max_size=n))
    )


@settings(max_examples=80, deadline=None)
@given(paired(finite, finite), reductions)
def test_mse_matches_torch(data, reduction):
    compare(nn.mse_loss, F.mse_loss, *data, reduction)


@settings(max_examples=80, deadline=None)
@given(paired(finite, finite | st.sampled_from([0.0, 1.0])), reductions)
def test_mae_matches_torch_l1_loss(data, reduction):
    compare(nn.mae_loss, F.l1_loss, *data, reduction)


def test_mae_gradient_is_zero_where_prediction_equals_target():
    compare(nn.mae_loss, F.l1_loss, [1.0, 2.0], [1.0, 0.0])


@settings(max_examples=80, deadline=None)
@given(paired(probability | st.sampled_from([0.0, 1.0, 1e-300, 1 - 1e-16]), probability | label01), reductions)
def test_bce_matches_torch_including_clamped_logs(data, reduction):
    compare(nn.binary_cross_entropy, F.binary_cross_entropy, *data, reduction)


def test_bce_at_zero_and_one_is_clamped_like_torch():
    compare(nn.binary_cross_entropy, F.binary_cross_entropy, [0.0, 1.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0])


@settings(max_examples=80, deadline=None)
@given(paired(finite | st.sampled_from([-1000.0, 1000.0, 0.0, 36.0, -36.0]), probability | label01), reductions)
def test_bce_with_logits_matches_torch(data, reduction):
    compare(nn.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits, *data, reduction)


@settings(max_examples=80, deadline=None)
@given(paired(finite, st.sampled_from([-1.0, 1.0])), reductions)
def test_hinge_matches_relu_of_margin(data, reduction):
    compare(nn.hinge_loss, hinge_torch, *data, reduction)


logit_rows = st.integers(1, 5).flatmap(
    lambda k: st.tuples(
        st.lists(st.lists(finite, min_size=k, max_size=k), min_size=1, max_size=5),
        st.integers(0, 10**6),
    )
)


@settings(max_examples=80, deadline=None)
@given(logit_rows, reductions)
def test_batch_cross_entropy_matches_torch(data, reduction):
    rows, seed = data
    k = len(rows[0])
    classes = [(seed + 7 * i) % k for i in range(len(rows))]
    values = [[Value(z) for z in row] for row in rows]
    loss = nn.cross_entropy(values, classes, reduction=reduction)
    (loss if isinstance(loss, Value) else sum(loss, Value(0.0))).backward()
    t = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    ref = F.cross_entropy(t, torch.tensor(classes), reduction=reduction)
    ref.sum().backward()
    got = [loss.data] if isinstance(loss, Value) else [v.data for v in loss]
    assert got == pytest.approx(ref.reshape(-1).tolist(), rel=1e-10, abs=1e-10)
    grads = [[v.grad for v in row] for row in values]
    for row, ref_row in zip(grads, t.grad.tolist(), strict=True):
        assert row == pytest.approx(ref_row, rel=1e-10, abs=1e-10)


@settings(max_examples=80, deadline=None)
@given(st.lists(finite, min_size=1, max_size=6), st.integers(0, 5))
def test_single_cross_entropy_matches_torch(logits, c):
    c %= len(logits)
    values = [Value(z) for z in logits]
    loss = nn.cross_entropy(values, c)
    loss.backward()
    t = torch.tensor([logits], dtype=torch.float64, requires_grad=True)
    ref = F.cross_entropy(t, torch.tensor([c]))
    ref.backward()
    assert close(loss.data, ref.item(), rel=1e-10, abs_=1e-10)
    assert [v.grad for v in values] == pytest.approx(t.grad[0].tolist(), rel=1e-10, abs=1e-10)


@settings(max_examples=50, deadline=None)
@given(st.lists(finite | st.just(0.0), min_size=0, max_size=8))
def test_penalties_match_torch(params):
    for ours, theirs in [(nn.l1_penalty, lambda t: t.abs().sum()), (nn.l2_penalty, lambda t: (t**2).sum())]:
        vs = [Value(p) for p in params]
        out = ours(vs)
        out.backward()
        t = torch.tensor(params, dtype=torch.float64, requires_grad=True)
        ref = theirs(t)
        ref.backward()
        assert close(out.data, ref.item(), rel=1e-10, abs_=1e-10)
        assert [v.grad for v in vs] == pytest.approx(t.grad.tolist(), rel=1e-12)


@pytest.mark.parametrize("x", [math.inf, -math.inf, 1e308, -1e308, 0.0])
@pytest.mark.parametrize("t", [0.0, 1.0, 0.3])
def test_bce_with_logits_at_infinite_and_huge_logits_matches_torch(x, t):
    v = Value(x)
    loss = nn.binary_cross_entropy_with_logits([v], [t])
    loss.backward()
    a = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    ref = F.binary_cross_entropy_with_logits(a, torch.tensor([t], dtype=torch.float64))
    ref.backward()
    assert close(loss.data, ref.item(), rel=1e-10, abs_=1e-10), (loss.data, ref.item())  # nan matches nan
    assert close(v.grad, a.grad.item(), rel=1e-10, abs_=1e-10), (v.grad, a.grad.item())
