"""nn.data: generators, Iris, splitting, scaling, encoding and batching."""

from __future__ import annotations

import math
import random

import pytest

from nn.data import (
    DATASETS,
    IRIS_CLASSES,
    IRIS_FEATURES,
    batches,
    load,
    load_iris,
    logic_gate,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
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


# ---- randomness: no seed means Python's global random -----------------------------------
EVERY_RANDOM = [
    lambda rs: make_moons(20, noise=0.1, random_state=rs),
    lambda rs: make_circles(20, noise=0.1, random_state=rs),
    lambda rs: make_spirals(20, noise=0.1, random_state=rs),
    lambda rs: make_blobs(20, random_state=rs),
    lambda rs: make_xor(20, noise=0.1, random_state=rs),
    lambda rs: load("moons", random_state=rs),
    lambda rs: train_test_split(list(range(20)), list(range(20)), random_state=rs),
    lambda rs: list(batches(list(range(20)), list(range(20)), batch_size=3, random_state=rs)),
]


@pytest.mark.parametrize("make", EVERY_RANDOM)
def test_random_seed_reproduces_what_has_no_seed(make):
    random.seed(3)
    first = make(None)
    random.seed(3)
    assert make(None) == first
    random.seed(4)
    assert make(None) != first


@pytest.mark.parametrize("make", EVERY_RANDOM)
def test_an_explicit_seed_wins_over_the_global_random(make):
    random.seed(3)
    first = make(5)
    random.seed(4)
    state = random.getstate()
    assert make(5) == first and make(random.Random(5)) == first
    assert random.getstate() == state  # and leaves it alone


def test_no_seed_draws_exactly_what_the_global_random_gives():
    random.seed(9)
    X, y = make_blobs(4, centers=[[0.0], [10.0]], cluster_std=1.0, shuffle=False)
    random.seed(9)
    assert X == [[random.gauss(0.0, 1.0)], [random.gauss(0.0, 1.0)], [random.gauss(10.0, 1.0)], [random.gauss(10.0, 1.0)]]
    assert y == [0, 0, 1, 1]


# ---- make_xor and load -------------------------------------------------------------
def test_make_xor_labels_the_quadrants_like_the_truth_table():
    X, y = make_xor(200, random_state=0)
    assert len(X) == len(y) == 200 and set(y) == {0, 1}
    assert all(-1.0 <= a <= 1.0 and -1.0 <= b <= 1.0 for a, b in X)
    assert y == [int((a > 0) != (b > 0)) for a, b in X]
    truth_X, truth_y = xor()  # [0, 1] -> 1 like the quadrant (x1 < 0, x2 > 0)
    assert truth_y == [int((a > 0.5) != (b > 0.5)) for a, b in truth_X]


def test_make_xor_noise_moves_points_after_labelling():
    rng = random.Random(1)
    expected, labels = [], []
    for _ in range(50):
        a, b = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        labels.append(int((a > 0) != (b > 0)))
        expected.append([a + rng.gauss(0.0, 0.3), b + rng.gauss(0.0, 0.3)])
    noisy, y = make_xor(50, noise=0.3, random_state=1)
    assert noisy == expected and y == labels  # the labels of the points before the noise
    assert y != [int((a > 0) != (b > 0)) for a, b in noisy]  # some points crossed an axis


@pytest.mark.parametrize(
    ("name", "call", "expected"),
    [
        ("moons", lambda: load("moons", random_state=0), lambda: make_moons(100, noise=0.1, random_state=0)),
        ("circles", lambda: load("circles", 50, 0.2, 1, factor=0.5), lambda: make_circles(50, noise=0.2, random_state=1, factor=0.5)),
        ("spirals", lambda: load("spirals", 30, random_state=2, n_classes=3), lambda: make_spirals(30, noise=0.1, random_state=2, n_classes=3)),
        ("blobs", lambda: load("blobs", 40, random_state=3), lambda: make_blobs(40, random_state=3)),
        ("blobs", lambda: load("blobs", 40, 0.5, 3, centers=[[-1.0, -1.0], [1.0, 1.0]]), lambda: make_blobs(40, centers=[[-1.0, -1.0], [1.0, 1.0]], cluster_std=0.5, random_state=3)),
        ("xor", lambda: load("xor"), xor),
        ("xor", lambda: load("xor", 30, random_state=4), lambda: make_xor(30, random_state=4)),
        ("iris", lambda: load("iris"), load_iris),
    ],
)
def test_load_makes_each_data_set_by_name(name, call, expected):
    assert name in DATASETS
    assert call() == expected()


def test_load_covers_every_listed_data_set():
    assert list(DATASETS) == ["moons", "circles", "spirals", "xor", "blobs", "iris"]
    for name in DATASETS:
        X, y = load(name, random_state=0)
        assert len(X) == len(y) > 0 and min(y) == 0


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: load("mooons"), ValueError, "unknown data set 'mooons'; use one of 'moons', 'circles'"),
        (lambda: load(3), ValueError, "unknown data set 3"),
        (lambda: load("iris", n_samples=10), ValueError, "'iris' is a fixed data set; leave out n_samples"),
        (lambda: load("xor", noise=0.1), ValueError, "'xor' is a fixed data set; leave out noise"),
        (lambda: load("moons", 0), ValueError, "n_samples must be a whole number >= 1"),
        (lambda: load("moons", noise="a"), TypeError, "noise must be a number, got str 'a'"),
        (lambda: load("moons", bogus=1), TypeError, "bogus"),
    ],
)
def test_load_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- huge and broken numbers -----------------------------------------------------------
def test_standardize_near_the_largest_float():
    scaled, mean, std = standardize([[1e308], [-1e308]])
    assert scaled == [[1.0], [-1.0]] and mean == [0.0] and std == [1e308]
    scaled, mean, std = standardize([[1e308], [1e308], [1.7e308]])
    assert mean == [pytest.approx(1.2333333333333333e308, rel=1e-15)]
    assert std[0] == pytest.approx(1e308 * math.sqrt(((0.7 / 3) ** 2 * 2 + (1.4 / 3) ** 2) / 3), rel=1e-14)
    assert all(math.isfinite(v) for row in scaled for v in row)


