"""What the web pages ask of chainrule, answered as JSON text.

The pages run this module in Pyodide inside a Web Worker. Every number they
show comes from here: the playground is ``nn.Playground``, the expression
grapher parses with ``chainrule.expr`` (the parser of ``chainrule graph``),
and the pictures of graphs are ``draw_dot`` / ``backward_frames`` DOT text,
which the worker lays out with viz.js. The worker calls one function,
``call(name, args_json)``, which returns ``{"ok": ...}`` or, for a mistake a
learner can make (a bad setting, a bad expression, a file that is not a
saved playground), ``{"error": "one clear message"}``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, fields
from typing import Any

from autograd import Value, backward_frames, draw_dot
from chainrule.expr import ExpressionError, evaluate, names_in, parse_expression
from nn.playground import (
    ACTIVATIONS,
    BATCH_SIZES,
    DATASETS,
    LEARNING_RATES,
    OPTIMIZERS,
    REGULARIZATION_RATES,
    REGULARIZATIONS,
    RESET_ON,
    Playground,
    Settings,
    make_dataset,
)
from nn.playground import model as playground_model

BOUNDARY_RESOLUTION = 30  # the decision boundary: P(class 1) on a 30 x 30 grid
NEURON_RESOLUTION = 16  # each hidden neuron's small picture
MAX_STEP_FRAMES = 200  # longer backward passes are shown whole, without stepping
# the playground's limits on the network's shape (the page's + and - buttons stop there)
MAX_WIDTH = getattr(playground_model, "MAX_WIDTH", 8)
MAX_HIDDEN_LAYERS = getattr(playground_model, "MAX_HIDDEN_LAYERS", 6)
SAMPLE_COUNTS = (50, 100, 200, 300, 500)


def clean(obj: Any) -> Any:
    """``obj`` as valid JSON: each nan or infinite float becomes the text "nan", "inf" or "-inf"."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else repr(obj)
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    return obj


class Stepper:
    """One graph's backward pass as pictures: frame 0 before backward, then one per chain-rule step.

    The frames after 0 are exactly ``backward_frames(root, fmt=None)``: each
    marks its step's edge and carries its caption (``b.grad += ...``).
    """

    def __init__(self, root: Value, intro: str, color_grad: bool = True) -> None:
        self.root = root
        edges = sum(len(v.parents) for v in leaves_and_nodes(root))
        first = draw_dot(root, color_grad=color_grad, title=intro)
        self.frames = [first.source]
        self.stepped = edges <= MAX_STEP_FRAMES
        if self.stepped:
            self.frames += [d.source for d in backward_frames(root, fmt=None, color_grad=color_grad)]
        else:  # too many steps to draw one by one: the whole pass at once
            root.backward()
            caption = f"{edges} chain-rule steps: too many to show one by one; here is the result of backward()"
            self.frames.append(draw_dot(root, color_grad=color_grad, title=caption).source)

    def frame(self, index: int) -> dict[str, Any]:
        """Frame ``index`` (clamped to 0 .. last) as DOT text, with where it is in the pass."""
        last = len(self.frames) - 1
        index = max(0, min(int(index), last))
        return {"dot": self.frames[index], "index": index, "total": last, "stepped": self.stepped}


