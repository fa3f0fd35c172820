"""nn.data: generators, Iris, splitting, scaling, encoding and batching."""

from __future__ import annotations

import math
import random

import pytest

from nn.data import (
    IRIS_CLASSES,
    IRIS_FEATURES,
    batches,
    load_iris,
    logic_gate,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    minmax_scale,
    one_hot,
    standardize,
    train_test_split,
    xor,
)

GENERATORS = [make_moons, make_circles, make_spirals, make_blobs]


def column_stats(X):
    cols = list(zip(*X, strict=True))
    means = [sum(c) / len(c) for c in cols]
    stds = [math.sqrt(sum((v - m) ** 2 for v in c) / len(c)) for c, m in zip(cols, means, strict=True)]
    return means, stds


# ---- truth tables ----------------------------------------------------------
def test_xor_points():
    X, y = xor()
    assert X == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert y == [0, 1, 1, 0]


@pytest.mark.parametrize(
    "name, expected",
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]), ("nand", [1, 1, 1, 0]),
     ("nor", [1, 0, 0, 0]), ("AND", [0, 0, 0, 1])],
)
def test_logic_gates(name, expected):
    X, y = logic_gate(name)
    assert y == expected
    # every label is the gate applied to its own inputs
    ops = {"and": lambda a, b: a and b, "or": lambda a, b: a or b, "xor": lambda a, b: a != b,
           "nand": lambda a, b: not (a and b), "nor": lambda a, b: not (a or b)}
    assert y == [int(ops[name.lower()](bool(a), bool(b))) for a, b in X]


def test_unknown_gate_lists_the_names():
    with pytest.raises(ValueError, match="'and', 'or', 'xor', 'nand', 'nor'"):
        logic_gate("xnor")


# ---- generators ------------------------------------------------------------
@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("n", [1, 7, 100, 101])
def test_shapes_and_labels(make, n):
    if make is make_spirals and n == 1:
        pytest.skip("two spirals need two points")
    X, y = make(n_samples=n, random_state=0)
    assert len(X) == len(y) == n
    assert all(len(row) == 2 and all(isinstance(v, float) for v in row) for row in X)
    assert all(isinstance(c, int) for c in y)
    assert set(y) <= {0, 1, 2}


@pytest.mark.parametrize("make", GENERATORS)
def test_seeded_generators_are_deterministic_and_seeds_differ(make):
    kwargs = {} if make is make_blobs else {"noise": 0.1}
    assert make(50, random_state=3, **kwargs) == make(50, random_state=3, **kwargs)
    assert make(50, random_state=3, **kwargs) != make(50, random_state=4, **kwargs)


@pytest.mark.parametrize("make", [make_moons, make_circles])
def test_two_class_split_like_sklearn(make):
    X, y = make(n_samples=101, random_state=0)
    assert y.count(0) == 50 and y.count(1) == 51


def test_moons_geometry_without_noise():
    X, y = make_moons(n_samples=100, shuffle=False)
    assert X[0] == [1.0, 0.0] and y[0] == 0  # outer moon starts at t = 0
    assert X[49] == pytest.approx([-1.0, 0.0], abs=1e-15)  # and ends at t = pi
    assert X[50] == [0.0, 0.5] and y[50] == 1  # inner moon: [1 - cos 0, 1 - sin 0 - 0.5]
    assert X[99] == pytest.approx([2.0, 0.5])
    for (a, b), c in zip(X, y, strict=True):
        if c == 0:
            assert a * a + b * b == pytest.approx(1.0)  # on the unit circle
        else:
            assert (a - 1.0) ** 2 + (b - 0.5) ** 2 == pytest.approx(1.0)  # centred at (1, 0.5)
            assert b <= 0.5 + 1e-12


def test_moons_noise_has_the_right_size():
    clean, y = make_moons(n_samples=2000, random_state=0)
    noisy, y2 = make_moons(n_samples=2000, noise=0.1, random_state=0)
    assert y == y2  # same shuffle, noise added afterwards
    diffs = [b - a for r, s in zip(clean, noisy, strict=True) for a, b in zip(r, s, strict=True)]
    assert sum(diffs) / len(diffs) == pytest.approx(0.0, abs=0.01)
    assert math.sqrt(sum(d * d for d in diffs) / len(diffs)) == pytest.approx(0.1, rel=0.05)


def test_circles_radii():
    X, y = make_circles(n_samples=60, factor=0.3, random_state=1)
    for (a, b), c in zip(X, y, strict=True):
        assert math.hypot(a, b) == pytest.approx(1.0 if c == 0 else 0.3)
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.0)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_spirals(k):
    X, y = make_spirals(n_samples=10 * k + 1, n_classes=k, random_state=0)
    assert [y.count(j) for j in range(k)] == [11] + [10] * (k - 1)
    assert max(math.hypot(a, b) for a, b in X) == pytest.approx(1.0)


