"""The playground's pictures as PNG bytes: decision boundary, loss curves, hidden neurons.

They draw on a bare matplotlib ``Figure`` (no pyplot), so a background
training thread can redraw them safely. matplotlib is imported only when a
picture is drawn.

Each takes ``scale``: the picture's width and height in pixels are multiplied
by it, and so are its text, lines and markers (the layout stays the same).
At ``scale=1`` the decision boundary and the loss curves are 320 pixels wide;
``scale=2.8`` makes them about 900 pixels wide, readable across a notebook.
"""

from __future__ import annotations

import io
from typing import Any

from ..checks import in_range
from .model import Playground

__all__ = ["boundary_png", "loss_png", "neurons_png", "RED", "BLUE"]

RED, BLUE = "#d7301f", "#2b6cb0"  # class 0 and class 1, as in TensorFlow Playground and nn.plot
DPI = 80  # pixels per inch at scale=1
MAX_SCALE = 10.0


def _check_scale(scale: object) -> float:
    return in_range(scale, "scale", 0.0, MAX_SCALE, low_open=True)


def _png(fig: Any, scale: float) -> bytes:
    """A matplotlib ``Figure`` as PNG bytes (no pyplot, so safe from a background thread).

    Pixels = inches * DPI * scale: a larger scale draws everything, text included, larger.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI * scale)
    return buffer.getvalue()


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def boundary_png(pg: Playground, resolution: int = 40, *, scale: float = 1.0) -> bytes:
    """The decision boundary (P(class 1) as a heatmap) with train (circles) and test (squares) points.

    ``scale`` multiplies the picture's size in pixels (320 x 288 at 1), text included.
    """
    scale = _check_scale(scale)
    fig = _figure(4.0, 3.6)
    ax = fig.add_subplot()
    ax.imshow(pg.boundary_grid(resolution), origin="lower", extent=pg.extent, aspect="auto",
              cmap="RdBu", vmin=0.0, vmax=1.0, alpha=0.75, interpolation="bilinear")
    for X, y, marker, name in ((pg.X_train, pg.y_train, "o", "train"), (pg.X_test, pg.y_test, "s", "test")):
        colours = [BLUE if t == 1 else RED for t in y]
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
    return _png(fig, scale)


def loss_png(pg: Playground, *, scale: float = 1.0) -> bytes:
    """Train and test loss per epoch.

    ``scale`` multiplies the picture's size in pixels (320 x 192 at 1), text included.
    """
    scale = _check_scale(scale)
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
    return _png(fig, scale)


def neurons_png(pg: Playground, resolution: int = 20, *, scale: float = 1.0) -> bytes:
    """One small heatmap per hidden neuron over the input plane, one row per layer.

    ``scale`` multiplies the picture's size in pixels, text included (at 1, 72 pixels per neuron plus 40).
    """
    scale = _check_scale(scale)
    grids = pg.neuron_grids(resolution)
    rows, cols = max(1, len(grids)), max([len(layer) for layer in grids] or [1])
    fig = _figure(0.9 * cols + 0.5, 0.9 * rows + 0.4)
    if not grids:
        fig.text(0.5, 0.5, "no hidden layer", ha="center", va="center")
        return _png(fig, scale)
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
    return _png(fig, scale)
