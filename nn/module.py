"""``Module``: the base class of every model, as PyTorch's ``nn.Module``.

A module finds its parameters by looking at its attributes: a Value attribute
is a parameter, a Module attribute is a submodule, and lists, tuples and dicts
of them count too, nested as deep as you like. So ``Neuron.w`` (a list of
Values) and ``Neuron.b`` give the names ``w.0, w.1, ..., b``; an MLP's
parameters are called ``layers.0.neurons.3.w.1``; a table ``self.C = [[...],
...]`` gives ``C.3.1`` and a dict ``self.heads = {"left": ...}`` gives
``heads.left...``. What cannot be named that way (a set of Values, a dict key
that is not a word) is refused when it is assigned, never silently skipped.

Subclasses set their parameters and submodules as attributes in ``__init__``
and define ``forward``; calling the module calls ``forward``::

    class Net(nn.Module):
        def __init__(self):
            self.hidden = nn.Layer(2, 8, activation="tanh")
            self.out = nn.Neuron(8, activation="identity")

        def forward(self, x):
            return self.out(self.hidden(x))

The built-in layers are in ``nn.layers``; saving and loading in ``nn.serialize``.
Every walk over submodules is a loop, never a recursion, so arbitrarily deep
models work.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from autograd import Value, no_grad

from . import serialize
from .checks import is_real, shorten

__all__ = ["Module"]

M = TypeVar("M", bound="Module")

_SHOWN_KEYS = 5  # names listed in a state-dict error before "... and N more"


class Module:
    """Base class of everything with parameters, as ``torch.nn.Module``.

    Subclasses create Values, Modules (or lists, tuples and dicts of them) as
    attributes and define ``forward``; calling the module calls ``forward``.
    ``class MyModel(nn.Module, saveable=True)`` with a ``config()`` method
    makes ``save()``/``Module.load`` work for it too.
    """

    training: bool = True

    def __init_subclass__(cls, saveable: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if saveable:
            serialize.register_module_type(cls)
        # A built-in layer may call its forward directly (``__call__ = forward``, for speed):
        # a subclass that defines its own forward must have that one called, never the parent's.
        if "forward" in cls.__dict__ and "__call__" not in cls.__dict__ and cls.__call__ is not Module.__call__:
            cls.__call__ = Module.__call__  # type: ignore[method-assign]

    # ---- the forward pass ---------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward(self, x)")

    # ---- finding parameters and submodules ---------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and isinstance(value, _CONTAINERS):
            _named_members([(name, value)])  # raises for what parameters() could not name
        object.__setattr__(self, name, value)

    def _children(self, names: bool = True) -> list[tuple[str, Value | Module]]:
        """(name, item) for every Value and Module held by a public attribute, containers opened."""
        return _named_members([(name, item) for name, item in vars(self).items() if not name.startswith("_")], names)

    def _walk(self, prefix: str = "", names: bool = True) -> Iterator[tuple[str, Module, list[tuple[str, Value | Module]]]]:
        """(name, module, its children) for this module and every submodule once, depth first.

        A name is dotted with no dot at the end (``"layers.0"``; ``prefix``, default "", for the
        module itself). With ``names=False`` every name is "" (``parameters()`` needs none and
        skips building them).
        """
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:  # shared, or a cycle
                continue
            seen.add(id(module))
            children = module._children(names)
            yield name, module, children
            subs = [(_join(name, child) if names else "", item) for child, item in children if isinstance(item, Module)]
            stack.extend(reversed(subs))

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every submodule once, with dotted names, as PyTorch names them.

        ``("", model)`` first (``prefix`` instead of "" when given), then e.g. ``("layers.0", layer)``
        and ``("layers.0.neurons.3", neuron)``.
        """
        for name, module, _ in self._walk(prefix):
            yield name, module

    def modules(self) -> list[Module]:
        """This module and all its submodules."""
        return [m for _, m in self.named_modules()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        """(name, Value) for every parameter, each once, e.g. ``("layers.0.neurons.3.w.1", w)``.

        Order: a module's own Values in attribute order, then each submodule's, depth first.
        """
        seen: set[int] = set()
        named = []
        for prefix, _, children in self._walk():
            for name, item in children:
                if isinstance(item, Value) and id(item) not in seen:
                    seen.add(id(item))
                    named.append((_join(prefix, name), item))
        return named

    def parameters(self) -> list[Value]:
        """Every parameter (weights and biases) once, in ``named_parameters()`` order."""
        try:
            found = [item for _, _, children in self._walk(names=False) for _, item in children if isinstance(item, Value)]
        except TypeError:
            self.named_parameters()  # the same walk with names, for an error saying where
            raise
        return list({id(p): p for p in found}.values())  # each once, first place kept

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
        holding a real number that fits a float. Anything else raises
        ``ValueError`` and the model is left exactly as it was: every value is
        converted and checked before anything is assigned.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict() takes a dict {{name: number}}, got {type(state).__name__}")
        params = self.named_parameters()
        names = {name for name, _ in params}
        problems = []
        missing = [name for name, _ in params if name not in state]
        if missing:
            problems.append(f"missing keys {_some(missing)}")
        extra = [key for key in state if key not in names]
        if extra:
            problems.append(f"unexpected keys {_some([str(key) for key in extra])}")
        numbers, bad = [], []
        for name, _ in params:
            if name in state:
                number = _as_weight(state[name])
                if number is None:
                    bad.append(f"{name!r} holds {type(state[name]).__name__} {shorten(repr(state[name]), 40)}")
                numbers.append(number)
        if bad:
            problems.append("expected one number per parameter, but " + _some(bad, quote=False))
        if problems:
            raise ValueError(
                shorten(f"state dict does not fit {type(self).__name__} ({len(params)} parameters): " + "; ".join(problems), 2000)
                + ". Nothing was changed."
            )
        for (_, p), number in zip(params, numbers, strict=True):
            p.data = number

    # ---- saving and loading -------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module (saved by ``save``)."""
        raise ValueError(
            f"{type(self).__name__} cannot be saved with save(): it defines no config(). "
            "Save its weights with json.dump(model.state_dict(), file) and rebuild it in code, "
            "or give the class config() returning its constructor arguments."
        )

    @classmethod
    def from_config(cls: type[M], config: Mapping[str, Any]) -> M:
        """Build the module ``config()`` describes; ``load`` then copies the saved weights in."""
        return cls(**config)

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int | None:
        """How many parameters ``from_config(config)`` would have, computed without building it.

        ``load`` compares this with the file's weights before building anything,
        so a bad file cannot make it allocate without bound. ``None`` (the
        default) means unknown: the module is built, then checked.
        """
        return None

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the architecture and the weights to ``path`` as JSON (see ``nn.serialize``).

        The write is atomic (a temporary file renamed over ``path``), goes
        through a symbolic link to its target and keeps an existing file's
        permissions. A save that cannot be done (a device, a FIFO, a folder, a
        missing folder, no permission, a full disk) raises ``ValueError`` naming ``path``.
        The file is strict JSON: a nan or infinite weight is stored as the
        string ``"nan"``, ``"inf"`` or ``"-inf"``, which ``load`` reads back.
        """
        serialize.save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Module:
        """Rebuild a model written by ``save()``: ``model = Module.load("model.json")``.

        ``MLP.load(path)`` also checks the type. The model comes back in
        training mode, as in PyTorch: predict inside ``with model.evaluating():``.
        A file that is not a complete chainrule model raises ``ValueError``.
        """
        return serialize.read_model(path, expected=None if cls is Module else cls)

    # ---- printing -------------------------------------------------------------
    def __repr__(self) -> str:
        counts = _parameter_counts(self)
        lines = []
        shown: set[int] = set()
        stack: list[tuple[str, str, Module]] = [("", "", self)]
        while stack:
            indent, label, module = stack.pop()
            if module is not self and type(module).__repr__ is not Module.__repr__:  # e.g. a layer's one-line repr
                lines.append(indent + label + repr(module).replace("\n", "\n" + indent))
                continue
            if id(module) in shown:
                lines.append(f"{indent}{label}{type(module).__name__}(shown above)")
                continue
            shown.add(id(module))
            lines.append(f"{indent}{label}{type(module).__name__}({counts[id(module)]} parameters)")
            subs = [(indent + "  ", f"({name}): ", item) for name, item in module._children() if isinstance(item, Module)]
            stack.extend(reversed(subs))
        return "\n".join(lines)


# ---- helpers --------------------------------------------------------------------
_CONTAINERS = (list, tuple, dict, set, frozenset)


def _named_members(items: list[tuple[str, Any]], names: bool = True) -> list[tuple[str, Value | Module]]:
    """Every Value and Module in ``items``, lists, tuples and dicts opened, with dotted names (or "").

    Raises for a Value or Module that cannot get a stable name: inside a set,
    or under a dict key that is not a non-empty string without dots.
    """
    found: list[tuple[str, Value | Module]] = []
    opened: set[int] = set()  # each container once, so a list holding itself ends
    stack = list(reversed(items))
    while stack:
        name, item = stack.pop()
        if isinstance(item, (Value, Module)):
            found.append((name, item))
        elif not isinstance(item, _CONTAINERS) or id(item) in opened:
            continue
        elif isinstance(item, (list, tuple)):
            opened.add(id(item))
            if not all(type(x) is Value for x in item):
                stack.extend((f"{name}.{i}" if names else "", item[i]) for i in range(len(item) - 1, -1, -1))
            elif names:  # the usual case, such as a neuron's weights
                found.extend((f"{name}.{i}", x) for i, x in enumerate(item))
            else:
                found.extend(("", x) for x in item)
        elif isinstance(item, dict):
            opened.add(id(item))
            entries = []
            for key, value in item.items():
                if not (isinstance(key, str) and key and "." not in key):
                    if _holds_members(value):
                        raise TypeError(
                            f"{name}[{shorten(repr(key), 40)}] holds parameters, but a dict key must be a non-empty "
                            "string without dots to name them (like torch.nn.ModuleDict); use a list or string keys"
                        )
                    continue
                entries.append((f"{name}.{key}", value))
            stack.extend(reversed(entries))
        elif _holds_members(item):  # a set or frozenset
            raise TypeError(
                f"{name} is a {type(item).__name__} holding Values or Modules; a set has no order, so its "
                "parameters would get no stable names: use a list instead"
            )
    return found


def _join(prefix: str, name: str) -> str:
    """``prefix.name``, or ``name`` alone for the top module (whose prefix is "")."""
    return f"{prefix}.{name}" if prefix else name


def _holds_members(item: Any) -> bool:
    """Whether a Value or Module is anywhere inside ``item`` (containers searched, no recursion)."""
    stack, opened = [item], set()
    while stack:
        x = stack.pop()
        if isinstance(x, (Value, Module)):
            return True
        if isinstance(x, _CONTAINERS) and id(x) not in opened:
            opened.add(id(x))
            stack.extend(x.values() if isinstance(x, dict) else x)
    return False


def _parameter_counts(root: Module) -> dict[int, int]:
    """Distinct parameters under each module (by id), for ``repr``; one pass, no recursion."""
    tree = {id(m): (m, children) for _, m, children in root._walk()}
    counts: dict[int, int] = {}
    below: dict[int, set[int]] = {}
    entered: set[int] = set()
    stack = [(id(root), False)]
    while stack:  # post-order: a module after all its submodules
        key, ready = stack.pop()
        _, children = tree[key]
        subs = [id(item) for _, item in children if isinstance(item, Module)]
        if not ready:
            if key in entered:  # shared, or a cycle back to a module still open
                continue
            entered.add(key)
            stack.append((key, True))
            stack.extend((sub, False) for sub in subs if sub not in entered)
            continue
        ids = {id(item) for _, item in children if isinstance(item, Value)}
        for sub in subs:
            ids |= below.get(sub, set())
        below[key] = ids
        counts[key] = len(ids)
    return counts


def _as_weight(x: object) -> float | None:
    """``x`` as a float, or None for what is not a real number that fits one."""
    if not is_real(x):
        return None
    try:
        return float(x)  # type: ignore[arg-type]
    except (OverflowError, ValueError):  # a 400-digit integer, a huge Fraction
        return None


def _some(names: list[str], quote: bool = True) -> str:
    """A list for an error message: the first few items, then how many more."""
    shown = [repr(n) if quote else n for n in names[:_SHOWN_KEYS]]
    more = f", ... and {len(names) - _SHOWN_KEYS:,} more" if len(names) > _SHOWN_KEYS else ""
    return "[" + ", ".join(shown) + more + "]" if quote else "; ".join(shown) + more

