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
``MAX_FILE_BYTES``, counts the JSON objects, lists and commas in the raw text
before parsing it (``check_json_size``: a model file has a handful of
containers and about one value per weight), and checks that the config
describes exactly as many parameters as the file stores, and at most
``MAX_PARAMETERS``, before it builds anything. Every problem is a
``ValueError`` that says what is wrong, running out of memory included.

Saving writes a temporary file with a short unpredictable name next to the
target (created exclusively, so nothing planted under that name is followed),
then renames it over the target: a crash never leaves a half-written model. A
symbolic link is written through to the file it points to, and an existing
file keeps its permissions. A save that fails raises one ``ValueError`` naming
the file the caller gave.

``MODULE_TYPES`` lists the module classes a file may name; a class joins it
with ``class MyModel(nn.Module, saveable=True)``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import secrets
import stat
from typing import TYPE_CHECKING

from .checks import shorten

if TYPE_CHECKING:
    from .module import Module

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_FILE_BYTES",
    "MAX_PARAMETERS",
    "MAX_JSON_CONTAINERS",
    "MAX_JSON_VALUES",
    "check_json_size",
    "parse_json",
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
MAX_PARAMETERS = 1_000_000  # far beyond what a scalar engine trains (a 1M-weight model takes ~600 MB to load)
# A saved weight takes about 53 bytes ('  "layers.0.neurons.998.w.999": -0.031631417859574524,\n');
# 64 per weight leaves room for longer names and numbers.
MAX_FILE_BYTES = 64 * MAX_PARAMETERS
MAX_JSON_CONTAINERS = 10_000  # objects and lists in a model file: the document, config, state dict, a few lists
MAX_JSON_VALUES = MAX_PARAMETERS + 100_000  # commas: one per weight, plus config lists such as layer widths

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
    """Replace the regular file at ``path`` (or the file a symlink there points to) with ``data``, atomically.

    Whatever stops the write (a missing folder, a device, a pipe, a full disk,
    no permission) raises one ``ValueError`` that names ``path`` as given, never
    the temporary file; the old file, if any, is left as it was.
    """
    given = os.fspath(path)
    shown = shorten(given, 200)
    try:
        existing: os.stat_result | None = os.stat(given)  # follows links, /proc/self/fd/0 to its pipe included
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise ValueError(f"cannot write {shown!r}: {error.strerror or error}") from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        raise ValueError(f"cannot write {shown!r}: it is {_kind_of(existing.st_mode)}, not a regular file")
    target = os.path.realpath(given)  # through symlinks, to the file they name
    try:
        _replace_file(target, data, existing)
    except OSError as error:
        raise ValueError(f"cannot write {shown!r}: {_write_problem(error, given, target)}") from None


_TMP_NAME_CHARS = 32  # of the target's name kept in the temporary name, which must stay a legal name itself


def _replace_file(target: str, data: bytes, existing: os.stat_result | None) -> None:
    """Write ``data`` to a new temporary file in ``target``'s folder, then rename it over ``target``."""
    folder, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):  # a random name that nobody can prepare in advance; O_EXCL never reuses one
        tmp = os.path.join(folder, f".{name[:_TMP_NAME_CHARS]}.{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)  # the umask applies, as for any new file
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no unused temporary name could be found in its folder")
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


def _write_problem(error: OSError, given: str, target: str) -> str:
    """Why a write failed, in words about the file the caller named."""
    folder = os.path.dirname(target) or "."
    if os.path.islink(given):
        link = f"it is a symbolic link to {shorten(target, 120)!r}"
        if isinstance(error, FileNotFoundError) and not os.path.isdir(folder):
            return f"{link}, whose folder does not exist"
        return f"{link}, which cannot be written: {_write_problem(error, target, target)}"
    if isinstance(error, FileNotFoundError):
        if not os.path.isdir(folder):
            return f"the folder {shorten(os.path.dirname(given) or '.', 120)!r} does not exist"
        return f"no new file can be created in the folder {shorten(folder, 120)!r}"
    if isinstance(error, PermissionError):
        return f"permission denied in the folder {shorten(folder, 120)!r}"
    return str(error.strerror or error)


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
        want = min(opened.st_size + 1, limit + 1)  # usually the whole file in one read, so it is held once
        while size <= limit:
            chunk = os.read(fd, max(want - size, min(1 << 20, limit + 1 - size)))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise ValueError(f"{name!r} is larger than {limit:,} bytes, the most a model file may be")
    return b"".join(chunks)


def check_json_size(
    text: str | bytes, what: str = "a model file", max_containers: int | None = None, max_values: int | None = None
) -> None:
    """Refuse, before parsing, a JSON text with more objects and lists or more values than ``what`` holds.

    Parsing builds a Python object for every value, so a small file of many
    tiny ones (``[{}, {}, ...]``) costs far more memory than its size. Counting
    ``{``, ``[`` and ``,`` bounds that in one fast pass over the text (a count
    that includes the same characters inside strings only errs towards refusing).
    Defaults: ``MAX_JSON_CONTAINERS`` and ``MAX_JSON_VALUES``.
    """
    max_containers = MAX_JSON_CONTAINERS if max_containers is None else max_containers
    max_values = MAX_JSON_VALUES if max_values is None else max_values
    brace, bracket, comma = ("{", "[", ",") if isinstance(text, str) else (b"{", b"[", b",")
    containers = text.count(brace) + text.count(bracket)  # type: ignore[arg-type]
    if containers > max_containers:
        raise ValueError(f"it holds {containers:,} JSON objects and lists; {what} has at most {max_containers:,}")
    values = text.count(comma)  # type: ignore[arg-type]
    if values > max_values:
        raise ValueError(f"it holds about {values:,} JSON values; {what} has at most {max_values:,}")


def parse_json(
    text: str | bytes, what: str = "a model file", max_containers: int | None = None, max_values: int | None = None
) -> object:
    """``json.loads(text)`` after ``check_json_size``; every failure is a ``ValueError`` saying why.

    Too many values, too deep nesting, invalid JSON or UTF-8, an integer over
    Python's digit limit and running out of memory all become ``ValueError``.
    """
    check_json_size(text, what, max_containers, max_values)
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("its JSON is nested too deeply") from None
    except MemoryError:
        raise ValueError(f"it is too large to read as {what}: ran out of memory") from None
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError, and ints over Python's digit limit
        raise ValueError(f"it is not valid JSON, perhaps truncated or corrupt ({shorten(str(error), 120)})") from None


def read_model(path: str | os.PathLike[str], expected: type[Module] | None = None) -> Module:
    """Rebuild the model saved at ``path`` (``Module.load`` calls this).

    ``expected`` is the class the caller asked for (``MLP.load``), or ``None``
    for any saveable type. Returns the model in training mode, as PyTorch's
    ``load_state_dict`` leaves it: call ``model.eval()`` or use
    ``with model.evaluating():`` to predict. A missing or unreadable file
    raises ``OSError``; everything else wrong raises ``ValueError``.
    """
    name = os.fspath(path)
    raw = read_file(name)
    try:
        return _build_model(name, raw, expected)
    except MemoryError:  # a file within every limit that still does not fit in this machine's memory
        raise ValueError(f"{name!r} is too large to load: the computer ran out of memory") from None


def _build_model(name: str, raw: bytes, expected: type[Module] | None) -> Module:
    """The model a model file's bytes describe, every size checked before it is built."""
    where = f"{name!r} is not a chainrule model file"
    try:
        document = parse_json(raw)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
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
