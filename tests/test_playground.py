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
