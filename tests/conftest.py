"""Shared test set-up: markers, and what to do when an optional tool is missing.

* ``needs_dot``: renders with Graphviz's ``dot`` program. On a machine without
  it, these tests (and the notebooks, which show graphs) are skipped with a
  hint; in CI (the ``CI`` variable set) they must run, so there they fail.
* ``torch`` / ``micrograd``: an oracle test comparing with PyTorch or micrograd.
  Such files start with ``pytestmark = pytest.mark.torch`` and
  ``torch = pytest.importorskip("torch", reason=...)``, so the specification
  tests run anywhere and ``pytest -m "not torch and not micrograd"`` runs
  exactly the tests that need neither.
"""

from __future__ import annotations

import os

import pytest
from helpers import HAS_DOT

INSTALL_HINT = "needs the Graphviz 'dot' program (sudo apt-get install graphviz, brew install graphviz)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_dot: renders with the Graphviz 'dot' program")
    config.addinivalue_line("markers", "torch: compares with PyTorch (the oracle); skipped without it")
    config.addinivalue_line("markers", "micrograd: compares with micrograd 0.1.0; skipped without it")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAS_DOT or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=INSTALL_HINT)
    for item in items:
        if item.get_closest_marker("needs_dot") or str(item.fspath).endswith(".ipynb"):
            item.add_marker(skip)
