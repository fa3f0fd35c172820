"""The road to PyTorch: turn an ``MLP`` into a ``torch.nn.Sequential`` and back.

Each of our layers becomes a ``torch.nn.Linear`` (neuron i's weights are row i
of ``weight``, its bias is ``bias[i]``) followed by the layer's activation::

    MLP(2, [16, 16, 1])  <->  Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1))

With ``MLP(..., dropout=p)`` a ``Dropout(p)`` follows each hidden activation.

The torch modules use float64 by default, the precision of a Python float, so
both models compute the same numbers (to about 1e-12); ``dtype=torch.float32``
gives the float32 model most PyTorch code expects.

Activations travel by name through ``nn.activations.TORCH_MODULES``:
``leaky_relu`` has slope 0.01 and ``elu`` has alpha 1.0 on both sides (the
defaults of ``Value.leaky_relu``/``Value.elu`` and of torch). An activation
registered with ``nn.register_activation(name, fn, torch_module=...)``
travels too; any other custom function cannot be converted.
"""

from __future__ import annotations

from typing import Any

from .activations import TORCH_MODULES
from .checks import show
from .layers import MLP

__all__ = ["to_torch", "from_torch"]


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:
        raise ImportError("converting to and from PyTorch needs torch; install it with pip install 'chainrule[torch]'") from err
    return torch


def to_torch(model: MLP, dtype: Any = None) -> Any:
    """An ``MLP`` as a ``torch.nn.Sequential`` of ``Linear`` and activation layers, same weights.

    ``dtype`` is a floating torch dtype, float64 by default (then
    ``torch_model(torch.tensor([x], dtype=torch.float64))`` equals ``model(x)``
    to about 1e-12; with ``torch.float32`` to about 1e-6, and plain
    ``torch.tensor(X)`` inputs work). In eval mode when the MLP has dropout:
    ``MLP(..., dropout=p)`` gets a ``Dropout(p)`` after each hidden layer, and the
    Sequential starts in the model's training or eval mode.
    """
    torch = _torch()
    dtype = torch.float64 if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"to_torch(model, dtype): dtype is a floating torch dtype such as torch.float32, got {show(dtype)}")
    layers = getattr(model, "layers", None)
    if not isinstance(model, MLP) or not layers:
        raise TypeError(f"to_torch() converts an nn.MLP, got {type(model).__name__}")
    modules = []
    for index, layer in enumerate(layers):
        neurons = layer.neurons
        linear = torch.nn.Linear(len(neurons[0].w), len(neurons), dtype=dtype)
        with torch.no_grad():  # copied at full precision, then rounded once to dtype
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in neurons], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=torch.float64))
        modules.append(linear)
        names = {n.activation for n in neurons}
        if len(names) != 1:
            raise ValueError(f"to_torch(): layer {index} mixes activations {sorted(names)}; a torch layer has one")
        (name,) = names
        if name not in TORCH_MODULES or not all(n.registered for n in neurons):
            raise ValueError(
                f"to_torch(): layer {index} uses the activation {name!r}, which has no torch module here; "
                f"use one of {', '.join(TORCH_MODULES)}, or register it with "
                f"nn.register_activation({name!r}, fn, torch_module=...) naming the torch module that computes it"
            )
        if name != "identity":  # a linear layer needs no activation module
            modules.append(TORCH_MODULES[name]())
        if model.dropout is not None and index < len(layers) - 1:
            modules.append(torch.nn.Dropout(model.dropout.p))
    return torch.nn.Sequential(*modules).train(model.training)


