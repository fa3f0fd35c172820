"""A playground in Jupyter: change a setting and watch a small network learn.

In the spirit of TensorFlow Playground, in one notebook cell::

    import nn
    nn.playground()                     # the widgets: controls, buttons, live views

Everything the widgets show comes from a ``Playground``, a plain Python
object that needs no browser (and no ipywidgets or matplotlib)::

    pg = nn.Playground(dataset="circles", hidden=[4, 4], learning_rate=0.1)
    pg.step()                           # one epoch
    pg.play(20)                         # twenty more
    pg.train_loss[-1], pg.test_loss[-1]
    pg.boundary_grid()                  # P(class 1) over the input plane, a 2-D list
    step = pg.backward_step()           # one chain-rule step through one neuron
    text = pg.to_json()                 # settings + weights, to hand to a class
    same = nn.Playground.from_json(text)

The task is binary classification of points in the plane: the network has two
inputs, the chosen hidden layers and one linear output (a logit), trained
with binary cross-entropy on the logits, plus an optional L1 or L2 penalty on
the weights (not the biases).
"""

from __future__ import annotations

import io
import json
import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from autograd import Step, Value, no_grad

from .data import make_blobs, make_circles, make_moons, make_spirals, train_test_split
from .losses import binary_cross_entropy_with_logits, l1_penalty, l2_penalty
from .module import MLP, Neuron
from .optim import SGD, Adam

__all__ = ["Playground", "PlaygroundApp", "Settings", "playground", "DATASETS", "ACTIVATIONS", "OPTIMIZERS", "REGULARIZATIONS"]

