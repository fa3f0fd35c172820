"""Tests for nn/train.py: fit and History."""

from __future__ import annotations

import io
import math
import random
import warnings

import pytest

import nn
from autograd import Value, is_grad_enabled
from nn import History, fit
from nn.data import make_moons, xor
from nn.losses import binary_cross_entropy_with_logits, mse_loss
from nn.metrics import accuracy
from nn.optim import SGD, Adam, StepLR
from nn.train import EarlyStopping, train_step


def _outputs(model, X):
    return [model(x) for x in X]


def _linear(w: float = 0.0, b: float = 0.0) -> nn.MLP:
    """y = w * x + b, one input and one linear output neuron."""
    model = nn.MLP(1, [1], rng=0)
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.b.data = w, b
    return model


# ---- it learns -----------------------------------------------------------------
def test_two_moons_with_hinge_loss():
    X, y = make_moons(100, noise=0.1, random_state=0)
    y = [2 * t - 1 for t in y]  # hinge loss wants -1/+1
    model = nn.MLP(2, [16, 16, 1], rng=1)
    history = fit(model, X, y, "hinge", Adam(model.parameters(), lr=0.05), epochs=40, progress=False, train_metrics="full")
    assert history.accuracy[-1] >= 0.95
    assert history.accuracy[-1] == accuracy(_outputs(model, X), y)  # "full": the trained model's real accuracy
    assert history.loss[-1] < history.loss[0] / 5
    assert history.stopped is None


@pytest.mark.parametrize("batch_size", [None, 2, 1])  # full batch, mini-batch, stochastic
def test_xor_converges_with_every_batch_size(batch_size):
    X, y = xor()
    model = nn.MLP(2, [4, 1], activation="tanh", rng=0)
    history = fit(
        model, X, y, "bce_logits", Adam(model.parameters(), lr=0.1), epochs=150, batch_size=batch_size,
        progress=False, random_state=0,
    )
    assert history.accuracy[-1] == 1.0
    assert history.loss[-1] < 0.1
    assert [1 if model(x).data > 0 else 0 for x in X] == [0, 1, 1, 0]  # logits: class 1 above 0


def test_xor_with_mse_uses_threshold_one_half():
    X, y = xor()
    model = nn.MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", rng=0)
    history = fit(model, X, y, "mse", Adam(model.parameters(), lr=0.1), epochs=150, progress=False)
    assert history.accuracy[-1] == 1.0
    assert [int(model(x).data > 0.5) for x in X] == [0, 1, 1, 0]


def test_cross_entropy_on_three_classes():
    X = [[0.0, 0.0], [0.1, 0.2], [3.0, 0.0], [3.1, 0.2], [0.0, 3.0], [0.2, 3.1]]
    y = [0, 0, 1, 1, 2, 2]
    model = nn.MLP(2, [8, 3], activation="tanh", rng=0)
    history = fit(model, X, y, "ce", Adam(model.parameters(), lr=0.05), epochs=60, progress=False)
    assert history.accuracy[-1] == 1.0
    scores = [[v.data for v in model(x)] for x in X]
    assert [s.index(max(s)) for s in scores] == y  # argmax


def test_callable_loss_and_regression_has_no_accuracy():
    X = [[x / 4] for x in range(-4, 5)]
    y = [3 * x[0] + 0.5 for x in X]  # a line: regression, not classes
    model = _linear()

    def squared_error(outputs, targets):
        return mse_loss(outputs, targets)

    history = fit(model, X, y, squared_error, SGD(model.parameters(), lr=0.3), epochs=100, progress=False)
    neuron = model.layers[0].neurons[0]
    assert neuron.w[0].data == pytest.approx(3.0, abs=1e-6)
    assert neuron.b.data == pytest.approx(0.5, abs=1e-6)
    assert history.accuracy == [] and len(history.loss) == 100