def from_torch(module: Any) -> MLP:
    """A ``torch.nn.Sequential`` of ``Linear`` and activation layers as an ``MLP``, same weights.

    Supported activations: ``Identity``, ``ReLU``, ``Tanh``, ``Sigmoid``,
    ``LeakyReLU(0.01)``, ``ELU(1.0)``, ``Softplus()``, and the torch module of
    any activation registered with one (``nn.register_activation``). Every hidden layer must
    use the same activation (as in ``MLP``), and a ``Dropout`` must follow
    every hidden layer with the same ``p`` or none. The model keeps the
    module's training or eval mode.
    """
    torch = _torch()
    if isinstance(module, torch.nn.Linear):
        children = [module]
    elif isinstance(module, torch.nn.Sequential):
        children = list(module)
    else:
        raise ValueError(f"from_torch() converts a torch.nn.Sequential of Linear and activation layers, got {type(module).__name__}")

    # group into (Linear, activation name) pairs; note where Dropout layers sit
    pairs: list[tuple[Any, str]] = []
    dropouts: dict[int, float] = {}  # index of the Linear it follows -> p
    for position, child in enumerate(children):
        if isinstance(child, torch.nn.Linear):
            pairs.append((child, "identity"))
            continue
        if type(child) is torch.nn.Dropout:
            if not pairs or len(pairs) - 1 in dropouts:
                raise ValueError(f"from_torch(): layer {position} ({child}) must follow a hidden layer, one Dropout per layer")
            dropouts[len(pairs) - 1] = float(child.p)
            continue
        name = _our_name(torch, child, position)
        if not pairs:
            raise ValueError(f"from_torch(): layer {position} ({child}) comes before any Linear layer; an MLP starts with a Linear")
        linear, current = pairs[-1]
        if name == "identity":
            continue
        if len(pairs) - 1 in dropouts:
            raise ValueError(f"from_torch(): layer {position} ({child}) comes after a Dropout; in an MLP dropout follows the activation")
        if current != "identity":
            raise ValueError(f"from_torch(): two activations in a row after one Linear ({current} then {child}); an MLP neuron has one")
        pairs[-1] = (linear, name)
    if not pairs:
        raise ValueError("from_torch(): the module holds no Linear layer")

    sizes = [pairs[0][0].in_features]
    for position, (linear, _) in enumerate(pairs):
        if linear.in_features != sizes[-1]:
            raise ValueError(
                f"from_torch(): Linear layer {position} takes {linear.in_features} inputs but the layer before it "
                f"gives {sizes[-1]}"
            )
        sizes.append(linear.out_features)
    hidden = {name for _, name in pairs[:-1]}
    if len(hidden) > 1:
        raise ValueError(f"from_torch(): an MLP uses one activation for all hidden layers, got {sorted(hidden)}")
    activation = hidden.pop() if hidden else "relu"
    dropout = _dropout_of(dropouts, len(pairs))

    model = MLP(sizes[0], sizes[1:], activation=activation, output_activation=pairs[-1][1], init="zeros", dropout=dropout)
    model.train(module.training)
    for layer, (linear, _) in zip(model.layers, pairs, strict=True):
        weight = linear.weight.detach().to(torch.float64).tolist()
        bias = linear.bias.detach().to(torch.float64).tolist() if linear.bias is not None else [0.0] * len(weight)
        for neuron, row, b in zip(layer.neurons, weight, bias, strict=True):
            for w, number in zip(neuron.w, row, strict=True):
                w.data = number
            neuron.b.data = b
    return model


def _dropout_of(dropouts: dict[int, float], n_layers: int) -> float:
    """The one dropout probability of an MLP: after every hidden layer, or nowhere."""
    if not dropouts or set(dropouts.values()) == {0.0}:
        return 0.0
    if n_layers - 1 in dropouts:
        raise ValueError("from_torch(): a Dropout after the output layer has no place in an MLP (it drops hidden outputs only)")
    if sorted(dropouts) != list(range(n_layers - 1)) or len(set(dropouts.values())) != 1:
        raise ValueError(
            f"from_torch(): an MLP has the same Dropout after every hidden layer; got {dropouts} "
            f"(Linear index -> p) for {n_layers - 1} hidden layers"
        )
    return next(iter(dropouts.values()))


def _our_name(torch: Any, child: Any, position: int) -> str:
    """The activation name whose torch module ``child`` is (same class, same settings), or a ValueError saying why not."""
    near = []
    for name, build in TORCH_MODULES.items():
        twin = build()
        if type(child) is type(twin):
            if repr(child) == repr(twin):  # repr shows the settings, e.g. LeakyReLU(negative_slope=0.01)
                return name
            near.append(f"{twin} for {name}")
    if near:
        raise ValueError(
            f"from_torch(): layer {position} is {child}; only these settings match nn's activations: {', '.join(near)}"
        )
    supported = ", ".join(type(build()).__name__ for build in TORCH_MODULES.values())
    raise ValueError(
        f"from_torch(): layer {position} is {child}, which an MLP cannot hold; "
        f"supported layers are Linear, {supported} and Dropout"
    )
