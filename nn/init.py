"""Weight initialisers: each draws one weight for a neuron.

An initialiser is a function ``(fan_in, fan_out, rng) -> float``: ``fan_in``
is the number of inputs of the neuron, ``fan_out`` the number of neurons in
its layer, and ``rng`` a ``random.Random`` (or an int seed, or ``None`` for
Python's global ``random`` module, so ``random.seed(1337)`` scripts written for
micrograd reproduce).

=================  =========================================
name               distribution of one weight
=================  =========================================
uniform            U(a, b), default U(-1, 1) (micrograd's)
normal             N(mean, std^2), default N(0, 1)
zeros              0 (every neuron stays identical: symmetry)
lecun_uniform      U(-l, l),  l = sqrt(3 / fan_in)
lecun_normal       N(0, 1 / fan_in)
glorot_uniform     U(-l, l),  l = sqrt(6 / (fan_in + fan_out))
glorot_normal      N(0, 2 / (fan_in + fan_out))
he_uniform         U(-l, l),  l = sqrt(6 / fan_in)
he_normal          N(0, 2 / fan_in)
=================  =========================================

``xavier_*`` are aliases of ``glorot_*`` and ``kaiming_*`` of ``he_*``.
The uniform variants have the same variance as their normal twins
(Var U(-l, l) = l^2 / 3).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from .checks import RandomSource, as_rng

__all__ = [
    "Initializer",
    "RandomSource",
    "as_rng",
    "get_init",
    "uniform",
    "normal",
    "zeros",
    "lecun_uniform",
    "lecun_normal",
    "glorot_uniform",
    "glorot_normal",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "kaiming_uniform",
    "kaiming_normal",
]

# ``rng`` is a random.Random, or the random module itself (same methods, global state);
# ``as_rng`` (shared by all of nn) also accepts an int seed, and None for the global module.
Initializer = Callable[[int, int, RandomSource], float]


def uniform(fan_in: int, fan_out: int, rng: RandomSource = random, a: float = -1.0, b: float = 1.0) -> float:
    """U(a, b); the default U(-1, 1) is micrograd's initialisation."""
    return as_rng(rng).uniform(a, b)


def normal(fan_in: int, fan_out: int, rng: RandomSource = random, mean: float = 0.0, std: float = 1.0) -> float:
    """N(mean, std^2); the default is the standard normal N(0, 1)."""
    return as_rng(rng).gauss(mean, std)


def zeros(fan_in: int, fan_out: int, rng: RandomSource = random) -> float:
    """0. Fine for biases; for weights every neuron of a layer then learns the same thing."""
    return 0.0


def lecun_uniform(fan_in: int, fan_out: int, rng: RandomSource = random) -> float:
    """U(-l, l) with l = sqrt(3 / fan_in), so Var = 1 / fan_in."""
    limit = math.sqrt(3.0 / fan_in)
    return as_rng(rng).uniform(-limit, limit)


def lecun_normal(fan_in: int, fan_out: int, rng: RandomSource = random) -> float:
    """N(0, 1 / fan_in)."""
    return as_rng(rng).gauss(0.0, math.sqrt(1.0 / fan_in))


def glorot_uniform(fan_in: int, fan_out: int, rng: RandomSource = random) -> float:
    """U(-l, l) with l = sqrt(6 / (fan_in + fan_out)), so Var = 2 / (fan_in + fan_out)."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return as_rng(rng).uniform(-limit, limit)


def glorot_normal(fan_in: int, fan_out: int, rng: RandomSource = random) -> float:
    """N(0, 2 / (fan_in + fan_out))."""
    return as_rng(rng).gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def he_uniform(fan_in: int, fan_out: int, rng: RandomSource = random) -> float:
    """U(-l, l) with l = sqrt(6 / fan_in), so Var = 2 / fan_in (for ReLU layers)."""
    limit = math.sqrt(6.0 / fan_in)
    return as_rng(rng).uniform(-limit, limit)


def he_normal(fan_in: int, fan_out: int, rng: RandomSource = random) -> float:
    """N(0, 2 / fan_in) (for ReLU layers)."""
    return as_rng(rng).gauss(0.0, math.sqrt(2.0 / fan_in))


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
kaiming_uniform = he_uniform
kaiming_normal = he_normal

INITIALIZERS: dict[str, Initializer] = {
    "uniform": uniform,
    "normal": normal,
    "zeros": zeros,
    "lecun_uniform": lecun_uniform,
    "lecun_normal": lecun_normal,
    "glorot_uniform": glorot_uniform,
    "glorot_normal": glorot_normal,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": kaiming_uniform,
    "kaiming_normal": kaiming_normal,
}


def get_init(name_or_fn: str | Initializer) -> Initializer:
    """The initialiser called ``name_or_fn``, or the function itself if it is callable."""
    if callable(name_or_fn):
        return name_or_fn
    if isinstance(name_or_fn, str) and name_or_fn.lower() in INITIALIZERS:
        return INITIALIZERS[name_or_fn.lower()]
    raise ValueError(
        f"unknown initialiser {name_or_fn!r}; use one of {', '.join(INITIALIZERS)} "
        "or a function (fan_in, fan_out, rng) -> float"
    )

