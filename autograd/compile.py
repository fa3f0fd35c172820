"""``autograd.compile``: trace a function's graph once, then run it as straight-line Python.

Eager chainrule builds a new graph of Values on every call and walks it in
``backward()``. When the graph has the same shape every time (a network's
forward pass for one example), that work can be done once: ``compile(fn)``
runs ``fn`` on its first call with placeholder Values for the numbers it is
given (the *trace*), then writes Python source for that graph, one line per
node:

    z = -0.0 + x1 * w1 + x2 * w2     # forward: the numbers
    h = tanh(z)
    ...
    if g_h: g_z += (1.0 - h * h) * g_h   # backward: the chain rule, node by node
    if x1: g_w1 += x1 * g_z

``compile()``-s it and calls it on every later call. This is what
``torch.jit.trace``, ``torch.compile`` and ``jax.jit`` do with whole tensors:
a static graph, known before it runs, can be turned into code without the
bookkeeping of building it.

What the trace freezes, and what it does not
* Values created outside ``fn`` (a model's parameters) are read at every
  call and receive gradients, exactly as eager ``backward()`` gives them.
* Branches *inside* an operation (relu, abs, leaky_relu, elu, sigmoid...) are
  recomputed on every call from the new numbers.
* Python control flow in ``fn`` itself (``if x[0] > 0:``, a loop over a
  number of steps) is frozen at the trace, as in ``torch.jit.trace``: the
  compiled code always takes the path the first call took. ``check=True``
  (or ``check=k``: every k-th call) runs ``fn`` eagerly as well and raises
  ``CompileError`` when its graph or its result differs.

Gradients: ``out = f(x)`` is a Value; ``out.backward()`` or the ``backward()``
of any Value computed from outputs (a loss over a batch) runs the generated
backward code for each call, in the order eager ``backward()`` would reach
it, with the same rules: leaves accumulate, a zero local derivative passes
nothing. The results equal eager ones bit for bit for a graph built as one
trace per call (``check`` and the tests compare them); see ``Compiled`` for
where the summation order can differ.
"""

from __future__ import annotations

import builtins
import keyword
import math
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from . import floats
from .engine import MAKE_OP, Value, leaves_and_computed
from .floats import as_float
from .grad_mode import MODE, current_mode

__all__ = ["compile", "Compiled", "CompileError", "CompiledValue"]


class CompileError(RuntimeError):
    """A graph ``compile`` cannot replay, or a call that does not fit the traced graph."""


class CompiledValue(Value):
    """An output of a compiled function: a Value whose backward runs generated code."""

    __slots__ = ("call", "index")


class _Call:
    """One run of the generated forward code: what its backward needs."""

    __slots__ = ("compiled", "pdata", "tape", "outputs")

    def __init__(self, compiled: Compiled, pdata: tuple[float, ...], tape: tuple[float, ...]) -> None:
        self.compiled, self.pdata, self.tape = compiled, pdata, tape
        self.outputs: list[CompiledValue] = []


# ---------------------------------------------------------------------------
# How each operation is written as code: its forward line and its local derivatives
# ---------------------------------------------------------------------------
def _sigmoid(a: float) -> float:
    """As ``Value.sigmoid``: 1 / (1 + e^-a), rearranged for a < 0 so that e^-a cannot overflow."""
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = floats.exp(a)
    return e / (1.0 + e)


def _softplus(a: float) -> float:
    return a if a > 20.0 else math.log1p(math.exp(a))


def _softplus_grad(a: float) -> float:
    if a > 20.0:
        return 1.0
    e = math.exp(a)
    return e / (1.0 + e)


def _replay(rule: Callable[..., Any], op: str, n: int, *data: float) -> tuple[float, tuple[float, ...]]:
    """Run a make_op replay rule; check it returns one number and ``n`` local derivatives."""
    out, local = rule(*data)
    local = tuple(as_float(g, f"make_op {op!r} replay rule: each local gradient") for g in local)
    if len(local) != n:
        raise CompileError(f"the replay rule of make_op {op!r} returned {len(local)} local gradients for {n} parents")
    return as_float(out, f"make_op {op!r} replay rule: data"), local


