"""nn.module: the Module base class (finding parameters, modes, state dicts, printing)."""

import copy
import json
import pickle

import pytest

import nn
from autograd import Value

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
    assert [name for name, _ in net.named_modules()][:3] == ["", "hidden", "hidden.neurons.0"]
    text = repr(net)
    assert text.startswith("Net(14 parameters)")
    assert "(hidden): Layer(2 -> 3 relu, 9 parameters)" in text and "(drop): Dropout(p=0.5)" in text

def test_named_modules_names_have_no_trailing_dot_as_in_pytorch():
    model = nn.MLP(2, [3, 1])
    names = [name for name, _ in model.named_modules()]
    assert names == ["", "layers.0", "layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2",
                     "layers.1", "layers.1.neurons.0"]
    modules = dict(model.named_modules())
    assert modules["layers.1.neurons.0"] is model.layers[1].neurons[0]
    # every parameter name is a module name plus the parameter's own name
    assert all(name.rsplit(".", 2)[0] in modules or name.rsplit(".", 1)[0] in modules for name in model.state_dict())
    prefixed = [name for name, _ in model.named_modules(prefix="net")]
    assert prefixed[:3] == ["net", "net.layers.0", "net.layers.0.neurons.0"]


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


def test_load_state_dict_converts_every_value_before_assigning_any():
    model = nn.MLP(2, [2, 1], rng=0)
    before = model.state_dict()
    last = list(before)[-1]
    huge = {**{k: 0.5 for k in before}, last: 10**400}  # passes "is a number", fails float()
    with pytest.raises(ValueError, match=f"'{last}' holds int 1000.*Nothing was changed") as error:
        model.load_state_dict(huge)
    assert len(str(error.value)) < 400  # the 401-digit number is not echoed in full
    assert model.state_dict() == before
    from fractions import Fraction

    with pytest.raises(ValueError, match="holds Fraction"):
        model.load_state_dict({**before, last: Fraction(10**400, 3)})
    assert model.state_dict() == before


def test_load_state_dict_errors_are_capped():
    model = nn.MLP(2, [2, 1], rng=0)
    state = {**model.state_dict(), **{f"extra.{i}": 0.0 for i in range(100_000)}}
    with pytest.raises(ValueError) as error:
        model.load_state_dict(state)
    message = str(error.value)
    assert len(message) < 2500
    assert "'extra.0'" in message and "and 99,995 more" in message and message.endswith("Nothing was changed.")


# ---------------------------------------------------------------------------
# PyTorch's contract: forward, __call__, parameters from attributes
# ---------------------------------------------------------------------------


def test_calling_a_module_calls_forward():
    class Double(nn.Module):
        def forward(self, x, scale=2.0):
            return x * scale

    assert Double()(3.0) == 6.0 and Double()(3.0, scale=3.0) == 9.0

    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="NoForward must define forward"):
        NoForward()(1.0)


def test_built_in_modules_define_forward_and_no_parameters_override():
    classes = [nn.Neuron, nn.Layer, nn.MLP, nn.Dropout, nn.Embedding, nn.Perceptron]
    for cls in classes:
        assert "forward" in vars(cls), cls
        assert "parameters" not in vars(cls) and "named_parameters" not in vars(cls), cls
    for cls in (nn.Neuron, nn.Layer, nn.MLP):  # the speed-critical ones skip Module.__call__
        assert cls.__call__ is cls.forward
    for cls in (nn.Dropout, nn.Embedding, nn.Perceptron):
        assert cls.__call__ is nn.Module.__call__


def test_nn_exports_grad_mode():
    import autograd

    assert nn.no_grad is autograd.no_grad and nn.is_grad_enabled is autograd.is_grad_enabled
    with nn.no_grad():
        assert not nn.is_grad_enabled()
        assert nn.MLP(2, [1], rng=0)([1.0, 2.0]).parents == ()
    assert nn.is_grad_enabled()


