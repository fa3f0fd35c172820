"""The road to PyTorch: turn an ``MLP`` into a ``torch.nn.Sequential`` and back.

Each of our layers becomes a ``torch.nn.Linear`` (neuron i's weights are row i
of ``weight``, its bias is ``bias[i]``) followed by the layer's activation::

    MLP(2, [16, 16, 1])  <->  Sequential(Linear(2, 16), ReLU(), Linear(16, 16), ReLU(), Linear(16, 1))

With ``MLP(..., dropout=p)`` a ``Dropout(p)`` follows each hidden activation.

The torch modules use float64, the precision of a Python float, so both
models compute the same numbers (to about 1e-12).

Activations travel by name: ``leaky_relu`` has slope 0.01 and ``elu`` has
alpha 1.0 on both sides (the defaults of ``Value.leaky_relu``/``Value.elu`` and
of torch). A neuron with a custom activation function cannot be converted.
"""

from __future__ import annotations

from typing import Any

from .module import MLP

__all__ = ["to_torch", "from_torch"]

# our activation name -> torch.nn class name (and constructor arguments)
_TO_TORCH: dict[str, tuple[str, dict[str, float]]] = {
    "identity": ("Identity", {}),
    "relu": ("ReLU", {}),
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "leaky_relu": ("LeakyReLU", {"negative_slope": 0.01}),
    "elu": ("ELU", {"alpha": 1.0}),
    "softplus": ("Softplus", {"beta": 1.0, "threshold": 20.0}),
}


def _torch() -> Any:
    try:
        import torch
    except ImportError as err:
        raise ImportError("converting to and from PyTorch needs torch; install it with pip install 'chainrule[torch]'") from err
    return torch


def to_torch(model: MLP) -> Any:
    """An ``MLP`` as a float64 ``torch.nn.Sequential`` of ``Linear`` and activation layers, same weights.

    ``torch_model(torch.tensor([x], dtype=torch.float64))`` then equals ``model(x)``
    (in eval mode, when the MLP has dropout). ``MLP(..., dropout=p)`` gets a
    ``Dropout(p)`` after each hidden layer; the Sequential starts in the
    model's training or eval mode.
    """
    torch = _torch()
    layers = getattr(model, "layers", None)
    if not isinstance(model, MLP) or not layers:
        raise TypeError(f"to_torch() converts an nn.MLP, got {type(model).__name__}")
    modules = []
    for index, layer in enumerate(layers):
        neurons = layer.neurons
        linear = torch.nn.Linear(len(neurons[0].w), len(neurons), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in neurons], dtype=torch.float64))
            linear.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=torch.float64))
        modules.append(linear)
        names = {n.activation for n in neurons}
        if len(names) != 1:
            raise ValueError(f"to_torch(): layer {index} mixes activations {sorted(names)}; a torch layer has one")
        (name,) = names
        if name not in _TO_TORCH:
            raise ValueError(
                f"to_torch(): layer {index} uses the activation {name!r}, which has no torch module here; "
                f"use one of {', '.join(_TO_TORCH)}"
            )
        if name != "identity":  # a linear layer needs no activation module
            cls, kwargs = _TO_TORCH[name]
            modules.append(getattr(torch.nn, cls)(**kwargs))
        if model.dropout is not None and index < len(layers) - 1:
            modules.append(torch.nn.Dropout(model.dropout.p))
    return torch.nn.Sequential(*modules).train(model.training)


def from_torch(module: Any) -> MLP:
    """A ``torch.nn.Sequential`` of ``Linear`` and activation layers as an ``MLP``, same weights.

    Supported activations: ``Identity``, ``ReLU``, ``Tanh``, ``Sigmoid``,
    ``LeakyReLU(0.01)``, ``ELU(1.0)``, ``Softplus()``. Every hidden layer must
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
        name = _activation_name(torch, child, position)
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


def _activation_name(torch: Any, child: Any, position: int) -> str:
    """Our name for a torch activation module, or a ValueError saying why not."""
    nn = torch.nn
    simple = {nn.Identity: "identity", nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
    for cls, name in simple.items():
        if type(child) is cls:
            return name
    if type(child) is nn.LeakyReLU and child.negative_slope == 0.01:
        return "leaky_relu"
    if type(child) is nn.ELU and child.alpha == 1.0:
        return "elu"
    if type(child) is nn.Softplus and child.beta == 1.0 and child.threshold == 20.0:
        return "softplus"
    if type(child) in (nn.LeakyReLU, nn.ELU, nn.Softplus):
        raise ValueError(
            f"from_torch(): layer {position} is {child}; only the default settings "
            "LeakyReLU(0.01), ELU(1.0) and Softplus() match nn's activations"
        )
    raise ValueError(
        f"from_torch(): layer {position} is {child}, which an MLP cannot hold; "
        "supported layers are Linear, Identity, ReLU, Tanh, Sigmoid, LeakyReLU, ELU, Softplus and Dropout"
    )
