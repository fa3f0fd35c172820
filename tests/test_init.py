"""nn.init: sample statistics follow the formulas; the same seed gives the same weights."""

import math
import random
import statistics

import pytest

import nn
from nn import init

FAN_IN, FAN_OUT, N = 20, 30, 100_000

# name: (variance, half-width of the uniform range or None for a normal)
EXPECTED = {
    "uniform": (1 / 3, 1.0),
    "normal": (1.0, None),
    "lecun_uniform": (1 / FAN_IN, math.sqrt(3 / FAN_IN)),
    "lecun_normal": (1 / FAN_IN, None),
    "glorot_uniform": (2 / (FAN_IN + FAN_OUT), math.sqrt(6 / (FAN_IN + FAN_OUT))),
    "glorot_normal": (2 / (FAN_IN + FAN_OUT), None),
    "he_uniform": (2 / FAN_IN, math.sqrt(6 / FAN_IN)),
    "he_normal": (2 / FAN_IN, None),
}


@pytest.mark.parametrize("name", EXPECTED)
def test_sample_statistics_match_formula(name):
    variance, limit = EXPECTED[name]
    draw = init.get_init(name)
    rng = random.Random(0)
    xs = [draw(FAN_IN, FAN_OUT, rng) for _ in range(N)]
    std = math.sqrt(variance)
    assert abs(statistics.fmean(xs)) < 4 * std / math.sqrt(N)
    assert statistics.pvariance(xs) == pytest.approx(variance, rel=0.02)
    if limit is None:  # normal: about 68.3% within one standard deviation, symmetric
        inside = sum(abs(x) < std for x in xs) / N
        assert inside == pytest.approx(0.6827, abs=0.01)
        assert max(abs(x) for x in xs) > 3 * std
    else:  # uniform: inside the limits and reaching close to them
        assert max(abs(x) for x in xs) <= limit
        assert min(xs) < -0.99 * limit and max(xs) > 0.99 * limit


def test_zeros():
    assert {init.zeros(3, 4, random.Random(0)) for _ in range(10)} == {0.0}


def test_uniform_and_normal_take_their_own_parameters():
    rng = random.Random(1)
    xs = [init.uniform(1, 1, rng, a=2.0, b=3.0) for _ in range(1000)]
    assert 2.0 <= min(xs) and max(xs) <= 3.0
    ys = [init.normal(1, 1, rng, mean=5.0, std=0.1) for _ in range(5000)]
    assert statistics.fmean(ys) == pytest.approx(5.0, abs=0.01)
    assert statistics.stdev(ys) == pytest.approx(0.1, rel=0.05)


def test_aliases():
    assert init.get_init("xavier_uniform") is init.glorot_uniform
    assert init.get_init("xavier_normal") is init.glorot_normal
    assert init.get_init("kaiming_uniform") is init.he_uniform
    assert init.get_init("kaiming_normal") is init.he_normal
    assert nn.init.xavier_uniform is nn.init.glorot_uniform


@pytest.mark.parametrize("name", [*EXPECTED, "zeros"])
def test_same_seed_same_weights(name):
    a = nn.MLP(3, [5, 2], init=name, rng=42)
    b = nn.MLP(3, [5, 2], init=name, rng=random.Random(42))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]
    if name != "zeros":
        c = nn.MLP(3, [5, 2], init=name, rng=43)
        assert [p.data for p in a.parameters()] != [p.data for p in c.parameters()]


def test_a_seeded_model_ignores_the_global_random_state():
    random.seed(0)
    a = nn.MLP(2, [4, 1], rng=7)
    random.seed(99)
    b = nn.MLP(2, [4, 1], rng=7)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


def test_default_init_is_micrograds_uniform_from_global_random():
    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    expected = [random.uniform(-1, 1) for _ in range(2 * 16 + 16 * 16 + 16)]
    weights = [p.data for name, p in ours.named_parameters() if ".w." in name]
    assert weights == expected
    assert all(p.data == 0.0 for name, p in ours.named_parameters() if name.endswith(".b"))


def test_biases_start_at_zero_whatever_the_init():
    model = nn.MLP(2, [3, 1], init="normal", rng=0)
    assert [p.data for n, p in model.named_parameters() if n.endswith(".b")] == [0.0] * 4


def test_custom_init_receives_fan_in_and_fan_out():
    seen = []

    def record(fan_in, fan_out, rng):
        seen.append((fan_in, fan_out))
        return 0.5

    model = nn.MLP(3, [4, 2], init=record, rng=0)
    assert seen == [(3, 4)] * 12 + [(4, 2)] * 8
    assert all(p.data == 0.5 for n, p in model.named_parameters() if ".w." in n)


def test_init_functions_accept_a_seed_or_none():
    assert init.he_normal(4, 4, 3) == init.he_normal(4, 4, random.Random(3))
    random.seed(5)
    a = init.lecun_uniform(4, 4, None)
    random.seed(5)
    assert init.lecun_uniform(4, 4) == a


def test_errors():
    with pytest.raises(ValueError, match=r"unknown initialiser 'he'.*he_uniform.*he_normal"):
        init.get_init("he")
    with pytest.raises(TypeError, match="rng must be an int seed.*str"):
        nn.MLP(2, [1], rng="seed")
    assert init.get_init(init.zeros) is init.zeros


def test_one_rule_for_random_sources():
    from nn import checks

    assert init.as_rng is checks.as_rng  # nn has one place that turns a seed into a random source
    assert init.as_rng(None) is random
    state = random.getstate()
    rng = random.Random(9)
    draws = [init.he_uniform(4, 4, rng) for _ in range(3)]
    assert random.getstate() == state  # an explicit rng leaves the global state alone
    assert draws[0] == init.he_uniform(4, 4, random.Random(9))


def test_random_seed_reproduces_every_default_initialiser():
    for name in EXPECTED:
        random.seed(3)
        a = nn.MLP(2, [3, 1], init=name)
        random.seed(3)
        b = nn.MLP(2, [3, 1], init=name)
        assert a.state_dict() == b.state_dict(), name
