"""nn.optim: update rules by hand, bookkeeping, argument checks and state dicts (no PyTorch needed)."""

from __future__ import annotations

import json
import math
import random

import pytest

from autograd import Value
from nn.optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, RMSprop, StepLR

N_PARAMS = 6
N_STEPS = 12


def gradient_sequence(seed: int, steps: int = N_STEPS) -> list[list[float]]:
    """Random gradients with a few exact zeros and a few large ones."""
    rng = random.Random(seed)
    grads = []
    for _ in range(steps):
        row = [rng.gauss(0.0, 1.0) for _ in range(N_PARAMS)]
        row[0] = 0.0 if rng.random() < 0.3 else row[0]
        row[1] *= 50.0
        grads.append(row)
    return grads


def test_sgd_plain_step_by_hand():
    p = Value(1.0)
    opt = SGD([p], lr=0.1)
    p.grad = 2.0
    opt.step()
    assert p.data == pytest.approx(0.8)


def test_sgd_momentum_first_step_uses_the_gradient_itself():
    # torch initialises the buffer with the first gradient (no dampening applied)
    p = Value(0.0)
    opt = SGD([p], lr=1.0, momentum=0.9, dampening=0.5)
    p.grad = 1.0
    opt.step()
    assert p.data == -1.0
    opt.step()  # b = 0.9 * 1 + 0.5 * 1 = 1.4
    assert p.data == pytest.approx(-2.4)


def test_adam_first_step_moves_by_lr():
    # after bias correction, the first Adam step is lr * g / (|g| + eps') = lr * sign(g)
    p = Value(1.0)
    opt = Adam([p], lr=0.01, eps=0.0)
    p.grad = -123.0
    opt.step()
    assert p.data == pytest.approx(1.01, abs=1e-15)


def test_adamw_decays_weights_even_with_zero_gradient():
    p = Value(2.0)
    opt = AdamW([p], lr=0.1, weight_decay=0.5, eps=1e-8)
    p.grad = 0.0
    opt.step()
    assert p.data == pytest.approx(2.0 * (1 - 0.1 * 0.5))


# ---- the optimiser's bookkeeping -------------------------------------------
def test_zero_grad_sets_every_gradient_to_zero():
    ps = [Value(1.0), Value(2.0)]
    for p in ps:
        p.grad = 3.5
    SGD(ps, lr=0.1).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


def test_params_are_deduplicated_in_order():
    a, b = Value(1.0), Value(2.0)
    opt = SGD(iter([a, b, a, b, a]), lr=1.0)
    assert opt.params == [a, b]
    a.grad = b.grad = 1.0
    opt.step()  # a shared parameter moves once, not three times
    assert (a.data, b.data) == (0.0, 1.0)


def test_lr_attribute_is_used_by_the_next_step():
    p = Value(0.0)
    opt = SGD([p], lr=0.1)
    opt.lr = 1.0
    p.grad = 1.0
    opt.step()
    assert p.data == -1.0


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW, RMSprop])
def test_parameter_type_errors_name_the_type(cls):
    with pytest.raises(TypeError, match="float"):
        cls([Value(1.0), 2.0], lr=0.1)
    with pytest.raises(TypeError, match="single Value"):
        cls(Value(1.0), lr=0.1)
    with pytest.raises(TypeError, match="int"):
        cls(3, lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        cls([], lr=0.1)


def test_a_module_instead_of_its_parameters_gets_a_hint():
    class Model:
        def parameters(self):
            return [Value(1.0)]

    with pytest.raises(TypeError, match=r"model\.parameters\(\)"):
        SGD(Model(), lr=0.1)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=-0.1),
        lambda ps: SGD(ps, lr=float("nan")),
        lambda ps: SGD(ps, lr=0.1, momentum=-0.5),
        lambda ps: SGD(ps, lr=0.1, weight_decay=-1.0),
        lambda ps: SGD(ps, lr=0.1, nesterov=True),
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        lambda ps: Adam(ps, lr=-1.0),
        lambda ps: Adam(ps, betas=(1.0, 0.999)),
        lambda ps: Adam(ps, betas=(0.9, -0.1)),
        lambda ps: Adam(ps, eps=-1e-8),
        lambda ps: AdamW(ps, weight_decay=-0.01),
        lambda ps: RMSprop(ps, alpha=-0.5),
        lambda ps: RMSprop(ps, eps=-1.0),
        lambda ps: RMSprop(ps, momentum=-0.1),
    ],
)
def test_invalid_hyperparameters_raise_value_error(make):
    with pytest.raises(ValueError):
        make([Value(1.0)])


