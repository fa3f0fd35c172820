"""nn.perceptron: Rosenblatt's perceptron and its learning rule."""

import math

import pytest

import nn

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]

XOR_Y = [0.0, 1.0, 1.0, 0.0]


def test_perceptron_learns_and_and_or():
    for y in ([0, 0, 0, 1], [0, 1, 1, 1]):
        p = nn.Perceptron(2)
        result = p.fit(XOR_X, y, epochs=50, lr=1.0)
        assert result.converged is True
        assert result.errors[-1] == 0 and all(e > 0 for e in result.errors[:-1])
        assert result.epochs == len(result.errors) < 50
        assert [p.predict(x) for x in XOR_X] == y
        assert all(type(p.predict(x)) is int for x in XOR_X)
        assert str(result).startswith(f"converged after {result.epochs} epochs")

def test_perceptron_and_exact_trajectory():
    p = nn.Perceptron(2)
    result = p.fit(XOR_X, [0, 0, 0, 1], epochs=50)
    # worked by hand: zero start, lr 1, examples in order
    assert result.errors == [1, 3, 3, 2, 1, 0]
    assert ([w.data for w in p.w], p.b.data) == ([2.0, 1.0], -2.0)

def test_perceptron_never_converges_on_xor():
    p = nn.Perceptron(2)
    result = p.fit(XOR_X, [0, 1, 1, 0], epochs=100)
    assert result.converged is False
    assert result.epochs == 100 and len(result.errors) == 100 and min(result.errors) > 0
    assert "converged=False" in repr(result)
    assert "did not converge in 100 epochs" in str(result) and "XOR" in str(result)
    assert [p.predict(x) for x in XOR_X] != [0, 1, 1, 0]

def test_perceptron_is_a_module_with_a_step_graph():
    p = nn.Perceptron(3)
    assert repr(p) == "Perceptron(3 inputs, step, 4 parameters)"
    assert [n for n, _ in p.named_parameters()] == ["w.0", "w.1", "w.2", "b"]
    p.fit([[1, 0, 0], [0, 1, 1]], [1, 0])
    out = p([1.0, 0.0, 0.0])
    assert out.op == "step" and out.data == 1.0

def test_perceptron_errors():
    p = nn.Perceptron(2)
    with pytest.raises(ValueError, match="labels 0 and 1, got -1"):
        p.fit(XOR_X, [0, 1, 1, -1])
    with pytest.raises(ValueError, match="4 examples and 3 labels"):
        p.fit(XOR_X, [0, 1, 1])
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        p.predict([1, 2, 3])


@pytest.mark.parametrize(
    ("X", "y", "kwargs", "error", "message"),
    [
        ([], [], {}, ValueError, "needs at least one example, got none"),
        (XOR_X, [0, 1, 1, 0], {"lr": math.nan}, ValueError, "learning rate must be a finite number, got nan"),
        (XOR_X, [0, 1, 1, 0], {"lr": -1.0}, ValueError, "learning rate must be > 0, got -1.0"),
        (XOR_X, [0, 1, 1, 0], {"lr": "1"}, TypeError, "learning rate must be a number, got str '1'"),
        (XOR_X, [False, True, True, False], {}, ValueError, "labels 0 and 1, got False"),
        (XOR_X, [0, 1, 1, 0], {"epochs": 0}, ValueError, r"fit\(epochs\) must be a whole number >= 1, got int 0"),
        ([[0.0, "a"]], [0], {}, TypeError, "each perceptron input must be a number, got str 'a'"),
        ([0.0], [0], {}, TypeError, "a perceptron takes a list of 2 numbers, got float 0.0"),
    ],
)
def test_perceptron_fit_checks_its_arguments(X, y, kwargs, error, message):
    p = nn.Perceptron(2)
    with pytest.raises(error, match=message):
        p.fit(X, y, **kwargs)
    assert [w.data for w in p.w] == [0.0, 0.0] and p.b.data == 0.0


def test_perceptron_saves_and_loads(tmp_path):
    p = nn.Perceptron(2)
    p.fit(XOR_X, [0, 0, 0, 1])
    p.save(tmp_path / "p.json")
    loaded = nn.Module.load(tmp_path / "p.json")
    assert type(loaded) is nn.Perceptron and [loaded.predict(x) for x in XOR_X] == [0, 0, 0, 1]
