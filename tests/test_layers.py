"""nn.layers: Neuron, Layer, MLP and Dropout (Embedding: test_embedding.py)."""

import math
import random

import pytest

import nn
from autograd import Value, topological_order

# ---------------------------------------------------------------------------
# Neuron, Layer, MLP
# ---------------------------------------------------------------------------


def test_micrograd_demo_model_shape():
    model = nn.MLP(2, [16, 16, 1])
    assert len(model.parameters()) == 337
    assert repr(model) == "MLP(2 -> 16 relu -> 16 relu -> 1, 337 parameters)"
    out = model([0.5, -1.0])
    assert isinstance(out, Value)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "identity"]

def test_parameter_names_and_order():
    model = nn.MLP(2, [3, 1], rng=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:4] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.0.b" and len(names) == 13
    expected = [p for layer in model.layers for n in layer.neurons for p in [*n.w, n.b]]
    assert model.parameters() == expected
    assert [p for _, p in model.named_parameters()] == expected
    neuron = model.layers[0].neurons[0]
    assert [p.label for p in neuron.parameters()] == ["w0", "w1", "b"]
    assert neuron.b.data == 0.0

def test_micrograd_neuron_signature():
    linear = nn.Neuron(3, nonlin=False, rng=0)
    relu = nn.Neuron(3, nonlin=True, rng=0)
    assert linear.activation == "identity" and not linear.nonlin
    assert relu.activation == "relu" and relu.nonlin
    for n in (linear, relu):
        n.w[0].data, n.w[1].data, n.w[2].data = 1.0, -2.0, 0.5
    assert linear([1.0, 1.0, 1.0]).data == -0.5
    assert relu([1.0, 1.0, 1.0]).data == 0.0
    layer = nn.Layer(2, 3, nonlin=False, rng=0)
    assert layer.activation == "identity"
    with pytest.raises(ValueError, match="either activation= or"):
        nn.Neuron(2, activation="tanh", nonlin=True)

def test_neuron_is_one_dot_node_plus_bias_then_activation():
    n = nn.Neuron(3, activation="tanh", rng=0)
    x = [Value(1.0), Value(2.0), Value(-1.0)]
    out = n(x)
    assert out.op == "tanh"
    plus = out.parents[0]
    assert plus.op == "+" and plus.parents[1] is n.b
    assert plus.parents[0].op == "dot"
    expected = math.tanh(sum(w.data * xi.data for w, xi in zip(n.w, x, strict=True)) + n.b.data)
    assert out.data == pytest.approx(expected, rel=1e-15)
    out.backward()
    assert n.b.grad == pytest.approx(1 - expected**2)
    assert x[1].grad == pytest.approx((1 - expected**2) * n.w[1].data)
    linear = nn.Neuron(2, activation="identity")
    assert linear([1.0, 2.0]).op == "+"

