"""Tests for nn/plot.py: every picture has the artists it promises."""

from __future__ import annotations

import math
import pickle
import sys
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.contour import QuadContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import nn  # noqa: E402
from autograd import is_grad_enabled  # noqa: E402
from nn import plot  # noqa: E402
from nn.train import History  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(fig: Figure, path) -> int:
    fig.savefig(path, dpi=60)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return len(data)


def _main_axes(fig: Figure):
    """Axes that are not colorbars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


def _contour_sets(ax) -> list[QuadContourSet]:
    sets = [c for c in ax.get_children() if isinstance(c, QuadContourSet)]
    return sets


def _xor_model():
    """A hand-built 2-2-1 tanh network that solves XOR (labels -1/+1)."""
    model = nn.MLP(2, [2, 1], activation="tanh", rng=0)
    (h1, h2), (out,) = model.layers[0].neurons, model.layers[1].neurons
    h1.w[0].data, h1.w[1].data, h1.b.data = 4.0, 4.0, -2.0  # OR
    h2.w[0].data, h2.w[1].data, h2.b.data = 4.0, 4.0, -6.0  # AND
    out.w[0].data, out.w[1].data, out.b.data = 3.0, -3.0, -1.0  # OR and not AND
    return model


XOR_X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
XOR_Y = [-1, 1, 1, -1]


def test_xor_model_is_right():
    model = _xor_model()
    assert [1 if model(x).data > 0 else -1 for x in XOR_X] == XOR_Y


def test_decision_boundary_binary(tmp_path):
    model = _xor_model()
    fig = plot.plot_decision_boundary(model, XOR_X, XOR_Y, resolution=25)
    assert isinstance(fig, Figure)
    (ax,) = _main_axes(fig)
    sets = _contour_sets(ax)
    assert len(sets) == 2  # the filled shading and the boundary line
    filled = [s for s in sets if s.filled]
    line = [s for s in sets if not s.filled]
    assert len(filled) == 1 and len(line) == 1
    assert list(line[0].levels) == [0.0]  # -1/+1 labels: boundary at output 0
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(scatters) == 2  # one per class
    assert sum(len(s.get_offsets()) for s in scatters) == 4
    assert ax.get_title() == "Decision boundary"
    assert _png(fig, tmp_path / "boundary.png") > 1000


def boundary_level(fig) -> float:
    (line,) = [s for s in _contour_sets(_main_axes(fig)[0]) if not s.filled]
    (level,) = line.levels
    return float(level)


def test_decision_boundary_threshold_is_where_accuracy_and_fit_split():
    model = _xor_model()
    y01 = [0, 1, 1, 0]
    # accuracy() splits one output at 0 unless told otherwise: scores and logits
    assert boundary_level(plot.plot_decision_boundary(model, XOR_X, y01, resolution=20)) == 0.0
    assert (
        boundary_level(plot.plot_decision_boundary(model, XOR_X, y01, loss="bce_with_logits", resolution=20))
        == 0.0
    )
    # fit puts it at 0.5 for losses whose outputs approach the 0/1 labels
    for loss in ("mse", "mae", "bce", nn.mse_loss):
        assert boundary_level(plot.plot_decision_boundary(model, XOR_X, y01, loss=loss, resolution=20)) == 0.5
    # -1/+1 labels: the sign, whatever the loss
    assert boundary_level(plot.plot_decision_boundary(model, XOR_X, XOR_Y, loss="mse", resolution=20)) == 0.0
    # an explicit threshold wins
    fig = plot.plot_decision_boundary(model, XOR_X, y01, loss="mse", threshold=0.25, resolution=20)
    assert boundary_level(fig) == 0.25


def test_decision_boundary_draws_what_accuracy_counts():
    # a linear score x1 - 0.3 with 0/1 labels: accuracy() calls x1 > 0.3 class 1
    model = nn.MLP(2, [1], activation="identity", rng=0)
    (neuron,) = model.layers[0].neurons
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, 0.0, -0.3
    X, y = [[0.0, 0.0], [0.2, 1.0], [0.4, 0.0], [1.0, 1.0]], [0, 0, 1, 1]
    assert nn.accuracy([model(x) for x in X], y) == 1.0
    fig = plot.plot_decision_boundary(model, X, y, resolution=21)
    (line,) = [s for s in _contour_sets(_main_axes(fig)[0]) if not s.filled]
    xs = {round(float(x), 6) for path in line.get_paths() for x, _ in path.vertices}
    assert xs == {0.3}  # the boundary is the vertical line x1 = 0.3


def test_decision_boundary_threshold_must_be_a_number():
    with pytest.raises(TypeError, match="threshold"):
        plot.plot_decision_boundary(_xor_model(), XOR_X, XOR_Y, threshold="0.5", resolution=5)


def test_decision_boundary_multiclass_uses_argmax(tmp_path):
    # three outputs, each a linear score: class k wins in its own third of the plane
    model = nn.MLP(2, [3], activation="identity", rng=0)
    scores = [(-1.0, 0.0, -1.0), (0.0, 0.0, 0.0), (1.0, 0.0, -1.0)]  # -x1 - 1, 0, x1 - 1
    for neuron, (w1, w2, b) in zip(model.layers[0].neurons, scores, strict=True):
        neuron.w[0].data, neuron.w[1].data, neuron.b.data = w1, w2, b
    X = [[-3.0, 0.0], [0.0, 1.0], [3.0, -1.0]]
    y = [0, 1, 2]
    fig = plot.plot_decision_boundary(model, X, y, resolution=31)
    (ax,) = _main_axes(fig)  # no colorbar for classes
    filled = [s for s in _contour_sets(ax) if s.filled]
    assert len(filled) == 1
    assert list(filled[0].levels) == [-0.5, 0.5, 1.5, 2.5]  # one band per class
    assert len([c for c in ax.collections if isinstance(c, PathCollection)]) == 3
    assert _png(fig, tmp_path / "multiclass.png") > 1000


def test_decision_boundary_into_given_axes():
    fig, ax = plt.subplots()
    out = plot.plot_decision_boundary(_xor_model(), XOR_X, XOR_Y, ax=ax, resolution=10, title="XOR")
    assert out is fig
    assert ax.get_title() == "XOR"


def test_colour_bar_of_given_axes_stays_clear_of_the_neighbour():
    # no layout engine, so nothing moves plots apart after the colour bar is added
    fig, (left, right) = plt.subplots(1, 2, figsize=(8.0, 3.0))
    right.set_ylabel("a neighbour's label")
    space = left.get_position().transformed(fig.transFigure)  # the space the plot was given
    plot.plot_decision_boundary(_xor_model(), XOR_X, XOR_Y, ax=left, resolution=10)
    (bar,) = [a for a in fig.axes if a.get_label() == "<colorbar>"]
    assert bar.get_xlabel() == "model output"
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    box = bar.get_tightbbox(renderer)  # the bar with its ticks and label
    assert space.x0 <= box.x0 and box.x1 <= space.x1  # within the plot's own width
    assert box.x1 < right.get_tightbbox(renderer).x0
    assert box.y1 < left.get_position().transformed(fig.transFigure).y0  # below the plot


class Recorder(nn.Module):
    """A model that notes the mode it is called in."""

    def __init__(self):
        super().__init__()
        self.mlp = nn.MLP(2, [3, 1], activation="tanh", rng=0)
        self.dropout = nn.Dropout(0.5, rng=0)
        self.seen = set()

    def __call__(self, x):
        self.seen.add((self.training, self.dropout.training, is_grad_enabled()))
        return self.mlp(x)


def test_decision_boundary_leaves_model_in_training_mode_and_records_no_graph():
    model = _xor_model()
    model.train()
    plot.plot_decision_boundary(model, XOR_X, XOR_Y, resolution=10)
    assert model.training is True
    assert all(p.grad == 0.0 for p in model.parameters())


def test_decision_boundary_predicts_in_eval_mode_without_a_graph():
    model = Recorder().train()
    plot.plot_decision_boundary(model, XOR_X, XOR_Y, resolution=5)
    assert model.seen == {(False, False, False)}  # eval mode, dropout off, no graph recorded
    assert model.training and model.dropout.training and model.mlp.training  # the mode is restored
    model.eval()
    plot.plot_decision_boundary(model, XOR_X, XOR_Y, resolution=5)
    assert not model.training and not model.dropout.training


class RecordingLayer(nn.Module):
    """A layer that notes whether its model's dropout is on and a graph is recorded."""

    def __init__(self, layer, model):
        super().__init__()
        self.layer, self.seen = layer, set()
        self._model = model  # private: not a submodule (the model holds this layer)

    def __call__(self, x):
        self.seen.add((self._model.dropout.training, is_grad_enabled()))
        return self.layer(x)


