"""Modules: neurons, layers and multi-layer perceptrons built from Values.

A ``Module`` finds its parameters by looking at its attributes, as PyTorch's
``nn.Module`` does: a Value attribute is a parameter, a Module attribute is a
submodule, and lists of either count too. So ``Neuron.w`` (a list of Values)
and ``Neuron.b`` give the names ``w.0, w.1, ..., b``, and an MLP's parameters
are called ``layers.0.neurons.3.w.1``.

Defaults follow micrograd: weights start uniform in [-1, 1] drawn from
Python's global ``random`` (so ``random.seed(1337)`` reproduces micrograd's
models exactly), biases start at 0, hidden layers use ReLU and the output
layer is linear. Pass ``rng=`` a seed for a model that does not depend on the
global random state, and ``init=`` for LeCun, Glorot or He initialisation.
"""

from __future__ import annotations

import json
import numbers
import os
import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import ModuleType
from typing import Any, TypeVar

from autograd import Value, dot, make_op, no_grad

from .activations import ACTIVATIONS, Activation, get_activation
from .init import Initializer, RandomSource, as_rng, get_init

__all__ = ["Module", "Neuron", "Layer", "MLP", "Dropout", "FORMAT", "FORMAT_VERSION"]

FORMAT = "chainrule-model"  # marker written into every saved model
FORMAT_VERSION = 1

M = TypeVar("M", bound="Module")
Input = Sequence[Value | float]

# Built-in activations called straight as Value methods (one call less per neuron).
_METHODS: dict[str, Activation] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,
    "elu": Value.elu,
    "softplus": Value.softplus,
}