# Names the generated code may use (besides its own variables).
NAMESPACE: dict[str, Any] = {
    "div": floats.div, "exp": floats.exp, "log": floats.log, "sqrt": floats.sqrt, "power": floats.power,
    "constant_power": floats.constant_power, "trig": floats.trig, "sin": math.sin, "cos": math.cos,
    "tanh": math.tanh, "expm1": math.expm1, "math_exp": math.exp, "sigmoid": _sigmoid, "softplus": _softplus,
    "softplus_grad": _softplus_grad, "isfinite": math.isfinite, "sum": builtins.sum, "abs": builtins.abs,
    "replay": _replay, "inf": math.inf, "nan": math.nan,
}  # fmt: skip
_RESERVED = {*NAMESPACE, *dir(builtins), "P", "pdata", "rows", "calls", "append", "out", "tape", "finite", "bound", "forward", "backward"}
_PLAIN_SUM = sys.version_info < (3, 12)  # from 3.12, sum() of floats is compensated: call it as the engine does


def _num(x: float) -> str:
    """A float as Python source that reads back as exactly the same float."""
    return repr(x) if math.isfinite(x) else ("inf" if x > 0 else "-inf" if x < 0 else "nan")


def _total(terms: list[str]) -> str:
    """``builtins.sum(terms, -0.0)`` as the engine computes it (``sum`` and ``dot``)."""
    if not terms:
        return "0.0"
    if _PLAIN_SUM:
        return " + ".join(["-0.0", *terms])
    return f"sum(({', '.join(terms)},), -0.0)"


Local = float | str  # a local derivative: a number known at trace time, or an expression
_SIMPLE = ("+", "-", "*", "/", "neg", "abs", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "sin", "cos")
_WITH_CONSTANT = ("leaky_relu", "elu")
# Operations whose local derivatives are numbers of the graph (inputs, parameters, results) or bounded
# functions of them: where all those numbers are finite and small enough that no sum of them overflows,
# the local derivatives are finite too, and a zero upstream gradient passes nothing (see _generate).
_BOUNDED = {"+", "-", "*", "neg", "abs", "relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus", "exp", "sin",
            "cos", "sum", "dot"}  # fmt: skip


def _write(node: Value, v: str, ps: list[str], consts: Any) -> tuple[str, list[Local]]:
    """The forward line computing node ``v`` from its parents' numbers ``ps``, and its local derivatives."""
    op = node.op
    a = ps[0] if ps else ""
    b = ps[1] if len(ps) > 1 else ""
    if op == "+":
        return f"{v} = {a} + {b}", [1.0, 1.0]
    if op == "-":
        return f"{v} = {a} - {b}", [1.0, -1.0]
    if op == "*":
        return f"{v} = {a} * {b}", [b, a]
    if op == "/":
        return f"{v} = div({a}, {b})", [f"div(1.0, {b})", f"div(-{v}, {b})"]
    if op == "neg":
        return f"{v} = -{a}", [-1.0]
    if op == "abs":
        return f"{v} = abs({a})", [f"(1.0 if {a} > 0.0 else -1.0 if {a} < 0.0 else 0.0)"]
    if op.startswith("**") and op != "**":
        (n,) = consts
        local: Local = 0.0 if n == 0.0 else f"{_num(n)} * constant_power({a}, {_num(n - 1.0)})"
        return f"{v} = constant_power({a}, {_num(n)})", [local]
    if op == "**":
        return f"{v} = power({a}, {b})", [
            f"(0.0 if {b} == 0.0 else {b} * power({a}, {b} - 1.0))",
            f"(0.0 if ({a} == 0.0 and {b} >= 0.0) else {v} * log({a}))",
        ]
    if op == "exp":
        return f"{v} = exp({a})", [v]
    if op == "log":
        return f"{v} = log({a})", [f"div(1.0, {a})"]
    if op == "sqrt":
        return f"{v} = sqrt({a})", [f"div(0.5, {v})"]
    if op == "tanh":
        return f"{v} = tanh({a})", [f"(1.0 - {v} * {v})"]
    if op == "sigmoid":
        return f"{v} = sigmoid({a})", [f"{v} * (1.0 - {v})"]
    if op == "relu":  # relu(-0.0) = -0.0 and relu(nan) = nan, as Value.relu
        return f"{v} = 0.0 if {a} < 0.0 else {a}", [f"(1.0 if {a} > 0.0 or {a} != {a} else 0.0)"]
    if op == "leaky_relu":
        (slope,) = consts
        return f"{v} = {a} if {a} > 0.0 else {_num(slope)} * {a}", [f"(1.0 if {a} > 0.0 else {_num(slope)})"]
    if op == "elu":
        (alpha,) = consts
        return (f"{v} = {_num(alpha)} * expm1({a}) if {a} <= 0.0 else {a}",
                [f"({_num(alpha)} * math_exp({a}) if {a} <= 0.0 else 1.0)"])  # fmt: skip
    if op == "softplus":
        return f"{v} = softplus({a})", [f"softplus_grad({a})"]
    if op == "sin":
        return f"{v} = trig(sin, {a})", [f"trig(cos, {a})"]
    if op == "cos":
        return f"{v} = trig(cos, {a})", [f"-trig(sin, {a})"]
    if op == "sum":
        terms = iter(ps)
        numbers = [next(terms) if c is None else _num(c) for c in consts] if consts else ps
        return f"{v} = {_total(numbers)}", [1.0] * len(ps)
    if op == "dot":
        terms = iter(ps)
        operands = [next(terms) if c is None else _num(c) for c in consts] if consts else list(ps)
        k = len(operands) // 2
        xs, ws = operands[:k], operands[k:]
        partners = ws + xs  # d/dx_i = w_i, d/dw_i = x_i
        local = [partners[i] for i, c in enumerate(consts or operands) if (c is None if consts else True)]
        return f"{v} = {_total([f'{x} * {w}' for x, w in zip(xs, ws)])}", [_as_local(d) for d in local]
    raise AssertionError(op)  # _check_node refused it