def test_one_full_batch_epoch_is_one_gradient_descent_step():
    # y = w x with w = 0, targets y = 2x: dL/dw = mean(2 (w x - 2x) x) = -4 mean(x^2)
    X, y = [[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0]
    model = _linear()
    fit(model, X, y, "mse", SGD(model.parameters(), lr=0.01), epochs=1, progress=False)
    grad = -4 * (1 + 4 + 9) / 3
    assert model.layers[0].neurons[0].w[0].data == pytest.approx(-0.01 * grad, abs=1e-15)


def test_stochastic_takes_one_step_per_sample():
    X, y = [[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0]
    steps = []

    class CountingSGD(SGD):
        def step(self) -> None:
            steps.append(1)
            super().step()

    model = _linear()
    fit(model, X, y, "mse", CountingSGD(model.parameters(), lr=0.01), epochs=4, batch_size=1, progress=False)
    assert len(steps) == 3 * 4
    steps.clear()
    fit(model, X, y, "mse", CountingSGD(model.parameters(), lr=0.01), epochs=4, batch_size=2, progress=False)
    assert len(steps) == 2 * 4  # batches of 2 and 1
    steps.clear()
    fit(model, X, y, "mse", CountingSGD(model.parameters(), lr=0.01), epochs=4, batch_size=1, accumulation_steps=3, progress=False)
    assert len(steps) == 1 * 4


# ---- gradient accumulation -------------------------------------------------------
@pytest.mark.parametrize("n", [12, 13])  # 13: a last mini-batch and a last group that are smaller
def test_accumulation_equals_a_larger_batch(n):
    X, y = make_moons(n, noise=0.2, random_state=3)

    def trained(batch_size, accumulation_steps):
        model = nn.MLP(2, [5, 1], activation="tanh", rng=4)
        optimizer = SGD(model.parameters(), lr=0.2, momentum=0.9)
        fit(
            model, X, y, "bce_logits", optimizer, epochs=3, batch_size=batch_size,
            accumulation_steps=accumulation_steps, progress=False, random_state=5,
        )
        return list(model.state_dict().values())

    accumulated = trained(batch_size=2, accumulation_steps=3)
    larger = trained(batch_size=6, accumulation_steps=1)
    small = trained(batch_size=2, accumulation_steps=1)
    assert accumulated == pytest.approx(larger, abs=1e-12, rel=0)
    assert max(abs(a - b) for a, b in zip(accumulated, small, strict=True)) > 1e-3  # it did change something


def test_accumulation_holds_the_weights_fixed_within_a_group():
    seen = []

    class Spy(nn.MLP):
        def __call__(self, x):
            seen.append(self.layers[0].neurons[0].w[0].data)
            return super().__call__(x)

    model = Spy(1, [1], rng=0)
    X, y = [[1.0], [2.0], [3.0], [4.0]], [1.0, 2.0, 3.0, 4.0]
    fit(model, X, y, "mse", SGD(model.parameters(), lr=0.01), epochs=1, batch_size=1, accumulation_steps=4, progress=False)
    assert len(seen) == 4 and len(set(seen)) == 1  # four forward passes with the same weights
    assert model.layers[0].neurons[0].w[0].data != seen[0]  # then one update


# ---- validation and early stopping -----------------------------------------------
def test_validation_is_measured_every_epoch():
    X, y = make_moons(40, noise=0.1, random_state=0)
    X_val, y_val = make_moons(20, noise=0.1, random_state=1)
    model = nn.MLP(2, [8, 1], activation="tanh", rng=0)
    history = fit(
        model, X, y, "bce_logits", Adam(model.parameters(), lr=0.05), epochs=5, validation=(X_val, y_val),
        progress=False,
    )
    assert len(history.val_loss) == len(history.val_accuracy) == 5
    final = binary_cross_entropy_with_logits(_outputs(model, X_val), y_val).data
    assert history.val_loss[-1] == pytest.approx(final, abs=1e-12)
    assert history.val_accuracy[-1] == accuracy(_outputs(model, X_val), y_val)


def test_early_stopping_on_validation_restores_the_best_weights():
    # training pulls w towards +1, the validation set wants -1: validation loss only grows
    X, y = [[1.0]], [1.0]
    X_val, y_val = [[1.0]], [-1.0]

    model = _linear()
    history = fit(
        model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=50, validation=(X_val, y_val),
        early_stopping=3, progress=False,
    )
    assert history.stopped == "early_stopping"
    assert history.best_epoch == 0
    assert len(history.loss) == 4  # the best epoch and three without improvement
    assert history.val_loss == sorted(history.val_loss)  # getting worse all along

    after_one_epoch = _linear()
    fit(after_one_epoch, X, y, "mse", SGD(after_one_epoch.parameters(), lr=0.1), epochs=1, progress=False)
    assert model.state_dict() == after_one_epoch.state_dict()
    assert mse_loss(model(X_val[0]), y_val[0]).data == pytest.approx(history.val_loss[0], abs=1e-15)


@pytest.mark.parametrize("train_metrics", ["running", "full"])
def test_early_stopping_without_validation_watches_the_training_loss(train_metrics):
    # lr too large for y = w x: each step overshoots further, the loss grows (but stays finite)
    X, y = [[1.0], [2.0]], [1.0, 2.0]
    model = _linear()
    history = fit(
        model, X, y, "mse", SGD(model.parameters(), lr=0.5), epochs=30, early_stopping=2, progress=False,
        train_metrics=train_metrics,
    )
    assert history.stopped == "early_stopping" and history.best_epoch == 0
    assert history.loss[1] > history.loss[0] and len(history.loss) == 3
    w = model.layers[0].neurons[0].w[0].data
    b = model.layers[0].neurons[0].b.data
    kept = mse_loss([w * 1 + b, w * 2 + b], y).data  # the weights at the end of epoch 0
    if train_metrics == "full":
        assert kept == pytest.approx(history.loss[0], abs=1e-12)  # measured after epoch 0
    else:
        assert history.loss[0] == (1 + 4) / 2  # measured by epoch 0's step, before it: w = b = 0
        assert kept == pytest.approx(history.loss[1], abs=1e-12)  # epoch 1's step saw the kept weights


def test_early_stopping_that_never_triggers():
    X, y = xor()
    model = nn.MLP(2, [4, 1], activation="tanh", rng=0)
    history = fit(model, X, y, "bce_logits", Adam(model.parameters(), lr=0.05), epochs=20, early_stopping=5, progress=False)
    assert history.stopped is None and len(history.loss) == 20
    assert history.best_epoch == min(range(20), key=history.loss.__getitem__)


# ---- divergence ------------------------------------------------------------------
def test_huge_learning_rate_diverges_cleanly(capsys):
    X, y = make_moons(30, noise=0.1, random_state=0)
    model = nn.MLP(2, [8, 8, 1], rng=0)
    with pytest.warns(RuntimeWarning, match=r"diverged.*learning rate \(lr=1e\+10\).*smaller") as caught:
        history = fit(model, X, y, "mse", SGD(model.parameters(), lr=1e10), epochs=50, progress=False)
    assert len(caught) == 1
    assert history.stopped == "diverged"
    assert len(history.loss) < 50
    assert all(math.isfinite(p.data) for p in model.parameters())
    assert all(p.grad == 0.0 for p in model.parameters())
    assert math.isfinite(mse_loss(_outputs(model, X), y).data)  # the weights kept give a finite loss
    assert capsys.readouterr() == ("", "")  # the warning is the only message


def test_divergence_in_the_first_step_keeps_the_initial_weights():
    X, y = [[1.0]], [1.0]
    model = _linear(w=1e200)  # (1e200 - 1)^2 overflows to inf at once
    before = model.state_dict()
    with pytest.warns(RuntimeWarning, match="the loss became inf"):
        history = fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=3, progress=False)
    assert history.stopped == "diverged" and history.loss == []
    assert model.state_dict() == before


# ---- History, schedules, progress ---------------------------------------------------
def test_history_has_one_entry_per_epoch_and_the_scheduled_lr():
    X, y = xor()
    model = nn.MLP(2, [3, 1], activation="tanh", rng=0)
    optimizer = SGD(model.parameters(), lr=0.4)
    history = fit(
        model, X, y, "bce_logits", optimizer, epochs=5, validation=(X, y), scheduler=StepLR(optimizer, step_size=2, gamma=0.5),
        progress=False,
    )
    assert isinstance(history, History)
    for name in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(getattr(history, name)) == 5, name
    assert history.lr == [0.4, 0.4, 0.2, 0.2, 0.1]
    # full batch, no dropout: each epoch's running loss is the loss before its step,
    # which the validation pass (the same data) measured after the epoch before
    assert history.loss[1:] == history.val_loss[:-1]
    assert all(a in (0.0, 0.25, 0.5, 0.75, 1.0) for a in history.accuracy)
    assert history.epochs == 5
    text = repr(history)
    assert text.startswith("History(epochs=5, loss=") and "stopped=None" in text
    assert f"{history.loss[-1]:.4g}" in text


def test_empty_history_repr():
    assert repr(History()) == "History(epochs=0, stopped=None)"


@pytest.mark.parametrize(("train_metrics", "evaluated"), [("running", 4), ("full", 8)])
def test_evaluation_uses_eval_mode_and_no_grad(train_metrics, evaluated):
    records = []

    class Spy(nn.MLP):
        def __call__(self, x):
            records.append((self.training, is_grad_enabled()))
            return super().__call__(x)

    model = Spy(2, [2, 1], rng=0)
    X, y = xor()
    fit(
        model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=1, validation=(X, y), progress=False,
        train_metrics=train_metrics,
    )
    # train, then evaluate the validation set ("full": the training set too)
    assert records == [(True, True)] * 4 + [(False, False)] * evaluated
    assert model.training is True


def test_dropout_is_off_while_evaluating():
    class WithDropout(nn.Module):
        def __init__(self):
            self.mlp = nn.MLP(2, [8, 1], activation="tanh", rng=0)
            self.drop = nn.Dropout(0.5, rng=0)

        def __call__(self, x):
            return self.mlp(self.drop(x))

    model = WithDropout()
    X, y = xor()
    history = fit(
        model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=2, validation=(X, y), progress=False,
        train_metrics="full",
    )
    model.eval()
    clean = binary_cross_entropy_with_logits(_outputs(model, X), y).data
    assert history.loss[-1] == pytest.approx(clean, abs=1e-15)
    assert history.val_loss[-1] == pytest.approx(clean, abs=1e-15)


def test_no_progress_prints_nothing(capsys):
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=3, progress=False)
    fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=3)  # not a terminal: quiet too
    assert capsys.readouterr() == ("", "")


