"""nn.losses: hand-derived values and gradients, the loss names, and clear errors."""

import math

import pytest
from helpers import close

import nn
from autograd import Value
from nn.losses import LOSSES, TARGETS, decision_threshold, loss_function


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


def test_cross_entropy_of_a_one_output_model_asks_for_one_output_per_class():
    X, y = [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0]
    model = nn.MLP(2, [2, 1], rng=0)
    before = model.state_dict()
    with pytest.raises(ValueError) as caught:
        nn.fit(model, X, y, loss="ce", optimizer=nn.optim.SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
    assert str(caught.value).startswith(
        "cross_entropy(): got 4 single scores and 4 class indices, but cross-entropy needs one output per class: "
        "a model with k outputs for k classes"
    )
    assert "bce_logits" in str(caught.value)
    assert model.state_dict() == before
    with pytest.raises(ValueError, match="got 2 single scores and 2 class indices"):
        nn.cross_entropy([Value(0.3), Value(-1.0)], [0, 1])
    assert close(nn.cross_entropy([Value(0.3), Value(-1.0)], 0).data, math.log(1 + math.exp(-1.3)))  # one example still works


def test_bce_at_zero_and_one_is_clamped_at_100():
    ps = [Value(0.0), Value(1.0)]
    loss = nn.binary_cross_entropy(ps, [1, 0])
    assert loss.data == 100.0  # each log clamped at -100, as PyTorch does
    loss.backward()
    # d/dp = (p - t) / max(p (1 - p), 1e-12) / n, with 1e-12 as a 32-bit float
    assert [p.grad for p in ps] == [-1 / 9.999999960041972e-13 / 2, 1 / 9.999999960041972e-13 / 2]


def test_bce_of_a_nan_prediction_is_nan():
    p, q = Value(math.nan), Value(0.5)
    loss = nn.binary_cross_entropy([p, q], [1, 0])
    assert math.isnan(loss.data)  # not a clamped, finite 100
    loss.backward()
    assert math.isnan(p.grad) and q.grad == pytest.approx(0.5 / 0.25 / 2)
    per_sample = nn.binary_cross_entropy([Value(math.nan), Value(0.5)], [1, 0], reduction="none")
    assert math.isnan(per_sample[0].data) and per_sample[1].data == pytest.approx(math.log(2))


@pytest.mark.parametrize(
    ("x", "t", "loss", "grad"),
    [
        # (1 - t) x - min(x, 0) at x = +-inf, as PyTorch; d/dx = sigmoid(x) - t
        (math.inf, 0.0, math.inf, 1.0),
        (math.inf, 0.3, math.inf, 0.7),
        (math.inf, 1.0, math.nan, 0.0),  # 0 * inf
        (-math.inf, 0.0, math.nan, 0.0),  # -inf + inf
        (-math.inf, 1.0, math.nan, -1.0),
        (math.nan, 1.0, math.nan, math.nan),
        (0.0, 1.0, math.log(2), -0.5),
        (50.0, 0.0, 50.0 + math.log1p(math.exp(-50.0)), 1.0 / (1.0 + math.exp(-50.0))),
    ],
)
def test_bce_with_logits_at_the_ends_of_the_line(x, t, loss, grad):
    v = Value(x)
    out = nn.binary_cross_entropy_with_logits([v], [t])
    out.backward()
    assert close(out.data, loss) and close(v.grad, grad), (out.data, v.grad)


# ---- the loss names ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("names", "function"),
    [
        (["mse", "mse_loss"], nn.mse_loss),
        (["mae", "mae_loss", "l1", "l1_loss"], nn.mae_loss),
        (["bce", "binary_cross_entropy"], nn.binary_cross_entropy),
        (["bce_logits", "bce_with_logits", "binary_cross_entropy_with_logits"], nn.binary_cross_entropy_with_logits),
        (["ce", "cross_entropy"], nn.cross_entropy),
        (["hinge", "hinge_loss"], nn.hinge_loss),
    ],
)
def test_every_name_and_pytorch_spelling_finds_its_loss(names, function):
    for name in names:
        assert LOSSES[name] is function and loss_function(name) is function
    assert sorted(name for name, f in LOSSES.items() if f is function) == sorted(names)


def test_loss_function_passes_a_function_through_and_explains_mistakes():
    assert loss_function(nn.mse_loss) is nn.mse_loss
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'; use one of 'mse', 'mse_loss', .*'cross_entropy'"):
        loss_function("crossentropy")
    with pytest.raises(TypeError, match="got int 3"):
        loss_function(3)


def test_targets_say_what_each_loss_expects():
    assert {f.__name__: kind for f, kind in TARGETS.items()} == {
        "mse_loss": "real",
        "mae_loss": "real",
        "binary_cross_entropy": "0/1",
        "binary_cross_entropy_with_logits": "0/1",
        "hinge_loss": "-1/+1",
        "cross_entropy": "class",
    }
    assert set(TARGETS) == set(LOSSES.values())


@pytest.mark.parametrize(
    ("loss", "targets", "threshold"),
    [
        ("bce", [0, 1, 1], 0.5),  # probabilities
        ("mse", [0.0, 1.0], 0.5),  # outputs move towards the labels 0 and 1
        ("l1", [1, 1], 0.5),
        (nn.mse_loss, [0, 1], 0.5),
        ("mse", [-1, 1], None),  # -1/+1 labels: the sign
        ("mse", [0.2, 1.7], None),  # regression: accuracy does not apply
        ("mse", [[0.0, 1.0]], None),  # several outputs per sample
        ("bce_with_logits", [0, 1], None),  # logits: 0
        ("hinge", [-1, 1], None),
        ("cross_entropy", [0, 2, 1], None),  # argmax
        (lambda outputs, targets: nn.mse_loss(outputs, targets), [0, 1], None),  # unknown: raw scores
    ],
)
def test_decision_threshold(loss, targets, threshold):
    assert decision_threshold(loss, targets) == threshold