def _as_local(text: str) -> Local:
    try:
        return float(text)
    except ValueError:
        return text


def _check_node(node: Value) -> None:
    """Refuse a node whose replay is not known exactly, naming it."""
    op = node.op
    consts = getattr(node, "constants", None)
    if consts and consts[0] == MAKE_OP:
        if consts[1] is None:
            raise CompileError(
                f"cannot compile the operation {op!r} made with make_op(): compile does not know how to compute "
                f"it on new numbers. Give it a replay rule, make_op({op!r}, data, parents, local_grads, "
                "replay=lambda *parent_data: (data, local_grads)), or build it from Value operations"
            )
        return
    if op in _SIMPLE or op in ("sum", "dot", "**"):
        return
    if op in _WITH_CONSTANT or (op.startswith("**") and op != "**"):
        if not consts:
            raise CompileError(f"the {op!r} node does not record its constant (it was copied or built by hand); "
                               "build it with the Value method")  # fmt: skip
        return
    raise CompileError(
        f"cannot compile the operation {op!r}: it is not a built-in operation nor made with make_op(..., replay=...)"
    )


def _check_replay(node: Value, rule: Callable[..., Any]) -> None:
    """A make_op replay rule must give back, on the traced numbers, exactly the node's numbers."""
    data, local = _replay(rule, node.op, len(node.parents), *(p.data for p in node.parents))
    if not _same((data, *local), (node.data, *node.local_grads)):
        raise CompileError(
            f"the replay rule of make_op {node.op!r} gives data {data!r} and local gradients {list(local)!r} "
            f"on the traced numbers, but the node holds {node.data!r} and {list(node.local_grads)!r}"
        )


def _same(a: Sequence[float], b: Sequence[float]) -> bool:
    """Equal number for number (nan equals nan)."""
    return len(a) == len(b) and all(x == y or (x != x and y != y) for x, y in zip(a, b))


# ---------------------------------------------------------------------------
# Names in the generated code
# ---------------------------------------------------------------------------
_OP_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}


class _Names:
    """A readable, unique Python name for every node: its label, else its operation."""

    def __init__(self) -> None:
        self.taken: set[str] = set(_RESERVED)
        self.count: dict[str, int] = {}

    def new(self, node: Value, fallback: str) -> str:
        base = node.label or _OP_NAMES.get(node.op, node.op if not node.op.startswith("**") else "pow") or fallback
        base = re.sub(r"\W", "_", base).strip("_") or fallback
        if base[0].isdigit() or keyword.iskeyword(base) or base.startswith(("g_", "d_")) or base == "g":
            base = f"v_{base}"
        name = base
        while name in self.taken:
            self.count[base] = self.count.get(base, 1) + 1
            name = f"{base}_{self.count[base]}"
        self.taken.add(name)
        return name


