"""The engine's specification: hand-derived values, central differences and behaviour.

Nothing here needs PyTorch; ``test_engine_vs_torch.py`` compares with it.
"""

from __future__ import annotations

import math
import operator
import os
import sys
import threading

import pytest
from helpers import close
from hypothesis import HealthCheck, given, settings
from random_graphs import ARITY, build, graphs, output, value_ops

import autograd
from autograd import Step, Value, detect_anomaly, gradcheck, no_grad

EXAMPLES = int(os.environ.get("CHAINRULE_EXAMPLES", "200"))
OPS = value_ops(autograd)
UNARY = sorted(name for name, n in ARITY.items() if n == 1)
BINARY = sorted(name for name, n in ARITY.items() if n == 2)


# ---------------------------------------------------------------------------
# Central differences for every op
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", UNARY)
@pytest.mark.parametrize("x", [-1.3, -0.4, 0.7, 1.9])
def test_unary_ops_gradcheck(name, x):
    assert gradcheck(OPS[name], [x])


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("a, b", [(0.5, -1.2), (-1.1, 0.8), (1.7, 1.3)])
def test_binary_ops_gradcheck(name, a, b):
    assert gradcheck(OPS[name], [a, b])


def test_nary_ops_gradcheck():
    assert gradcheck(lambda *vs: autograd.sum(vs), [0.3, -1.0, 2.0])
    assert gradcheck(lambda *vs: autograd.dot(vs[:3], vs[3:]), [0.3, -1.0, 2.0, 1.5, 0.2, -0.7])


# ---------------------------------------------------------------------------
# Hand-derived worked examples
# ---------------------------------------------------------------------------
def test_tanh_neuron_by_hand():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    o = n.tanh()
    o.backward()
    assert o.data == pytest.approx(math.sqrt(0.5), abs=1e-12)  # tanh(0.8814) = 1/sqrt(2)
    # do/dn = 1 - tanh^2 = 0.5; then the chain rule through * and +
    assert n.grad == pytest.approx(0.5)
    assert x1.grad == pytest.approx(-1.5) and w1.grad == pytest.approx(1.0)
    assert x2.grad == pytest.approx(0.5) and w2.grad == pytest.approx(0.0)
    assert b.grad == pytest.approx(0.5)


def test_weighted_sum_from_the_curriculum():
    z = autograd.dot([0.5, 1.3], [Value(0.7), Value(-0.4)])
    assert z.data == pytest.approx(-0.17)
    assert z.op == "dot" and len(z.parents) == 2  # plain inputs are not parents


@pytest.mark.parametrize(
    "xs",
    [
        [0.5, 1.3, -2.0],  # plain floats: the fast path for a network's inputs
        [1, 2, -3],  # ints
        [0.5, Value(1.3), 2],  # a mixture
    ],
    ids=["floats", "ints", "mixed"],
)
def test_dot_with_plain_inputs_matches_binary_operators(xs):
    ws = [Value(0.7), Value(-0.4), Value(0.25)]
    z = autograd.dot(xs, ws)
    z.backward()
    dot_grads = [w.grad for w in ws] + [x.grad for x in xs if isinstance(x, Value)]
    for v in [*ws, *xs]:
        if isinstance(v, Value):
            v.grad = 0.0
    expected = sum((w * x for w, x in zip(ws, xs)), Value(0.0))
    expected.backward()
    assert z.data == pytest.approx(expected.data, rel=1e-15)
    assert dot_grads == [w.grad for w in ws] + [x.grad for x in xs if isinstance(x, Value)]
    assert len(z.parents) == len(ws) + sum(isinstance(x, Value) for x in xs)
    assert all(type(g) is float for g in z.local_grads)


def test_dot_rejects_non_numbers_on_the_fast_path():
    with pytest.raises(TypeError, match="str"):
        autograd.dot([1.0, "2"], [Value(1.0), Value(2.0)])


def test_shared_subexpression_gets_both_paths():
    a = Value(3.0)
    b = a * a  # db/da = 2a: both edges of the diamond count
    b.backward()
    assert a.grad == 6.0


def test_micrograd_sanity_check():
    # micrograd's own test, with the numbers PyTorch gives
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    assert y.data == -20.0 and x.grad == 46.0


