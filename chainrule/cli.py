"""The ``chainrule`` command: ``demo``, ``graph``, ``train`` and ``predict``.

Bad input prints one line on stderr and exits with status 2; there is never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the command line: shown as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but every error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        if "unrecognized arguments: -" in message:
            hint = " (an expression starting with '-' goes after '--': chainrule graph -- \"-x*y\" x=1 y=2)"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}{hint}\n")


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


# --------------------------------------------------------------------------
# chainrule graph
# --------------------------------------------------------------------------
GRAPH_EXAMPLE = """\
example:
  chainrule graph "tanh(x*w + b)" x=2 w=-3 b=6.8813735870195432 -o neuron.svg

  Expressions use + - * / **, unary minus, numbers, names and the functions
  exp log sqrt tanh sigmoid relu leaky_relu elu softplus sin cos abs.
  The output file's extension picks the format: .svg .png .pdf or .dot."""

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def cmd_graph(args: argparse.Namespace) -> int:
    from autograd import Value, draw_dot

    from .expr import ExpressionError, evaluate, names_in, parse_assignment, parse_expression

    try:
        tree = parse_expression(args.expression)
        given: dict[str, float] = {}
        for text in args.values:
            name, number = parse_assignment(text)
            if name in given:
                raise ExpressionError(f"{name} is given twice")
            given[name] = number
        names = names_in(tree)
        leaves = {name: Value(number, label=name) for name, number in given.items()}
        out = evaluate(tree, leaves)  # checks that every name has a value
        unused = [n for n in given if n not in names]
        if unused:
            raise ExpressionError(f"{', '.join(unused)} given but not used in the expression")
    except ExpressionError as err:
        raise UsageError(str(err)) from None
    out.label = "out"
    fmt = _output_format(args.output)

    if args.steps:
        print("chain rule, one step at a time (parent.grad += local * upstream):")
        for i, s in enumerate(out.backward_steps(), 1):
            print(
                f"  {i:3d}. {_name(s.parent):>8} <- {s.node.op:<10} local {s.local_grad:<11.6g}"
                f" x upstream {s.upstream:<11.6g} = {s.contribution:.6g}"
            )
        print()
    else:
        out.backward()

    print(f"{args.expression.strip()} = {out.data:.10g}")
    width = max([4, *(len(n) for n in names)])
    print(f"  {'name':<{width}}  {'value':>14}  {'gradient':>14}")
    for name in names:
        leaf = leaves[name]
        print(f"  {name:<{width}}  {leaf.data:>14.10g}  {leaf.grad:>14.10g}")

    graph = draw_dot(out, max_nodes=args.max_nodes)
    _write_graph(graph, Path(args.output), fmt)
    return 0


def _output_format(output: str) -> str:
    suffix = Path(output).suffix.lower()
    if suffix not in _FORMATS:
        raise UsageError(f"cannot tell the format of {output!r}: use a .svg, .png, .pdf or .dot file name")
    return _FORMATS[suffix]


def _write_graph(graph: Any, path: Path, fmt: str) -> None:
    """Render ``graph`` to ``path``; without Graphviz, write the DOT source and say how to install it."""
    from autograd.draw import GraphvizNotFoundError

    if path.parent and not path.parent.exists():
        raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    if fmt == "dot":
        path.write_text(graph.source)
        print(f"wrote {path}")
        return
    try:
        data = graph.pipe(format=fmt)
    except GraphvizNotFoundError:
        fallback = path.with_suffix(".dot")
        fallback.write_text(graph.source)
        print(
            f"wrote {fallback} instead of {path}: drawing needs Graphviz's 'dot' program "
            "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz)",
            file=sys.stderr,
        )
        return
    _atomic_write(path, data)
    print(f"wrote {path}")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _name(v: Any) -> str:
    return v.label or (f"[{v.op}]" if v.op else f"{v.data:.4g}")


# --------------------------------------------------------------------------
# chainrule train / predict
# --------------------------------------------------------------------------
DATASETS = ("moons", "circles", "spirals", "blobs", "xor", "iris")
LOSSES = ("hinge", "mse", "bce", "ce")
TRAIN_EXAMPLE = """\
examples:
  chainrule train --data xor --seed 0
  chainrule train --data moons --hidden 16,16 --epochs 100 --save moons.json --plot
  chainrule train --data iris --hidden 8 --loss ce --optimizer adam --lr 0.01

  Binary data sets (moons, circles, xor) default to the hinge loss, the
  others (spirals, blobs, iris: three classes) to cross-entropy."""