# ---------------------------------------------------------------------------
# compile
# ---------------------------------------------------------------------------
def compile(fn: Callable[..., Any], *, check: bool | int = False) -> Compiled:  # noqa: A001 - as torch.compile
    """Compile ``fn``: trace it on the first call, then run generated straight-line code.

    ``fn`` takes numbers, or lists of numbers, and returns a Value (or a list
    of Values) computed from them and from Values it finds elsewhere (a
    model's parameters). ``check=True`` also runs ``fn`` eagerly on every call
    and raises ``CompileError`` when its graph or result differs from the
    trace; ``check=k`` does so on every k-th call.

    >>> from autograd import Value
    >>> w = Value(3.0, label="w")
    >>> f = compile(lambda x: (x * w).tanh())
    >>> out = f(0.5)
    >>> out.backward()
    >>> round(w.grad, 6)   # d tanh(x w)/dw = x (1 - tanh^2)
    0.090353
    """
    if not callable(fn):
        raise TypeError(f"compile() takes a function, got {type(fn).__name__}")
    if isinstance(check, bool):
        every = 1 if check else 0
    elif isinstance(check, int) and check >= 0:
        every = check
    else:
        raise ValueError(f"check is True, False or a whole number k >= 1 (check every k-th call), got {check!r}")
    return Compiled(fn, every)


