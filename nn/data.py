"""Toy data sets and the small tools around them, as plain Python lists.

The generators follow scikit-learn's ``sklearn.datasets``: each returns
``(X, y)`` where ``X`` is a list of rows (lists of floats), ``y`` a list of
integer labels ``0..k-1``, ``n_samples`` is the total number of rows, and
``random_state`` (an int seed, a ``random.Random`` or ``None``) makes the
result reproducible::

    X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    X_train, mean, std = standardize(X_train)          # learn the statistics on the training set,
    X_test, _, _ = standardize(X_test, mean, std)      # and reuse them on the test set
    for X_batch, y_batch in batches(X_train, y_train, batch_size=16, random_state=0):
        ...

No numpy needed.
"""

from __future__ import annotations

import csv
import math
import numbers
import random
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

__all__ = [
    "xor",
    "logic_gate",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_blobs",
    "load_iris",
    "IRIS_FEATURES",
    "IRIS_CLASSES",
    "train_test_split",
    "standardize",
    "minmax_scale",
    "one_hot",
    "batches",
]

RandomState = int | random.Random | None
Matrix = list[list[float]]

IRIS_FEATURES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


# --------------------------------------------------------------------------
# Checking arguments
# --------------------------------------------------------------------------
def _rng(random_state: RandomState) -> random.Random:
    """A ``random.Random`` from a seed; a given ``random.Random`` is used as it is."""
    if isinstance(random_state, random.Random):
        return random_state
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)):
        return random.Random(random_state)
    raise TypeError(f"random_state must be an int seed, a random.Random or None, got {type(random_state).__name__}")


def _count(name: str, n: object, minimum: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {n!r}")
    return int(n)


def _nonnegative(name: str, x: object) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not x >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {x!r}")
    return float(x)


def _matrix(X: Sequence[Sequence[float]], name: str = "X") -> Matrix:
    """``X`` as a list of equally long rows of floats."""
    if isinstance(X, (str, bytes)) or not hasattr(X, "__iter__"):
        raise TypeError(f"{name} must be a list of rows (lists of numbers), got {type(X).__name__}")
    rows = []
    for i, row in enumerate(X):
        if isinstance(row, (numbers.Real, str, bytes)) or not hasattr(row, "__iter__"):
            raise TypeError(
                f"{name}[{i}] is {row!r}, not a row; {name} must be a list of rows, "
                f"e.g. [[x] for x in xs] for a single feature"
            )
        try:
            rows.append([float(v) for v in row])
        except (TypeError, ValueError):
            raise TypeError(f"{name}[{i}] must hold numbers, got {row!r}") from None
        if len(rows[-1]) != len(rows[0]):
            raise ValueError(f"{name}[{i}] has {len(row)} features but {name}[0] has {len(rows[0])}")
    if not rows:
        raise ValueError(f"{name} is empty")
    return rows


def _same_length(X: Sequence[Any], y: Sequence[Any]) -> None:
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels; they must match")


def _shuffled(X: Matrix, y: list[int], rng: random.Random) -> tuple[Matrix, list[int]]:
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    """``n`` evenly spaced numbers from ``start`` to ``stop``, as ``numpy.linspace``."""
    if n <= 1:
        return [start] * n
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


# --------------------------------------------------------------------------
# Truth tables
# --------------------------------------------------------------------------
_GATES = {
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
    "xor": (0, 1, 1, 0),
    "nand": (1, 1, 1, 0),
    "nor": (1, 0, 0, 0),
}


def logic_gate(name: str) -> tuple[Matrix, list[int]]:
    """The truth table of a two-input gate: inputs ``[0,0], [0,1], [1,0], [1,1]`` and 0/1 outputs.

    ``name`` is one of ``"and", "or", "xor", "nand", "nor"``.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _GATES:
        raise ValueError(f"unknown logic gate {name!r}; choose one of {', '.join(map(repr, _GATES))}")
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return X, list(_GATES[key])


def xor() -> tuple[Matrix, list[int]]:
    """The four XOR points: ``y = 1`` when exactly one input is 1. No straight line separates them."""
    return logic_gate("xor")


# --------------------------------------------------------------------------
# Generators (scikit-learn's geometry)
# --------------------------------------------------------------------------
def _add_noise(X: Matrix, noise: float, rng: random.Random) -> Matrix:
    if noise:
        return [[v + rng.gauss(0.0, noise) for v in row] for row in X]
    return X


def make_moons(n_samples: int = 100, noise: float = 0.0, random_state: RandomState = None,
               shuffle: bool = True) -> tuple[Matrix, list[int]]:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons``.

    Class 0 (``n_samples // 2`` points): ``[cos t, sin t]``; class 1 (the rest):
    ``[1 - cos t, 1 - sin t - 0.5]``; ``t`` evenly spaced in ``[0, pi]``; then
    Gaussian noise of standard deviation ``noise`` on every coordinate.
    """
    n = _count("n_samples", n_samples)
    noise = _nonnegative("noise", noise)
    rng = _rng(random_state)
    n_out = n // 2
    n_in = n - n_out
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_out)]
    X += [[1.0 - math.cos(t), 1.0 - math.sin(t) - 0.5] for t in _linspace(0.0, math.pi, n_in)]
    y = [0] * n_out + [1] * n_in
    if shuffle:
        X, y = _shuffled(X, y, rng)
    return _add_noise(X, noise, rng), y


