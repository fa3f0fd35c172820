"""Run a teaching notebook the way a learner meets it, and read what its cells print.

The conventions these tools rely on are listed at the top of
``tests/test_notebooks.py``. In short: a code cell tagged ``exercise`` is
where the learner answers; the ``check`` cell after it prints one verdict
line starting with ``SUCCESS``, ``NOT_YET`` or ``WRONG``; the ``solution``
cell (collapsed, stored without outputs) holds the answer; a ``verify`` cell
compares the numbers the prose quotes with the computed ones, printing one
``QUOTE_OK`` or ``QUOTE_DIFFERS`` line per number.

A notebook runs in one of three *modes*:

* ``"as stored"``: solution cells removed, so every exercise keeps its blank
  skeleton (the learner's first run);
* ``"with solutions"``: solution cells removed and each solution's code
  placed into its exercise cell (a learner who got everything right);
* ``"wrong types"``: each exercise cell binds the names its solution defines
  to a string, and the solution's own code runs right after the check, so
  the next exercise starts from a working answer (a learner who typed
  something of the wrong kind: the check must answer, never raise).

Only the standard library, ``nbformat``, ``nbclient`` (installed with
``nbmake``) and IPython's input transformer are used. ``python
tests/notebook_tools.py notebooks/00_*.ipynb`` re-executes notebooks in place
as stored: solution cells are not run and are stored without outputs.
"""

from __future__ import annotations

import ast
import copy
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

EXERCISE, CHECK, SOLUTION, VERIFY = "exercise", "check", "solution", "verify"
ROLES = (EXERCISE, CHECK, SOLUTION, VERIFY)

# What a check cell's verdict line starts with.
SUCCESS = "✅"
NOT_YET = "⏳"
WRONG = "❌"
# What a verify cell prints for each quoted number.
QUOTE_OK = "✔"
QUOTE_DIFFERS = "✘"

MODES = ("as stored", "with solutions", "wrong types")
WRONG_ANSWER = "'not an answer'"  # what "wrong types" binds each answer name to

DRAWS_GRAPHS = re.compile(r"\bdraw_\w+\(|backward_frames|backward_viewer|\.render\(|\bplayground\(")


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def role(cell: dict) -> str | None:
    """``exercise``, ``check``, ``solution``, ``verify``, or None for a lesson cell."""
    found = [tag for tag in cell.get("metadata", {}).get("tags", []) if tag in ROLES]
    return found[0] if found else None


def source(cell: dict) -> str:
    text = cell["source"]
    return text if isinstance(text, str) else "".join(text)


def cells_with(notebook: dict, wanted: str) -> list[int]:
    """Positions of the code cells that play ``wanted`` (a role, or ``"lesson"``)."""
    return [
        i
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code" and (role(cell) or "lesson") == wanted
    ]


def exercises(notebook: dict) -> list[tuple[int, int, int]]:
    """``(exercise, check, solution)`` positions, the k-th of each role belonging together."""
    return list(
        zip(cells_with(notebook, EXERCISE), cells_with(notebook, CHECK), cells_with(notebook, SOLUTION))
    )


def draws_graphs(path: Path) -> bool:
    """Whether a notebook renders with Graphviz's ``dot`` program."""
    notebook = read(path)
    return any(DRAWS_GRAPHS.search(source(c)) for c in notebook["cells"] if c["cell_type"] == "code")


