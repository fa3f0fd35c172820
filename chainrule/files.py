"""The files the commands write and read, checked before any work starts.

Outputs are checked first (``check_output``: a folder, a device, a pipe or a
missing folder is refused in one line before training or drawing starts), then
written atomically by ``nn.serialize.write_file``: a fresh temporary file with
an unpredictable name, created exclusively, renamed over the target; a symlink
is written through, an existing file keeps its permissions, and nothing is left
behind when writing fails. Model files are read by ``nn.serialize.load_model``,
which refuses hostile files quickly with a ``ValueError``.

A model saved by ``chainrule train --save`` also records its classes (their
names, where the data set has them, and where one output splits class 0 from
class 1) under the key ``"classes"``, which ``Module.load`` ignores and
``chainrule predict`` reads.
"""

from __future__ import annotations

import io
import json
import math
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nn import serialize
from nn.checks import is_real, shorten

from .commands.base import UsageError

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
        if not path.parent.is_dir():
            raise UsageError(f"cannot write {_shown(path)}: the folder {_shown(path.parent)} does not exist") from None
        target = Path(os.path.realpath(path))  # a dangling symlink is written through to where it points
        if not target.parent.is_dir():
            raise UsageError(
                f"cannot write {_shown(path)}: it is a symbolic link to {_shown(target)}, whose folder does not exist"
            ) from None
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
    serialize.write_file(check_output(path), data)


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


def load_model(path: str | os.PathLike[str]) -> Any:
    """The model saved in ``path``, or a ``UsageError`` saying why it cannot be read."""
    try:
        return serialize.load_model(path)
    except ValueError as err:
        raise UsageError(shorten(" ".join(str(err).split()))) from None


CLASSES_KEY = "classes"


def save_classes(path: str | os.PathLike[str], names: Sequence[str] | None, threshold: float | None) -> None:
    """Record in the model file at ``path`` what its outputs mean (see the module docstring)."""
    document = serialize.parse_json(serialize.read_file(path))
    if not isinstance(document, dict):
        raise ValueError(f"cannot record the classes in {_shown(path)}: it no longer holds a model")
    document[CLASSES_KEY] = {"names": None if names is None else list(names), "threshold": threshold}
    serialize.write_file(path, json.dumps(document, indent=1, allow_nan=False).encode("utf-8"))


def read_classes(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The ``"classes"`` record of a model file ``load_model`` has read, or ``None`` without one."""
    try:
        record = serialize.parse_json(serialize.read_file(path)).get(CLASSES_KEY)  # type: ignore[attr-defined]
    except (OSError, ValueError, AttributeError):
        return None  # the file changed since it was loaded: predict without names
    if record is None:
        return None
    if not isinstance(record, dict):
        raise UsageError(f"{_shown(path)}: its \"{CLASSES_KEY}\" entry must be a JSON object")
    names, threshold = record.get("names"), record.get("threshold")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
        raise UsageError(f"{_shown(path)}: its \"{CLASSES_KEY}\" names must be a list of texts")
    if threshold is not None and not (is_real(threshold) and math.isfinite(threshold)):
        raise UsageError(f"{_shown(path)}: its \"{CLASSES_KEY}\" threshold must be a finite number")
    return {"names": names, "threshold": threshold}


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
