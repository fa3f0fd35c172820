"""nn.activations: values, derivatives worked by hand, names, and registering your own."""

import math

import pytest
from helpers import close

import nn
from autograd import Value, gradcheck, make_op
from nn.activations import ACTIVATIONS, TORCH_MODULES, get_activation


def test_step_and_sign_values():
    assert [nn.step(x).data for x in (-2.0, 0.0, 3.0)] == [0.0, 0.0, 1.0]
    assert [nn.sign(x).data for x in (-2.0, 0.0, 3.0)] == [-1.0, 0.0, 1.0]
    assert nn.step(Value(1.0)).op == "step"

def test_activations_accept_plain_numbers():
    assert nn.relu(-3).data == 0.0
    assert nn.tanh(0.5).data == pytest.approx(math.tanh(0.5))

def test_maxout_splits_gradient_between_ties():
    a, b, c = Value(3.0), Value(1.0), Value(3.0)
    out = nn.maxout([a, b, c])
    out.backward()
    assert out.data == 3.0
    assert (a.grad, b.grad, c.grad) == (0.5, 0.0, 0.5)

@pytest.mark.parametrize("fn", [nn.softmax, nn.log_softmax])
def test_softmax_extreme_logits_are_finite(fn):
    xs = [Value(1000.0), Value(0.0), Value(-1000.0)]
    outs = fn(xs)
    sum(o * w for o, w in zip(outs, [0.3, -1.2, 2.0], strict=True)).backward()
    assert all(math.isfinite(o.data) for o in outs)
    assert all(math.isfinite(x.grad) for x in xs)

def test_softmax_worked_example():
    probs = [p.data for p in nn.softmax([2.0, 1.0, 0.1])]
    assert probs == pytest.approx([0.659, 0.242, 0.099], abs=5e-4)
    assert sum(probs) == pytest.approx(1.0, abs=1e-15)
    # one node per output, whose parents are all the inputs
    xs = [Value(2.0), Value(1.0)]
    out = nn.softmax(xs)
    assert out[0].op == "softmax" and out[0].parents == tuple(xs)

def test_list_functions_reject_bad_input():
    with pytest.raises(ValueError, match="empty"):
        nn.softmax([])
    with pytest.raises(TypeError, match="list"):
        nn.maxout(Value(1.0))