def test_lr_must_be_a_number():
    with pytest.raises(TypeError, match="str"):
        SGD([Value(1.0)], lr="0.1")


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
        lambda ps: Adam(ps, lr=0.1, amsgrad=True, weight_decay=0.1),
        lambda ps: AdamW(ps, lr=0.1),
        lambda ps: RMSprop(ps, lr=0.1, momentum=0.9, centered=True),
    ],
)
def test_state_dict_round_trip_continues_exactly(make):
    grads = gradient_sequence(7, steps=8)
    ps = [Value(0.5 * i) for i in range(N_PARAMS)]
    opt = make(ps)
    saved = None
    for k, row in enumerate(grads):
        if k == 4:
            saved = (json.loads(json.dumps(opt.state_dict())), [p.data for p in ps])
        for p, g in zip(ps, row, strict=True):
            p.grad = g
        opt.step()
    state, data = saved
    qs = [Value(x) for x in data]
    other = make(qs)
    other.load_state_dict(state)
    for row in grads[4:]:
        for q, g in zip(qs, row, strict=True):
            q.grad = g
        other.step()
    assert [q.data for q in qs] == [p.data for p in ps]


def test_load_state_dict_rejects_a_mismatch_and_changes_nothing():
    opt = SGD([Value(1.0), Value(2.0)], lr=0.1, momentum=0.9)
    state = SGD([Value(1.0)], lr=0.5, momentum=0.9).state_dict()
    with pytest.raises(ValueError, match="1 entries for 2 parameters"):
        opt.load_state_dict(state)
    assert opt.lr == 0.1
    with pytest.raises(ValueError, match="Adam"):
        opt.load_state_dict(Adam([Value(1.0), Value(2.0)]).state_dict())


# ---- schedulers ------------------------------------------------------------
def test_step_lr_by_hand():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = StepLR(opt, step_size=2, gamma=0.5)
    lrs = [opt.lr]
    for _ in range(5):
        sched.step()
        lrs.append(opt.lr)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_linear_lr_applies_start_factor_at_construction():
    opt = Adam([Value(1.0)], lr=0.3)
    LinearLR(opt, start_factor=0.5, total_iters=2)
    assert opt.lr == 0.15


@pytest.mark.parametrize(
    "make",
    [
        lambda o: StepLR(o, step_size=0),
        lambda o: StepLR(o, step_size=2.5),
        lambda o: ExponentialLR(o, gamma=-0.5),
        lambda o: LinearLR(o, start_factor=0.0),
        lambda o: LinearLR(o, start_factor=1.5),
        lambda o: LinearLR(o, end_factor=-0.1),
        lambda o: LinearLR(o, total_iters=0),
    ],
)
def test_invalid_scheduler_arguments(make):
    with pytest.raises(ValueError):
        make(SGD([Value(1.0)], lr=0.1))


def test_scheduler_needs_an_optimizer():
    with pytest.raises(TypeError, match="list"):
        StepLR([Value(1.0)], step_size=1)