def test_progress_bar_on_a_terminal_shows_the_loss(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    history = fit(model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=3)
    shown = terminal.getvalue()
    assert "3/3" in shown
    assert f"loss={history.loss[-1]:.4f}" in shown and f"acc={history.accuracy[-1]:.3f}" in shown


def test_shuffling_is_reproducible_from_the_seed():
    X, y = make_moons(20, noise=0.1, random_state=0)

    def run(seed):
        model = nn.MLP(2, [4, 1], rng=0)
        return fit(model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=3, batch_size=4, progress=False, random_state=seed).loss

    assert run(7) == run(7)
    assert run(7) != run(8)


# ---- mistakes a learner makes ------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"loss": "crossentropy"}, ValueError, "unknown loss 'crossentropy'; use one of 'mse'.*'cross_entropy'"),
        ({"loss": 3}, TypeError, "got int 3"),
        ({"y": [0, 1, 1]}, ValueError, "got 4 samples and 3 targets"),
        ({"epochs": -1}, ValueError, "epochs must be a whole number >= 0, got int -1"),
        ({"epochs": 2.0}, ValueError, "epochs must be a whole number >= 0, got float 2.0"),
        ({"batch_size": 0}, ValueError, "batch_size must be a whole number >= 1, got int 0"),
        ({"early_stopping": True}, ValueError, "early_stopping must be a whole number >= 1, got bool True"),
        ({"accumulation_steps": 1.5}, ValueError, "accumulation_steps"),
        ({"loss": "hinge"}, ValueError, r"hinge loss needs targets -1 or \+1.*2 \* t - 1.*got 0"),
        ({"validation": [[0.0, 0.0]]}, TypeError, "pair"),
        ({"loss": lambda outputs, targets: 0.5}, TypeError, "must return one Value.*got float 0.5"),
    ],
)
def test_clear_errors(kwargs, error, message):
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    args = {"X": X, "y": y, "loss": "mse", "optimizer": SGD(model.parameters(), lr=0.1), "epochs": 1, "progress": False}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        fit(model, **args)


