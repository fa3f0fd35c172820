"""nn.optim against torch.optim: identical gradients in, identical parameters out."""

from __future__ import annotations

import itertools
import json
import random

import pytest

from autograd import Value
from nn.optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, RMSprop, StepLR

torch = pytest.importorskip("torch")

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


def run_both(ours_cls, torch_cls, steps: int = N_STEPS, seed: int = 0, **options):
    """Run our optimiser and torch's on the same start point and gradients; return both final parameters."""
    rng = random.Random(seed + 1)
    start = [rng.uniform(-2.0, 2.0) for _ in range(N_PARAMS)]
    params = [Value(x) for x in start]
    ours = ours_cls(params, **options)
    tensor = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    theirs = torch_cls([tensor], **options)
    for row in gradient_sequence(seed, steps):
        # a gradient that also depends on the parameter, so weight decay and drift matter
        for p, g in zip(params, row, strict=True):
            p.grad = g + 0.5 * p.data
        tensor.grad = torch.tensor(row, dtype=torch.float64) + 0.5 * tensor.detach()
        ours.step()
        theirs.step()
    return [p.data for p in params], tensor.detach().tolist()


def assert_close(ours: list[float], theirs: list[float], tol: float = 1e-10) -> None:
    for a, b in zip(ours, theirs, strict=True):
        assert abs(a - b) <= tol * max(1.0, abs(b)), (ours, theirs)


SGD_OPTIONS = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=w)
    for m, d, n, w in itertools.product([0.0, 0.9], [0.0, 0.5], [False, True], [0.0, 0.1])
    if not (n and (m == 0.0 or d != 0.0))
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
@pytest.mark.parametrize("lr", [0.01, 0.3])
def test_sgd_matches_torch(options, lr):
    assert_close(*run_both(SGD, torch.optim.SGD, lr=lr, **options))


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


ADAM_OPTIONS = [
    dict(lr=lr, betas=b, eps=e, weight_decay=w, amsgrad=a)
    for lr, b, e, w, a in itertools.product(
        [1e-3, 0.1], [(0.9, 0.999), (0.5, 0.8)], [1e-8, 0.1], [0.0, 0.1], [False, True]
    )
]


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_matches_torch(options):
    assert_close(*run_both(Adam, torch.optim.Adam, **options))


@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adamw_matches_torch(options):
    assert_close(*run_both(AdamW, torch.optim.AdamW, **options))


def test_adam_and_adamw_defaults_match_torch():
    assert_close(*run_both(Adam, torch.optim.Adam))
    assert_close(*run_both(AdamW, torch.optim.AdamW))
    assert AdamW([Value(1.0)]).weight_decay == 1e-2
    assert Adam([Value(1.0)]).weight_decay == 0.0


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


RMSPROP_OPTIONS = [
    dict(lr=lr, alpha=a, eps=e, weight_decay=w, momentum=m, centered=c)
    for lr, a, e, w, m, c in itertools.product(
        [1e-2, 0.1], [0.99, 0.5], [1e-8, 0.1], [0.0, 0.1], [0.0, 0.9], [False, True]
    )
]


@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_matches_torch(options):
    assert_close(*run_both(RMSprop, torch.optim.RMSprop, **options))


def test_rmsprop_defaults_match_torch():
    assert_close(*run_both(RMSprop, torch.optim.RMSprop))


@pytest.mark.parametrize("seed", range(5))
def test_long_runs_stay_equal(seed):
    assert_close(*run_both(Adam, torch.optim.Adam, steps=200, seed=seed, lr=0.05, amsgrad=True), tol=1e-9)
    assert_close(*run_both(SGD, torch.optim.SGD, steps=200, seed=seed, lr=0.05, momentum=0.9, nesterov=True))
    assert_close(*run_both(RMSprop, torch.optim.RMSprop, steps=200, seed=seed, centered=True, momentum=0.5))


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
SCHEDULERS = [
    (StepLR, dict(step_size=3)),
    (StepLR, dict(step_size=1, gamma=0.5)),
    (StepLR, dict(step_size=7, gamma=0.9)),
    (ExponentialLR, dict(gamma=0.9)),
    (ExponentialLR, dict(gamma=1.05)),
    (LinearLR, dict()),
    (LinearLR, dict(start_factor=0.1, end_factor=1.0, total_iters=10)),
    (LinearLR, dict(start_factor=1.0, end_factor=0.25, total_iters=8)),
    (LinearLR, dict(start_factor=0.5, end_factor=0.5, total_iters=3)),
]


@pytest.mark.parametrize("cls, options", SCHEDULERS, ids=str)
def test_schedulers_match_torch_for_20_steps(cls, options):
    ours = SGD([Value(1.0)], lr=0.2)
    theirs = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    ours_s = cls(ours, **options)
    theirs_s = getattr(torch.optim.lr_scheduler, cls.__name__)(theirs, **options)
    assert ours_s.get_last_lr() == pytest.approx(theirs_s.get_last_lr(), rel=1e-12)
    for _ in range(20):
        theirs.step()
        theirs_s.step()
        ours_s.step()
        assert ours.lr == pytest.approx(theirs.param_groups[0]["lr"], rel=1e-12)
        assert ours_s.get_last_lr() == pytest.approx(theirs_s.get_last_lr(), rel=1e-12)


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


def test_scheduled_training_matches_torch():
    rng = random.Random(3)
    start = [rng.uniform(-1.0, 1.0) for _ in range(N_PARAMS)]
    ps = [Value(x) for x in start]
    tensor = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    ours = SGD(ps, lr=0.5, momentum=0.9)
    theirs = torch.optim.SGD([tensor], lr=0.5, momentum=0.9)
    ours_s, theirs_s = StepLR(ours, 4, 0.5), torch.optim.lr_scheduler.StepLR(theirs, 4, 0.5)
    for row in gradient_sequence(3, steps=20):
        for p, g in zip(ps, row, strict=True):
            p.grad = g
        tensor.grad = torch.tensor(row, dtype=torch.float64)
        ours.step()
        theirs.step()
        ours_s.step()
        theirs_s.step()
    assert_close([p.data for p in ps], tensor.detach().tolist())


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