def test_spiral_arm_follows_the_cs231n_formula():
    X, y = make_spirals(n_samples=10, n_classes=2, shuffle=False)
    # arm 1, last point: r = 1, t = 8
    assert X[9] == pytest.approx([math.sin(8.0), math.cos(8.0)])
    assert X[5] == [0.0, 0.0] and y[5] == 1


def test_blobs_centres_and_spread():
    centers = [[0.0, 0.0], [10.0, -5.0]]
    X, y = make_blobs(n_samples=4000, centers=centers, cluster_std=[0.5, 2.0], random_state=0)
    assert y.count(0) == y.count(1) == 2000
    for j, (c, s) in enumerate(zip(centers, [0.5, 2.0], strict=True)):
        means, stds = column_stats([x for x, label in zip(X, y, strict=True) if label == j])
        assert means == pytest.approx(c, abs=0.1)
        assert stds == pytest.approx([s, s], rel=0.05)


def test_blobs_features_and_counts():
    X, y = make_blobs(n_samples=10, centers=4, n_features=5, random_state=0)
    assert all(len(row) == 5 for row in X)
    assert sorted(y.count(j) for j in range(4)) == [2, 2, 3, 3]


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: make_moons(n_samples=0), ValueError),
        (lambda: make_moons(n_samples=2.5), ValueError),
        (lambda: make_moons(noise=-0.1), ValueError),
        (lambda: make_moons(random_state="seed"), TypeError),
        (lambda: make_spirals(n_classes=1), ValueError),
        (lambda: make_spirals(n_samples=2, n_classes=3), ValueError),
        (lambda: make_blobs(cluster_std=[1.0, 2.0]), ValueError),
    ],
)
def test_generator_errors(call, error):
    with pytest.raises(error):
        call()


# ---- Iris ------------------------------------------------------------------
def test_iris():
    X, y = load_iris()
    assert len(X) == len(y) == 150
    assert all(len(row) == 4 for row in X)
    assert [y.count(c) for c in range(3)] == [50, 50, 50]
    assert y == [0] * 50 + [1] * 50 + [2] * 50
    means, _ = column_stats(X)
    assert [round(m, 3) for m in means] == [5.843, 3.057, 3.758, 1.199]
    assert X[0] == [5.1, 3.5, 1.4, 0.2]
    assert X[34] == [4.9, 3.1, 1.5, 0.2] and X[37] == [4.9, 3.6, 1.4, 0.1]  # Fisher's values
    assert min(r[2] for r in X) == 1.0 and max(r[2] for r in X) == 6.9
    assert IRIS_FEATURES[2] == "petal_length" and IRIS_CLASSES == ("setosa", "versicolor", "virginica")


def test_iris_setosa_is_linearly_separable_by_petal_length():
    X, y = load_iris()
    assert max(r[2] for r, c in zip(X, y, strict=True) if c == 0) < min(r[2] for r, c in zip(X, y, strict=True) if c)


# ---- train_test_split ------------------------------------------------------
@pytest.mark.parametrize("n, test_size, n_test", [(150, 0.25, 38), (100, 0.25, 25), (10, 0.33, 4), (10, 3, 3)])
def test_split_sizes_follow_sklearn(n, test_size, n_test):
    X = [[float(i)] for i in range(n)]
    y = list(range(n))
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=0)
    assert len(X_test) == len(y_test) == n_test
    assert len(X_train) == len(y_train) == n - n_test
    # every row exactly once, and rows stay with their labels
    assert sorted(y_train + y_test) == y
    assert all(x == [float(c)] for x, c in zip(X_train + X_test, y_train + y_test, strict=True))


def test_split_is_seeded_and_shuffles():
    X, y = make_moons(50, random_state=0)
    assert train_test_split(X, y, random_state=1) == train_test_split(X, y, random_state=1)
    assert train_test_split(X, y, random_state=1) != train_test_split(X, y, random_state=2)
    ids = list(range(20))
    _, test, _, _ = train_test_split(ids, ids, random_state=0)
    assert test != ids[-5:]


def test_split_without_shuffle_keeps_order():
    ids = list(range(8))
    assert train_test_split(ids, ids, test_size=0.25, shuffle=False) == (
        [0, 1, 2, 3, 4, 5], [6, 7], [0, 1, 2, 3, 4, 5], [6, 7])


@pytest.mark.parametrize("test_size", [0.0, 1.0, 1.5, 0, 10, -1, "0.2"])
def test_split_rejects_bad_sizes(test_size):
    ids = list(range(10))
    with pytest.raises((ValueError, TypeError)):
        train_test_split(ids, ids, test_size=test_size)


def test_split_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 rows but y has 2"):
        train_test_split([1, 2, 3], [0, 1])