@pytest.mark.parametrize("name", ["identity", "step", "sign", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"])
def test_neuron_activation_by_name(name):
    n = nn.Neuron(2, activation=name, rng=1)
    z = n.w[0].data * 0.7 + n.w[1].data * -1.1
    expected = nn.get_activation(name)(Value(z)).data
    assert n([0.7, -1.1]).data == pytest.approx(expected, rel=1e-15)
    assert n.activation == name
    assert repr(n) == f"Neuron(2 inputs, {name}, 3 parameters)"

def test_neuron_custom_activation():
    n = nn.Neuron(1, activation=lambda v: v * v, rng=0)
    n.w[0].data = 3.0
    assert n([2.0]).data == 36.0

def test_layer_outputs():
    one = nn.Layer(2, 1, rng=0)
    assert isinstance(one([1.0, 2.0]), Value)
    many = nn.Layer(2, 4, activation="sigmoid", rng=0)
    out = many([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 4 and all(0 < v.data < 1 for v in out)
    assert repr(many) == "Layer(2 -> 4 sigmoid, 12 parameters)"

def test_one_neuron_hidden_layer_works():
    model = nn.MLP(2, [1, 3], activation="identity", rng=0)
    hidden = model.layers[0].neurons[0]
    h = hidden.w[0].data * 1.5 + hidden.w[1].data * -0.5
    out = model([1.5, -0.5])
    assert isinstance(out, list) and len(out) == 3
    for o, n in zip(out, model.layers[1].neurons, strict=True):
        assert o.data == pytest.approx(n.w[0].data * h)
    sum(out, Value(0.0)).backward()
    assert hidden.w[0].grad == pytest.approx(1.5 * sum(n.w[0].data for n in model.layers[1].neurons))

def test_mlp_activations_and_outputs():
    model = nn.MLP(3, [4, 2], activation="tanh", output_activation="sigmoid", rng=0)
    assert repr(model) == "MLP(3 -> 4 tanh -> 2 sigmoid, 26 parameters)"
    out = model([1.0, 2.0, 3.0])
    assert len(out) == 2 and all(0 < v.data < 1 for v in out)
    assert all(-1 < v.data < 1 for v in model.layers[0]([1.0, 2.0, 3.0]))

def test_inputs_may_be_values_or_numbers():
    model = nn.MLP(2, [3, 1], rng=0)
    assert model([Value(0.5), Value(-2.0)]).data == model([0.5, -2.0]).data
    one = nn.MLP(1, [3, 1], rng=0)
    assert one(0.5).data == one([0.5]).data == one([Value(0.5)]).data

def test_plain_number_inputs_appear_as_labelled_leaves():
    model = nn.MLP(2, [1], rng=0)
    dot_node = model([0.5, -2.0]).parents[0]
    inputs = dot_node.parents[:2]
    assert [(v.label, v.data) for v in inputs] == [("x0", 0.5), ("x1", -2.0)]

def test_wrong_input_size_is_explained():
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        nn.MLP(2, [3, 1], rng=0)([1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    ("model", "x", "message"),
    [
        (nn.MLP(4, [8, 3], rng=0), [1.0, 2.0, 3.0], r"^this model takes 4 inputs, got 3: MLP\(4 -> 8 relu -> 3, 67 parameters\)$"),
        (nn.MLP(1, [2, 1], rng=0), [1.0, 2.0], "^this model takes 1 input, got 2"),
        (nn.Layer(3, 2, rng=0), [1.0], "^this layer takes 3 inputs, got 1$"),
        (nn.Neuron(3, rng=0), [1.0, 2.0], "^this neuron takes 3 inputs, got 2$"),
        (nn.Perceptron(2), [1.0], "^this perceptron takes 2 inputs, got 1$"),
    ],
)
def test_each_module_names_itself_when_the_input_size_is_wrong(model, x, message):
    with pytest.raises(ValueError, match=message):
        model(x)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        ([[0.1, 0.2], [0.3, 0.4]], r"one sample at a time \(a list of 2 numbers\), got a list of lists; for a batch use \[model\(x\) for x in X\]"),
        ([0.1, "0.2"], "inputs are numbers or Values, got str '0.2'"),
        ("ab", "takes a list of 2 numbers, got str 'ab'"),
        (None, "takes a list of 2 numbers, got NoneType None"),
        (True, "takes a list of 2 numbers, got bool True"),
    ],
)
def test_an_mlp_explains_inputs_that_are_not_one_sample(x, message):
    with pytest.raises(TypeError, match=message):
        nn.MLP(2, [3, 1], rng=0)(x)


def test_nin_is_the_number_of_inputs():
    assert nn.MLP(3, [4, 1]).nin == 3 and nn.Layer(5, 2).nin == 5 and nn.Neuron(7).nin == 7 and nn.Perceptron(2).nin == 2

@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.MLP(2, 16), "list of layer widths"),
        (lambda: nn.MLP(2, []), "list of layer widths"),
        (lambda: nn.MLP(0, [1]), "whole number >= 1, got int 0"),
        (lambda: nn.Layer(2, 2.5), "whole number >= 1, got float 2.5"),
        (lambda: nn.Neuron(2, activation="relu6"), "unknown activation 'relu6'"),
        (lambda: nn.MLP(2, [1], init="glorot"), "unknown initialiser 'glorot'"),
    ],
)
def test_construction_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()