def python_of(cell_source: str) -> ast.Module | None:
    """The cell's code as Python (IPython's ``%magics`` and ``!shell`` lines translated), or None."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return ast.parse(TransformerManager().transform_cell(cell_source))
    except SyntaxError:
        return None


def bound_names(cell_source: str) -> list[str]:
    """The names a cell binds at its top level (assignments, ``def``, ``class``, imports)."""
    tree = python_of(cell_source)
    names: list[str] = []
    for statement in tree.body if tree else ():
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(statement.name)
        elif isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = list(statement.targets) if isinstance(statement, ast.Assign) else [statement.target]
            while targets:
                target = targets.pop(0)
                if isinstance(target, ast.Name):
                    names.append(target.id)
                elif isinstance(target, (ast.Tuple, ast.List)):
                    targets.extend(target.elts)
                elif isinstance(target, ast.Starred):
                    targets.append(target.value)
                # an attribute or item (Value.tanh = ...) binds no name
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names.extend((alias.asname or alias.name).split(".")[0] for alias in statement.names)
    return list(dict.fromkeys(names))


def convention_problems(notebook: dict) -> list[str]:
    """Everything that breaks the exercise conventions, one readable line each (empty if none)."""
    problems = []
    cells = notebook["cells"]
    for i, cell in enumerate(cells):
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t in ROLES]
        if len(tags) > 1:
            problems.append(f"cell {i} has more than one of the tags {ROLES}: {tags}")
        if tags and cell["cell_type"] != "code":
            problems.append(f"cell {i} is tagged {tags[0]!r} but is a {cell['cell_type']} cell")
    ex, ch, so = (cells_with(notebook, r) for r in (EXERCISE, CHECK, SOLUTION))
    if len(ex) < 3:
        problems.append(f"a lesson ends with at least three exercises; this one has {len(ex)}")
    if not len(ex) == len(ch) == len(so):
        problems.append(
            f"each exercise needs one check and one solution: {len(ex)} exercises, "
            f"{len(ch)} checks, {len(so)} solutions"
        )
    for k, (e, c, s) in enumerate(zip(ex, ch, so), start=1):
        following = ex[k] if k < len(ex) else len(cells)
        if not e < c < following:
            problems.append(
                f"exercise {k} (cell {e}): its check (cell {c}) must come after it, before the next exercise"
            )
        if not e < s < following:
            problems.append(
                f"exercise {k} (cell {e}): its solution (cell {s}) must come after it, "
                f"before the next exercise"
            )
    for e, s in zip(ex, so):
        if source(cells[e]).strip() == source(cells[s]).strip():
            problems.append(f"exercise cell {e} already holds its solution: store the blank skeleton")
    for i in so:
        cell = cells[i]
        if cell.get("outputs"):
            problems.append(
                f"solution cell {i} has stored outputs: store it without (they give the answer away)"
            )
        if cell.get("execution_count") is not None:
            problems.append(f"solution cell {i} has an execution count: store it unexecuted")
        if not cell.get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            problems.append(f"solution cell {i} is not collapsed: set metadata.jupyter.source_hidden = true")
    for i in cells_with(notebook, VERIFY):
        if not cells[i].get("metadata", {}).get("jupyter", {}).get("source_hidden"):
            problems.append(f"verify cell {i} is not collapsed: set metadata.jupyter.source_hidden = true")
    for i in cells_with(notebook, "lesson"):
        tree = python_of(source(cells[i]))
        if tree is None:
            problems.append(f"lesson cell {i} is not valid Python")
        elif any(isinstance(node, ast.Assert) for node in ast.walk(tree)):
            problems.append(
                f"lesson cell {i} asserts: a learner who changes a number would get an "
                f"AssertionError; move the check into a verify cell"
            )
    return problems


def _code_cell(text: str, tag: str | None = None) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(text)
    if tag:
        cell.metadata["tags"] = [tag]
    return cell


def prepare(notebook: dict, mode: str) -> nbformat.NotebookNode:
    """A copy of ``notebook`` set up to run in ``mode`` (one of ``MODES``)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    prepared = copy.deepcopy(notebook)
    cells = prepared["cells"]
    if mode == "with solutions":
        for e, _, s in exercises(prepared):
            cells[e]["source"] = cells[s]["source"]
    elif mode == "wrong types":
        for e, c, s in reversed(exercises(prepared)):  # from the end, so positions stay valid
            solution = source(cells[s])
            names = bound_names(solution)
            cells[e]["source"] = "\n".join(f"{name} = {WRONG_ANSWER}" for name in names) or "pass"
            cells.insert(c + 1, _code_cell(solution, "restored solution"))
    prepared["cells"] = [cell for cell in cells if role(cell) != SOLUTION]
    return prepared


@dataclass(repr=False)
class Run:
    """A notebook executed in one mode: the executed cells, the error if one stopped it, the seconds."""

    path: Path
    mode: str
    notebook: nbformat.NotebookNode
    error: str | None
    seconds: float

    def __repr__(self) -> str:
        return f"Run({self.path.name!r}, {self.mode!r}, error={self.error is not None}, seconds={self.seconds:.1f})"

    def cells(self, wanted: str) -> list[tuple[int, str]]:
        """``(position, printed text)`` of each code cell playing ``wanted`` (a role or ``"lesson"``)."""
        return [(i, printed(self.notebook["cells"][i])) for i in cells_with(self.notebook, wanted)]


