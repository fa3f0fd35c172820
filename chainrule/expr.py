"""Safe arithmetic expressions over Values: parsed with ``ast``, never ``eval``.

Allowed: numbers, names given a value, ``+ - * / **``, unary ``-`` and ``+``,
and calls of the Value methods as functions (``tanh(x)``, ``exp(x)``,
``leaky_relu(x, 0.1)``...). Anything else (attributes, subscripts, lambdas,
comprehensions, keywords, strings...) is refused before anything runs.

Names follow Python's rule: they are compared after NFKC normalisation, in the
expression and in ``NAME=VALUE`` bindings alike, so the full-width ``ｘ`` is
the name ``x`` and ``ｅｘｐ(x)`` is the function ``exp``.
"""

from __future__ import annotations

import ast
import math
import operator
import unicodedata
from collections.abc import Callable, Mapping

from autograd import Value
from nn.checks import shorten

__all__ = [
    "ExpressionError",
    "parse_expression",
    "parse_assignment",
    "evaluate",
    "names_in",
    "FUNCTIONS",
    "MAX_LENGTH",
    "MAX_NODES",
]

MAX_LENGTH = 1000  # characters
MAX_NODES = 400  # syntax-tree nodes

# name -> (function, number of extra plain-number arguments allowed)
FUNCTIONS: dict[str, tuple[Callable[..., Value], int]] = {
    "exp": (Value.exp, 0),
    "log": (Value.log, 0),
    "sqrt": (Value.sqrt, 0),
    "tanh": (Value.tanh, 0),
    "sigmoid": (Value.sigmoid, 0),
    "relu": (Value.relu, 0),
    "leaky_relu": (Value.leaky_relu, 1),
    "elu": (Value.elu, 1),
    "softplus": (Value.softplus, 0),
    "sin": (Value.sin, 0),
    "cos": (Value.cos, 0),
    "abs": (Value.__abs__, 0),
}

_BINARY: dict[type, Callable[[Value, Value], Value]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}

_DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'",
    ast.IfExp: "'if' expressions",
    ast.JoinedStr: "strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.NamedExpr: "assignments",
    ast.Starred: "starred arguments",
    ast.Await: "await",
}


class ExpressionError(ValueError):
    """The expression is not one this calculator accepts."""


def parse_expression(text: str) -> ast.Expression:
    """Parse and check ``text``; return its syntax tree or raise ``ExpressionError``."""
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ExpressionError(f"cannot parse the expression: {shorten(str(err.msg), 200)}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply") from None
    except UnicodeError:  # a lone surrogate, which no text encoding can hold
        raise ExpressionError("the expression holds a lone surrogate, which is not a character") from None
    except ValueError:  # Python 3.10 says "source code string cannot contain null bytes" this way
        raise ExpressionError("cannot parse the expression: it contains a null byte") from None
    check_tree(tree)
    return tree


def check_tree(tree: ast.Expression) -> None:
    """Raise ``ExpressionError`` unless ``tree`` is small and uses only what this calculator allows."""
    if not isinstance(tree, ast.Expression):
        raise ExpressionError(f"expected a parsed expression, got {type(tree).__name__}")
    nodes = list(ast.walk(tree))  # ast.walk is iterative: safe on any depth
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"the expression has {len(nodes)} parts; the limit is {MAX_NODES}")
    for node in nodes:
        _check(node)