def test_zero_epochs_changes_nothing():
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    before = model.state_dict()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=0, progress=False)
    assert model.state_dict() == before and history.loss == []


def test_outputs_are_values():
    model = nn.MLP(2, [2, 1], rng=0)
    assert isinstance(model([0.0, 1.0]), Value)


# ---- train_step: the five lines ------------------------------------------------
def test_train_step_is_one_gradient_descent_step():
    # y = w x + b with w = b = 0, targets 2x: L = mean((w x + b - 2x)^2) = (4 + 16 + 36) / 3
    # dL/dw = mean(2 (w x + b - 2x) x) = -4 (1 + 4 + 9) / 3, dL/db = mean(2 (w x + b - 2x)) = -4 (1 + 2 + 3) / 3
    X, y = [[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0]
    model = _linear()
    neuron = model.layers[0].neurons[0]
    result = train_step(model, X, y, mse_loss, SGD(model.parameters(), lr=0.01))
    assert result.loss == pytest.approx(56 / 3, rel=1e-15)
    assert [v.data for v in result.outputs] == [0.0, 0.0, 0.0]  # the outputs before the step
    assert neuron.w[0].data == pytest.approx(0.01 * 4 * 14 / 3, rel=1e-15)
    assert neuron.b.data == pytest.approx(0.01 * 4 * 6 / 3, rel=1e-15)
    loss, outputs = result  # it unpacks like a pair
    assert loss == result.loss and outputs is result.outputs


def test_train_step_accumulates_like_one_larger_batch():
    X, y = [[1.0], [2.0], [3.0], [4.0]], [2.0, 4.0, 6.0, 8.0]
    whole, halves = _linear(), _linear()
    train_step(whole, X, y, mse_loss, SGD(whole.parameters(), lr=0.01))
    optimizer = SGD(halves.parameters(), lr=0.01)
    train_step(halves, X[:2], y[:2], mse_loss, optimizer, scale=0.5, step=False)
    assert halves.layers[0].neurons[0].w[0].data == 0.0  # no step yet
    train_step(halves, X[2:], y[2:], mse_loss, optimizer, scale=0.5, zero_grad=False)
    assert halves.state_dict() == pytest.approx(whole.state_dict(), rel=1e-15)


def test_train_step_with_a_nan_loss_changes_nothing():
    model = _linear(w=1.0)
    for p in model.parameters():
        p.grad = 0.25
    result = train_step(model, [[math.nan]], [0.0], mse_loss, SGD(model.parameters(), lr=0.1))
    assert math.isnan(result.loss)
    assert model.state_dict() == {"layers.0.neurons.0.w.0": 1.0, "layers.0.neurons.0.b": 0.0}
    assert [p.grad for p in model.parameters()] == [0.25, 0.25]  # not even zero_grad ran


# ---- what History.loss and History.accuracy mean ------------------------------------
def test_running_loss_is_the_batch_size_weighted_mean_of_the_steps_losses():
    X, y = make_moons(13, noise=0.2, random_state=3)  # batches of 4, 4, 4 and 1
    model, twin = nn.MLP(2, [4, 1], rng=1), nn.MLP(2, [4, 1], rng=1)
    history = fit(
        model, X, y, "bce_logits", SGD(model.parameters(), lr=0.3), epochs=2, batch_size=4, progress=False,
        random_state=random.Random(5),
    )
    # the same steps by hand, with the same shuffle
    rng, optimizer = random.Random(5), SGD(twin.parameters(), lr=0.3)
    for epoch in range(2):
        order = list(range(13))
        rng.shuffle(order)
        batches = [order[i : i + 4] for i in range(0, 13, 4)]
        results = [
            train_step(twin, [X[i] for i in b], [y[i] for i in b], binary_cross_entropy_with_logits, optimizer)
            for b in batches
        ]
        assert history.loss[epoch] == sum(r.loss * len(b) for r, b in zip(results, batches, strict=True)) / 13
        outputs = [o for r in results for o in r.outputs]
        targets = [y[i] for b in batches for i in b]
        assert history.accuracy[epoch] == accuracy(outputs, targets)
    assert model.state_dict() == twin.state_dict()


def test_full_batch_running_loss_is_the_loss_before_each_step():
    X, y = [[1.0], [2.0], [3.0]], [2.0, 4.0, 6.0]
    model = _linear()
    history = fit(model, X, y, "mse", SGD(model.parameters(), lr=0.01), epochs=2, progress=False)
    assert history.loss[0] == (4 + 16 + 36) / 3  # w = b = 0
    w, b = 0.01 * 4 * 14 / 3, 0.01 * 4 * 6 / 3  # after one step (see test_train_step_is_one_gradient_descent_step)
    assert history.loss[1] == pytest.approx(mse_loss([w * x[0] + b for x in X], y).data, rel=1e-14)
    assert history.accuracy == []  # regression targets


def test_full_train_metrics_evaluate_the_final_weights():
    X, y = make_moons(20, noise=0.1, random_state=0)
    model = nn.MLP(2, [4, 1], rng=0)
    history = fit(
        model, X, y, "bce_logits", Adam(model.parameters(), lr=0.05), epochs=3, batch_size=6, progress=False,
        random_state=0, train_metrics="full",
    )
    assert history.loss[-1] == binary_cross_entropy_with_logits(_outputs(model, X), y).data
    assert history.accuracy[-1] == accuracy(_outputs(model, X), y)


def test_both_train_metrics_train_the_same_weights():
    X, y = make_moons(20, noise=0.1, random_state=0)

    def trained(train_metrics):
        model = nn.MLP(2, [4, 1], rng=0)
        fit(
            model, X, y, "bce_logits", Adam(model.parameters(), lr=0.05), epochs=3, batch_size=6, progress=False,
            random_state=0, train_metrics=train_metrics,
        )
        return model.state_dict()

    assert trained("running") == trained("full")


@pytest.mark.parametrize(
    ("loss", "targets", "outputs", "expected"),
    [
        ("bce", [0, 1, 1], [0.4, 0.6, 0.45], 2 / 3),  # probabilities: class 1 above 0.5
        ("mse", [0, 1, 1], [0.4, 0.6, 0.45], 2 / 3),
        ("bce_logits", [0, 1, 1], [-0.1, 0.2, 0.45], 1.0),  # logits: class 1 above 0
        ("hinge", [-1, 1, 1], [-0.1, 0.2, -0.3], 2 / 3),  # the sign
        ("ce", [0, 2], [[1.0, 0.0, 0.5], [0.0, 0.1, 0.2]], 1.0),  # argmax
        ("mse", [0.3, 1.7, 2.0], [0.3, 1.7, 2.0], None),  # regression: no accuracy
    ],
)
def test_accuracy_follows_the_loss(loss, targets, outputs, expected):
    from nn.train import _accuracy

    assert _accuracy(outputs, targets, nn.losses.loss_function(loss)) == expected


@pytest.mark.parametrize("name", ["cross_entropy", "ce"])
def test_pytorch_loss_names_work_in_fit(name):
    X = [[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]]
    model = nn.MLP(2, [3], rng=0)
    history = fit(model, X, [0, 1, 2], name, SGD(model.parameters(), lr=0.1), epochs=1, progress=False)
    assert history.loss == [nn.cross_entropy([[v.data for v in nn.MLP(2, [3], rng=0)(x)] for x in X], [0, 1, 2]).data]


# ---- divergence in both modes ----------------------------------------------------------
@pytest.mark.parametrize("train_metrics", ["running", "full"])
def test_huge_learning_rate_diverges_cleanly_in_both_modes(train_metrics):
    X, y = make_moons(30, noise=0.1, random_state=0)
    model = nn.MLP(2, [8, 8, 1], rng=0)
    with pytest.warns(RuntimeWarning, match=r"diverged.*lr=1e\+10"):
        history = fit(
            model, X, y, "mse", SGD(model.parameters(), lr=1e10), epochs=50, batch_size=10, progress=False,
            random_state=0, train_metrics=train_metrics,
        )
    assert history.stopped == "diverged" and len(history.loss) < 50
    assert all(math.isfinite(v) for v in history.loss)
    assert math.isfinite(mse_loss(_outputs(model, X), y).data)  # the weights kept give a finite loss


class _Overflowing(nn.Module):
    """p = sigmoid(e^(w x) / e^(w x)): 0.73 while e^(w x) is finite, nan (inf / inf) once it overflows."""

    def __init__(self, w: float) -> None:
        self.w = Value(w)

    def forward(self, x):
        e = (self.w * x[0]).exp()
        return (e / e).sigmoid()


@pytest.mark.parametrize("train_metrics", ["running", "full"])
def test_a_nan_probability_stops_bce_training_and_keeps_the_weights(train_metrics):
    # finite data, finite weights, but the model's output becomes nan: bce must report it
    model = _Overflowing(w=800.0)  # e^800 = inf
    with pytest.warns(RuntimeWarning, match="the loss became nan"):
        history = fit(
            model, [[1.0], [0.5]], [1, 0], "bce", SGD(model.parameters(), lr=0.1), epochs=3, progress=False,
            train_metrics=train_metrics,
        )
    assert history.stopped == "diverged" and history.loss == []
    assert model.w.data == 800.0 and model.w.grad == 0.0  # no nan written into the weights


def test_a_weight_that_becomes_nan_is_caught_and_undone():
    class Wild(SGD):
        def step(self) -> None:
            super().step()
            if self.steps == 3:
                self.params[0].data = math.nan  # as an overflowing update would

    X, y = [[1.0], [2.0]], [1.0, 2.0]
    model = _linear()
    optimizer = Wild(model.parameters(), lr=0.01)
    with pytest.warns(RuntimeWarning, match="in epoch 3: a weight became nan"):
        history = fit(model, X, y, "mse", optimizer, epochs=5, progress=False)
    assert history.stopped == "diverged" and len(history.loss) == 2
    twin = _linear()
    fit(twin, X, y, "mse", SGD(twin.parameters(), lr=0.01), epochs=2, progress=False)
    assert model.state_dict() == twin.state_dict()  # the weights before the bad step


# ---- bad data is refused before training ------------------------------------------------
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, y: X[2].__setitem__(1, math.nan), r"X contains nan \(X\[2\]\[1\]\)"),
        (lambda X, y: X[0].__setitem__(0, -math.inf), r"X contains -inf \(X\[0\]\[0\]\)"),
        (lambda X, y: y.__setitem__(3, math.nan), r"y contains nan \(y\[3\]\)"),
    ],
)
def test_nan_or_inf_in_the_data_is_refused_before_training(change, message):
    X, y = xor()
    y = [float(t) for t in y]
    change(X, y)
    model = nn.MLP(2, [2, 1], rng=0)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message + ".*Drop those samples or fill in"):
        fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=2, progress=False)
    assert model.state_dict() == before


