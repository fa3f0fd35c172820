"""Tests for autograd/draw.py: the DOT text, real rendering, limits, and backward frames."""

from __future__ import annotations

import errno
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager

import graphviz
import pytest
from helpers import needs_dot

import autograd
from autograd import (
    GraphvizNotFoundError,
    Group,
    Step,
    Value,
    backward_frames,
    backward_viewer,
    draw_dot,
    make_op,
)
from autograd import draw as draw_module
from autograd.draw import (
    GRAD_SCALE,
    INSTALL_GRAPHVIZ,
    NONFINITE_GRAD_COLOR,
    UNREACHED_COLOR,
    UNREACHED_FILL_COLOR,
    ZERO_GRAD_COLOR,
    Drawing,
    grad_color,
    step_caption,
    svg_body,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"


# --------------------------------------------------------------------------
# Helpers: small known graphs, and a reader for the DOT text
# --------------------------------------------------------------------------
def tanh_neuron(backward: bool = True) -> dict[str, Value]:
    """The micrograd lecture's neuron: o = tanh(x*w + b), after backward()."""
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8813735870195432, label="b")
    xw = x * w
    xw.label = "x*w"
    n = xw + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    if backward:
        o.backward()
    return {"x": x, "w": w, "b": b, "x*w": xw, "n": n, "o": o}


NEURON_RECORDS = {
    "x": "{ x | data 2 | grad -1.5 }",
    "w": "{ w | data -3 | grad 1 }",
    "x*w": "{ x*w | data -6 | grad 0.5 }",
    "b": "{ b | data 6.881 | grad 0.5 }",
    "n": "{ n | data 0.8814 | grad 0.5 }",
    "o": "{ o | data 0.7071 | grad 1 }",
}

NODE_LINE = re.compile(r'^\t+(\w+) \[label=("(?:[^"\\]|\\.)*"|<.*>|\S+?)(?: (.*))?\]$')
EDGE_LINE = re.compile(r"^\t+(\w+) -> (\w+)(?: \[(.*)\])?$")


class Dot:
    """The nodes and edges of a drawing, read back from its DOT text."""

    def __init__(self, g: graphviz.Digraph) -> None:
        self.labels: dict[str, str] = {}  # node id -> label text
        self.attrs: dict[str, str] = {}  # node id -> the other attributes, as text
        self.edges: list[tuple[str, str, str]] = []  # (tail, head, attributes)
        for line in g.source.splitlines():
            if m := EDGE_LINE.match(line):
                self.edges.append((m[1], m[2], m[3] or ""))
            elif m := NODE_LINE.match(line):
                label = m[2]
                if label.startswith('"'):
                    label = label[1:-1].replace('\\"', '"')
                self.labels[m[1]] = label
                self.attrs[m[1]] = m[3] or ""

    def records(self) -> dict[str, str]:
        """Value nodes (records), id -> label."""
        return {i: lab for i, lab in self.labels.items() if "shape=record" in self.attrs[i]}

    def id_of(self, label: str) -> str:
        (found,) = [i for i, lab in self.labels.items() if lab == label]
        return found

    def named_edges(self) -> list[tuple[str, str]]:
        """Edges with each end named by its label's first field."""

        return [(first_field(self.labels[t]), first_field(self.labels[h])) for t, h, _ in self.edges]

    def red_edges(self) -> list[tuple[str, str, str]]:
        return [e for e in self.edges if "color=red" in e[2]]


def first_field(label: str) -> str:
    """The name in a record label: "{ x | data 2 | grad -1.5 }" -> "x"."""
    return label.removeprefix("{").removesuffix("}").split("|")[0].strip()


def svg_texts(svg: str) -> list[str]:
    """Every piece of text in an SVG document."""
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    return [t.text for t in root.iter(SVG_NS + "text") if t.text]