# ---- load_state_dict checks everything first, then changes everything ------------------
def _adam_state(**changes):
    opt = Adam([Value(1.0), Value(2.0)], lr=0.01, amsgrad=True)
    state = json.loads(json.dumps(opt.state_dict()))
    state.update(changes)
    return state


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"lr": 0.5, "steps": "x"}, ValueError, "Adam: steps must be a whole number >= 0, got str 'x'"),
        ({"steps": -5}, ValueError, "steps must be a whole number >= 0, got int -5"),
        ({"steps": 1.7}, ValueError, "steps must be a whole number >= 0, got float 1.7"),
        ({"betas": [2.0, 5.0]}, ValueError, r"Adam: betas\[0\] must be in \[0, 1\), got 2.0"),
        ({"betas": [0.9]}, TypeError, r"betas must be a pair \(beta1, beta2\)"),
        ({"eps": -1.0}, ValueError, r"Adam: eps must be in \[0, inf\], got -1.0"),
        ({"weight_decay": "x"}, TypeError, "Adam: weight_decay must be a number, got str 'x'"),
        ({"amsgrad": "no"}, TypeError, "Adam: amsgrad must be True or False, got str 'no'"),
        ({"lr": math.inf}, ValueError, "Adam: lr must be a finite number"),
        ({"lr": 10**400}, ValueError, "Adam: lr is too large for a float"),
        ({"type": "SGD"}, ValueError, "this state belongs to a SGD, not a Adam"),
    ],
)
def test_a_bad_state_raises_and_changes_nothing(changes, error, message):
    p, q = Value(1.0), Value(2.0)
    opt = Adam([p, q], lr=0.01, amsgrad=True)
    p.grad, q.grad = 0.5, -0.25
    opt.step()
    before = json.dumps(opt.state_dict())
    with pytest.raises(error, match=message):
        opt.load_state_dict(_adam_state(**changes))
    assert json.dumps(opt.state_dict()) == before
    assert isinstance(opt.betas, tuple)


@pytest.mark.parametrize(
    ("buffers", "message"),
    [
        ({"exp_avg": ["a", 1.0]}, r"Adam buffer exp_avg\[0\] must be a number, got str 'a'"),
        ({"exp_avg": "ab"}, "buffer 'exp_avg' must be a list of numbers, got str 'ab'"),
        ({"exp_avg_sq": [1.0, 10**400]}, r"buffer exp_avg_sq\[1\] is too large for a float"),
    ],
)
def test_a_bad_buffer_raises_and_changes_nothing(buffers, message):
    opt = Adam([Value(1.0), Value(2.0)], lr=0.01)
    state = _adam_state(lr=0.5)
    state["state"].update(buffers)
    with pytest.raises((TypeError, ValueError), match=message):
        opt.load_state_dict(state)
    assert opt.lr == 0.01 and opt.exp_avg == [0.0, 0.0]


@pytest.mark.parametrize(
    ("make", "buffer", "value"),
    [
        (lambda ps: Adam(ps, lr=0.01), "exp_avg_sq", -1.0),
        (lambda ps: AdamW(ps, lr=0.01), "exp_avg_sq", -1e-300),
        (lambda ps: Adam(ps, lr=0.01, amsgrad=True), "max_exp_avg_sq", -5.0),
        (lambda ps: RMSprop(ps, lr=0.01), "square_avg", -1.0),
        (lambda ps: RMSprop(ps, lr=0.01, centered=True), "square_avg", -math.inf),
    ],
)
def test_a_negative_mean_of_squared_gradients_is_refused_and_changes_nothing(make, buffer, value):
    p, q = Value(1.0), Value(2.0)
    opt = make([p, q])
    p.grad, q.grad = 0.5, -0.25
    opt.step()
    before = json.dumps(opt.state_dict())
    state = opt.state_dict()
    state["state"][buffer] = [0.25, value]
    with pytest.raises(ValueError) as caught:
        opt.load_state_dict(state)
    assert str(caught.value) == (
        f"{type(opt).__name__} buffer {buffer}[1] is {value!r}, but it is a mean of squared gradients, never "
        "negative: this state is corrupted. Nothing was changed."
    )
    assert json.dumps(opt.state_dict()) == before and (p.data, q.data) != (1.0, 2.0)


