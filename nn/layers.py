"""The built-in layers: Neuron, Layer, MLP, Dropout and Embedding.

Defaults follow micrograd: weights start uniform in [-1, 1] drawn from
Python's global ``random`` (so ``random.seed(1337)`` reproduces micrograd's
models exactly), biases start at 0, hidden layers use ReLU and the output
layer is linear. Pass ``rng=`` a seed for a model that does not depend on the
global random state, and ``init=`` for LeCun, Glorot or He initialisation.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from types import ModuleType
from typing import Any

from autograd import Value, dot, make_op

from .activations import ACTIVATIONS, BUILT_IN, Activation, activation_name, get_activation
from .checks import as_rng, is_integer, is_real, positive_int, show
from .init import Initializer, get_init
from .module import Module

__all__ = ["Neuron", "Layer", "MLP", "Dropout", "Embedding"]

Input = Sequence[Value | float]
RandomState = int | random.Random | ModuleType | None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _resolve_nonlin(activation: str | Activation | None, nonlin: bool | None) -> str | Activation | None:
    """micrograd's ``nonlin=True/False`` means ReLU or linear."""
    if nonlin is None:
        return activation
    if activation not in ("relu", None):
        raise ValueError(f"pass either activation= or micrograd's nonlin=, not both (got {activation!r} and {nonlin!r})")
    return "relu" if nonlin else "identity"


def _sizes(nin: object, nouts: object, what: str) -> list[int]:
    """[nin, *nouts], checked: ``what`` is "MLP(nin, nouts)" or "MLP config"."""
    if isinstance(nouts, (int, str)) or not isinstance(nouts, Sequence) or not nouts:
        raise ValueError(f"{what}: nouts is a list of layer widths such as [16, 16, 1], got {show(nouts)}")
    nin = positive_int(nin, f"{what}: nin, the number of inputs,")
    return [nin] + [positive_int(n, f"{what}: each layer width in nouts") for n in nouts]


class Neuron(Module, saveable=True):
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
        rng: RandomState = None,
        *,
        nonlin: bool | None = None,
        fan_out: int = 1,
    ) -> None:
        nin = positive_int(nin, "Neuron(nin): the number of inputs")
        activation = _resolve_nonlin(activation, nonlin)
        fn = get_activation(activation)
        name = activation_name(activation)  # None for a function that was never registered
        draw, source = get_init(init), as_rng(rng)
        self.w = [Value(draw(nin, fan_out, source), label=f"w{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")
        self.activation = name or getattr(fn, "__name__", type(fn).__name__)
        self.activation_function = fn
        # Resolved once, so the forward pass is a dot, an add and one call. A built-in activation that
        # is also a Value method (relu, tanh, ...) is called as that method: one call less per neuron,
        # measured at 3-5% of an MLP's forward pass.
        method = getattr(Value, name, None) if name in BUILT_IN else None
        self._act = None if name == "identity" else (method or fn)

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return len(self.w)

    @property
    def nonlin(self) -> bool:
        """micrograd's flag: True unless the neuron is linear."""
        return self.activation != "identity"

    @property
    def registered(self) -> bool:
        """Whether the activation is known by name (so the neuron can be saved and converted)."""
        return activation_name(self.activation_function) == self.activation

    def forward(self, x: Input) -> Value:
        try:
            out = dot(x, self.w) + self.b
        except ValueError:
            raise ValueError(f"this neuron takes {_plural(len(self.w), 'input')}, got {len(x)}") from None
        act = self._act
        return out if act is None else act(out)

    # Skips Module.__call__'s *args dispatch (3,300 neuron calls per demo step). Measured on the
    # demo step: Neuron, Layer and MLP all routed through Module.__call__ cost 3-4% more time.
    __call__ = forward

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.w), "activation": _saveable(self)}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        return positive_int(config.get("nin"), "Neuron config: nin") + 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Neuron:
        return cls(**config, init="zeros")  # the file holds the weights: draw no random numbers

    def __repr__(self) -> str:
        return f"Neuron({_plural(len(self.w), 'input')}, {self.activation}, {_plural(len(self.w) + 1, 'parameter')})"


