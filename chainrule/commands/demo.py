"""``chainrule demo``: train micrograd's two-moons demo and write its pictures."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import autograd
import nn

from ..files import atomic_write, check_folder_outputs, save_figure, write_graph
from .base import formatter, whole_number
from .train import accuracy

EXAMPLE = """\
example:
  chainrule demo --out chainrule-out

  Trains micrograd's demo: 100 two-moons points, MLP(2, [16, 16, 1]),
  max-margin loss plus 1e-4 * L2, full-batch SGD (one step per epoch) with
  the learning rate decaying from 1.0 to 0.1 over 100 steps. Writes
  loss.png, decision_boundary.png, neuron.svg and history.json into the
  output folder."""

OUTPUTS = ["loss.png", "decision_boundary.png", "neuron.svg", "neuron.dot", "history.json"]


def add_demo_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="train micrograd's two-moons demo and draw it",
        description="Train micrograd's two-moons demo and write its pictures.",
        epilog=EXAMPLE,
        formatter_class=formatter,
    )
    parser.add_argument("--out", default="chainrule-out", help="folder for the pictures (default: %(default)s)")
    parser.add_argument("--steps", type=whole_number(1, 100_000), default=100,
                        help="training steps (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=1337, help="random seed (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    out = check_folder_outputs(args.out, OUTPUTS)  # every target checked before training starts

    X, labels = nn.data.make_moons(n_samples=100, noise=0.1, random_state=args.seed)
    y = [2 * t - 1 for t in labels]  # max-margin loss wants -1 / +1
    model = nn.MLP(2, [16, 16, 1], rng=args.seed)
    params = model.parameters()

    def loss_fn(scores: list, targets: list) -> autograd.Value:
        return nn.hinge_loss(scores, targets) + 1e-4 * nn.l2_penalty(params)

    optimizer = nn.optim.SGD(params, lr=1.0)
    # micrograd's schedule: lr = 1.0 - 0.9 * k / 100
    scheduler = nn.optim.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=args.steps)
    print(f"training {model!r} on 100 two-moons points for {args.steps} full-batch steps")
    started = time.process_time()  # CPU time, as benchmarks/run.py and the README's speed table measure
    history = nn.fit(model, X, y, loss=loss_fn, optimizer=optimizer, epochs=args.steps,
                     scheduler=scheduler, progress=not args.quiet, random_state=args.seed)
    seconds = time.process_time() - started
    print(f"final loss {history.loss[-1]:.4f}, accuracy {accuracy(model, X, y, None):.0%}, in {seconds:.2f} s of CPU "
          f"({1000 * seconds / max(1, len(history.loss)):.1f} ms per step, progress bar included)")

    out.mkdir(parents=True, exist_ok=True)
    written = _write_plots(model, X, y, history, out)
    root, title = neuron_graph(model, X)
    written.append(write_graph(autograd.draw_dot(root, title=title), out / "neuron.svg"))
    model.zero_grad()  # the picture's gradients are not a training step's
    history_json = {"loss": history.loss, "accuracy": history.accuracy, "lr": history.lr}
    atomic_write(out / "history.json", json.dumps(history_json).encode("utf-8"))
    written.append(out / "history.json")
    for path in written:
        print(f"wrote {path}")
    return 0


def _write_plots(model: Any, X: Sequence, y: Sequence, history: Any, out: Any) -> list:
    try:
        from nn import plot

        loss_fig = plot.plot_history(history, title="two moons: loss and accuracy per epoch (one step each)")
        boundary_fig = plot.plot_decision_boundary(model, X, y)
    except ImportError:
        print("skipping loss.png and decision_boundary.png: plotting needs matplotlib "
              "(pip install 'chainrule[plot]')", file=sys.stderr)
        return []
    save_figure(loss_fig, out / "loss.png")
    save_figure(boundary_fig, out / "decision_boundary.png")
    return [out / "loss.png", out / "decision_boundary.png"]


def neuron_graph(model: Any, X: Sequence[Sequence[float]]) -> tuple[autograd.Value, str]:
    """One first-layer neuron on one data point, with gradients from its own backward pass.

    The neuron is the first one that is active (relu output > 0) on some
    point, so its picture has something to show. The model's gradients are
    zeroed first: every number in the picture then follows the chain rule
    from that neuron's output alone. Returns the output Value and a title.
    """
    neurons = model.layers[0].neurons
    with model.evaluating():
        choice = next(((i, k) for i, x in enumerate(X) for k, n in enumerate(neurons) if n(x).data > 0.0), (0, 0))
    i, k = choice
    model.zero_grad()
    point = [autograd.Value(v, label=f"x{j}") for j, v in enumerate(X[i])]
    output = neurons[k](point)
    output.label = "relu(w.x + b)"
    output.backward()
    title = f"neuron layers.0.neurons.{k} on data point {i}: every gradient from this neuron's own backward pass"
    return output, title