EXPECTED_AT_MINUS_HALF = {  # f(-0.5), worked by hand
    "identity": -0.5,
    "step": 0.0,
    "sign": -1.0,
    "sigmoid": 1 / (1 + math.exp(0.5)),
    "tanh": math.tanh(-0.5),
    "relu": 0.0,
    "leaky_relu": -0.005,
    "elu": math.exp(-0.5) - 1,
    "softplus": math.log1p(math.exp(-0.5)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_get_activation_by_name(name):
    fn = get_activation(name)
    assert callable(fn)
    assert get_activation(name.upper()) is fn
    assert close(fn(Value(-0.5)).data, EXPECTED_AT_MINUS_HALF["identity" if name == "linear" else name])

def test_get_activation_passes_callables_and_none():
    f = lambda v: v * 2  # noqa: E731
    assert get_activation(f) is f
    assert get_activation(None) is nn.identity

def test_get_activation_errors_list_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'relux'.*tanh.*relu.*softplus"):
        get_activation("relux")
    with pytest.raises(ValueError, match="whole list"):
        get_activation("softmax")
    with pytest.raises(ValueError, match="maxout"):
        get_activation("maxout")


# ---------------------------------------------------------------------------
# One list of activations, and registering your own
# ---------------------------------------------------------------------------


def swish(x):
    """swish(z) = z * s, s = sigmoid(z).   d/dz = s + z * s * (1 - s)."""
    s = 1.0 / (1.0 + math.exp(-x.data))
    return make_op("swish", x.data * s, (x,), (s + x.data * s * (1.0 - s),))


@pytest.fixture
def registered():
    """Register swish for one test, then forget it again."""
    yield nn.register_activation("swish", swish)
    ACTIVATIONS.pop("swish", None)
    TORCH_MODULES.pop("swish", None)


def test_every_torch_module_belongs_to_a_listed_activation():
    assert set(TORCH_MODULES) <= set(ACTIVATIONS)
    assert set(nn.activations.BUILT_IN) == set(ACTIVATIONS) == {
        "identity", "linear", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"
    }


def test_activation_name():
    name = nn.activations.activation_name
    assert [name(x) for x in (None, "linear", "TANH", nn.relu, nn.identity)] == ["identity", "identity", "tanh", "relu", "identity"]
    assert name(lambda v: v) is None  # a function nobody registered
    with pytest.raises(ValueError, match="unknown activation 'relu6'"):
        name("relu6")
    with pytest.raises(ValueError, match="unknown activation 5"):
        name(5)


def test_a_registered_activation_is_used_by_name_and_trains(registered):
    assert registered is swish and get_activation("swish") is swish and get_activation("SWISH") is swish
    assert gradcheck(lambda a, b: swish(a * b + 1) * a, [0.7, -0.3])
    model = nn.MLP(2, [4, 1], activation="swish", rng=0)
    assert repr(model) == "MLP(2 -> 4 swish -> 1, 17 parameters)"
    assert [n.activation for n in model.layers[0].neurons] == ["swish"] * 4
    same = nn.MLP(2, [4, 1], activation=swish, rng=0)  # the function itself works too, and knows its name
    assert repr(same) == repr(model) and same.config() == model.config()
    hidden = model.layers[0].neurons[0]
    z = hidden.w[0].data * 0.5 + hidden.w[1].data * -1.5
    assert close(hidden([0.5, -1.5]).data, z / (1 + math.exp(-z)))
    X, y = nn.data.xor()
    before = nn.mse_loss([model(x) for x in X], y).data
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(20):
        loss = nn.mse_loss([model(x) for x in X], y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.data < before


def test_a_registered_activation_is_saved_and_loaded_by_name(registered, tmp_path):
    model = nn.MLP(2, [3, 1], activation="swish", output_activation="swish", rng=0)
    model.save(tmp_path / "m.json")
    assert '"activation": "swish"' in (tmp_path / "m.json").read_text()
    loaded = nn.Module.load(tmp_path / "m.json")
    assert [loaded([0.3, -0.7]).data] == [model([0.3, -0.7]).data]
    ACTIVATIONS.pop("swish")  # a program that did not register it
    with pytest.raises(ValueError, match="unknown activation 'swish'.*nn.register_activation"):
        nn.Module.load(tmp_path / "m.json")


def test_registering_again_replaces_and_old_models_say_so(registered, tmp_path):
    model = nn.MLP(2, [3, 1], activation="swish", rng=0)

    def swish2(x):
        return x * x.sigmoid()

    nn.register_activation("swish", swish2)  # a notebook cell run again
    assert get_activation("swish") is swish2
    assert nn.MLP(2, [3, 1], activation="swish", rng=0).layers[0].neurons[0].activation_function is swish2
    with pytest.raises(ValueError, match="not the one registered under that name"):
        model.save(tmp_path / "m.json")


def test_unregistered_functions_cannot_be_saved_and_say_how_to_fix_it(tmp_path):
    def cube(v):
        return v**3

    with pytest.raises(ValueError, match=r"custom activation function 'cube'.*nn.register_activation\('cube', fn\)"):
        nn.MLP(2, [3, 1], activation=cube).save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("relu", swish), ValueError, "'relu' is a built-in activation and cannot be replaced"),
        (("Linear", swish), ValueError, "'linear' is a built-in"),
        (("softmax", swish), ValueError, "'softmax' is a built-in"),
        (("my swish", swish), TypeError, "name is a word such as 'swish', got str 'my swish'"),
        ((3, swish), TypeError, "got int 3"),
        (("swish", "swish"), TypeError, "fn is a function taking a Value and returning a Value, got str 'swish'"),
        (("swish", lambda v: v.data * 2), TypeError, r"fn\(Value\(0.5\)\) returned float 1.0, not a Value.*make_op"),
        (("swish", swish, "SiLU"), TypeError, "torch_module is a function returning a torch.nn module.*got str 'SiLU'"),
    ],
)
def test_register_activation_errors(args, error, message):
    with pytest.raises(error, match=message):
        nn.register_activation(*args)
    assert "swish" not in ACTIVATIONS and "my swish" not in ACTIVATIONS


def test_step_sign_and_maxout_replay_under_compile_as_eager():
    import autograd

    w = [Value(0.5), Value(-0.3)]

    def f(x1, x2):
        a = x1 * w[0] + x2 * w[1]
        return nn.maxout([nn.sign(a) + a, nn.step(a) * a, a * 0.5])

    compiled = autograd.compile(f)
    for xs in ([1.0, 2.0], [-3.0, 1.0], [2.0, -1.0]):  # the winner and the branches change between calls
        out = compiled(*xs)
        out.backward()
        got = [p.grad for p in w]
        for p in w:
            p.grad = 0.0
        eager = f(*[Value(x) for x in xs])
        eager.backward()
        assert out.data == eager.data and got == [p.grad for p in w]
        for p in w:
            p.grad = 0.0