class Module:
    """Base class of everything with parameters, as ``torch.nn.Module``.

    Subclasses create Values, Modules (or lists of them) as attributes and
    define ``forward``; calling the module calls ``forward``.
    """

    training: bool = True

    # ---- the forward pass ---------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, x)")

    # ---- finding parameters and submodules ---------------------------------
    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, item) for every public Value or Module attribute, lists expanded."""
        for name, item in vars(self).items():
            if name.startswith("_"):
                continue
            if isinstance(item, (Value, Module)):
                yield name, item
            elif isinstance(item, (list, tuple)):
                for i, element in enumerate(item):
                    if isinstance(element, (Value, Module)):
                        yield f"{name}.{i}", element

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule, with dotted names ("" is the module itself)."""
        yield prefix, self
        for name, item in self._members():
            if isinstance(item, Module):
                yield from item.named_modules(f"{prefix}{name}.")

    def modules(self) -> list[Module]:
        """This module and all its submodules."""
        return [m for _, m in self.named_modules()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, Value) for every parameter, each once, e.g. ``("layers.0.neurons.3.w.1", w)``."""
        seen: set[int] = set()
        named = []
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:  # depth first, attributes in the order they were set
            prefix, module = stack.pop()
            children = []
            for name, item in module._members():
                if isinstance(item, Module):
                    children.append((f"{prefix}{name}.", item))
                elif id(item) not in seen:
                    seen.add(id(item))
                    named.append((prefix + name, item))
            stack.extend(reversed(children))  # a module's own parameters, then its submodules'

        return named

    def parameters(self) -> list[Value]:
        """Every parameter (weights and biases) once, in a stable order."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0 (before the next ``backward()``)."""
        for p in self.parameters():
            p.grad = 0.0

    # ---- training and evaluation mode ---------------------------------------
    def train(self: M, mode: bool = True) -> M:
        """Training mode (dropout active) for this module and all submodules; returns self."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self: M) -> M:
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    @contextmanager
    def evaluating(self) -> Iterator[None]:
        """Predict without side effects: eval mode and ``no_grad`` inside, the previous mode restored after.

        >>> with model.evaluating():
        ...     scores = [model(x) for x in X]     # deterministic, no graph recorded
        """
        modes = [(m, m.training) for m in self.modules()]
        self.eval()
        try:
            with no_grad():
                yield
        finally:
            for module, mode in modes:
                module.training = mode

    # ---- state dicts ----------------------------------------------------------
    def state_dict(self) -> dict[str, float]:
        """{name: number} for every parameter, in ``named_parameters()`` order; JSON-safe."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Copy numbers from ``state`` into the parameters.

        Every key must name a parameter and every parameter must have a key
        holding a real number. Anything else raises ``ValueError`` and the
        model is left exactly as it was: everything is checked before
        anything is assigned.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict() takes a dict {{name: number}}, got {type(state).__name__}")
        params = self.named_parameters()
        names = {name for name, _ in params}
        missing = [name for name, _ in params if name not in state]
        extra = [str(key) for key in state if key not in names]
        problems = []
        if missing:
            problems.append(f"missing keys {missing}")
        if extra:
            problems.append(f"unexpected keys {extra}")
        bad = [
            f"{name!r} holds {type(state[name]).__name__} {state[name]!r}"
            for name, _ in params
            if name in state and not _is_number(state[name])
        ]
        if bad:
            problems.append("expected one number per parameter, but " + "; ".join(bad))
        if problems:
            raise ValueError(
                f"state dict does not fit {type(self).__name__} ({len(params)} parameters): "
                + "; ".join(problems)
                + ". Nothing was changed."
            )
        for name, p in params:
            p.data = float(state[name])

    # ---- saving and loading -----------------------------------------------
    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module (saved by ``save``)."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot be saved with save(): it defines no config(). "
            "Save its weights with json.dump(model.state_dict(), file) and rebuild it in code, "
            "or give the class config() returning its constructor arguments."
        )

    @classmethod
    def from_config(cls: type[M], config: Mapping[str, Any]) -> M:
        """Build the module described by ``config()`` (weights start at zero)."""
        return cls(**config, init="zeros")

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the architecture and the weights to ``path`` as JSON.

        The file is written to a temporary file next to ``path`` and then
        renamed over it, so a crash never leaves a half-written model.
        """
        try:
            config = self.config()
        except NotImplementedError as error:
            raise ValueError(str(error)) from None
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "type": type(self).__name__,
            "config": config,
            "state_dict": self.state_dict(),
        }
        text = json.dumps(document, indent=1)
        path = os.fspath(path)
        tmp = f"{path}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            with open(tmp, "x", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Module:
        """Rebuild a model written by ``save()``: ``model = Module.load("model.json")``.

        A file that is not a complete chainrule model raises ``ValueError``.
        """
        path = os.fspath(path)
        with open(path, "rb") as file:
            raw = file.read()
        where = f"{path!r} is not a chainrule model file"
        try:
            document = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{where}: it is not valid JSON, perhaps truncated or corrupt ({error})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"{where}: it has no \"format\": \"{FORMAT}\" marker")
        if document.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{path!r} has model format version {document.get('version')!r}; "
                f"this chainrule reads version {FORMAT_VERSION}"
            )
        kind, config, state = document.get("type"), document.get("config"), document.get("state_dict")
        if not isinstance(config, dict) or not isinstance(state, dict):
            raise ValueError(f"{where}: \"config\" and \"state_dict\" must both be JSON objects")
        known = _module_types()
        module_class = (known.get(kind) if isinstance(kind, str) else None) if cls is Module else cls
        if module_class is None or kind != module_class.__name__:
            wanted = "one of " + ", ".join(known) if cls is Module else cls.__name__
            raise ValueError(f"{path!r} holds a model of type {kind!r}, expected {wanted}")
        try:
            model = module_class.from_config(config)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: its config {config} cannot build a {kind} ({error})") from None
        try:
            model.load_state_dict(state)
        except ValueError as error:
            raise ValueError(f"{path!r}: the saved weights do not fit its architecture: {error}") from None
        return model

    # ---- printing -------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.num_parameters()} parameters)"]
        for name, item in self._members():
            if isinstance(item, Module):
                child = repr(item).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
        return "\n".join(lines)


def _is_number(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _check_size(n: object, what: str) -> int:
    if not isinstance(n, numbers.Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{what} must be a positive whole number, got {type(n).__name__} {n!r}")
    return int(n)


def _activation_name(activation: str | Activation | None) -> tuple[str, bool]:
    """(name to show and save, whether it is a built-in) for an activation name or function."""
    if activation is None:
        return "identity", True
    if isinstance(activation, str):
        get_activation(activation)  # raises a helpful error for unknown names
        name = activation.lower()
        return ("identity" if name == "linear" else name), True
    for name, fn in ACTIVATIONS.items():
        if fn is activation:
            return ("identity" if name == "linear" else name), True
    if not callable(activation):
        get_activation(activation)  # raises: not a name, not a function
    return getattr(activation, "__name__", type(activation).__name__), False


def _resolve_nonlin(activation: str | Activation | None, nonlin: bool | None) -> str | Activation | None:
    """micrograd's ``nonlin=True/False`` means ReLU or linear."""
    if nonlin is None:
        return activation
    if activation not in ("relu", None):
        raise ValueError(f"pass either activation= or micrograd's nonlin=, not both (got {activation!r} and {nonlin!r})")
    return "relu" if nonlin else "identity"


