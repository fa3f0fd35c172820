"""Argument checks shared by every part of ``nn`` (and the command line): one place, one wording.

Each check returns the value in the form the caller stores (an ``int``, a
``float``, a random source) or raises with a message naming what it got.

Randomness follows one rule everywhere (``as_rng``): ``None`` means Python's
global ``random`` module, so ``random.seed(s)`` reproduces a whole run; an int
is a seed for a private ``random.Random``; a ``random.Random`` is used as is.
"""

from __future__ import annotations

import math
import numbers
import random
from types import ModuleType
from typing import Union

RandomSource = Union[random.Random, ModuleType]  # noqa: UP007 - a runtime alias, valid on Python 3.10
RandomState = Union[int, random.Random, ModuleType, None]  # noqa: UP007

MAX_MESSAGE = 300  # characters of a user's value echoed back in an error message


def shorten(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def show(x: object) -> str:
    """``type value`` for an error message, the value's repr capped in length."""
    try:
        text = repr(x)
    except Exception:  # a repr that fails must not hide the real error
        text = "<unprintable>"
    return f"{type(x).__name__} {shorten(text, 80)}"


def is_real(x: object) -> bool:
    """A real number (int, float, numpy scalar...), but not a bool."""
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def is_integer(x: object) -> bool:
    """A whole number (int, numpy integer...), but not a bool."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def positive_int(x: object, what: str, minimum: int = 1) -> int:
    """``x`` as an int, checked to be a whole number >= ``minimum``."""
    if not is_integer(x) or x < minimum:  # type: ignore[operator]
        raise ValueError(f"{what} must be a whole number >= {minimum}, got {show(x)}")
    return int(x)  # type: ignore[call-overload]


def real(x: object, what: str, *, finite: bool = True) -> float:
    """``x`` as a float; a TypeError for a non-number, a ValueError for nan/inf (when ``finite``)."""
    if not is_real(x):
        raise TypeError(f"{what} must be a number, got {show(x)}")
    try:
        value = float(x)  # type: ignore[arg-type]
    except OverflowError:
        raise ValueError(f"{what} is too large for a float, got {show(x)}") from None
    if finite and not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value}")
    return value


def in_range(x: object, what: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> float:
    """``x`` as a finite float in [low, high] (or with open ends)."""
    value = real(x, what)
    too_low = value <= low if low_open else value < low
    too_high = value >= high if high_open else value > high
    if too_low or too_high:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{what} must be in {left}{low:g}, {high:g}{right}, got {value!r}")
    return value


def as_rng(rng: object, what: str = "rng") -> RandomSource:
    """``None`` -> the global ``random`` module; an int -> ``random.Random(seed)``; a Random as is."""
    if rng is None:
        return random
    if isinstance(rng, random.Random) or rng is random:
        return rng  # type: ignore[return-value]
    if is_integer(rng):
        return random.Random(int(rng))  # type: ignore[call-overload]
    raise TypeError(f"{what} must be an int seed, a random.Random or None, got {show(rng)}")
