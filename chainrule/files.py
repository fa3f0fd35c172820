"""The files the commands write and read, checked before any work starts.

Every output is written atomically: the bytes go to a fresh temporary file
next to the target (created exclusively, with an unpredictable name, so a
file planted at that name is never followed), which then replaces the target
in one step. A symlink at the target is written through, the target keeps its
permissions, and nothing is left behind when writing fails. Directories,
devices, pipes and sockets are refused as targets.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

from nn._checks import shorten

from .commands.base import UsageError

MAX_MODEL_BYTES = 20 * 2**20  # a saved MLP with a million weights is about 30 bytes per weight

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}


def _shown(path: str | os.PathLike[str]) -> str:
    return shorten(os.fspath(path), 120)


def check_output(path: str | os.PathLike[str]) -> Path:
    """Raise ``UsageError`` unless ``path`` can be written as a regular file; return it as a Path."""
    if not os.fspath(path):
        raise UsageError("the output file name is empty")
    path = Path(path)
    try:
        info = os.stat(path)  # follows a symlink: a link to a regular file is written through
    except FileNotFoundError:
        folder = path.parent
        if not folder.is_dir():
            raise UsageError(f"cannot write {_shown(path)}: the folder {_shown(folder)} does not exist") from None
        return path
    except OSError as err:
        raise UsageError(f"cannot write {_shown(path)}: {err.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot write {_shown(path)}: it is a folder; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"cannot write {_shown(path)}: it is a device, a pipe or a socket, not a regular file")
    return path


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` all at once or not at all (see the module docstring)."""
    check_output(path)
    target = os.path.realpath(path)  # through a symlink: the link stays, its target gets the bytes
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mode_for(target: str) -> int:
    """The permissions a written file gets: the old file's, or the usual ones for a new file."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def graph_format(output: str | os.PathLike[str]) -> str:
    """The Graphviz format an output file name asks for, from its extension."""
    suffix = Path(output).suffix.lower()
    if suffix not in _FORMATS:
        raise UsageError(
            f"cannot tell the format of {_shown(output)!r}: use a .svg, .png, .pdf or .dot file name"
        )
    return _FORMATS[suffix]


def write_graph(graph: Any, path: Path) -> Path:
    """Render ``graph`` into ``path`` (format from the extension) and return the file written.

    Without Graphviz's ``dot`` program, the DOT source goes to ``path`` with a
    ``.dot`` extension instead, and a line on stderr says how to install Graphviz.
    """
    from autograd import GraphvizNotFoundError

    fmt = graph_format(path)
    if fmt == "dot":
        atomic_write(path, graph.source.encode("utf-8"))
        return path
    try:
        data = graph.pipe(format=fmt)
    except GraphvizNotFoundError:
        fallback = path.with_suffix(".dot")
        atomic_write(fallback, graph.source.encode("utf-8"))
        print(
            f"wrote {fallback} instead of {path}: drawing needs Graphviz's 'dot' program "
            "(Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz)",
            file=sys.stderr,
        )
        return fallback
    atomic_write(path, data)
    return path


def check_model_file(path: str | os.PathLike[str]) -> None:
    """Raise ``UsageError`` unless ``path`` is a regular file of a sane size (it is not opened)."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"cannot read {_shown(path)}: no such file") from None
    except OSError as err:
        raise UsageError(f"cannot read {_shown(path)}: {err.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise UsageError(f"cannot read {_shown(path)}: it is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(f"cannot read {_shown(path)}: it is a device, a pipe or a socket, not a model file")
    if info.st_size > MAX_MODEL_BYTES:
        raise UsageError(
            f"cannot read {_shown(path)}: {info.st_size} bytes is more than a model file holds "
            f"(the limit is {MAX_MODEL_BYTES})"
        )


def load_model(path: str | os.PathLike[str]) -> Any:
    """The model saved in ``path``, or a ``UsageError`` saying why it cannot be read."""
    import nn

    check_model_file(path)
    try:
        return nn.Module.load(path)
    except PermissionError:
        raise UsageError(f"cannot read {_shown(path)}: permission denied") from None
    except OSError as err:
        raise UsageError(f"cannot read {_shown(path)}: {err.strerror or err}") from None
    except RecursionError:
        raise UsageError(f"{_shown(path)} is not a chainrule model file: it is nested too deeply") from None
    except OverflowError:
        raise UsageError(f"{_shown(path)} holds a number too large for a float") from None
    except (ValueError, TypeError) as err:
        raise UsageError(shorten(" ".join(str(err).split()) or type(err).__name__)) from None


def check_folder_outputs(folder: str | os.PathLike[str], names: list[str]) -> Path:
    """Raise ``UsageError`` unless ``folder`` is (or can become) a folder where ``names`` can be written."""
    folder = Path(folder)
    if not os.fspath(folder):
        raise UsageError("the output folder name is empty")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"cannot write into {_shown(folder)}: it is a file, not a folder")
    if folder.is_dir():
        for name in names:
            check_output(folder / name)
    return folder


def save_figure(fig: Any, path: Path, dpi: int = 100) -> None:
    """A matplotlib figure as a PNG file, written atomically."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    atomic_write(path, buffer.getvalue())
