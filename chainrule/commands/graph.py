"""``chainrule graph``: differentiate an expression, print every gradient and draw the graph."""

from __future__ import annotations

import argparse
import math
import re
import sys
import unicodedata
from typing import Any

from nn.checks import shorten

from ..expr import FUNCTIONS, ExpressionError, evaluate, names_in, parse_assignment, parse_expression
from ..files import check_output, graph_format, write_graph
from .base import UsageError, formatter, whole_number

EXAMPLE = f"""\
examples:
  chainrule graph "tanh(x*w + b)" x=2 w=-3 b=6.8813735870195432 -o neuron.svg
  chainrule graph "x**2 + 2**x" x=3 --steps

  Expressions use + - * / **, unary minus, numbers, names and the functions
  {' '.join(FUNCTIONS)}.
  Names are compared as Python compares them (after NFKC normalisation).
  The output file's extension picks the format: .svg .png .pdf or .dot.
  Without -o the picture is named after the expression: graph-tanh_x_w_b.svg."""


def add_graph_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "graph",
        help="differentiate an expression and draw its graph",
        description="Build an expression's computation graph, run backward, "
        "print every input's gradient and draw the graph.",
        epilog=EXAMPLE,
        formatter_class=formatter,
    )
    parser.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    parser.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for every name, e.g. x=2")
    parser.add_argument("-o", "--output", default=None,
                        help="picture to write (default: graph-<the expression>.svg)")
    parser.add_argument("--steps", action="store_true", help="print each chain-rule step of backward")
    parser.add_argument("--max-nodes", type=whole_number(), default=500, help=argparse.SUPPRESS)
    parser.set_defaults(func=cmd_graph)


def default_output(expression: str) -> str:
    """``graph-<expression>.svg``: letters, digits and ``_`` of the expression, so each expression has its own file."""
    text = unicodedata.normalize("NFKC", expression)
    slug = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:40].rstrip("_")
    return f"graph-{slug}.svg" if slug else "graph.svg"


def cmd_graph(args: argparse.Namespace) -> int:
    from autograd import Value, draw_dot

    output = check_output(args.output if args.output is not None else default_output(args.expression))
    graph_format(output)  # an unknown extension is refused before any work
    try:
        tree = parse_expression(args.expression)
        given = _bindings(args.values)
        names = names_in(tree)
        leaves = {name: Value(number, label=name) for name, number in given.items()}
        out = evaluate(tree, leaves)  # checks that every name has a value
        unused = [n for n in given if n not in names]
        if unused:
            listed = shorten(", ".join(unused), 120)
            raise ExpressionError(f"{listed} given but not used in the expression")
    except ExpressionError as err:
        raise UsageError(str(err)) from None
    out.label = "out"

    if args.steps:
        print("chain rule, one step at a time (parent.grad += local * upstream):")
        for i, s in enumerate(out.backward_steps(), 1):
            print(
                f"  {i:3d}. {_name(s.parent):>8} <- {s.node.op:<10} local {s.local_grad:<11.6g}"
                f" x upstream {s.upstream:<11.6g} = {s.contribution:.6g}"
            )
        print()
    else:
        out.backward()

    print(f"{args.expression.strip()} = {out.data:.10g}")
    width = max([4, *(len(n) for n in names)])
    print(f"  {'name':<{width}}  {'value':>14}  {'gradient':>14}")
    for name in names:
        leaf = leaves[name]
        print(f"  {name:<{width}}  {leaf.data:>14.10g}  {leaf.grad:>14.10g}")
    _warn_if_not_finite(out, [leaves[name] for name in names])

    written = write_graph(draw_dot(out, max_nodes=args.max_nodes), output)
    print(f"wrote {written}")
    return 0


def _bindings(texts: list[str]) -> dict[str, float]:
    given: dict[str, float] = {}
    for text in texts:
        name, number = parse_assignment(text)
        if name in given:
            raise ExpressionError(f"{shorten(name, 40)} is given twice")
        given[name] = number
    return given


def _warn_if_not_finite(out: Any, leaves: list[Any]) -> None:
    """One line on stderr when the result or a gradient is nan or inf (IEEE rules, as in PyTorch)."""
    numbers = [("the result", out.data), *((f"the gradient of {v.label}", v.grad) for v in leaves)]
    bad = [name for name, x in numbers if not math.isfinite(x)]
    if bad:
        print(
            f"chainrule graph: warning: nan or inf in {shorten(', '.join(bad), 120)} "
            "(from e.g. log of a negative number, 0/0, or a number too large for a float)",
            file=sys.stderr,
        )


def _name(v: Any) -> str:
    return v.label or (f"[{v.op}]" if v.op else f"{v.data:.4g}")
