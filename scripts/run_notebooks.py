"""Re-execute every notebook in ``notebooks/`` in place, storing its outputs.

    python scripts/run_notebooks.py              # all of them
    python scripts/run_notebooks.py notebooks/03_*.ipynb
    python scripts/run_notebooks.py --check      # only check that what they need is installed

Notebooks are stored with their outputs so they read well without running;
run this after editing one. Each must run top to bottom without an error.

A notebook that misses an optional dependency (PyTorch, Graphviz's ``dot``,
matplotlib, ipywidgets) still runs, but prints that a part was skipped; those
outputs must never be stored. So before running anything, this script looks
at the code of the notebooks it was given and refuses, with one line naming
what is missing, when something they use is not installed.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Requirement:
    """Something a notebook may need: how to tell it is used, present, and how to install it."""

    name: str
    used: re.Pattern[str]  # searched in the notebook's code cells
    module: str | None  # an importable module, or None for a program
    program: str | None  # a program looked up on PATH
    install: str

    def present(self) -> bool:
        if self.program is not None:
            return shutil.which(self.program) is not None
        assert self.module is not None
        try:
            return importlib.util.find_spec(self.module) is not None
        except (ImportError, ValueError):
            return False


JUPYTER = "pip install 'chainrule[notebooks]'"
REQUIREMENTS = (
    # every notebook runs in a Jupyter kernel (the empty pattern matches any code)
    Requirement("Jupyter's nbclient", re.compile(r""), "nbclient", None, JUPYTER),
    Requirement("Jupyter's nbformat", re.compile(r""), "nbformat", None, JUPYTER),
    Requirement("the ipykernel kernel", re.compile(r""), "ipykernel", None, JUPYTER),
    Requirement("PyTorch", re.compile(r"torch"), "torch", None, "pip install torch"),
    Requirement(
        "Graphviz's 'dot' program",
        re.compile(r"\bdraw_\w+\(|backward_frames|backward_viewer|\.render\(|\bplayground\("),
        None,
        "dot",
        "sudo apt-get install graphviz, or brew install graphviz",
    ),
    Requirement(
        "matplotlib",
        re.compile(r"matplotlib|\bnn\.plot\b|\bplot_\w+\(|\bplayground\("),
        "matplotlib",
        None,
        JUPYTER,
    ),
    Requirement(
        "ipywidgets",
        re.compile(r"ipywidgets|\bplayground\(|backward_viewer|\binteract"),
        "ipywidgets",
        None,
        JUPYTER,
    ),
)


def code_of(path: Path) -> str:
    """The source of every code cell of a notebook, joined."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")


def missing_requirements(
    paths: list[Path], requirements: tuple[Requirement, ...] = REQUIREMENTS
) -> list[tuple[Requirement, list[Path]]]:
    """Each requirement that is not installed, with the notebooks among ``paths`` that use it."""
    codes = {path: code_of(path) for path in paths}
    missing = []
    for requirement in requirements:
        users = [path for path, code in codes.items() if requirement.used.search(code)]
        if users and not requirement.present():
            missing.append((requirement, users))
    return missing


def refusal(missing: list[tuple[Requirement, list[Path]]]) -> str:
    """One line saying what is missing, which notebooks need it, and how to install it."""
    parts = []
    for requirement, users in missing:
        names = ", ".join(path.name for path in users[:3]) + (f" and {len(users) - 3} more" if len(users) > 3 else "")
        verb = "needs" if len(users) == 1 else "need"
        parts.append(f"{requirement.name} is not installed ({requirement.install}); {names} {verb} it")
    return (
        "run_notebooks: not re-executing, the stored outputs would say that parts were skipped: "
        + "; ".join(parts)
    )


def execute(path: Path, timeout: int = 600) -> float:
    """Run a notebook top to bottom in a fresh kernel and write it back with its outputs; return the seconds."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    # Solutions are stored without outputs (and not run): the stored notebook shows blank answers.
    solutions = [(i, c) for i, c in enumerate(notebook.cells) if "solution" in c.metadata.get("tags", [])]
    notebook.cells = [c for c in notebook.cells if "solution" not in c.metadata.get("tags", [])]
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    for i, cell in solutions:
        cell.outputs, cell.execution_count = [], None
        notebook.cells.insert(i, cell)
    nbformat.write(notebook, path)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    paths = [Path(p) for p in argv if p != "--check"]
    paths = paths or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    missing = missing_requirements(paths)
    if missing:
        print(refusal(missing), file=sys.stderr)
        return 1
    if check_only:
        print(f"ready to run {len(paths)} notebook{'' if len(paths) == 1 else 's'}: everything they use is installed")
        return 0
    for path in paths:
        seconds = execute(path)
        print(f"{path.name}: ran in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
