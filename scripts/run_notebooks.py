"""Re-execute every notebook in ``notebooks/`` in place, storing its outputs.

    python scripts/run_notebooks.py              # all of them
    python scripts/run_notebooks.py notebooks/03_*.ipynb

Notebooks are stored with their outputs so they read well without running;
run this after editing one. Each must run top to bottom without an error.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path, timeout: int = 600) -> float:
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nbformat.write(notebook, path)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    paths = [Path(p) for p in argv] or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    for path in paths:
        seconds = execute(path)
        print(f"{path.name}: ran in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
