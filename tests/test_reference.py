"""``autograd/reference.py``, the engine on one page, computes what ``autograd/engine.py`` computes.

Both engines build the same random graphs (shared subexpressions included);
their outputs and leaf gradients must agree to 1e-12. No PyTorch needed.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import close
from hypothesis import HealthCheck, assume, given, settings
from random_graphs import CORE, build, graphs, output, value_ops

import autograd
from autograd import reference

EXAMPLES = int(os.environ.get("CHAINRULE_EXAMPLES", "300"))
REFERENCE_OPS = [name for name in CORE if name != "**"]  # the reference's ** takes a plain-number exponent


def _run(engine, graph):
    nodes = build(graph, engine.Value, value_ops(engine))
    n = len(graph[0])
    root = output(nodes, n, engine.sum)
    root.backward()
    return root.data, [leaf.grad for leaf in nodes[:n]]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(ops=REFERENCE_OPS))
def test_reference_engine_gives_the_same_numbers_as_the_engine(graph):
    try:
        expected_data, expected_grads = _run(reference, graph)
    except (OverflowError, ZeroDivisionError):  # plain Python floats raise where the engine gives inf
        assume(False)
    assume(math.isfinite(expected_data) and all(map(math.isfinite, expected_grads)))
    data, grads = _run(autograd, graph)
    assert close(data, expected_data, rel=1e-12, abs_=1e-12)
    for got, want in zip(grads, expected_grads):
        assert close(got, want, rel=1e-12, abs_=1e-12), (got, want)


def test_reference_tanh_neuron_by_hand():
    x1, x2 = reference.Value(2.0), reference.Value(0.0)
    w1, w2 = reference.Value(-3.0), reference.Value(1.0)
    b = reference.Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert close(o.data, math.sqrt(0.5))  # tanh(0.8814) = 1/sqrt(2); do/dn = 1 - o^2 = 0.5
    assert [close(v.grad, g) for v, g in [(x1, -1.5), (w1, 1.0), (x2, 0.5), (w2, 0.0), (b, 0.5)]] == [True] * 5


def test_reference_backward_has_no_recursion_limit():
    x = reference.Value(1.0)
    v = x
    for _ in range(200_000):
        v = v + 1.0
    v.backward()
    assert x.grad == 1.0 and v.data == 200_001.0


def test_reference_is_short():
    lines = Path(reference.__file__).read_text().splitlines()
    assert len(lines) <= 120


@pytest.mark.parametrize("package", ["autograd", "nn", "chainrule"])
def test_the_library_never_imports_the_reference(package):
    root = Path(autograd.__file__).resolve().parent.parent / package
    for path in root.rglob("*.py"):
        if path.name == "reference.py":
            continue
        text = path.read_text()
        assert "reference import" not in text and "autograd.reference" not in text, path


def test_importing_autograd_imports_neither_the_reference_nor_graphviz():
    code = "import sys, autograd; print(sorted(m for m in ('autograd.reference', 'graphviz') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
