"""Pictures of computation graphs, drawn with Graphviz.

``draw_dot(root)`` draws every Value that ``root`` depends on, as the
micrograd lecture does: one record per Value (``label | data | grad``) and one
small node per operation, with edges from the inputs to the operation to its
output::

    >>> from autograd import Value, draw_dot
    >>> x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.8814, label="b")
    >>> n = (x * w + b).tanh()
    >>> n.backward()
    >>> g = draw_dot(n)           # in Jupyter, the last line of a cell shows it
    >>> g.render("neuron", format="png", cleanup=True)   # doctest: +SKIP

(``cleanup=True`` deletes the DOT text file ``neuron`` that Graphviz writes
before it makes ``neuron.png``.) On top of that: gradient colouring
(``color_grad=True``), a module view that collapses groups of Values into one
node each (``groups=``), marking one step of backward (``highlight=``) and the
frames of a whole backward pass (``backward_frames``, ``backward_viewer``). The
graph is walked iteratively, so a graph a million nodes deep never hits
Python's recursion limit.
"""

from __future__ import annotations

import errno
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import graphviz

from .engine import Step, Value, topological_order

__all__ = [
    "draw_dot",
    "Group",
    "Drawing",
    "backward_frames",
    "backward_viewer",
    "step_caption",
    "GraphvizNotFoundError",
    "svg_body",
]

# --------------------------------------------------------------------------
# Rendering without the Graphviz programs: one clear message.
# --------------------------------------------------------------------------
INSTALL_GRAPHVIZ = """\
drawing needs the Graphviz program 'dot', which is not installed (or not on your PATH).
The graphviz Python package only writes DOT text; install Graphviz itself, then try again:
    Debian/Ubuntu:  sudo apt-get install graphviz
    macOS:          brew install graphviz
    conda:          conda install -c conda-forge graphviz
    Windows:        https://graphviz.org/download/ (and add its bin folder to PATH)
The graph itself is fine: print(g.source) shows it as DOT text."""