@contextmanager
def recursion_limit(headroom: int) -> Iterator[None]:
    """Allow only ``headroom`` more nested calls than the current depth."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def chain(n: int) -> Value:
    """x -> tanh -> tanh -> ... (n operations, n + 1 Values)."""
    v = Value(0.5, label="x")
    for _ in range(n):
        v = v.tanh()
    return v


def hand_neuron(inputs: list[Value], weights: list[float], bias: float, title: str):
    """A neuron made from engine ops, tanh(dot(x, w) + b), and its group."""
    w = [Value(wi, label=f"w{i}") for i, wi in enumerate(weights, start=1)]
    b = Value(bias, label="b")
    d = autograd.dot(inputs, w)
    z = d + b
    a = z.tanh()
    return a, Group(title, a, [*w, b, d, z])


# --------------------------------------------------------------------------
# The DOT text of small known graphs
# --------------------------------------------------------------------------
def test_tanh_neuron_nodes_labels_and_numbers():
    v = tanh_neuron()
    g = draw_dot(v["o"])
    assert isinstance(g, graphviz.Digraph)
    d = Dot(g)
    assert sorted(d.records().values()) == sorted(NEURON_RECORDS.values())
    ops = {i: lab for i, lab in d.labels.items() if i not in d.records()}
    assert sorted(ops.values()) == ["*", "+", "tanh"]
    assert "rankdir=LR" in g.source
    assert g.value_count == 6
    copy = g.copy()
    assert isinstance(copy, Drawing) and copy.value_count == 6 and copy.source == g.source


def test_tanh_neuron_edges_go_input_op_output():
    d = Dot(draw_dot(tanh_neuron()["o"]))
    assert sorted(d.named_edges()) == sorted(
        [
            ("x", "*"), ("w", "*"), ("*", "x*w"),
            ("x*w", "+"), ("b", "+"), ("+", "n"),
            ("n", "tanh"), ("tanh", "o"),
        ]
    )  # fmt: skip


def test_show_grad_false_leaves_out_gradients():
    d = Dot(draw_dot(tanh_neuron()["o"], show_grad=False))
    assert "{ x | data 2 }" in d.records().values()
    assert not any("grad" in lab for lab in d.labels.values())


def test_numbers_have_four_significant_digits_and_tiny_ones_stay_visible():
    tiny = Value(1e-7, label="tiny")
    out = tiny * 3.0  # the 3.0 becomes an unlabelled constant leaf
    out.label = "out"
    out.backward()
    records = set(Dot(draw_dot(out)).records().values())
    assert records == {
        "{ tiny | data 1e-07 | grad 3 }",
        "{  | data 3 | grad 1e-07 }",  # a leaf without a label still draws
        "{ out | data 3e-07 | grad 1 }",
    }
    big = Value(123456.789, label="big")
    assert "{ big | data 1.235e+05 | grad 0 }" in Dot(draw_dot(big)).records().values()


def test_a_value_used_twice_appears_once():
    a = Value(3.0, label="a")
    b = a + 1.0
    b.label = "b"
    c = a * 2.0
    c.label = "c"
    d = b * c
    d.label = "d"
    d.backward()  # dd/da = c + 2b = 6 + 8
    dot = Dot(draw_dot(d))
    a_records = [lab for lab in dot.records().values() if lab.startswith("{ a |")]
    assert a_records == ["{ a | data 3 | grad 14 }"]
    a_id = dot.id_of("{ a | data 3 | grad 14 }")
    heads = sorted(dot.labels[h] for t, h, _ in dot.edges if t == a_id)
    assert heads == ["*", "+"]  # one node, an edge to each operation using it
    assert dot.named_edges().count(("b", "*")) == 1
    assert dot.named_edges().count(("c", "*")) == 1
    assert len(dot.records()) == 6  # a, b, c, d and the constants 1 and 2


def test_a_value_squared_has_two_edges_into_its_operation():
    x = Value(3.0, label="x")
    y = x * x
    y.backward()
    d = Dot(draw_dot(y))
    x_id = d.id_of("{ x | data 3 | grad 6 }")
    assert [(t, h) for t, h, _ in d.edges if t == x_id] == [(x_id, "v1op"), (x_id, "v1op")]


def test_node_ids_are_stable_and_numbered_in_topological_order():
    g1 = draw_dot(tanh_neuron()["o"])
    g2 = draw_dot(tanh_neuron()["o"])  # a new graph with the same shape
    assert g1.source == g2.source
    d = Dot(g1)
    assert sorted(d.records()) == [f"v{i}" for i in range(6)]
    assert d.records()["v0"] == NEURON_RECORDS["x"]
    assert d.records()["v5"] == NEURON_RECORDS["o"]
    assert d.labels["v5op"] == "tanh"


def test_special_characters_in_labels_are_escaped():
    a = Value(1.0, label='a|b{c}<d>"e\\f')
    d = Dot(draw_dot(a))
    assert d.records()["v0"] == '{ a\\|b\\{c\\}\\<d\\>"e\\\\f | data 1 | grad 0 }'


def test_a_label_that_is_not_a_string_is_drawn_as_its_text():
    v = Value(1.0)
    try:
        v.label = 123
    except TypeError:
        pytest.skip("Value refuses labels that are not strings")
    assert Dot(draw_dot(v)).records()["v0"] == "{ 123 | data 1 | grad 0 }"
    g = draw_dot(v, groups=[(7, v, [])], title=3.5)
    assert Dot(g).labels["g0"] == "7 | { data 1 | grad 0 }"
    assert "label=3.5 labelloc=t" in g.source


def invisible_characters() -> dict[str, Value]:
    """A graph whose labels, operation and title hold a NUL, a control character and a lone surrogate."""
    a = Value(2.0, label="a\x00b")
    c = Value(3.0, label="c\ud800d")
    out = make_op("m\x00ul\x01", a.data * c.data, [a, c], [c.data, a.data])
    out.label = "e\tf"
    out.backward()
    return {"a": a, "c": c, "out": out}


def test_invisible_characters_are_written_as_their_python_escapes():
    g = draw_dot(invisible_characters()["out"], title="t\x00")
    d = Dot(g)
    assert sorted(d.records().values()) == [
        "{ a\\\\x00b | data 2 | grad 3 }",
        "{ c\\\\ud800d | data 3 | grad 2 }",
        "{ e\\\\tf | data 6 | grad 1 }",
    ]
    assert d.labels["v2op"] == "m\\\\x00ul\\\\x01"
    assert 'label="t\\\\x00"' in g.source
    assert "\x00" not in g.source and "\ud800" not in g.source
    g.source.encode("utf-8")  # no lone surrogate left to fail the encoding


@needs_dot
def test_invisible_characters_render_as_visible_escapes():
    v = invisible_characters()
    texts = svg_texts(draw_dot(v["out"], title="t\x00").pipe(format="svg", encoding="utf-8"))
    for shown in ("a\\x00b", "c\\ud800d", "e\\tf", "m\\x00ul\\x01", "t\\x00"):
        assert shown in texts
    frames = backward_frames(v["out"])  # captions name the nodes by their labels
    assert "step 2 of 2: c\\ud800d.grad += de\\tf/dc\\ud800d * e\\tf.grad = 2 * 1 = 2" in svg_texts(frames[1])


def test_rankdir_top_to_bottom():
    g = draw_dot(tanh_neuron()["o"], rankdir="TB")
    assert "rankdir=TB" in g.source
    assert "x | data 2 | grad -1.5" in Dot(g).records().values()  # a row without braces


def test_root_must_be_a_value():
    with pytest.raises(TypeError, match="draw_dot\\(\\) draws the graph of one Value, got list"):
        draw_dot([Value(1.0)])


def test_title_is_a_caption():
    g = draw_dot(Value(1.0), title="my graph")
    assert 'label="my graph" labelloc=t' in g.source


# --------------------------------------------------------------------------
# Real rendering with the dot program
# --------------------------------------------------------------------------
@needs_dot
def test_svg_from_dot_contains_every_label():
    g = draw_dot(tanh_neuron()["o"])
    texts = svg_texts(g.pipe(format="svg", encoding="utf-8"))
    for record in NEURON_RECORDS.values():
        for field in record.strip("{ }").split(" | "):
            assert field in texts
    for op in ("*", "+", "tanh"):
        assert op in texts


@needs_dot
def test_render_writes_svg_and_png_files(tmp_path):
    g = draw_dot(tanh_neuron()["o"])
    png = g.render(tmp_path / "neuron", format="png")
    assert png.endswith("neuron.png")
    with open(png, "rb") as f:
        assert f.read(8) == PNG_MAGIC
    assert g.pipe(format="png")[:8] == PNG_MAGIC
    svg = g.render(tmp_path / "neuron", format="svg")
    with open(svg, encoding="utf-8") as f:
        assert "grad -1.5" in svg_texts(f.read())


@needs_dot
def test_jupyter_shows_the_drawing_as_svg():
    g = draw_dot(tanh_neuron()["o"])
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    assert "data 0.7071" in svg_texts(bundle["image/svg+xml"])
    assert g._repr_mimebundle_(include=["image/png"])["image/png"][:8] == PNG_MAGIC
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(g)
    assert "grad -1.5" in svg_texts(data["image/svg+xml"])


@needs_dot
def test_special_characters_render_as_typed():
    a = Value(1.0, label='a|b{c}<d>"e\\f')
    assert 'a|b{c}<d>"e\\f' in svg_texts(draw_dot(a).pipe(format="svg", encoding="utf-8"))


# --------------------------------------------------------------------------
# Big graphs: no recursion, and max_nodes checked before drawing
# --------------------------------------------------------------------------
def test_a_100000_node_chain_is_counted_and_drawn_without_recursion():
    root = chain(100_000)
    with recursion_limit(headroom=100):
        g = draw_dot(root, max_nodes=200_000)
    assert g.value_count == 100_001
    assert len(Dot(g).records()) == 100_001
    assert g.source.count(" -> ") == 200_000


def test_max_nodes_error_comes_before_any_drawing(monkeypatch):
    root = chain(100_000)

    def no_subprocess(*args, **kwargs):
        raise AssertionError("a subprocess was started")

    def no_drawing(*args, **kwargs):
        raise AssertionError("a Digraph was built")

    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(draw_module, "Drawing", no_drawing)
    with recursion_limit(headroom=100), pytest.raises(ValueError) as info:
        draw_dot(root)
    message = str(info.value)
    assert "100,001 Value nodes" in message
    assert "max_nodes=500" in message
    assert "draw_dot(root, max_nodes=100001)" in message
    assert "nn.draw_model(model, x)" in message


def test_max_nodes_counts_value_nodes_only():
    o = tanh_neuron()["o"]  # 6 Values and 3 operations
    assert draw_dot(o, max_nodes=6).value_count == 6
    with pytest.raises(ValueError, match="this graph has 6 Value nodes, more than max_nodes=5"):
        draw_dot(o, max_nodes=5)


# --------------------------------------------------------------------------
# Without Graphviz's dot program
# --------------------------------------------------------------------------
def test_without_dot_building_works_and_rendering_says_how_to_install(monkeypatch, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    g = draw_dot(tanh_neuron()["o"])
    assert sorted(Dot(g).records().values()) == sorted(NEURON_RECORDS.values())
    attempts = [
        lambda: g.pipe(format="svg"),
        lambda: g.render(tmp_path / "neuron", format="png"),
    ]
    for attempt in attempts:
        with pytest.raises(GraphvizNotFoundError) as info:
            attempt()
        error = info.value
        assert isinstance(error, graphviz.ExecutableNotFound)
        assert isinstance(error, RuntimeError)
        message = str(error)
        assert "Graphviz program 'dot'" in message
        assert "Debian/Ubuntu:  sudo apt-get install graphviz" in message
        assert "macOS:          brew install graphviz" in message
        assert "conda:          conda install -c conda-forge graphviz" in message
        assert error.__suppress_context__ and error.__cause__ is None  # one message, not two


def test_without_dot_jupyter_shows_the_hint_and_the_dot_text(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    g = draw_dot(tanh_neuron()["o"])
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert bundle["text/plain"] == f"{INSTALL_GRAPHVIZ}\n\n{g.source}"
    formatters = pytest.importorskip("IPython.core.formatters")
    data, _ = formatters.DisplayFormatter().format(g)  # what a notebook cell shows
    assert "image/svg+xml" not in data
    assert "sudo apt-get install graphviz" in data["text/plain"] and "rankdir=LR" in data["text/plain"]


@pytest.mark.parametrize("number", [138, errno.ENOSYS, errno.ENOTSUP, errno.ENOEXEC])
def test_a_python_that_cannot_start_programs_gets_the_install_hint(monkeypatch, tmp_path, number):
    # Python in a browser (Pyodide) cannot start any program: subprocess raises
    # OSError 138 (ENOTSUP there) rather than "file not found".
    def cannot_start(*args, **kwargs):
        raise OSError(number, "Not supported")

    monkeypatch.setattr(subprocess, "Popen", cannot_start)
    monkeypatch.setattr(subprocess, "run", cannot_start)
    g = draw_dot(tanh_neuron()["o"])
    for attempt in (lambda: g.pipe(format="svg"), lambda: g.render(tmp_path / "neuron", format="png")):
        with pytest.raises(GraphvizNotFoundError) as info:
            attempt()
        message = str(info.value)
        assert message.startswith(INSTALL_GRAPHVIZ)
        assert f"Starting 'dot' failed here ([Errno {number}] Not supported)" in message
        assert "render g.source with a JavaScript Graphviz such as @viz-js/viz" in message
        assert info.value.__suppress_context__ and info.value.__cause__ is None
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and bundle["text/plain"].endswith(g.source)


def test_other_errors_of_the_operating_system_are_not_hidden(monkeypatch):
    def out_of_files(*args, **kwargs):
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr(subprocess, "Popen", out_of_files)
    g = draw_dot(tanh_neuron()["o"])
    with pytest.raises(OSError, match="Too many open files") as info:
        g.pipe(format="svg")
    assert info.value.errno == errno.EMFILE


# --------------------------------------------------------------------------
# Module view: groups drawn as one node
# --------------------------------------------------------------------------
def two_neurons():
    x1, x2 = Value(1.0, label="x1"), Value(-2.0, label="x2")
    a1, g1 = hand_neuron([x1, x2], [0.5, 0.25], 0.1, "neuron 1")
    a2, g2 = hand_neuron([a1], [2.0], -0.5, "neuron 2")
    diff = a2 - 1.0
    diff.label = "diff"
    loss = diff**2
    loss.label = "loss"
    loss.backward()
    return locals()


def test_groups_draw_each_neuron_as_one_node():
    t = two_neurons()
    a1, a2 = t["a1"], t["a2"]
    d = Dot(draw_dot(t["loss"], groups=[t["g1"], t["g2"]]))
    assert d.labels["g0"] == f"neuron 1 | {{ data {a1.data:.4g} | grad {a1.grad:.4g} }}"
    assert d.labels["g1"] == f"neuron 2 | {{ data {a2.data:.4g} | grad {a2.grad:.4g} }}"
    assert "shape=Mrecord" in d.attrs["g0"]
    # the weights, biases and the dot and + nodes are hidden
    names = {first_field(lab) for lab in d.records().values()}
    assert names == {"x1", "x2", "", "diff", "loss"}
    assert not any(lab in ("dot", "+") for lab in d.labels.values())
    assert sorted(set(d.labels.values()) - set(d.records().values())) == sorted(
        ["-", "**2", d.labels["g0"], d.labels["g1"]]
    )
    # inputs -> group -> group -> the operation using its output
    x1, x2 = (
        d.id_of(f"{{ x1 | data 1 | grad {t['x1'].grad:.4g} }}"),
        d.id_of(f"{{ x2 | data -2 | grad {t['x2'].grad:.4g} }}"),
    )
    minus = d.id_of("-")
    into_groups = sorted((t_, h) for t_, h, _ in d.edges if h.startswith("g") or t_.startswith("g"))
    assert into_groups == sorted([(x1, "g0"), (x2, "g0"), ("g0", "g1"), ("g1", minus)])


def test_groups_count_as_one_node_for_max_nodes():
    t = two_neurons()
    groups = [t["g1"], t["g2"]]
    # x1, x2, two groups, the constant 1, diff and loss
    assert draw_dot(t["loss"], groups=groups, max_nodes=7).value_count == 7
    with pytest.raises(ValueError, match="this graph has 7 Value nodes"):
        draw_dot(t["loss"], groups=groups, max_nodes=6)
    assert draw_dot(t["loss"]).value_count == 16  # without groups: every Value


def test_groups_take_plain_tuples_and_an_input_used_twice_gives_one_edge():
    x = Value(2.0, label="x")
    w1, w2, b = Value(1.0, label="w1"), Value(3.0, label="w2"), Value(0.5, label="b")
    d = autograd.dot([x, x], [w1, w2])
    z = d + b
    out = z.tanh()
    out.backward()
    dot = Dot(draw_dot(out, groups=[("neuron", out, (w1, w2, b, d, z))]))
    x_id = dot.id_of(f"{{ x | data 2 | grad {x.grad:.4g} }}")
    assert [(t, h) for t, h, _ in dot.edges] == [(x_id, "g0")]
    assert len(dot.records()) == 1


def test_a_group_used_twice_by_one_operation_has_one_edge():
    x = Value(1.0, label="x")
    a, group = hand_neuron([x], [1.0], 0.0, "n")
    sq = a * a
    sq.backward()
    d = Dot(draw_dot(sq, groups=[group]))
    assert [(t, h) for t, h, _ in d.edges if t == "g0"] == [("g0", "v6op")]


def test_group_from_inputs_hides_what_lies_between_inputs_and_output():
    t = two_neurons()
    g1, g2 = t["g1"], t["g2"]
    found1 = Group.from_inputs("neuron 1", t["a1"], [t["x1"], t["x2"], 3.0])
    assert found1.title == "neuron 1" and found1.output is t["a1"]
    assert set(found1.inner) == set(g1.inner) and len(found1.inner) == len(g1.inner)
    found2 = Group.from_inputs("neuron 2", t["a2"], [t["a1"]])
    assert set(found2.inner) == set(g2.inner)
    by_hand = draw_dot(t["loss"], groups=[g1, g2]).source
    assert draw_dot(t["loss"], groups=[found1, found2]).source == by_hand


def test_group_errors():
    t = two_neurons()
    w = t["g1"].inner[0]
    with pytest.raises(ValueError, match="in both group 'neuron 1' and group 'other'"):
        draw_dot(t["loss"], groups=[t["g1"], ("other", t["a2"], [w])])
    with pytest.raises(TypeError, match="each group is \\(title, output, inner_values\\)"):
        draw_dot(t["loss"], groups=[("only a title",)])
    with pytest.raises(TypeError, match="the output of group 'g' must be a Value, got float"):
        draw_dot(t["loss"], groups=[("g", 1.0, [])])


def test_a_group_outside_the_graph_is_ignored():
    o = tanh_neuron()["o"]
    other = Value(1.0)
    d = Dot(draw_dot(o, groups=[("elsewhere", other, [])]))
    assert sorted(d.records().values()) == sorted(NEURON_RECORDS.values())
    assert "g0" not in d.labels


# --------------------------------------------------------------------------
# Gradient colours
# --------------------------------------------------------------------------
def test_grad_color_follows_powers_of_ten():
    assert grad_color(0.0) == ZERO_GRAD_COLOR
    assert grad_color(-0.0) == ZERO_GRAD_COLOR
    assert grad_color(1e-7) == "#ffffcc"  # vanishing: the palest
    assert grad_color(5e-5) == "#ffeda0"
    assert grad_color(0.5) == grad_color(-0.5) == "#fc4e2a"
    assert grad_color(1.0) == "#e31a1c"
    assert grad_color(1e6) == "#800026"  # exploding: the darkest
    assert grad_color(math.nan) == grad_color(-math.inf) == NONFINITE_GRAD_COLOR
    colors = [color for _, color, _ in GRAD_SCALE]
    assert len(set(colors)) == len(colors)
    assert ZERO_GRAD_COLOR not in colors and NONFINITE_GRAD_COLOR not in colors


def test_color_grad_fills_nodes_and_adds_a_legend():
    v = tanh_neuron(backward=False)
    unused = Value(4.0, label="unused")
    root = v["o"] + unused * 0.0  # unused.grad is exactly 0
    root.label = "root"
    root.backward()
    g = draw_dot(root, color_grad=True)
    d = Dot(g)
    x_id = d.id_of("{ x | data 2 | grad -1.5 }")
    assert 'fillcolor="#e31a1c"' in d.attrs[x_id] and "fontcolor=white" in d.attrs[x_id]
    b_id = d.id_of("{ b | data 6.881 | grad 0.5 }")
    assert 'fillcolor="#fc4e2a"' in d.attrs[b_id]
    unused_id = d.id_of("{ unused | data 4 | grad 0 }")
    assert 'style="filled,dashed"' in d.attrs[unused_id]
    legend = d.labels["legend"]
    for _, color, text in GRAD_SCALE:
        assert f'BGCOLOR="{color}"' in legend and text in legend
    assert "exactly 0" in legend and "nan or inf" in legend
    plain = draw_dot(root)
    assert "fillcolor" not in plain.source and "legend" not in plain.source


def test_color_grad_shows_vanishing_gradients_getting_paler():
    x = Value(1.0, label="x")
    h = x
    for k in range(1, 6):
        h = (h * Value(1.0, label=f"w{k}")).sigmoid()
        h.label = f"h{k}"
    h.backward()
    d = Dot(draw_dot(h, color_grad=True))
    colors = [color for _, color, _ in GRAD_SCALE]

    def shade(name: str) -> int:
        (attrs,) = [d.attrs[i] for i, lab in d.records().items() if lab.startswith(f"{{ {name} |")]
        return colors.index(re.search(r'fillcolor="(#\w+)"', attrs)[1])

    shades = [shade(name) for name in ("x", "h1", "h2", "h3", "h4", "h5")]
    assert shades == sorted(shades) and shades[0] < shades[-1]
    assert x.grad < 1e-3  # five sigmoids: at most 0.25 each


def test_color_grad_marks_nan_and_inf():
    a = Value(0.0, label="a")
    out = a.log()  # -inf, and d/da = 1/0 = inf
    out.backward()
    d = Dot(draw_dot(out, color_grad=True))
    assert f'fillcolor="{NONFINITE_GRAD_COLOR}"' in d.attrs[d.id_of("{ a | data 0 | grad inf }")]


def test_color_grad_colours_a_group_by_its_output_gradient():
    t = two_neurons()
    d = Dot(draw_dot(t["loss"], groups=[t["g1"], t["g2"]], color_grad=True))
    assert f'fillcolor="{grad_color(t["a1"].grad)}"' in d.attrs["g0"]


@needs_dot
def test_coloured_drawing_renders_with_its_legend():
    g = draw_dot(tanh_neuron()["o"], color_grad=True)
    texts = svg_texts(g.pipe(format="svg", encoding="utf-8"))
    assert "|grad|, log scale" in texts
    assert "below 1e-5 (vanishing)" in texts
    assert "grad -1.5" in texts


# --------------------------------------------------------------------------
# reached: a backward pass in progress
# --------------------------------------------------------------------------
def attributes(text: str) -> dict[str, str]:
    """DOT attributes as a dict: 'style=filled fillcolor="#eee"' -> {"style": "filled", "fillcolor": "#eee"}."""
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', text)}


def is_grey(text: str) -> bool:
    """Drawn as not reached yet: grey outline and grey text."""
    a = attributes(text)
    return a.get("color") == UNREACHED_COLOR and a.get("fontcolor") == UNREACHED_COLOR


def test_reached_none_draws_exactly_as_without_it():
    v = tanh_neuron()
    for color_grad in (False, True):
        plain = draw_dot(v["o"], color_grad=color_grad).source
        assert draw_dot(v["o"], color_grad=color_grad, reached=None).source == plain
    everything = set(v.values())
    assert draw_dot(v["o"], reached=everything).source == draw_dot(v["o"]).source
    assert UNREACHED_COLOR not in draw_dot(v["o"], color_grad=True, reached=everything).source


def test_reached_draws_the_other_values_and_their_operations_grey():
    v = tanh_neuron()
    d = Dot(draw_dot(v["o"], reached=[v["o"], v["n"]]))
    grey = {first_field(lab) for i, lab in d.records().items() if is_grey(d.attrs[i])}
    assert grey == {"x", "w", "x*w", "b"}
    assert "fillcolor" not in draw_dot(v["o"], reached=[v["o"]]).source  # no colours asked for
    ops = {lab: is_grey(d.attrs[i]) for i, lab in d.labels.items() if "shape=ellipse" in d.attrs[i]}
    assert ops == {"*": True, "+": False, "tanh": False}  # x*w is not reached: neither is its operation
    assert d.labels[d.id_of(NEURON_RECORDS["x"])] == "{ x | data 2 | grad -1.5 }"  # the numbers stay


def test_reached_with_colours_is_grey_not_the_dashed_white_of_a_zero_gradient():
    v = tanh_neuron(backward=False)
    unused = Value(4.0, label="unused")
    m = unused * 0.0
    root = v["o"] + m
    root.label = "root"
    root.backward()
    d = Dot(draw_dot(root, color_grad=True, reached={root, m, unused}))
    zero = d.id_of("{ unused | data 4 | grad 0 }")  # reached, and its gradient is exactly 0
    assert 'style="filled,dashed"' in d.attrs[zero] and not is_grey(d.attrs[zero])
    for name in ("o", "x", "n"):
        (node,) = [i for i, lab in d.records().items() if first_field(lab) == name]
        assert attributes(d.attrs[node]) == {
            "style": "filled",
            "fillcolor": UNREACHED_FILL_COLOR,
            "color": UNREACHED_COLOR,
            "fontcolor": UNREACHED_COLOR,
            "shape": "record",
        }
    legend = d.labels["legend"]
    assert f'BGCOLOR="{UNREACHED_FILL_COLOR}"' in legend and "not reached yet (grey text)" in legend
    assert f'BGCOLOR="{ZERO_GRAD_COLOR}"' in legend and "exactly 0 (dashed)" in legend
    assert UNREACHED_FILL_COLOR not in {ZERO_GRAD_COLOR, NONFINITE_GRAD_COLOR, *(c for _, c, _ in GRAD_SCALE)}
    assert "not reached yet" not in draw_dot(root, color_grad=True).source


def test_reached_greys_a_group_by_its_output():
    t = two_neurons()
    d = Dot(draw_dot(t["loss"], groups=[t["g1"], t["g2"]], reached={t["loss"], t["diff"], t["a2"]}))
    assert is_grey(d.attrs["g0"]) and attributes(d.attrs["g0"])["fillcolor"] == UNREACHED_FILL_COLOR
    assert not is_grey(d.attrs["g1"]) and attributes(d.attrs["g1"])["fillcolor"] == "#deebf7"


def test_reached_errors():
    v = tanh_neuron()
    with pytest.raises(TypeError, match="reached takes a collection of Values .* got Value; for one Value"):
        draw_dot(v["o"], reached=v["o"])
    with pytest.raises(TypeError, match="reached takes a collection of Values, but it holds a str"):
        draw_dot(v["o"], reached=["o"])
    with pytest.raises(TypeError, match="got float"):
        draw_dot(v["o"], reached=1.0)


@needs_dot
def test_unreached_legend_row_renders():
    v = tanh_neuron()
    svg = draw_dot(v["o"], color_grad=True, reached={v["o"]}).pipe(format="svg", encoding="utf-8")
    texts = svg_texts(svg)
    assert "not reached yet (grey text)" in texts and "exactly 0 (dashed)" in texts


# --------------------------------------------------------------------------
# highlight
# --------------------------------------------------------------------------
def test_highlight_a_step_marks_its_edge_and_shows_the_contribution():
    v = tanh_neuron(backward=False)
    steps = list(v["o"].backward_steps())
    (step,) = [s for s in steps if s.parent is v["b"]]
    assert isinstance(step, Step) and step.contribution == pytest.approx(0.5)
    d = Dot(draw_dot(v["o"], highlight=step))
    b_id, n_id = d.id_of(NEURON_RECORDS["b"]), d.id_of(NEURON_RECORDS["n"])
    red = d.red_edges()
    assert [(t, h) for t, h, _ in red] == [(f"{n_id}op", n_id), (b_id, f"{n_id}op")]
    assert 'label="+= 0.5"' in red[1][2]
    assert "color=red" in d.attrs[b_id]  # the node receiving the gradient
    assert sum("color=red" in a for a in d.attrs.values()) == 1


def test_highlight_a_value_marks_that_node():
    v = tanh_neuron()
    d = Dot(draw_dot(v["o"], highlight=v["w"]))
    assert [i for i, a in d.attrs.items() if "color=red" in a] == [d.id_of(NEURON_RECORDS["w"])]
    assert d.red_edges() == []


def test_highlight_picks_one_of_two_edges_from_the_same_parent():
    x = Value(3.0, label="x")
    y = x * x
    steps = list(y.backward_steps())
    assert len(steps) == 2
    for step in steps:
        red = Dot(draw_dot(y, highlight=step)).red_edges()
        assert [(t, h) for t, h, _ in red] == [("v1op", "v1"), ("v0", "v1op")]


def test_highlight_a_step_inside_a_group_marks_the_group():
    t = two_neurons()
    groups = [t["g1"], t["g2"]]
    steps = list(t["loss"].backward_steps())
    x1 = t["x1"]
    (step,) = [s for s in steps if s.parent is x1]  # dot node -> x1, hidden in neuron 1
    d = Dot(draw_dot(t["loss"], groups=groups, highlight=step))
    x1_id = d.id_of(f"{{ x1 | data 1 | grad {x1.grad:.4g} }}")
    assert [(t_, h) for t_, h, _ in d.red_edges()] == [(x1_id, "g0")]
    (inside,) = [s for s in steps if s.parent is t["g2"].inner[0]]  # w1 of neuron 2
    d = Dot(draw_dot(t["loss"], groups=groups, highlight=inside))
    assert d.red_edges() == [] and "color=red" in d.attrs["g1"]


def test_highlight_errors():
    v = tanh_neuron()
    with pytest.raises(ValueError, match="not part of the graph"):
        draw_dot(v["n"], highlight=v["o"])
    with pytest.raises(
        TypeError, match="highlight takes a Step from backward_steps\\(\\) or a Value, got str"
    ):
        draw_dot(v["o"], highlight="x")


# --------------------------------------------------------------------------
# backward, frame by frame
# --------------------------------------------------------------------------
def test_backward_frames_show_the_gradients_of_each_step():
    v = tanh_neuron()  # backward() already ran once: frames start afresh
    frames = backward_frames(v["o"], fmt=None)
    assert len(frames) == 5 and all(isinstance(f, Drawing) for f in frames)
    first, third, last = Dot(frames[0]), Dot(frames[2]), Dot(frames[-1])
    # after step 1 only n has received its gradient
    assert "{ n | data 0.8814 | grad 0.5 }" in first.records().values()
    assert "{ b | data 6.881 | grad 0 }" in first.records().values()
    assert "{ x | data 2 | grad 0 }" in first.records().values()
    assert "{ x*w | data -6 | grad 0 }" in first.records().values()
    # step 3 is b.grad += 1 * 0.5
    assert 'label="step 3 of 5: b.grad += dn/db * n.grad = 1 * 0.5 = 0.5"' in frames[2].source
    assert "{ b | data 6.881 | grad 0.5 }" in third.records().values()
    assert "{ x | data 2 | grad 0 }" in third.records().values()
    assert sorted(last.records().values()) == sorted(NEURON_RECORDS.values())
    assert len(last.red_edges()) == 2
    # and the gradients end as backward() leaves them, not doubled
    assert v["x"].grad == pytest.approx(-1.5) and v["w"].grad == pytest.approx(1.0)


def test_backward_frames_draw_the_values_not_reached_yet_grey():
    v = tanh_neuron()
    frames = [Dot(f) for f in backward_frames(v["o"], fmt=None, color_grad=True)]

    def grey(d: Dot) -> set[str]:
        return {first_field(lab) for i, lab in d.records().items() if is_grey(d.attrs[i])}

    # steps: o -> n, n -> x*w, n -> b, x*w -> x, x*w -> w
    assert [grey(d) for d in frames] == [{"x*w", "b", "x", "w"}, {"b", "x", "w"}, {"x", "w"}, {"w"}, set()]
    assert all("not reached yet" in d.labels["legend"] for d in frames)  # the legend does not jump
    b_first = frames[0].id_of("{ b | data 6.881 | grad 0 }")
    assert "dashed" not in frames[0].attrs[b_first]  # not drawn as a gradient of exactly 0
    last = backward_frames(v["o"], fmt=None)[-1].source
    assert UNREACHED_COLOR not in last
    # the complete pass is drawn as draw_dot draws it, with the last step marked
    fresh = tanh_neuron(backward=False)
    steps = list(fresh["o"].backward_steps())
    assert last == draw_dot(fresh["o"], highlight=steps[-1], title=step_caption(steps[-1], 5, 5)).source


def test_backward_frames_can_accumulate_like_backward():
    v = tanh_neuron()
    backward_frames(v["o"], fmt=None, zero_grad=False)
    assert v["x"].grad == pytest.approx(-3.0)


def test_backward_frames_check_max_nodes_before_any_step():
    v = tanh_neuron()
    v["x"].grad = 42.0
    with pytest.raises(ValueError, match="this graph has 6 Value nodes"):
        backward_frames(v["o"], fmt=None, max_nodes=3)
    assert v["x"].grad == 42.0 and v["o"].grad == 1.0


def test_backward_frames_pass_drawing_options_on():
    v = tanh_neuron()
    frames = backward_frames(v["o"], fmt=None, color_grad=True, title="neuron")
    assert all("legend" in Dot(f).labels for f in frames)
    assert 'label="neuron\\nstep 1 of 5: ' in frames[0].source
    with pytest.raises(ValueError, match="fmt must be 'svg', 'png' or None, got 'gif'"):
        backward_frames(v["o"], fmt="gif")


def test_backward_frames_of_unlabelled_nodes_name_them():
    a = Value(2.0)
    out = a * 3.0
    frames = backward_frames(out, fmt=None)
    assert "step 1 of 2: (leaf 2).grad += d(* node)/d(leaf 2) * (* node).grad = 3 * 1 = 3" in frames[0].source


def test_backward_frames_of_a_leaf_is_empty():
    leaf = Value(2.0, label="leaf")
    assert backward_frames(leaf, fmt=None) == []
    assert leaf.grad == 1.0


@needs_dot
def test_backward_frames_as_svg_and_png():
    v = tanh_neuron()
    svgs = backward_frames(v["o"])
    assert len(svgs) == 5
    texts = svg_texts(svgs[2])
    assert "step 3 of 5: b.grad += dn/db * n.grad = 1 * 0.5 = 0.5" in texts
    assert "+= 0.5" in texts and "grad 0.5" in texts
    pngs = backward_frames(v["o"], fmt="png")
    assert len(pngs) == 5 and all(p[:8] == PNG_MAGIC for p in pngs)


@needs_dot
def test_backward_viewer_steps_through_the_frames():
    pytest.importorskip("ipywidgets")
    v = tanh_neuron()
    viewer = backward_viewer(v["o"])
    (controls, picture) = viewer.children
    play, slider = controls.children
    assert (slider.min, slider.max, slider.value) == (1, 5, 1)
    assert (play.min, play.max) == (1, 5)
    assert picture.value.startswith("<svg") and "step 1 of 5" in picture.value
    slider.value = 3
    assert "step 3 of 5: b.grad" in picture.value
    assert v["x"].grad == pytest.approx(-1.5)


def test_backward_viewer_without_ipywidgets_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(ImportError, match="backward_viewer\\(\\) needs ipywidgets: pip install ipywidgets"):
        backward_viewer(tanh_neuron()["o"])


def test_svg_body_drops_the_prolog_so_svg_can_sit_inside_html():
    document = '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN">\n<svg width="8pt"><g/></svg>\n'
    assert svg_body(document) == '<svg width="8pt"><g/></svg>\n'
    assert svg_body("no picture") == "no picture"


# --------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------
def test_drawing_names_are_exported_from_autograd():
    assert autograd.draw_dot is draw_module.draw_dot
    for name in ("draw_dot", "Group", "backward_frames", "backward_viewer", "GraphvizNotFoundError"):
        assert name in autograd.__all__ and getattr(autograd, name) is getattr(draw_module, name)


def test_autograd_does_not_import_nn():
    code = "import sys, autograd; print('nn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