# ---- scaling ---------------------------------------------------------------
def test_standardize_gives_mean_0_std_1():
    X, _ = load_iris()
    Z, mean, std = standardize(X)
    means, stds = column_stats(Z)
    assert means == pytest.approx([0.0] * 4, abs=1e-12)
    assert stds == pytest.approx([1.0] * 4)
    assert [round(m, 3) for m in mean] == [5.843, 3.057, 3.758, 1.199]
    assert std[0] == pytest.approx(0.8253012917851409)  # population std of sepal length


def test_standardize_test_data_with_training_statistics():
    train = [[1.0, 10.0], [3.0, 30.0]]
    _, mean, std = standardize(train)
    assert (mean, std) == ([2.0, 20.0], [1.0, 10.0])
    test_scaled, mean2, std2 = standardize([[5.0, 0.0]], mean, std)
    assert test_scaled == [[3.0, -2.0]]
    assert (mean2, std2) == (mean, std)


def test_standardize_constant_feature():
    Z, _, std = standardize([[1.0, 5.0], [3.0, 5.0]])
    assert std == [1.0, 1.0]
    assert [row[1] for row in Z] == [0.0, 0.0]


def test_minmax_scale():
    X = [[1.0, -2.0], [3.0, 2.0], [2.0, 0.0]]
    Z, lo, hi = minmax_scale(X)
    assert Z == [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]]
    assert (lo, hi) == ([1.0, -2.0], [3.0, 2.0])
    Z2, _, _ = minmax_scale([[5.0, 0.0]], lo, hi, feature_range=(-1.0, 1.0))
    assert Z2 == [[3.0, 0.0]]  # test data may fall outside the range
    assert minmax_scale([[4.0], [4.0]])[0] == [[0.0], [0.0]]


@pytest.mark.parametrize(
    "call",
    [
        lambda: standardize([1.0, 2.0]),
        lambda: standardize([]),
        lambda: standardize([[1.0, 2.0], [3.0]]),
        lambda: standardize([[1.0, 2.0]], mean=[0.0]),
        lambda: standardize([[1.0]], std=[0.0]),
        lambda: minmax_scale([[1.0]], feature_range=(1.0, 0.0)),
        lambda: minmax_scale([["a"]]),
    ],
)
def test_scaling_errors(call):
    with pytest.raises((ValueError, TypeError)):
        call()


def test_a_flat_list_gets_a_hint():
    with pytest.raises(TypeError, match=r"\[\[x\] for x in xs\]"):
        standardize([1.0, 2.0])


# ---- one_hot ---------------------------------------------------------------
def test_one_hot():
    assert one_hot([2, 0, 1]) == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert one_hot([1], num_classes=4) == [[0.0, 1.0, 0.0, 0.0]]
    assert one_hot([1.0, 0.0]) == [[0.0, 1.0], [1.0, 0.0]]
    assert one_hot([]) == []


@pytest.mark.parametrize("labels, k", [([0, 3], 3), ([-1], None), ([0.5], None), ([True], None), ([0], 0)])
def test_one_hot_errors(labels, k):
    with pytest.raises(ValueError):
        one_hot(labels, k)


# ---- batches ---------------------------------------------------------------
@pytest.mark.parametrize("n, size", [(10, 3), (10, 5), (10, 1), (10, 10), (10, 32)])
def test_batches_cover_every_row_once(n, size):
    X = [[float(i)] for i in range(n)]
    y = list(range(n))
    out = list(batches(X, y, size, random_state=0))
    assert [len(yb) for _, yb in out] == [min(size, n - i) for i in range(0, n, size)]
    assert sorted(c for _, yb in out for c in yb) == y
    assert all(xb == [[float(c)] for c in yb] for xb, yb in out)


def test_batches_order():
    ids = list(range(20))
    in_order = [yb for _, yb in batches(ids, ids, 5, shuffle=False)]
    assert in_order == [ids[0:5], ids[5:10], ids[10:15], ids[15:20]]
    seeded = [yb for _, yb in batches(ids, ids, 5, random_state=0)]
    assert seeded == [yb for _, yb in batches(ids, ids, 5, random_state=0)]
    assert seeded != in_order
    rng = random.Random(0)  # one generator across epochs: a new order each epoch
    epoch1 = [yb for _, yb in batches(ids, ids, 5, random_state=rng)]
    epoch2 = [yb for _, yb in batches(ids, ids, 5, random_state=rng)]
    assert epoch1 == seeded and epoch2 != epoch1


def test_batches_check_arguments_at_once():
    with pytest.raises(ValueError, match="batch_size"):
        batches([1, 2], [1, 2], 0)
    with pytest.raises(ValueError, match="2 rows but y has 1"):
        batches([1, 2], [1], 1)
