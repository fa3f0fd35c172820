"""Shared test set-up: what to do when the Graphviz ``dot`` program is missing.

Rendering a graph needs Graphviz itself, not just the Python package. On a
machine without it, tests that render (and the notebooks, which show graphs)
are skipped with a hint; in CI (the ``CI`` variable set) they must run, so
there they fail instead.
"""

from __future__ import annotations

import os
import shutil

import pytest

HAS_DOT = shutil.which("dot") is not None
INSTALL_HINT = "needs the Graphviz 'dot' program (sudo apt-get install graphviz, brew install graphviz)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_dot: renders with the Graphviz 'dot' program")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if HAS_DOT or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=INSTALL_HINT)
    for item in items:
        if item.get_closest_marker("needs_dot") or str(item.fspath).endswith(".ipynb"):
            item.add_marker(skip)
