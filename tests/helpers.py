"""Helpers shared by the tests: one notion of "close", one of "needs dot".

Import with ``from helpers import close, needs_dot`` (pytest puts ``tests/``
on ``sys.path``).
"""

from __future__ import annotations

import math
import shutil

import pytest

HAS_DOT = shutil.which("dot") is not None

needs_dot = pytest.mark.needs_dot  # conftest skips these without Graphviz (and fails them in CI)


def close(a: float, b: float, rel: float = 1e-12, abs_: float = 1e-12) -> bool:
    """``a`` and ``b`` agree to ``rel`` (relative) or ``abs_`` (absolute); nan matches nan, inf matches only itself."""
    a, b = float(a), float(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= abs_ + rel * abs(b)


# Debian's Chromium, headless, as root, on a machine whose only network is this one
HEADLESS_CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
