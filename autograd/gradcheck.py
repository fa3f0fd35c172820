"""Check ``backward()`` against central finite differences."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from .engine import Value
from .floats import as_float
from .grad_mode import no_grad

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree."""


def gradcheck(
    f: Callable[..., Value],
    inputs: Sequence[float],
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
) -> bool:
    """Compare the gradients ``backward()`` gives with central differences.

    ``f`` receives one Value per number in ``inputs`` and returns a Value.
    The numeric gradient of input i is (f(.., x_i + eps, ..) - f(.., x_i - eps, ..)) / (2 eps).
    A gradient passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.

    Returns True, or raises ``GradcheckError`` listing every input.
    """
    if not callable(f):
        raise TypeError(f"gradcheck() takes a function of Values first, got {type(f).__name__}")
    eps = _positive(eps, "eps", "the step of the central differences")
    atol = _positive(atol, "atol", "the absolute tolerance", zero_ok=True)
    rtol = _positive(rtol, "rtol", "the relative tolerance", zero_ok=True)
    point = [as_float(x, "gradcheck(): each input") for x in inputs]
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(point)]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    out.backward()
    analytic = [leaf.grad for leaf in leaves]

    def f_at(xs: list[float]) -> float:
        with no_grad():
            y = f(*(Value(x) for x in xs))
        return y.data

    numeric = []
    for i, x in enumerate(point):
        plus, minus = list(point), list(point)
        plus[i], minus[i] = x + eps, x - eps
        numeric.append((f_at(plus) - f_at(minus)) / (2.0 * eps))

    bad = [
        i
        for i, (a, n) in enumerate(zip(analytic, numeric))
        if not abs(a - n) <= atol + rtol * abs(n)
    ]
    if bad:
        rows = "\n".join(
            f"  input {i} = {point[i]:.8g}: analytic {analytic[i]:.8g}, numeric {numeric[i]:.8g}"
            + ("   <-- mismatch" if i in bad else "")
            for i in range(len(point))
        )
        raise GradcheckError(
            f"gradcheck failed for {len(bad)} of {len(point)} inputs "
            f"(eps={eps}, atol={atol}, rtol={rtol}):\n{rows}"
        )
    return True


def _positive(x: float, name: str, meaning: str, zero_ok: bool = False) -> float:
    value = as_float(x, f"gradcheck({name})")
    if not (value > 0.0 or (zero_ok and value == 0.0)) or value == math.inf:
        bound = "0 or more" if zero_ok else "more than 0"
        raise ValueError(f"gradcheck(): {name} ({meaning}) must be a finite number {bound}, got {value}")
    return value