# ---------------------------------------------------------------------------
# Nested containers
# ---------------------------------------------------------------------------


class Nested(nn.Module):
    def __init__(self):
        self.C = [[Value(float(3 * i + k)) for k in range(3)] for i in range(4)]  # a table: list of lists
        self.pair = (Value(-1.0), [Value(-2.0)])
        self.heads = {"left": nn.Neuron(2, rng=0), "right": {"deep": nn.Neuron(2, rng=1)}}
        self.stages = [nn.Layer(2, 2, rng=2), [nn.Dropout(0.1)]]
        self.lookup = {0: "zero", 1: "one"}  # not parameters: int keys are fine here
        self.classes = {"a", "b"}  # a set without Values is just data
        self._cache = [Value(9.0)]  # private attributes are not parameters

    def forward(self, x):
        return self.heads["left"](x)


def test_parameters_in_nested_lists_tuples_and_dicts_are_found_and_named():
    model = Nested()
    names = [name for name, _ in model.named_parameters()]
    assert names[:12] == [f"C.{i}.{k}" for i in range(4) for k in range(3)]
    assert names[12:14] == ["pair.0", "pair.1.0"]
    assert names[14:17] == ["heads.left.w.0", "heads.left.w.1", "heads.left.b"]
    assert names[17:20] == ["heads.right.deep.w.0", "heads.right.deep.w.1", "heads.right.deep.b"]
    assert names[20:] == [f"stages.0.neurons.{n}.{p}" for n in range(2) for p in ("w.0", "w.1", "b")]
    assert model.num_parameters() == len(model.parameters()) == 12 + 2 + 3 + 3 + 6
    assert [p.data for p in model.parameters()[:12]] == [float(i) for i in range(12)]
    assert model.C[3][1] is dict(model.named_parameters())["C.3.1"]
    modules = [name for name, _ in model.named_modules()]
    assert modules[:4] == ["", "heads.left", "heads.right.deep", "stages.0"]
    assert "stages.1.0" in modules  # the Dropout inside a nested list
    model.eval()
    assert not model.stages[1][0].training and not model.heads["right"]["deep"].training


def test_nested_parameters_train_and_round_trip_through_state_dicts():
    model = Nested()
    state = model.state_dict()
    assert state["C.3.1"] == 10.0 and state["heads.right.deep.b"] == 0.0
    loss = sum((v * v for row in model.C for v in row), Value(0.0))
    loss.backward()
    assert model.C[2][1].grad == 2 * 7.0
    model.load_state_dict({k: 0.25 for k in state})
    assert model.C[0][0].data == 0.25 and model.heads["right"]["deep"].w[1].data == 0.25


def test_values_added_to_a_container_later_are_found():
    model = Nested()
    extra = Value(5.0)
    model.C.append([extra])
    model.heads["new"] = nn.Neuron(1, rng=0)
    named = dict(model.named_parameters())
    assert named["C.4.0"] is extra and "heads.new.w.0" in named


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({Value(1.0), Value(2.0)}, TypeError, "w is a set holding Values or Modules.*use a list"),
        ([frozenset([nn.Neuron(1)])], TypeError, "w.0 is a frozenset"),
        ({0: Value(1.0)}, TypeError, r"w\[0\] holds parameters.*non-empty string without dots"),
        ({"a.b": [Value(1.0)]}, TypeError, r"w\['a.b'\] holds parameters"),
        ({"": nn.Neuron(1)}, TypeError, r"w\[''\] holds parameters"),
        ([{"ok": {(1, 2): Value(1.0)}}], TypeError, r"w.0.ok\[\(1, 2\)\] holds parameters"),
    ],
)
def test_what_cannot_be_named_is_refused_at_assignment(value, error, message):
    class M(nn.Module):
        pass

    m = M()
    with pytest.raises(error, match=message):
        m.w = value
    assert not hasattr(m, "w")