def test_standardize_keeps_ordinary_numbers_exact():
    X = [[1.0, -2.0], [3.0, 5.5], [0.25, 4.0]]
    cols = list(zip(*X, strict=True))
    mean = [sum(c) / 3 for c in cols]
    std = [math.sqrt(sum((v - m) ** 2 for v in c) / 3) for c, m in zip(cols, mean, strict=True)]
    assert standardize(X)[1:] == (mean, std)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_scaling_refuses_nan_and_inf(bad):
    for scale in (standardize, minmax_scale):
        with pytest.raises(ValueError, match=rf"X\[1\]\[0\] is {bad}; scaling needs finite numbers"):
            scale([[1.0], [bad]])


def test_minmax_scale_of_the_widest_range():
    scaled, low, high = minmax_scale([[-1e308], [0.0], [1e308]])
    assert scaled == [[0.0], [0.5], [1.0]] and (low, high) == ([-1e308], [1e308])
    assert minmax_scale([[0.0], [1e308]], feature_range=(-1.0, 1.0))[0] == [[-1.0], [1.0]]


def test_a_number_too_large_for_a_float_is_named():
    with pytest.raises(ValueError, match=r"X\[0\] holds a number too large for a float"):
        standardize([[10**400]])


@pytest.mark.parametrize(
    ("labels", "num_classes", "error", "message"),
    [
        ([math.inf], None, ValueError, r"labels\[0\] must be a class label \(a whole number\), got float inf"),
        ([math.nan], None, ValueError, r"labels\[0\] must be a class label \(a whole number\), got float nan"),
        ([1e300], None, ValueError, r"labels\[0\] is float 1e\+300: class labels go from 0 to 999"),
        ([10**5], None, ValueError, "class labels go from 0 to 999"),
        ([0], 10**9, ValueError, "num_classes must be at most 1000"),
        (["a"], None, TypeError, "got str 'a'"),
    ],
)
def test_one_hot_refuses_labels_before_allocating(labels, num_classes, error, message):
    with pytest.raises(error, match=message):
        one_hot(labels, num_classes)


@pytest.mark.parametrize(
    ("center_box", "error", "message"),
    [
        ((1, "a"), TypeError, r"center_box\[1\] must be a number, got str 'a'"),
        ((None, 1), TypeError, r"center_box\[0\] must be a number, got NoneType None"),
        ((0.0, math.inf), ValueError, r"center_box\[1\] must be a finite number"),
        ((5.0, -5.0), ValueError, "low <= high"),
        (3.0, TypeError, r"center_box must be a pair \(low, high\), got float 3.0"),
    ],
)
def test_blobs_center_box_is_checked(center_box, error, message):
    with pytest.raises(error, match=message):
        make_blobs(10, centers=2, center_box=center_box, random_state=0)


def test_noise_must_be_a_finite_number():
    with pytest.raises(TypeError, match="noise must be a number, got str '0.1'"):
        make_moons(noise="0.1")
    with pytest.raises(ValueError, match="noise must be a finite number"):
        make_circles(noise=math.inf)
