"""``chainrule predict``: run a saved model on one input and print its scores and class."""

from __future__ import annotations

import argparse
import numbers
from typing import Any

import nn
from autograd import Value
from nn.checks import shorten

from ..files import load_model, read_classes
from .base import UsageError, finite_number, formatter

EXAMPLE = """\
examples:
  chainrule predict xor.json 0 1
  chainrule predict iris.json 5.1 3.5 1.4 0.2

  chainrule predict embedding.json 2 0

  Prints the model's output (its scores) on the first line. For a
  classifier, the second line is the predicted class (and its name, for
  a model saved by 'chainrule train --save' on iris): the largest of
  several scores, or for one score, the side of the split it falls on.
  A model that looks rows up in an Embedding takes whole numbers (row
  indices); every other model takes numbers."""


def add_predict_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "predict",
        help="run a saved model on one input",
        description="Load a model saved with 'train --save' and print its output.",
        epilog=EXAMPLE,
        formatter_class=formatter,
    )
    parser.add_argument("model", help="a model file written by --save")
    parser.add_argument("inputs", nargs="+", type=number_text, metavar="X", help="the input numbers")
    parser.set_defaults(func=cmd_predict)


def number_text(text: str) -> str:
    """An argument type: a finite number, kept as written until the model says how to read it."""
    finite_number(text)  # refuses what is not a finite number before the model is loaded
    return text


def model_inputs(model: Any, texts: list[str]) -> list[float | int]:
    """The inputs as ``model`` takes them: row indices (ints) for a model holding an
    ``nn.Embedding``, whose lookups take whole numbers; floats for every other model."""
    if any(isinstance(m, nn.Embedding) for m in model.modules()):
        return [_index(text) for text in texts]
    return [finite_number(text) for text in texts]


def _index(text: str) -> int | float:
    """``"3"`` as the row index 3; a number that is not whole stays a float for the model to refuse."""
    try:
        return int(text)
    except ValueError:
        return finite_number(text)


def cmd_predict(args: argparse.Namespace) -> int:
    model = load_model(args.model)
    inputs = model_inputs(model, list(args.inputs))
    with model.evaluating():  # eval mode: dropout off, so the answer is the same on every run
        try:
            out = model(inputs)
        except (ValueError, TypeError, IndexError) as err:  # the input does not fit the model
            raise UsageError(shorten(str(err))) from None
    scores = _scores(out)
    print(" ".join(f"{s:.10g}" for s in scores))
    classes = read_classes(args.model)
    label = predicted_class(model, scores, classes)
    if label is not None:
        names = classes["names"] if classes else None
        print(f"class {label} ({names[label]})" if names and label < len(names) else f"class {label}")
    return 0


def _scores(out: Any) -> list[float]:
    """A model's output (a Value, a number or a list of them) as floats."""
    items = out if isinstance(out, (list, tuple)) else [out]
    scores = []
    for item in items:
        if isinstance(item, Value):
            scores.append(item.data)
        elif isinstance(item, numbers.Real) and not isinstance(item, bool):
            scores.append(float(item))
        else:
            raise UsageError(f"the model gave {type(item).__name__}, not numbers")
    return scores


def predicted_class(model: Any, scores: list[float], classes: dict[str, Any] | None = None) -> int | None:
    """The class a classifier predicts: the index of the largest of several outputs (the
    first on a tie), or for one output, 1 above the split (0 for scores and logits).

    ``classes`` is what ``chainrule train --save`` recorded in the file; without it, only an
    MLP with several outputs or one sigmoid output (split at 0.5) is read as a classifier,
    and ``None`` is returned for anything else, such as one raw score, whose meaning the
    file does not tell.
    """
    if classes is None and not isinstance(model, nn.MLP):
        return None
    if len(scores) > 1:
        return max(range(len(scores)), key=lambda k: (scores[k], -k))
    if classes is not None:
        threshold = classes["threshold"]
        return int(scores[0] > (0.0 if threshold is None else threshold))
    if model.config().get("output_activation") == "sigmoid":
        return int(scores[0] > 0.5)
    return None