class Compiled:
    """A function compiled by ``autograd.compile``: call it like the function.

    * ``f(*inputs)`` returns the output Value(s); ``f.map(rows)`` calls it once
      per row of inputs, reading the parameters once (fastest for a batch).
    * ``f.backward()`` is ``backward()`` from the latest call's output.
    * ``f.source`` is the generated code; ``f.params`` the Values read at each call.

    Equal to eager: values and gradients are computed by the engine's own
    formulas in the engine's order, so they are bit for bit the same when each
    call's graph is separate from the rest of the computation. Where traced
    nodes use only parameters (``w * 2`` inside ``fn``), the compiled code
    recomputes them for each call, while an eager program that computed them
    once outside would add their gradients in another order (equal to about
    1e-15 relative). An input passed to ``dot`` as a plain number is a
    placeholder Value here: a zero gradient can differ in sign from eager's
    when a parameter is inf or nan.
    """

    def __init__(self, fn: Callable[..., Any], check_every: int) -> None:
        self.fn = fn
        self.check_every = check_every
        self.calls = 0
        self.params: list[Value] = []
        self.source = ""
        self._traced = False
        self._last: _Call | None = None

    # ---- calling ----------------------------------------------------------------
    def __call__(self, *inputs: Any) -> Any:
        if not self._traced:
            return self._trace(inputs)
        return self._run([inputs])[0]

    def map(self, *iterables: Iterable[Any]) -> list[Any]:
        """``[f(*args) for args in zip(*iterables)]``, as Python's ``map``, reading the parameters once.

        ``f.map(X)`` calls ``f(x)`` for each ``x`` in ``X``; ``f.map(X, Y)`` calls ``f(x, y)``.
        """
        return self._run([tuple(args) for args in zip(*iterables)])

    def _run(self, rows: list[tuple[Any, ...]]) -> list[Any]:
        results: list[Any] = []
        if not self._traced:
            if not rows:
                return []
            results.append(self._trace(rows[0]))
            rows = rows[1:]
        flat = [self._flatten(r) for r in rows]
        pdata = tuple(p.data for p in self.params)
        recording = not current_mode()
        for row, (datas, tape) in zip(rows, self._forward(pdata, flat)):
            self.calls += 1
            if self.check_every and self.calls % self.check_every == 0:
                self._check(row, datas)
            results.append(self._outputs(datas, pdata, tape, recording))
        return results

    def _outputs(self, datas: tuple[float, ...], pdata: tuple[float, ...], tape: tuple[float, ...], recording: bool) -> Any:
        if not recording:  # inside no_grad(): plain numbers in Values, no graph
            outs: list[Value] = [Value(d) for d in datas]
        else:
            call = _Call(self, pdata, tape)
            self._last = call
            for k, d in enumerate(datas):
                v = CompiledValue(d, (), (), self._op)
                v.call, v.index = call, k
                call.outputs.append(v)
            outs = call.outputs  # type: ignore[assignment]
        return outs[0] if self._single else list(outs)

    def backward(self) -> None:
        """``backward()`` from the output of the latest call (the sum of its outputs' if several)."""
        if self._last is None:
            raise RuntimeError("call the compiled function before its backward()")
        outs = self._last.outputs
        (outs[0] if len(outs) == 1 else Value(0.0) + _sum_values(outs)).backward()

    # ---- inputs -----------------------------------------------------------------
    def _flatten(self, row: Sequence[Any]) -> list[float]:
        """The numbers of one call's inputs, checked against the traced shape."""
        if len(row) != len(self._shape):
            raise CompileError(f"{self._name} was traced with {len(self._shape)} inputs, got {len(row)}")
        flat: list[float] = []
        for k, (arg, size) in enumerate(zip(row, self._shape)):
            if size is None:
                flat.append(_input_number(arg, k))
            else:
                if not isinstance(arg, (list, tuple)) or len(arg) != size:
                    got = f"{len(arg)} numbers" if isinstance(arg, (list, tuple)) else type(arg).__name__
                    raise CompileError(
                        f"{self._name} was traced with input {k + 1} a list of {size} numbers, got {got}; "
                        "compile the function again for another shape"
                    )
                flat.extend(_input_number(x, k) for x in arg)
        return flat

    # ---- the trace ----------------------------------------------------------------
    def _run_eagerly(self, inputs: Sequence[Any]) -> tuple[list[Value], list[Value], bool]:
        """``fn`` on placeholder Values for ``inputs``, recording (whatever the grad mode)."""
        shape: list[int | None] = []
        placeholders: list[Value] = []
        args: list[Any] = []
        for k, arg in enumerate(inputs):
            if isinstance(arg, (list, tuple)):
                values = [Value(_input_number(x, k), label=f"x{k + 1}_{i + 1}") for i, x in enumerate(arg)]
                shape.append(len(values))
                placeholders.extend(values)
                args.append(values)
            else:
                v = Value(_input_number(arg, k), label=f"x{k + 1}")
                shape.append(None)
                placeholders.append(v)
                args.append(v)
        self._shape = shape
        token = MODE.set(0)  # trace with the graph recorded, even inside no_grad()
        try:
            result = self.fn(*args)
        finally:
            MODE.reset(token)
        single = isinstance(result, Value)
        outputs = [result] if single else list(result) if isinstance(result, (list, tuple)) else None
        if not outputs or not all(isinstance(o, Value) for o in outputs):
            raise CompileError(f"{self._name} must return a Value or a list of Values, got {type(result).__name__}")
        return placeholders, outputs, single

    @property
    def _name(self) -> str:
        return f"the compiled function {getattr(self.fn, '__name__', 'fn')!r}"

    def _trace(self, inputs: Sequence[Any]) -> Any:
        placeholders, outputs, single = self._run_eagerly(inputs)
        leaves, nodes = _graph(outputs)
        for node in nodes:
            _check_node(node)
            consts = getattr(node, "constants", None)
            if consts and consts[0] == MAKE_OP:
                _check_replay(node, consts[1])
        is_input = {id(p): k for k, p in enumerate(placeholders)}
        self.params = [leaf for leaf in leaves if id(leaf) not in is_input]
        self._param_set = set(self.params)
        self._single = single
        self._op = f"compiled {getattr(self.fn, '__name__', 'fn')}"
        self._signature = _signature(placeholders, self.params, nodes, outputs)
        self._generate(placeholders, nodes, outputs)
        self._traced = True
        # the trace itself was one call: answer it with the compiled code, so every call is alike
        return self._run([tuple(inputs)])[0]

    def _check(self, row: Sequence[Any], datas: tuple[float, ...]) -> None:
        """Run ``fn`` eagerly; raise unless it builds the traced graph and computes the same numbers."""
        shape = self._shape
        placeholders, outputs, _ = self._run_eagerly(row)
        self._shape = shape
        leaves, nodes = _graph(outputs)
        is_input = {id(p) for p in placeholders}
        params = [leaf for leaf in leaves if id(leaf) not in is_input]
        signature = _signature(placeholders, params, nodes, outputs)
        if signature != self._signature:
            old, new = self._signature, signature
            raise CompileError(
                f"{self._name} built a different graph on call {self.calls} than when it was traced "
                f"({len(new[2])} operations and {len(new[3])} outputs now, {len(old[2])} and {len(old[3])} traced): "
                "Python control flow in it depends on its inputs. Compiled code always takes the traced path "
                "(as torch.jit.trace does): use Value operations (relu, abs, maxout) for such choices, "
                "or do not compile this function"
            )
        eager = tuple(o.data for o in outputs)
        if not _same(eager, datas):
            raise CompileError(f"{self._name} computed {list(datas)} on call {self.calls}; run eagerly it gives {list(eager)}")

    # ---- code generation ------------------------------------------------------
    def _generate(self, placeholders: list[Value], nodes: list[Value], outputs: list[Value]) -> None:
        names = _Names()
        var: dict[int, str] = {}
        for p in placeholders:
            var[id(p)] = names.new(p, "x")
        for p in self.params:
            var[id(p)] = names.new(p, "p")
        for n in nodes:
            var[id(n)] = names.new(n, "v")
        rules: dict[str, Any] = {}
        fwd_lines: list[str] = []
        locals_of: dict[int, list[Local]] = {}
        for n in nodes:
            v, ps = var[id(n)], [var[id(p)] for p in n.parents]
            consts = getattr(n, "constants", None)
            if consts and consts[0] == MAKE_OP:
                rule = f"rule_{v}"
                rules[rule] = consts[1]
                args = "".join(f", {p}" for p in ps)
                fwd_lines.append(f"{v}, d_{v} = replay({rule}, {n.op!r}, {len(ps)}{args})")
                locals_of[id(n)] = [f"d_{v}[{k}]" for k in range(len(ps))]
            else:
                line, local = _write(n, v, ps, consts)
                fwd_lines.append(line)
                locals_of[id(n)] = local
        inputs = {id(p) for p in placeholders}
        out_ids = {id(o) for o in outputs}

        # backward: the chain rule in reversed topological order, as Value.backward
        bwd_lines: list[str] = []
        receives: set[str] = set()
        bounded = True  # every node's local derivatives bounded by the graph's numbers
        constants = 1.0  # bound of the constants among local derivatives (1 for relu's, tanh's...)
        widest = 1  # most local derivatives of one node
        for n in reversed(nodes):
            g = f"g_{var[id(n)]}"
            local = locals_of[id(n)]
            named: list[Local] = []
            for k, d in enumerate(local):
                if isinstance(d, str) and not d.isidentifier():
                    name = f"d_{var[id(n)]}_{k}"
                    bwd_lines.append(f"{name} = {d}")
                    named.append(name)
                else:
                    named.append(d)
            edges = []
            for parent, d in zip(n.parents, named):
                if id(parent) in inputs:
                    continue  # inputs are numbers: no gradient wanted
                gp = f"g_{var[id(parent)]}"
                receives.add(gp)
                if isinstance(d, float):
                    if d == 1.0:
                        edges.append(f"{gp} += {g}")
                    elif d == -1.0:
                        edges.append(f"{gp} -= {g}")
                    elif d != 0.0:  # a zero local derivative passes nothing
                        edges.append(f"{gp} += {_num(d)} * {g}")
                else:
                    edges.append(f"if {d}: {gp} += {d} * {g}")
            if not edges:
                continue
            if all(isinstance(d, float) and math.isfinite(d) for d in named):
                bwd_lines.append(f"if {g}:")  # 0 * finite = 0: nothing to add
            else:
                terms = ", ".join(_num(d) if isinstance(d, float) else d for d in named)
                consts_ = getattr(n, "constants", None)
                if n.op in _BOUNDED and not (consts_ and consts_[0] == MAKE_OP):
                    widest = max(widest, len(named))
                    constants += builtins.sum(abs(d) for d in named if isinstance(d, float))
                    constants += builtins.sum(abs(c) for c in consts_ or () if c is not None)
                    # finite: all numbers of this call are finite and no sum of them overflows
                    bwd_lines.append(f"if {g} or not (finite or isfinite(sum(({terms},)))):")
                else:
                    bounded = False
                    bwd_lines.append(f"if {g} or not isfinite(sum(({terms},))):")
            bwd_lines.extend(f"    {e}" for e in edges)

        used = set(re.findall(r"[A-Za-z_]\w*", "\n".join(bwd_lines)))
        tape = [var[id(n)] for n in (*placeholders, *nodes)] + [f"d_{var[id(n)]}" for n in nodes if f"d_{var[id(n)]}" in used]
        tape = [t for t in tape if t in used]
        pnames = [var[id(p)] for p in self.params]
        out_names = [var[id(o)] for o in outputs]
        xs = [var[id(p)] for p in placeholders]

        def unpack(names_: list[str]) -> str:
            return f"({', '.join(names_)},)" if names_ else "()"

        src = [f"def forward(pdata, rows):  # {self._name}, traced"]
        if pnames:
            src.append(f"    {unpack(pnames)} = pdata")
        src.append("    out = []")
        src.append("    append = out.append")
        src.append(f"    for {unpack(xs)} in rows:")
        src.extend(f"        {line}" for line in fwd_lines)
        src.append(f"        append(({unpack(out_names)}, {unpack(tape)}))")
        src.append("    return out")
        src.append("")
        src.append("def backward(P, pdata, calls):  # each call: (its tape, d root/d output for each output)")
        grads = [f"g_{p}" for p in pnames if f"g_{p}" in receives]
        index = {p: k for k, p in enumerate(pnames)}
        if pnames:
            src.append(f"    {unpack(pnames)} = pdata")
        for gname in grads:
            src.append(f"    {gname} = P[{index[gname[2:]]}].grad")
        seeds = [f"g_{o}" for o in out_names]
        uses_finite = any("(finite or" in line for line in bwd_lines)
        if uses_finite:
            # |a sum of local derivatives| <= widest * (constants + sum |parameters| + sum |call's numbers|)
            src.append(f"    bound = {_num(constants)} + sum(map(abs, pdata))")
            src.append(f"    for tape, {unpack(seeds)} in calls:")
            src.append(f"        {unpack(tape)} = tape")
            numbers = sum(1 for t in tape if not t.startswith("d_"))  # the make_op results' tuples come last
            part = "tape" if numbers == len(tape) else f"tape[:{numbers}]"
            src.append(f"        finite = isfinite({widest}.0 * (bound + sum(map(abs, {part}))))")
            if bounded:  # then a call whose output gradients are all 0 adds nothing anywhere
                src.append(f"        if finite and not ({' or '.join(seeds)}):")
                src.append("            continue")
        else:
            src.append(f"    for {unpack(tape)}, {unpack(seeds)} in calls:")
        interior = [f"g_{var[id(n)]}" for n in nodes if id(n) not in out_ids and f"g_{var[id(n)]}" in receives]
        if interior:
            src.append(f"        {' = '.join(interior)} = 0.0")
        src.extend(f"        {line}" for line in bwd_lines or ["pass  # nothing outside the inputs to differentiate"])
        for gname in grads:
            src.append(f"    P[{index[gname[2:]]}].grad = {gname}")
        if not grads:
            src.append("    pass")
        self.source = "\n".join(src) + "\n"
        namespace = {**NAMESPACE, **rules}
        code = builtins.compile(self.source, f"<compiled {getattr(self.fn, '__name__', 'fn')}>", "exec")
        exec(code, namespace)  # noqa: S102 - our own generated code, from the traced graph
        self._forward = namespace["forward"]
        self._backward = namespace["backward"]