# OSError numbers that mean "no program can be started": ENOENT (not found),
# ENOEXEC (not a program), ENOSYS/ENOTSUP/EOPNOTSUPP (this Python cannot start
# programs at all, as in a browser). 138 is ENOTSUP under Emscripten, where
# Pyodide's subprocess raises it.
_CANNOT_RUN = {errno.ENOENT, errno.ENOEXEC, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, 138}


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs the Graphviz ``dot`` program, which is missing.

    A ``graphviz.ExecutableNotFound`` (hence a ``RuntimeError``) whose message
    says how to install Graphviz.
    """

    def __init__(self, message: str = INSTALL_GRAPHVIZ) -> None:
        RuntimeError.__init__(self, message)


@contextmanager
def _explain_missing_graphviz() -> Iterator[None]:
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError() from None
    except OSError as err:
        if err.errno not in _CANNOT_RUN:
            raise
        raise GraphvizNotFoundError(
            f"{INSTALL_GRAPHVIZ}\nStarting 'dot' failed here ({err}); where Python cannot start programs "
            "(in a browser, under Pyodide), render g.source with a JavaScript Graphviz such as @viz-js/viz."
        ) from None


class Drawing(graphviz.Digraph):
    """The ``graphviz.Digraph`` that ``draw_dot`` returns.

    It renders (``.render()``, ``.pipe()``, inline SVG in Jupyter) exactly as a
    ``Digraph`` does, except that a missing Graphviz installation raises
    ``GraphvizNotFoundError`` saying how to install it, and Jupyter then shows
    that message and the DOT text instead of a picture. ``value_count`` is the
    number of Value nodes drawn (a group counts as one).
    """

    value_count: int = 0

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        with _explain_missing_graphviz():
            return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        with _explain_missing_graphviz():
            return super().render(*args, **kwargs)

    def unflatten(self, *args: Any, **kwargs: Any) -> Any:
        with _explain_missing_graphviz():
            return super().unflatten(*args, **kwargs)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except GraphvizNotFoundError as err:  # a notebook shows the hint and the graph as text
            return {"text/plain": f"{err}\n\n{self.source}"}

    def copy(self) -> Drawing:
        new = super().copy()
        new.value_count = self.value_count
        return new


# --------------------------------------------------------------------------
# Module view: groups of Values drawn as one node
# --------------------------------------------------------------------------
class Group(NamedTuple):
    """Values drawn as one node by ``draw_dot(root, groups=[...])``: the module view.

    * ``title``: the node's text (e.g. ``"layer 1, neuron 3"``; ``\\n`` breaks lines).
    * ``output``: the Value the group computes; the node shows its data and grad.
    * ``inner``: the Values the node hides besides ``output``, e.g. a
      neuron's weights, bias and its ``dot`` and ``+`` nodes.

    Edges: every parent of a hidden Value that is not hidden in the same group
    (the group's inputs) gets one edge into the group node; whatever uses a
    hidden Value (normally the group's output) gets an edge from the group
    node. A Value belongs to at most one group; ``max_nodes`` counts a group
    as one node. A plain ``(title, output, inner)`` tuple works too, and
    ``Group.from_inputs`` finds ``inner`` for you::

        a = (autograd.dot(x, w) + b).tanh()           # a neuron
        draw_dot(loss, groups=[Group.from_inputs("neuron", a, x)])
    """

    title: str
    output: Value
    inner: Sequence[Value]

    @classmethod
    def from_inputs(cls, title: str, output: Value, inputs: Iterable[object]) -> Group:
        """The group of every Value computed on the way from ``inputs`` to ``output``.

        Walks back from ``output`` and stops at the ``inputs`` (plain numbers
        among them are skipped): for a neuron ``a = tanh(dot(x, w) + b)``,
        ``Group.from_inputs("neuron", a, x)`` hides ``w``, ``b`` and the
        ``dot`` and ``+`` nodes. Leaves that are not inputs (the parameters)
        are hidden too, so ``inputs`` must hold every Value the group reads.
        """
        stop = {v for v in inputs if isinstance(v, Value)}
        inner: list[Value] = []
        seen = {output}
        stack = [output]
        while stack:
            for parent in stack.pop().parents:
                if parent not in seen and parent not in stop:
                    seen.add(parent)
                    inner.append(parent)
                    stack.append(parent)
        return cls(title, output, tuple(inner))


GroupLike = Group | tuple[str, Value, Iterable[Value]]


# --------------------------------------------------------------------------
# Gradient colours: |grad| on a log10 scale, pale (vanishing) to dark (exploding)
# --------------------------------------------------------------------------
# (upper bound of |grad|, fill colour, legend text); a sequential palette
# (ColorBrewer YlOrRd), one colour per power of ten.
GRAD_SCALE: tuple[tuple[float, str, str], ...] = (
    (1e-5, "#ffffcc", "below 1e-5 (vanishing)"),
    (1e-4, "#ffeda0", "1e-5 to 1e-4"),
    (1e-3, "#fed976", "1e-4 to 0.001"),
    (1e-2, "#feb24c", "0.001 to 0.01"),
    (1e-1, "#fd8d3c", "0.01 to 0.1"),
    (1e0, "#fc4e2a", "0.1 to 1"),
    (1e1, "#e31a1c", "1 to 10"),
    (1e2, "#bd0026", "10 to 100"),
    (math.inf, "#800026", "100 and above (exploding)"),
)
ZERO_GRAD_COLOR = "#ffffff"  # drawn dashed: no gradient reaches this node
NONFINITE_GRAD_COLOR = "#3f007d"  # nan or inf
_DARK_FILLS = {"#e31a1c", "#bd0026", "#800026", NONFINITE_GRAD_COLOR}
# Nodes a backward pass has not reached yet (draw_dot(..., reached=)): grey text
# and outline, and with color_grad a light grey fill instead of a gradient colour,
# so that their grad of 0 ("nothing arrived yet") is not read as "exactly 0".
UNREACHED_FILL_COLOR = "#eeeeee"
UNREACHED_COLOR = "#a0a0a0"
_UNREACHED = {"color": UNREACHED_COLOR, "fontcolor": UNREACHED_COLOR}
_UNREACHED_FILLED = {"style": "filled", "fillcolor": UNREACHED_FILL_COLOR, **_UNREACHED}


def grad_color(grad: float) -> str:
    """The fill colour for a gradient: its power of ten picks a colour of ``GRAD_SCALE``."""
    size = abs(grad)
    if size == 0.0:
        return ZERO_GRAD_COLOR
    if not math.isfinite(size):
        return NONFINITE_GRAD_COLOR
    return next(color for upper, color, _ in GRAD_SCALE if size < upper)  # the last bound is inf


def _color_attrs(grad: float) -> dict[str, str]:
    color = grad_color(grad)
    attrs = {"style": "filled", "fillcolor": color}
    if color == ZERO_GRAD_COLOR:
        attrs["style"] = "filled,dashed"
    if color in _DARK_FILLS:
        attrs["fontcolor"] = "white"
    return attrs


def _legend_label(unreached: bool = False) -> str:
    """An HTML-like table: one swatch per colour of the scale (and one for "not reached yet")."""
    rows = ['<TR><TD COLSPAN="2"><B>|grad|, log scale</B></TD></TR>']
    swatches = [(ZERO_GRAD_COLOR, "exactly 0 (dashed)")]
    if unreached:
        swatches.append((UNREACHED_FILL_COLOR, "not reached yet (grey text)"))
    swatches += [(color, text) for _, color, text in GRAD_SCALE]
    swatches.append((NONFINITE_GRAD_COLOR, "nan or inf"))
    for color, text in swatches:
        rows.append(f'<TR><TD BGCOLOR="{color}" WIDTH="24"> </TD><TD ALIGN="LEFT">{text}</TD></TR>')
    return '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>>"


# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------
# Characters Graphviz cannot take or would show as nothing: control characters
# (a NUL ends the DOT text early) and lone surrogates (UTF-8 cannot encode them).
_INVISIBLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_RECORD_ESCAPES = str.maketrans({c: "\\" + c for c in '\\{}|<>"'} | {"\n": "\\n"})


def _visible(text: object) -> str:
    """``text`` as a string, each invisible character written as its Python escape (``\\x00``)."""
    return _INVISIBLE.sub(lambda m: repr(m[0])[1:-1], text if isinstance(text, str) else str(text))


def _record_text(text: object) -> str:
    """Text for a record field: also escape the characters that mean something there."""
    return _visible(text).translate(_RECORD_ESCAPES)


def _plain_text(text: object) -> str:
    """Text for a plain label (an operation, a caption): backslashes kept, newlines break lines."""
    return _visible(text).replace("\\", "\\\\").replace("\n", "\\n")


def _num(x: float) -> str:
    """4 significant digits, as %.4g: 0.5, -1.5, 1e-07 (small numbers stay visible)."""
    return f"{x:.4g}"


def _record(fields: list[str], rankdir: str) -> str:
    # In a left-to-right layout a record's fields stack vertically unless
    # wrapped in braces; either way the fields read as one row.
    row = " | ".join(fields)
    return "{ " + row + " }" if rankdir in ("LR", "RL") else row


def _group_record(title: str, fields: list[str], rankdir: str) -> str:
    # The title on top, data and grad in a row below it (compact in any layout).
    stacked = title + " | { " + " | ".join(fields) + " }"
    return stacked if rankdir in ("LR", "RL") else "{ " + stacked + " }"


# --------------------------------------------------------------------------
# draw_dot
# --------------------------------------------------------------------------
def draw_dot(
    root: Value,
    rankdir: str = "LR",
    show_grad: bool = True,
    max_nodes: int = 500,
    highlight: Step | Value | None = None,
    *,
    color_grad: bool = False,
    groups: Iterable[GroupLike] = (),
    title: str | None = None,
    reached: Iterable[Value] | None = None,
) -> Drawing:
    """Draw the computation graph of ``root`` as a ``graphviz.Digraph``.

    * One record per Value, ``label | data | grad`` (numbers as ``%.4g``), and
      one small node per operation (``+``, ``*``, ``tanh``, ``dot``, ...), with
      edges input -> operation -> output. A Value used twice appears once.
    * ``rankdir``: ``"LR"`` (left to right) or ``"TB"`` (top to bottom).
    * ``show_grad=False`` leaves out the gradients (before ``backward()``).
    * ``max_nodes``: a graph with more Value nodes raises ``ValueError``
      before anything is drawn.
    * ``highlight``: a ``Step`` from ``root.backward_steps()`` marks its edge
      (parent -> operation -> node) in red and writes the contribution on it;
      a ``Value`` marks that node.
    * ``color_grad=True`` fills each Value by |grad| on a log scale (see
      ``GRAD_SCALE``) and adds a legend: pale nodes get vanishing gradients,
      dark ones large gradients; dashed white ones get exactly zero.
    * ``groups``: the module view. Each group is ``(title, output, inner)``
      (or a ``Group``) and is drawn as ONE node showing ``title`` with the
      data and grad of ``output``; ``output`` and the Values in ``inner``
      (e.g. a neuron's weights, bias and its ``dot``/``+`` nodes) are hidden.
      Every edge into a hidden Value from outside the group (the group's
      inputs) becomes an edge into the group node, and everything that uses
      a hidden Value gets an edge from the group node (normally the users of
      ``output``). A Value may belong to one group only; groups whose Values
      are not in the graph are ignored; ``max_nodes`` counts a group as one.
    * ``title``: a caption above the graph.
    * ``reached``: the Values a backward pass has reached so far (for a pass
      in progress). Every other Value, and its operation, is drawn in grey
      as "not reached yet", without a gradient colour: its grad of 0 means
      nothing has arrived yet, not a gradient of exactly 0. With
      ``color_grad=True`` the legend has a row for it. ``None`` (the
      default): every Value is drawn as reached.

    Labels are drawn as typed; characters Graphviz cannot show (control
    characters, lone surrogates) appear as their Python escapes, e.g. ``\\x00``.
    The result displays inline in Jupyter (SVG) and renders with
    ``.render(filename, format="png", cleanup=True)`` or ``.pipe(format="svg")``.
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"draw_dot() draws the graph of one Value, got {type(root).__name__}; "
            "for a list of outputs, draw each one (or their sum)"
        )
    group_list, group_of = _check_groups(groups)
    reached_set = _check_reached(reached)
    order = topological_order(root)
    value_count = _count_value_nodes(order, group_of, max_nodes)
    drawer = _Drawer(
        order, group_list, group_of, rankdir, show_grad=show_grad, color_grad=color_grad, reached=reached_set
    )
    drawer.mark(highlight)
    drawer.start(value_count, title)
    for v in order:
        drawer.add(v)
    if color_grad:
        drawer.add_legend()
    return drawer.dot


def _check_reached(reached: Iterable[Value] | None) -> set[Value] | None:
    """``reached`` as a set of Values; anything else raises TypeError."""
    if reached is None:
        return None
    if isinstance(reached, Value) or not isinstance(reached, Iterable):
        raise TypeError(
            f"reached takes a collection of Values (e.g. {{root, x}}), got {type(reached).__name__}; "
            "for one Value write reached={v}"
        )
    found = set()
    for v in reached:
        if not isinstance(v, Value):
            raise TypeError(f"reached takes a collection of Values, but it holds a {type(v).__name__}")
        found.add(v)
    return found


def _count_value_nodes(order: list[Value], group_of: dict[Value, int], max_nodes: int) -> int:
    """How many Value nodes the drawing has (a group counts as one); too many raises ValueError."""
    shown_groups = {group_of[v] for v in order if v in group_of}
    count = sum(1 for v in order if v not in group_of) + len(shown_groups)
    if count > max_nodes:
        raise ValueError(
            f"this graph has {count:,} Value nodes, more than max_nodes={max_nodes}; "
            f"a picture that big is hard to read and slow to lay out. To draw it anyway, "
            f"pass a larger limit: draw_dot(root, max_nodes={count}); for a model, "
            f"draw the module view with each neuron as one node: nn.draw_model(model, x)"
        )
    return count


_RED = {"color": "red", "penwidth": "2.5"}


class _Marks(NamedTuple):
    """What ``highlight=`` marks in red, by drawn node id."""

    node: str | None = None  # the node receiving the gradient, or the node asked for
    # the step's edge: (tail, head, which parent of head), which parent being None
    # for an edge from or into a group node (drawn once for all its hidden Values)
    edge: tuple[str, str, int | None] | None = None
    output: str | None = None  # the step's node: its edge operation -> node is marked too
    text: str = ""  # written on the step's edge


class _Drawer:
    """Builds the ``Drawing`` of one graph, a piece at a time, for ``draw_dot``.

    Node ids: ``v<i>`` for the Value at position ``i`` of the topological
    order, ``v<i>op`` for its operation, ``g<k>`` for the k-th group.
    """

    def __init__(
        self,
        order: list[Value],
        groups: list[Group],
        group_of: dict[Value, int],
        rankdir: str,
        *,
        show_grad: bool,
        color_grad: bool,
        reached: set[Value] | None = None,
    ) -> None:
        self.index = {v: i for i, v in enumerate(order)}
        self.groups, self.group_of = groups, group_of
        self.rankdir, self.show_grad, self.color_grad = rankdir, show_grad, color_grad
        self.reached = reached
        self.marks = _Marks()
        self.drawn_groups: set[int] = set()
        self.edges_once: set[tuple[str, str]] = set()  # edges from or into a group node
        self.dot = Drawing(
            graph_attr={"rankdir": rankdir},
            node_attr={"fontname": "Helvetica", "fontsize": "12"},
            edge_attr={"color": "gray30", "arrowsize": "0.7"},
        )

    def node_id(self, v: Value) -> str:
        """The drawn node standing for ``v``: its own record, or its group's node."""
        g = self.group_of.get(v)
        return f"g{g}" if g is not None else f"v{self.index[v]}"

    def start(self, value_count: int, title: str | None) -> None:
        self.dot.value_count = value_count
        if title:
            self.dot.attr(label=graphviz.nohtml(_plain_text(title)), labelloc="t", fontname="Helvetica")

    def add(self, v: Value) -> None:
        g = self.group_of.get(v)
        if g is None:
            self.add_value(v)
        else:
            self.add_group_member(v, g)

    def add_value(self, v: Value) -> None:
        """A record ``label | data | grad``, then the operation that computed it."""
        vid = self.node_id(v)
        fields = [_record_text(v.label), f"data {_num(v.data)}", *self._grad_field(v)]
        self.dot.node(vid, _record(fields, self.rankdir), shape="record", **self._marked(self._fill(v), vid))
        if v.parents or v.op:
            self.add_op(v, vid)

    def add_op(self, v: Value, vid: str) -> None:
        """The operation's small node, its edge to the result and an edge from each input."""
        op = f"{vid}op"
        self.dot.node(
            op,
            graphviz.nohtml(_plain_text(v.op or "?")),
            shape="ellipse",
            fontsize="11",
            width="0.3",
            height="0.3",
            margin="0.04,0.02",
            **(_UNREACHED if self._unreached(v) else {}),
        )
        self.dot.edge(op, vid, **(_RED if self.marks.output == vid else {}))
        for k, parent in enumerate(v.parents):
            if parent in self.group_of:  # several hidden inputs of one group: one edge
                self._edge_once(self.node_id(parent), op)
            else:
                self._edge(self.node_id(parent), op, k)

    def add_group_member(self, v: Value, g: int) -> None:
        """A Value hidden in group ``g``: the group's node (once), and edges from the group's inputs."""
        if g not in self.drawn_groups:
            self.drawn_groups.add(g)
            self.add_group(g)
        for parent in v.parents:
            if self.group_of.get(parent) != g:
                self._edge_once(self.node_id(parent), f"g{g}")

    def add_group(self, g: int) -> None:
        """One node for a whole group: its title, then its output's data and grad."""
        title, output, _ = self.groups[g]
        gid = f"g{g}"
        fields = [f"data {_num(output.data)}", *self._grad_field(output)]
        if self._unreached(output):
            attrs = _UNREACHED_FILLED
        else:
            attrs = self._fill(output) or {"style": "filled", "fillcolor": "#deebf7"}
        label = _group_record(_record_text(title), fields, self.rankdir)
        self.dot.node(gid, label, shape="Mrecord", **self._marked(attrs, gid))

    def add_legend(self) -> None:
        with self.dot.subgraph(name="legend") as legend:
            legend.attr(rank="sink")
            label = _legend_label(unreached=self.reached is not None)
            legend.node("legend", label, shape="plaintext", fontsize="10")

    def mark(self, highlight: Step | Value | None) -> None:
        """Remember what to draw in red: a Value's node, or the edge of one backward step."""
        if highlight is None:
            return
        if isinstance(highlight, Value):
            if highlight not in self.index:
                raise ValueError("highlight: this Value is not part of the graph of root")
            self.marks = _Marks(node=self.node_id(highlight))
            return
        if not isinstance(highlight, Step):
            raise TypeError(
                f"highlight takes a Step from backward_steps() or a Value, got {type(highlight).__name__}"
            )
        node, parent = highlight.node, highlight.parent
        if node not in self.index or parent not in self.index:
            raise ValueError("highlight: this Step is not part of the graph of root")
        tail, text = self.node_id(parent), f"+= {_num(highlight.contribution)}"
        if node in self.group_of:  # the step happens inside a group: mark the group's input edge
            self.marks = _Marks(node=tail, edge=(tail, self.node_id(node), None), text=text)
            return
        which = None if parent in self.group_of else _parent_position(node, highlight)
        vid = self.node_id(node)
        self.marks = _Marks(node=tail, edge=(tail, f"{vid}op", which), output=vid, text=text)

    def _edge(self, tail: str, head: str, which: int | None) -> None:
        if self.marks.edge == (tail, head, which):
            self.dot.edge(tail, head, label=self.marks.text, fontcolor="red", fontname="Helvetica", **_RED)
        else:
            self.dot.edge(tail, head)

    def _edge_once(self, tail: str, head: str) -> None:
        if (tail, head) not in self.edges_once:
            self.edges_once.add((tail, head))
            self._edge(tail, head, None)

    def _grad_field(self, v: Value) -> list[str]:
        return [f"grad {_num(v.grad)}"] if self.show_grad else []

    def _unreached(self, v: Value) -> bool:
        return self.reached is not None and v not in self.reached

    def _fill(self, v: Value) -> dict[str, str]:
        if self._unreached(v):
            return _UNREACHED_FILLED if self.color_grad else _UNREACHED
        return _color_attrs(v.grad) if self.color_grad else {}

    def _marked(self, attrs: dict[str, str], node: str) -> dict[str, str]:
        return {**attrs, **_RED} if node == self.marks.node else attrs


def _parent_position(node: Value, step: Step) -> int:
    """Which of ``node.parents`` a step is about (x * x has the same parent twice)."""
    positions = [k for k, parent in enumerate(node.parents) if parent is step.parent]
    for k in positions:
        if node.local_grads[k] == step.local_grad:
            return k
    return positions[0]


def _check_groups(groups: Iterable[GroupLike]) -> tuple[list[Group], dict[Value, int]]:
    """Validate ``groups`` and map every hidden Value to its group's position."""
    group_list: list[Group] = []
    group_of: dict[Value, int] = {}
    for g, group in enumerate(groups):
        try:
            title, output, inner = group
        except (TypeError, ValueError):
            raise TypeError(f"groups: each group is (title, output, inner_values), got {group!r}") from None
        if not isinstance(output, Value):
            raise TypeError(
                f"groups: the output of group {title!r} must be a Value, got {type(output).__name__}"
            )
        inner = tuple(inner)
        for v in (output, *inner):
            if not isinstance(v, Value):
                raise TypeError(
                    f"groups: group {title!r} holds a {type(v).__name__}; inner values must be Values"
                )
            other = group_of.get(v)
            if other is not None and other != g:
                raise ValueError(
                    f"groups: {v!r} (label {v.label!r}) is in both group "
                    f"{group_list[other].title!r} and group {title!r}; a Value belongs to one group only"
                )
            group_of[v] = g
        group_list.append(Group(str(title), output, inner))
    return group_list, group_of


# --------------------------------------------------------------------------
# backward, one frame per chain-rule step
# --------------------------------------------------------------------------
def _name(v: Value) -> str:
    if v.label:
        return str(v.label)
    return f"({v.op} node)" if v.op else f"(leaf {_num(v.data)})"


def step_caption(step: Step, k: int, total: int | None = None) -> str:
    """The chain-rule step in words: ``step 3 of 7: b.grad += dz/db * z.grad = 1 * 0.4199 = 0.4199``."""
    node, parent = _name(step.node), _name(step.parent)
    of = f" of {total}" if total is not None else ""
    return (
        f"step {k}{of}: {parent}.grad += d{node}/d{parent} * {node}.grad"
        f" = {_num(step.local_grad)} * {_num(step.upstream)} = {_num(step.contribution)}"
    )


def backward_frames(
    root: Value, fmt: str | None = "svg", *, zero_grad: bool = True, **draw_kwargs: Any
) -> list[Any]:
    """Run ``root.backward_steps()`` and draw the graph after every step.

    Returns one frame per chain-rule step (one per edge of the graph), each
    showing the gradients as they are right after that step, with the step
    marked (``highlight=step``) and explained in the caption. The Values
    the pass has not reached yet (all but the root and the inputs of the
    steps so far) are drawn grey, as "not reached yet" (``reached=``). ``fmt`` is
    ``"svg"`` (a list of SVG strings), ``"png"`` (a list of PNG bytes) or
    ``None`` (a list of ``Drawing`` objects, rendered later). ``draw_kwargs``
    go to ``draw_dot`` (e.g. ``color_grad=True``).

    With ``zero_grad=True`` every leaf's gradient is set to 0 first, so the
    frames show one backward pass from scratch (leaves accumulate otherwise).
    When it returns, the gradients are exactly those of ``root.backward()``.
    """
    if fmt not in ("svg", "png", None):
        raise ValueError(f"backward_frames: fmt must be 'svg', 'png' or None, got {fmt!r}")
    draw_kwargs.pop("highlight", None)
    draw_kwargs.pop("reached", None)
    caption = draw_kwargs.pop("title", None)
    draw_dot(root, **draw_kwargs)  # check max_nodes and groups before any step
    order = topological_order(root)
    if zero_grad:
        for v in order:
            if not v.parents:
                v.grad = 0.0
    total = sum(len(v.parents) for v in order)
    reached = {root}  # the Values a gradient has arrived at so far
    drawings = []
    for k, step in enumerate(root.backward_steps(), start=1):
        reached.add(step.parent)
        text = step_caption(step, k, total)
        if caption:
            text = f"{caption}\n{text}"
        drawings.append(draw_dot(root, highlight=step, title=text, reached=reached, **draw_kwargs))
    if fmt == "svg":
        return [d.pipe(format="svg", encoding="utf-8") for d in drawings]
    if fmt == "png":
        return [d.pipe(format="png") for d in drawings]
    return drawings


def backward_viewer(root: Value, **draw_kwargs: Any) -> Any:
    """A Jupyter widget stepping through backward: a slider (and play button) over the frames.

    Needs ``ipywidgets`` (``pip install ipywidgets``, or the ``notebooks``
    extra). Returns an ``ipywidgets.VBox``; its ``children`` are the play
    button and slider row, then the picture (an ``HTML`` widget).
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        raise ImportError(
            "backward_viewer() needs ipywidgets: pip install ipywidgets "
            "(or pip install 'chainrule[notebooks]'); backward_frames(root) works without it"
        ) from None
    frames = [svg_body(svg) for svg in backward_frames(root, fmt="svg", **draw_kwargs)]
    if not frames:
        return widgets.VBox([widgets.HTML(f"{_name(root)} has no inputs: backward has no steps")])
    picture = widgets.HTML(frames[0])
    slider = widgets.IntSlider(value=1, min=1, max=len(frames), description="step")
    play = widgets.Play(value=1, min=1, max=len(frames), interval=1000)
    widgets.jslink((play, "value"), (slider, "value"))

    def show(change: dict[str, Any]) -> None:
        picture.value = frames[change["new"] - 1]

    slider.observe(show, names="value")
    return widgets.VBox([widgets.HBox([play, slider]), picture])


def svg_body(svg: str) -> str:
    """The ``<svg>`` element of an SVG document, without the XML prolog and DOCTYPE, to sit inside HTML."""
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg
