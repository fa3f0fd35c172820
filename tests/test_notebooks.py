"""The stored notebooks: complete, executed, error-free, with checked exercises.

(Executing them top to bottom is pytest's job through nbmake: see pyproject.toml.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_series_is_complete():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[:9] == list(range(1, 10)), [p.name for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_has_outputs_and_no_errors(path):
    notebook = json.loads(path.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code, "no code cells"
    unexecuted = [c for c in code if c["source"] and c.get("execution_count") is None]
    assert not unexecuted, f"{len(unexecuted)} code cells were never run: run scripts/run_notebooks.py"
    assert any(c["outputs"] for c in code), "no stored outputs: run scripts/run_notebooks.py"
    errors = [o for c in code for o in c["outputs"] if o.get("output_type") == "error"]
    assert not errors, f"stored outputs contain an error: {errors[0].get('ename')}"
    counts = [c["execution_count"] for c in code if c["source"]]
    assert counts == sorted(counts), "cells were run out of order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_a_lesson_with_checked_exercises(path):
    notebook = json.loads(path.read_text())
    cells = notebook["cells"]
    first = "".join(cells[0]["source"])
    assert cells[0]["cell_type"] == "markdown" and "goal" in first.lower(), "state the goal at the top"
    text = "".join("".join(c["source"]) for c in cells)
    assert "Exercise" in text
    checks = [c for c in cells if c["cell_type"] == "code" and "assert" in "".join(c["source"])]
    assert len(checks) >= 2, "exercises need check cells with assertions"