def test_nan_in_the_validation_set_is_refused():
    X, y = xor()
    X_val = [[0.0, math.nan]]
    model = nn.MLP(2, [2, 1], rng=0)
    with pytest.raises(ValueError, match=r"X_val contains nan \(X_val\[0\]\[1\]\)"):
        fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=1, validation=(X_val, [0]), progress=False)


def test_one_number_per_sample_is_checked_too():
    model = _linear()
    with pytest.raises(ValueError, match=r"X contains inf \(X\[1\]\)"):
        fit(model, [1.0, math.inf], [1.0, 2.0], "mse", SGD(model.parameters(), lr=0.1), epochs=1, progress=False)


# ---- fit's other arguments ----------------------------------------------------------------
def test_numpy_integers_are_whole_numbers():
    np = pytest.importorskip("numpy")
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    history = fit(
        model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=np.int64(2), batch_size=np.int32(2),
        random_state=np.int64(0), progress=False,
    )
    assert len(history.loss) == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"random_state": "x"}, TypeError, "random_state must be an int seed, a random.Random or None, got str 'x'"),
        ({"random_state": 1.5}, TypeError, "random_state must be .* got float 1.5"),
        ({"optimizer": None}, TypeError, r"optimizer must be an optimiser such as nn\.optim\.SGD.*got NoneType None"),
        ({"optimizer": "sgd"}, TypeError, "optimizer must be .*got str 'sgd'"),
        ({"scheduler": object()}, TypeError, "scheduler must be a learning-rate scheduler .*got object"),
        ({"train_metrics": "batch"}, ValueError, "train_metrics must be 'running' or 'full', got str 'batch'"),
        ({"model": lambda x: x}, TypeError, "fit trains an nn.Module"),
    ],
)
def test_wrong_kinds_of_arguments_are_named(kwargs, error, message):
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    args = {"model": model, "X": X, "y": y, "loss": "mse", "optimizer": SGD(model.parameters(), lr=0.1)}
    args.update(kwargs)
    with pytest.raises(error, match=message):
        fit(**args, epochs=1, progress=False)


