"""Tests for nn/playground/: the model and controller, and the widgets without a browser."""

from __future__ import annotations

import json
import time

import pytest

import nn
from autograd import Step
from nn.playground import DATASETS, Playground


def small(**settings: object) -> Playground:
    base = {"n_samples": 40, "hidden": [3], "batch_size": None, "learning_rate": 0.3, "seed": 1}
    return Playground(**{**base, **settings})


def weights(pg: Playground) -> list[float]:
    return [p.data for p in pg.model.parameters()]


def test_builds_from_settings():
    pg = small()
    assert len(pg.X_train) == 28 and len(pg.X_test) == 12
    assert [len(layer.neurons) for layer in pg.model.layers] == [3, 1]
    assert pg.epoch == 0 and len(pg.train_loss) == len(pg.test_loss) == 1
    assert "Playground(moons" in repr(pg)


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_dataset_gives_two_classes_in_the_plane(dataset):
    pg = small(dataset=dataset)
    X = pg.X_train + pg.X_test
    assert all(len(x) == 2 for x in X)
    assert set(pg.y_train + pg.y_test) == {0, 1}


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="learning_rate"):
        small(learning_rate=100.0)
    with pytest.raises(ValueError, match="dataset"):
        small(dataset="iris")
    pg = small()
    with pytest.raises(ValueError, match="unknown setting"):
        pg.set(colour="red")
    with pytest.raises(ValueError, match="optimizer"):
        pg.set(optimizer="lbfgs")
    assert pg.settings.optimizer == "sgd"  # unchanged after a refused change


def test_changing_settings_programmatically():
    pg = small()
    pg.play(2)
    before = weights(pg)
    pg.set(learning_rate=0.01, optimizer="adam")  # keeps the weights
    assert weights(pg) == before and pg.epoch == 2
    assert isinstance(pg.optimizer, nn.Adam) and pg.optimizer.lr == 0.01
    pg.set(dataset="xor", hidden=[2, 2])  # a new problem: start afresh
    assert pg.epoch == 0 and [len(layer.neurons) for layer in pg.model.layers] == [2, 2, 1]


def test_step_changes_the_weights_and_records_losses():
    pg = small()
    before = weights(pg)
    loss = pg.step()
    assert weights(pg) != before
    assert pg.epoch == 1 and pg.train_loss[-1] == loss and len(pg.test_loss) == 2


def test_loss_decreases_on_an_easy_dataset():
    pg = small(dataset="blobs", noise=0.0, learning_rate=0.5)
    assert pg.play(15) == 15
    assert pg.train_loss[-1] < 0.5 * pg.train_loss[0]
    assert pg.test_loss[-1] < pg.test_loss[0]
    assert pg.accuracy(pg.X_train, pg.y_train) >= 0.9


@pytest.mark.parametrize("regularization", ["l1", "l2"])
def test_regularisation_and_minibatches_run(regularization):
    pg = small(regularization=regularization, regularization_rate=0.1, batch_size=8, optimizer="adam")
    pg.play(2)
    assert pg.epoch == 2


def test_pause_from_a_callback_stops_play():
    pg = small()
    ran = pg.play(10, on_epoch=lambda p: p.epoch == 3 and p.pause(wait=False))
    assert ran == 3 and pg.epoch == 3


def test_background_play_pauses_cleanly():
    pg = small()
    pg.start(on_epoch=lambda p: p.epoch >= 2 and p.pause(wait=False))
    pg._thread.join(5)
    assert not pg.playing and pg.epoch >= 2


def test_divergence_stops_training():
    pg = small()
    pg.model.layers[-1].neurons[0].b.data = float("nan")  # as after a far too large step
    pg.step()
    assert pg.diverged
    assert pg.play(5) == 0 and pg.epoch == 1
    pg.reset()
    assert not pg.diverged