def test_zero_grad():
    model = nn.MLP(2, [3, 1], rng=0)
    model([1.0, 1.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


# ---------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------


def test_dropout_statistics_and_gradient():
    drop = nn.Dropout(0.3, rng=0)
    xs = [Value(1.0) for _ in range(20_000)]
    out = drop(xs)
    kept = [o.data for o in out if o.data != 0.0]
    assert 1 - len(kept) / len(xs) == pytest.approx(0.3, abs=0.015)
    assert set(kept) == {1 / 0.7}
    assert sum(o.data for o in out) / len(xs) == pytest.approx(1.0, abs=0.03)  # expectation kept
    sum(out, Value(0.0)).backward()
    assert {x.grad for x in xs} == {0.0, 1 / 0.7}
    assert all((x.grad == 0.0) == (o.data == 0.0) for x, o in zip(xs, out, strict=True))

def test_dropout_eval_is_identity_and_seeded():
    xs = [Value(float(i)) for i in range(50)]
    drop = nn.Dropout(0.5, rng=3).eval()
    assert drop(xs) is xs
    a = [v.data for v in nn.Dropout(0.5, rng=3)(xs)]
    b = [v.data for v in nn.Dropout(0.5, rng=3)(xs)]
    assert a == b and a != [v.data for v in xs]
    assert nn.Dropout(0.0)(xs) is xs

def test_dropout_single_value_and_numbers():
    drop = nn.Dropout(0.5, rng=1)
    outs = {drop(Value(3.0)).data for _ in range(100)}
    assert outs == {0.0, 6.0}
    assert set(drop([1.0] * 100)) == {0.0, 2.0}

def test_dropout_without_rng_draws_from_global_random():
    xs = [Value(1.0) for _ in range(40)]
    random.seed(7)
    a = [v.data for v in nn.Dropout(0.5)(xs)]
    random.seed(7)
    b = [v.data for v in nn.Dropout(0.5)(xs)]
    assert a == b and 0 < a.count(0.0) < 40  # random.seed(s) reproduces the masks
    random.seed(7)
    expected = [0.0 if random.random() < 0.5 else 2.0 for _ in xs]
    assert a == expected
    state = random.getstate()
    nn.Dropout(0.5, rng=3)(xs)  # an explicit rng wins and leaves the global state alone
    assert random.getstate() == state


def test_mlp_dropout_and_init_follow_one_seed():
    def run():
        random.seed(11)
        model = nn.MLP(2, [4, 1], dropout=0.5)
        return [p.data for p in model.parameters()], [model([0.3, -0.6]).data for _ in range(5)]

    assert run() == run()


def test_dropout_rejects_text():
    with pytest.raises(TypeError, match="Dropout takes a Value, a number or a list of them, got str 'abc'"):
        nn.Dropout(0.5)("abc")
    with pytest.raises(TypeError, match="Dropout takes Values or numbers, got str 'a'"):
        nn.Dropout(0.5, rng=0)(["a"])


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "0.5"])
def test_dropout_validates_p(p):
    with pytest.raises(ValueError, match="0 <= p < 1"):
        nn.Dropout(p)

def test_mlp_dropout_drops_hidden_outputs_in_training_only():
    plain = nn.MLP(3, [32, 32, 2], rng=5)
    model = nn.MLP(3, [32, 32, 2], dropout=0.5, rng=5)
    assert model.state_dict() == plain.state_dict()  # the same weights from the same seed
    assert repr(model).endswith("dropout 0.5)") and model.config()["dropout"] == 0.5
    assert "dropout" not in plain.config()
    x = [0.3, -1.2, 0.8]
    a, b = model(x), model(x)
    assert [v.data for v in a] != [v.data for v in b]  # a fresh mask on every forward pass
    dropped = [n for n in topological_order(a[0]) if n.op == "dropout"]
    assert len(dropped) == 64  # after each hidden layer, not after the output
    assert {n.local_grads[0] for n in dropped} == {0.0, 2.0}
    model.eval()
    assert [v.data for v in model(x)] == [v.data for v in plain(x)]
    model.train()
    assert model.dropout.training

def test_mlp_dropout_is_validated_saved_and_trained(tmp_path):
    with pytest.raises(ValueError, match="0 <= p < 1"):
        nn.MLP(2, [3, 1], dropout=1.0)
    model = nn.MLP(2, [8, 1], dropout=0.2, rng=0)
    model.save(tmp_path / "m.json")
    loaded = nn.Module.load(tmp_path / "m.json")
    assert repr(loaded) == repr(model) and loaded.dropout.p == 0.2
    X, y = nn.data.xor()
    history = nn.fit(model, X, y, "mse", nn.optim.Adam(model.parameters(), lr=0.05), epochs=5, progress=False, random_state=0)
    assert len(history.loss) == 5 and model.training  # fit measures in eval mode, then switches back


# ---------------------------------------------------------------------------
# Learning
# ---------------------------------------------------------------------------

XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]

XOR_Y = [0.0, 1.0, 1.0, 0.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mlp_learns_xor_with_plain_gradient_descent(seed):
    model = nn.MLP(2, [4, 1], activation="tanh", init="glorot_uniform", rng=seed)
    for _ in range(300):
        loss = nn.mse_loss([model(x) for x in XOR_X], XOR_Y)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.2 * p.grad
    assert loss.data < 0.01
    assert [round(model(x).data) for x in XOR_X] == [0, 1, 1, 0]


def test_a_subclass_forward_is_what_calling_the_module_runs():
    class Doubled(nn.Neuron):
        def forward(self, x):
            return 2 * super().forward(x)

    class Named(nn.MLP):
        def forward(self, x):
            return ("mine", super().forward(x))

    neuron = Doubled(2, rng=0)
    plain = nn.Neuron(2, rng=0)
    assert neuron([1.0, 2.0]).data == 2 * plain([1.0, 2.0]).data
    tag, out = Named(2, [3, 1], rng=0)([1.0, 2.0])
    assert tag == "mine" and out.data == nn.MLP(2, [3, 1], rng=0)([1.0, 2.0]).data
    assert nn.Neuron.__call__ is nn.Neuron.forward  # the built-in layers keep their direct call