def leaves_and_nodes(root: Value) -> list[Value]:
    """Every Value ``root`` depends on, itself included (each once)."""
    seen, stack = {root}, [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return list(seen)


# ----------------------------------------------------------------------
# The playground
# ----------------------------------------------------------------------
class PlaygroundSession:
    """The page's playground: a ``Playground`` and what the page has already been sent."""

    def __init__(self, pg: Playground) -> None:
        self.pg = pg
        self.sent = 0  # losses the page holds: later views send only the new ones
        self.stepper: Stepper | None = None
        self.stepper_epoch = -1

    # -- views -----------------------------------------------------------
    def view(self, data: bool = False, fresh: bool = False) -> dict[str, Any]:
        """What the page draws: losses (the new ones), the boundary, every hidden neuron, the weights."""
        pg = self.pg
        start = 0 if fresh or self.sent > len(pg.train_loss) else self.sent
        self.sent = len(pg.train_loss)
        xs, ys = pg.grid_axes(BOUNDARY_RESOLUTION)
        nxs, nys = pg.grid_axes(NEURON_RESOLUTION)
        out: dict[str, Any] = {
            "epoch": pg.epoch,
            "diverged": pg.diverged,
            "settings": asdict(pg.settings),
            "loss_from": start,
            "train_loss": pg.train_loss[start:],
            "test_loss": pg.test_loss[start:],
            "train_accuracy": pg.accuracy(pg.X_train, pg.y_train),
            "test_accuracy": pg.accuracy(pg.X_test, pg.y_test),
            "extent": list(pg.extent),
            "boundary": {"xs": xs, "ys": ys, "p": pg.boundary_grid(BOUNDARY_RESOLUTION)},
            "neurons": {"xs": nxs, "ys": nys, "grids": pg.neuron_grids(NEURON_RESOLUTION)},
            "layers": [
                [{"w": [w.data for w in n.w], "b": n.b.data} for n in layer.neurons] for layer in pg.model.layers
            ],
            "selected": {"layer": pg.neuron[0], "neuron": pg.neuron[1], "point": pg.point},
        }
        if data:
            out["data"] = {"train": [[*x, t] for x, t in zip(pg.X_train, pg.y_train)],
                           "test": [[*x, t] for x, t in zip(pg.X_test, pg.y_test)]}
        return out

    def engine(self, index: int = 0) -> dict[str, Any]:
        """Frame ``index`` of the chosen neuron's backward pass for the chosen training point."""
        pg = self.pg
        if self.stepper is None or self.stepper_epoch != pg.epoch:
            root = pg.neuron_graph()
            layer, neuron = pg.neuron
            what = "the output neuron" if layer == len(pg.model.layers) - 1 else f"neuron {root.label}"
            x1, x2 = pg.X_train[pg.point]
            intro = (f"{what} for training point {pg.point} ({x1:.3g}, {x2:.3g}), epoch {pg.epoch}: "
                     "forward pass done, every grad is 0; step to apply the chain rule")
            self.stepper, self.stepper_epoch = Stepper(root, intro), pg.epoch
        frame = self.stepper.frame(index)
        frame["selected"] = {"layer": pg.neuron[0], "neuron": pg.neuron[1], "point": pg.point}
        return frame

    def forget_graph(self) -> None:
        self.stepper = None

    # -- actions ---------------------------------------------------------
    def play(self, ms: float, max_epochs: int) -> dict[str, Any]:
        """Train whole epochs for about ``ms`` milliseconds (at least one, at most ``max_epochs``)."""
        pg, done = self.pg, 0
        deadline = time.perf_counter() + ms / 1000.0
        while done < max_epochs and not pg.diverged:
            pg.step()
            done += 1
            if time.perf_counter() >= deadline:
                break
        view = self.view()
        view["ran"] = done
        return view


SESSION: PlaygroundSession | None = None


def session() -> PlaygroundSession:
    if SESSION is None:
        raise RuntimeError("the playground has not been started (call pg_init first)")
    return SESSION


def start(pg: Playground) -> dict[str, Any]:
    global SESSION
    SESSION = PlaygroundSession(pg)
    return SESSION.view(data=True, fresh=True)


def pg_options() -> dict[str, Any]:
    """The choices the page's controls offer, and the default settings."""
    previews = {}
    for name in DATASETS:
        X, y = make_dataset(name, 80, 0.1, 0)
        previews[name] = [[*x, t] for x, t in zip(X, y)]
    return {
        "datasets": list(DATASETS),
        "activations": list(ACTIVATIONS),
        "optimizers": list(OPTIMIZERS),
        "regularizations": list(REGULARIZATIONS),
        "learning_rates": list(LEARNING_RATES),
        "regularization_rates": list(REGULARIZATION_RATES),
        "batch_sizes": [[label, size] for label, size in BATCH_SIZES],
        "sample_counts": list(SAMPLE_COUNTS),
        "max_width": MAX_WIDTH,
        "max_hidden_layers": MAX_HIDDEN_LAYERS,
        "defaults": asdict(Settings()),
        "reset_on": sorted(RESET_ON),
        "previews": previews,
    }


def pg_init(settings: dict[str, Any] | None = None, state: str | None = None) -> dict[str, Any]:
    """Start the playground from settings (e.g. from the page's URL) or from a ``to_json()`` text."""
    if state is not None:
        return start(Playground.from_json(state))
    settings = settings or {}
    known = [f.name for f in fields(Settings)]
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ValueError(f"unknown setting {unknown[0]!r}; the settings are {', '.join(known)}")
    return start(Playground(**settings))


def pg_set(changes: dict[str, Any]) -> dict[str, Any]:
    """Change settings; changing the data or the network starts afresh (``Playground.set``)."""
    s = session()
    s.pg.set(**changes)
    s.forget_graph()
    fresh = bool(RESET_ON & set(changes))
    return s.view(data=fresh, fresh=fresh)


def pg_reset() -> dict[str, Any]:
    s = session()
    s.pg.reset()
    s.forget_graph()
    return s.view(data=True, fresh=True)


def pg_step(epochs: int = 1) -> dict[str, Any]:
    s = session()
    s.pg.play(int(epochs))
    return s.view()


def pg_play(ms: float = 80.0, max_epochs: int = 1000) -> dict[str, Any]:
    return session().play(float(ms), int(max_epochs))


def pg_select(layer: int | None = None, neuron: int | None = None, point: int | None = None) -> dict[str, Any]:
    """Choose the neuron and training point whose backward pass the page shows; frame 0 of it."""
    s = session()
    s.pg.select(layer=layer, neuron=neuron, point=point)
    s.forget_graph()
    return s.engine(0)


def pg_frame(index: int = 0) -> dict[str, Any]:
    return session().engine(int(index))


def pg_save() -> dict[str, Any]:
    return {"json": session().pg.to_json()}


def pg_load(text: str) -> dict[str, Any]:
    return start(Playground.from_json(text))


# ----------------------------------------------------------------------
# The expression grapher
# ----------------------------------------------------------------------
GRAPH: Stepper | None = None


def expr_names(text: str) -> dict[str, Any]:
    """The names an expression uses (checked with the whitelist parser of ``chainrule graph``)."""
    return {"names": names_in(parse_expression(text))}


def expr_graph(text: str, values: dict[str, float], color_grad: bool = True) -> dict[str, Any]:
    """Build the expression's graph from ``values``, run backward, and give every input's gradient."""
    global GRAPH
    tree = parse_expression(text)
    names = names_in(tree)
    leaves = {}
    for name in names:
        number = values.get(name)
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise ExpressionError(f"the value of {name} must be a finite number, got {number!r}")
        leaves[name] = Value(number, label=name)
    out = evaluate(tree, leaves)
    out.label = "out"
    intro = f"out = {text.strip()} = {out.data:.4g}: every grad is 0; step to apply the chain rule"
    GRAPH = Stepper(out, intro, color_grad=color_grad)  # its frames run backward
    result = GRAPH.frame(0)
    result.update(
        names=names,
        value=out.data,
        grads={name: leaves[name].grad for name in names},
        data={name: leaves[name].data for name in names},
    )
    return result


def expr_frame(index: int = 0) -> dict[str, Any]:
    if GRAPH is None:
        raise ExpressionError("type an expression first")
    return GRAPH.frame(int(index))


# ----------------------------------------------------------------------
# The one entry point
# ----------------------------------------------------------------------
HANDLERS: dict[str, Callable[..., dict[str, Any]]] = {
    f.__name__: f
    for f in (pg_options, pg_init, pg_set, pg_reset, pg_step, pg_play, pg_select, pg_frame, pg_save, pg_load,
              expr_names, expr_graph, expr_frame)
}
# mistakes a learner can make: shown on the page as one message
LEARNER_ERRORS = (ValueError, TypeError, ExpressionError)


def call(name: str, args_json: str = "{}") -> str:
    """Run handler ``name`` with the JSON object ``args_json`` as keyword arguments; answer in JSON."""
    handler = HANDLERS.get(name)
    if handler is None:
        return json.dumps({"error": f"unknown request {name!r}"})
    try:
        result = handler(**json.loads(args_json))
    except LEARNER_ERRORS as err:
        return json.dumps({"error": str(err)})
    return json.dumps({"ok": clean(result)}, allow_nan=False)
