"""The playground's widgets: ``PlaygroundApp`` around a ``Playground``, and ``playground()``.

ipywidgets (and matplotlib, for the pictures) are imported only when an app
is built.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from .model import ACTIVATIONS, DATASETS, OPTIMIZERS, REGULARIZATIONS, RESET_ON, Playground
from .render import RED, boundary_png, loss_png, neurons_png

__all__ = ["PlaygroundApp", "playground", "LEARNING_RATES", "REGULARIZATION_RATES", "BATCH_SIZES"]

LEARNING_RATES = (1e-5, 3e-5, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REGULARIZATION_RATES = (0.0, 1e-4, 3e-4, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (("all", 0), ("1", 1), ("5", 5), ("10", 10), ("20", 20), ("50", 50))

_STYLE = {"description_width": "110px"}


def _ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(
            "nn.playground() needs ipywidgets: pip install ipywidgets "
            "(or pip install 'chainrule[notebooks]'); nn.Playground works without it"
        ) from None
    return ipywidgets


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
        widgets = _ipywidgets()
        self.pg = pg
        self.redraw_every = redraw_every
        self._last_draw = 0.0
        self._build_controls(widgets)
        self._build_buttons(widgets)
        self._build_views(widgets)
        buttons = widgets.HBox([self.reset_button, self.play_button, self.step_button, self.backward_button,
                                self.status])
        controls = widgets.VBox([*self.controls.values(), self.neuron_choice])
        views = widgets.HBox([self.boundary, widgets.VBox([self.losses, self.neurons])])
        self.widget = widgets.VBox([buttons, widgets.HBox([controls, views]), self.graph])
        self.widget.app = self  # so code holding the widget can reach the buttons and the model
        self._fill_neuron_choice()
        self.refresh()

    def _build_controls(self, widgets: Any) -> None:
        """One widget per setting, each changing the playground when moved."""
        s = self.pg.settings
        wide = widgets.Layout(width="290px")

        def labelled(kind: Any, description: str, **options: Any) -> Any:
            return kind(description=description, style=_STYLE, layout=wide, **options)

        def slider(values: Sequence[float], value: float, description: str) -> Any:
            return labelled(widgets.SelectionSlider, description, options=[(f"{v:g}", v) for v in values],
                            value=_nearest(values, value))

        self.controls: dict[str, Any] = {
            "dataset": labelled(widgets.Dropdown, "data set", options=DATASETS, value=s.dataset),
            "noise": labelled(widgets.FloatSlider, "noise", value=s.noise, min=0.0, max=0.5, step=0.05),
            "train_ratio": labelled(widgets.FloatSlider, "train share", value=s.train_ratio, min=0.1, max=0.9,
                                    step=0.1),
            "hidden": labelled(widgets.Text, "hidden layers", value=", ".join(map(str, s.hidden)),
                               placeholder="e.g. 4, 4", continuous_update=False),
            "activation": labelled(widgets.Dropdown, "activation", options=ACTIVATIONS, value=s.activation),
            "learning_rate": slider(LEARNING_RATES, s.learning_rate, "learning rate"),
            "optimizer": labelled(widgets.Dropdown, "optimiser", options=OPTIMIZERS, value=s.optimizer),
            "regularization": labelled(widgets.Dropdown, "regularisation", options=REGULARIZATIONS,
                                       value=s.regularization),
            "regularization_rate": slider(REGULARIZATION_RATES, s.regularization_rate, "reg. rate"),
            "batch_size": labelled(widgets.Dropdown, "batch size", options=BATCH_SIZES,
                                   value=_batch_value(s.batch_size)),
            "seed": labelled(widgets.BoundedIntText, "seed", value=s.seed, min=0, max=10**6),
        }
        for name, control in self.controls.items():
            control.observe(lambda change, name=name: self._on_setting(name, change["new"]), names="value")
        self.neuron_choice = labelled(widgets.Dropdown, "graph of")
        self.neuron_choice.observe(self._on_neuron, names="value")

    def _build_buttons(self, widgets: Any) -> None:
        """reset, play/pause, one epoch and one backward step, and a status line."""

        def button(description: str, icon: str, width: str, **options: Any) -> Any:
            return widgets.Button(description=description, icon=icon, layout=widgets.Layout(width=width), **options)

        self.reset_button = button("reset", "refresh", "90px")
        self.play_button = button("play", "play", "90px", button_style="success")
        self.step_button = button("epoch", "step-forward", "90px")
        self.backward_button = button("backward step", "arrow-left", "140px")
        self.reset_button.on_click(lambda _: self.reset())
        self.play_button.on_click(lambda _: self.toggle_play())
        self.step_button.on_click(lambda _: self.step())
        self.backward_button.on_click(lambda _: self.backward_step())
        self.status = widgets.HTML()

    def _build_views(self, widgets: Any) -> None:
        """The pictures: decision boundary, losses, hidden neurons (PNG) and one neuron's graph (SVG)."""
        self.boundary = widgets.Image(format="png", layout=widgets.Layout(width="360px", min_width="360px"))
        self.losses = widgets.Image(format="png", layout=widgets.Layout(width="340px", min_width="340px"))
        self.neurons = widgets.Image(format="png", layout=widgets.Layout(max_width="340px"))
        self.graph = widgets.HTML(layout=widgets.Layout(overflow="auto", max_width="100%"))

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
                self.status.value = f"<span style='color:{RED}'>hidden layers: whole numbers such as 4, 4</span>"
                return
        elif name == "batch_size":
            value = value or None
        self.pause()
        try:
            self.pg.set(**{name: value})
        except (ValueError, TypeError) as err:
            self.status.value = f"<span style='color:{RED}'>{err}</span>"
            return
        if name in RESET_ON:
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
