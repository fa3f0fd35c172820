"""What every command shares: the usage error, the help layout and the argument types.

Each argument type turns one command-line word into the value a command uses,
or raises ``argparse.ArgumentTypeError``, which argparse prints as one line
before exiting with status 2.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from nn.checks import shorten

EXIT_USAGE = 2


class UsageError(Exception):
    """Bad input from the command line: shown as one line, exit status 2."""


def formatter(prog: str) -> argparse.HelpFormatter:
    """Help text laid out as written (the examples keep their lines)."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


def _shown(text: str) -> str:
    return repr(shorten(text, 40))


def whole_number(minimum: int = 1, maximum: int | None = None) -> Callable[[str], int]:
    """An argument type: a whole number in [minimum, maximum]."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(text)}") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"expected a number of at least {minimum}, got {_shown(text)}")
        if maximum is not None and n > maximum:
            raise argparse.ArgumentTypeError(f"expected a number of at most {maximum}, got {_shown(text)}")
        return n

    return parse


def finite_number(text: str) -> float:
    """An argument type: any finite number (``-0.2``, ``1e-3``)."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {_shown(text)}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {_shown(text)}")
    return x


def positive_number(text: str) -> float:
    """An argument type: a finite number greater than 0."""
    x = finite_number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {_shown(text)}")
    return x


MAX_LAYER_SIZE = 1000  # neurons per hidden layer: plenty for a scalar engine


def layer_sizes(text: str) -> list[int]:
    """An argument type: hidden layer sizes such as ``16,16`` (or an empty text for none)."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,16, got {_shown(text)}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at least 1, got {_shown(text)}")
    if any(s > MAX_LAYER_SIZE for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be at most {MAX_LAYER_SIZE}, got {_shown(text)}")
    return sizes