DATASETS = ("moons", "circles", "xor", "spirals", "blobs")
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "identity")
OPTIMIZERS = ("sgd", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
LEARNING_RATE_RANGE = (1e-5, 10.0)
FORMAT_VERSION = 1

# Settings that change the data or the network: changing one starts afresh.
_RESET_ON = {"dataset", "noise", "n_samples", "train_ratio", "hidden", "activation", "seed"}


@dataclass
class Settings:
    """Everything a learner can change in the playground.

    ``batch_size=None`` trains on the whole training set at once (one update
    per epoch). ``train_ratio`` is the share of points used for training; the
    rest are the test points. ``noise`` is the standard deviation of the
    Gaussian noise added to the points (for spirals: to their angle).
    """

    dataset: str = "moons"
    noise: float = 0.1
    n_samples: int = 100
    train_ratio: float = 0.7
    hidden: list[int] = field(default_factory=lambda: [4, 4])
    activation: str = "tanh"
    learning_rate: float = 0.03
    optimizer: str = "sgd"
    regularization: str = "none"
    regularization_rate: float = 0.0
    batch_size: int | None = 10
    seed: int = 0

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first setting out of range."""
        _choice("dataset", self.dataset, DATASETS)
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("regularization", self.regularization, REGULARIZATIONS)
        if not 0.0 <= self.noise <= 2.0:
            raise ValueError(f"noise is a standard deviation between 0 and 2, got {self.noise!r}")
        if not isinstance(self.n_samples, int) or self.n_samples < 10:
            raise ValueError(f"n_samples must be a whole number of at least 10 points, got {self.n_samples!r}")
        if not 0.1 <= self.train_ratio <= 0.9:
            raise ValueError(f"train_ratio is the training share of the points, between 0.1 and 0.9; got {self.train_ratio!r}")
        if not isinstance(self.hidden, list) or not all(isinstance(n, int) and 1 <= n <= 8 for n in self.hidden):
            raise ValueError(f"hidden is a list of layer widths from 1 to 8 neurons, e.g. [4, 4] (or [] for none); got {self.hidden!r}")
        if len(self.hidden) > 6:
            raise ValueError(f"at most 6 hidden layers, got {len(self.hidden)}")
        low, high = LEARNING_RATE_RANGE
        if not low <= self.learning_rate <= high:
            raise ValueError(f"learning_rate must be between {low:g} and {high:g}, got {self.learning_rate!r}")
        if not 0.0 <= self.regularization_rate <= 10.0:
            raise ValueError(f"regularization_rate must be between 0 and 10, got {self.regularization_rate!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ValueError(f"batch_size is a whole number of points (or None for all of them), got {self.batch_size!r}")
        if not isinstance(self.seed, int):
            raise ValueError(f"seed must be a whole number, got {self.seed!r}")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")


def _sigmoid(x: float) -> float:
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def make_dataset(name: str, n_samples: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    """The playground's data sets: ``n_samples`` points in the plane with labels 0 and 1."""
    _choice("dataset", name, DATASETS)
    if name == "moons":
        return make_moons(n_samples, noise=noise, random_state=seed)
    if name == "circles":
        return make_circles(n_samples, noise=noise, random_state=seed, factor=0.5)
    if name == "spirals":
        return make_spirals(n_samples, noise=noise, random_state=seed)
    if name == "blobs":
        return make_blobs(n_samples, centers=[[-1.0, -1.0], [1.0, 1.0]], cluster_std=0.4 + noise, random_state=seed)
    # xor: uniform points in the square, label 1 where x1 and x2 have the same sign
    rng = random.Random(seed)
    X, y = [], []
    for _ in range(n_samples):
        a, b = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        y.append(1 if a * b > 0 else 0)
        X.append([a + rng.gauss(0.0, noise) if noise else a, b + rng.gauss(0.0, noise) if noise else b])
    return X, y


class Playground:
    """The playground's model and controller, usable without a browser.

    ``Playground(**settings)`` builds the data, the network and the optimiser
    from ``Settings`` (see its fields). ``set(...)`` changes settings:
    changing the data or the network (data set, noise, sizes, activation,
    seed) starts afresh, changing the learning rate or optimiser keeps the
    weights. ``step()`` trains one epoch; ``play(n)`` trains ``n`` epochs
    (``pause()`` stops it, also from another thread); ``start()`` plays in a
    background thread. ``train_loss`` and ``test_loss`` hold one loss per
    epoch, starting with the untrained network's (epoch 0). All methods are
    safe to call while a background thread plays.
    """

    def __init__(self, **settings: Any) -> None:
        self.settings = Settings(**settings)
        self.settings.validate()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.neuron: tuple[int, int] = (0, 0)
        self.point: int = 0
        self.reset()

    # ------------------------------------------------------------------
    # Settings, data and model
    # ------------------------------------------------------------------
    def set(self, **changes: Any) -> None:
        """Change settings by name, e.g. ``pg.set(dataset="xor", learning_rate=0.1)``."""
        names = {f.name for f in fields(Settings)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown setting {unknown[0]!r}; the settings are {', '.join(sorted(names))}")
        with self._lock:
            candidate = Settings(**{**asdict(self.settings), **changes})
            candidate.validate()
            self.settings = candidate
            if _RESET_ON & set(changes):
                self.reset()
            elif {"learning_rate", "optimizer"} & set(changes):
                self.optimizer = self._make_optimizer()

    def reset(self) -> None:
        """New data and a freshly initialised network from the current settings."""
        with self._lock:
            s = self.settings
            X, y = make_dataset(s.dataset, s.n_samples, s.noise, s.seed)
            self.X_train, self.X_test, self.y_train, self.y_test = train_test_split(
                X, y, test_size=max(1, round(len(X) * (1.0 - s.train_ratio))), random_state=s.seed
            )
            self.extent = _extent(X)
            self.model = MLP(2, [*s.hidden, 1], activation=s.activation, output_activation=None, rng=s.seed)
            self.optimizer = self._make_optimizer()
            self.epoch = 0
            self.diverged = False
            self.train_loss: list[float] = [self.loss(self.X_train, self.y_train)]
            self.test_loss: list[float] = [self.loss(self.X_test, self.y_test)]
            self.neuron = (0, 0)
            self.point = 0
            self._clear_backward()

    def _make_optimizer(self) -> SGD | Adam:
        params = self.model.parameters()
        if self.settings.optimizer == "adam":
            return Adam(params, lr=self.settings.learning_rate)
        return SGD(params, lr=self.settings.learning_rate)

    def weights(self) -> list[Value]:
        """The weights the regularisation penalises (every neuron's ``w``, no biases)."""
        return [w for layer in self.model.layers for n in layer.neurons for w in n.w]

    # ------------------------------------------------------------------
    # Training
    # ------------------------------------------------------------------
    def loss(self, X: Sequence[Sequence[float]], y: Sequence[int]) -> float:
        """Mean binary cross-entropy of the current network on ``(X, y)`` (no penalty)."""
        with self._lock, no_grad():
            logits = [self.model(x) for x in X]
            return binary_cross_entropy_with_logits(logits, list(y)).data

    def step(self) -> float:
        """Train one epoch (one pass over the training points); return the training loss.

        The points are shuffled into mini-batches of ``batch_size``; each
        mini-batch does forward, loss (+ penalty), zero_grad, backward and
        one optimiser step. The shuffle depends only on the seed and the
        epoch, so a restored playground continues exactly as the original.
        """
        with self._lock:
            if self.diverged:
                return self.train_loss[-1]
            s = self.settings
            n = len(self.X_train)
            order = list(range(n))
            random.Random(s.seed * 1_000_003 + self.epoch).shuffle(order)
            size = n if s.batch_size is None else min(s.batch_size, n)
            for start in range(0, n, size):
                batch = order[start : start + size]
                outputs = [self.model(self.X_train[i]) for i in batch]
                total = binary_cross_entropy_with_logits(outputs, [self.y_train[i] for i in batch])
                if s.regularization != "none" and s.regularization_rate > 0.0:
                    penalty = l1_penalty if s.regularization == "l1" else l2_penalty
                    total = total + s.regularization_rate * penalty(self.weights())
                self.optimizer.zero_grad()
                total.backward()
                self.optimizer.step()
            self.epoch += 1
            train, test = self.loss(self.X_train, self.y_train), self.loss(self.X_test, self.y_test)
            if not (math.isfinite(train) and math.isfinite(test)):
                self.diverged = True  # the loss blew up: lower the learning rate and reset
            self.train_loss.append(train)
            self.test_loss.append(test)
            self._clear_backward()
            return train

    def play(self, epochs: int, on_epoch: Callable[[Playground], None] | None = None) -> int:
        """Train up to ``epochs`` epochs, calling ``on_epoch(self)`` after each; return how many ran.

        Stops early when ``pause()`` is called (from a callback or another
        thread) or when the loss diverges.
        """
        self._stop.clear()
        done = 0
        while done < epochs and not self._stop.is_set() and not self.diverged:
            self.step()
            done += 1
            if on_epoch is not None:
                on_epoch(self)
        return done

    def start(self, epochs: int = 1_000_000, on_epoch: Callable[[Playground], None] | None = None) -> threading.Thread:
        """Play in a background thread (the notebook stays responsive); ``pause()`` stops it."""
        if self.playing:
            assert self._thread is not None
            return self._thread
        self._stop.clear()
        self._thread = threading.Thread(target=self.play, args=(epochs, on_epoch), daemon=True, name="playground")
        self._thread.start()
        return self._thread

    def pause(self, wait: bool = True) -> None:
        """Stop playing after the current epoch; with ``wait``, until the thread has ended."""
        self._stop.set()
        thread = self._thread
        if wait and thread is not None and thread is not threading.current_thread():
            thread.join()

    @property
    def playing(self) -> bool:
        """True while a background thread is training."""
        return self._thread is not None and self._thread.is_alive()

    # ------------------------------------------------------------------
    # Predictions and the views' data
    # ------------------------------------------------------------------
    def predict_proba(self, X: Sequence[Sequence[float]]) -> list[float]:
        """P(class 1) for each point: the sigmoid of the network's output."""
        with self._lock, no_grad():
            return [_sigmoid(self.model(x).data) for x in X]

    def accuracy(self, X: Sequence[Sequence[float]], y: Sequence[int]) -> float:
        """Share of points classified right (P(class 1) > 0.5 means class 1)."""
        probs = self.predict_proba(X)
        return sum((p > 0.5) == (t == 1) for p, t in zip(probs, y, strict=True)) / len(y)

    def grid_axes(self, resolution: int = 30) -> tuple[list[float], list[float]]:
        """The x1 and x2 coordinates of the views' grid, covering the data with a margin."""
        x0, x1, y0, y1 = self.extent
        step = 1.0 / (resolution - 1)
        return ([x0 + (x1 - x0) * i * step for i in range(resolution)], [y0 + (y1 - y0) * i * step for i in range(resolution)])

    def boundary_grid(self, resolution: int = 30) -> list[list[float]]:
        """P(class 1) over the plane: ``grid[i][j]`` at ``(xs[j], ys[i])`` of ``grid_axes``."""
        xs, ys = self.grid_axes(resolution)
        with self._lock, no_grad():
            return [[_sigmoid(self.model([a, b]).data) for a in xs] for b in ys]

    def neuron_grids(self, resolution: int = 20) -> list[list[list[list[float]]]]:
        """Every hidden neuron's output over the plane: ``grids[layer][neuron][i][j]``.

        ``[i][j]`` is the point ``(xs[j], ys[i])`` of ``grid_axes(resolution)``.
        An empty list when the network has no hidden layer.
        """
        xs, ys = self.grid_axes(resolution)
        hidden = self.model.layers[:-1]
        grids = [[[[0.0] * resolution for _ in ys] for _ in layer.neurons] for layer in hidden]
        with self._lock, no_grad():
            for i, b in enumerate(ys):
                for j, a in enumerate(xs):
                    h: list[Any] = [a, b]
                    for li, layer in enumerate(hidden):
                        h = [n(h) for n in layer.neurons]
                        for k, v in enumerate(h):
                            grids[li][k][i][j] = v.data
        return grids

    # ------------------------------------------------------------------
    # One neuron's backward pass, one chain-rule step at a time
    # ------------------------------------------------------------------
    def select(self, layer: int | None = None, neuron: int | None = None, point: int | None = None) -> None:
        """Choose the neuron (``layer``, ``neuron``, 0-based; the output layer is last) and training point to explain."""
        with self._lock:
            li = self.neuron[0] if layer is None else layer
            ni = self.neuron[1] if neuron is None else neuron
            if not 0 <= li < len(self.model.layers) or not 0 <= ni < len(self.model.layers[li].neurons):
                raise ValueError(f"there is no neuron {ni} in layer {li}")
            p = self.point if point is None else point
            if not 0 <= p < len(self.X_train):
                raise ValueError(f"point must be between 0 and {len(self.X_train) - 1}, got {p}")
            self.neuron, self.point = (li, ni), p
            self._clear_backward()

    def _clear_backward(self) -> None:
        self.backward_root: Value | None = None
        self.backward_steps: list[Step] = []
        self._steps_iter: Any = None

    def neuron_graph(self) -> Value:
        """The chosen neuron's output for the chosen point, as a small graph of fresh Values.

        The neuron's inputs (the point, or the previous layer's outputs for
        it) and a copy of its current weights are leaves, so walking its
        backward pass leaves the network's own gradients untouched.
        """
        with self._lock:
            li, ni = self.neuron
            h: list[Any] = list(self.X_train[self.point])
            with no_grad():
                for layer in self.model.layers[:li]:
                    h = [n(h).data for n in layer.neurons]
            original = self.model.layers[li].neurons[ni]
            copy = Neuron(len(original.w), activation=original.activation)
            copy.load_state_dict(original.state_dict())
            prefix = "x" if li == 0 else f"h{li}."
            inputs = [Value(v, label=f"{prefix}{k + 1}") for k, v in enumerate(h)]
            for k, w in enumerate(copy.w):
                w.label = f"w{k + 1}"
            out = copy(inputs)
            z = out if out.op == "+" else out.parents[0]
            z.label = "z"
            if z.parents and z.parents[0].op == "dot":
                z.parents[0].label = "w·x"
            name = "out" if li == len(self.model.layers) - 1 else f"h{li + 1}.{ni + 1}"
            out.label = name
            return out

    def backward_step(self) -> Step | None:
        """Apply the next chain-rule step of the chosen neuron's backward pass and return it.

        The first call builds the graph (``neuron_graph()``); each call then
        applies one ``backward_steps()`` record, kept in ``backward_steps``.
        After the last step it returns ``None``, and the next call starts a
        new pass.
        """
        with self._lock:
            if self._steps_iter is None:
                self.backward_root = self.neuron_graph()
                self.backward_steps = []
                self._steps_iter = self.backward_root.backward_steps()
            step = next(self._steps_iter, None)
            if step is None:
                self._steps_iter = None
                return None
            self.backward_steps.append(step)
            return step

    def draw_backward(self, **draw_kwargs: Any) -> Any:
        """``draw_dot`` of the chosen neuron's graph with the latest step highlighted."""
        from autograd import draw_dot

        with self._lock:
            root = self.backward_root if self.backward_root is not None else self.neuron_graph()
            step = self.backward_steps[-1] if self.backward_steps and self._steps_iter is not None else None
            n_edges = len(self.backward_steps)
            if step is None:
                title = f"{root.label} for training point {self.point}: press 'backward step' to apply the chain rule"
            else:
                title = (
                    f"step {n_edges}: {step.parent.label or step.parent.op}.grad += "
                    f"{step.local_grad:.4g} * {step.upstream:.4g} = {step.contribution:.4g}"
                )
            draw_kwargs.setdefault("color_grad", True)
            return draw_dot(root, highlight=step, title=title, **draw_kwargs)

    # ------------------------------------------------------------------
    # Saving and restoring
    # ------------------------------------------------------------------
    def to_json(self) -> str:
        """The settings, weights, epoch and loss history as a small JSON text."""
        with self._lock:
            return json.dumps(
                {
                    "format": "chainrule-playground",
                    "version": FORMAT_VERSION,
                    "settings": asdict(self.settings),
                    "epoch": self.epoch,
                    "weights": self.model.state_dict(),
                    "train_loss": self.train_loss,
                    "test_loss": self.test_loss,
                },
                indent=1,
            )

    @classmethod
    def from_json(cls, text: str) -> Playground:
        """Rebuild a playground saved with ``to_json()``: same data, weights and history.

        (An Adam optimiser starts with fresh moment estimates.)
        """
        try:
            state = json.loads(text)
            if not isinstance(state, dict) or state.get("format") != "chainrule-playground":
                raise ValueError("this is not a saved playground (no 'format': 'chainrule-playground')")
            pg = cls(**state["settings"])
            pg.model.load_state_dict(state["weights"])
            pg.epoch = int(state["epoch"])
            pg.train_loss = [float(v) for v in state["train_loss"]]
            pg.test_loss = [float(v) for v in state["test_loss"]]
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as err:
            raise ValueError(f"this is not a saved playground ({err})") from None
        return pg

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"Playground({s.dataset}, hidden={s.hidden}, {s.activation}, {s.optimizer} lr={s.learning_rate:g}, "
            f"epoch {self.epoch}, train loss {self.train_loss[-1]:.4f}, test loss {self.test_loss[-1]:.4f})"
        )


def _extent(X: Sequence[Sequence[float]], margin: float = 0.15) -> tuple[float, float, float, float]:
    """(x1 min, x1 max, x2 min, x2 max) of the points plus a margin."""
    out: list[float] = []
    for d in (0, 1):
        lo, hi = min(x[d] for x in X), max(x[d] for x in X)
        pad = (hi - lo) * margin or 1.0
        out += [lo - pad, hi + pad]
    return out[0], out[1], out[2], out[3]


# ----------------------------------------------------------------------
# The widgets (ipywidgets and matplotlib are imported only here)
# ----------------------------------------------------------------------
LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (("all", 0), ("1", 1), ("5", 5), ("10", 10), ("20", 20), ("50", 50))
_RED, _BLUE = "#d7301f", "#2b6cb0"


def _png(fig: Any) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes (no pyplot, so safe from a background thread)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    return buffer.getvalue()


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def boundary_png(pg: Playground, resolution: int = 40) -> bytes:
    """The decision boundary (P(class 1) as a heatmap) with train (circles) and test (squares) points."""
    fig = _figure(4.0, 3.6)
    ax = fig.add_subplot()
    ax.imshow(pg.boundary_grid(resolution), origin="lower", extent=pg.extent, aspect="auto",
              cmap="RdBu", vmin=0.0, vmax=1.0, alpha=0.75, interpolation="bilinear")
    for X, y, marker, name in ((pg.X_train, pg.y_train, "o", "train"), (pg.X_test, pg.y_test, "s", "test")):
        colours = [_BLUE if t == 1 else _RED for t in y]
        ax.scatter([x[0] for x in X], [x[1] for x in X], c=colours, marker=marker, s=18,
                   edgecolors="white" if name == "train" else "black", linewidths=0.6, label=name)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker=m, linestyle="", color="#868e96", markeredgecolor=e, label=name)
               for m, e, name in (("o", "white", "train"), ("s", "black", "test"))]
    ax.legend(handles=handles, loc="upper right", fontsize=7)
    ax.set_title(f"epoch {pg.epoch}: train acc {pg.accuracy(pg.X_train, pg.y_train):.0%}, "
                 f"test acc {pg.accuracy(pg.X_test, pg.y_test):.0%}", fontsize=9)
    ax.set_xlabel("x1", fontsize=8)
    ax.set_ylabel("x2", fontsize=8)
    return _png(fig)