def _hidden_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,16, got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {text!r}")
    return sizes


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def _positive_float(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return x


def _load_data(name: str, n_samples: int, noise: float | None, seed: int) -> tuple[list, list]:
    import nn

    if name == "xor":
        return nn.data.xor()
    if name == "iris":
        return nn.data.load_iris()
    makers = {
        "moons": (nn.data.make_moons, 0.1),
        "circles": (nn.data.make_circles, 0.05),
        "spirals": (nn.data.make_spirals, 0.1),
        "blobs": (nn.data.make_blobs, None),
    }
    make, default_noise = makers[name]
    if name == "blobs":
        return make(n_samples=n_samples, random_state=seed)
    return make(n_samples=n_samples, noise=default_noise if noise is None else noise, random_state=seed)


def cmd_train(args: argparse.Namespace) -> int:
    import nn

    X, y = _load_data(args.data, args.samples, args.noise, args.seed)
    classes = sorted(set(y))
    n_classes = len(classes)
    loss = args.loss or ("hinge" if n_classes == 2 else "ce")
    if loss in ("hinge", "bce", "mse") and n_classes != 2:
        raise UsageError(f"--loss {loss} needs two classes, but {args.data} has {n_classes}; use --loss ce")
    n_out = n_classes if loss == "ce" else 1
    output_activation = "sigmoid" if loss == "bce" else None
    targets = [2 * t - 1 for t in y] if loss == "hinge" else list(y)

    if len(X) > 8:
        X_train, X_test, y_train, y_test = nn.data.train_test_split(
            X, targets, test_size=0.25, random_state=args.seed
        )
    else:  # xor: four points, learn and test on all of them
        X_train, X_test, y_train, y_test = X, X, targets, targets

    model = nn.MLP(
        len(X[0]),
        [*args.hidden, n_out],
        activation=args.activation,
        output_activation=output_activation,
        init=args.init,
        rng=args.seed,
    )
    optimizer_class = {"sgd": nn.optim.SGD, "adam": nn.optim.Adam}[args.optimizer]
    optimizer = optimizer_class(model.parameters(), lr=args.lr)
    print(f"training {model!r} on {args.data} ({len(X_train)} train / {len(X_test)} test points)")
    started = time.perf_counter()
    with warnings.catch_warnings():  # divergence is reported below, in one line
        warnings.simplefilter("ignore", RuntimeWarning)
        history = nn.fit(
            model,
            X_train,
            y_train,
            loss=loss,
            optimizer=optimizer,
            epochs=args.epochs,
            batch_size=args.batch_size,
            progress=not args.quiet,
            random_state=args.seed,
        )
    seconds = time.perf_counter() - started
    if history.stopped == "diverged":
        raise UsageError(f"training diverged (the loss became nan or inf); try a smaller --lr than {args.lr}")

    train_acc = _accuracy(model, X_train, y_train, loss)
    test_acc = _accuracy(model, X_test, y_test, loss)
    print(f"final loss {history.loss[-1]:.4g} after {len(history.loss)} epochs in {seconds:.1f} s")
    print(f"train accuracy {train_acc:.3f}")
    print(f"test accuracy {test_acc:.3f}")

    if args.save:
        model.save(args.save)
        print(f"saved the model to {args.save}")
    if args.plot:
        _plot_training(model, X, targets, history, Path(args.out), args.data)
    return 0


def _accuracy(model: Any, X: Sequence, y: Sequence, loss: str) -> float:
    import autograd
    import nn

    with autograd.no_grad():
        outputs = [model(x) for x in X]
    # bce outputs probabilities: threshold 0.5; hinge (-1/+1) and ce (argmax) need none
    return nn.metrics.accuracy(outputs, y, threshold=0.5 if loss in ("bce", "mse") else None)


def _plot_training(model: Any, X: Sequence, y: Sequence, history: Any, out: Path, name: str) -> None:
    from nn import plot  # imports matplotlib only when a plot is drawn

    out.mkdir(parents=True, exist_ok=True)
    try:
        fig = plot.plot_history(history)
    except ImportError as err:
        print(f"skipping plots: {err}", file=sys.stderr)
        return
    fig.savefig(out / f"{name}-history.png", dpi=100)
    written = [out / f"{name}-history.png"]
    if len(X[0]) == 2:
        fig = plot.plot_decision_boundary(model, X, y)
        fig.savefig(out / f"{name}-boundary.png", dpi=100)
        written.append(out / f"{name}-boundary.png")
    print("wrote " + ", ".join(str(p) for p in written))


def cmd_predict(args: argparse.Namespace) -> int:
    import autograd
    import nn

    try:
        model = nn.Module.load(args.model)
    except FileNotFoundError:
        raise UsageError(f"cannot read {args.model}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"cannot read {args.model}: it is a folder") from None
    except PermissionError:
        raise UsageError(f"cannot read {args.model}: permission denied") from None
    nin = getattr(model, "nin", None)
    if nin is not None and len(args.inputs) != nin:
        raise UsageError(f"the model takes {nin} inputs, got {len(args.inputs)}")
    with autograd.no_grad():
        out = model(list(args.inputs))
    values = out if isinstance(out, list) else [out]
    print(" ".join(f"{v.data:.10g}" for v in values))
    return 0


def _number(text: str) -> float:
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


# --------------------------------------------------------------------------
# chainrule demo
# --------------------------------------------------------------------------
DEMO_EXAMPLE = """\
example:
  chainrule demo --out chainrule-out

  Trains micrograd's demo: 100 two-moons points, MLP(2, [16, 16, 1]),
  max-margin loss plus 1e-4 * L2, SGD with the learning rate decaying from
  1.0 to 0.1 over 100 steps. Writes loss.png, decision_boundary.png and
  neuron.svg into the output folder."""


def cmd_demo(args: argparse.Namespace) -> int:
    import autograd
    import nn

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"cannot write into {out}: it is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)

    X, labels = nn.data.make_moons(n_samples=100, noise=0.1, random_state=args.seed)
    y = [2 * t - 1 for t in labels]  # max-margin loss wants -1 / +1
    model = nn.MLP(2, [16, 16, 1], rng=args.seed)
    params = model.parameters()

    def loss_fn(scores: list, targets: list) -> autograd.Value:
        return nn.hinge_loss(scores, targets) + 1e-4 * nn.l2_penalty(params)

    optimizer = nn.optim.SGD(params, lr=1.0)
    # micrograd's schedule: lr = 1.0 - 0.9 * k / 100
    scheduler = nn.optim.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=args.steps)
    print(f"training {model!r} on 100 two-moons points for {args.steps} steps")
    started = time.perf_counter()
    history = nn.fit(
        model, X, y, loss=loss_fn, optimizer=optimizer, epochs=args.steps,
        scheduler=scheduler, progress=not args.quiet, random_state=args.seed,
    )
    seconds = time.perf_counter() - started
    accuracy = _accuracy(model, X, y, "hinge")
    print(f"final loss {history.loss[-1]:.4f}, accuracy {accuracy:.0%}, in {seconds:.2f} s "
          f"({1000 * seconds / max(1, len(history.loss)):.1f} ms per step)")

    written = []
    try:
        from nn import plot

        fig = plot.plot_history(history, title="two moons: loss and accuracy per step")
        fig.savefig(out / "loss.png", dpi=100)
        written.append(out / "loss.png")
        fig = plot.plot_decision_boundary(model, X, y)
        fig.savefig(out / "decision_boundary.png", dpi=100)
        written.append(out / "decision_boundary.png")
    except ImportError:
        print("skipping loss.png and decision_boundary.png: plotting needs matplotlib "
              "(pip install 'chainrule[plot]')", file=sys.stderr)

    # One neuron of the first hidden layer on the first point, with its gradients.
    neuron = model.layers[0].neurons[0]
    point = [autograd.Value(v, label=f"x{i}") for i, v in enumerate(X[0])]
    activation = neuron(point)
    activation.label = "relu(w.x + b)"
    activation.backward()
    graph = autograd.draw_dot(activation, title="one hidden neuron, first data point")
    _write_graph(graph, out / "neuron.svg", "svg")
    model.zero_grad()

    with open(out / "history.json", "w") as f:
        json.dump({"loss": history.loss, "accuracy": history.accuracy, "lr": history.lr}, f)
    written.append(out / "history.json")
    for path in written:
        print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------
# The parser
# --------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chainrule",
        description="chainrule: a tiny autograd engine for learning how neural networks learn.",
        formatter_class=_formatter,
        epilog="examples:\n  chainrule demo\n  chainrule graph \"tanh(x*w + b)\" x=2 w=-3 b=6.88\n"
        "  chainrule train --data xor --seed 0\n  chainrule predict model.json 0.5 -0.2",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser("demo", help="train micrograd's two-moons demo and draw it",
                          description="Train micrograd's two-moons demo and write its pictures.",
                          epilog=DEMO_EXAMPLE, formatter_class=_formatter)
    demo.add_argument("--out", default="chainrule-out", help="folder for the pictures (default: %(default)s)")
    demo.add_argument("--steps", type=_positive_int, default=100, help="training steps (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=1337, help="random seed (default: %(default)s)")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)

    graph = sub.add_parser("graph", help="differentiate an expression and draw its graph",
                           description="Build an expression's computation graph, run backward, "
                           "print every input's gradient and draw the graph.",
                           epilog=GRAPH_EXAMPLE, formatter_class=_formatter)
    graph.add_argument("expression", help='e.g. "tanh(x*w + b)"')
    graph.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a value for every name, e.g. x=2")
    graph.add_argument("-o", "--output", default="graph.svg", help="picture to write (default: %(default)s)")
    graph.add_argument("--steps", action="store_true", help="print each chain-rule step of backward")
    graph.add_argument("--max-nodes", type=_positive_int, default=500, help=argparse.SUPPRESS)
    graph.set_defaults(func=cmd_graph)

    train = sub.add_parser("train", help="train an MLP on a toy data set",
                           description="Train a multi-layer perceptron and report its accuracy.",
                           epilog=TRAIN_EXAMPLE, formatter_class=_formatter)
    train.add_argument("--data", choices=DATASETS, default="moons", help="data set (default: %(default)s)")
    train.add_argument("--hidden", type=_hidden_sizes, default=[16, 16],
                       help="hidden layer sizes, comma separated (default: 16,16)")
    train.add_argument("--activation", default="relu",
                       choices=["relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "identity"],
                       help="hidden activation (default: %(default)s)")
    train.add_argument("--loss", choices=LOSSES, default=None, help="loss (default: hinge for two classes, else ce)")
    train.add_argument("--optimizer", choices=("sgd", "adam"), default="adam", help="(default: %(default)s)")
    train.add_argument("--lr", type=_positive_float, default=0.01, help="learning rate (default: %(default)s)")
    train.add_argument("--epochs", type=_positive_int, default=200, help="(default: %(default)s)")
    train.add_argument("--batch-size", type=_positive_int, default=None,
                       help="samples per step (default: all of them)")
    train.add_argument("--samples", type=_positive_int, default=200,
                       help="points in generated data sets (default: %(default)s)")
    train.add_argument("--noise", type=float, default=None, help="noise of generated data sets")
    train.add_argument("--init", default="he_uniform", help="weight initialiser (default: %(default)s)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    train.add_argument("--save", metavar="FILE", help="save the trained model as JSON")
    train.add_argument("--plot", action="store_true", help="write the loss curve and decision boundary")
    train.add_argument("--out", default="chainrule-out", help="folder for --plot (default: %(default)s)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)

    predict = sub.add_parser("predict", help="run a saved model on one input",
                             description="Load a model saved with 'train --save' and print its output.",
                             epilog="example:\n  chainrule predict moons.json 0.5 -0.2",
                             formatter_class=_formatter)
    predict.add_argument("model", help="a model file written by --save")
    predict.add_argument("inputs", nargs="+", type=_number, metavar="X", help="the input numbers")
    predict.set_defaults(func=cmd_predict)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    prog = f"chainrule {args.command}"
    try:
        return args.func(args)
    except UsageError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
    except (ValueError, TypeError, OSError) as err:
        print(f"{prog}: error: {_one_line(err)}", file=sys.stderr)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # a bug of ours: still one line, but a distinct status
        print(f"{prog}: internal error: {type(err).__name__}: {_one_line(err)}", file=sys.stderr)
        return 1
    return EXIT_USAGE


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
