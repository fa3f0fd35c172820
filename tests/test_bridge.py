"""Tests for nn/bridge.py: an MLP and its torch twin compute the same numbers."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import nn  # noqa: E402
from nn import from_torch, to_torch  # noqa: E402


def _outputs(model, x) -> list[float]:
    out = model(x)
    return [v.data for v in out] if isinstance(out, list) else [out.data]


def _torch_outputs(module, x) -> list[float]:
    with torch.no_grad():
        return module(torch.tensor([x], dtype=torch.float64))[0].tolist()


ARCHITECTURES = [
    (2, [16, 16, 1], "relu", None),
    (3, [5, 4, 2], "tanh", "sigmoid"),
    (4, [8, 3], "sigmoid", None),
    (2, [6, 6, 6, 3], "leaky_relu", "identity"),
    (5, [7, 1], "elu", "tanh"),
    (1, [4, 1], "softplus", "softplus"),
    (3, [1, 1, 2], "relu", "relu"),  # a one-neuron hidden layer
    (2, [3], "relu", "elu"),  # no hidden layer
]


@pytest.mark.parametrize(("nin", "nouts", "activation", "output_activation"), ARCHITECTURES)
def test_to_torch_computes_the_same_outputs(nin, nouts, activation, output_activation):
    model = nn.MLP(nin, nouts, activation=activation, output_activation=output_activation, rng=7)
    for p in model.parameters():  # non-zero biases too
        p.data += 0.1
    module = to_torch(model)
    assert isinstance(module, torch.nn.Sequential)
    linears = [m for m in module if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == nouts
    assert all(m.weight.dtype == torch.float64 for m in linears)
    rng = random.Random(0)
    for _ in range(20):
        x = [rng.uniform(-25.0, 25.0) for _ in range(nin)]  # wide enough to hit softplus's threshold
        ours, theirs = _outputs(model, x), _torch_outputs(module, x)
        assert len(ours) == nouts[-1]
        assert ours == pytest.approx(theirs, abs=1e-12, rel=1e-12)


def test_to_torch_layer_layout():
    model = nn.MLP(2, [16, 16, 1], rng=0)
    module = to_torch(model)
    kinds = [type(m).__name__ for m in module]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]  # linear output: no activation module
    first = model.layers[0].neurons[3]
    assert module[0].weight[3].tolist() == [w.data for w in first.w]
    assert module[0].bias[3].item() == first.b.data
    assert sum(p.numel() for p in module.parameters()) == 337


def test_activation_modules_carry_the_settings():
    module = to_torch(nn.MLP(2, [3, 3, 1], activation="leaky_relu", output_activation="elu", rng=0))
    leaky, elu = module[1], module[5]
    assert isinstance(leaky, torch.nn.LeakyReLU) and leaky.negative_slope == 0.01
    assert isinstance(elu, torch.nn.ELU) and elu.alpha == 1.0


@pytest.mark.parametrize(("nin", "nouts", "activation", "output_activation"), ARCHITECTURES)
def test_round_trip_keeps_every_weight(nin, nouts, activation, output_activation):
    model = nn.MLP(nin, nouts, activation=activation, output_activation=output_activation, rng=3)
    back = from_torch(to_torch(model))
    assert isinstance(back, nn.MLP)
    assert back.state_dict() == model.state_dict()  # exactly: float64 holds a Python float
    assert [layer.activation for layer in back.layers] == [layer.activation for layer in model.layers]


def test_from_torch_of_a_float32_model_trained_in_torch():
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    )
    model = from_torch(module)
    assert repr(model) == "MLP(2 -> 8 tanh -> 8 tanh -> 3, 123 parameters)"
    module64 = module.double()
    rng = random.Random(1)
    for _ in range(10):
        x = [rng.uniform(-3, 3), rng.uniform(-3, 3)]
        assert _outputs(model, x) == pytest.approx(_torch_outputs(module64, x), abs=1e-12)


def test_from_torch_linear_without_bias_and_identity_layers():
    linear = torch.nn.Linear(3, 2, bias=False, dtype=torch.float64)
    model = from_torch(torch.nn.Sequential(linear, torch.nn.Identity()))
    assert [n.b.data for n in model.layers[0].neurons] == [0.0, 0.0]
    x = [1.0, -2.0, 0.5]
    assert _outputs(model, x) == pytest.approx(_torch_outputs(linear, x), abs=1e-12)
    single = from_torch(linear)  # a bare Linear layer works too
    assert single.state_dict() == model.state_dict()


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1), torch.nn.Dropout(0.5)), "after the output layer"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.5), torch.nn.Tanh(), torch.nn.Linear(3, 1)), "comes after a Dropout"),
        (
            torch.nn.Sequential(
                torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Dropout(0.2), torch.nn.Linear(3, 1)
            ),
            "same Dropout after every hidden layer",
        ),
        (torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(2, 1)), "must follow a hidden layer"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LeakyReLU(0.2), torch.nn.Linear(3, 1)), "LeakyReLU"),
        (torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(2, 1)), "before any Linear"),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 1)), "takes 4 inputs"),
        (
            torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)),
            "one activation for all hidden layers",
        ),
        (torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Tanh()), "two activations in a row"),
        (torch.nn.Sequential(), "no Linear"),
        (torch.nn.Conv1d(1, 1, 3), "Conv1d"),
    ],
)
def test_from_torch_rejects_what_an_mlp_cannot_hold(module, message):
    with pytest.raises(ValueError, match=message):
        from_torch(module)


def test_dropout_travels_both_ways_and_eval_outputs_agree():
    model = nn.MLP(2, [4, 4, 1], activation="tanh", dropout=0.3, rng=1)
    module = to_torch(model)
    kinds = [type(m).__name__ for m in module]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert module.training and all(m.p == 0.3 for m in module if isinstance(m, torch.nn.Dropout))
    model.eval()
    module = to_torch(model)
    assert not module.training
    for x in ([0.5, -1.0], [2.0, 0.25]):
        assert _outputs(model, x) == pytest.approx(_torch_outputs(module, x), abs=1e-12)
    back = from_torch(module)
    assert back.dropout is not None and back.dropout.p == 0.3 and not back.training
    assert back.state_dict() == model.state_dict()
    assert from_torch(to_torch(nn.MLP(2, [3, 1], rng=0))).dropout is None


def test_to_torch_rejects_custom_activations_and_non_mlps():
    def cube(v):
        return v**3

    with pytest.raises(ValueError, match="'cube'"):
        to_torch(nn.MLP(2, [3, 1], activation=cube, rng=0))
    with pytest.raises(TypeError, match="Layer"):
        to_torch(nn.Layer(2, 3, rng=0))


def test_without_torch_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    model = nn.MLP(2, [1], rng=0)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[torch\]'"):
        to_torch(model)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[torch\]'"):
        from_torch(object())


def test_importing_nn_needs_neither_torch_nor_matplotlib():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['matplotlib'] = None\n"
        "import nn\n"
        "assert callable(nn.to_torch) and callable(nn.from_torch) and callable(nn.fit)\n"
        "assert callable(nn.plot.plot_decision_boundary)\n"
        "from nn import plot, bridge, train\n"
        "print('ok')"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root)
    assert result.stdout.strip() == "ok", result.stderr
