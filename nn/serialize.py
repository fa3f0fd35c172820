"""Saving and loading models as JSON files.

A model file is one JSON object::

    {"format": "chainrule-model", "version": 1, "type": "MLP",
     "config": {"nin": 2, "nouts": [16, 16, 1], ...},
     "state_dict": {"layers.0.neurons.0.w.0": 0.23, ...}}

``config`` holds the constructor arguments that rebuild the architecture and
``state_dict`` one number per parameter. The file is strict JSON: a weight
that is not finite is written as the string ``"nan"``, ``"inf"`` or ``"-inf"``
(and read back as that float), never as a bare ``NaN``/``Infinity`` token.
Files are never pickled, so loading one runs no code from it.

Loading treats the file as untrusted. It refuses what is not a regular file
(a folder, a FIFO, a device) without waiting on it, reads at most
``MAX_FILE_BYTES``, and checks that the config describes exactly as many
parameters as the file stores, and at most ``MAX_PARAMETERS``, before it
builds anything. Every problem is a ``ValueError`` that says what is wrong.

Saving writes a temporary file with an unpredictable name next to the target
(created exclusively, so nothing planted under that name is followed), then
renames it over the target: a crash never leaves a half-written model. A
symbolic link is written through to the file it points to, and an existing
file keeps its permissions.

``MODULE_TYPES`` lists the module classes a file may name; a class joins it
with ``class MyModel(nn.Module, saveable=True)``.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
from typing import TYPE_CHECKING

from ._checks import shorten

if TYPE_CHECKING:
    from .module import Module

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "MAX_PARAMETERS",
    "MODULE_TYPES",
    "register_module_type",
    "save_model",
    "read_model",
    "load_model",
    "write_file",
    "read_file",
    "encode_number",
    "decode_number",
]

FORMAT = "chainrule-model"  # marker written into every saved model
FORMAT_VERSION = 1
MAX_FILE_BYTES = 100 * 1024 * 1024  # 100 MB: several million weights
MAX_PARAMETERS = 10_000_000  # far beyond what a scalar engine trains, far below what exhausts memory

MODULE_TYPES: dict[str, type[Module]] = {}  # class name -> class, for the "type" field

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def register_module_type(cls: type[Module]) -> None:
    """Let files name ``cls`` (by its class name). ``Module`` calls this for ``saveable=True`` subclasses."""
    known = MODULE_TYPES.get(cls.__name__)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
        raise TypeError(
            f"a saveable module class named {cls.__name__!r} already exists ({known.__module__}.{known.__qualname__}); "
            "model files name their class, so give yours another name"
        )
    MODULE_TYPES[cls.__name__] = cls  # the same class defined again (a notebook cell run twice) replaces it


# ---- numbers in strict JSON ---------------------------------------------------
def encode_number(x: float) -> float | str:
    """A weight as strict JSON: the float itself, or ``"nan"``, ``"inf"``, ``"-inf"``."""
    if math.isfinite(x):
        return x
    return "nan" if x != x else ("inf" if x > 0 else "-inf")


def decode_number(x: object) -> object:
    """The inverse of ``encode_number``; anything else is returned unchanged (and checked later)."""
    if isinstance(x, str) and x in _NON_FINITE:
        return _NON_FINITE[x]
    return x


# ---- saving -------------------------------------------------------------------
def save_model(model: Module, path: str | os.PathLike[str]) -> None:
    """Write ``model``'s type, config and weights to ``path`` (see the module docstring)."""
    kind = type(model).__name__
    if MODULE_TYPES.get(kind) is not type(model):
        raise ValueError(
            f"{kind} cannot be saved with save(): Module.load would not know the class. "
            "Save its weights with json.dump(model.state_dict(), file) and rebuild it in code, "
            f"or declare it class {kind}(nn.Module, saveable=True) with a config() method."
        )
    document = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "type": kind,
        "config": model.config(),
        "state_dict": {name: encode_number(x) for name, x in model.state_dict().items()},
    }
    try:
        text = json.dumps(document, indent=1, allow_nan=False)
    except ValueError as error:  # a non-finite number in config()
        raise ValueError(f"cannot save {kind}: its config {shorten(repr(document['config']))} is not strict JSON ({error})") from None
    write_file(path, text.encode("utf-8"))


def write_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace the regular file at ``path`` (or the file a symlink there points to) with ``data``, atomically."""
    target = os.path.realpath(os.fspath(path))  # through symlinks, to the file they name
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise ValueError(f"cannot write {os.fspath(path)!r}: it is {_kind_of(existing.st_mode)}, not a regular file")
    folder, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):  # a random name that nobody can prepare in advance; O_EXCL never reuses one
        tmp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"cannot create a temporary file next to {target!r}")
    try:
        try:
            if existing is not None:
                _copy_permissions(fd, tmp, existing)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException:  # including KeyboardInterrupt: never leave the temporary file behind
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _copy_permissions(fd: int, tmp: str, existing: os.stat_result) -> None:
    """Give the new file the old one's permission bits (and owner, where allowed)."""
    mode = stat.S_IMODE(existing.st_mode)
    if os.chmod in os.supports_fd:
        os.chmod(fd, mode)
    else:  # Windows: only the read-only bit exists
        os.chmod(tmp, mode)
    if hasattr(os, "fchown"):
        try:
            os.fchown(fd, existing.st_uid, existing.st_gid)
        except OSError:
            pass  # only root may give a file away; the permission bits are what matter


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


