"""chainrule's autograd engine: scalar Values, the chain rule, and pictures of it.

>>> from autograd import Value
>>> x, w, b = Value(2.0), Value(-3.0), Value(6.8813735870195432)
>>> n = (x * w + b).tanh()
>>> n.backward()
>>> round(w.grad, 4)
1.0

The engine needs nothing beyond Python; the drawing names (``draw_dot`` and
friends) import the graphviz package the first time one is used.
"""

from __future__ import annotations

from typing import Any

from .compile import CompileError, compile
from .engine import Step, Value, dot, make_op, sum, topological_order
from .grad_mode import detect_anomaly, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck

_DRAWING = ("draw_dot", "Group", "backward_frames", "backward_viewer", "GraphvizNotFoundError")

__all__ = [
    "Value",
    "Step",
    "sum",
    "dot",
    "make_op",
    "no_grad",
    "detect_anomaly",
    "is_grad_enabled",
    "topological_order",
    "gradcheck",
    "GradcheckError",
    "compile",
    "CompileError",
    *_DRAWING,
]


def __getattr__(name: str) -> Any:
    """The drawing names, from ``autograd.draw``, imported on first use."""
    if name in _DRAWING:
        from . import draw

        return getattr(draw, name)
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_DRAWING})
