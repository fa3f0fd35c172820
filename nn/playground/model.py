"""The playground's model and controller: ``Settings`` and ``Playground``, no widgets needed.

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

import autograd
from autograd import Step, Value, topological_order

from .. import serialize
from ..checks import in_range, is_integer, is_real, real, shorten, show
from ..data import load, train_test_split
from ..layers import MLP, Neuron
from ..losses import binary_cross_entropy_with_logits, l1_penalty, l2_penalty
from ..optim import SGD, Adam
from ..train import train_step

__all__ = [
    "Settings",
    "Playground",
    "make_dataset",
    "DATASETS",
    "ACTIVATIONS",
    "OPTIMIZERS",
    "REGULARIZATIONS",
    "LEARNING_RATE_RANGE",
    "FORMAT_VERSION",
    "MAX_SAMPLES",
    "MAX_EPOCHS",
    "RESET_ON",
    "MAX_WIDTH",
    "MAX_HIDDEN_LAYERS",
]

DATASETS = ("moons", "circles", "xor", "spirals", "blobs")  # the two-class sets in the plane of nn.data.DATASETS
ACTIVATIONS = ("tanh", "relu", "sigmoid", "leaky_relu", "identity")  # the differentiable ones worth a try
OPTIMIZERS = ("sgd", "adam")
REGULARIZATIONS = ("none", "l1", "l2")
LEARNING_RATE_RANGE = (1e-5, 10.0)
MAX_SAMPLES = 2000  # points: a scalar engine trains a few hundred comfortably
MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 8  # neurons per hidden layer, as in TensorFlow Playground
MAX_EPOCHS = 100_000  # epochs a saved playground may record
MAX_JSON_CHARS = 5_000_000  # a saved playground at MAX_EPOCHS is about 4 MB
FORMAT_VERSION = 1

# Settings that change the data or the network: changing one starts afresh (Playground.set).
RESET_ON = {"dataset", "noise", "n_samples", "train_ratio", "hidden", "activation", "seed"}


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
        """Raise ``ValueError`` naming the first setting out of range (``TypeError`` for a wrong type)."""
        _choice("dataset", self.dataset, DATASETS)
        _choice("activation", self.activation, ACTIVATIONS)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("regularization", self.regularization, REGULARIZATIONS)
        in_range(self.noise, "noise (the standard deviation of the points' noise)", 0.0, 2.0)
        if not is_integer(self.n_samples) or not 10 <= self.n_samples <= MAX_SAMPLES:
            raise ValueError(f"n_samples must be a whole number of points from 10 to {MAX_SAMPLES}, "
                             f"got {show(self.n_samples)}")
        in_range(self.train_ratio, "train_ratio (the training share of the points)", 0.1, 0.9)
        if not isinstance(self.hidden, list) or not all(is_integer(n) and 1 <= n <= MAX_WIDTH for n in self.hidden):
            raise ValueError(f"hidden is a list of layer widths from 1 to {MAX_WIDTH} neurons, e.g. [4, 4] "
                             f"(or [] for none); got {show(self.hidden)}")
        if len(self.hidden) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, got {len(self.hidden)}")
        in_range(self.learning_rate, "learning_rate", *LEARNING_RATE_RANGE)
        in_range(self.regularization_rate, "regularization_rate", 0.0, 10.0)
        if self.batch_size is not None and (not is_integer(self.batch_size) or self.batch_size < 1):
            raise ValueError(f"batch_size is a whole number of points (or None for all of them), "
                             f"got {show(self.batch_size)}")
        if not is_integer(self.seed) or abs(self.seed) >= 2**63:
            raise ValueError(f"seed must be a whole number below 2**63, got {show(self.seed)}")


def _choice(name: str, value: object, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}; got {show(value)}")


# what the playground asks of nn.data.load beyond the name: a roomier circle, two clusters
_DATA_OPTIONS: dict[str, dict[str, Any]] = {"circles": {"factor": 0.5}, "blobs": {"centers": [[-1.0, -1.0], [1.0, 1.0]]}}


def make_dataset(name: str, n_samples: int, noise: float, seed: int) -> tuple[list[list[float]], list[int]]:
    """The playground's data sets from ``nn.data.load``: ``n_samples`` points in the plane, labels 0 and 1.

    For blobs, ``noise`` widens the clusters: their standard deviation is ``0.4 + noise``.
    """
    _choice("dataset", name, DATASETS)
    spread = 0.4 + noise if name == "blobs" else noise
    return load(name, n_samples, spread, seed, **_DATA_OPTIONS.get(name, {}))


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
            if RESET_ON & set(changes):
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
            # training runs the network as compiled code: the same numbers as eager, several times faster
            self._forward = autograd.compile(self.model)
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
        with self._lock, self.model.evaluating():
            logits = [self.model(x) for x in X]
            return binary_cross_entropy_with_logits(logits, list(y)).data

    def _objective(self, outputs: list[Value], targets: list[int]) -> Value:
        """What a training step minimises: the loss plus the regularisation penalty."""
        s = self.settings
        total = binary_cross_entropy_with_logits(outputs, targets)
        if s.regularization != "none" and s.regularization_rate > 0.0:
            penalty = l1_penalty if s.regularization == "l1" else l2_penalty
            total = total + s.regularization_rate * penalty(self.weights())
        return total

    def step(self) -> float:
        """Train one epoch (one pass over the training points); return the training loss.

        The points are shuffled into mini-batches of ``batch_size``; each
        mini-batch is one ``nn.train.train_step``: forward, loss (+ penalty),
        zero_grad, backward and one optimiser step. The network's forward and
        backward run as code compiled by ``autograd.compile`` (traced when the
        network is built), with exactly the numbers of the eager network. The shuffle depends only
        on the seed and the epoch, so a restored playground continues exactly
        as the original.
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
                result = train_step(self._forward, [self.X_train[i] for i in batch], [self.y_train[i] for i in batch],
                                    self._objective, self.optimizer)
                if not math.isfinite(result.loss):
                    break  # no weight moved; the losses below say it diverged
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
        """P(class 1) for each point: the sigmoid of the network's output, in eval mode."""
        with self._lock, self.model.evaluating():
            return [self.model(x).sigmoid().data for x in X]

    def accuracy(self, X: Sequence[Sequence[float]], y: Sequence[int]) -> float:
        """Share of points classified right (P(class 1) > 0.5 means class 1)."""
        probs = self.predict_proba(X)
        return sum((p > 0.5) == (t == 1) for p, t in zip(probs, y, strict=True)) / len(y)

    def grid_axes(self, resolution: int = 30) -> tuple[list[float], list[float]]:
        """The x1 and x2 coordinates of the views' grid, covering the data with a margin."""
        x0, x1, y0, y1 = self.extent
        step = 1.0 / (resolution - 1)
        return ([x0 + (x1 - x0) * i * step for i in range(resolution)],
                [y0 + (y1 - y0) * i * step for i in range(resolution)])

    def boundary_grid(self, resolution: int = 30) -> list[list[float]]:
        """P(class 1) over the plane: ``grid[i][j]`` at ``(xs[j], ys[i])`` of ``grid_axes``."""
        xs, ys = self.grid_axes(resolution)
        with self._lock:
            return [self.predict_proba([[a, b] for a in xs]) for b in ys]

    def neuron_grids(self, resolution: int = 20) -> list[list[list[list[float]]]]:
        """Every hidden neuron's output over the plane: ``grids[layer][neuron][i][j]``.

        ``[i][j]`` is the point ``(xs[j], ys[i])`` of ``grid_axes(resolution)``.
        An empty list when the network has no hidden layer.
        """
        xs, ys = self.grid_axes(resolution)
        hidden = self.model.layers[:-1]
        grids = [[[[0.0] * resolution for _ in ys] for _ in layer.neurons] for layer in hidden]
        with self._lock, self.model.evaluating():
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
        self.applied_steps: list[Step] = []
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
            with self.model.evaluating():
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
            out.label = "out" if li == len(self.model.layers) - 1 else f"h{li + 1}.{ni + 1}"
            return out

    def backward_step(self) -> Step | None:
        """Apply the next chain-rule step of the chosen neuron's backward pass and return it.

        The first call builds the graph (``neuron_graph()``); each call then
        applies one ``backward_steps()`` record, kept in ``applied_steps``.
        After the last step it returns ``None``, and the next call starts a
        new pass.
        """
        with self._lock:
            if self._steps_iter is None:
                self.backward_root = self.neuron_graph()
                self.applied_steps = []
                self._steps_iter = self.backward_root.backward_steps()
            step = next(self._steps_iter, None)
            if step is None:
                self._steps_iter = None
                return None
            self.applied_steps.append(step)
            return step

    def draw_backward(self, **draw_kwargs: Any) -> Any:
        """``draw_dot`` of the chosen neuron's graph with the latest step highlighted."""
        from autograd.draw import draw_dot, step_caption  # graphviz is needed only to draw

        with self._lock:
            root = self.backward_root if self.backward_root is not None else self.neuron_graph()
            step = self.applied_steps[-1] if self.applied_steps and self._steps_iter is not None else None
            if step is None:
                title = f"{root.label} for training point {self.point}: press 'backward step' to apply the chain rule"
            else:
                total = sum(len(v.parents) for v in topological_order(root))  # one step per edge
                title = step_caption(step, len(self.applied_steps), total)
            draw_kwargs.setdefault("color_grad", True)
            # what the pass has not reached yet is drawn grey, not as a gradient of exactly 0
            draw_kwargs.setdefault("reached", {root, *(s.parent for s in self.applied_steps)})
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

        Anything that is not such a text raises ``ValueError``, quickly: the
        size, the settings (within the playground's limits), the epoch and
        the loss histories are checked before the data and the network are
        built. (An Adam optimiser starts with fresh moment estimates.)
        """
        if not isinstance(text, (str, bytes, bytearray)):
            raise TypeError(f"from_json() takes the text written by to_json(), got {show(text)}")
        if len(text) > MAX_JSON_CHARS:
            raise ValueError(f"this is not a saved playground: {len(text)} characters is more than the "
                             f"{MAX_JSON_CHARS} one holds")
        try:  # sizes counted before parsing; deep nesting, huge integers and bad JSON are ValueErrors
            state = serialize.parse_json(text, "a saved playground", max_containers=100,
                                         max_values=2 * (MAX_EPOCHS + 1) + 10_000)
        except ValueError as err:
            raise ValueError(f"this is not a saved playground ({_short(err)})") from None
        if not isinstance(state, dict) or state.get("format") != "chainrule-playground":
            raise ValueError("this is not a saved playground (no 'format': 'chainrule-playground')")
        try:
            epoch, train_loss, test_loss = _history(state)
            settings = state["settings"]
            if not isinstance(settings, dict):
                raise ValueError(f"'settings' must be a JSON object, got {show(settings)}")
            Settings(**settings).validate()  # before anything is built
            pg = cls(**settings)
            pg.model.load_state_dict(state["weights"])
        except (KeyError, TypeError, AttributeError, OverflowError) as err:
            raise ValueError(f"this is not a saved playground ({type(err).__name__}: {_short(err)})") from None
        except ValueError as err:
            raise ValueError(f"this is not a saved playground: {_short(err)}") from None
        pg.epoch, pg.train_loss, pg.test_loss = epoch, train_loss, test_loss
        pg.diverged = not (math.isfinite(train_loss[-1]) and math.isfinite(test_loss[-1]))
        return pg

    def __repr__(self) -> str:
        s = self.settings
        return (
            f"Playground({s.dataset}, hidden={s.hidden}, {s.activation}, {s.optimizer} lr={s.learning_rate:g}, "
            f"epoch {self.epoch}, train loss {self.train_loss[-1]:.4f}, test loss {self.test_loss[-1]:.4f})"
        )


def _short(err: BaseException) -> str:
    return shorten(str(err), 200)


def _history(state: dict[str, Any]) -> tuple[int, list[float], list[float]]:
    """The saved epoch and loss histories, checked: one loss per epoch plus the untrained one."""
    epoch = state["epoch"]
    if not is_integer(epoch) or not 0 <= epoch <= MAX_EPOCHS:
        raise ValueError(f"'epoch' must be a whole number from 0 to {MAX_EPOCHS}, got {show(epoch)}")
    losses = []
    for name in ("train_loss", "test_loss"):
        values = state[name]
        if not isinstance(values, list) or len(values) != epoch + 1:
            got = f"{len(values)} values" if isinstance(values, list) else show(values)
            raise ValueError(f"'{name}' must hold one loss per epoch plus the first ({epoch + 1}), got {got}")
        if not all(is_real(v) for v in values):
            raise ValueError(f"'{name}' must hold numbers")
        losses.append([real(v, name, finite=False) for v in values])
    return int(epoch), losses[0], losses[1]


def _extent(X: Sequence[Sequence[float]], margin: float = 0.15) -> tuple[float, float, float, float]:
    """(x1 min, x1 max, x2 min, x2 max) of the points plus a margin."""
    out: list[float] = []
    for d in (0, 1):
        lo, hi = min(x[d] for x in X), max(x[d] for x in X)
        pad = (hi - lo) * margin or 1.0
        out += [lo - pad, hi + pad]
    return out[0], out[1], out[2], out[3]
