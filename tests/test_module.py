"""nn.module: the Module base class (finding parameters, modes, state dicts, printing)."""

import json

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
