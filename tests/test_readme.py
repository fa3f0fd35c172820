"""Every Python example in the README runs, and prints what the README says."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
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
