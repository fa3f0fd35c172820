"""nn.losses: values and gradients equal torch.nn.functional's (float64)."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value


def close(a: float, b: float, tol: float = 1e-10) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


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
        assert close(loss.data, ref.item()), (loss.data, ref.item())
    for v, g in zip(vs, t.grad.tolist(), strict=True):
        assert close(v.grad, g), (preds, targets, v.grad, g)


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
    loss = nn.binary_cross_entropy([Value(0.0), Value(1.0)], [1, 0])
    assert loss.data == 100.0  # log clamped at -100
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
    assert close(loss.data, ref.item())
    assert [v.grad for v in values] == pytest.approx(t.grad[0].tolist(), rel=1e-10, abs=1e-10)


def test_cross_entropy_extreme_logits_are_finite():
    zs = [Value(1000.0), Value(0.0), Value(-1000.0)]
    loss = nn.cross_entropy(zs, 2)
    loss.backward()
    assert loss.data == 2000.0
    assert [z.grad for z in zs] == [1.0, 0.0, -1.0]


def test_cross_entropy_worked_example():
    # probabilities 0.1, 0.7, 0.2 (logits = their logs), true class 2 of 3 (index 1)
    loss = nn.cross_entropy([math.log(0.1), math.log(0.7), math.log(0.2)], 1)
    assert loss.data == pytest.approx(-math.log(0.7)) and loss.data == pytest.approx(0.357, abs=1e-3)


def test_squared_error_worked_example():
    assert nn.mse_loss(Value(0.5), 0).data == 0.25
    assert nn.mse_loss(0.5, [0.0]).data == 0.25


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
        assert close(out.data, ref.item())
        assert [v.grad for v in vs] == pytest.approx(t.grad.tolist(), rel=1e-12)


def test_penalties_accept_a_module():
    model = nn.MLP(2, [3, 1], rng=0)
    expected = sum(p.data**2 for p in model.parameters())
    assert nn.l2_penalty(model).data == pytest.approx(expected)
    assert nn.l2_penalty(model.parameters()).data == pytest.approx(expected)


def test_multi_output_predictions_flatten_like_torch():
    preds = [[Value(1.0), Value(2.0)], [Value(3.0), Value(-1.0)]]
    loss = nn.mse_loss(preds, [[0.0, 2.0], [1.0, 1.0]])
    assert loss.data == pytest.approx((1 + 0 + 4 + 4) / 4)
    loss.backward()
    assert [p.grad for row in preds for p in row] == pytest.approx([0.5, 0.0, 1.0, -1.0])


def test_a_loss_is_one_node_over_the_predictions():
    ps = [Value(0.1), Value(0.2)]
    loss = nn.mse_loss(ps, [0, 1])
    assert loss.op == "mse_loss" and loss.parents == tuple(ps)


def test_gradients_flow_into_a_model():
    model = nn.MLP(2, [4, 1], rng=1)
    loss = nn.mse_loss([model([1.0, 2.0]), model([0.0, -1.0])], [1.0, 0.0])
    loss.backward()
    assert any(p.grad != 0.0 for p in model.parameters())


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nn.mse_loss([Value(1.0), Value(2.0)], [1.0]), ValueError, "2 predictions but 1 targets"),
        (lambda: nn.mse_loss([Value(1.0)], 1.0), TypeError, "single target"),
        (lambda: nn.mse_loss([], []), ValueError, "no predictions"),
        (lambda: nn.mse_loss(["a"], [1.0]), TypeError, "got str 'a'"),
        (lambda: nn.mse_loss([Value(1.0)], [Value(1.0)]), TypeError, "target.data"),
        (lambda: nn.mse_loss([Value(1.0)], [1.0], reduction="avg"), ValueError, "reduction"),
        (lambda: nn.hinge_loss([Value(1.0)], [0]), ValueError, "-1 or \\+1, got 0"),
        (lambda: nn.binary_cross_entropy([Value(1.5)], [1]), ValueError, "probabilities in \\[0, 1\\], got 1.5"),
        (lambda: nn.binary_cross_entropy([Value(0.5)], [2]), ValueError, "targets are probabilities"),
        (lambda: nn.cross_entropy([Value(1.0), Value(2.0)], 2), ValueError, "out of range for 2 logits"),
        (lambda: nn.cross_entropy([Value(1.0), Value(2.0)], "1"), TypeError, "class index"),
        (lambda: nn.cross_entropy([[1.0, 2.0], [0.0, 1.0]], 1), TypeError, "list of class indices"),
        (lambda: nn.cross_entropy([[1.0, 2.0]], [0, 1]), ValueError, "1 logit lists but 2"),
        (lambda: nn.l2_penalty([1.0]), TypeError, "takes Values"),
    ],
)
def test_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
