"""Every Python example in the README runs and prints what the README says; its commands are CI's."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
# an example that hands a model to PyTorch needs it: it is an oracle-marked test, skipped without torch
EXAMPLES = [pytest.param(i, marks=pytest.mark.torch) if "torch" in code else i for i, code in enumerate(BLOCKS)]


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", EXAMPLES)
def test_readme_example_runs(index, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    if "torch" in BLOCKS[index]:
        pytest.importorskip("torch", reason="this example hands the model to PyTorch (pip install torch)")
    import matplotlib

    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    code = BLOCKS[index]
    if ".render(" in code:
        from conftest import HAS_DOT, INSTALL_HINT

        if not HAS_DOT and not os.environ.get("CI"):
            pytest.skip(INSTALL_HINT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        exec(compile(code, f"README example {index + 1}", "exec"), {"__name__": "__readme__"})
    printed = out.getvalue().split()
    # a comment after print(...) states what it prints: check it
    for line in code.splitlines():
        match = re.match(r"\s*print\(.*\)\s+#\s+(\S+)", line)
        if match:
            expected = match.group(1).rstrip(":")
            assert expected in printed or any(p.startswith(expected) for p in printed), (line, printed)


def quick_start_commands() -> list[str]:
    """The commands of the quick start's code blocks, without comments and blank lines."""
    text = README.read_text()
    section = text[text.index("## Quick start"):]
    section = section[:section.index("\n## ", 1)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    return [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_quick_start_sets_up_a_virtual_environment_then_gives_two_commands():
    commands = quick_start_commands()
    assert commands[0].startswith("git clone ") and commands[0].endswith("&& cd chainrule")
    assert commands[1:3] == ["python3 -m venv .venv", "source .venv/bin/activate"]
    assert commands[3:5] == [
        "pip install -e '.[plot]' && chainrule demo",
        "pip install torch==2.13.0 -e '.[dev]' && python -m pytest",
    ]
    cpu = [c for c in commands if "--index-url" in c]
    assert cpu == ["pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"]


def test_ci_runs_the_readme_test_command_after_the_same_installs():
    readme_install, readme_test = quick_start_commands()[4].split(" && ")
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert f"run_pytest {readme_test}" in ci  # the same command, no extra arguments
    assert "python -m pip install --quiet torch==2.13.0" in ci
    assert "python -m pip install --quiet -e '.[dev]'" in ci
    assert readme_install == "pip install torch==2.13.0 -e '.[dev]'"
    # every pytest run in CI goes through run_pytest, which turns "no tests ran" (exit 5) into a failure
    runs = [line.strip() for line in ci if "-m pytest" in line and not line.lstrip().startswith("#")]
    assert len(runs) >= 2 and all("run_pytest " in line for line in runs), runs
