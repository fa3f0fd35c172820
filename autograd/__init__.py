"""chainrule's autograd engine: scalar Values, the chain rule, and pictures of it.

>>> from autograd import Value
>>> x, w, b = Value(2.0), Value(-3.0), Value(6.8813735870195432)
>>> n = (x * w + b).tanh()
>>> n.backward()
>>> round(w.grad, 4)
1.0
"""

from .draw import GraphvizNotFoundError, Group, backward_frames, backward_viewer, draw_dot
from .engine import Step, Value, dot, make_op, sum, topological_order
from .grad_mode import detect_anomaly, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck

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
    "draw_dot",
    "Group",
    "backward_frames",
    "backward_viewer",
    "GraphvizNotFoundError",
]