def test_micrograd_more_ops():
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert close(g.data, 24.70408163265306)
    assert close(a.grad, 138.83381924198252) and close(b.grad, 645.5772594752186)


def test_micrograd_attributes():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    assert c._prev == {a, b} and c._op == "*" and c.op == "*"
    assert c.parents == (a, b) and a.parents == () and a.op == ""
    assert repr(c) == "Value(data=6.0, grad=0.0)"
    assert (a**2)._op == "**2"


# ---------------------------------------------------------------------------
# Kinks follow PyTorch
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda v: v.relu(), 0.0),
        (lambda v: abs(v), 0.0),
        (lambda v: v.leaky_relu(0.2), 0.2),
        (lambda v: v.elu(0.5), 0.5),
    ],
)
def test_derivative_at_zero_follows_pytorch(fn, expected):
    x = Value(0.0)
    fn(x).backward()
    assert x.grad == expected


# ---------------------------------------------------------------------------
# A zero local derivative passes no gradient (PyTorch masks relu, abs, sign, max)
# ---------------------------------------------------------------------------
def test_log_of_a_dead_relu_passes_zero_not_nan():
    x = Value(-1.0)
    x.relu().log().backward()  # log'(0) = inf reaches relu, whose local derivative is 0
    assert x.grad == 0.0


@pytest.mark.parametrize("upstream", [math.inf, -math.inf, math.nan])
@pytest.mark.parametrize(
    "fn",
    [lambda v: v.relu(), abs, lambda v: v * 0.0, lambda v: autograd.make_op("sign", 1.0, [v], [0.0])],
    ids=["relu", "abs", "times_zero", "sign"],
)
def test_zero_local_derivative_masks_infinite_and_nan_upstream(fn, upstream):
    x = Value(0.0 if fn is abs else -2.0)
    (fn(x) * upstream).backward()
    assert x.grad == 0.0


def test_dot_with_a_zero_input_passes_nothing_to_its_weight():
    x, w = Value(0.0), Value(3.0)
    (autograd.dot([x], [w]) * math.inf).backward()
    assert w.grad == 0.0 and x.grad == math.inf


def test_masked_edges_still_appear_as_steps_adding_zero():
    x = Value(-1.0, label="x")
    y = x.relu()
    steps = list((y.log()).backward_steps())
    assert [(s.node.op, s.local_grad, s.upstream, s.contribution) for s in steps] == [
        ("log", math.inf, 1.0, math.inf),
        ("relu", 0.0, math.inf, 0.0),
    ]
    assert x.grad == 0.0


# ---------------------------------------------------------------------------
# backward(): accumulation, recomputation, steps
# ---------------------------------------------------------------------------
def _loss(x, w, b):
    h = (x * w + b).tanh()
    return h * h + h * w


def test_backward_twice_doubles_leaf_gradients_only():
    x, w, b = Value(0.5), Value(-1.2), Value(0.3)
    loss = _loss(x, w, b)
    loss.backward()
    first = (x.grad, w.grad, b.grad)
    interior = [v for v in autograd.topological_order(loss) if v.parents]
    interior_first = [v.grad for v in interior]
    loss.backward()
    assert (x.grad, w.grad, b.grad) == tuple(2 * g for g in first)
    assert [v.grad for v in interior] == interior_first  # never double counted
    assert loss.grad == 1.0


def test_backward_twice_adds_the_first_pass_exactly():
    x = Value(1.0)
    y = x * 0.1 + x * 0.2  # the pass's total 0.1 + 0.2 = 0.30000000000000004
    y.backward()
    first = x.grad
    y.backward()
    assert first == 0.1 + 0.2 and x.grad == 2 * first == 0.6000000000000001  # not (first + 0.1) + 0.2 = 0.6


