"""scripts/run_notebooks.py refuses to store outputs that say a part was skipped."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "run_notebooks.py"
NOTEBOOKS = ROOT / "notebooks"


def load_script():
    spec = importlib.util.spec_from_file_location("run_notebooks", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_notebooks"] = module
    spec.loader.exec_module(module)
    return module


run_notebooks = load_script()


def needs(path: Path) -> set[str]:
    code = run_notebooks.code_of(path)
    return {r.name for r in run_notebooks.REQUIREMENTS if r.used.search(code)}


def copy(name: str, folder: Path) -> Path:
    target = folder / name
    shutil.copyfile(NOTEBOOKS / name, target)
    return target


def test_each_notebook_names_what_it_uses():
    jupyter = {"Jupyter's nbclient", "Jupyter's nbformat", "the ipykernel kernel"}
    assert needs(NOTEBOOKS / "05_loss_functions.ipynb") == jupyter | {"PyTorch", "matplotlib"}
    assert needs(NOTEBOOKS / "09_a_real_classifier.ipynb") == jupyter | {"PyTorch", "matplotlib"}
    assert "Graphviz's 'dot' program" in needs(NOTEBOOKS / "01_derivatives_and_the_chain_rule.ipynb")
    playground = needs(NOTEBOOKS / "10_playground.ipynb")
    assert {"ipywidgets", "matplotlib", "Graphviz's 'dot' program"} <= playground
    assert "PyTorch" not in playground


def test_a_missing_program_is_named_with_the_notebooks_that_use_it(tmp_path):
    absent = run_notebooks.Requirement("a plotter", run_notebooks.re.compile(r"plot_"), None,
                                       "no-such-program-here", "install the plotter")
    present = run_notebooks.Requirement("Python", run_notebooks.re.compile(r""), "json", None, "-")
    uses = tmp_path / "a.ipynb"
    uses.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["plot_history(h)"]}]}))
    text_only = tmp_path / "b.ipynb"
    text_only.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": ["plot_history(h)"]}]}))
    missing = run_notebooks.missing_requirements([uses, text_only], (absent, present))
    assert missing == [(absent, [uses])]
    line = run_notebooks.refusal(missing)
    assert "\n" not in line
    assert line.endswith("a plotter is not installed (install the plotter); a.ipynb needs it")


def run_script(args: list[str], env_path: str, block_torch: bool = False) -> subprocess.CompletedProcess[str]:
    """Run the script in a fresh Python whose PATH is ``env_path`` (and, with ``block_torch``, without torch)."""
    code = "import runpy, sys\n"
    if block_torch:
        code += "sys.modules['torch'] = None  # as if PyTorch were not installed\n"
    code += f"sys.argv = {[str(SCRIPT), *args]!r}\nrunpy.run_path({str(SCRIPT)!r}, run_name='__main__')\n"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": env_path, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=120,
    )


def test_it_refuses_without_graphviz_and_leaves_the_notebook_alone(tmp_path):
    notebook = copy("01_derivatives_and_the_chain_rule.ipynb", tmp_path)
    before = notebook.read_bytes()
    empty = tmp_path / "bin"
    empty.mkdir()  # a PATH on which there is no 'dot'
    result = run_script([str(notebook)], str(empty))
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Graphviz's 'dot' program is not installed (sudo apt-get install graphviz" in lines[0]
    assert "01_derivatives_and_the_chain_rule.ipynb needs it" in lines[0]
    assert notebook.read_bytes() == before


def test_it_refuses_without_torch_naming_only_the_notebooks_that_use_it(tmp_path):
    paths = [copy(name, tmp_path) for name in
             ("05_loss_functions.ipynb", "06_gradient_descent.ipynb", "09_a_real_classifier.ipynb")]
    before = [p.read_bytes() for p in paths]
    dot_dir = str(Path(shutil.which("dot")).parent) if shutil.which("dot") else ""
    result = run_script([str(p) for p in paths], dot_dir, block_torch=True)
    assert result.returncode == 1, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert "PyTorch is not installed (pip install torch); 05_loss_functions.ipynb, 09_a_real_classifier.ipynb need it" in line
    assert "06_gradient_descent" not in line
    assert [p.read_bytes() for p in paths] == before


def plain_notebook(folder: Path, code: str) -> Path:
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("**Goal:** a plain lesson."), nbformat.v4.new_code_cell(code)]
    path = folder / "plain.ipynb"
    nbformat.write(notebook, path)
    return path


def test_a_lesson_needs_only_what_it_imports(tmp_path):
    jupyter = {"Jupyter's nbclient", "Jupyter's nbformat", "the ipykernel kernel"}
    assert needs(plain_notebook(tmp_path, "import matplotlib.pyplot as plt\nimport nn")) == jupyter | {"matplotlib"}


def test_check_only_reports_without_running(tmp_path):
    notebook = plain_notebook(tmp_path, "x = 1")
    before = notebook.read_bytes()
    result = run_script(["--check", str(notebook)], "")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ready to run 1 notebook: everything they use is installed"
    assert notebook.read_bytes() == before


def test_solutions_are_stored_without_outputs_and_not_run(tmp_path):
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("answer = None"),
        nbformat.v4.new_code_cell("answer = 42\nprint('solved')", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("print('answer is', answer)"),
    ]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(notebook, path)
    run_notebooks.execute(path, timeout=120)
    stored = nbformat.read(path, as_version=4)
    assert [c.metadata.get("tags", []) for c in stored.cells] == [[], ["solution"], []]  # order kept
    assert stored.cells[1].outputs == [] and stored.cells[1].execution_count is None
    assert stored.cells[2].outputs[0]["text"] == "answer is None\n"  # the solution did not run
