"""nn.bridge against PyTorch (the oracle): an MLP and its torch twin compute the same numbers."""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch", reason="PyTorch is the test oracle (pip install torch)")

import nn  # noqa: E402
from autograd import make_op  # noqa: E402
from nn import from_torch, to_torch  # noqa: E402
from nn.activations import ACTIVATIONS, TORCH_MODULES  # noqa: E402

pytestmark = pytest.mark.torch


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


def test_to_torch_float32_works_with_plain_torch_tensors():
    model = nn.MLP(2, [8, 3], activation="tanh", rng=6)
    module = to_torch(model, dtype=torch.float32)
    assert all(p.dtype == torch.float32 for p in module.parameters())
    rng = random.Random(2)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(20)]
    with torch.no_grad():
        out = module(torch.tensor(X))  # float32, as torch.tensor makes it by default
    assert out.dtype == torch.float32
    for x, row in zip(X, out.tolist(), strict=True):
        assert _outputs(model, x) == pytest.approx(row, rel=1e-5, abs=1e-6)
    assert module[0].weight[0, 0].item() == pytest.approx(model.layers[0].neurons[0].w[0].data, rel=1e-7)
    assert to_torch(model)[0].weight.dtype == torch.float64  # the default stays float64


@pytest.mark.parametrize("dtype", [torch.int64, "float32", float])
def test_to_torch_rejects_a_dtype_that_is_not_a_float_dtype(dtype):
    with pytest.raises(TypeError, match="dtype is a floating torch dtype such as torch.float32"):
        to_torch(nn.MLP(2, [1], rng=0), dtype=dtype)


def _swish(x):
    """z * sigmoid(z).   d/dz = s + z * s * (1 - s)."""
    s = 1.0 / (1.0 + 2.718281828459045 ** (-x.data))
    return make_op("swish", x.data * s, (x,), (s + x.data * s * (1.0 - s),))


@pytest.fixture
def swish():
    yield nn.register_activation("swish", _swish, torch_module=torch.nn.SiLU)
    ACTIVATIONS.pop("swish", None)
    TORCH_MODULES.pop("swish", None)


def test_a_registered_activation_travels_to_torch_and_back(swish):
    model = nn.MLP(3, [6, 6, 2], activation="swish", rng=4)
    module = to_torch(model)
    assert [type(m).__name__ for m in module] == ["Linear", "SiLU", "Linear", "SiLU", "Linear"]
    rng = random.Random(5)
    for _ in range(10):
        x = [rng.uniform(-4, 4) for _ in range(3)]
        assert _outputs(model, x) == pytest.approx(_torch_outputs(module, x), rel=1e-12, abs=1e-12)
    # gradients agree too
    x = [0.3, -1.1, 2.0]
    out = model(x)
    (out[0] * 2.0 + out[1]).backward()
    t = module(torch.tensor([x], dtype=torch.float64))[0]
    (t[0] * 2.0 + t[1]).backward()
    assert [w.grad for w in model.layers[0].neurons[2].w] == pytest.approx(module[0].weight.grad[2].tolist(), rel=1e-10)
    back = from_torch(module)
    assert back.layers[0].activation == "swish" and back.state_dict() == model.state_dict()


def test_a_registered_activation_without_a_torch_module_says_how_to_add_one(swish):
    nn.register_activation("swish", _swish)  # again, without torch_module
    with pytest.raises(ValueError, match=r"'swish', which has no torch module.*register_activation\('swish', fn, torch_module="):
        to_torch(nn.MLP(2, [3, 1], activation="swish", rng=0))
    with pytest.raises(ValueError, match="SiLU"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.SiLU(), torch.nn.Linear(3, 1)))


def test_an_unregistered_function_named_like_a_built_in_is_not_converted_as_one():
    def tanh(v):  # a custom function that happens to be called tanh
        return v * 2.0

    model = nn.MLP(2, [3, 1], activation=tanh, rng=0)
    with pytest.raises(ValueError, match="'tanh', which has no torch module"):
        to_torch(model)
