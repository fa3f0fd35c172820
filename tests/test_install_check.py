"""nn._install_check: another package named autograd is reported clearly."""

import os
import subprocess
import sys
from pathlib import Path

import autograd
import nn
from nn._install_check import check_autograd

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, path: list[Path]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=path[0], env=env)


def _fake_autograd(tmp_path: Path) -> Path:
    package = tmp_path / "site" / "autograd"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A stand-in for HIPS autograd."""\n__version__ = "1.7.0"\n\ndef grad(fun):\n    return fun\n')
    return package / "__init__.py"


def test_chainrules_own_autograd_passes():
    assert check_autograd() is autograd
    assert nn.Value is autograd.Value


def test_import_nn_names_the_other_autograd_and_what_to_do(tmp_path):
    fake = _fake_autograd(tmp_path)
    result = _python("import nn", [fake.parent.parent, ROOT])  # the other package comes first on the path
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: the package 'autograd' 1.7.0 found at ")
    assert str(fake) in last
    assert "is not chainrule's autograd engine (it has no Value)" in last
    assert "HIPS autograd" in last and "own virtual environment" in last and "'autograd' and 'nn'" in last


def test_any_import_from_nn_runs_the_check_first(tmp_path):
    fake = _fake_autograd(tmp_path)
    code = (
        "try:\n"
        "    from nn._install_check import check_autograd  # what a command-line tool imports\n"
        "except ImportError as error:\n"
        "    print('refused:', error)\n"
    )
    result = _python(code, [fake.parent.parent, ROOT])
    assert result.stdout.startswith("refused: the package 'autograd' 1.7.0 found at "), result.stderr


def test_a_missing_autograd_is_named(tmp_path):
    code = "import sys; sys.modules['autograd'] = None\nimport nn\n"
    result = _python(code, [ROOT])
    assert result.returncode == 1
    assert "nn needs chainrule's 'autograd' package, which is not installed" in result.stderr