class Neuron(Module):
    """One neuron: out = activation(w · x + b).

    ``Neuron(nin)`` has ``nin`` weights ``w`` (drawn by ``init``) and a bias
    ``b = 0``. ``activation`` is a name (``"relu"``, ``"tanh"``, ...) or a
    function Value -> Value; micrograd's ``Neuron(nin, nonlin=False)`` makes
    it linear. ``fan_out`` (the width of the layer) is only used by
    initialisers such as Glorot's.
    """

    def __init__(
        self,
        nin: int,
        activation: str | Activation | None = "relu",
        init: str | Initializer = "uniform",
        rng: int | random.Random | ModuleType | None = None,
        *,
        nonlin: bool | None = None,
        fan_out: int = 1,
    ) -> None:
        nin = _check_size(nin, "Neuron(nin): the number of inputs")
        activation = _resolve_nonlin(activation, nonlin)
        draw = get_init(init)
        source: RandomSource = as_rng(rng)
        self.w = [Value(draw(nin, fan_out, source), label=f"w{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")
        self.activation, known = _activation_name(activation)
        self._custom = not known
        # Resolved once here, so the forward pass is one dot, one add, one call.
        fn = get_activation(activation)
        if known:
            fn = None if self.activation == "identity" else _METHODS.get(self.activation, fn)
        self._act: Activation | None = fn

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True unless the neuron is linear."""
        return self.activation != "identity"

    def __call__(self, x: Input) -> Value:
        try:
            out = dot(x, self.w) + self.b
        except ValueError:
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}") from None
        act = self._act
        return out if act is None else act(out)

    forward = __call__

    def parameters(self) -> list[Value]:
        return list(dict.fromkeys([*self.w, self.b]))

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "activation": _saveable(self.activation, self._custom)}

    def __repr__(self) -> str:
        return f"Neuron({_plural(len(self.w), 'input')}, {self.activation}, {_plural(len(self.w) + 1, 'parameter')})"


class Layer(Module):
    """``nout`` neurons that all see the same inputs.

    Returns a list with one output per neuron, or a single Value when the
    layer has one neuron (as micrograd).
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | Activation | None = "relu",
        init: str | Initializer = "uniform",
        rng: int | random.Random | ModuleType | None = None,
        *,
        nonlin: bool | None = None,
    ) -> None:
        nin = _check_size(nin, "Layer(nin): the number of inputs")
        nout = _check_size(nout, "Layer(nout): the number of neurons")
        activation = _resolve_nonlin(activation, nonlin)
        source = as_rng(rng)
        self.neurons = [Neuron(nin, activation, init, source, fan_out=nout) for _ in range(nout)]

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def __call__(self, x: Input) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    forward = __call__

    def parameters(self) -> list[Value]:
        return list(dict.fromkeys(p for n in self.neurons for p in n.parameters()))

    def config(self) -> dict[str, Any]:
        first = self.neurons[0]
        return {"nin": len(first.w), "nout": len(self.neurons), "activation": _saveable(first.activation, first._custom)}

    def __repr__(self) -> str:
        nin = len(self.neurons[0].w)
        return f"Layer({nin} -> {len(self.neurons)} {self.activation}, {_plural(self.num_parameters(), 'parameter')})"