def test_grids_have_the_right_shape_and_values():
    pg = small(hidden=[3, 2])
    xs, ys = pg.grid_axes(7)
    grid = pg.boundary_grid(7)
    assert len(grid) == 7 and all(len(row) == 7 for row in grid)
    assert all(0.0 < p < 1.0 for row in grid for p in row)
    assert grid[2][5] == pytest.approx(pg.predict_proba([[xs[5], ys[2]]])[0])
    neurons = pg.neuron_grids(5)
    assert [len(layer) for layer in neurons] == [3, 2]
    assert all(len(g) == 5 and all(len(r) == 5 for r in g) for layer in neurons for g in layer)
    xs, ys = pg.grid_axes(5)
    first = pg.model.layers[0].neurons[1]
    assert neurons[0][1][4][0] == pytest.approx(first([xs[0], ys[4]]).data)
    assert small(hidden=[]).neuron_grids(5) == []


def test_backward_step_walks_the_records_of_backward_steps():
    pg = small()
    pg.select(layer=0, neuron=1, point=2)
    expected = list(pg.neuron_graph().backward_steps())
    walked = []
    while (step := pg.backward_step()) is not None:
        assert isinstance(step, Step)
        walked.append(step)
    assert len(walked) == len(expected) > 0
    for got, want in zip(walked, expected, strict=True):
        assert got.node.label == want.node.label and got.parent.label == want.parent.label
        assert got.local_grad == pytest.approx(want.local_grad)
        assert got.contribution == pytest.approx(want.contribution)
    assert pg.applied_steps == walked
    # the model's own gradients are untouched, and the next call starts again
    assert all(p.grad == 0.0 for p in pg.model.parameters())
    again = pg.backward_step()
    assert again is not None and again.contribution == pytest.approx(walked[0].contribution)
    assert pg.applied_steps == [again]


def test_backward_graph_draws_with_the_step_highlighted():
    pg = small()
    pg.select(layer=1, neuron=0)
    pg.backward_step()
    drawing = pg.draw_backward()
    assert "step 1" in drawing.source and "red" in drawing.source


def test_json_round_trip_gives_identical_weights_and_predictions():
    pg = small(dataset="circles", optimizer="sgd", batch_size=10)
    pg.play(3)
    text = pg.to_json()
    assert json.loads(text)["settings"]["dataset"] == "circles"
    copy = Playground.from_json(text)
    assert weights(copy) == weights(pg)
    assert copy.boundary_grid(6) == pg.boundary_grid(6)
    assert copy.train_loss == pg.train_loss and copy.epoch == 3
    pg.step()
    copy.step()  # continues the same way
    assert weights(copy) == weights(pg)
    with pytest.raises(ValueError, match="not a saved playground"):
        Playground.from_json('{"weights": {}}')


# ----------------------------------------------------------------------
# The widgets, without a browser
# ----------------------------------------------------------------------
def make_app(**settings: object):
    pytest.importorskip("ipywidgets")
    pytest.importorskip("matplotlib")
    base = {"n_samples": 30, "hidden": [2], "batch_size": None, "learning_rate": 0.3, "seed": 2}
    box = nn.playground(**{**base, **settings})
    return box, box.app


@pytest.mark.needs_dot
def test_the_widget_shows_controls_and_views_and_its_buttons_work():
    import ipywidgets

    box, app = make_app()
    assert isinstance(box, ipywidgets.VBox)
    assert set(app.controls) == {
        "dataset", "noise", "train_ratio", "hidden", "activation", "learning_rate",
        "optimizer", "regularization", "regularization_rate", "batch_size", "seed",
    }
    assert bytes(app.boundary.value).startswith(b"\x89PNG") and app.losses.value and app.neurons.value
    assert "<svg" in app.graph.value
    assert "epoch 0" in app.status.value

    # press the buttons
    before, picture = weights(app.pg), app.boundary.value
    app.step_button.click()
    assert app.pg.epoch == 1 and weights(app.pg) != before
    assert app.boundary.value != picture and "epoch 1" in app.status.value
    graph = app.graph.value
    app.backward_button.click()
    assert len(app.pg.applied_steps) == 1 and app.graph.value != graph and "step 1" in app.graph.value
    app.reset_button.click()
    assert app.pg.epoch == 0 and weights(app.pg) == before