def loss_png(pg: Playground) -> bytes:
    """Train and test loss per epoch."""
    fig = _figure(4.0, 2.4)
    ax = fig.add_subplot()
    epochs = list(range(len(pg.train_loss)))
    ax.plot(epochs, pg.train_loss, color="#333333", label=f"train {pg.train_loss[-1]:.3f}")
    ax.plot(epochs, pg.test_loss, color="#f08c00", label=f"test {pg.test_loss[-1]:.3f}")
    ax.set_xlabel("epoch", fontsize=8)
    ax.set_ylabel("loss", fontsize=8)
    ax.set_ylim(bottom=0.0)
    ax.legend(fontsize=7)
    ax.set_title("Loss" + (" (diverged: lower the learning rate and reset)" if pg.diverged else ""), fontsize=9)
    return _png(fig)


def neurons_png(pg: Playground, resolution: int = 20) -> bytes:
    """One small heatmap per hidden neuron over the input plane, one row per layer."""
    grids = pg.neuron_grids(resolution)
    rows, cols = max(1, len(grids)), max([len(layer) for layer in grids] or [1])
    fig = _figure(0.9 * cols + 0.5, 0.9 * rows + 0.4)
    if not grids:
        fig.text(0.5, 0.5, "no hidden layer", ha="center", va="center")
        return _png(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    for li, layer in enumerate(grids):
        for k in range(cols):
            ax = axes[li][k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(layer):
                ax.axis("off")
                continue
            top = max(abs(v) for row in layer[k] for v in row) or 1.0
            ax.imshow(layer[k], origin="lower", cmap="RdBu", vmin=-top, vmax=top, interpolation="bilinear")
            ax.set_title(f"h{li + 1}.{k + 1}", fontsize=7, pad=1)
    fig.suptitle("Hidden neurons", fontsize=8)
    return _png(fig)


class PlaygroundApp:
    """The widgets around a ``Playground``: controls, buttons and live views.

    ``widget`` is the ``ipywidgets.VBox`` to display. ``controls`` maps each
    setting's name to its widget; ``reset_button``, ``play_button``,
    ``step_button`` and ``backward_button`` can be pressed from code with
    ``.click()``. The views are ``boundary``, ``losses`` and ``neurons``
    (``ipywidgets.Image`` holding PNGs) and ``graph`` (an ``HTML`` widget
    holding the SVG of one neuron's graph). Playing trains in a background
    thread and redraws between epochs, so the notebook stays responsive.
    """

    def __init__(self, pg: Playground, redraw_every: float = 0.3) -> None:
        try:
            import ipywidgets as widgets
        except ImportError:
            raise ImportError(
                "nn.playground() needs ipywidgets: pip install ipywidgets "
                "(or pip install 'chainrule[notebooks]'); nn.Playground works without it"
            ) from None
        self.pg = pg
        self.redraw_every = redraw_every
        self._last_draw = 0.0
        s = pg.settings
        style = {"description_width": "110px"}
        wide = widgets.Layout(width="290px")

        def slider(options: Sequence[Any], value: Any, description: str) -> Any:
            return widgets.SelectionSlider(options=[(f"{v:g}", v) for v in options], value=value,
                                           description=description, style=style, layout=wide)

        self.controls: dict[str, Any] = {
            "dataset": widgets.Dropdown(options=DATASETS, value=s.dataset, description="data set", style=style, layout=wide),
            "noise": widgets.FloatSlider(value=s.noise, min=0.0, max=0.5, step=0.05, description="noise", style=style, layout=wide),
            "train_ratio": widgets.FloatSlider(value=s.train_ratio, min=0.1, max=0.9, step=0.1, description="train share",
                                               style=style, layout=wide),
            "hidden": widgets.Text(value=", ".join(map(str, s.hidden)), description="hidden layers",
                                   placeholder="e.g. 4, 4", continuous_update=False, style=style, layout=wide),
            "activation": widgets.Dropdown(options=ACTIVATIONS, value=s.activation, description="activation", style=style, layout=wide),
            "learning_rate": slider(LEARNING_RATES, _nearest(LEARNING_RATES, s.learning_rate), "learning rate"),
            "optimizer": widgets.Dropdown(options=OPTIMIZERS, value=s.optimizer, description="optimiser", style=style, layout=wide),
            "regularization": widgets.Dropdown(options=REGULARIZATIONS, value=s.regularization, description="regularisation",
                                               style=style, layout=wide),
            "regularization_rate": slider(REGULARIZATION_RATES, _nearest(REGULARIZATION_RATES, s.regularization_rate), "reg. rate"),
            "batch_size": widgets.Dropdown(options=BATCH_SIZES, value=_batch_value(s.batch_size), description="batch size",
                                           style=style, layout=wide),
            "seed": widgets.BoundedIntText(value=s.seed, min=0, max=10**6, description="seed", style=style, layout=wide),
        }
        for name, control in self.controls.items():
            control.observe(lambda change, name=name: self._on_setting(name, change["new"]), names="value")
        self.neuron_choice = widgets.Dropdown(description="graph of", style=style, layout=wide)
        self.neuron_choice.observe(self._on_neuron, names="value")

        self.reset_button = widgets.Button(description="reset", icon="refresh", layout=widgets.Layout(width="90px"))
        self.play_button = widgets.Button(description="play", icon="play", button_style="success", layout=widgets.Layout(width="90px"))
        self.step_button = widgets.Button(description="epoch", icon="step-forward", layout=widgets.Layout(width="90px"))
        self.backward_button = widgets.Button(description="backward step", icon="arrow-left", layout=widgets.Layout(width="140px"))
        self.reset_button.on_click(lambda _: self.reset())
        self.play_button.on_click(lambda _: self.toggle_play())
        self.step_button.on_click(lambda _: self.step())
        self.backward_button.on_click(lambda _: self.backward_step())
        self.status = widgets.HTML()

        self.boundary = widgets.Image(format="png", layout=widgets.Layout(width="360px", min_width="360px"))
        self.losses = widgets.Image(format="png", layout=widgets.Layout(width="340px", min_width="340px"))
        self.neurons = widgets.Image(format="png", layout=widgets.Layout(max_width="340px"))
        self.graph = widgets.HTML(layout=widgets.Layout(overflow="auto", max_width="100%"))

        buttons = widgets.HBox([self.reset_button, self.play_button, self.step_button, self.backward_button, self.status])
        controls = widgets.VBox([*self.controls.values(), self.neuron_choice])
        views = widgets.HBox([self.boundary, widgets.VBox([self.losses, self.neurons])])
        self.widget = widgets.VBox([buttons, widgets.HBox([controls, views]), self.graph])
        self.widget.app = self  # so code holding the widget can reach the buttons and the model
        self._fill_neuron_choice()
        self.refresh()

    # -- actions -------------------------------------------------------
    def reset(self) -> None:
        """Pause, start afresh from the settings, redraw."""
        self.pause()
        self.pg.reset()
        self._fill_neuron_choice()
        self.refresh()

    def step(self) -> None:
        """Train one epoch and redraw (pauses first when playing)."""
        self.pause()
        self.pg.step()
        self.refresh()

    def backward_step(self) -> None:
        """Apply one chain-rule step of the chosen neuron's backward pass and redraw its graph."""
        self.pause()
        self.pg.backward_step()
        self._draw_graph()

    def toggle_play(self) -> None:
        """Play in a background thread, or pause when playing."""
        if self.pg.playing:
            self.pause()
        else:
            self.play_button.description, self.play_button.icon = "pause", "pause"
            self.pg.start(on_epoch=self._on_epoch)

    def pause(self) -> None:
        """Stop playing (after the current epoch) and redraw."""
        if self.pg.playing:
            self.pg.pause()
            self.refresh()
        self.play_button.description, self.play_button.icon = "play", "play"

    # -- views ---------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every view from the playground's current state."""
        pg = self.pg
        self.boundary.value = boundary_png(pg)
        self.losses.value = loss_png(pg)
        self.neurons.value = neurons_png(pg)
        self._draw_graph()
        self.status.value = (f"<b>epoch {pg.epoch}</b> &nbsp; train loss {pg.train_loss[-1]:.4f} &nbsp; "
                             f"test loss {pg.test_loss[-1]:.4f}")
        self._last_draw = time.monotonic()

    def _draw_graph(self) -> None:
        from autograd import GraphvizNotFoundError

        try:
            drawing = self.pg.draw_backward()
            drawing.attr(size="13,3.2")  # inches: scale a wide graph down to the notebook's width
            svg = drawing.pipe(format="svg", encoding="utf-8")
        except GraphvizNotFoundError as err:
            self.graph.value = f"<pre>{err}</pre>"
            return
        start = svg.find("<svg")
        self.graph.value = svg[start:] if start >= 0 else svg

    def _on_epoch(self, pg: Playground) -> None:
        """Called by the training thread after every epoch: redraw now and then."""
        if pg.diverged or time.monotonic() - self._last_draw >= self.redraw_every:
            self.refresh()
        if pg.diverged:
            self.play_button.description, self.play_button.icon = "play", "play"

    # -- controls ------------------------------------------------------
    def _on_setting(self, name: str, value: Any) -> None:
        if name == "hidden":
            try:
                value = [int(part) for part in str(value).replace(",", " ").split()]
            except ValueError:
                self.status.value = f"<span style='color:{_RED}'>hidden layers: whole numbers such as 4, 4</span>"
                return
        elif name == "batch_size":
            value = value or None
        self.pause()
        try:
            self.pg.set(**{name: value})
        except ValueError as err:
            self.status.value = f"<span style='color:{_RED}'>{err}</span>"
            return
        if name in _RESET_ON:
            self._fill_neuron_choice()
        self.refresh()

    def _fill_neuron_choice(self) -> None:
        layers = self.pg.model.layers
        options = [
            ("output" if li == len(layers) - 1 else f"h{li + 1}.{k + 1}", (li, k))
            for li, layer in enumerate(layers)
            for k in range(len(layer.neurons))
        ]
        self.neuron_choice.unobserve(self._on_neuron, names="value")
        self.neuron_choice.options = options
        self.neuron_choice.value = self.pg.neuron
        self.neuron_choice.observe(self._on_neuron, names="value")

    def _on_neuron(self, change: dict[str, Any]) -> None:
        layer, neuron = change["new"]
        self.pg.select(layer=layer, neuron=neuron)
        self._draw_graph()


def _nearest(options: Sequence[float], value: float) -> float:
    return min(options, key=lambda v: abs(math.log10(v + 1e-12) - math.log10(value + 1e-12)))


def _batch_value(batch_size: int | None) -> int:
    values = [v for _, v in BATCH_SIZES]
    return 0 if batch_size is None else min(values[1:], key=lambda v: abs(v - batch_size))


def playground(**settings: Any) -> Any:
    """The interactive playground: an ``ipywidgets.VBox`` to display in a notebook cell.

    ``settings`` are the starting ``Settings`` (``dataset="circles"``,
    ``hidden=[4, 2]``, ...). The box's ``app`` attribute is the
    ``PlaygroundApp`` (buttons, controls, views) and ``app.pg`` the
    ``Playground`` behind it, so a lesson can also drive it from code.
    Pass a saved playground with ``playground(state=text)``.
    """
    state = settings.pop("state", None)
    pg = Playground.from_json(state) if state is not None else Playground(**settings)
    return PlaygroundApp(pg).widget
