"""nn.optim against torch.optim: identical gradients in, identical parameters out."""

from __future__ import annotations

import itertools
import random

import pytest
from helpers import close
from test_optim import N_PARAMS, N_STEPS, gradient_sequence

from autograd import Value
from nn.optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, RMSprop, StepLR

pytestmark = pytest.mark.torch
torch = pytest.importorskip("torch", reason="PyTorch is the test oracle (pip install torch)")


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
    assert len(ours) == len(theirs)
    assert all(close(a, b, rel=tol, abs_=tol) for a, b in zip(ours, theirs)), (ours, theirs)


SGD_OPTIONS = [
    dict(momentum=m, dampening=d, nesterov=n, weight_decay=w)
    for m, d, n, w in itertools.product([0.0, 0.9], [0.0, 0.5], [False, True], [0.0, 0.1])
    if not (n and (m == 0.0 or d != 0.0))
]


@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
@pytest.mark.parametrize("lr", [0.01, 0.3])
def test_sgd_matches_torch(options, lr):
    assert_close(*run_both(SGD, torch.optim.SGD, lr=lr, **options))


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