def _built(graph):
    nodes = build(graph, Value, OPS)
    n = len(graph[0])
    return output(nodes, n, autograd.sum), nodes[:n]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_backward_twice_gives_exactly_twice_on_random_graphs(graph):
    root, leaves = _built(graph)
    root.backward()
    first = [leaf.grad for leaf in leaves]
    root.backward()
    for leaf, g in zip(leaves, first):
        assert leaf.grad == 2 * g or (math.isnan(g) and math.isnan(leaf.grad))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_backward_steps_end_exactly_where_backward_does(graph):
    root, leaves = _built(graph)
    for leaf in leaves:
        leaf.grad = 0.25  # an earlier pass's gradient: both add this pass's total to it
    root.backward()
    expected = [leaf.grad for leaf in leaves]
    for leaf in leaves:
        leaf.grad = 0.25
    steps = list(root.backward_steps())
    assert len(steps) == sum(len(v.parents) for v in autograd.topological_order(root))
    got = [leaf.grad for leaf in leaves]
    assert [repr(g) for g in got] == [repr(g) for g in expected]  # bit for bit, nan included


def test_gradient_accumulation_equals_backward_of_the_sum():
    w, b = Value(-1.2), Value(0.3)
    batches = [0.5, -0.7, 1.1]
    for x in batches:
        _loss(x, w, b).backward()
    accumulated = (w.grad, b.grad)
    w2, b2 = Value(-1.2), Value(0.3)
    autograd.sum(_loss(x, w2, b2) for x in batches).backward()
    assert accumulated == pytest.approx((w2.grad, b2.grad), abs=1e-15)


def test_backward_steps_equal_backward():
    x, w, b = Value(0.5, label="x"), Value(-1.2, label="w"), Value(0.3, label="b")
    loss = _loss(x, w, b)
    steps = list(loss.backward_steps())
    stepped = (x.grad, w.grad, b.grad)
    x.grad = w.grad = b.grad = 0.0
    loss.backward()
    assert stepped == (x.grad, w.grad, b.grad)
    edges = sum(len(v.parents) for v in autograd.topological_order(loss))
    assert len(steps) == edges
    for s in steps:
        assert isinstance(s, Step)
        assert s.contribution == s.local_grad * s.upstream
        assert s.parent in s.node.parents
    assert steps[0].node is loss and steps[0].upstream == 1.0


def test_backward_steps_is_lazy_and_in_reverse_topological_order():
    a = Value(2.0)
    b = a * 3  # parents: a and the constant 3
    c = b.exp()
    gen = c.backward_steps()
    first = next(gen)
    assert first.node is c and first.parent is b
    assert b.grad == pytest.approx(math.exp(6.0)) and a.grad == 0.0  # a not reached yet
    rest = list(gen)
    assert [s.node for s in rest] == [b, b]
    assert a.grad == pytest.approx(3 * math.exp(6.0))


def test_a_million_node_chain():
    x = Value(1.0)
    v = x
    for _ in range(1_000_000):
        v = v + 1.0
    v.backward()
    assert x.grad == 1.0
    assert v.data == 1_000_001.0
    assert sys.getrecursionlimit() < 1_000_000  # nothing needed raising


def test_topological_order_lists_each_node_once_before_its_users():
    a = Value(1.0)
    b, c = a * 2, a + 3
    d = b * c + b
    order = autograd.topological_order(d)
    assert len(order) == len(set(map(id, order)))
    position = {id(v): i for i, v in enumerate(order)}
    for v in order:
        for p in v.parents:
            assert position[id(p)] < position[id(v)]
    assert autograd.topological_order(d, leaves=False) == [v for v in order if v.parents]


def test_backward_of_a_leaf_accumulates_one():
    x = Value(3.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


# ---------------------------------------------------------------------------
# Copies and pickles, without recursion
# ---------------------------------------------------------------------------
def _round_trips():
    import copy
    import pickle

    return [copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))]


@pytest.mark.parametrize("round_trip", _round_trips(), ids=["deepcopy", "pickle"])
def test_a_leaf_copies_with_its_number_gradient_and_label(round_trip):
    x = Value(1.5, label="x")
    x.grad = 0.25
    y = round_trip(x)
    assert (y.data, y.grad, y.label, y.op, y.parents) == (1.5, 0.25, "x", "", ()) and y is not x
    y.data = 9.0
    assert x.data == 1.5


