"""The teaching notebooks: complete, executed, and true to their own conventions.

Every notebook in ``notebooks/`` runs top to bottom in a fresh kernel here
(``test_run_as_stored``); pytest does not need ``--nbmake``. The helpers live
in ``tests/notebook_tools.py``.

Conventions of a lesson (a notebook listed in ``CONVERTED`` below)
------------------------------------------------------------------
Roles are cell tags (cell metadata ``"tags"``); a code cell without one of
these four tags is a *lesson* cell.

* ``exercise``: where the learner answers. Stored as a blank skeleton: an
  answer ``None``, or a function or method whose body raises
  ``NotImplementedError``. Running it never fails.
* ``check``: right after its exercise. Prints exactly one verdict line
  starting with ``✅`` (correct), ``⏳`` (not answered yet: ``None``, or
  ``NotImplementedError``) or ``❌`` (not quite, saying what to fix). It never
  raises: not on a missing answer, an answer of the wrong type, or an answer
  that itself raises. The notebooks' hidden helper cell (copy it from
  lesson 00 or 01) gives ``run_check``, ``call``, ``number``, ``defined``,
  ``NotYet`` and ``Wrong`` for this. Collapse the check's source.
* ``solution``: after its exercise, before the next one; the k-th solution
  belongs to the k-th exercise and defines the answer under the same names.
  Collapsed (``"jupyter": {"source_hidden": true}``), stored without outputs
  and with ``execution_count`` null; no later cell may depend on it.
* ``verify``: checks the numbers the prose quotes. One line per number,
  ``quoted("0.0858", E.data)``, which prints ``✔ quoted 0.0858 = 0.0858``, or
  ``✘ ...`` when the rounded value differs (a learner who changed a number
  above sees that, not an error). Each quoted text must appear in a markdown
  cell above the verify cell, after the previous verify cell. Collapse both
  source and outputs (``"source_hidden"`` and ``"outputs_hidden"``).
* Lesson cells never ``assert``: a learner who changes a number to explore
  gets a result, not an ``AssertionError``. What they used to assert goes
  into a verify cell (quoted numbers) or a ``tests/`` file.
* At least three exercises per lesson, one check and one solution each.

How the notebooks are run (one test per notebook and mode)
----------------------------------------------------------
* ``test_run_as_stored``: solution cells removed. No cell may fail; every
  check says ``⏳``; every verify cell says ``✔``. (A notebook not yet
  converted simply runs top to bottom, as nbmake used to run it.)
* ``test_run_with_solutions``: each solution's code placed into its exercise
  cell, solution cells removed: every check says ``✅``, every quote ``✔``.
* ``test_run_with_wrong_answers``: each exercise cell binds the names its
  solution binds to the string ``'not an answer'``, and the solution runs
  right after the check: every check answers ``❌`` or ``⏳`` without raising.
* ``test_run_reproduces_stored_outputs``: what the stored notebook shows
  (stdout and plain-text results) is what it prints now.

Notebooks run in parallel kernels (``NOTEBOOK_WORKERS``, default: the number
of CPUs, at most 4) inside this one test file, so ``--dist loadfile`` keeps
its meaning. ``-k "not test_run_"`` skips every execution.

Converting a notebook
---------------------
1. Tag the exercise, check, solution and verify cells as above; store each
   exercise blank and each solution collapsed and without outputs.
2. Remove every ``assert`` from lesson cells; quote-check the prose's numbers
   in verify cells instead.
3. Add the notebook's file name to ``CONVERTED``.
4. Store its outputs without running the solutions:
   ``python tests/notebook_tools.py notebooks/NN_name.ipynb``.
5. ``python -m pytest tests/test_notebooks.py -q -p no:cacheprovider -k NN_``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import multiprocessing
import os
import re
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

import notebook_tools as nt
import pytest
from helpers import needs_dot

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))

# The lessons that follow the conventions above. Converting a notebook means adding it here.
CONVERTED = {
    "00_build_your_own_engine.ipynb",
    "01_derivatives_and_the_chain_rule.ipynb",
    "02_the_perceptron.ipynb",
    "03_multi_layer_perceptrons.ipynb",
    "04_activation_functions.ipynb",
    "05_loss_functions.ipynb",
    "08_overfitting_and_regularisation.ipynb",
    "06_gradient_descent.ipynb",
    "09_a_real_classifier.ipynb",
    "07_weight_initialisation.ipynb",
    "10_playground.ipynb",
    "11_compiling_a_graph.ipynb",
}
LESSONS = [p for p in NOTEBOOKS if p.name in CONVERTED]
OTHERS = [p for p in NOTEBOOKS if p.name not in CONVERTED]


HAS_TORCH = importlib.util.find_spec("torch") is not None
USES_TORCH = re.compile(r"^\s*(import torch|from torch\b)", re.MULTILINE)  # guarded too: its stored outputs show PyTorch


def marks(path: Path) -> list:
    """``needs_dot`` when a notebook draws graphs; ``torch`` (skipped without it) when it compares with PyTorch."""
    found = [needs_dot] if nt.draws_graphs(path) else []
    if any(USES_TORCH.search(nt.source(c)) for c in nt.read(path)["cells"] if c["cell_type"] == "code"):
        found += [pytest.mark.torch, pytest.mark.skipif(not HAS_TORCH, reason="the lesson compares with PyTorch")]
    return found


def params(paths: list[Path]) -> list:
    """One pytest parameter per notebook, with its ``marks``."""
    return [pytest.param(p, id=p.name, marks=marks(p)) for p in paths]


# ----------------------------------------------------------------- the files


def test_the_series_is_complete():
    numbers = [int(p.name[:2]) for p in NOTEBOOKS]
    assert numbers[:10] == list(range(10)), [p.name for p in NOTEBOOKS]


def test_every_converted_lesson_exists():
    assert CONVERTED <= {p.name for p in NOTEBOOKS}, sorted(CONVERTED - {p.name for p in NOTEBOOKS})


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_states_its_goal(path):
    first = nt.read(path)["cells"][0]
    assert first["cell_type"] == "markdown" and "goal" in nt.source(first).lower(), (
        "state the goal at the top"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_notebook_has_outputs_and_no_errors(path):
    notebook = json.loads(path.read_text())
    code = [c for c in notebook["cells"] if c["cell_type"] == "code" and nt.role(c) != nt.SOLUTION]
    assert code, "no code cells"
    unexecuted = [c for c in code if c["source"] and c.get("execution_count") is None]
    assert not unexecuted, f"{len(unexecuted)} code cells were never run: run scripts/run_notebooks.py"
    assert any(c["outputs"] for c in code), "no stored outputs: run scripts/run_notebooks.py"
    errors = [o for c in code for o in c["outputs"] if o.get("output_type") == "error"]
    assert not errors, f"stored outputs contain an error: {errors[0].get('ename')}"
    counts = [c["execution_count"] for c in code if c["source"]]
    assert counts == sorted(counts), "cells were run out of order"


@pytest.mark.parametrize("path", OTHERS, ids=lambda p: p.name)
def test_notebook_is_a_lesson_with_checked_exercises(path):
    """The older form, until a notebook is converted: exercises whose checks assert."""
    cells = nt.read(path)["cells"]
    text = "".join(nt.source(c) for c in cells)
    assert "Exercise" in text
    checks = [c for c in cells if c["cell_type"] == "code" and "assert" in nt.source(c)]
    assert len(checks) >= 2, "exercises need check cells with assertions"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_follows_the_exercise_conventions(path):
    problems = nt.convention_problems(nt.read(path))
    assert not problems, "\n".join(problems)


# ------------------------------------------------------- the notebooks, run

MODE_OF_TEST = {
    "test_run_as_stored": "as stored",
    "test_run_reproduces_stored_outputs": "as stored",
    "test_run_with_solutions": "with solutions",
    "test_run_with_wrong_answers": "wrong types",
}


def workers() -> int:
    wanted = os.environ.get("NOTEBOOK_WORKERS")
    return max(1, int(wanted)) if wanted else min(4, os.cpu_count() or 1)


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest):
    """Each (notebook, mode) the selected tests need, started at once in parallel kernels."""
    needed = []
    for item in request.session.items:
        mode = MODE_OF_TEST.get(getattr(item, "originalname", ""))
        skipped = item.get_closest_marker("skip") or (not HAS_TORCH and item.get_closest_marker("torch"))
        if mode and item.path == Path(__file__) and not skipped:
            needed.append((item.callspec.params["path"], mode))
    # one process per kernel client: ZeroMQ sockets must not be shared across threads
    with ProcessPoolExecutor(max_workers=workers(), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures: dict[tuple[Path, str], Future[nt.Run]] = {
            key: pool.submit(nt.execute, *key) for key in dict.fromkeys(needed)
        }
        yield futures
        for future in futures.values():
            future.cancel()


def run_of(runs: dict, path: Path, mode: str) -> nt.Run:
    run = runs[(path, mode)].result()
    if run.error is not None:
        pytest.fail(f"{path.name} failed when run {mode}:\n{run.error}", pytrace=False)
    return run


@pytest.mark.parametrize("path", params(NOTEBOOKS))
def test_run_as_stored(runs, path):
    run = run_of(runs, path, "as stored")
    if path.name in CONVERTED:
        problems = nt.verdict_problems(run, nt.NOT_YET) + nt.quote_problems(run)
        assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", params(LESSONS))
def test_run_with_solutions(runs, path):
    run = run_of(runs, path, "with solutions")
    problems = nt.verdict_problems(run, nt.SUCCESS) + nt.quote_problems(run)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", params(LESSONS))
def test_run_with_wrong_answers(runs, path):
    run = run_of(runs, path, "wrong types")
    problems = nt.verdict_problems(run, nt.WRONG)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", params(LESSONS))
def test_run_reproduces_stored_outputs(runs, path):
    problems = nt.stale_outputs(nt.read(path), run_of(runs, path, "as stored"))
    assert not problems, "stored outputs are stale: run scripts/run_notebooks.py\n" + "\n".join(problems)


# ------------------------------------------- the machinery, on small notebooks


def cell(kind: str, text: str, tag: str | None = None, outputs: list | None = None, count: int | None = None):
    made = {"cell_type": kind, "source": text, "metadata": {}}
    if tag:
        made["metadata"]["tags"] = [tag]
    if tag in (nt.SOLUTION, nt.VERIFY):
        made["metadata"]["jupyter"] = {"source_hidden": True}
    if kind == "code":
        made["outputs"], made["execution_count"] = outputs or [], count
    return made


def printing(text: str) -> list:
    return [{"output_type": "stream", "name": "stdout", "text": text}]


def lesson(*exercises: tuple[str, str, str]) -> dict:
    """A notebook: a goal, a lesson cell, then (exercise, check, solution) sources."""
    cells = [cell("markdown", "**Goal:** learn."), cell("code", "x = 2")]
    for exercise, check, solution in exercises:
        cells += [
            cell("code", exercise, nt.EXERCISE),
            cell("code", check, nt.CHECK),
            cell("code", solution, nt.SOLUTION),
        ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


THREE = [(f"answer_{k} = None", f"run_check({k}, test_{k})", f"answer_{k} = {k}") for k in (1, 2, 3)]


def test_a_lesson_that_keeps_the_conventions_has_no_problems():
    assert nt.convention_problems(lesson(*THREE)) == []


def test_convention_problems_name_each_broken_rule():
    notebook = lesson(*THREE[:2])
    notebook["cells"][1]["source"] = "x = 2\nassert x == 2"
    solution = notebook["cells"][4]
    solution["outputs"], solution["execution_count"], solution["metadata"] = (
        printing("1"),
        7,
        {"tags": ["solution"]},
    )
    notebook["cells"][5]["source"] = notebook["cells"][7]["source"]  # the second exercise holds its answer
    notebook["cells"].append(cell("markdown", "done", nt.CHECK))
    assert nt.convention_problems(notebook) == [
        "cell 8 is tagged 'check' but is a markdown cell",
        "a lesson ends with at least three exercises; this one has 2",
        "exercise cell 5 already holds its solution: store the blank skeleton",
        "solution cell 4 has stored outputs: store it without (they give the answer away)",
        "solution cell 4 has an execution count: store it unexecuted",
        "solution cell 4 is not collapsed: set metadata.jupyter.source_hidden = true",
        "lesson cell 1 asserts: a learner who changes a number would get an AssertionError; "
        "move the check into a verify cell",
    ]


def test_a_solution_or_check_out_of_place_is_named():
    notebook = lesson(*THREE)
    cells = notebook["cells"]
    cells[3], cells[4] = cells[4], cells[3]  # the first check after its solution: fine
    assert nt.convention_problems(notebook) == []
    cells.insert(2, cells.pop(3))  # the first solution before its exercise
    assert nt.convention_problems(notebook) == [
        "exercise 1 (cell 3): its solution (cell 2) must come after it, before the next exercise"
    ]


def test_each_mode_prepares_the_cells_a_learner_would_run():
    notebook = lesson(*THREE)
    as_stored = [nt.source(c) for c in nt.prepare(notebook, "as stored")["cells"]][1:]
    assert as_stored == [
        "x = 2",
        "answer_1 = None",
        "run_check(1, test_1)",
        "answer_2 = None",
        "run_check(2, test_2)",
        "answer_3 = None",
        "run_check(3, test_3)",
    ]
    solved = [nt.source(c) for c in nt.prepare(notebook, "with solutions")["cells"]][1:]
    assert solved == [
        "x = 2",
        "answer_1 = 1",
        "run_check(1, test_1)",
        "answer_2 = 2",
        "run_check(2, test_2)",
        "answer_3 = 3",
        "run_check(3, test_3)",
    ]
    wrong = [nt.source(c) for c in nt.prepare(notebook, "wrong types")["cells"]][1:]
    assert wrong == [
        "x = 2",
        "answer_1 = 'not an answer'",
        "run_check(1, test_1)",
        "answer_1 = 1",
        "answer_2 = 'not an answer'",
        "run_check(2, test_2)",
        "answer_2 = 2",
        "answer_3 = 'not an answer'",
        "run_check(3, test_3)",
        "answer_3 = 3",
    ]
    assert nt.source(notebook["cells"][2]) == "answer_1 = None"  # the notebook itself is untouched
    with pytest.raises(ValueError, match="mode must be one of"):
        nt.prepare(notebook, "solved")


def test_bound_names_are_what_a_cell_defines_at_its_top_level():
    code = (
        "class V:\n    inner = 1\nx, (y, *z) = 1, (2, 3, 4)\nV.tanh = len\nd[0] = 1\nimport a.b as c\n"
        "import os.path\nfrom m import n\ndef f():\n    local = 1\nk += 1\n%time q = 1"
    )
    assert nt.bound_names(code) == ["V", "x", "y", "z", "c", "os", "n", "f", "k"]


def executed(*cells: dict) -> nt.Run:
    notebook = {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    return nt.Run(NOTEBOOK_DIR / "test.ipynb", "as stored", notebook, None, 0.0)


def test_verdicts_must_be_the_expected_ones_and_checks_must_not_raise():
    run = executed(
        cell("code", "c1", nt.CHECK, printing("⏳ Exercise 1: not yet.\n")),
        cell("code", "c2", nt.CHECK, printing("✅ Exercise 2: correct!\n")),
        cell("code", "c3", nt.CHECK, [{"output_type": "error", "ename": "TypeError", "evalue": "len()"}]),
        cell("code", "c4", nt.CHECK, printing("details only\n")),
        cell("code", "c5", nt.CHECK, printing("❌ Exercise 5: not quite.\n")),
    )
    assert nt.verdict_problems(run, nt.NOT_YET) == [
        "check cell 1 should say ⏳ but printed: '✅ Exercise 2: correct!'",
        "check cell 2 raised instead of answering: TypeError: len()",
        "check cell 3 printed no verdict (✅, ⏳ or ❌): 'details only\\n'",
        "check cell 4 should say ⏳ but printed: '❌ Exercise 5: not quite.'",
    ]
    assert nt.verdict_problems(run, nt.WRONG) == [
        "check cell 1 should say ❌ but printed: '✅ Exercise 2: correct!'",
        "check cell 2 raised instead of answering: TypeError: len()",
        "check cell 3 printed no verdict (✅, ⏳ or ❌): 'details only\\n'",
    ]


def test_quoted_numbers_must_match_and_appear_in_the_prose_above():
    run = executed(
        cell("markdown", "The error drops from 0.0858 to 0.0571."),
        cell("code", "v1", nt.VERIFY, printing("✔ quoted 0.0858 = 0.0858\n✔ quoted 0.0571 = 0.0571\n")),
        cell("markdown", "It ends at -0.17 after 3 steps."),
        cell("code", "v2", nt.VERIFY, printing("✔ quoted 0.0858 = 0.0858\n")),
        cell("code", "v3", nt.VERIFY, printing("✘ the text says 3, the code now gives 4\n")),
        cell("code", "v4", nt.VERIFY, []),
    )
    assert nt.quote_problems(run) == [
        "verify cell 3 checks 0.0858, which the prose above it does not say",
        "verify cell 4: ✘ the text says 3, the code now gives 4",
        "verify cell 5 printed nothing",
    ]


def test_stale_outputs_compare_printed_text_not_pictures_or_addresses():
    stored = {
        "cells": [
            cell(
                "code",
                "a",
                outputs=printing("loss 0.25\n")
                + [{"output_type": "stream", "name": "stderr", "text": "12it/s"}],
            ),
            cell("code", "b", nt.SOLUTION),
            cell(
                "code",
                "c",
                outputs=[
                    {
                        "output_type": "display_data",
                        "data": {"text/plain": "<Drawing at 0x7f01>", "image/png": "AAA"},
                    }
                ],
            ),
            cell("code", "d", outputs=printing("step 1\nstep 2\n")),
        ]
    }
    run = executed(
        cell("code", "a", outputs=printing("loss 0.25\n")),
        cell(
            "code",
            "c",
            outputs=[
                {
                    "output_type": "display_data",
                    "data": {"text/plain": "<Drawing at 0x7f99>", "image/png": "BBB"},
                }
            ],
        ),
        cell("code", "d", outputs=printing("step 1\n") + printing("step 3\n")),
    )
    assert nt.stale_outputs(stored, run) == [
        "cell 3 stored 'step 1\\nstep 2\\n', now prints 'step 1\\nstep 3\\n'"
    ]


def test_the_helper_cells_verdicts_never_raise():
    """The helpers lesson 00 gives its checks: each kind of answer gets its verdict line."""
    notebook = nt.read(NOTEBOOK_DIR / "00_build_your_own_engine.ipynb")
    helpers = next(nt.source(c) for c in notebook["cells"] if "def run_check" in nt.source(c))
    scope: dict = {}
    exec(compile(helpers, "helpers", "exec"), scope)

    def verdict(test) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            scope["run_check"](7, test)
        return out.getvalue()

    def unwritten():
        raise NotImplementedError("write it")

    assert verdict(lambda: "well done.") == "✅ Exercise 7: correct! well done.\n"
    assert (
        verdict(lambda: scope["number"]("answer", None))
        == "⏳ Exercise 7: not yet. answer is still None: replace None with your answer.\n"
    )
    assert (
        verdict(lambda: scope["number"]("answer", "3"))
        == "❌ Exercise 7: not quite. answer should be a number, got str '3'.\n"
    )
    assert (
        verdict(lambda: scope["call"]("f(2)", unwritten))
        == "⏳ Exercise 7: not yet. f(2) is not written yet (it raises NotImplementedError: write it).\n"
    )
    assert (
        verdict(lambda: scope["call"]("f(2)", 5))
        == "❌ Exercise 7: not quite. f(2): expected a function, got int 5.\n"
    )
    assert (
        verdict(lambda: scope["call"]("f(2)", lambda: 1 / 0))
        == "❌ Exercise 7: not quite. f(2) raised ZeroDivisionError: division by zero\n"
    )
    assert (
        verdict(lambda: [][1])
        == "❌ Exercise 7: not quite. Checking your answer raised IndexError: list index out of range\n"
    )
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        scope["quoted"]("0.0858", 0.08578643762690485)
        scope["quoted"]("0", -1e-9)
        scope["quoted"]("-0.17", -0.16999999999999998)
        scope["quoted"]("14", 14.6)
    assert out.getvalue().splitlines() == [
        "✔ quoted 0.0858 = 0.0858",
        "✔ quoted 0 = 0",
        "✔ quoted -0.17 = -0.17",
        "✘ the text says 14, the code now gives 15 (expected if you changed a number above)",
    ]