def test_play_trains_in_the_background_and_pauses_cleanly():
    _, app = make_app()
    app.play_button.click()
    assert app.play_button.description == "pause"
    deadline = time.monotonic() + 60  # generous: the machine may be busy
    while app.pg.epoch < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    app.play_button.click()
    assert not app.pg.playing and app.play_button.description == "play"
    epoch = app.pg.epoch
    assert epoch >= 2 and f"epoch {epoch}" in app.status.value
    time.sleep(0.05)
    assert app.pg.epoch == epoch  # really stopped


@pytest.mark.needs_dot
def test_controls_change_the_settings():
    _, app = make_app()
    app.step_button.click()
    app.controls["learning_rate"].value = 0.01
    assert app.pg.settings.learning_rate == 0.01 and app.pg.epoch == 1  # weights kept
    app.controls["hidden"].value = "3, 2"
    assert [len(layer.neurons) for layer in app.pg.model.layers] == [3, 2, 1] and app.pg.epoch == 0
    assert len(app.neuron_choice.options) == 6
    app.controls["batch_size"].value = 0
    assert app.pg.settings.batch_size is None
    app.controls["hidden"].value = "four"
    assert "whole numbers" in app.status.value
    app.neuron_choice.value = (1, 1)
    assert app.pg.neuron == (1, 1) and "h2.2" in app.graph.value


def test_a_saved_playground_opens_in_the_widget():
    pg = small(dataset="spirals")
    pg.play(2)
    pytest.importorskip("ipywidgets")
    box = nn.playground(state=pg.to_json())
    assert weights(box.app.pg) == weights(pg) and box.app.pg.epoch == 2


# ----------------------------------------------------------------------
# The package's parts, and what they share with the library
# ----------------------------------------------------------------------
def test_the_public_names_stay_importable():
    import sys

    from nn.playground import (  # noqa: F401
        ACTIVATIONS,
        OPTIMIZERS,
        REGULARIZATIONS,
        PlaygroundApp,
        Settings,
        boundary_png,
        loss_png,
        neurons_png,
        playground,
    )

    package = sys.modules["nn.playground"]
    assert nn.playground is playground is package.playground  # nn.playground() is the widget function
    assert nn.Playground is Playground is package.model.Playground
    assert package.PlaygroundApp is package.widgets.PlaygroundApp
    assert package.boundary_png is package.render.boundary_png


def test_the_activations_and_data_sets_are_the_library_s():
    from nn.playground import ACTIVATIONS, make_dataset

    assert set(ACTIVATIONS) <= set(nn.activations.ACTIVATIONS)
    assert set(DATASETS) <= set(nn.data.DATASETS)
    assert make_dataset("moons", 30, 0.2, 4) == nn.data.load("moons", 30, 0.2, 4)
    assert make_dataset("circles", 30, 0.2, 4) == nn.data.load("circles", 30, 0.2, 4, factor=0.5)
    assert make_dataset("blobs", 30, 0.2, 4) == nn.data.load("blobs", 30, 0.4 + 0.2, 4, centers=[[-1, -1], [1, 1]])
    X, y = make_dataset("xor", 30, 0.0, 4)
    assert all(t == int((a > 0) != (b > 0)) for (a, b), t in zip(X, y))  # XOR of the signs, as nn.data.xor


def test_an_epoch_is_one_shared_train_step_per_mini_batch(monkeypatch):
    from nn.playground import model

    calls = []
    real = model.train_step

    def counting(*args, **kwargs):
        calls.append(len(args[1]))
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "train_step", counting)
    pg = small(batch_size=10)
    pg.step()
    assert calls == [10, 10, 8]  # 28 training points


def test_predictions_run_in_eval_mode_and_leave_the_mode_alone():
    pg = small()
    pg.model = nn.MLP(2, [8, 1], rng=3, dropout=0.9)  # dropout would make training-mode predictions random
    points = pg.X_test[:5]
    first = pg.predict_proba(points)
    assert [pg.predict_proba(points) for _ in range(3)] == [first] * 3
    with pg.model.evaluating():
        expected = [pg.model(x).sigmoid().data for x in points]
    assert first == expected
    assert pg.model.training  # the mode it had
    assert pg.loss(points, pg.y_test[:5]) == pg.loss(points, pg.y_test[:5])