def _saveable(neuron: Neuron) -> str:
    """The activation's name for a saved config; an unregistered function cannot be saved."""
    name = neuron.activation
    if neuron.registered:
        return name
    if name in ACTIVATIONS:
        raise ValueError(
            f"cannot save this model: its activation function {name!r} is not the one registered under that name "
            "(a function of your own named like a built-in, or a name registered again after the model was built); "
            "register your function under a name of its own with nn.register_activation(name, fn) and build the model with it"
        )
    raise ValueError(
        f"cannot save a model with the custom activation function {name!r}: save() stores "
        f"activations by name, so register it first with nn.register_activation({name!r}, fn)"
    )


class Layer(Module, saveable=True):
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
        rng: RandomState = None,
        *,
        nonlin: bool | None = None,
    ) -> None:
        nin = positive_int(nin, "Layer(nin): the number of inputs")
        nout = positive_int(nout, "Layer(nout): the number of neurons")
        activation = _resolve_nonlin(activation, nonlin)
        source = as_rng(rng)
        self.neurons = [Neuron(nin, activation, init, source, fan_out=nout) for _ in range(nout)]

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return len(self.neurons[0].w)

    @property
    def activation(self) -> str:
        return self.neurons[0].activation

    def forward(self, x: Input) -> Value | list[Value]:
        try:
            out = [n(x) for n in self.neurons]
        except ValueError:
            if len(x) == self.nin:
                raise
            raise ValueError(f"this layer takes {_plural(self.nin, 'input')}, got {len(x)}") from None
        return out[0] if len(out) == 1 else out

    # Skips Module.__call__'s *args dispatch, as Neuron does (see there for the measurement).
    __call__ = forward

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "nout": len(self.neurons), "activation": _saveable(self.neurons[0])}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        nin = positive_int(config.get("nin"), "Layer config: nin")
        return (nin + 1) * positive_int(config.get("nout"), "Layer config: nout")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Layer:
        return cls(**config, init="zeros")  # the file holds the weights: draw no random numbers

    def __repr__(self) -> str:
        return f"Layer({self.nin} -> {len(self.neurons)} {self.activation}, {_plural(self.num_parameters(), 'parameter')})"