def test_an_optimizer_of_another_model_is_refused():
    X, y = xor()
    model, other = nn.MLP(2, [2, 1], rng=0), nn.MLP(2, [2, 1], rng=1)
    with pytest.raises(ValueError, match="holds none of this model's parameters.*SGD\\(model.parameters\\(\\)"):
        fit(model, X, y, "mse", SGD(other.parameters(), lr=0.1), epochs=1, progress=False)
    # some of them is fine: training only the last layer
    last = model.layers[-1].parameters()
    first_before = model.layers[0].state_dict()
    fit(model, X, y, "mse", SGD(last, lr=0.1), epochs=1, progress=False)
    assert model.layers[0].state_dict() == first_before


def test_a_scheduler_of_another_optimizer_is_refused():
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    optimizer, other = SGD(model.parameters(), lr=0.1), SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="scheduler belongs to a different optimizer"):
        fit(model, X, y, "mse", optimizer, epochs=1, scheduler=StepLR(other, 1), progress=False)


def test_fit_restores_the_mode_it_found():
    X, y = xor()
    model = nn.MLP(2, [4, 1], rng=0, dropout=0.5)
    model.eval()
    fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=2, progress=False)
    assert [m.training for m in model.modules()] == [False] * len(list(model.modules()))
    model.train()
    model.layers[0].eval()  # a mix of modes comes back exactly
    modes = [m.training for m in model.modules()]
    fit(model, X, y, "mse", SGD(model.parameters(), lr=0.1), epochs=1, validation=(X, y), progress=False)
    assert [m.training for m in model.modules()] == modes