@pytest.mark.parametrize("round_trip", _round_trips(), ids=["deepcopy", "pickle"])
def test_a_graph_copies_whole_and_backpropagates_like_the_original(round_trip):
    w = [Value(0.5, label="w0"), Value(-1.5, label="w1")]
    h = (w[0] * w[1]).tanh()
    loss = h * h + h * w[0]  # h is shared: two paths back to w
    model = {"w": w, "loss": loss}
    loss.backward()
    with no_grad():  # copies keep their graph whatever the grad mode
        twin = round_trip(model)
    twin["loss"].backward()
    assert [v.grad for v in twin["w"]] == [2 * v.grad for v in w]  # the copy's leaves had the first pass's grads
    leaves = [v for v in autograd.topological_order(twin["loss"]) if not v.parents]
    assert leaves == twin["w"] and all(a is not b for a, b in zip(leaves, w))  # the copy's own leaves
    assert twin["loss"].data == loss.data and twin["loss"].op == "+"


@pytest.mark.parametrize("round_trip", _round_trips(), ids=["deepcopy", "pickle"])
def test_the_end_of_a_100k_chain_copies_without_recursion(round_trip):
    x = Value(0.5, label="x")
    v = x
    for _ in range(100_000):
        v = v.tanh()
    twin = round_trip(v)
    assert twin.data == v.data
    twin.backward()
    v.backward()
    (copy_of_x,) = [u for u in autograd.topological_order(twin) if not u.parents]
    assert copy_of_x.label == "x" and copy_of_x is not x and copy_of_x.grad == x.grad > 0.0


# ---------------------------------------------------------------------------
# n-ary nodes
# ---------------------------------------------------------------------------
def test_sum_and_dot_are_single_nodes():
    xs = [Value(float(i)) for i in range(5)]
    ws = [Value(0.5 * i - 1) for i in range(5)]
    s = autograd.sum(xs + [2.0])
    d = autograd.dot(xs, ws)
    assert s.op == "sum" and len(s.parents) == 5 and s.data == 12.0
    assert d.op == "dot" and len(d.parents) == 10
    assert d.data == pytest.approx(sum(x.data * w.data for x, w in zip(xs, ws)))
    d.backward()
    assert [x.grad for x in xs] == [w.data for w in ws]
    assert [w.grad for w in ws] == [x.data for x in xs]
    assert autograd.sum([]).data == 0.0


def test_dot_length_mismatch():
    with pytest.raises(ValueError, match="same length"):
        autograd.dot([Value(1.0)], [Value(1.0), Value(2.0)])


def test_make_op_validates():
    x = Value(1.0)
    with pytest.raises(ValueError):
        autograd.make_op("f", 1.0, [x], [1.0, 2.0])
    with pytest.raises(TypeError):
        autograd.make_op("f", 1.0, [1.0], [1.0])


# ---------------------------------------------------------------------------
# no_grad
# ---------------------------------------------------------------------------
def test_no_grad_records_nothing():
    x = Value(2.0)
    with no_grad():
        y = (x * 3).tanh()
        assert not autograd.is_grad_enabled()
    assert y.parents == () and y.op == "" and y.data == pytest.approx(math.tanh(6.0))
    assert autograd.is_grad_enabled()
    assert (x * 3).parents


def test_no_grad_as_decorator_with_and_without_parentheses():
    @no_grad
    def f(v):
        return v * 2

    @no_grad()
    def g(v):
        return v + 2

    x = Value(1.0)
    assert f(x).parents == () and g(x).parents == ()
    assert f.__name__ == "f"
    assert (x * 2).parents  # recording again outside


def test_no_grad_nests_and_restores_after_an_exception():
    with pytest.raises(RuntimeError):
        with no_grad():
            with no_grad():
                pass
            assert not autograd.is_grad_enabled()
            raise RuntimeError
    assert autograd.is_grad_enabled()