def _check(node: ast.AST) -> None:
    if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
        if isinstance(node, ast.operator) and type(node) not in _BINARY:
            raise ExpressionError(f"the operator {type(node).__name__} is not allowed; use + - * / **")
        if isinstance(node, ast.unaryop) and not isinstance(node, (ast.USub, ast.UAdd)):
            raise ExpressionError("only unary minus and plus are allowed")
        return
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Name)):
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExpressionError(f"only numbers are allowed as constants, got {shorten(repr(node.value), 40)}")
        _as_float(node.value)  # a number too large for a float is refused here, before anything runs
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            what = _DESCRIPTIONS.get(type(node.func), "anything but a function name")
            raise ExpressionError(f"{what} not allowed in an expression; the functions are {', '.join(FUNCTIONS)}")
        if node.func.id not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {shorten(node.func.id, 40)!r}; the functions are {', '.join(FUNCTIONS)}"
            )
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes no keyword arguments")
        _, extra = FUNCTIONS[node.func.id]
        if not 1 <= len(node.args) <= 1 + extra:
            expected = "one argument" if extra == 0 else f"one argument and up to {extra} number(s)"
            raise ExpressionError(f"{node.func.id}() takes {expected}, got {len(node.args)}")
        for arg in node.args[1:]:
            if not _is_number_literal(arg):
                raise ExpressionError(f"the extra argument of {node.func.id}() must be a number")
        return
    what = _DESCRIPTIONS.get(type(node), type(node).__name__)
    raise ExpressionError(f"{what} not allowed in an expression")


def _as_float(number: int | float) -> float:
    try:
        return float(number)
    except OverflowError:
        digits = str(abs(number))
        raise ExpressionError(
            f"the number {digits[:12]}... ({len(digits)} digits) is too large for a float; "
            "write it as 1e400 (which is inf) or use a smaller number"
        ) from None


def _is_number_literal(node: ast.AST) -> bool:
    """A number written in the expression, possibly signed: ``2``, ``-0.5``."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _number_literal(node: ast.AST) -> float:
    if isinstance(node, ast.UnaryOp):
        value = _number_literal(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    assert isinstance(node, ast.Constant)
    return _as_float(node.value)


def names_in(tree: ast.AST) -> list[str]:
    """The variable names an expression uses, in order of first appearance."""
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return list(dict.fromkeys(n.id for n in found))


def evaluate(tree: ast.Expression, values: Mapping[str, Value]) -> Value:
    """Build the expression's graph from ``values`` (name -> leaf Value).

    The tree is checked as ``parse_expression`` checks it (at most
    ``MAX_NODES`` nodes), so the recursive walk stays far from Python's
    recursion limit.
    """
    check_tree(tree)
    for name in names_in(tree):
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function; call it like {name}(x)")
        if name not in values:
            raise ExpressionError(f"no value for {shorten(name, 40)!r}; give one like {shorten(name, 40)}=1.5")
    try:
        return _eval(tree.body, values)
    except RecursionError:  # only when the caller's own stack is already nearly full
        raise ExpressionError("the expression is nested too deeply") from None


def _eval(node: ast.AST, values: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant):
        return Value(_as_float(node.value))
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, values)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, values)
        if isinstance(node.op, ast.Pow) and _is_number_literal(node.right):
            return left ** _number_literal(node.right)  # a number exponent (x**2) stays a number, as in Python
        return _BINARY[type(node.op)](left, _eval(node.right, values))
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        fn, _ = FUNCTIONS[node.func.id]
        extra = [_number_literal(arg) for arg in node.args[1:]]
        return fn(_eval(node.args[0], values), *extra)
    raise ExpressionError(f"{type(node).__name__} not allowed in an expression")  # pragma: no cover


def parse_assignment(text: str) -> tuple[str, float]:
    """``"x=2.5"`` -> ``("x", 2.5)``; the name is NFKC-normalised as Python normalises names."""
    name, sep, number = text.partition("=")
    name = unicodedata.normalize("NFKC", name.strip())
    if not sep:
        raise ExpressionError(f"expected NAME=VALUE, got {shorten(repr(text), 60)}")
    if not name.isidentifier():
        raise ExpressionError(f"{shorten(name, 40)!r} is not a valid name (in {shorten(repr(text), 60)})")
    if name in FUNCTIONS:
        raise ExpressionError(f"{name!r} is a function name; pick another variable name")
    shown = shorten(number.strip(), 40)
    try:
        value = float(number)
    except ValueError:
        raise ExpressionError(f"the value of {shorten(name, 40)} must be a number, got {shown!r}") from None
    if not math.isfinite(value):
        raise ExpressionError(f"the value of {shorten(name, 40)} must be a finite number, got {shown!r}")
    return name, value
