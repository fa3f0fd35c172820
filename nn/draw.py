"""The module view: an MLP's computation graph with one node per neuron."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import autograd
from autograd import Group, Value, draw_dot

from .checks import show
from .layers import MLP, Layer, Neuron
from .losses import loss_function

__all__ = ["draw_model"]


def draw_model(
    model: MLP | Layer | Neuron,
    x: Sequence[float | Value],
    backward: bool = True,
    *,
    target: Any = None,
    loss: str | Callable[..., Value] | None = None,
    **draw_kwargs: Any,
) -> Any:
    """Draw ``model`` applied to one input ``x``, each neuron collapsed to one node.

    Every neuron ``act(w . x + b)`` becomes a single node showing its output
    and gradient; its weights, bias and inner operations are hidden in it.
    Layers and neurons count from 0, as ``model.named_parameters()`` does:
    "layer 0, neuron 2" is the neuron whose parameters are named
    ``layers.0.neurons.2.*``. The neurons of a layer are drawn in order.

    The gradients (``backward=True``, the default): given ``target`` and
    ``loss`` (a name as ``fit`` takes, e.g. ``"mse"`` or ``"cross_entropy"``,
    or a function ``loss(outputs, targets)``), the graph ends in this
    sample's loss, ``loss([output], [target])``, and shows the gradients
    training uses; without them it ends in the output (the sum of the
    outputs if there are several) and shows how much each neuron moves it.
    The parameters' own ``grad`` values are left as they were.
    ``backward=False`` draws the forward pass only. Other keyword arguments
    go to ``autograd.draw_dot`` (``color_grad=True`` colours neurons by
    |grad|). The model is drawn as it predicts, so dropout is off.

    >>> draw_model(nn.MLP(2, [3, 1], rng=0), [0.5, -1.0], target=1.0, loss="mse")   # doctest: +SKIP
    """
    layers = _neuron_layers(model)
    inputs = _inputs(x, len(layers[0][0].w))
    groups = []
    for i, neurons in enumerate(layers):  # the forward pass, one neuron at a time
        outputs = []
        for j, neuron in enumerate(neurons):
            out = neuron(inputs)
            groups.append(Group.from_inputs(_title(model, i, j, neuron), out, inputs))
            outputs.append(out)
        inputs = outputs
    root = _root(inputs, target, loss)
    draw_kwargs.setdefault("title", repr(model))
    if backward:
        drawing = _draw_with_gradients(model, root, groups, draw_kwargs)
    else:
        drawing = draw_dot(root, groups=groups, **draw_kwargs)
    # Each node's edges keep the order they were added in, so the neurons of
    # a layer are laid out in order (Graphviz would otherwise shuffle them).
    drawing.attr(ordering="out")
    return drawing


def _draw_with_gradients(model: Any, root: Value, groups: list[Group], draw_kwargs: dict[str, Any]) -> Any:
    """Draw d(root)/d(everything), then put the parameters' gradients back, so
    drawing between loss.backward() and optimizer.step() changes nothing."""
    params = model.parameters()
    saved = [p.grad for p in params]
    for p in params:
        p.grad = 0.0
    try:
        root.backward()
        return draw_dot(root, groups=groups, **draw_kwargs)
    finally:
        for p, grad in zip(params, saved, strict=True):
            p.grad = grad


def _neuron_layers(model: Any) -> list[list[Neuron]]:
    if isinstance(model, Neuron):
        return [[model]]
    if isinstance(model, Layer):
        return [model.neurons]
    if isinstance(model, MLP):
        return [layer.neurons for layer in model.layers]
    raise TypeError(f"draw_model() draws an MLP, a Layer or a Neuron, got {type(model).__name__}")


def _inputs(x: Any, nin: int) -> list[Value]:
    if isinstance(x, (Value, int, float)):
        x = [x]
    inputs = [v if isinstance(v, Value) else Value(v, label=f"x{i}") for i, v in enumerate(x)]
    if len(inputs) != nin:
        raise ValueError(f"the model takes {nin} inputs, got {len(inputs)}")
    return inputs


def _title(model: Any, i: int, j: int, neuron: Neuron) -> str:
    """A neuron's title, numbered as in ``model.named_parameters()``, and what it computes."""
    if isinstance(model, MLP):
        last = " (output)" if i == len(model.layers) - 1 else ""
        name = f"layer {i}{last}, neuron {j}"
    else:
        name = "neuron" if isinstance(model, Neuron) else f"neuron {j}"
    return f"{name}\n{neuron.activation}({len(neuron.w)} weights . x + b)"


def _root(outputs: list[Value], target: Any, loss: str | Callable[..., Value] | None) -> Value:
    """The Value the drawing ends in: the loss for ``target``, or the output(s)."""
    if (target is None) != (loss is None):
        raise TypeError(
            "draw_model(): to draw the gradients of a loss pass both target= and loss= "
            "(e.g. target=1.0, loss='mse'); pass neither to draw the gradients of the output"
        )
    output: Value | list[Value] = outputs[0] if len(outputs) == 1 else outputs
    if loss is not None:
        root = loss_function(loss)([output], [target])
        if not isinstance(root, Value):
            raise TypeError(f"draw_model(): loss must return a Value, got {show(root)}")
        root.label = "loss"
        return root
    if isinstance(output, Value):
        return output
    root = autograd.sum(outputs)
    root.label = "sum of outputs"
    return root