def test_neurons_predict_in_eval_mode_without_a_graph():
    model = nn.MLP(2, [3, 1], activation="tanh", dropout=0.5, rng=0).train()
    recording = RecordingLayer(model.layers[0], model)
    model.layers[0] = recording
    plot.plot_neurons(model, XOR_X, XOR_Y, resolution=5)
    assert recording.seen == {(False, False)}
    assert model.training and model.dropout.training


def test_decision_boundary_takes_a_plain_function():
    fig = plot.plot_decision_boundary(lambda x: x[0] - x[1], XOR_X, XOR_Y, resolution=5)
    assert boundary_level(fig) == 0.0


def test_decision_boundary_needs_two_features():
    with pytest.raises(ValueError, match="two input features"):
        plot.plot_decision_boundary(nn.MLP(3, [1], rng=0), [[1.0, 2.0, 3.0]], [1])


def test_history_two_axes_with_train_and_validation(tmp_path):
    history = History(
        loss=[1.0, 0.5, 0.25],
        accuracy=[0.5, 0.75, 1.0],
        val_loss=[1.1, 0.7, 0.6],
        val_accuracy=[0.4, 0.6, 0.8],
        lr=[0.1, 0.1, 0.1],
    )
    fig = plot.plot_history(history)
    loss_ax, acc_ax = fig.axes
    assert [line.get_label() for line in loss_ax.get_lines()] == ["training", "validation"]
    assert list(loss_ax.get_lines()[0].get_ydata()) == [1.0, 0.5, 0.25]
    assert list(loss_ax.get_lines()[1].get_xdata()) == [1, 2, 3]
    assert list(acc_ax.get_lines()[1].get_ydata()) == [0.4, 0.6, 0.8]
    assert acc_ax.get_ylim() == (-0.02, 1.02)
    assert _png(fig, tmp_path / "history.png") > 1000


