"""The module view: an MLP's computation graph with one node per neuron."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import autograd
from autograd import Group, Value, draw_dot

from .module import MLP, Layer, Neuron

__all__ = ["draw_model"]


def draw_model(model: MLP | Layer | Neuron, x: Sequence[float | Value], backward: bool = True, **draw_kwargs: Any) -> Any:
    """Draw ``model`` applied to one input ``x``, each neuron collapsed to one node.

    Every neuron ``act(w . x + b)`` becomes a single node showing its output
    and gradient; its weights, bias and inner operations are summarised in
    the node's title. With ``backward=True`` (the default) the output's
    gradients are computed first, so the picture shows how much each neuron
    affects the output; the parameters' own ``grad`` values are left as they
    were. Keyword arguments go to ``autograd.draw_dot``
    (``color_grad=True`` colours neurons by |grad|).

    >>> draw_model(nn.MLP(2, [3, 1], rng=0), [0.5, -1.0])   # doctest: +SKIP
    """
    if isinstance(model, Neuron):
        layers = [[model]]
    elif isinstance(model, Layer):
        layers = [model.neurons]
    elif isinstance(model, MLP):
        layers = [layer.neurons for layer in model.layers]
    else:
        raise TypeError(f"draw_model() draws an MLP, a Layer or a Neuron, got {type(model).__name__}")
    if isinstance(x, (Value, int, float)):
        x = [x]
    inputs = [v if isinstance(v, Value) else Value(v, label=f"x{i}") for i, v in enumerate(x)]
    if len(inputs) != len(layers[0][0].w):
        raise ValueError(f"the model takes {len(layers[0][0].w)} inputs, got {len(inputs)}")

    groups = []
    for i, neurons in enumerate(layers):
        outputs = []
        for j, neuron in enumerate(neurons):
            out = neuron(inputs)
            name = "output" if i == len(layers) - 1 else f"layer {i + 1}"
            title = f"{name}, neuron {j + 1}\n{neuron.activation}({len(neuron.w)} weights . x + b)"
            groups.append(Group.from_inputs(title, out, inputs))
            outputs.append(out)
        inputs = outputs
    if len(inputs) == 1:
        root = inputs[0]
    else:
        root = autograd.sum(inputs)
        root.label = "sum of outputs"
    draw_kwargs.setdefault("title", repr(model))
    if not backward:
        return draw_dot(root, groups=groups, **draw_kwargs)
    # Show d(output)/d(everything), then put the parameters' gradients back, so
    # drawing between loss.backward() and optimizer.step() changes nothing.
    params = model.parameters()
    saved = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    try:
        root.backward()
        return draw_dot(root, groups=groups, **draw_kwargs)
    finally:
        for p, grad in zip(params, saved):
            p.grad = grad