def _input_number(x: Any, k: int) -> float:
    if isinstance(x, Value):
        raise TypeError(
            f"input {k + 1} of a compiled function is a Value; pass numbers (x.data), "
            "or let the function read the Value itself (as a model reads its parameters)"
        )
    return as_float(x, f"input {k + 1} of a compiled function")


def _sum_values(values: list[Value]) -> Value:
    from .engine import sum as value_sum

    return value_sum(values)


def _graph(outputs: list[Value]) -> tuple[list[Value], list[Value]]:
    """Leaves and computed nodes behind ``outputs``, in topological order (outputs' order kept)."""
    leaves: list[Value] = []
    nodes: list[Value] = []
    seen: set[int] = set()
    for out in outputs:
        ls, ns = leaves_and_computed(out)
        leaves.extend(v for v in ls if id(v) not in seen and not seen.add(id(v)))  # type: ignore[func-returns-value]
        nodes.extend(v for v in ns if id(v) not in seen and not seen.add(id(v)))  # type: ignore[func-returns-value]
    for leaf in leaves:
        if isinstance(leaf, CompiledValue):
            raise CompileError("a compiled function cannot use the output of another compiled call; compile them as one")
    return leaves, nodes


def _signature(placeholders: list[Value], params: list[Value], nodes: list[Value], outputs: list[Value]) -> tuple:
    """What the graph is, for comparing two runs: inputs, parameters (by identity), operations, outputs."""
    index: dict[int, Any] = {id(p): ("x", k) for k, p in enumerate(placeholders)}
    index.update({id(p): ("p", id(p)) for p in params})
    ops = []
    for k, n in enumerate(nodes):
        index[id(n)] = ("n", k)
        consts = getattr(n, "constants", None)
        consts = consts if not (consts and consts[0] == MAKE_OP) else (MAKE_OP,)
        ops.append((n.op, tuple(index[id(p)] for p in n.parents), repr(consts)))
    return (len(placeholders), len(params), tuple(ops), tuple(index[id(o)] for o in outputs))