def test_early_stopping_helper():
    p = Value(1.0)
    stopper = EarlyStopping(2, [p])
    assert not stopper.should_stop(0, 0.5) and stopper.best_epoch == 0
    p.data = 2.0
    assert not stopper.should_stop(1, 0.4) and stopper.best_epoch == 1  # better: 2.0 remembered
    p.data = 3.0
    assert not stopper.should_stop(2, 0.4)  # equal is not better
    assert stopper.should_stop(3, 0.9)  # two epochs without improvement
    stopper.restore_best()
    assert p.data == 2.0 and stopper.best_loss == 0.4


# ---- randomness -----------------------------------------------------------------------------
def _seeded_run(seed_global, random_state=None):
    random.seed(seed_global)
    X, y = make_moons(20, noise=0.2)  # from the global random
    model = nn.MLP(2, [4, 1])  # initial weights from the global random
    history = fit(
        model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=3, batch_size=4, progress=False,
        random_state=random_state,
    )
    return history.loss, model.state_dict()


def test_random_seed_reproduces_a_whole_run():
    assert _seeded_run(1) == _seeded_run(1)
    assert _seeded_run(1) != _seeded_run(2)


def test_fit_shuffles_with_the_global_random_without_a_seed():
    X, y = make_moons(12, noise=0.1, random_state=0)
    seen = []

    class Spy(nn.MLP):
        def __call__(self, x):
            seen.append(tuple(x))
            return super().__call__(x)

    model = Spy(2, [1], rng=0)
    random.seed(7)
    fit(model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=1, batch_size=3, progress=False)
    random.seed(7)
    order = list(range(12))
    random.shuffle(order)
    assert seen == [tuple(X[i]) for i in order]