# ---- loading ------------------------------------------------------------------
def read_file(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them (default ``MAX_FILE_BYTES``).

    A folder, FIFO or device is refused before it is read, and opening never
    waits on a FIFO (``O_NONBLOCK``), so this returns quickly whatever ``path`` is.
    Missing or unreadable files raise the usual ``OSError``.
    """
    name = os.fspath(path)
    limit = MAX_FILE_BYTES if limit is None else limit
    before = os.stat(name)
    if not stat.S_ISREG(before.st_mode):
        raise ValueError(f"{name!r} is {_kind_of(before.st_mode)}, not a model file")
    if before.st_size > limit:
        raise ValueError(f"{name!r} is {before.st_size:,} bytes; a model file may be at most {limit:,} bytes")
    fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        opened = os.fstat(fd)  # what was opened, in case the path changed since the check
        if not stat.S_ISREG(opened.st_mode):
            raise ValueError(f"{name!r} is {_kind_of(opened.st_mode)}, not a model file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise ValueError(f"{name!r} is larger than {limit:,} bytes, the most a model file may be")
    return b"".join(chunks)


def read_model(path: str | os.PathLike[str], expected: type[Module] | None = None) -> Module:
    """Rebuild the model saved at ``path`` (``Module.load`` calls this).

    ``expected`` is the class the caller asked for (``MLP.load``), or ``None``
    for any saveable type. Returns the model in training mode, as PyTorch's
    ``load_state_dict`` leaves it: call ``model.eval()`` or use
    ``with model.evaluating():`` to predict. A missing or unreadable file
    raises ``OSError``; everything else wrong raises ``ValueError``.
    """
    name = os.fspath(path)
    where = f"{name!r} is not a chainrule model file"
    raw = read_file(name)
    try:
        document = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError(f"{where}: its JSON is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError, and ints over Python's digit limit
        raise ValueError(f"{where}: it is not valid JSON, perhaps truncated or corrupt ({shorten(str(error), 120)})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"{where}: it has no \"format\": \"{FORMAT}\" marker")
    version = document.get("version")
    if type(version) is not int or version != FORMAT_VERSION:  # not True, not 1.0
        raise ValueError(
            f"{name!r} has model format version {shorten(repr(version), 40)}; this chainrule reads version {FORMAT_VERSION}"
        )
    kind, config, state = document.get("type"), document.get("config"), document.get("state_dict")
    if not isinstance(config, dict) or not isinstance(state, dict):
        raise ValueError(f"{where}: \"config\" and \"state_dict\" must both be JSON objects")
    module_class = MODULE_TYPES.get(kind) if isinstance(kind, str) else None
    if module_class is None or (expected is not None and module_class is not expected):
        wanted = expected.__name__ if expected is not None else "one of " + ", ".join(MODULE_TYPES)
        raise ValueError(f"{name!r} holds a model of type {shorten(repr(kind), 60)}, expected {wanted}")
    described = f"its config {shorten(repr(config), 200)}"
    try:
        count = module_class.count_parameters(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name!r}: {described} cannot build a {kind} ({shorten(str(error))})") from None
    if count is not None:  # checked before anything is built
        if count > MAX_PARAMETERS:
            raise ValueError(f"{name!r}: {described} describes {count:,} parameters, more than the {MAX_PARAMETERS:,} a file may hold")
        if count != len(state):
            raise ValueError(
                f"{name!r}: the saved weights do not fit its architecture: {described} has {count:,} parameters "
                f"but the file stores {len(state):,} weight{'' if len(state) == 1 else 's'}"
            )
    try:
        model = module_class.from_config(config)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name!r}: {described} cannot build a {kind} ({shorten(str(error))})") from None
    try:
        model.load_state_dict({key: decode_number(x) for key, x in state.items()})
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name!r}: the saved weights do not fit its architecture: {error}") from None
    return model


def load_model(path: str | os.PathLike[str]) -> Module:
    """``read_model(path)`` for programs that report one line: every failure is a ``ValueError``.

    A missing, unreadable or otherwise unopenable file becomes a ``ValueError``
    too ("cannot read model.json: no such file"), so a command-line tool can
    catch one exception type, print it and exit.
    """
    name = os.fspath(path)
    try:
        return read_model(name)
    except FileNotFoundError:
        raise ValueError(f"cannot read {name}: no such file") from None
    except PermissionError:
        raise ValueError(f"cannot read {name}: permission denied") from None
    except OSError as error:
        raise ValueError(f"cannot read {name}: {error.strerror or error}") from None