def test_what_cannot_be_named_is_refused_later_too_never_skipped():
    model = Nested()
    model.C.append({Value(1.0)})  # mutated after the assignment check
    with pytest.raises(TypeError, match="C.4 is a set holding Values"):
        model.parameters()
    with pytest.raises(TypeError, match="C.4 is a set"):
        model.named_parameters()


def test_containers_that_hold_themselves_or_repeat_are_walked_once():
    class Loop(nn.Module):
        def __init__(self):
            self.items = [Value(1.0)]
            self.items.append(self.items)
            self.again = self.items
            self.me = self  # a module holding itself

        def forward(self, x):
            return x

    model = Loop()
    assert model.named_parameters() == [("items.0", model.items[0])]
    assert model.modules() == [model]
    assert model.eval() is model and not model.training
    assert repr(model).splitlines() == ["Loop(1 parameters)", "  (me): Loop(shown above)"]


# ---------------------------------------------------------------------------
# Deep models: every walk is a loop
# ---------------------------------------------------------------------------


class Box(nn.Module):
    def __init__(self, inner=None):
        self.v = Value(1.0)
        if inner is not None:
            self.inner = inner

    def forward(self, x):
        return x


def _deep(n: int) -> Box:
    model = Box()
    for _ in range(n - 1):
        model = Box(model)
    return model


def test_three_thousand_nested_modules_need_no_recursion():
    model = _deep(3000)
    assert len(model.modules()) == 3000
    names = [name for name, _ in model.named_modules()]
    assert names[1] == "inner" and names[-1] == ".".join(["inner"] * 2999)
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    with model.evaluating():
        assert not model.inner.training
    assert model.inner.training
    assert model.num_parameters() == 3000 and len(model.state_dict()) == 3000
    text = repr(model).splitlines()
    assert len(text) == 3000
    assert text[0] == "Box(3000 parameters)" and text[1] == "  (inner): Box(2999 parameters)"
    assert text[-1] == "  " * 2999 + "(inner): Box(1 parameters)"


def test_deeply_nested_lists_need_no_recursion():
    class Deep(nn.Module):
        pass

    m = Deep()
    table: list = [Value(1.0)]
    for _ in range(5000):
        table = [table]
    m.table = table
    (name, p), = m.named_parameters()
    assert name == "table" + ".0" * 5001 and p.data == 1.0


def test_deepcopy_and_pickle_keep_working():
    model = Nested()
    model.mlp = nn.MLP(2, [3, 1], dropout=0.5)  # dropout drawing from the global random module
    model.emb = nn.Embedding(5, 2, rng=0)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert clone.state_dict() == model.state_dict()
        assert [n for n, _ in clone.named_parameters()] == [n for n, _ in model.named_parameters()]
        clone.C[0][0].data = 99.0
        assert model.C[0][0].data == 0.0  # independent copies
        clone.eval()
        model.eval()
        assert clone.mlp([0.5, -1.0]).data == model.mlp([0.5, -1.0]).data
        assert clone.emb(3)[1].data == model.emb(3)[1].data


def test_the_module_files_import_each_other_one_way():
    """No cycles among the files that build modules; serialize.py needs none of them."""
    import ast
    from pathlib import Path

    folder = Path(nn.__file__).parent
    files = ["module", "layers", "serialize", "perceptron", "activations", "init", "bridge", "checks", "_install_check"]
    imports = {}
    for name in files:
        tree = ast.parse((folder / f"{name}.py").read_text())
        found = set()
        for node in tree.body:  # top-level imports only: what runs when the file is imported
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found |= {node.module} if node.module else {alias.name for alias in node.names}
        imports[name] = found & set(files)
    assert imports["serialize"] <= {"checks"}
    assert imports["module"] <= {"serialize", "checks"}
    order = []
    while len(order) < len(files):  # a topological order exists only without cycles
        ready = [f for f in files if f not in order and imports[f] <= set(order)]
        assert ready, f"an import cycle among {sorted(set(files) - set(order))}"
        order += ready
