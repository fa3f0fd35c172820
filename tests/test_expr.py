"""chainrule/expr.py: the whitelist parser and the graph it builds."""

from __future__ import annotations

import ast
import math

import pytest

from autograd import Value
from chainrule.expr import (
    MAX_NODES,
    ExpressionError,
    evaluate,
    names_in,
    parse_assignment,
    parse_expression,
)


def build(text: str, **values: float) -> tuple[Value, dict[str, Value]]:
    leaves = {name: Value(v, label=name) for name, v in values.items()}
    return evaluate(parse_expression(text), leaves), leaves


def test_evaluate_builds_the_same_graph_as_python():
    out, leaves = build("-x**2 + 2**y / (1 + exp(x)) - leaky_relu(y, 0.2)", x=0.5, y=-1.5)
    out.backward()
    x, y = Value(0.5), Value(-1.5)
    ref = -x**2 + 2**y / (1 + x.exp()) - y.leaky_relu(0.2)
    ref.backward()
    assert out.data == ref.data
    assert (leaves["x"].grad, leaves["y"].grad) == (x.grad, y.grad)


@pytest.mark.parametrize("text", ["x**2", "x**-2", "x**+0.5", "x**2.5"])
def test_a_number_exponent_stays_a_number(text):
    out, leaves = build(text, x=3.0)
    assert out.parents == (leaves["x"],)  # the exponent is folded in, not a second input
    out.backward()
    exponent = float(text[3:])
    assert out.data == pytest.approx(3.0**exponent)
    assert leaves["x"].grad == pytest.approx(exponent * 3.0 ** (exponent - 1))


def test_a_named_exponent_is_an_input_even_without_a_label():
    x, y = Value(2.0, label="x"), Value(3.0)  # y has no label: still a variable, not a constant
    out = evaluate(parse_expression("x**y"), {"x": x, "y": y})
    assert set(out.parents) == {x, y}
    out.backward()
    assert out.data == 8.0
    assert x.grad == pytest.approx(12.0)  # y * x**(y-1)
    assert y.grad == pytest.approx(8.0 * math.log(2.0))  # x**y * ln x


def test_evaluate_checks_the_tree_it_is_given():
    big = ast.parse("-" * (MAX_NODES + 10) + "x", mode="eval")  # bypasses parse_expression's checks
    with pytest.raises(ExpressionError, match="parts; the limit is 400"):
        evaluate(big, {"x": Value(1.0)})
    hostile = ast.parse("x.__class__", mode="eval")
    with pytest.raises(ExpressionError, match="attribute access"):
        evaluate(hostile, {"x": Value(1.0)})


def test_nesting_up_to_the_limit_evaluates():
    out, _ = build("-" * 190 + "x", x=2.0)
    assert out.data == 2.0
    out, _ = build("(" * 150 + "x" + ")" * 150, x=2.0)
    assert out.data == 2.0


@pytest.mark.parametrize(
    "text, message",
    [("x\ud800", "lone surrogate"), ("x\x00+1", "null byte"), ("x\u200b+1", "U\\+200B"), ("", "empty")],
)
def test_text_that_is_not_an_expression(text, message):
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text)


def test_too_deep_nesting_is_an_expression_error():
    with pytest.raises(ExpressionError, match="nested|parts"):
        parse_expression("(" * 250 + "x" + ")" * 250)


@pytest.mark.parametrize(
    "text",
    ["1" + "0" * 400 + " * x", "leaky_relu(x, 1" + "0" * 400 + ")", "elu(x, -1" + "0" * 400 + ")"],
)
def test_a_number_too_large_for_a_float_is_refused_before_anything_runs(text):
    with pytest.raises(ExpressionError, match=r"\(401 digits\) is too large for a float"):
        parse_expression(text)


def test_huge_float_literals_follow_ieee():
    out, _ = build("1e999 * x", x=1.0)
    assert out.data == math.inf


def test_names_are_normalised_as_python_normalises_them():
    tree = parse_expression("ｅｘｐ(ｘ) * 2")  # full-width letters: exp(x) * 2
    assert names_in(tree) == ["x"]
    name, value = parse_assignment("ｘ=1")
    assert (name, value) == ("x", 1.0)
    out = evaluate(tree, {name: Value(value, label=name)})
    assert out.data == pytest.approx(2 * math.e)
    with pytest.raises(ExpressionError, match="'exp' is a function name"):
        parse_assignment("ｅｘｐ=1")


def test_parse_assignment():
    assert parse_assignment("x=2.5") == ("x", 2.5)
    assert parse_assignment(" w = -3 ") == ("w", -3.0)
    for bad, message in [
        ("x", "NAME=VALUE"),
        ("2x=1", "not a valid name"),
        ("x=nan", "finite"),
        ("x=1e999", "finite"),
        ("x=one", "must be a number"),
        ("exp=1", "function name"),
    ]:
        with pytest.raises(ExpressionError, match=message):
            parse_assignment(bad)


def test_error_messages_do_not_echo_huge_inputs():
    for text in ["x=" + "1" * 100_000, "x=" + "a" * 100_000, "1" + "y" * 100_000 + "=1"]:
        with pytest.raises(ExpressionError) as info:
            parse_assignment(text)
        assert len(str(info.value)) < 300


def test_unknown_names_and_functions():
    with pytest.raises(ExpressionError, match="no value for 'y'"):
        build("x + y", x=1.0)
    with pytest.raises(ExpressionError, match="'tanh' is a function"):
        evaluate(parse_expression("tanh + 1"), {})
    with pytest.raises(ExpressionError, match="unknown function 'open'"):
        parse_expression("open(x)")
