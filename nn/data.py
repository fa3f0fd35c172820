"""Toy data sets and the small tools around them, as plain Python lists.

The generators follow scikit-learn's ``sklearn.datasets``: each returns
``(X, y)`` where ``X`` is a list of rows (lists of floats), ``y`` a list of
integer labels ``0..k-1``, ``n_samples`` is the total number of rows, and
``random_state`` is an int seed or a ``random.Random``; ``None`` draws from
Python's global ``random``, so ``random.seed(s)`` reproduces a whole run.
``load(name)`` makes any of the data sets in ``DATASETS`` by name::

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
import random
import sys
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import Any

from .checks import RandomSource, as_rng, is_integer, is_real, positive_int, real, shorten, show
from .metrics import class_labels

__all__ = [
    "DATASETS",
    "load",
    "make_xor",
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
def _rng(random_state: object) -> RandomSource:
    """The random source: ``None`` -> the global ``random`` module, an int -> a seeded ``random.Random``."""
    return as_rng(random_state, "random_state")


def _nonnegative(name: str, x: object) -> float:
    value = real(x, name)
    if not value >= 0.0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return value


def _matrix(X: Sequence[Sequence[float]], name: str = "X") -> Matrix:
    """``X`` as a list of equally long rows of floats."""
    if isinstance(X, (str, bytes)) or not hasattr(X, "__iter__"):
        raise TypeError(f"{name} must be a list of rows (lists of numbers), got {type(X).__name__}")
    rows = []
    for i, row in enumerate(X):
        if is_real(row) or isinstance(row, (bool, str, bytes)) or not hasattr(row, "__iter__"):
            raise TypeError(
                f"{name}[{i}] is {row!r}, not a row; {name} must be a list of rows, "
                f"e.g. [[x] for x in xs] for a single feature"
            )
        try:
            rows.append([float(v) for v in row])
        except (TypeError, ValueError):
            raise TypeError(f"{name}[{i}] must hold numbers, got {shorten(repr(row))}") from None
        except OverflowError:
            raise ValueError(f"{name}[{i}] holds a number too large for a float: {shorten(repr(row))}") from None
        if len(rows[-1]) != len(rows[0]):
            raise ValueError(f"{name}[{i}] has {len(row)} features but {name}[0] has {len(rows[0])}")
    if not rows:
        raise ValueError(f"{name} is empty")
    return rows


def _same_length(X: Sequence[Any], y: Sequence[Any]) -> None:
    if len(X) != len(y):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels; they must match")


def _shuffled(X: Matrix, y: list[int], rng: RandomSource) -> tuple[Matrix, list[int]]:
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
def _add_noise(X: Matrix, noise: float, rng: RandomSource) -> Matrix:
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
    n = positive_int(n_samples, "n_samples")
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
    n = positive_int(n_samples, "n_samples")
    noise = _nonnegative("noise", noise)
    if not is_real(factor) or not 0.0 <= factor < 1.0:  # type: ignore[operator]
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
    n = positive_int(n_samples, "n_samples")
    noise = _nonnegative("noise", noise)
    k = positive_int(n_classes, "n_classes", minimum=2)
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
    n = positive_int(n_samples, "n_samples")
    rng = _rng(random_state)
    if is_integer(centers):
        k = positive_int(centers, "centers")
        d = positive_int(n_features, "n_features")
        low, high = _box(center_box)
        points = [[rng.uniform(low, high) for _ in range(d)] for _ in range(k)]
    else:
        points = _matrix(centers, "centers")
        k = len(points)
    if is_real(cluster_std):
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


def _box(center_box: object) -> tuple[float, float]:
    if not isinstance(center_box, (tuple, list)) or len(center_box) != 2:
        raise TypeError(f"center_box must be a pair (low, high), got {show(center_box)}")
    low, high = real(center_box[0], "center_box[0]"), real(center_box[1], "center_box[1]")
    if low > high:
        raise ValueError(f"center_box must be (low, high) with low <= high, got {show(center_box)}")
    return low, high


def make_xor(n_samples: int = 100, noise: float = 0.0, random_state: RandomState = None) -> tuple[Matrix, list[int]]:
    """XOR as a cloud: points uniform in the square [-1, 1]^2, label 1 where exactly one coordinate is positive.

    That is XOR of "x1 > 0" and "x2 > 0", the truth table of ``xor()`` spread
    over four quadrants. Then Gaussian noise of standard deviation ``noise``
    on every coordinate (the label stays that of the point before the noise).
    """
    n = positive_int(n_samples, "n_samples")
    noise = _nonnegative("noise", noise)
    rng = _rng(random_state)
    X, y = [], []
    for _ in range(n):
        a, b = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        y.append(1 if (a > 0.0) != (b > 0.0) else 0)
        X.append([a + rng.gauss(0.0, noise), b + rng.gauss(0.0, noise)] if noise else [a, b])
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
# Every data set by name
# --------------------------------------------------------------------------
DATASETS: dict[str, str] = {
    "moons": "two interleaving half circles, 2 classes (make_moons)",
    "circles": "a circle inside a circle, 2 classes (make_circles)",
    "spirals": "interleaved spiral arms, 2 classes (make_spirals; n_classes=k for more)",
    "xor": "XOR: its four truth-table points, or with n_samples a cloud over four quadrants (make_xor)",
    "blobs": "Gaussian clusters, 3 classes (make_blobs)",
    "iris": "Fisher's 150 Iris flowers, 4 features, 3 classes (load_iris)",
}
"""The data sets ``load`` makes, each with a one-line description."""

_DEFAULT_NOISE = {"moons": 0.1, "circles": 0.05, "spirals": 0.1, "xor": 0.0, "blobs": 1.0}


def load(
    name: str,
    n_samples: int | None = None,
    noise: float | None = None,
    random_state: RandomState = None,
    **options: Any,
) -> tuple[Matrix, list[int]]:
    """The data set ``name`` from ``DATASETS`` as ``(X, y)``.

    ``n_samples`` defaults to 100 for the generated sets; ``"xor"`` without it
    is the four truth-table points of ``xor()``, with it ``make_xor``'s cloud;
    ``"iris"`` always has its 150 rows. ``noise`` is the standard deviation of
    the Gaussian noise (for ``"blobs"``: of each cluster); it defaults to 0.1
    for moons and spirals, 0.05 for circles, 0 for xor, 1.0 for blobs.
    ``random_state`` is an int seed, a ``random.Random``, or ``None`` (Python's
    global ``random``). ``options`` go to the generator, e.g.
    ``load("circles", factor=0.5)``, ``load("spirals", n_classes=3)``,
    ``load("blobs", centers=[[-1, -1], [1, 1]])``.

    >>> X, y = load("moons", n_samples=200, noise=0.2, random_state=0)
    """
    if not isinstance(name, str) or name not in DATASETS:
        raise ValueError(f"unknown data set {shorten(repr(name), 80)}; use one of {', '.join(map(repr, DATASETS))}")
    if name == "iris" or (name == "xor" and n_samples is None):
        if noise is not None or options or n_samples is not None:
            given = [k for k, v in {"n_samples": n_samples, "noise": noise, **options}.items() if v is not None]
            raise ValueError(f"{name!r} is a fixed data set; leave out {', '.join(given)}")
        return load_iris() if name == "iris" else xor()
    n = 100 if n_samples is None else n_samples
    sd = _DEFAULT_NOISE[name] if noise is None else noise
    if name == "moons":
        return make_moons(n, noise=sd, random_state=random_state, **options)
    if name == "circles":
        return make_circles(n, noise=sd, random_state=random_state, **options)
    if name == "spirals":
        return make_spirals(n, noise=sd, random_state=random_state, **options)
    if name == "xor":
        return make_xor(n, noise=sd, random_state=random_state, **options)
    return make_blobs(n, cluster_std=sd, random_state=random_state, **options)


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
    if not is_real(test_size):
        raise TypeError(f"test_size must be a fraction or a number of rows, got {show(test_size)}")
    if is_integer(test_size):
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
    rows = _finite(_matrix(X), "X")
    d = len(rows[0])
    columns = list(zip(*rows, strict=True))
    mean = [_mean(col) for col in columns] if mean is None else [real(m, "mean") for m in mean]
    if len(mean) != d:
        raise ValueError(f"X has {d} features but mean has {len(mean)}")
    if std is None:
        std = [_std(col, m) for col, m in zip(columns, mean, strict=True)]
        std = [s if s > 0.0 else 1.0 for s in std]
    std = [real(s, "std") for s in std]
    if len(std) != d:
        raise ValueError(f"X has {d} features but std has {len(std)}")
    if any(not s > 0.0 for s in std):
        raise ValueError(f"std must be positive for every feature, got {std}")
    scaled = [[(v - m) / s for v, m, s in zip(row, mean, std, strict=True)] for row in rows]
    return scaled, mean, std


def _mean(column: Sequence[float]) -> float:
    """sum / n; for numbers near the float limit (1e308) the sum is scaled first so it cannot overflow."""
    n = len(column)
    mean = sum(column) / n
    if math.isinf(mean):
        top = max(abs(v) for v in column)
        mean = sum(v / top for v in column) / n * top
    return mean


def _std(column: Sequence[float], mean: float) -> float:
    """sqrt(mean (x - mean)^2), the population standard deviation; scaled like ``_mean`` near the float limit."""
    n = len(column)
    std = math.sqrt(sum((v - mean) * (v - mean) for v in column) / n)
    if math.isinf(std):
        top = max(abs(v) for v in column)
        std = math.sqrt(sum((v / top - mean / top) ** 2 for v in column) / n) * top
    return std


def _finite(rows: Matrix, name: str) -> Matrix:
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if not math.isfinite(v):
                raise ValueError(f"{name}[{i}][{j}] is {v}; scaling needs finite numbers (drop or fill in that value)")
    return rows


def minmax_scale(X: Sequence[Sequence[float]], data_min: Sequence[float] | None = None,
                 data_max: Sequence[float] | None = None, feature_range: tuple[float, float] = (0.0, 1.0)
                 ) -> tuple[Matrix, list[float], list[float]]:
    """Rescale each feature linearly so ``data_min`` maps to ``low`` and ``data_max`` to ``high``.

    ``x' = low + (x - data_min) / (data_max - data_min) * (high - low)`` with
    ``(low, high) = feature_range``. Returns ``(X_scaled, data_min, data_max)``;
    pass the training set's ``data_min``/``data_max`` to scale test data the
    same way. A constant feature maps to ``low``.
    """
    rows = _finite(_matrix(X), "X")
    d = len(rows[0])
    if not isinstance(feature_range, (tuple, list)) or len(feature_range) != 2:
        raise TypeError(f"feature_range must be a pair (low, high), got {show(feature_range)}")
    low, high = real(feature_range[0], "feature_range[0]"), real(feature_range[1], "feature_range[1]")
    if not low < high:
        raise ValueError(f"feature_range must be (low, high) with low < high, got {feature_range!r}")
    data_min = [min(col) for col in zip(*rows, strict=True)] if data_min is None else [float(v) for v in data_min]
    data_max = [max(col) for col in zip(*rows, strict=True)] if data_max is None else [float(v) for v in data_max]
    if len(data_min) != d or len(data_max) != d:
        raise ValueError(f"X has {d} features but data_min has {len(data_min)} and data_max {len(data_max)}")
    scale = [(high - low) / (b - a) if b > a else 0.0 for a, b in zip(data_min, data_max, strict=True)]
    scaled = [[low + (v - a) * s for v, a, s in zip(row, data_min, scale, strict=True)] for row in rows]
    for j, (a, b) in enumerate(zip(data_min, data_max, strict=True)):
        if b > a and (math.isinf(b - a) or scale[j] < sys.float_info.min):
            # a range near the largest float (up to -1e308..1e308): its scale under- or overflows,
            # so divide by the range instead, in halves: (x - a) / (b - a) = (x/2 - a/2) / (b/2 - a/2)
            for row, out in zip(rows, scaled, strict=True):
                out[j] = low + (row[j] / 2 - a / 2) / (b / 2 - a / 2) * (high - low)
    return scaled, data_min, data_max


def one_hot(labels: Sequence[int], num_classes: int | None = None) -> Matrix:
    """Each label ``c`` as a row of ``num_classes`` floats, 1.0 at position ``c`` and 0.0 elsewhere.

    ``num_classes`` defaults to ``max(labels) + 1``. Labels are whole numbers
    from 0 to ``nn.metrics.MAX_CLASSES - 1``, checked before any row is built.
    """
    ints, k = class_labels(labels, "labels", num_classes)
    return [[1.0 if j == c else 0.0 for j in range(k)] for c in ints]


def batches(X: Sequence[Any], y: Sequence[Any], batch_size: int, shuffle: bool = True,
            random_state: RandomState = None) -> Iterator[tuple[list[Any], list[Any]]]:
    """An iterator of ``(X_batch, y_batch)`` pairs that cover every row exactly once (one epoch).

    Every batch has ``batch_size`` rows except perhaps the last. Pass the
    same ``random.Random`` each epoch to get a new order each time, or an
    int seed to get the same order every time.
    """
    _same_length(X, y)  # checked now, not at the first next()
    size = positive_int(batch_size, "batch_size")
    order = list(range(len(X)))
    if shuffle:
        _rng(random_state).shuffle(order)
    return _batches(X, y, order, size)


def _batches(X: Sequence[Any], y: Sequence[Any], order: list[int], size: int
             ) -> Iterator[tuple[list[Any], list[Any]]]:
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        yield [X[i] for i in chunk], [y[i] for i in chunk]
