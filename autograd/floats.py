"""Numbers in, floats out: the conversion every Value makes, and IEEE arithmetic.

Python raises where IEEE floats (and PyTorch) give inf or nan: ``1 / 0``,
``math.exp(1000)``, ``math.log(0)``, ``math.pow(0, -1)``, ``math.sin(inf)``.
The helpers here give the IEEE answer instead, so no operation stops a
training run with ``ZeroDivisionError``, ``OverflowError`` or a math domain
``ValueError``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

__all__ = ["as_float", "div", "exp", "log", "sqrt", "power", "constant_power", "trig"]


def as_float(x: object, what: str = "Value()") -> float:
    """``x`` as a float if it is a real number (int, float, Fraction, numpy scalar...).

    Anything else raises ``TypeError`` saying what ``what`` takes and, where
    it can guess, what was meant; an int too large for a float raises
    ``ValueError``.
    """
    if type(x) is float:
        return x
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} takes a real number (int or float), got {_show(x)}{_hint(x, what)}")
    try:
        return float(x)
    except OverflowError:  # an int (or Fraction) beyond the largest float, about 1.8e308
        digits = len(str(abs(int(x))))
        raise ValueError(
            f"{what} got a number with {digits} digits, too large for a float (at most about 1.8e308)"
        ) from None


def _show(x: object) -> str:
    text = repr(x)
    return f"{type(x).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def _hint(x: object, what: str) -> str:
    if type(x).__name__ == "Value":
        return "; it is already a Value: use it directly (or its number, v.data)"
    if isinstance(x, bool):
        return f"; did you mean {float(x)}?"
    if isinstance(x, str) and len(x) <= 60:
        try:
            float(x)
        except ValueError:
            return ""
        return f"; did you mean Value({x})?" if what == "Value()" else f"; did you mean {x}, without quotes?"
    return ""


def div(a: float, b: float) -> float:
    """a / b with IEEE semantics: 1/0 = inf, -1/0 = -inf, 1/-0 = -inf, 0/0 = nan."""
    try:
        return a / b
    except ZeroDivisionError:
        if a == 0.0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def exp(x: float) -> float:
    """e^x; inf where it overflows."""
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def log(x: float) -> float:
    """ln x; log(0) = -inf, log of a negative number = nan."""
    if x > 0.0:
        return math.log(x)  # also log(inf) = inf
    return -math.inf if x == 0.0 else math.nan


def sqrt(x: float) -> float:
    """The square root; sqrt(-0) = -0, sqrt of a negative number = nan."""
    return math.sqrt(x) if x >= 0.0 else math.nan


def _is_odd_integer(y: float) -> bool:
    return y.is_integer() and y % 2.0 == 1.0


def power(x: float, y: float) -> float:
    """x ** y as C's ``pow``: never raises, never complex (a negative base to a fraction is nan)."""
    try:
        return math.pow(x, y)
    except OverflowError:  # |result| too large
        return -math.inf if x < 0.0 and _is_odd_integer(y) else math.inf
    except ValueError:  # 0 ** negative, or negative ** fraction
        if x == 0.0:
            return math.copysign(math.inf, x) if _is_odd_integer(y) else math.inf
        return math.nan


def constant_power(x: float, y: float) -> float:
    """x ** y for a constant exponent y, computed the way PyTorch computes it.

    y = 2, 3, -1, -2 by multiplying (x*x, x*x*x, 1/x, 1/(x*x)), y = 0.5 and
    -0.5 by a square root, any other y by C's ``pow``. The results differ
    from ``pow`` by at most a rounding, except for the square root at -0 and
    -inf: (-0) ** 0.5 = -0 and (-inf) ** 0.5 = nan (``pow`` gives 0 and inf).
    """
    if y == 2.0:
        return x * x
    if y == 3.0:
        return x * x * x
    if y == -1.0:
        return div(1.0, x)
    if y == -2.0:
        return div(1.0, x * x)
    if y == 0.5:
        return sqrt(x)
    if y == -0.5:
        return div(1.0, sqrt(x))
    return power(x, y)


def trig(f: Callable[[float], float], x: float) -> float:
    """sin or cos; nan at +-inf."""
    try:
        return f(x)
    except ValueError:
        return math.nan
