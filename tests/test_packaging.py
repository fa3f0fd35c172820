"""What pip installs and what the source distribution carries, built from a copy of this tree.

The builds call setuptools' build backend directly (no network needed). The
clash with the other ``autograd`` package on the package index is checked for
real: a fresh virtual environment, ``pip install autograd``, then ``import nn``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "chainrule")
IN_CI = bool(os.environ.get("CI"))

# what a working tree holds that is not part of the project's source
JUNK = (".git", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".ipynb_checkpoints", "node_modules",
        ".pytest_cache", ".hypothesis", ".ruff_cache", "chainrule-out", ".venv*", "venv*", "PKG-INFO", "setup.cfg")


def unavailable(reason: str) -> None:
    """Skip on a developer's machine; in CI a missing tool is a failure."""
    if IN_CI:
        pytest.fail(reason)
    pytest.skip(reason)


def is_junk(relative: Path) -> bool:
    return any(fnmatch(part, pattern) for part in relative.parts for pattern in JUNK)


def source_files(root: Path, new_files: bool = False) -> list[str]:
    """The project's files: what git tracks (with ``new_files``, also files not yet added).

    Outside a git checkout (in an unpacked sdist) it is the tree less build output.
    """
    if (root / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "--cached", *(["--others", "--exclude-standard"] if new_files else [])],
            cwd=root, capture_output=True, text=True, check=True,
        ).stdout.splitlines()
        return sorted(name for name in listed if (root / name).is_file() and not is_junk(Path(name)))
    names = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not is_junk(relative):
            names.append(relative.as_posix())
    return sorted(names)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the source tree as it is now, so building writes nothing into the working tree."""
    target = tmp_path_factory.mktemp("source") / "chainrule"
    for name in source_files(ROOT, new_files=True):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, destination)
    return target


@pytest.fixture(scope="module")
def built(tree: Path) -> dict[str, object]:
    """Build the sdist and the wheel with setuptools' backend; return their paths and the build log."""
    try:
        import setuptools
    except ImportError:
        unavailable("building needs setuptools>=77 (pip install 'setuptools>=77')")
    if int(setuptools.__version__.split(".")[0]) < 77:
        unavailable(f"building needs setuptools>=77, this is {setuptools.__version__} (pip install -U setuptools)")
    out = tree.parent / "dist"
    built, log = {}, ""
    for kind in ("sdist", "wheel"):  # one process per hook, as build frontends do
        result = subprocess.run(
            [sys.executable, "-W", "always", "-c",
             f"import sys; from setuptools import build_meta\nprint('built', build_meta.build_{kind}(sys.argv[1]))",
             str(out)],
            cwd=tree, capture_output=True, text=True, timeout=300,
        )
        log += result.stdout + result.stderr
        assert result.returncode == 0, log[-3000:]
        built[kind] = out / result.stdout.strip().splitlines()[-1].split()[-1]
    return {**built, "log": log}


def test_the_build_prints_no_deprecation_warning(built):
    log = built["log"]
    bad = [line for line in log.splitlines()
           if re.search(r"deprecat|would be ignored|is absent from the .packages. configuration", line, re.I)]
    assert not bad, "\n".join(bad[:10])


def test_the_wheel_holds_every_module_the_data_and_the_license(built, tree):
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    modules = {p.relative_to(tree).as_posix() for package in PACKAGES for p in (tree / package).rglob("*.py")}
    assert modules, "no modules found in the source tree"
    assert modules <= names, f"missing from the wheel: {sorted(modules - names)}"  # new subpackages included
    for data in ("nn/datasets/iris.csv", "nn/datasets/README.md",
                 "autograd/py.typed", "nn/py.typed", "chainrule/py.typed"):
        assert data in names, data
    assert "chainrule-0.1.0.dist-info/licenses/LICENSE" in names
    assert {n.split("/")[0] for n in names} == {*PACKAGES, "chainrule-0.1.0.dist-info"}
    assert "License-Expression: MIT" in metadata.splitlines()
    assert "License-File: LICENSE" in metadata.splitlines()
    assert 'Provides-Extra: test' in metadata and 'Requires-Dist: chainrule[test]; extra == "dev"' in metadata


