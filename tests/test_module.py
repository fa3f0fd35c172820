"""nn.module and nn.perceptron: parameters, micrograd compatibility, state dicts, saving, training."""

import json
import math
import os
import random

import micrograd.engine as mg_engine
import micrograd.nn as mg_nn
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


def test_same_weights_and_outputs_as_micrograd():
    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    theirs = mg_nn.MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    for x in ([0.3, -1.2], [2.0, 0.5]):
        assert ours(x).data == pytest.approx(theirs(x).data, rel=1e-12, abs=1e-12)


def test_micrograd_training_loop_runs_unchanged_and_matches_micrograd():
    """The micrograd demo's loop (max-margin loss + L2, SGD with a decaying rate), on both libraries."""
    rng = random.Random(3)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(12)]
    y = [1 if a * b > 0 else -1 for a, b in X]

    def run(MLP, ValueClass):
        random.seed(1337)
        model = MLP(2, [16, 16, 1])
        losses = []
        for k in range(5):
            inputs = [list(map(ValueClass, xrow)) for xrow in X]
            scores = list(map(model, inputs))
            data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)) * (1.0 / len(y))
            reg_loss = 1e-4 * sum(p * p for p in model.parameters())
            loss = data_loss + reg_loss
            model.zero_grad()
            loss.backward()
            learning_rate = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            losses.append(loss.data)
        return losses

    ours = run(nn.MLP, Value)
    theirs = run(mg_nn.MLP, mg_engine.Value)
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert ours[-1] < ours[0]


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
    # micrograd breaks here: its one-neuron layer hands a bare Value to the next layer
    with pytest.raises(TypeError):
        mg_nn.MLP(2, [1, 3])([1.5, -0.5])


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
    "make, message",
    [
        (lambda: nn.MLP(2, 16), "list of layer widths"),
        (lambda: nn.MLP(2, []), "list of layer widths"),
        (lambda: nn.MLP(0, [1]), "positive whole number, got int 0"),
        (lambda: nn.Layer(2, 2.5), "positive whole number, got float 2.5"),
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
# Custom modules, train/eval
# ---------------------------------------------------------------------------


class Net(nn.Module):
    def __init__(self):
        self.scale = Value(2.0)
        self.hidden = nn.Layer(2, 3, rng=0)
        self.drop = nn.Dropout(0.5, rng=0)
        self.out = nn.Layer(3, 1, activation="identity", rng=1)
        self.tied = [self.scale]  # the same Value again: listed once

    def forward(self, x):
        return self.out(self.drop(self.hidden(x))) * self.scale


def test_custom_module_finds_parameters_and_submodules():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names[0] == "scale"
    assert names[1:4] == ["hidden.neurons.0.w.0", "hidden.neurons.0.w.1", "hidden.neurons.0.b"]
    assert names[-1] == "out.neurons.0.b"
    assert len(names) == len(set(map(id, net.parameters()))) == 1 + 9 + 4
    assert [name for name, _ in net.named_modules()][:3] == ["", "hidden.", "hidden.neurons.0."]
    text = repr(net)
    assert text.startswith("Net(14 parameters)")
    assert "(hidden): Layer(2 -> 3 relu, 9 parameters)" in text and "(drop): Dropout(p=0.5)" in text


def test_train_and_eval_are_recursive_and_return_self():
    net = Net()
    assert net.training and net.drop.training
    assert net.eval() is net
    assert not net.training and not net.drop.training and not net.hidden.neurons[2].training
    assert net.train() is net and net.drop.training
    x = [0.3, 0.9]
    net.eval()
    assert net(x).data == net(x).data  # no dropout in eval mode


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
# State dicts
# ---------------------------------------------------------------------------


def test_state_dict_round_trip():
    a = nn.MLP(2, [4, 2], rng=0)
    state = a.state_dict()
    assert list(state) == [name for name, _ in a.named_parameters()]
    assert json.loads(json.dumps(state)) == state
    b = nn.MLP(2, [4, 2], rng=1)
    assert b([0.1, 0.2])[0].data != a([0.1, 0.2])[0].data
    b.load_state_dict(json.loads(json.dumps(state)))
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]
    assert [v.data for v in b([0.1, 0.2])] == [v.data for v in a([0.1, 0.2])]


def _bad_dicts(good):
    changed = {k: v + 1.0 for k, v in good.items()}  # valid new values everywhere...
    first, last = next(iter(good)), list(good)[-1]
    missing = dict(changed)
    del missing[last]
    yield "extra", {**changed, "layers.9.neurons.0.b": 0.0}, "layers.9.neurons.0.b"
    yield "missing", missing, last
    yield "string", {**changed, last: "0.5"}, last
    yield "list", {**changed, last: [0.5, 0.1]}, last
    yield "bool", {**changed, first: True}, first
    yield "none", {**changed, first: None}, first