def test_nan_and_inf_squared_gradients_of_a_diverged_run_round_trip():
    p = Value(1.0)
    opt = Adam([p], lr=0.01, amsgrad=True)
    p.grad = math.nan  # a run whose loss became nan
    opt.step()
    state = opt.state_dict()
    assert math.isnan(state["state"]["exp_avg_sq"][0]) and math.isnan(state["state"]["max_exp_avg_sq"][0])
    state["state"]["exp_avg_sq"] = [math.inf]  # an overflowing gradient's square
    fresh = Adam([Value(1.0)], lr=0.01, amsgrad=True)
    fresh.load_state_dict(state)
    assert fresh.exp_avg_sq == [math.inf] and math.isnan(fresh.max_exp_avg_sq[0]) and fresh.steps == 1


def test_sgd_settings_are_checked_on_load_as_in_the_constructor():
    opt = SGD([Value(1.0)], lr=0.1, momentum=0.9)
    for bad, error, message in [
        ({"momentum": "fast"}, TypeError, "SGD: momentum must be a number, got str 'fast'"),
        ({"momentum": 0.0, "nesterov": True}, ValueError, "nesterov=True needs a momentum > 0"),
        ({"dampening": 1.5}, ValueError, r"SGD: dampening must be in \[0, 1\]"),
        ({"nesterov": 1}, TypeError, "SGD: nesterov must be True or False, got int 1"),
    ]:
        state = opt.state_dict()
        state.update(bad)
        with pytest.raises(error, match=message):
            opt.load_state_dict(state)
        assert opt.momentum == 0.9 and opt.nesterov is False


def test_a_good_state_is_converted_to_floats_and_a_tuple():
    opt = Adam([Value(1.0)], lr=0.01)
    state = opt.state_dict()
    state.update(lr=1, betas=[0, 0.5], eps=0, steps=3)
    state["state"]["exp_avg"] = [2]
    opt.load_state_dict(state)
    assert (opt.lr, opt.betas, opt.eps, opt.steps, opt.exp_avg) == (1.0, (0.0, 0.5), 0.0, 3, [2.0])
    assert type(opt.lr) is float and type(opt.exp_avg[0]) is float


def test_nan_in_a_buffer_is_kept():
    opt = Adam([Value(1.0)], lr=0.01)
    state = opt.state_dict()
    state["state"]["exp_avg"] = [math.nan]
    opt.load_state_dict(state)
    assert math.isnan(opt.exp_avg[0])


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda ps: SGD(ps, lr=math.inf), ValueError, "SGD: lr must be a finite number, got inf"),
        (lambda ps: SGD(ps, lr=0.1, nesterov="yes"), TypeError, "SGD: nesterov must be True or False"),
        (lambda ps: Adam(ps, amsgrad=1), TypeError, "Adam: amsgrad must be True or False, got int 1"),
        (lambda ps: RMSprop(ps, centered=None), TypeError, "RMSprop: centered must be True or False"),
        (lambda ps: AdamW(ps, betas=0.9), TypeError, r"AdamW: betas must be a pair \(beta1, beta2\), got float 0.9"),
        (lambda ps: RMSprop(ps, alpha=math.nan), ValueError, "RMSprop: alpha must be a finite number"),
    ],
)
def test_the_constructors_check_types_too(make, error, message):
    with pytest.raises(error, match=message):
        make([Value(1.0)])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda o: ExponentialLR(o, gamma=math.inf), "ExponentialLR: gamma must be a finite number, got inf"),
        (lambda o: StepLR(o, step_size=2, gamma=math.inf), "StepLR: gamma must be a finite number"),
        (lambda o: StepLR(o, step_size=True), "StepLR: step_size must be a whole number >= 1, got bool True"),
        (lambda o: LinearLR(o, total_iters=0), "LinearLR: total_iters must be a whole number >= 1, got int 0"),
    ],
)
def test_scheduler_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make(SGD([Value(1.0)], lr=0.1))


def test_exponential_lr_by_hand():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = ExponentialLR(opt, gamma=0.5)
    for _ in range(3):
        sched.step()
    assert opt.lr == 0.125 and sched.get_last_lr() == [0.125]
