"""The module view: nn.draw_model draws one node per neuron."""

from __future__ import annotations

import pytest

import nn
from autograd import Value


def test_one_node_per_neuron_with_real_gradients():
    model = nn.MLP(2, [3, 2, 1], activation="tanh", rng=0)
    g = nn.draw_model(model, [0.5, -1.0])
    source = g.source
    for layer, width in ((1, 3), (2, 2)):
        for j in range(1, width + 1):
            assert f"layer {layer}, neuron {j}" in source
    assert "output, neuron 1" in source
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


def test_multiple_outputs_are_summed_for_the_picture():
    model = nn.MLP(2, [2, 3], rng=1)
    source = nn.draw_model(model, [1.0, 2.0], backward=False).source
    assert "sum of outputs" in source and source.count("output, neuron") == 3


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