class MLP(Module):
    """A multi-layer perceptron: layers applied one after another.

    ``MLP(2, [16, 16, 1])`` has two ReLU hidden layers of 16 and one linear
    output neuron (337 parameters), as micrograd's. The output is a Value when
    the last layer has one neuron, else a list of Values.

    ``dropout=p`` puts inverted dropout (``Dropout(p)``) after every hidden
    layer: active in training mode, off after ``model.eval()``.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | Activation | None = "relu",
        output_activation: str | Activation | None = None,
        init: str | Initializer = "uniform",
        rng: int | random.Random | ModuleType | None = None,
        dropout: float = 0.0,
    ) -> None:
        nin = _check_size(nin, "MLP(nin): the number of inputs")
        if isinstance(nouts, (int, str)) or not isinstance(nouts, Sequence) or not nouts:
            raise ValueError(f"MLP(nin, nouts): nouts is a list of layer widths such as [16, 16, 1], got {nouts!r}")
        sizes = [nin] + [_check_size(n, "each layer width in MLP(nin, nouts)") for n in nouts]
        source = as_rng(rng)
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else output_activation, init, source)
            for i in range(len(nouts))
        ]
        if dropout and not (_is_number(dropout) and 0.0 <= dropout < 1.0):
            raise ValueError(f"MLP(dropout=p): p is the probability of dropping a hidden output, 0 <= p < 1, got {dropout!r}")
        self.dropout = Dropout(dropout, rng=source) if dropout else None

    def __call__(self, x: Input) -> Value | list[Value]:
        if isinstance(x, (Value, numbers.Real)):  # one input: model(0.5) means model([0.5])
            x = [x]
        # Plain-number inputs become Values once here, not once per first-layer neuron.
        x = [v if type(v) is Value else Value(v, label=f"x{i}") for i, v in enumerate(x)]
        last = self.layers[-1]
        for layer in self.layers:
            x = layer(x)
            if isinstance(x, Value):  # a one-neuron layer: the next layer wants a list
                x = [x]
            if self.dropout is not None and layer is not last:
                x = self.dropout(x)
        return x[0] if len(x) == 1 else x

    forward = __call__

    def parameters(self) -> list[Value]:
        return list(dict.fromkeys(p for layer in self.layers for p in layer.parameters()))

    def config(self) -> dict[str, Any]:
        hidden = self.layers[0].config()["activation"] if len(self.layers) > 1 else "relu"
        return {
            "nin": len(self.layers[0].neurons[0].w),
            "nouts": [len(layer.neurons) for layer in self.layers],
            "activation": hidden,
            "output_activation": self.layers[-1].config()["activation"],
            **({"dropout": self.dropout.p} if self.dropout is not None else {}),
        }

    def __repr__(self) -> str:
        parts = [str(len(self.layers[0].neurons[0].w))]
        for layer in self.layers:
            act = layer.activation
            parts.append(f"{len(layer.neurons)}" if act == "identity" else f"{len(layer.neurons)} {act}")
        dropout = f", dropout {self.dropout.p:g}" if self.dropout is not None else ""
        return f"MLP({' -> '.join(parts)}, {_plural(self.num_parameters(), 'parameter')}{dropout})"


def _saveable(name: str, custom: bool) -> str:
    if custom:
        raise NotImplementedError(
            f"cannot save a model with the custom activation function {name!r}: save() stores activations "
            f"by name, so use one of {', '.join(ACTIVATIONS)}"
        )
    return name


class Dropout(Module):
    """Inverted dropout: in training mode each value is zeroed with probability ``p``
    and the survivors are scaled by 1 / (1 - p), so the expected value is unchanged
    and nothing needs rescaling at test time. In eval mode it is the identity.

    out = x / (1 - p) with probability 1 - p, else 0.   d out / dx = 1 / (1 - p) or 0.
    """

    def __init__(self, p: float = 0.5, rng: int | random.Random | ModuleType | None = None) -> None:
        if not _is_number(p) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout(p): p is the probability of dropping a value, 0 <= p < 1, got {p!r}")
        self.p = float(p)
        self._rng = as_rng(rng)

    def __call__(self, x: Value | float | Sequence[Value | float]) -> Any:
        if not self.training or self.p == 0.0:
            return x
        if isinstance(x, (Value, numbers.Real)):
            return self._drop(x)
        return [self._drop(v) for v in x]

    forward = __call__

    def _drop(self, v: Value | float) -> Value | float:
        scale = 0.0 if self._rng.random() < self.p else 1.0 / (1.0 - self.p)
        if isinstance(v, Value):
            return make_op("dropout", v.data * scale, (v,), (scale,))
        return float(v) * scale

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Dropout:
        return cls(**config)

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


def _module_types() -> dict[str, type[Module]]:
    """The module classes ``Module.load`` may rebuild, by name."""
    from .perceptron import Perceptron  # imported here: perceptron.py builds on this file

    return {c.__name__: c for c in (MLP, Layer, Neuron, Perceptron, Dropout)}
