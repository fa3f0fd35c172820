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

import json
import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from autograd import Step, Value, no_grad

from .data import make_blobs, make_circles, make_moons, make_spirals, train_test_split
from .losses import binary_cross_entropy_with_logits, l1_penalty, l2_penalty
from .module import MLP, Neuron
from .optim import SGD, Adam

__all__ = ["Playground", "Settings", "DATASETS", "ACTIVATIONS", "OPTIMIZERS", "REGULARIZATIONS"]

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
            out = copy(inputs)
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