def execute(path: Path, mode: str, timeout: int = 300) -> Run:
    """Run the notebook at ``path`` in ``mode`` in a fresh kernel, from its own folder.

    In ``"wrong types"`` a cell may fail (a broken answer can break a demo)
    and the run goes on; otherwise the first error stops it and is reported.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = prepare(read(path), mode)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=mode == "wrong types",
        resources={"metadata": {"path": str(path.parent)}},
    )
    started = time.perf_counter()
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = ANSI.sub("", str(exc))
    return Run(path, mode, notebook, error, time.perf_counter() - started)


ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of IPython's tracebacks


def printed(cell: dict) -> str:
    """What a code cell showed: its streams, plain-text results and errors, as one text."""
    parts = []  # a stream may arrive in pieces, split anywhere: they are joined as they are
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            parts.append(source({"source": output.get("text", "")}))
        elif kind in ("execute_result", "display_data"):
            parts.append(source({"source": output.get("data", {}).get("text/plain", "")}) + "\n")
        elif kind == "error":
            parts.append(f"{output.get('ename')}: {output.get('evalue')}\n")
    return "".join(parts)


def text_outputs(cell: dict) -> str:
    """What a cell printed to stdout and its plain-text results, addresses masked: what must not go stale.

    Standard error (progress bars, timings, warnings) and pictures are left out.
    """
    kept = [
        o
        for o in cell.get("outputs", [])
        if o.get("output_type") in ("execute_result", "display_data")
        or (o.get("output_type") == "stream" and o.get("name") == "stdout")
    ]
    return ADDRESS.sub(" at 0x…", printed({"outputs": kept}))


def stale_outputs(stored: dict, run: Run) -> list[str]:
    """Code cells whose stored text differs from what running the notebook as stored prints now."""
    problems = []
    ran = iter(run.notebook["cells"])
    for i, before in enumerate(stored["cells"]):
        if role(before) == SOLUTION:
            continue
        now = next(ran)
        if before["cell_type"] == "code" and text_outputs(before) != text_outputs(now):
            problems.append(
                f"cell {i} stored {text_outputs(before)[:200]!r}, now prints {text_outputs(now)[:200]!r}"
            )
    return problems


def verdict_problems(run: Run, expected: str) -> list[str]:
    """Each check cell whose verdict is not ``expected`` (for ``NOT_YET``, ``WRONG`` counts as fine)."""
    allowed = {SUCCESS: {SUCCESS}, NOT_YET: {NOT_YET}, WRONG: {WRONG, NOT_YET}}[expected]
    problems = []
    for i, text in run.cells(CHECK):
        cell = run.notebook["cells"][i]
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            problems.append(f"check cell {i} raised instead of answering: {text.splitlines()[-1]}")
            continue
        verdicts = {marker for marker in (SUCCESS, NOT_YET, WRONG) if marker in text}
        if not verdicts:
            problems.append(f"check cell {i} printed no verdict ({SUCCESS}, {NOT_YET} or {WRONG}): {text!r}")
        elif not verdicts <= allowed:
            problems.append(f"check cell {i} should say {expected} but printed: {text.strip()!r}")
    return problems


QUOTE_LINE = re.compile(rf"^{QUOTE_OK} quoted (?P<text>\S+) ")


def quote_problems(run: Run) -> list[str]:
    """Verify cells that found a quoted number differing from the computed one, or quoting nothing.

    Each number a verify cell checks must appear in a markdown cell above it,
    after the previous verify cell: the prose it vouches for.
    """
    problems = []
    cells = run.notebook["cells"]
    since = 0
    for i, text in run.cells(VERIFY):
        prose = "\n".join(source(c) for c in cells[since:i] if c["cell_type"] == "markdown")
        since = i + 1
        lines = [line for line in text.splitlines() if line.strip()]
        if not lines:
            problems.append(f"verify cell {i} printed nothing")
        for line in lines:
            match = QUOTE_LINE.match(line)
            if not match:
                problems.append(f"verify cell {i}: {line}")
            elif match["text"] not in prose:
                problems.append(
                    f"verify cell {i} checks {match['text']}, which the prose above it does not say"
                )
    return problems


def store(path: Path) -> float:
    """Re-execute a notebook as stored and write it back; solution cells keep no outputs. Returns seconds."""
    original = read(path)
    run = execute(path, "as stored")
    if run.error:
        raise RuntimeError(f"{path.name} failed as stored:\n{run.error}")
    ran = iter(run.notebook["cells"])
    for cell in original["cells"]:
        if role(cell) == SOLUTION:
            cell["outputs"], cell["execution_count"] = [], None
            continue
        done = next(ran)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = done["outputs"], done["execution_count"]
            cell["metadata"]["execution"] = done["metadata"].get("execution", {})
    if "widgets" in run.notebook["metadata"]:
        original["metadata"]["widgets"] = run.notebook["metadata"]["widgets"]
    else:
        original["metadata"].pop("widgets", None)
    nbformat.write(original, path)
    return run.seconds


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{Path(name).name}: ran in {store(Path(name)):.1f} s")