@pytest.mark.parametrize("case", range(6))
def test_failed_load_state_dict_changes_nothing(case):
    model = nn.MLP(2, [3, 1], rng=0)
    before = [(p.data, p.grad) for p in model.parameters()]
    label, bad, key = list(_bad_dicts(model.state_dict()))[case]
    with pytest.raises(ValueError, match=key.replace(".", r"\.")) as error:
        model.load_state_dict(bad)
    assert "Nothing was changed" in str(error.value)
    assert [(p.data, p.grad) for p in model.parameters()] == before, label


def test_load_state_dict_rejects_a_non_dict():
    with pytest.raises(TypeError, match="takes a dict"):
        nn.MLP(2, [1]).load_state_dict([1.0, 2.0])


# ---------------------------------------------------------------------------
# Saving and loading
# ---------------------------------------------------------------------------


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    model = nn.MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", init="he_normal", rng=2)
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == "chainrule-model" and document["version"] == 1
    assert document["type"] == "MLP"
    assert document["config"] == {"nin": 3, "nouts": [5, 4, 2], "activation": "tanh", "output_activation": "sigmoid"}
    state = random.getstate()
    loaded = nn.Module.load(path)
    assert random.getstate() == state  # loading draws no random numbers
    assert type(loaded) is nn.MLP and repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()
    for x in ([0.1, -0.2, 0.3], [5.0, 1.0, -7.5]):
        assert [v.data for v in loaded(x)] == [v.data for v in model(x)]
    assert type(nn.MLP.load(str(path))) is nn.MLP


@pytest.mark.parametrize(
    "model",
    [
        nn.Neuron(3, activation="elu", rng=0),
        nn.Layer(2, 3, activation="leaky_relu", rng=0),
        nn.Perceptron(2),
        nn.Dropout(0.25),
        nn.MLP(2, [1]),
    ],
    ids=repr,
)
def test_other_modules_save_and_load(tmp_path, model):
    path = tmp_path / "m.json"
    model.save(path)
    loaded = type(model).load(path)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()


def test_load_checks_the_type(tmp_path):
    path = tmp_path / "neuron.json"
    nn.Neuron(2).save(path)
    with pytest.raises(ValueError, match="type 'Neuron', expected MLP"):
        nn.MLP.load(path)


def test_truncated_file_gives_clear_error(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [4, 1], rng=0).save(path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not valid JSON, perhaps truncated or corrupt"):
        nn.Module.load(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x80\x81 not utf-8", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2, 3]", "no \"format\": \"chainrule-model\" marker"),
        (b'{"weights": [1, 2]}', "marker"),
        (b'{"format": "chainrule-model", "version": 99}', "version 99"),
        (b'{"format": "chainrule-model", "version": 1, "type": "os.system", "config": {}, "state_dict": {}}', "type 'os.system'"),
        (b'{"format": "chainrule-model", "version": 1, "type": "MLP", "config": [], "state_dict": {}}', "JSON objects"),
        (b'{"format": "chainrule-model", "version": 1, "type": "MLP", "config": {"nin": "two"}, "state_dict": {}}', "cannot build"),
        (b'{"format": "chainrule-model", "version": 1, "type": "Neuron", "config": {"nin": 1}, "state_dict": {"w.0": 1}}', "missing keys \\['b'\\]"),
    ],
)
def test_foreign_or_corrupt_files_raise_value_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        nn.Module.load(path)


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    old = nn.MLP(2, [3, 1], rng=0)
    old.save(path)
    before = path.read_bytes()

    def crash(fd):  # the new file's bytes are written but the write never completes
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        nn.MLP(2, [3, 1], rng=1).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary file left behind
    assert nn.Module.load(path).state_dict() == old.state_dict()


def test_save_overwrites_on_success(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1], rng=0).save(path)
    new = nn.MLP(2, [3, 1], rng=1)
    new.save(path)
    assert nn.MLP.load(path).state_dict() == new.state_dict()
    assert os.listdir(tmp_path) == ["model.json"]


def test_unsaveable_modules_say_why(tmp_path):
    with pytest.raises(ValueError, match="Net cannot be saved.*state_dict"):
        Net().save(tmp_path / "net.json")
    with pytest.raises(ValueError, match="custom activation function '<lambda>'"):
        nn.MLP(2, [3, 1], activation=lambda v: v).save(tmp_path / "m.json")
    assert not os.listdir(tmp_path)


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