def test_an_explicit_seed_ignores_the_global_random():
    X, y = make_moons(20, noise=0.2, random_state=0)

    def run():
        model = nn.MLP(2, [4, 1], rng=0)
        return fit(
            model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=3, batch_size=4, progress=False,
            random_state=11,
        ).loss

    random.seed(1)
    first = run()
    random.seed(2)
    assert run() == first
    state = random.getstate()
    run()
    assert random.getstate() == state  # and leaves it alone


# ---- the progress bar -------------------------------------------------------------------------
class _FakeBar:
    made: list[_FakeBar] = []

    def __init__(self, iterable, **kwargs):
        self.iterable, self.kwargs, self.postfixes, self.closed = iterable, kwargs, [], False
        _FakeBar.made.append(self)

    def __iter__(self):
        return iter(self.iterable)

    def set_postfix(self, postfix):
        self.postfixes.append(postfix)

    def close(self):
        self.closed = True


def test_progress_uses_tqdm_auto_for_jupyter_and_terminals(monkeypatch):
    import tqdm.auto

    _FakeBar.made = []
    monkeypatch.setattr(tqdm.auto, "tqdm", _FakeBar)
    X, y = xor()
    model = nn.MLP(2, [2, 1], rng=0)
    history = fit(model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=3)
    (bar,) = _FakeBar.made
    assert list(bar.iterable) == [0, 1, 2] and bar.closed
    assert bar.kwargs["disable"] is None  # tqdm: hidden when stderr is no terminal; the notebook bar shows anyway
    assert bar.postfixes[-1] == {"loss": f"{history.loss[-1]:.4f}", "acc": f"{history.accuracy[-1]:.3f}"}
    _FakeBar.made = []
    fit(model, X, y, "bce_logits", SGD(model.parameters(), lr=0.1), epochs=3, progress=False)
    assert _FakeBar.made == []  # no bar at all


def test_the_notebook_bar_shows_although_its_stream_is_no_terminal():
    pytest.importorskip("ipywidgets")
    from tqdm.notebook import tqdm as notebook_tqdm

    bar = notebook_tqdm(range(2), disable=None, file=io.StringIO())
    try:
        assert bar.disable is False
    finally:
        bar.close()