# ----------------------------------------------------------------------
# Loading a saved playground: hostile texts are a quick ValueError
# ----------------------------------------------------------------------
def saved(settings: dict | None = None, **changes: object) -> str:
    """A saved small playground with ``changes`` to its settings (by name) or to its other fields."""
    state = json.loads(small().to_json())
    state["settings"].update(settings or {})
    for key, value in changes.items():
        if key in state["settings"]:
            state["settings"][key] = value
        else:
            state[key] = value
    return json.dumps(state)


@pytest.mark.parametrize(
    "text, message",
    [
        (saved(n_samples=3_000_000), "n_samples must be a whole number of points from 10 to 2000"),
        (saved(n_samples=10**12), "n_samples"),
        (saved(n_samples=True), "n_samples"),
        (saved(hidden=[10**6]), "hidden is a list of layer widths from 1 to 8"),
        (saved(hidden=[2] * 7), "at most 6 hidden layers"),
        (saved(noise=10**400), "noise"),
        (saved(learning_rate="fast"), "learning_rate must be a number"),
        (saved(seed=10**100), "seed must be a whole number below 2\\*\\*63"),
        (saved({"colour": "red"}), "TypeError: .*colour"),
        (saved(epoch=10**9), "'epoch' must be a whole number from 0 to 100000"),
        (saved(epoch=2), "one loss per epoch plus the first \\(3\\), got 1 values"),
        (saved(train_loss=["a"]), "'train_loss' must hold numbers"),
        (saved(train_loss=[10**400]), "train_loss is too large for a float"),
        (saved(weights={"w": 1.0}), "state dict does not fit|weights"),
        ('{"format": "chainrule-playground", "epoch": 1e999}', "'epoch' must be a whole number"),
        ("[" * 100_000 + "]" * 100_000, "JSON objects and lists"),
        ("{\"a\": " * 99 + "1" + "}" * 99, "not a saved playground"),
        ("[{}" + ", {}" * 200_000 + "]", "JSON objects and lists"),
        ('{"format": "chainrule-playground", "epoch": ' + "1" * 5000 + "}", "not a saved playground"),
        (" " * 6_000_000, "characters is more than"),
        ("not json", "not a saved playground"),
    ],
)
def test_from_json_refuses_what_is_not_a_saved_playground(text, message):
    with pytest.raises(ValueError, match=message) as info:
        Playground.from_json(text)
    assert len(str(info.value)) < 400


def test_from_json_needs_text():
    with pytest.raises(TypeError, match="takes the text written by to_json"):
        Playground.from_json({"format": "chainrule-playground"})


def test_a_saved_diverged_playground_stays_diverged():
    pg = small()
    pg.model.layers[-1].neurons[0].b.data = float("nan")
    pg.step()
    copy = Playground.from_json(pg.to_json())
    assert copy.diverged and copy.play(3) == 0


def test_direct_settings_of_the_wrong_type_are_a_type_error():
    with pytest.raises(TypeError, match="noise .* must be a number, got str"):
        small(noise="a lot")


@pytest.mark.needs_dot
def test_backward_caption_is_the_one_backward_frames_writes():
    from autograd import topological_order
    from autograd.draw import step_caption

    pg = small()
    step = pg.backward_step()
    total = sum(len(v.parents) for v in topological_order(pg.backward_root))
    source = pg.draw_backward().source
    caption = step_caption(step, 1, total)
    assert caption.startswith(f"step 1 of {total}: ") and ".grad += d" in caption
    assert caption.split(": ", 1)[1].split(" = ")[-1] in source


def test_half_finished_backward_draws_what_it_has_not_reached_grey():
    from autograd.draw import UNREACHED_COLOR

    pg = small()
    pg.backward_step()
    halfway = pg.draw_backward().source
    assert UNREACHED_COLOR in halfway and "not reached yet" in halfway