def make_circles(n_samples: int = 100, noise: float = 0.0, random_state: RandomState = None,
                 factor: float = 0.8, shuffle: bool = True) -> tuple[Matrix, list[int]]:
    """A small circle inside a large one, as ``sklearn.datasets.make_circles``.

    Class 0 (``n_samples // 2`` points): ``[cos t, sin t]``; class 1 (the rest):
    ``factor * [cos t, sin t]``; ``t`` evenly spaced in ``[0, 2 pi)``; then
    Gaussian noise of standard deviation ``noise``. ``0 <= factor < 1``.
    """
    n = _count("n_samples", n_samples)
    noise = _nonnegative("noise", noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0.0 <= factor < 1.0:
        raise ValueError(f"factor (inner radius / outer radius) must be in [0, 1), got {factor!r}")
    rng = _rng(random_state)
    n_out = n // 2
    n_in = n - n_out
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_out, endpoint=False)]
    X += [[factor * math.cos(t), factor * math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_in, endpoint=False)]
    y = [0] * n_out + [1] * n_in
    if shuffle:
        X, y = _shuffled(X, y, rng)
    return _add_noise(X, noise, rng), y


def _split(n: int, k: int) -> list[int]:
    """``n`` items over ``k`` groups as scikit-learn does: ``n // k`` each, one more for the first ``n % k``."""
    return [n // k + (1 if j < n % k else 0) for j in range(k)]


def make_spirals(n_samples: int = 100, noise: float = 0.0, random_state: RandomState = None,
                 n_classes: int = 2, shuffle: bool = True) -> tuple[Matrix, list[int]]:
    """Interleaved spiral arms, one per class (the CS231n spiral).

    Arm ``j``: radius ``r`` evenly spaced in ``[0, 1]``, angle
    ``t = 4 j + 4 r + N(0, noise)`` radians, point ``[r sin t, r cos t]``.
    The noise moves points along their circle (CS231n uses ``noise=0.2``).
    """
    n = _count("n_samples", n_samples)
    noise = _nonnegative("noise", noise)
    k = _count("n_classes", n_classes, minimum=2)
    if n < k:
        raise ValueError(f"n_samples={n} is too few for {k} classes; give at least one point per class")
    rng = _rng(random_state)
    X: Matrix = []
    y: list[int] = []
    for j, count in enumerate(_split(n, k)):
        radii = _linspace(0.0, 1.0, count)
        angles = _linspace(4.0 * j, 4.0 * (j + 1), count)
        for r, t in zip(radii, angles, strict=True):
            if noise:
                t += rng.gauss(0.0, noise)
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(j)
    if shuffle:
        X, y = _shuffled(X, y, rng)
    return X, y


def make_blobs(n_samples: int = 100, centers: int | Sequence[Sequence[float]] = 3, n_features: int = 2,
               cluster_std: float | Sequence[float] = 1.0, random_state: RandomState = None,
               center_box: tuple[float, float] = (-10.0, 10.0), shuffle: bool = True) -> tuple[Matrix, list[int]]:
    """Gaussian clusters, as ``sklearn.datasets.make_blobs``.

    ``centers`` is a number of clusters (centres drawn uniformly in
    ``center_box`` for every feature) or a list of centre points.
    Cluster ``j`` gets ``n_samples // k`` points (one more for the first
    ``n_samples % k``) drawn from ``N(centre_j, cluster_std_j**2)`` per feature.
    """
    n = _count("n_samples", n_samples)
    rng = _rng(random_state)
    if isinstance(centers, numbers.Integral) and not isinstance(centers, bool):
        k = _count("centers", centers)
        d = _count("n_features", n_features)
        low, high = center_box
        points = [[rng.uniform(low, high) for _ in range(d)] for _ in range(k)]
    else:
        points = _matrix(centers, "centers")
        k = len(points)
    if isinstance(cluster_std, numbers.Real):
        stds = [_nonnegative("cluster_std", cluster_std)] * k
    else:
        stds = [_nonnegative("cluster_std", s) for s in cluster_std]
        if len(stds) != k:
            raise ValueError(f"cluster_std has {len(stds)} entries for {k} centers")
    X: Matrix = []
    y: list[int] = []
    for j, count in enumerate(_split(n, k)):
        for _ in range(count):
            X.append([rng.gauss(c, stds[j]) for c in points[j]])
            y.append(j)
    if shuffle:
        X, y = _shuffled(X, y, rng)
    return X, y


def load_iris() -> tuple[Matrix, list[int]]:
    """Fisher's Iris data: 150 flowers, 4 measurements in cm, 3 species of 50.

    Features: ``IRIS_FEATURES`` (sepal length, sepal width, petal length,
    petal width); labels 0, 1, 2 for ``IRIS_CLASSES`` (setosa, versicolor,
    virginica), in that order. The CSV ships inside the package (source: UCI
    Machine Learning Repository, with Fisher's values).
    """
    text = resources.files("nn").joinpath("datasets").joinpath("iris.csv").read_text(encoding="utf-8")
    reader = csv.reader(text.splitlines())
    next(reader)  # header
    X, y = [], []
    for row in reader:
        X.append([float(v) for v in row[:4]])
        y.append(IRIS_CLASSES.index(row[4]))
    return X, y


# --------------------------------------------------------------------------
# Splitting, scaling, encoding, batching
# --------------------------------------------------------------------------
def train_test_split(X: Sequence[Any], y: Sequence[Any], test_size: float | int = 0.25,
                     random_state: RandomState = None, shuffle: bool = True
                     ) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Split rows into a training and a test set: ``X_train, X_test, y_train, y_test``.

    As ``sklearn.model_selection.train_test_split``: a float ``test_size`` in
    (0, 1) gives ``ceil(test_size * n)`` test rows, an int gives exactly that
    many. The rows are shuffled first unless ``shuffle=False`` (then the test
    set is the last rows).
    """
    _same_length(X, y)
    n = len(X)
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction or a number of rows, got {type(test_size).__name__}")
    if isinstance(test_size, numbers.Integral):
        if not 0 < test_size < n:
            raise ValueError(f"test_size={test_size} rows must be between 1 and {n - 1} for {n} rows")
        n_test = int(test_size)
    else:
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size must be a fraction in (0, 1) or a whole number of rows, got {test_size!r}")
        n_test = math.ceil(test_size * n)
    if n_test >= n:
        raise ValueError(f"test_size={test_size} leaves no training rows out of {n}; use a smaller test_size")
    order = list(range(n))
    if shuffle:
        _rng(random_state).shuffle(order)
        test, train = order[:n_test], order[n_test:]
    else:
        train, test = order[: n - n_test], order[n - n_test:]
    return [X[i] for i in train], [X[i] for i in test], [y[i] for i in train], [y[i] for i in test]


def standardize(X: Sequence[Sequence[float]], mean: Sequence[float] | None = None,
                std: Sequence[float] | None = None) -> tuple[Matrix, list[float], list[float]]:
    """Rescale each feature to mean 0 and standard deviation 1: ``x' = (x - mean) / std``.

    Returns ``(X_scaled, mean, std)``. Without ``mean``/``std`` they are
    computed from ``X`` (population standard deviation, as scikit-learn's
    ``StandardScaler``); pass the training set's statistics to scale test
    data the same way. A constant feature has ``std`` 1.0 (it becomes 0).
    """
    rows = _matrix(X)
    n, d = len(rows), len(rows[0])
    columns = list(zip(*rows, strict=True))
    mean = [sum(col) / n for col in columns] if mean is None else [float(m) for m in mean]
    if len(mean) != d:
        raise ValueError(f"X has {d} features but mean has {len(mean)}")
    if std is None:
        std = [math.sqrt(sum((v - m) ** 2 for v in col) / n) for col, m in zip(columns, mean, strict=True)]
        std = [s if s > 0.0 else 1.0 for s in std]
    std = [float(s) for s in std]
    if len(std) != d:
        raise ValueError(f"X has {d} features but std has {len(std)}")
    if any(not s > 0.0 for s in std):
        raise ValueError(f"std must be positive for every feature, got {std}")
    scaled = [[(v - m) / s for v, m, s in zip(row, mean, std, strict=True)] for row in rows]
    return scaled, mean, std


def minmax_scale(X: Sequence[Sequence[float]], data_min: Sequence[float] | None = None,
                 data_max: Sequence[float] | None = None, feature_range: tuple[float, float] = (0.0, 1.0)
                 ) -> tuple[Matrix, list[float], list[float]]:
    """Rescale each feature linearly so ``data_min`` maps to ``low`` and ``data_max`` to ``high``.

    ``x' = low + (x - data_min) / (data_max - data_min) * (high - low)`` with
    ``(low, high) = feature_range``. Returns ``(X_scaled, data_min, data_max)``;
    pass the training set's ``data_min``/``data_max`` to scale test data the
    same way. A constant feature maps to ``low``.
    """
    rows = _matrix(X)
    d = len(rows[0])
    low, high = (float(v) for v in feature_range)
    if not low < high:
        raise ValueError(f"feature_range must be (low, high) with low < high, got {feature_range!r}")
    data_min = [min(col) for col in zip(*rows, strict=True)] if data_min is None else [float(v) for v in data_min]
    data_max = [max(col) for col in zip(*rows, strict=True)] if data_max is None else [float(v) for v in data_max]
    if len(data_min) != d or len(data_max) != d:
        raise ValueError(f"X has {d} features but data_min has {len(data_min)} and data_max {len(data_max)}")
    scale = [(high - low) / (b - a) if b > a else 0.0 for a, b in zip(data_min, data_max, strict=True)]
    scaled = [[low + (v - a) * s for v, a, s in zip(row, data_min, scale, strict=True)] for row in rows]
    return scaled, data_min, data_max


def one_hot(labels: Sequence[int], num_classes: int | None = None) -> Matrix:
    """Each label ``c`` as a row of ``num_classes`` floats, 1.0 at position ``c`` and 0.0 elsewhere.

    ``num_classes`` defaults to ``max(labels) + 1``.
    """
    ints = []
    for i, c in enumerate(labels):
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or c < 0 or c != int(c):
            raise ValueError(f"labels must be whole numbers 0, 1, 2, ...; labels[{i}] is {c!r}")
        ints.append(int(c))
    k = (max(ints) + 1 if ints else 0) if num_classes is None else _count("num_classes", num_classes)
    for i, c in enumerate(ints):
        if c >= k:
            raise ValueError(f"labels[{i}] is {c}, too large for num_classes={k} (labels go 0..{k - 1})")
    return [[1.0 if j == c else 0.0 for j in range(k)] for c in ints]


def batches(X: Sequence[Any], y: Sequence[Any], batch_size: int, shuffle: bool = True,
            random_state: RandomState = None) -> Iterator[tuple[list[Any], list[Any]]]:
    """An iterator of ``(X_batch, y_batch)`` pairs that cover every row exactly once (one epoch).

    Every batch has ``batch_size`` rows except perhaps the last. Pass the
    same ``random.Random`` each epoch to get a new order each time, or an
    int seed to get the same order every time.
    """
    _same_length(X, y)  # checked now, not at the first next()
    size = _count("batch_size", batch_size)
    order = list(range(len(X)))
    if shuffle:
        _rng(random_state).shuffle(order)
    return _batches(X, y, order, size)


def _batches(X: Sequence[Any], y: Sequence[Any], order: list[int], size: int
             ) -> Iterator[tuple[list[Any], list[Any]]]:
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        yield [X[i] for i in chunk], [y[i] for i in chunk]
