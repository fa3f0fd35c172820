"""Pictures of training: decision boundaries, loss curves, activations, neurons.

Needs matplotlib (``pip install 'chainrule[plot]'``); ``import nn`` does not.
Every function returns a matplotlib ``Figure``: save it with
``fig.savefig("picture.png")``. In a notebook the figure shows once at the end
of the cell, whether the call is the cell's last line, is assigned
(``fig = ...``) or ends with ``;``; showing ``fig`` again in a later cell
draws it again.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from autograd import Value, no_grad

from .checks import real
from .losses import decision_threshold
from .module import Module

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .train import History

__all__ = ["plot_decision_boundary", "plot_history", "plot_activation", "plot_neurons"]

# two classes: red for the first, blue for the second (as in TensorFlow Playground)
_CLASS_COLOURS = ["#d7301f", "#2b6cb0", "#2f9e44", "#f59f00", "#7048e8", "#495057", "#e64980", "#0c8599"]
LOG_SCALE_SPAN = 1000.0  # plot_history draws the loss on a log scale when max / min reaches this
# plot_decision_boundary calls an output constant when (max - min) <= CONSTANT_SPREAD * max(|max|, |min|):
# differences that small are floating-point rounding, not a picture of the model
CONSTANT_SPREAD = 1e-9


# --------------------------------------------------------------------------
# Figures that a notebook shows once
# --------------------------------------------------------------------------
def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError(
            "nn.plot draws with matplotlib, which is not installed; install it with pip install 'chainrule[plot]'"
        ) from err
    return plt


@functools.cache
def _plot_figure_class() -> type:
    """``PlotFigure``, made on first use because matplotlib is optional."""
    import matplotlib
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    class PlotFigure(Figure):
        """A pyplot Figure that a notebook shows exactly once.

        Jupyter's inline backend shows every open pyplot figure at the end of
        a cell, and would show a figure returned as the cell's value a second
        time. So when Jupyter shows a PlotFigure, it is drawn and closed in
        pyplot: whichever comes first (the cell's value, the end of the cell,
        ``plt.show()``) shows it, and nothing shows it twice.
        """

        def _ipython_display_(self) -> None:
            from IPython.display import display

            if "inline" not in matplotlib.get_backend():  # a window shows it; Jupyter shows the name
                display({"text/plain": repr(self)}, raw=True)
                return
            png = io.BytesIO()
            self.savefig(png, format="png", bbox_inches="tight")
            display({"image/png": png.getvalue(), "text/plain": repr(self)}, raw=True)
            plt.close(self)

    PlotFigure.__module__, PlotFigure.__qualname__ = __name__, "PlotFigure"  # so pickle finds it
    return PlotFigure


def __getattr__(name: str) -> Any:
    if name == "PlotFigure":  # pickle looks the class up here, also before first use
        return _plot_figure_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _subplots(rows: int, cols: int, figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Any]:
    plt = _pyplot()
    return plt.subplots(
        rows, cols, figsize=figsize, layout="constrained", FigureClass=_plot_figure_class(), **kwargs
    )


def _figure_and_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    return _subplots(1, 1, figsize)


# --------------------------------------------------------------------------
# Evaluating a model over the plane
# --------------------------------------------------------------------------
def _predicting(model: Any) -> AbstractContextManager[Any]:
    """``model.evaluating()`` for a Module (eval mode, no graph, mode restored); ``no_grad()`` for a function."""
    return model.evaluating() if isinstance(model, Module) else no_grad()


def _numbers(out: Any) -> list[float]:
    """A model output (a Value, a number or a list of them) as a list of floats."""
    if isinstance(out, (list, tuple)):
        return [v.data if isinstance(v, Value) else float(v) for v in out]
    return [out.data if isinstance(out, Value) else float(out)]


def _grid(
    X: Sequence[Sequence[float]], y: Sequence[Any] | None, resolution: int, margin: float = 0.1
) -> tuple[list[float], list[float]]:
    """Evenly spaced x and y coordinates covering the data plus a margin of 10%."""
    if y is not None and len(X) != len(y):
        raise ValueError(f"X and y must have one label per point, got {len(X)} points and {len(y)} labels")
    if resolution < 2:
        raise ValueError(f"resolution is the number of grid points per side, at least 2; got {resolution}")
    if not X or any(len(x) != 2 for x in X):
        got = len(X[0]) if X else 0
        raise ValueError(f"this plot needs two input features per sample (a plane), got {got}")
    xs, ys = [x[0] for x in X], [x[1] for x in X]
    axes = []
    for values in (xs, ys):
        lo, hi = min(values), max(values)
        pad = (hi - lo) * margin or 1.0
        lo, hi = lo - pad, hi + pad
        axes.append([lo + (hi - lo) * i / (resolution - 1) for i in range(resolution)])
    return axes[0], axes[1]


def _scatter(
    ax: Axes, X: Sequence[Sequence[float]], y: Sequence[Any], size: float = 30, legend: bool = True
) -> None:
    """The data points, one colour per class."""
    for k, label in enumerate(sorted(set(y))):
        pts = [x for x, t in zip(X, y, strict=True) if t == label]
        ax.scatter(
            [p[0] for p in pts],
            [p[1] for p in pts],
            s=size,
            color=_CLASS_COLOURS[k % len(_CLASS_COLOURS)],
            edgecolors="black",
            linewidths=0.5 if legend else 0.3,
            label=f"class {label}" if legend else None,
            zorder=3,
        )


# --------------------------------------------------------------------------
# The plots
# --------------------------------------------------------------------------
def _default_threshold(loss: str | Callable[..., Any] | None, y: Sequence[Any]) -> float:
    """Where ``accuracy`` and ``fit`` split one output into two classes: 0, or 0.5 when the loss wants 0/1 outputs."""
    if loss is None:
        return 0.0
    threshold = decision_threshold(loss, y)
    return 0.0 if threshold is None else threshold


def plot_decision_boundary(
    model: Callable[[Any], Any],
    X: Sequence[Sequence[float]],
    y: Sequence[Any],
    *,
    loss: str | Callable[..., Any] | None = None,
    threshold: float | None = None,
    resolution: int = 60,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (5.0, 4.5),
    title: str | None = None,
) -> Figure:
    """What a 2-D classifier predicts over the plane, with the data on top.

    One output: its value is shaded and the boundary ``output = threshold``
    is drawn where ``nn.metrics.accuracy`` and ``fit`` put it: at 0 (raw
    scores, logits, -1/+1 labels), or at 0.5 when ``loss`` names a loss whose
    outputs approach 0/1 labels (``"mse"``, ``"mae"``, ``"bce"``) -- pass the
    ``loss`` you trained with, or ``threshold`` itself. Several outputs: each
    region is coloured by its class, ``argmax`` of the outputs.

    An output that is the same everywhere (its spread at most
    ``CONSTANT_SPREAD`` = 1e-9 of its size: rounding noise) is drawn as one
    flat colour on a fixed range, threshold +- max(1, 2 |output - threshold|),
    without a boundary, and the title and colour bar say "constant output".

    The model runs in eval mode without recording a graph (its mode is
    restored). With ``ax=`` the plot goes into your axes, its colour bar
    below it so that it never covers a neighbouring plot, and the figure
    returned is yours.
    """
    _pyplot()
    from matplotlib.colors import LinearSegmentedColormap, TwoSlopeNorm

    gx, gy = _grid(X, y, resolution)
    with _predicting(model):
        outputs = [_numbers(model([a, b])) for b in gy for a in gx]
    own_figure = ax is None
    fig, ax = _figure_and_axes(ax, figsize)

    if len(outputs[0]) == 1:
        threshold = _default_threshold(loss, y) if threshold is None else real(threshold, "threshold")
        z = [[outputs[i * resolution + j][0] for j in range(resolution)] for i in range(resolution)]
        flat = [v for row in z for v in row]
        lo, hi = min(flat), max(flat)
        cmap = LinearSegmentedColormap.from_list("boundary", ["#e0785f", "#f7f7f7", "#5fa2d0"])
        constant = hi - lo <= CONSTANT_SPREAD * max(abs(lo), abs(hi))
        if constant:  # one flat colour: contour levels would be drawn from rounding noise
            value = (lo + hi) / 2 + 0.0  # + 0.0 turns -0.0 into 0.0
            reach = max(1.0, 2 * abs(value - threshold))
            lo, hi = threshold - reach, threshold + reach
            norm = TwoSlopeNorm(vmin=lo, vcenter=threshold, vmax=hi)
            levels = [lo + (hi - lo) * k / 16 for k in range(17)]
            filled = ax.contourf(
                gx, gy, [[value] * resolution] * resolution, levels=levels, cmap=cmap, norm=norm
            )
            bar_label = f"model output: constant {value:.4g}"
            title = title or f"No decision boundary: constant output {value:.4g}"
        else:
            lo, hi = min(lo, threshold - 1e-9), max(hi, threshold + 1e-9)
            norm = TwoSlopeNorm(vmin=lo, vcenter=threshold, vmax=hi)
            filled = ax.contourf(gx, gy, z, levels=16, cmap=cmap, norm=norm)
            ax.contour(gx, gy, z, levels=[threshold], colors="#222222", linewidths=1.5)
            bar_label = "model output"
        if own_figure:
            fig.colorbar(filled, ax=ax, label=bar_label, shrink=0.85)
        else:  # below the axes: a bar at the side would reach into the neighbouring plot
            fig.colorbar(filled, ax=ax, label=bar_label, location="bottom", shrink=0.85, aspect=30)
    else:
        k = len(outputs[0])
        z = [
            [max(range(k), key=outputs[i * resolution + j].__getitem__) for j in range(resolution)]
            for i in range(resolution)
        ]
        colours = [_CLASS_COLOURS[c % len(_CLASS_COLOURS)] for c in range(k)]
        ax.contourf(gx, gy, z, levels=[c - 0.5 for c in range(k + 1)], colors=colours, alpha=0.25)
        ax.contour(gx, gy, z, levels=[c + 0.5 for c in range(k - 1)], colors="#222222", linewidths=1.0)

    _scatter(ax, X, y)
    ax.set_xlim(gx[0], gx[-1])
    ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or "Decision boundary")
    ax.legend(loc="best", fontsize="small", framealpha=0.8)
    return fig


def _spans_powers_of_ten(values: Sequence[float]) -> bool:
    """All positive and finite, the largest at least ``LOG_SCALE_SPAN`` times the smallest."""
    if not values or not all(0.0 < v < math.inf for v in values):
        return False
    return max(values) / min(values) >= LOG_SCALE_SPAN


def plot_history(
    history: History,
    *,
    logy: bool | None = None,
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """Loss (left) and accuracy (right) per epoch, for training and validation.

    Without accuracy (regression) only the loss is drawn. ``logy``: the loss
    on a log scale; by default it is when the losses are positive and the
    largest is at least ``LOG_SCALE_SPAN`` (1000) times the smallest.
    """
    panels = [("loss", "Loss")]
    if history.accuracy or history.val_accuracy:
        panels.append(("accuracy", "Accuracy"))
    if figsize is None:
        figsize = (9.0, 3.5) if len(panels) == 2 else (5.0, 3.5)
    fig, axes = _subplots(1, len(panels), figsize, squeeze=False)
    loss_ax = axes[0][0]
    for ax, (name, label) in zip(axes[0], panels, strict=True):
        train, val = getattr(history, name), getattr(history, "val_" + name)
        if train:
            ax.plot(range(1, len(train) + 1), train, color="#2b6cb0", label="training")
        if val:
            ax.plot(range(1, len(val) + 1), val, color="#d7301f", linestyle="--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_title(label)
        ax.grid(alpha=0.3)
        if train or val:
            ax.legend(fontsize="small")
        else:
            ax.text(
                0.5,
                0.5,
                f"no {name} recorded",
                ha="center",
                va="center",
                transform=ax.transAxes,
                color="grey",
            )
    if len(panels) == 2:
        axes[0][1].set_ylim(-0.02, 1.02)
    if logy if logy is not None else _spans_powers_of_ten([*history.loss, *history.val_loss]):
        loss_ax.set_yscale("log")
        loss_ax.set_title("Loss (log scale)")
    if getattr(history, "best_epoch", None) is not None and history.stopped == "early_stopping":
        loss_ax.axvline(history.best_epoch + 1, color="grey", linestyle=":", label="best epoch")
        loss_ax.legend(fontsize="small")
    if title or history.stopped:
        fig.suptitle(title or f"stopped: {history.stopped}")
    return fig


def plot_activation(
    name_or_fn: str | Callable[[Value], Value],
    *,
    xmin: float = -5.0,
    xmax: float = 5.0,
    points: int = 201,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (5.0, 3.5),
) -> Figure:
    """An activation f(x) and its derivative f'(x), computed by ``backward()``.

    ``name_or_fn`` is a name such as ``"tanh"`` or a function taking one Value
    and returning one Value.
    """
    _pyplot()
    if isinstance(name_or_fn, str):
        from .activations import get_activation

        fn, name = get_activation(name_or_fn), name_or_fn
    elif callable(name_or_fn):
        fn, name = name_or_fn, getattr(name_or_fn, "__name__", "f")
    else:
        raise TypeError(
            f"plot_activation() takes an activation name or a function, got {type(name_or_fn).__name__}"
        )
    if points < 2 or not xmin < xmax:
        raise ValueError(
            f"plot_activation() needs xmin < xmax and points >= 2, got xmin={xmin}, xmax={xmax}, points={points}"
        )

    xs = [xmin + (xmax - xmin) * i / (points - 1) for i in range(points)]
    fx, dfx = [], []
    for x in xs:
        v = Value(x)
        out = fn(v)
        if not isinstance(out, Value):
            raise TypeError(
                f"plot_activation() needs a function of one Value returning one Value; {name} returned {type(out).__name__}"
            )
        out.backward()  # v.grad = f'(x)
        fx.append(out.data)
        dfx.append(v.grad)

    fig, ax = _figure_and_axes(ax, figsize)
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.plot(xs, fx, color="#2b6cb0", linewidth=2, label=f"{name}(x)")
    ax.plot(xs, dfx, color="#d7301f", linewidth=1.5, linestyle="--", label=f"{name}'(x)  (by backward)")
    ax.set_xlabel("x")
    ax.set_title(f"{name} and its derivative")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def _layer_outputs(model: Any, layers: list[Any], points: list[list[float]]) -> list[list[list[float]]]:
    """``result[l][k][i]``: the output of neuron k of layer l at point i (eval mode, no graph)."""
    per_point = []
    with _predicting(model):
        for point in points:
            h: Any = point
            outs = []
            for layer in layers:
                h = layer(h)
                outs.append(_numbers(h))
                h = h if isinstance(h, (list, tuple)) else [h]
            per_point.append(outs)
    return [
        [[p[li][k] for p in per_point] for k in range(len(per_point[0][li]))] for li in range(len(layers))
    ]


def plot_neurons(
    model: Any,
    X: Sequence[Sequence[float]],
    y: Sequence[Any] | None = None,
    *,
    resolution: int = 30,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """What every neuron computes over the input plane, as TensorFlow Playground shows it.

    One row per layer, the output layer last, one small heatmap per neuron:
    its output for each point (x1, x2) of the plane, blue positive and red
    negative, each neuron on its own range -m..+m where m is its largest
    |output| (written under its title; the colour bar explains the colours).
    The data points are drawn on the output heatmaps. Layers and neurons
    count from 0, as in ``model.named_parameters()`` (``layers.0.neurons.2``).
    """
    _pyplot()
    layers = list(getattr(model, "layers", ()))
    if not layers:
        raise TypeError(
            f"plot_neurons() needs a model with .layers (such as MLP), got {type(model).__name__}"
        )
    gx, gy = _grid(X, y, resolution)
    n = resolution
    activations = _layer_outputs(model, layers, [[a, b] for b in gy for a in gx])

    rows = len(layers)
    cols = max(len(layer_acts) for layer_acts in activations)
    if figsize is None:  # at most about 9 inches wide: readable at a notebook's 900 pixels
        side = max(0.9, min(1.6, 7.5 / cols))
        figsize = (side * cols + 1.5, (side + 0.35) * rows + 0.5)
    fig, axes = _subplots(rows, cols, figsize, squeeze=False)
    extent = (gx[0], gx[-1], gy[0], gy[-1])
    for li, layer_acts in enumerate(activations):
        is_output = li == rows - 1
        for k in range(cols):
            ax = axes[li][k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(layer_acts):
                ax.axis("off")
                continue
            z = [layer_acts[k][i * n : (i + 1) * n] for i in range(n)]
            top = max(abs(v) for v in layer_acts[k]) or 1.0
            ax.imshow(
                z,
                origin="lower",
                extent=extent,
                aspect="auto",
                cmap="RdBu",
                vmin=-top,
                vmax=top,
                interpolation="bilinear",
            )
            if is_output and y is not None:
                _scatter(ax, X, y, size=10, legend=False)
            ax.set_title(f"neuron {k}\nm = {top:.2g}", fontsize=9, pad=3)
        axes[li][0].set_ylabel(f"layer {li}\n(output)" if is_output else f"layer {li}", fontsize=10)
    _neuron_colour_bar(fig, axes)
    fig.suptitle("What each neuron computes over the input plane", fontsize=11)
    return fig


def _neuron_colour_bar(fig: Figure, axes: Any) -> None:
    """One colour bar for all heatmaps: red negative, white 0, blue positive, on each neuron's own -m..+m."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize

    colours = ScalarMappable(norm=Normalize(-1.0, 1.0), cmap="RdBu")
    bar = fig.colorbar(colours, ax=axes, ticks=[-1.0, 0.0, 1.0], shrink=0.8, aspect=25)
    bar.ax.set_yticklabels(["-m", "0", "+m"], fontsize=9)
    bar.set_label("neuron output: red < 0 < blue\n(m: the neuron's largest |output|)", fontsize=9)