def test_history_of_a_regression_draws_the_loss_only():
    fig = plot.plot_history(History(loss=[3.0, 2.0], lr=[0.1, 0.1]))
    (loss_ax,) = fig.axes
    assert len(loss_ax.get_lines()) == 1
    assert loss_ax.get_title() == "Loss" and loss_ax.get_yscale() == "linear"
    assert tuple(fig.get_size_inches()) == (5.0, 3.5)


def test_history_uses_a_log_scale_when_the_loss_spans_powers_of_ten():
    falling = [1.0, 0.1, 0.01, 0.001]  # max / min = 1000
    (ax,) = plot.plot_history(History(loss=falling, lr=[0.1] * 4)).axes
    assert ax.get_yscale() == "log" and ax.get_title() == "Loss (log scale)"
    (ax,) = plot.plot_history(History(loss=[1.0, 0.0011], lr=[0.1] * 2)).axes  # less than 1000 times
    assert ax.get_yscale() == "linear"
    (ax,) = plot.plot_history(History(loss=[1.0, 0.0], lr=[0.1] * 2)).axes  # a zero has no logarithm
    assert ax.get_yscale() == "linear"
    (ax,) = plot.plot_history(History(loss=falling, lr=[0.1] * 4), logy=False).axes
    assert ax.get_yscale() == "linear"
    (ax,) = plot.plot_history(History(loss=[3.0, 2.0], lr=[0.1] * 2), logy=True).axes
    assert ax.get_yscale() == "log"
    history = History(loss=[0.5, 0.4], val_loss=[0.5, 5e-4], lr=[0.1] * 2)  # validation counts too
    assert plot.plot_history(history).axes[0].get_yscale() == "log"


def test_history_marks_best_epoch_after_early_stopping():
    history = History(loss=[3.0, 1.0, 2.0, 2.5], lr=[0.1] * 4, stopped="early_stopping", best_epoch=1)
    fig = plot.plot_history(history)
    loss_ax = fig.axes[0]
    best = [line for line in loss_ax.get_lines() if line.get_label() == "best epoch"]
    assert len(best) == 1 and list(best[0].get_xdata()) == [2, 2]
    assert fig._suptitle.get_text() == "stopped: early_stopping"


@pytest.mark.parametrize(
    ("name", "x", "f", "df"),
    [
        ("sigmoid", 0.0, 0.5, 0.25),
        ("tanh", 0.0, 0.0, 1.0),
        ("relu", 5.0, 5.0, 1.0),
        ("relu", -5.0, 0.0, 0.0),
        ("softplus", 0.0, math.log(2.0), 0.5),
    ],
)
def test_activation_curve_and_derivative(name, x, f, df, tmp_path):
    fig = plot.plot_activation(name, points=11)  # x = -5, -4, ..., 5
    (ax,) = fig.axes
    fx, dfx = [line for line in ax.get_lines() if line.get_label().startswith(name)]
    xs = list(fx.get_xdata())
    assert xs == pytest.approx([-5.0 + i for i in range(11)])
    i = xs.index(pytest.approx(x))
    assert fx.get_ydata()[i] == pytest.approx(f, abs=1e-12)
    assert dfx.get_ydata()[i] == pytest.approx(df, abs=1e-12)
    assert ax.get_title() == f"{name} and its derivative"
    assert _png(fig, tmp_path / f"{name}.png") > 1000


