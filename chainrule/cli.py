"""The ``chainrule`` command: ``demo``, ``graph``, ``train`` and ``predict``.

Each command lives in ``chainrule/commands/<command>.py`` with its parser
(``add_<command>_parser``) and its work (``cmd_<command>``). Bad input prints
one line on stderr and exits with status 2; there is never a traceback. When
the reader of the output goes away (``chainrule ... | head``), the command
stops quietly.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn

try:  # first: another package named autograd would make every import below fail obscurely
    import nn  # noqa: F401
except ImportError as error:
    if "not chainrule's" not in str(error) and "needs chainrule's" not in str(error):
        raise
    sys.stderr.write(f"chainrule: {error}\n")
    sys.exit(2)

from nn.checks import shorten

from . import __version__
from .commands.base import EXIT_USAGE, UsageError, formatter
from .commands.demo import add_demo_parser
from .commands.graph import add_graph_parser
from .commands.predict import add_predict_parser
from .commands.train import add_train_parser

__all__ = ["main", "build_parser", "UsageError", "EXIT_USAGE"]

EXIT_BROKEN_PIPE = 128 + getattr(signal, "SIGPIPE", 13)  # what a shell reports for a command stopped by SIGPIPE
MAX_ERROR = 300  # characters of an error line


class _Parser(argparse.ArgumentParser):
    """argparse, but every error is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        hint = f" (see '{self.prog} --help')"
        if "unrecognized arguments: -" in message:
            hint = " (an expression starting with '-' goes after '--': chainrule graph -- \"-x*y\" x=1 y=2)"
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)}{hint}\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``chainrule`` parser with one sub-parser per command."""
    parser = _Parser(
        prog="chainrule",
        description="chainrule: a tiny autograd engine for learning how neural networks learn.",
        formatter_class=formatter,
        epilog="examples:\n  chainrule demo\n  chainrule graph \"tanh(x*w + b)\" x=2 w=-3 b=6.88\n"
        "  chainrule train --data xor --seed 0\n  chainrule predict model.json 0.5 -0.2",
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add_demo_parser(sub)
    add_graph_parser(sub)
    add_train_parser(sub)
    add_predict_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``chainrule`` with ``argv`` (default: the command line); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, --version and argparse's usage errors
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    prog = f"chainrule {args.command}"
    try:
        status = args.func(args)
        sys.stdout.flush()  # a closed pipe shows up here when the output was buffered
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except UsageError as err:
        _error(f"{prog}: error: {_one_line(str(err))}")
    except (ValueError, TypeError, OSError, OverflowError, RecursionError) as err:
        _error(f"{prog}: error: {_one_line(str(err)) or type(err).__name__}")
    except KeyboardInterrupt:
        _error(f"{prog}: interrupted")
        return 130
    except Exception as err:  # a bug of ours: still one line, but a distinct status
        _error(f"{prog}: internal error: {type(err).__name__}: {_one_line(str(err))}")
        return 1
    return EXIT_USAGE


def _one_line(text: str) -> str:
    """The first line of an error message, capped in length."""
    lines = text.strip().splitlines()
    return shorten(lines[0], MAX_ERROR) if lines else ""


def _error(line: str) -> None:
    try:
        print(line, file=sys.stderr)
    except OSError:  # nowhere to report to
        pass


def _silence_stdout() -> None:
    """Point stdout at the null device, so Python's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (e.g. captured in a test)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
