"""The ``chainrule`` command, run as a user runs it: in a subprocess."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chainrule.expr import ExpressionError, evaluate, parse_assignment, parse_expression

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(
    not HAS_DOT and not os.environ.get("CI"), reason="the Graphviz 'dot' program is not installed"
)


def run(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def assert_usage_error(result: subprocess.CompletedProcess, pattern: str) -> None:
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert re.search(pattern, lines[0]), lines[0]


# ---------------------------------------------------------------------------
# chainrule graph
# ---------------------------------------------------------------------------
@needs_dot
def test_graph_of_the_tanh_neuron(tmp_path):
    result = run("graph", "tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432", "-o", "graph.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "= 0.7071067812" in result.stdout
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.startswith("  ")}
    assert float(rows["w"][1]) == pytest.approx(1.0)
    assert float(rows["x"][1]) == pytest.approx(-1.5)
    assert float(rows["b"][1]) == pytest.approx(0.5)
    svg = ET.parse(tmp_path / "graph.svg").getroot()
    assert svg.tag.endswith("svg")
    text = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    for word in ("x", "w", "b", "tanh", "out"):
        assert word in text.split()


def test_graph_steps_print_every_chain_rule_application(tmp_path):
    result = run("graph", "x*y + x", "x=3", "y=4", "--steps", "-o", "g.dot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    steps = [line for line in result.stdout.splitlines() if re.match(r"\s+\d+\.", line)]
    assert len(steps) == 4  # + has two parents, * has two
    assert "local 4" in result.stdout  # d(x*y)/dx = y
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert re.search(r"x\s+3\s+5\b", result.stdout)  # d/dx (xy + x) = y + 1


@needs_dot
@pytest.mark.parametrize("name, magic", [("g.png", b"\x89PNG"), ("g.pdf", b"%PDF")])
def test_graph_formats_by_extension(tmp_path, name, magic):
    result = run("graph", "exp(x) * sin(x)", "x=0.5", "-o", name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_graph_without_dot_writes_the_source_and_says_how_to_install(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path / "empty"))
    result = run("graph", "x*2", "x=1", "-o", "g.svg", cwd=tmp_path, env=env)
    assert result.returncode == 0
    assert "apt-get install graphviz" in result.stderr
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.svg").exists()


HOSTILE = [
    ("__import__('os').system('touch pwned')", r"not allowed|unknown function"),
    ("x.__class__", "attribute access"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in range(3)]", "comprehension|not allowed"),
    ("x[0]", "subscript"),
    ("open('f')", "unknown function 'open'"),
    ("x if x else x", "not allowed"),
    ("'a' * 3", "only numbers"),
    ("x" + "+x" * 5000, "characters long"),
    ("(" * 250 + "x" + ")" * 250, "nested"),
    ("x*" + "-" * 500 + "x", "parts"),
    ("tanh(x, y=2)", "keyword"),
    ("x @ x", "not allowed"),
    ("x == 1", "comparison"),
]


@pytest.mark.parametrize("expression, pattern", HOSTILE)
def test_hostile_expressions_are_refused_without_side_effects(tmp_path, expression, pattern):
    result = run("graph", expression, "x=1", "-o", "g.dot", cwd=tmp_path)
    assert_usage_error(result, pattern)
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing run


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["graph", "x + y", "x=1"], "no value for 'y'"),
        (["graph", "x + 1", "x=one"], "must be a number"),
        (["graph", "x + 1", "x"], "NAME=VALUE"),
        (["graph", "x + 1", "x=1", "z=2"], "z given but not used"),
        (["graph", "x + 1", "x=1", "-o", "g.jpeg"], "format"),
        (["graph", "x + 1", "x=1", "x=2"], "given twice"),
        (["graph", "tanh", "x=1"], "is a function"),
        (["train", "--data", "mnist"], "invalid choice"),
        (["train", "--hidden", "16,x"], "sizes like 16,16"),
        (["train", "--lr", "-1"], "positive number"),
        (["train", "--epochs", "many"], "whole number"),
        (["train", "--data", "iris", "--loss", "hinge", "--quiet"], "two classes"),
        (["predict", "missing.json", "1", "2"], "no such file"),
        (["predict", "model.json", "1", "two"], "expected a number"),
        (["nonsense"], "invalid choice"),
        (["demo", "--steps", "0"], "at least 1"),
    ],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, args, pattern):
    assert_usage_error(run(*args, cwd=tmp_path), pattern)


def test_unreadable_model_files(tmp_path):
    (tmp_path / "truncated.json").write_text('{"format": "chainrule')
    (tmp_path / "foreign.json").write_text('{"hello": "world"}')
    (tmp_path / "folder.json").mkdir()
    for name in ("truncated.json", "foreign.json", "folder.json"):
        result = run("predict", name, "1", "2", cwd=tmp_path)
        assert_usage_error(result, name.split(".")[0] if name == "folder.json" else ".")


def test_help_has_an_example_for_every_command(tmp_path):
    for command in ("demo", "graph", "train", "predict"):
        result = run(command, "--help", cwd=tmp_path)
        assert result.returncode == 0
        assert "example" in result.stdout and f"chainrule {command}" in result.stdout


# ---------------------------------------------------------------------------
# chainrule train / predict / demo
# ---------------------------------------------------------------------------
def test_train_xor_reaches_full_accuracy_and_saves(tmp_path):
    result = run("train", "--data", "xor", "--seed", "0", "--save", "xor.json", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "train accuracy 1.000" in result.stdout and "test accuracy 1.000" in result.stdout
    saved = json.loads((tmp_path / "xor.json").read_text())
    assert saved  # a real JSON document
    for x1, x2, label in [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]:
        out = run("predict", "xor.json", str(x1), str(x2), cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        score = float(out.stdout.split()[0])
        assert (score > 0) == bool(label)  # hinge: the sign is the class
    wrong = run("predict", "xor.json", "1", cwd=tmp_path)
    assert_usage_error(wrong, "takes 2 inputs")


def test_train_iris_with_cross_entropy(tmp_path):
    result = run("train", "--data", "iris", "--hidden", "8", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"test accuracy ([\d.]+)", result.stdout).group(1))
    assert accuracy >= 0.9


def test_demo_trains_and_writes_its_pictures(tmp_path):
    result = run("demo", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"accuracy (\d+)%", result.stdout).group(1))
    assert accuracy >= 95
    out = tmp_path / "out"
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "decision_boundary.png").read_bytes().startswith(b"\x89PNG")
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 100 and history["loss"][-1] < history["loss"][0]
    if HAS_DOT:
        svg = ET.parse(out / "neuron.svg").getroot()
        texts = {t.text for t in svg.iter() if t.tag.endswith("text")}
        assert {"x0", "x1", "w0", "w1", "b", "dot", "relu"} <= texts
    else:
        assert (out / "neuron.dot").exists()


def test_demo_without_dot_writes_dot_source(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path / "empty"))
    result = run("demo", "--out", "out", "--steps", "3", "--quiet", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "neuron.dot").read_text().startswith("digraph")
    assert "apt-get install graphviz" in result.stderr


# ---------------------------------------------------------------------------
# The expression module itself
# ---------------------------------------------------------------------------
def test_evaluate_builds_the_same_graph_as_python():
    from autograd import Value

    tree = parse_expression("-x**2 + 2**y / (1 + exp(x)) - leaky_relu(y, 0.2)")
    x, y = Value(0.5, label="x"), Value(-1.5, label="y")
    out = evaluate(tree, {"x": x, "y": y})
    out.backward()
    x2, y2 = Value(0.5), Value(-1.5)
    ref = -x2**2 + 2**y2 / (1 + x2.exp()) - y2.leaky_relu(0.2)
    ref.backward()
    assert out.data == ref.data and (x.grad, y.grad) == (x2.grad, y2.grad)


def test_deep_unary_nesting_evaluates_without_recursion():
    import ast

    from autograd import Value

    assert evaluate(parse_expression("-" * 190 + "x"), {"x": Value(2.0)}).data == 2.0
    deep = ast.parse("-" * 600 + "x", mode="eval")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(150)  # far less than the tree's depth
    try:
        assert evaluate(deep, {"x": Value(2.0)}).data == 2.0
    finally:
        sys.setrecursionlimit(limit)


def test_parse_assignment():
    assert parse_assignment("x=2.5") == ("x", 2.5)
    for bad in ("x", "2x=1", "x=nan", "exp=1"):
        with pytest.raises(ExpressionError):
            parse_assignment(bad)


def test_demo_without_matplotlib_skips_the_pictures_and_says_so(tmp_path):
    fake = tmp_path / "no_matplotlib" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'matplotlib'\")\n")
    env = dict(os.environ, PYTHONPATH=str(fake.parent))
    result = run("demo", "--out", "out", "--steps", "3", "--quiet", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "pip install 'chainrule[plot]'" in result.stderr
    out = tmp_path / "out"
    assert not (out / "loss.png").exists() and not (out / "decision_boundary.png").exists()
    assert (out / "history.json").exists()