def test_activation_from_a_function():
    def cube(v):
        return v**3

    fig = plot.plot_activation(cube, xmin=-1.0, xmax=1.0, points=3)
    fx, dfx = [line for line in fig.axes[0].get_lines() if line.get_label().startswith("cube")]
    assert list(fx.get_ydata()) == [-1.0, 0.0, 1.0]
    assert list(dfx.get_ydata()) == [3.0, 0.0, 3.0]  # d/dx x^3 = 3x^2


def test_activation_rejects_list_functions():
    with pytest.raises(ValueError, match="softmax"):
        plot.plot_activation("softmax")


def test_neurons_one_row_per_layer(tmp_path):
    model = nn.MLP(2, [4, 3, 1], activation="tanh", rng=1)
    X = [[-1.0, -1.0], [1.0, 1.0], [0.5, -0.5]]
    y = [0, 1, 1]
    fig = plot.plot_neurons(model, X, y, resolution=12)
    axes = _main_axes(fig)
    assert len(axes) == 3 * 4  # rows: two hidden layers and the output; columns: widest layer
    visible = [ax for ax in axes if ax.axison]
    assert len(visible) == 4 + 3 + 1  # one heatmap per neuron
    assert all(len(ax.get_images()) == 1 for ax in visible)
    titles = [ax.get_title().split("\n")[0] for ax in visible]
    assert titles == [
        "neuron 0",
        "neuron 1",
        "neuron 2",
        "neuron 3",
        "neuron 0",
        "neuron 1",
        "neuron 2",
        "neuron 0",
    ]
    rows = [axes[4 * row].get_ylabel() for row in range(3)]
    assert rows == ["layer 0", "layer 1", "layer 2\n(output)"]  # counted as in named_parameters()
    # the heatmap really is that neuron's output: check one grid corner
    image = visible[0].get_images()[0].get_array()
    assert image.shape == (12, 12)
    corner = [-1.2, -1.2]  # data range [-1, 1] plus a 10% margin
    neuron = model.layers[0].neurons[0]
    expected = math.tanh(neuron.w[0].data * corner[0] + neuron.w[1].data * corner[1] + neuron.b.data)
    assert image[0, 0] == pytest.approx(expected, abs=1e-12)
    # data points only on the output heatmap
    assert len(visible[-1].collections) == 2 and len(visible[0].collections) == 0
    assert _png(fig, tmp_path / "neurons.png") > 1000


def test_neurons_colour_bar_says_what_red_and_blue_mean():
    model = nn.MLP(2, [3, 1], activation="tanh", rng=2)
    X, y = [[-1.0, -1.0], [1.0, 1.0]], [0, 1]
    fig = plot.plot_neurons(model, X, y, resolution=8)
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert [t.get_text() for t in bar.get_yticklabels()] == ["-m", "0", "+m"]
    assert "red < 0 < blue" in bar.get_ylabel() and "largest |output|" in bar.get_ylabel()
    # each neuron's title gives its m, the largest |output| over the plane, which its colours span
    first = _main_axes(fig)[0]
    image = first.get_images()[0]
    m = float(abs(image.get_array()).max())
    assert first.get_title() == f"neuron 0\nm = {m:.2g}"
    assert image.get_clim() == (-m, m) and image.get_cmap().name == "RdBu"


@pytest.mark.parametrize("width, most", [(2, 9.0), (8, 9.0), (16, 16 * 0.9 + 1.5)])
def test_neurons_fonts_are_readable_and_the_figure_fits_a_notebook(width, most):
    model = nn.MLP(2, [width, 1], rng=0)
    fig = plot.plot_neurons(model, [[0.0, 0.0], [1.0, 1.0]], resolution=4)
    assert fig.get_size_inches()[0] <= most  # 9 inches: 900 pixels at a notebook's 100 dpi
    main = _main_axes(fig)
    assert min(ax.title.get_fontsize() for ax in main if ax.axison) >= 9
    assert main[0].yaxis.label.get_fontsize() >= 10
    assert fig.get_suptitle() == "What each neuron computes over the input plane"