# ---------------------------------------------------------------------------
# backward() through a graph holding compiled outputs
# ---------------------------------------------------------------------------
def _order(root: Value) -> tuple[list[Value], list[Value]]:
    """As the engine's topological order, with each compiled output a node behind its function's parameters."""
    leaves: list[Value] = []
    computed: list[Value] = []
    expanded: set[int] = set()

    def parents(node: Value) -> Iterable[Value]:
        if type(node) is CompiledValue:
            f = node.call.compiled
            if id(f) in expanded:
                return ()
            expanded.add(id(f))
            return f.params
        return node.parents

    visited = {root}
    stack = [(root, iter(parents(root)))]
    while stack:
        node, ps = stack[-1]
        for parent in ps:
            if parent not in visited:
                visited.add(parent)
                if not parent.parents and type(parent) is not CompiledValue:
                    leaves.append(parent)
                else:
                    stack.append((parent, iter(parents(parent))))
                    break
        else:
            stack.pop()
            computed.append(node)
    return leaves, computed


def backward_through_compiled(root: Value) -> None:
    """``root.backward()`` when compiled outputs are in its graph: eager nodes as the engine, calls as code.

    The compiled outputs sit in the order where eager ``backward()`` would
    reach their graphs; runs of consecutive calls of one function (on the same
    parameter values) go through its backward code together, keeping each
    parameter's gradient in a local variable.
    """
    leaves, nodes = _order(root)
    earlier = root._start_backward(leaves, nodes)  # the engine's own start: gradients zeroed, leaves set aside
    in_graph: dict[int, int] = {}  # call -> its outputs in this graph
    reached: set[int] = set()
    for node in nodes:
        if type(node) is CompiledValue:
            in_graph[id(node.call)] = in_graph.get(id(node.call), 0) + 1
            reached.add(id(node))
    pending: list[tuple[tuple[float, ...], tuple[float, ...]]] = []
    owner: _Call | None = None  # the call whose function and parameter values the pending calls share

    def flush() -> None:
        nonlocal owner
        if owner is not None:
            f = owner.compiled
            f._backward(f.params, owner.pdata, pending)
            pending.clear()
            owner = None

    for node in reversed(nodes):
        if type(node) is CompiledValue:
            call = node.call
            left = in_graph[id(call)] - 1
            in_graph[id(call)] = left
            if left:
                continue  # the call's other outputs come later: it runs once all have their gradients
            if owner is not None and (owner.compiled is not call.compiled or owner.pdata is not call.pdata):
                flush()
            if owner is not None and node in owner.compiled._param_set:
                flush()
            owner = call
            # d root/d output: outputs outside this graph (not zeroed above) contribute nothing
            pending.append((call.tape, tuple(o.grad if id(o) in reached else 0.0 for o in call.outputs)))
            continue
        if owner is not None and any(p in owner.compiled._param_set for p in node.parents):
            flush()  # this node adds into a parameter: the pending calls' gradients come first
        upstream = node.grad
        if upstream == 0.0 and math.isfinite(builtins.sum(node.local_grads)):
            continue
        for parent, local_grad in zip(node.parents, node.local_grads):
            if local_grad:
                parent.grad += local_grad * upstream
    flush()
    for leaf, grad in earlier:
        leaf.grad += grad

