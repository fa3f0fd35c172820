"""The module view: nn.draw_model draws one node per neuron."""

from __future__ import annotations

import math
import re

import pytest
from helpers import close, needs_dot

import nn
from autograd import Value


def group_labels(source: str) -> dict[str, str]:
    """Group node id -> its title (the text before the data and grad fields)."""
    found = re.findall(r'^\t(g\d+) \[label="(.*?) \| \{ data', source, flags=re.MULTILINE)
    return {gid: title.split("\\n")[0] for gid, title in found}


def group_grad(source: str, title: str) -> float:
    """The grad shown in the node titled ``title``."""
    (found,) = re.findall(rf'label="{re.escape(title)}\\n[^"]*\| grad (\S+) \}}"', source)
    return float(found)


def test_one_node_per_neuron_with_real_gradients():
    model = nn.MLP(2, [3, 2, 1], activation="tanh", rng=0)
    g = nn.draw_model(model, [0.5, -1.0])
    source = g.source
    assert sorted(group_labels(source).values()) == sorted(
        [f"layer 0, neuron {j}" for j in range(3)]
        + [f"layer 1, neuron {j}" for j in range(2)]
        + ["layer 2 (output), neuron 0"]
    )
    # weights are hidden inside their neurons: no record for w0/b appears
    assert "w0 |" not in source and "{ b |" not in source
    # the gradients shown are those of the output with respect to each input
    x = [Value(0.5), Value(-1.0)]
    out = model(x)
    for p in model.parameters():
        p.grad = 0.0
    out.backward()
    assert f"grad {x[0].grad:.4g}" in source and f"grad {x[1].grad:.4g}" in source
    assert g.value_count == 2 + 3 + 2 + 1  # two inputs, one node per neuron


def test_numbering_follows_named_parameters():
    model = nn.MLP(2, [3, 2, 1], rng=0)
    titles = set(group_labels(nn.draw_model(model, [0.5, -1.0]).source).values())
    for name, _ in model.named_parameters():  # layers.<i>.neurons.<j>.w.<k> or .b
        _, i, _, j, *_ = name.split(".")
        assert f"layer {i}, neuron {j}" in titles or f"layer {i} (output), neuron {j}" in titles
    layer = nn.Layer(2, 3, rng=0)
    assert sorted(group_labels(nn.draw_model(layer, [1.0, 2.0]).source).values()) == [
        "neuron 0",
        "neuron 1",
        "neuron 2",
    ]
    assert [n for n, _ in layer.named_parameters()][:3] == ["neurons.0.w.0", "neurons.0.w.1", "neurons.0.b"]
    neuron = nn.Neuron(2, rng=0)
    assert list(group_labels(nn.draw_model(neuron, [1.0, 2.0]).source).values()) == ["neuron"]


def test_multiple_outputs_are_summed_for_the_picture():
    model = nn.MLP(2, [2, 3], rng=1)
    source = nn.draw_model(model, [1.0, 2.0], backward=False).source
    assert "sum of outputs" in source and source.count("(output), neuron") == 3


def test_gradients_of_a_loss_for_one_target():
    model = nn.MLP(2, [3, 1], activation="tanh", rng=0)
    source = nn.draw_model(model, [0.5, -1.0], target=1.0, loss="mse").source
    y = model([0.5, -1.0]).data
    assert f"{{ loss | data {(y - 1.0) ** 2:.4g} | grad 1 }}" in source
    # d/dy (y - t)^2 = 2 (y - t): what the output neuron shows
    assert close(group_grad(source, "layer 1 (output), neuron 0"), float(f"{2 * (y - 1.0):.4g}"))
    by_function = nn.draw_model(model, [0.5, -1.0], target=1.0, loss=nn.mse_loss).source
    assert by_function == source


def test_cross_entropy_gradients_are_softmax_minus_one_hot():
    model = nn.MLP(2, [4, 3], activation="tanh", rng=2)
    source = nn.draw_model(model, [0.3, 0.8], target=2, loss="cross_entropy").source
    logits = [v.data for v in model([0.3, 0.8])]
    total = sum(math.exp(z) for z in logits)
    for j, z in enumerate(logits):
        expected = math.exp(z) / total - (1.0 if j == 2 else 0.0)
        assert close(group_grad(source, f"layer 1 (output), neuron {j}"), float(f"{expected:.4g}"))
    assert "{ loss | data" in source and "sum of outputs" not in source


def test_drawing_a_loss_leaves_the_training_gradients_alone():
    model = nn.MLP(2, [3, 1], rng=2)
    loss = (model([0.3, 0.7]) - 1.0) ** 2
    loss.backward()
    before = [p.grad for p in model.parameters()]
    nn.draw_model(model, [1.0, -1.0], target=0.0, loss="mse")
    assert [p.grad for p in model.parameters()] == before


def test_target_and_loss_come_together():
    model = nn.MLP(2, [1], rng=0)
    with pytest.raises(TypeError, match="pass both target= and loss="):
        nn.draw_model(model, [1.0, 2.0], target=1.0)
    with pytest.raises(TypeError, match="pass both target= and loss="):
        nn.draw_model(model, [1.0, 2.0], loss="mse")
    with pytest.raises(ValueError, match="unknown loss 'squared'"):
        nn.draw_model(model, [1.0, 2.0], target=1.0, loss="squared")
    with pytest.raises(TypeError, match="loss must return a Value, got float 0.5"):
        nn.draw_model(model, [1.0, 2.0], target=1.0, loss=lambda outputs, targets: 0.5)


def test_draw_model_checks_its_input():
    with pytest.raises(ValueError, match="takes 2 inputs"):
        nn.draw_model(nn.MLP(2, [1], rng=0), [1.0])
    with pytest.raises(TypeError, match="got str"):
        nn.draw_model("model", [1.0])


def test_drawing_leaves_the_training_gradients_alone():
    model = nn.MLP(2, [3, 1], rng=2)
    loss = (model([0.3, 0.7]) - 1.0) ** 2
    loss.backward()
    before = [p.grad for p in model.parameters()]
    nn.draw_model(model, [1.0, -1.0])
    assert [p.grad for p in model.parameters()] == before


def layout_order(drawing) -> list[str]:
    """Node ids of the inputs and neurons, column by column, each column top to bottom."""
    places = {}
    for line in drawing.pipe(format="plain", encoding="utf-8").splitlines():
        node, name, x, y, *_ = line.split() + [""] * 4
        if node == "node" and (name.startswith("g") or name in ("v0", "v1")):
            places[name] = (round(float(x), 1), -float(y))
    return sorted(places, key=places.get)


@needs_dot
@pytest.mark.parametrize("sizes", [[8, 1], [6, 5, 3], [4, 4, 4, 2]])
def test_neurons_of_a_layer_are_laid_out_in_order(sizes):
    model = nn.MLP(2, sizes, activation="tanh", rng=0)
    drawing = nn.draw_model(model, [0.5, -1.0])
    assert layout_order(drawing) == ["v0", "v1"] + [f"g{k}" for k in range(sum(sizes))]
    titles = group_labels(drawing.source)
    assert titles["g0"] == "layer 0, neuron 0" and titles[f"g{sizes[0]}"].startswith("layer 1")