def test_the_license_is_mit_for_the_chainrule_developers():
    text = (ROOT / "LICENSE").read_text()
    assert text.startswith("MIT License\n\nCopyright (c) 2026 chainrule developers\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in text


def test_the_sdist_carries_every_source_file_and_nothing_built(built, tree):
    with tarfile.open(built["sdist"]) as sdist:
        names = {m.name.split("/", 1)[1] for m in sdist.getmembers() if m.isfile() and "/" in m.name}
    wanted = {name for name in source_files(ROOT) if (tree / name).is_file()} - {".gitignore"}
    assert wanted <= names, f"missing from the sdist: {sorted(wanted - names)}"
    for needed in ("LICENSE", "tests/conftest.py", "tests/helpers.py", "benchmarks/run.py",
                   "scripts/run_notebooks.py", "nn/datasets/iris.csv", "notebooks/10_playground.ipynb"):
        assert needed in names, needed
    readme_images = set(re.findall(r"docs/images/[\w.-]+\.png", (tree / "README.md").read_text()))
    assert readme_images and readme_images <= names, sorted(readme_images - names)
    built_files = [n for n in names if n.endswith((".pyc", "-checkpoint.ipynb")) or "__pycache__" in n]
    assert not built_files, built_files


def test_pytest_runs_from_the_unpacked_sdist(built, tmp_path):
    with tarfile.open(built["sdist"]) as sdist:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        sdist.extractall(tmp_path, **safe)
    (unpacked,) = tmp_path.iterdir()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    collect = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-n", "0", "-p", "no:cacheprovider"],
        cwd=unpacked, capture_output=True, text=True, timeout=300, env=env,
    )
    assert collect.returncode == 0, collect.stdout[-3000:] + collect.stderr[-2000:]
    assert re.search(r"^\d+ tests collected", collect.stdout, re.M), collect.stdout[-500:]
    assert "test_run_as_stored[10_playground.ipynb]" in collect.stdout  # the notebooks ship and are collected
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
         "tests/test_data.py", "tests/test_run_notebooks.py",  # the Iris data, the notebooks, the script
         "tests/test_notebooks.py::test_the_series_is_complete", "tests/test_readme.py::test_the_readme_has_examples"],
        cwd=unpacked, capture_output=True, text=True, timeout=300, env=env,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed(, \d+ skipped)? in [\d.]+s( \(.*\))?", summary), summary
    where = subprocess.run([sys.executable, "-c", "import nn; print(nn.__file__)"],
                           cwd=unpacked, capture_output=True, text=True, env=env)
    assert Path(where.stdout.strip()).is_relative_to(unpacked)  # the sdist's own code was tested


def venv_python(folder: Path) -> Path:
    """Create a clean virtual environment (no system site-packages) and return its Python."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True, timeout=300)
    python = folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert python.exists(), python
    return python


def clean_env() -> dict[str, str]:
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "PYTHONNOUSERSITE": "1"}


def pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args],
                          capture_output=True, text=True, timeout=600, env=clean_env())


@pytest.mark.slow
@pytest.mark.parametrize("route", ["editable", "wheel"])
def test_import_nn_next_to_the_other_autograd_package_says_what_to_do(route, built, tree, tmp_path):
    """A real ``pip install autograd`` (HIPS autograd, same import name) in a fresh virtual environment.

    editable: ``pip install -e`` as the README says; the other package sits in
    site-packages and is found first. wheel: the other package installed after
    chainrule overwrites ``autograd/__init__.py``. Either way ``autograd`` is
    the other package, and ``import nn`` must say so and what to do.
    """
    python = venv_python(tmp_path / "venv")
    installed = pip(python, "-e", str(tree)) if route == "editable" else pip(python, str(built["wheel"]))
    if installed.returncode != 0:
        unavailable(f"pip could not install chainrule's dependencies: {installed.stderr.strip()[-300:]}")
    elsewhere = tmp_path / "elsewhere"  # not the source tree, so only what pip installed is importable
    elsewhere.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(python), *args], cwd=elsewhere, capture_output=True, text=True,
                              timeout=120, env=clean_env())

    alone = run("-c", "import nn; print(nn.MLP.__name__, nn.Value(2.0).data)")
    assert alone.returncode == 0 and alone.stdout.split() == ["MLP", "2.0"], alone.stderr[-2000:]

    other = pip(python, "autograd")
    if other.returncode != 0:
        unavailable(f"pip could not install autograd from the package index: {other.stderr.strip()[-300:]}")
    hips = run("-c", "import autograd, autograd.numpy as anp; print(autograd.grad(anp.tanh)(0.0))")
    assert hips.returncode == 0 and hips.stdout.strip() == "1.0", hips.stderr[-2000:]  # the other one is there

    clash = run("-c", "import nn")
    assert clash.returncode == 1
    last = clash.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: the package 'autograd'"), clash.stderr[-2000:]
    where = Path(run("-c", "import autograd; print(autograd.__file__)").stdout.strip())
    assert where.name == "__init__.py" and "site-packages" in where.parts, where
    assert f"found at {where} is not chainrule's autograd engine (it has no Value)" in last
    assert "such as HIPS autograd, pip install autograd" in last
    assert "Install chainrule in its own virtual environment" in last

    command = subprocess.run([str(python.parent / "chainrule"), "--version"], cwd=elsewhere,
                             capture_output=True, text=True, timeout=120, env=clean_env())
    assert command.returncode == 2 and command.stdout == ""
    (line,) = command.stderr.strip().splitlines()  # one line, no traceback
    assert "is not chainrule's autograd engine" in line and "own virtual environment" in line