def _filled_bands(fig) -> tuple[list[float], list[int]]:
    """The levels of the filled shading and which of its bands hold any area."""
    (filled,) = [s for s in _contour_sets(_main_axes(fig)[0]) if s.filled]
    return [float(v) for v in filled.levels], [k for k, p in enumerate(filled.get_paths()) if len(p.vertices)]


@pytest.mark.parametrize("noise", [0.0, 1e-12, -3e-11])
def test_decision_boundary_of_a_constant_output_is_one_flat_colour(noise):
    X, y = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]], [0, 1, 1]
    fig = plot.plot_decision_boundary(lambda x: 0.3 + noise * (x[0] - x[1]), X, y, resolution=10)
    levels, bands = _filled_bands(fig)
    assert levels[0] == -1.0 and levels[-1] == 1.0 and len(levels) == 17  # threshold 0 +- 1, not the noise
    assert bands == [10]  # one band: 0.25 <= 0.3 < 0.375
    assert [s for s in _contour_sets(_main_axes(fig)[0]) if not s.filled] == []  # no boundary line
    assert _main_axes(fig)[0].get_title() == "No decision boundary: constant output 0.3"
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert bar.get_ylabel() == "model output: constant 0.3"


def test_decision_boundary_of_a_constant_output_far_from_the_threshold():
    X, y = [[0.0, 0.0], [1.0, 1.0]], [0, 1]
    fig = plot.plot_decision_boundary(lambda x: 1.0, X, y, loss="bce", title="saturated")
    levels, bands = _filled_bands(fig)
    assert (levels[0], levels[-1]) == (-0.5, 1.5)  # 0.5 +- 2 * |1 - 0.5|
    assert len(bands) == 1
    assert _main_axes(fig)[0].get_title() == "saturated"  # your title stays
    fig = plot.plot_decision_boundary(lambda x: -0.0 * x[0], X, y)  # -0.0 on one side: still constant 0
    assert _main_axes(fig)[0].get_title() == "No decision boundary: constant output 0"


def test_decision_boundary_of_a_nearly_constant_output_still_shows_its_boundary():
    X, y = [[0.0, 0.0], [1.0, 1.0]], [0, 1]
    fig = plot.plot_decision_boundary(lambda x: 1e-6 * (x[0] - 0.5), X, y, resolution=11)
    assert boundary_level(fig) == 0.0
    assert _main_axes(fig)[0].get_title() == "Decision boundary"


def test_neurons_needs_layers():
    with pytest.raises(TypeError, match=r"\.layers"):
        plot.plot_neurons(lambda x: x[0], [[0.0, 0.0]], [0])


def test_missing_matplotlib_names_the_extra(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[plot\]'"):
        plot.plot_activation("tanh")
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[plot\]'"):
        plot.plot_history(History(loss=[1.0]))


def test_figures_pickle_and_save(tmp_path):
    fig = plot.plot_history(History(loss=[1.0, 0.5], lr=[0.1, 0.1]))
    copy = pickle.loads(pickle.dumps(fig))
    assert type(copy).__name__ == "PlotFigure" and isinstance(copy, Figure)
    assert _png(copy, tmp_path / "copy.png") > 1000


NOTEBOOK_CELLS = {
    "the last line": "nn.plot.plot_history(history)",
    "assigned": "fig = nn.plot.plot_history(history)",
    "shown again later": "fig",
    "ending with ;": "nn.plot.plot_history(history);",
    "plt.show()": "fig = nn.plot.plot_history(history)\nplt.show()",
    "a boundary": "nn.plot.plot_decision_boundary(model, X, y, resolution=5)",
    "an activation": 'nn.plot.plot_activation("tanh", points=5)',
    "the neurons": "nn.plot.plot_neurons(model, X, y, resolution=5)",
}


def test_a_notebook_shows_each_figure_exactly_once(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    setup = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "import matplotlib.pyplot as plt\n"
        "import nn\n"
        "from nn.train import History\n"
        "history = History(loss=[1.0, 0.5, 0.25], accuracy=[0.5, 0.75, 1.0], lr=[0.1] * 3)\n"
        "X, y = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]\n"
        "model = nn.MLP(2, [3, 1], activation='tanh', rng=0)"
    )
    cells = [setup, *NOTEBOOK_CELLS.values()]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    images = {
        name: sum("image/png" in out.get("data", {}) for out in cell.outputs)
        for name, cell in zip(NOTEBOOK_CELLS, notebook.cells[1:], strict=True)
    }
    assert images == dict.fromkeys(NOTEBOOK_CELLS, 1)