def test_no_grad_belongs_to_its_thread():
    results = {}
    entered, checked = threading.Event(), threading.Event()

    def recorder():
        entered.wait()
        results["recording"] = bool((Value(1.0) * 2).parents)
        checked.set()

    def silent():
        with no_grad():
            entered.set()
            checked.wait()
            results["silent"] = bool((Value(1.0) * 2).parents)

    threads = [threading.Thread(target=recorder), threading.Thread(target=silent)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == {"recording": True, "silent": False}


def test_thread_started_inside_no_grad_records():
    out = {}
    with no_grad():
        t = threading.Thread(target=lambda: out.setdefault("parents", (Value(1.0) + 1).parents))
        t.start()
        t.join()
    assert len(out["parents"]) == 2


def test_one_no_grad_object_serves_two_threads_at_once():
    shared = no_grad()
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    seen, errors = {}, []

    def a():
        try:
            with shared:
                a_inside.set()
                b_inside.wait(5)
                seen["a inside"] = autograd.is_grad_enabled()
                a_left.set()  # leaves first, though b entered last
            seen["a after"] = autograd.is_grad_enabled()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def b():
        try:
            a_inside.wait(5)
            with shared:
                b_inside.set()
                a_left.wait(5)
                seen["b inside"] = autograd.is_grad_enabled()
            seen["b after"] = autograd.is_grad_enabled()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert seen == {"a inside": False, "b inside": False, "a after": True, "b after": True}


def test_no_grad_on_a_generator_applies_inside_its_body_only():
    @no_grad
    def numbers(x):
        for k in range(3):
            received = yield (x * k, autograd.is_grad_enabled())
            assert received is None or received == "ping"

    gen = numbers(Value(2.0))
    for value, enabled_inside in gen:
        assert enabled_inside is False and value.parents == ()
        assert autograd.is_grad_enabled()  # the caller's code between items records
    assert numbers.__name__ == "numbers"
    gen = numbers(Value(1.0))
    next(gen)
    assert gen.send("ping")[1] is False
    gen.close()
    assert autograd.is_grad_enabled()


def test_no_grad_on_a_generator_passes_thrown_errors_and_its_return_value():
    @no_grad()
    def worker():
        try:
            yield 1
        except KeyError:
            yield autograd.is_grad_enabled()
        return "done"

    gen = worker()
    assert next(gen) == 1
    assert gen.throw(KeyError("x")) is False
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done" and autograd.is_grad_enabled()


def test_no_grad_on_an_async_function_applies_inside_it():
    import asyncio

    @no_grad
    async def step(x):
        await asyncio.sleep(0)
        return x * 3, autograd.is_grad_enabled()

    async def main():
        y, enabled = await step(Value(1.0))
        return y, enabled, autograd.is_grad_enabled()

    y, inside, after = asyncio.run(main())
    assert y.parents == () and y.data == 3.0 and inside is False and after is True


def test_concurrent_backward_never_leaves_the_collector_disabled():
    import gc

    def worker():
        for _ in range(300):
            (Value(1.0) * 2.0).backward()

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        for _ in range(50):
            gc.enable()
            threads = [threading.Thread(target=worker) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert gc.isenabled()
    finally:
        sys.setswitchinterval(interval)
        gc.enable()


def _chain(x, n):
    v = x
    for _ in range(n):
        v = v * 1.0001 + 0.0
    return v


@pytest.mark.parametrize("shared_root", [True, False], ids=["same_graph", "graphs_sharing_a_leaf"])
def test_backward_in_two_threads_at_once_adds_up_exactly(shared_root):
    x = Value(1.0)
    roots = [_chain(x, 20_000)] * 2 if shared_root else [_chain(x, 20_000), _chain(x, 20_000)]
    roots[0].backward()
    one_pass = x.grad
    x.grad = 0.0
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=root.backward) for root in roots]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert x.grad == 2 * one_pass  # passes run one after another, never interleaved


# ---------------------------------------------------------------------------
# IEEE semantics: no exceptions in the middle of a training run
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fn, expected",
    [
        (lambda: Value(1000.0).exp(), math.inf),
        (lambda: Value(0.0).log(), -math.inf),
        (lambda: Value(-1.0).log(), math.nan),
        (lambda: Value(0.0) / 0.0, math.nan),
        (lambda: Value(1.0) / 0.0, math.inf),
        (lambda: Value(-1.0) / 0.0, -math.inf),
        (lambda: Value(-1.0).sqrt(), math.nan),
        (lambda: Value(10.0) ** 400, math.inf),
        (lambda: Value(-10.0) ** 401, -math.inf),
        (lambda: Value(0.0) ** -1, math.inf),
        (lambda: Value(-8.0) ** (1 / 3), math.nan),
        (lambda: 10.0 ** Value(400.0), math.inf),
        (lambda: Value(math.inf).sin(), math.nan),
        (lambda: Value(-1000.0).sigmoid(), 0.0),
        (lambda: Value(1000.0).sigmoid(), 1.0),
        (lambda: Value(1000.0).softplus(), 1000.0),
        (lambda: Value(-1000.0).elu(), -1.0),
        (lambda: Value(math.nan).relu(), math.nan),
    ],
)
def test_ieee_results(fn, expected):
    got = fn().data
    assert close(got, expected), got


@pytest.mark.parametrize(
    "a, b, expected",
    [
        (0.0, 1e-200, 0.0),  # -a/b^2 would be 0 * inf = nan
        (1e-200, 1e-200, -1e200),  # b*b underflows to 0: -a/(b*b) would be -inf
        (1e200, 1e200, -1e-200),  # b*b overflows: -a/(b*b) would be 0
        (math.inf, 1e308, -math.inf),
        (3.0, 2.0, -0.75),
    ],
)
def test_division_gradient_by_the_denominator_is_minus_quotient_over_b(a, b, expected):
    x, y = Value(a), Value(b)
    (x / y).backward()
    assert y.grad == expected


@pytest.mark.parametrize(
    "base, exponent, value, grad",
    [  # a constant exponent 0.5 or -0.5 is a square root, as in PyTorch (C's pow differs at -0 and -inf)
        (-0.0, 0.5, -0.0, -math.inf),
        (-0.0, -0.5, -math.inf, -math.inf),
        (-math.inf, 0.5, math.nan, math.nan),
        (-math.inf, -0.5, math.nan, -0.0),
        (-math.inf, 1.5, math.inf, math.nan),
        (4.0, 0.5, 2.0, 0.25),
        (4.0, -0.5, 0.5, -0.0625),
        (0.0, 0, 1.0, 0.0),  # d/da a^0 = 0, even at 0
    ],
)
def test_power_special_cases_follow_pytorch(base, exponent, value, grad):
    x = Value(base)
    y = x**exponent
    y.backward()
    assert repr(y.data) == repr(value)  # the sign of a zero included
    assert close(x.grad, grad)  # a zero gradient is +0.0 here (see test_zero_gradients_are_positive_zero)


@pytest.mark.parametrize("x", [3.7, -1.3e-5, 7.3e100, 1e-160, -0.0, math.inf])
def test_small_integer_and_half_powers_are_computed_as_pytorch_does(x):
    # x**2 = x*x, x**3 = x*x*x, x**-1 = 1/x, x**-2 = 1/(x*x): the same roundings as PyTorch, bit for bit
    for n, expected in [(2, x * x), (3, x * x * x), (-1, 1 / x if x else -math.inf), (-2, 1 / (x * x) if x else math.inf)]:
        assert repr((Value(x) ** n).data) == repr(expected)
    v = Value(x)
    (v**3).backward()
    assert repr(v.grad) == repr(3 * (x * x))


def test_signs_of_zero_in_values_follow_pytorch():
    # relu(-0.0) = -0.0, and a sum or dot of negative zeros is -0.0, so 1/result is -inf as in PyTorch
    assert repr(Value(-0.0).relu().data) == "-0.0"
    assert repr(autograd.sum([Value(-0.0), -0.0]).data) == "-0.0"
    assert repr(autograd.dot([Value(-0.0)], [Value(1.0)]).data) == "-0.0"
    assert repr(autograd.dot([-0.0], [Value(1.0)]).data) == "-0.0"
    assert repr(autograd.sum([Value(-0.0), 0.0]).data) == "0.0"


def test_log_and_division_at_subnormal_inputs_use_the_reciprocal():
    # the local derivative 1/x is stored as a number: 1/5e-324 overflows to inf, where
    # PyTorch divides the upstream gradient by x (a documented difference)
    x = Value(5e-324)
    (x * x.log()).backward()
    assert x.grad == math.inf  # PyTorch: log(x) + x/x = -743.44...
    y = Value(1e-300)
    (y * y.log()).backward()
    assert close(y.grad, math.log(1e-300) + 1.0)  # normal numbers: exact as PyTorch


def test_zero_gradients_are_positive_zero():
    a, b = Value(2.0), Value(-0.0)
    (a * b).backward()  # d/da = b = -0.0: the leaf's gradient starts at +0.0, and +0.0 + -0.0 = +0.0
    assert repr(a.grad) == "0.0"


# ---------------------------------------------------------------------------
# detect_anomaly
# ---------------------------------------------------------------------------
def test_detect_anomaly_names_the_forward_op_and_inputs():
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x + 1
        with pytest.raises(FloatingPointError, match=r"'log'.*'x'.*0\.0"):
            x.log()
    assert math.isinf(x.log().data)  # outside: no error, IEEE result
    assert y.data == 1.0


def test_detect_anomaly_catches_backward():
    x = Value(0.0, label="x")
    y = x.sqrt()  # forward fine (0), derivative 1/(2*0) = inf
    with detect_anomaly():
        with pytest.raises(FloatingPointError, match=r"backward through 'sqrt'.*'x'"):
            y.backward()


def test_detect_anomaly_as_decorator():
    @detect_anomaly
    def f():
        return Value(1000.0).exp()

    with pytest.raises(FloatingPointError, match="exp"):
        f()


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["3", None, 1 + 2j, [1.0], True, Value(1.0)])
def test_value_rejects_non_real_data(bad):
    with pytest.raises(TypeError) as err:
        Value(bad)
    assert type(bad).__name__ in str(err.value)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Value(10**400), r"Value\(\) got a number with 401 digits, too large for a float"),
        (lambda: Value(2.0) * 10**400, "401 digits"),
        (lambda: Value(2.0) ** 10**400, r"the exponent of \*\* got a number with 401 digits"),
        (lambda: Value(-1.0).leaky_relu(10**400), r"leaky_relu\(slope\) got a number with 401 digits"),
        (lambda: autograd.make_op("f", 10**400, [], []), r"make_op\(\): data got a number with 401 digits"),
    ],
)
def test_an_int_too_large_for_a_float_is_a_clear_value_error(make, message):
    import fractions

    with pytest.raises(ValueError, match=message):
        make()
    with pytest.raises(ValueError, match="too large for a float"):
        Value(fractions.Fraction(10**400, 3))


def test_fraction_exponents_work_like_floats():
    import fractions

    x = Value(8.0)
    y = x ** fractions.Fraction(1, 3)
    y.backward()
    assert close(y.data, 2.0) and close(x.grad, 1 / 12) and y.op == "**0.333333"


@pytest.mark.parametrize("method, name", [("leaky_relu", "slope"), ("elu", "alpha")])
def test_slope_and_alpha_must_be_plain_numbers(method, name):
    x = Value(-1.0)
    with pytest.raises(TypeError, match=rf"{method}\({name}\) takes a real number .* got Value"):
        getattr(x, method)(Value(0.1))
    with pytest.raises(TypeError, match=rf"{method}\({name}\) takes a real number .* got str 'a'"):
        getattr(x, method)("a")
    np = pytest.importorskip("numpy")
    y = getattr(x, method)(np.float32(0.5))
    assert type(y.data) is float and all(type(g) is float for g in y.local_grads)
    assert y.local_grads[0] == (0.5 if method == "leaky_relu" else 0.5 * math.exp(-1.0))


def test_empty_sum_and_dot_are_float_zero():
    for v in (autograd.sum([]), autograd.dot([], [])):
        assert type(v.data) is float and v.data == 0.0 and v.parents == ()


@pytest.mark.parametrize("label", [123, None, b"x", ["x"]])
def test_a_label_must_be_a_string(label):
    with pytest.raises(TypeError, match=f"label must be a str, got {type(label).__name__}"):
        Value(1.0, label=label)


def test_a_label_given_in_the_parents_place_is_explained():
    v = Value(2.0, "x")  # the second argument is the parents
    with pytest.raises(TypeError, match=r"give a label by name, Value\(2\.0, label='x'\)"):
        (v * 2).backward()


def test_value_accepts_real_numbers():
    import fractions

    assert Value(3).data == 3.0 and isinstance(Value(3).data, float)
    assert Value(fractions.Fraction(1, 4)).data == 0.25
    try:
        import numpy as np
    except ImportError:
        return
    assert Value(np.float32(0.5)).data == 0.5 and Value(np.int64(2)).data == 2.0


def test_operators_reject_bad_operands():
    with pytest.raises(TypeError, match="str"):
        Value(1.0) + "2"
    with pytest.raises(TypeError, match="NoneType"):
        Value(1.0) * None
    with pytest.raises(TypeError, match="str"):
        Value(1.0) ** "2"


def test_string_hint():
    with pytest.raises(TypeError, match=r"did you mean Value\(3\)"):
        Value("3")


def test_values_hash_by_identity_and_compare_by_data():
    a, b = Value(1.0), Value(1.0)
    assert a != b and len({a, b}) == 2
    assert a < 2 and b >= a and Value(3.0) > a
    assert Value(2.5).item() == 2.5 and Value(2.5).data == 2.5


@pytest.mark.parametrize(
    "convert",
    [float, int, complex, operator.index, math.exp, math.log, math.isfinite, math.floor, math.ceil, math.trunc,
     round, lambda v: round(v, 2), lambda v: "%.2f" % v, lambda v: [1, 2, 3, 4][v]],  # noqa: UP031
    ids=["float", "int", "complex", "index", "math.exp", "math.log", "math.isfinite", "floor", "ceil", "trunc",
         "round", "round_2", "percent_format", "list_index"],
)
def test_a_value_never_silently_becomes_a_plain_number(convert):
    with pytest.raises(TypeError) as err:
        convert(Value(2.5))
    message = str(err.value)
    assert "Value(data=2.5, grad=0.0) is a Value, not a plain number" in message
    assert "v.exp()" in message and "v.data" in message and "v.item()" in message


def test_math_exp_of_a_value_would_have_lost_the_gradient():
    x = Value(1.0)
    with pytest.raises(TypeError, match="cut it out of the graph"):
        Value(math.exp(x)) * 2  # the silent version: x.grad would stay 0
    (x.exp() * 2).backward()
    assert x.grad == 2 * math.e


def test_format_spec_formats_the_number_and_no_spec_is_the_repr():
    v = Value(2.0 / 3.0)
    assert f"{v:.4f}" == "0.6667" and format(v, ".2e") == "6.67e-01" and f"{v:>8.3f}" == "   0.667"
    assert f"{v}" == str(v) == repr(v) == "Value(data=0.6666666666666666, grad=0.0)"


def test_truth_value_is_that_of_the_number_as_in_pytorch():
    assert not Value(0.0) and not Value(-0.0)
    assert Value(2.0) and Value(-1e-300) and Value(math.nan) and Value(math.inf)


def test_the_micrograd_lecture_draw_dot_snippet_runs_unchanged():
    from graphviz import Digraph

    # the lecture's snippet, verbatim apart from formatting
    def trace(root):
        nodes, edges = set(), set()

        def build(v):
            if v not in nodes:
                nodes.add(v)
                for child in v._prev:
                    edges.add((child, v))
                    build(child)

        build(root)
        return nodes, edges

    def draw_dot(root):
        dot = Digraph(format="svg", graph_attr={"rankdir": "LR"})
        nodes, edges = trace(root)
        for n in nodes:
            uid = str(id(n))
            dot.node(name=uid, label="{ %s | data %.4f | grad %.4f }" % (n.label, n.data, n.grad), shape="record")  # noqa: UP031 - verbatim
            if n._op:
                dot.node(name=uid + n._op, label=n._op)
                dot.edge(uid + n._op, uid)
        for n1, n2 in edges:
            dot.edge(str(id(n1)), str(id(n2)) + n2._op)
        return dot

    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d.tanh()
    L.label = "L"
    L.backward()
    source = draw_dot(L).source
    for text in ("{ a | data 2.0000 | grad -0.0040 }", "{ e | data -6.0000", "label=tanh", "label=\"*\""):
        assert text in source, text
