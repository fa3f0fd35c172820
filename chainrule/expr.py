"""Safe arithmetic expressions over Values: parsed with ``ast``, never ``eval``.

Allowed: numbers, names given a value, ``+ - * / **``, unary ``-`` and ``+``,
and calls of the Value methods as functions (``tanh(x)``, ``exp(x)``,
``leaky_relu(x, 0.1)``...). Anything else (attributes, subscripts, lambdas,
comprehensions, keywords, strings...) is refused before anything runs.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping

from autograd import Value

__all__ = ["ExpressionError", "parse_expression", "evaluate", "FUNCTIONS", "MAX_LENGTH"]

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
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}

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
        raise ExpressionError(f"cannot parse the expression: {err.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"the expression has {len(nodes)} parts; the limit is {MAX_NODES}")
    for node in nodes:
        _check(node)
    return tree


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
            raise ExpressionError(f"only numbers are allowed as constants, got {node.value!r}")
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            what = _DESCRIPTIONS.get(type(node.func), "anything but a function name")
            raise ExpressionError(f"{what} not allowed in an expression; the functions are {', '.join(FUNCTIONS)}")
        if node.func.id not in FUNCTIONS:
            raise ExpressionError(f"unknown function {node.func.id!r}; the functions are {', '.join(FUNCTIONS)}")
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


def _is_number_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _number_literal(node: ast.AST) -> float:
    if isinstance(node, ast.UnaryOp):
        value = _number_literal(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    assert isinstance(node, ast.Constant)
    return float(node.value)


def names_in(tree: ast.AST) -> list[str]:
    """The variable names an expression uses, in order of first appearance."""
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls]
    found.sort(key=lambda n: (n.lineno, n.col_offset))
    return list(dict.fromkeys(n.id for n in found))


def evaluate(tree: ast.Expression, values: Mapping[str, Value]) -> Value:
    """Build the expression's graph from ``values`` (name -> leaf Value).

    Walks the tree with an explicit stack, so nesting depth cannot exhaust
    Python's recursion limit.
    """
    for name in names_in(tree):
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function; call it like {name}(x)")
        if name not in values:
            raise ExpressionError(f"no value for {name!r}; give one like {name}=1.5")
    results: dict[int, Value] = {}
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if not children_done and children:
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        results[id(node)] = _apply(node, results, values)
    return results[id(tree.body)]


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return [node.args[0]]
    return []


def _apply(node: ast.AST, results: dict[int, Value], values: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant):
        return Value(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = results[id(node.operand)]
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = results[id(node.left)], results[id(node.right)]
        if isinstance(node.op, ast.Pow) and not right.parents and not right.label:
            # a number exponent (x**2) stays a number, as in Python
            return left ** right.data
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call):
        assert isinstance(node.func, ast.Name)
        fn, _ = FUNCTIONS[node.func.id]
        extra = [_number_literal(arg) for arg in node.args[1:]]
        return fn(results[id(node.args[0])], *extra)
    raise ExpressionError(f"{type(node).__name__} not allowed in an expression")  # pragma: no cover


def parse_assignment(text: str) -> tuple[str, float]:
    """``"x=2.5"`` -> ``("x", 2.5)``."""
    name, sep, number = text.partition("=")
    name = name.strip()
    if not sep:
        raise ExpressionError(f"expected NAME=VALUE, got {text!r}")
    if not name.isidentifier():
        raise ExpressionError(f"{name!r} is not a valid name (in {text!r})")
    if name in FUNCTIONS:
        raise ExpressionError(f"{name!r} is a function name; pick another variable name")
    try:
        value = float(number)
    except ValueError:
        raise ExpressionError(f"the value of {name} must be a number, got {number.strip()!r}") from None
    if not math.isfinite(value):
        raise ExpressionError(f"the value of {name} must be finite, got {number.strip()!r}")
    return name, value
