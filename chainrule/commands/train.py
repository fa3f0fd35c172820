"""``chainrule train``: train an MLP on a toy data set, report its accuracy, save it."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nn

from ..files import check_folder_outputs, check_output, save_classes, save_figure
from .base import UsageError, finite_number, formatter, layer_sizes, positive_number, whole_number

CLASS_NAMES = {"iris": nn.data.IRIS_CLASSES}  # data sets whose classes have names

EXAMPLE = """\
examples:
  chainrule train --data xor --seed 0
  chainrule train --data moons --hidden 16,16 --epochs 100 --save moons.json --plot
  chainrule train --data iris --hidden 8 --loss cross_entropy --optimizer adam --lr 0.01

  Two-class data sets (moons, circles, spirals, xor) default to the hinge
  loss, the others (blobs, iris: three classes) to cross-entropy. The loss
  names are those of nn.losses.LOSSES, PyTorch's spellings included."""


def add_train_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "train",
        help="train an MLP on a toy data set",
        description="Train a multi-layer perceptron and report its accuracy.",
        epilog=EXAMPLE,
        formatter_class=formatter,
    )
    parser.add_argument("--data", choices=tuple(nn.data.DATASETS), default="moons",
                        help="data set (default: %(default)s)")
    parser.add_argument("--hidden", type=layer_sizes, default=[16, 16],
                        help="hidden layer sizes, comma separated (default: 16,16)")
    parser.add_argument("--activation", choices=tuple(nn.activations.ACTIVATIONS), default="relu",
                        help="hidden activation (default: %(default)s)")
    parser.add_argument("--loss", choices=tuple(nn.losses.LOSSES), default=None, metavar="LOSS",
                        help="loss: a name of nn.losses.LOSSES such as hinge, mse, bce, bce_with_logits, "
                        "cross_entropy (default: hinge for two classes, else cross_entropy)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="adam", help="(default: %(default)s)")
    parser.add_argument("--lr", type=positive_number, default=0.01, help="learning rate (default: %(default)s)")
    parser.add_argument("--epochs", type=whole_number(1, 1_000_000), default=200, help="(default: %(default)s)")
    parser.add_argument("--batch-size", type=whole_number(), default=None,
                        help="samples per step (default: all of them)")
    parser.add_argument("--samples", type=whole_number(10, 100_000), default=None,
                        help="points in a generated data set, at least 10 (default: 100; "
                        "xor without it is its four truth-table points)")
    parser.add_argument("--noise", type=finite_number, default=None, help="noise of generated data sets")
    parser.add_argument("--init", choices=tuple(nn.init.INITIALIZERS), default="he_uniform", metavar="INIT",
                        help="weight initialiser (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--save", metavar="FILE", help="save the trained model as JSON")
    parser.add_argument("--plot", action="store_true", help="write the loss curve and decision boundary")
    parser.add_argument("--out", default="chainrule-out", help="folder for --plot (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_train)


@dataclass
class Task:
    """How a loss shapes the network and its targets, and how to read a prediction.

    ``threshold`` is where one output splits class 0 from class 1 (``None``:
    at 0 for scores, logits and -1/+1 targets; the largest of several outputs).
    """

    loss: str
    outputs: int
    output_activation: str | None
    targets: list[Any]
    threshold: float | None


def task_for(loss: str | None, y: Sequence[int], data: str) -> Task:
    """The network's output layer and targets for ``loss`` on labels ``y`` (0 .. k-1)."""
    n_classes = len(set(y))
    if n_classes < 2:
        raise UsageError(f"{data} gave {n_classes} class; use more --samples")
    loss = loss or ("hinge" if n_classes == 2 else "cross_entropy")
    function = nn.losses.loss_function(loss)
    wanted = nn.losses.TARGETS.get(function)
    if wanted == "class":
        return Task(loss, n_classes, None, list(y), None)
    if n_classes != 2:
        raise UsageError(f"--loss {loss} needs two classes, but {data} has {n_classes}; use --loss cross_entropy")
    targets = [2 * t - 1 for t in y] if wanted == "-1/+1" else list(y)
    output_activation = "sigmoid" if function is nn.losses.binary_cross_entropy else None  # it takes probabilities
    return Task(loss, 1, output_activation, targets, nn.losses.decision_threshold(function, targets))


def load_data(name: str, n_samples: int | None, noise: float | None, seed: int) -> tuple[list, list]:
    """The data set ``name`` from ``nn.data.load``: points and labels 0 .. k-1."""
    try:
        return nn.data.load(name, n_samples, noise, seed)
    except ValueError as err:
        message = str(err).replace("n_samples", "--samples").replace("noise", "--noise")
        raise UsageError(message) from None


def cmd_train(args: argparse.Namespace) -> int:
    plots = [f"{args.data}-history.png", f"{args.data}-boundary.png"]
    save = check_output(args.save) if args.save else None
    out = check_folder_outputs(args.out, plots) if args.plot else None

    X, y = load_data(args.data, args.samples, args.noise, args.seed)
    task = task_for(args.loss, y, args.data)
    if len(X) > 8:
        X_train, X_test, y_train, y_test = nn.data.train_test_split(
            X, task.targets, test_size=0.25, random_state=args.seed
        )
    else:  # xor: four points, learn and test on all of them
        X_train, X_test, y_train, y_test = X, X, task.targets, task.targets

    model = nn.MLP(len(X[0]), [*args.hidden, task.outputs], activation=args.activation,
                   output_activation=task.output_activation, init=args.init, rng=args.seed)
    optimizer_class = {"sgd": nn.optim.SGD, "adam": nn.optim.Adam}[args.optimizer]
    optimizer = optimizer_class(model.parameters(), lr=args.lr)
    print(f"training {model!r} on {args.data} ({len(X_train)} train / {len(X_test)} test points)")
    started = time.perf_counter()
    with warnings.catch_warnings():  # divergence is reported below, in one line
        warnings.simplefilter("ignore", RuntimeWarning)
        history = nn.fit(model, X_train, y_train, loss=task.loss, optimizer=optimizer, epochs=args.epochs,
                         batch_size=args.batch_size, progress=not args.quiet, random_state=args.seed)
    seconds = time.perf_counter() - started
    if history.stopped == "diverged":
        raise UsageError(f"training diverged (the loss became nan or inf); try a smaller --lr than {args.lr}")

    print(f"final loss {history.loss[-1]:.4g} after {len(history.loss)} epochs in {seconds:.1f} s")
    print(f"train accuracy {accuracy(model, X_train, y_train, task.threshold):.3f}")
    print(f"test accuracy {accuracy(model, X_test, y_test, task.threshold):.3f}")
    if save is not None:
        model.save(save)
        save_classes(save, CLASS_NAMES.get(args.data), task.threshold)
        print(f"saved the model to {save}")
    if out is not None:
        plot_training(model, X, task.targets, history, out, plots)
    return 0


def accuracy(model: Any, X: Sequence, y: Sequence, threshold: float | None) -> float:
    """The share of ``X`` the model classifies as ``y`` says, predicted in eval mode without a graph."""
    with model.evaluating():
        outputs = [model(x) for x in X]
    return nn.metrics.accuracy(outputs, y, threshold=threshold)


def plot_training(model: Any, X: Sequence, y: Sequence, history: Any, out: Path, names: list[str]) -> None:
    """Write the loss curve and, for data in the plane, the decision boundary."""
    from nn import plot  # imports matplotlib only when a plot is drawn

    try:
        figures = [plot.plot_history(history)]
        if len(X[0]) == 2:
            figures.append(plot.plot_decision_boundary(model, X, y))
    except ImportError as err:
        print(f"skipping plots: {err}", file=sys.stderr)
        return
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fig, name in zip(figures, names):
        save_figure(fig, out / name)
        written.append(out / name)
    print("wrote " + ", ".join(str(p) for p in written))
