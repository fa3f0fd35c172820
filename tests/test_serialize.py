"""nn.serialize: saving and loading models as JSON, safely."""

import json
import os
import random

import pytest

import nn


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
        (b'{"format": "chainrule-model", "version": 1, "type": "Neuron", "config": {"nin": 1}, "state_dict": {"w.0": 1}}', "2 parameters but the file stores 1 weight"),
        (b'{"format": "chainrule-model", "version": 1, "type": "Neuron", "config": {"nin": 1}, "state_dict": {"w.0": 1, "c": 2}}', "missing keys \\['b'\\]"),
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


class Net(nn.Module):
    def __init__(self):
        self.hidden = nn.Layer(2, 3, rng=0)

    def forward(self, x):
        return self.hidden(x)


def test_unsaveable_modules_say_why(tmp_path):
    with pytest.raises(ValueError, match="Net cannot be saved.*state_dict"):
        Net().save(tmp_path / "net.json")
    with pytest.raises(ValueError, match="custom activation function '<lambda>'"):
        nn.MLP(2, [3, 1], activation=lambda v: v).save(tmp_path / "m.json")
    assert not os.listdir(tmp_path)