class MLP(Module, saveable=True):
    """A multi-layer perceptron: layers applied one after another.

    ``MLP(2, [16, 16, 1])`` has two ReLU hidden layers of 16 and one linear
    output neuron (337 parameters), as micrograd's. The output is a Value when
    the last layer has one neuron, else a list of Values. It takes one sample
    at a time: ``[model(x) for x in X]`` for a batch.

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
        rng: RandomState = None,
        dropout: float = 0.0,
    ) -> None:
        sizes = _sizes(nin, nouts, "MLP(nin, nouts)")
        if dropout and not (is_real(dropout) and 0.0 <= dropout < 1.0):
            raise ValueError(f"MLP(dropout=p): p is the probability of dropping a hidden output, 0 <= p < 1, got {show(dropout)}")
        get_activation(activation)  # checked even when there is no hidden layer to use it
        source = as_rng(rng)
        last = len(sizes) - 2
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else output_activation, init, source)
            for i in range(len(sizes) - 1)
        ]
        self.dropout = Dropout(dropout, rng=source) if dropout else None

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return len(self.layers[0].neurons[0].w)

    def forward(self, x: Input | Value | float) -> Value | list[Value]:
        if not isinstance(x, (list, tuple)) and (isinstance(x, Value) or is_real(x)):  # model(0.5) means model([0.5])
            x = [x]
        # Plain-number inputs become Values once here, not once per first-layer neuron.
        try:
            x = [v if type(v) is Value else Value(v, label=f"x{i}") for i, v in enumerate(x)]
        except TypeError:
            raise TypeError(self._input_problem(x)) from None
        if len(x) != self.nin:
            raise ValueError(f"this model takes {_plural(self.nin, 'input')}, got {len(x)}: {self!r}")
        dropout, last = self.dropout, self.layers[-1]
        for layer in self.layers:
            x = layer(x)
            if type(x) is Value:  # a one-neuron layer: the next layer wants a list
                x = [x]
            if dropout is not None and layer is not last:
                x = dropout(x)
        return x[0] if len(x) == 1 else x

    # Skips Module.__call__'s *args dispatch, as Neuron does (see there for the measurement).
    __call__ = forward

    def _input_problem(self, x: Any) -> str:
        """Why ``x`` is not one input sample, for a TypeError."""
        if not isinstance(x, Sequence) or isinstance(x, str):
            return f"this model takes a list of {_plural(self.nin, 'number')}, got {show(x)}"
        for v in x:
            if isinstance(v, (list, tuple)):
                return (
                    f"this model takes one sample at a time (a list of {_plural(self.nin, 'number')}), "
                    "got a list of lists; for a batch use [model(x) for x in X]"
                )
            if not isinstance(v, Value) and not is_real(v):
                return f"this model's inputs are numbers or Values, got {show(v)}"
        return f"this model takes a list of {_plural(self.nin, 'number')}, got {show(x)}"

    def config(self) -> dict[str, Any]:
        hidden = self.layers[0].config()["activation"] if len(self.layers) > 1 else "relu"
        return {
            "nin": self.nin,
            "nouts": [len(layer.neurons) for layer in self.layers],
            "activation": hidden,
            "output_activation": self.layers[-1].config()["activation"],
            **({"dropout": self.dropout.p} if self.dropout is not None else {}),
        }

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        sizes = _sizes(config.get("nin"), config.get("nouts"), "MLP config")
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MLP:
        return cls(**config, init="zeros")  # the file holds the weights: draw no random numbers

    def __repr__(self) -> str:
        parts = [str(self.nin)]
        for layer in self.layers:
            act = layer.activation
            parts.append(f"{len(layer.neurons)}" if act == "identity" else f"{len(layer.neurons)} {act}")
        dropout = f", dropout {self.dropout.p:g}" if self.dropout is not None else ""
        return f"MLP({' -> '.join(parts)}, {_plural(self.num_parameters(), 'parameter')}{dropout})"


class Dropout(Module, saveable=True):
    """Inverted dropout: in training mode each value is zeroed with probability ``p``
    and the survivors are scaled by 1 / (1 - p), so the expected value is unchanged
    and nothing needs rescaling at test time. In eval mode it is the identity.

    out = x / (1 - p) with probability 1 - p, else 0.   d out / dx = 1 / (1 - p) or 0.

    Without ``rng`` the masks come from Python's global ``random``, so
    ``random.seed(s)`` reproduces them.
    """

    def __init__(self, p: float = 0.5, rng: RandomState = None) -> None:
        if not is_real(p) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout(p): p is the probability of dropping a value, 0 <= p < 1, got {show(p)}")
        self.p = float(p)
        source = as_rng(rng)
        self._rng = None if source is random else source  # None: the global random module (a module cannot be pickled)

    def forward(self, x: Value | float | Sequence[Value | float]) -> Any:
        if not self.training or self.p == 0.0:
            return x
        if isinstance(x, Value) or is_real(x):
            return self._drop(x)
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
            raise TypeError(f"Dropout takes a Value, a number or a list of them, got {show(x)}")
        return [self._drop(v) for v in x]

    def _drop(self, v: Value | float) -> Value | float:
        scale = 0.0 if (self._rng or random).random() < self.p else 1.0 / (1.0 - self.p)
        if isinstance(v, Value):
            return make_op("dropout", v.data * scale, (v,), (scale,))
        if not is_real(v):
            raise TypeError(f"Dropout takes Values or numbers, got {show(v)}")
        return float(v) * scale  # type: ignore[arg-type]

    def config(self) -> dict[str, Any]:
        return {"p": self.p}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        return 0

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Embedding(Module, saveable=True):
    """A lookup table: row ``i`` is ``embedding_dim`` learned Values standing for item ``i``.

    ``emb = Embedding(27, 4)`` holds 27 rows of 4 Values (``emb.weight[i][k]``,
    named ``weight.i.k``), drawn from N(0, 1) as ``torch.nn.Embedding`` does.
    ``emb(i)`` is row ``i`` (a list of 4 Values); ``emb([i, j, k])`` is the
    three rows one after another (12 Values), which is what the first layer
    of a makemore-style MLP takes (PyTorch's ``C[X].view(-1)``)::

        class CharMLP(nn.Module):
            def __init__(self):
                self.emb = nn.Embedding(27, 4)
                self.mlp = nn.MLP(3 * 4, [32, 27], activation="tanh")

            def forward(self, context):          # three character indices
                return self.mlp(self.emb(context))

    Only the rows looked up take part in the graph, so only they get gradients.
    An initialiser receives fan_in = ``embedding_dim`` and fan_out =
    ``num_embeddings``, as torch.nn.init computes them for the weight table.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, init: str | Initializer = "normal", rng: RandomState = None) -> None:
        num = positive_int(num_embeddings, "Embedding(num_embeddings): the number of rows")
        dim = positive_int(embedding_dim, "Embedding(embedding_dim): the length of each row")
        draw, source = get_init(init), as_rng(rng)
        self.weight = [[Value(draw(dim, num, source), label=f"e{i}.{k}") for k in range(dim)] for i in range(num)]

    @property
    def num_embeddings(self) -> int:
        return len(self.weight)

    @property
    def embedding_dim(self) -> int:
        return len(self.weight[0])

    def forward(self, index: int | Iterable[int]) -> list[Value]:
        if is_integer(index):
            return list(self.weight[self._row(index)])
        if isinstance(index, (str, bytes)) or not isinstance(index, Iterable):
            raise TypeError(f"Embedding takes a row index (an int) or a list of them, got {_shown_index(index)}")
        return [v for i in index for v in self.weight[self._row(i)]]

    def _row(self, i: object) -> int:
        if not is_integer(i):
            raise TypeError(f"Embedding row indices are whole numbers, got {_shown_index(i)}")
        if not 0 <= i < len(self.weight):  # type: ignore[operator]
            raise IndexError(f"{self!r} has rows 0 to {len(self.weight) - 1}, got index {_shown_index(i)}")
        return int(i)  # type: ignore[call-overload]

    def config(self) -> dict[str, Any]:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        num = positive_int(config.get("num_embeddings"), "Embedding config: num_embeddings")
        return num * positive_int(config.get("embedding_dim"), "Embedding config: embedding_dim")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Embedding:
        return cls(**config, init="zeros")  # the file holds the weights: draw no random numbers

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}, {_plural(self.num_parameters(), 'parameter')})"


_LONGEST_SHOWN = 10**30  # a whole number this large is described by its size, not printed


def _shown_index(i: object) -> str:
    """An index for an error message: small whole numbers as they are, huge ones by their digit count.

    Printing a 5,000-digit integer is slow and exceeds Python's digit limit, so its size is
    worked out from its bit length instead.
    """
    if is_integer(i) and not -_LONGEST_SHOWN < i < _LONGEST_SHOWN:  # type: ignore[operator]
        bits = abs(int(i)).bit_length()  # type: ignore[call-overload]
        digits = int(bits * 0.30103) + 1  # log10(2) = 0.30103: this or one fewer digits
        return f"{'a negative' if i < 0 else 'an'} int of about {digits:,} digits"  # type: ignore[operator]
    if is_integer(i):
        return str(int(i))  # type: ignore[call-overload]
    return show(i)
