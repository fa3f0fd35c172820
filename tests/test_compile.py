"""autograd.compile: generated code gives exactly the numbers and gradients of eager backward()."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from random_graphs import ARITY, graphs, value_ops

import autograd
from autograd import CompileError, Value, make_op
from autograd.compile import CompiledValue

OPS = value_ops(autograd)
# beyond the Value operations: plain numbers inside n-ary nodes, and a make_op node with its replay rule
OPS["dot_const"] = lambda vs: autograd.dot(vs, [0.5, -1.5, 2.0, -0.0, 3.0, 1.0][: len(vs)])
OPS["sum_const"] = lambda vs: autograd.sum([2.5, *vs, -0.0])
OPS["mixed_dot"] = lambda vs: autograd.dot([vs[0], 2.0, *vs[2:]], [1.0, *vs[1:]])
OPS["cube"] = lambda v: make_op("cube", v.data * v.data * v.data, [v], [3.0 * v.data * v.data],
                                replay=lambda a: (a * a * a, [3.0 * a * a]))
OPS["pow_value"] = lambda a, b: a**b
ALL_ARITY = {**ARITY, "dot_const": 0, "sum_const": 0, "mixed_dot": 0, "cube": 1, "pow_value": 2}

NASTY = st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e-310])
NUMBERS = st.floats(-3, 3, allow_nan=False) | NASTY


def same(a: float, b: float) -> bool:
    """Bit for bit: equal, with the same sign of zero, or both nan."""
    if a != a or b != b:
        return a != a and b != b
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)


def build(graph, inputs, params):
    """The graph's root, its first leaves the inputs and the rest the parameters."""
    _, steps = graph
    nodes = [*inputs, *params]
    for name, args in steps:
        xs = [nodes[i] for i in args]
        nodes.append(OPS[name](xs) if ALL_ARITY[name] == 0 else OPS[name](*xs))
    return autograd.sum(nodes[len(inputs) + len(params):]) + nodes[-1] * nodes[-1]


def eager(graph, inputs, param_data):
    """Eager root value and parameter gradients."""
    params = [Value(x) for x in param_data]
    root = build(graph, [Value(x) for x in inputs], params)
    root.backward()
    return root.data, [p.grad for p in params]


@settings(max_examples=120, deadline=None)
@given(graphs(ops=tuple(ALL_ARITY), arity=ALL_ARITY, leaf_values=NUMBERS, max_leaves=4), st.data())
def test_random_graphs_equal_eager_bit_for_bit_on_every_call(graph, data):
    leaves, _ = graph
    k = data.draw(st.integers(0, len(leaves)), label="inputs")
    inputs, param_data = leaves[:k], leaves[k:]
    params = [Value(x) for x in param_data]
    f = autograd.compile(lambda *xs: build(graph, xs, params))
    for call in range(3):
        if call:  # new inputs and new parameter values, same graph
            inputs = [data.draw(NUMBERS) for _ in inputs]
            for p in params:
                p.data = data.draw(NUMBERS)
        for p in params:
            p.grad = 0.0
        out = f(*inputs)
        out.backward()
        value, grads = eager(graph, inputs, [p.data for p in params])
        assert same(out.data, value)
        assert all(same(p.grad, g) for p, g in zip(params, grads, strict=True)), ([p.grad for p in params], grads)


def test_relu_and_abs_branches_are_taken_anew_on_every_call():
    w = Value(0.7, label="w")
    f = autograd.compile(lambda x: (x * w).relu() + abs(x - w) + (x * w).leaky_relu(0.1) + (x - w).elu(0.5))
    for x in (1.5, -2.0, 0.0, -0.0, 3.0, 0.2):
        w.grad = 0.0
        out = f(x)
        out.backward()
        got = (out.data, w.grad)
        w.grad = 0.0
        ref = (Value(x) * w).relu() + abs(Value(x) - w) + (Value(x) * w).leaky_relu(0.1) + (Value(x) - w).elu(0.5)
        ref.backward()
        assert got == (ref.data, w.grad)


def test_parameters_are_read_at_every_call():
    w, b = Value(2.0, label="w"), Value(0.5, label="b")
    f = autograd.compile(lambda x: (x * w + b).tanh())
    assert f(1.0).data == math.tanh(2.5)
    w.data, b.data = -1.0, 0.25
    out = f(1.0)
    assert out.data == math.tanh(-0.75)
    out.backward()
    assert w.grad == 1.0 - math.tanh(-0.75) ** 2  # d/dw = x (1 - t^2), x = 1


def test_gradients_accumulate_into_leaves_as_eager():
    w = Value(3.0, label="w")
    f = autograd.compile(lambda x: x * w * w)
    out = f(2.0)
    out.backward()
    out.backward()
    assert w.grad == 2 * (2 * 2.0 * 3.0)  # twice d/dw (x w^2) = 2 x w


def test_a_loss_over_many_calls_equals_eager_bit_for_bit():
    rng = random.Random(0)
    import nn

    model = nn.MLP(2, [8, 8, 1], rng=3)
    params = model.parameters()
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(20)]
    Y = [rng.choice((-1.0, 1.0)) for _ in X]
    f = autograd.compile(lambda x, y: (1 - y * model(x)).relu())
    penalty = autograd.compile(lambda: 1e-3 * autograd.sum(p * p for p in params))
    loss = autograd.sum(f.map(X, Y)) * (1 / len(X)) + penalty()
    loss.backward()
    compiled = [p.grad for p in params]
    model.zero_grad()
    ref = autograd.sum((1 - y * model(x)).relu() for x, y in zip(X, Y)) * (1 / len(X)) + 1e-3 * autograd.sum(p * p for p in params)
    ref.backward()
    assert loss.data == ref.data
    assert compiled == [p.grad for p in params]


def test_several_outputs():
    w = Value(1.5)
    f = autograd.compile(lambda x: [x * w, (x * w).exp(), w.tanh()])
    outs = f(0.5)
    assert isinstance(outs, list) and [o.data for o in outs] == [0.75, math.exp(0.75), math.tanh(1.5)]
    (outs[0] + outs[1] * 2).backward()
    assert math.isclose(w.grad, 0.5 + 2 * 0.5 * math.exp(0.75), rel_tol=1e-12)


def test_map_is_a_call_per_row_and_no_grad_records_nothing():
    w = Value(2.0)
    f = autograd.compile(lambda x, y: x * w + y)
    assert [o.data for o in f.map([1.0, 2.0], [10.0, 20.0])] == [12.0, 24.0]
    with autograd.no_grad():
        out = f(3.0, 1.0)
    assert out.data == 7.0 and type(out) is Value and out.parents == ()


def test_source_is_one_readable_line_per_node():
    w = Value(-3.0, label="w")

    def neuron(x1: Value) -> Value:
        z = x1 * w
        z.label = "z"
        h = z.tanh()
        h.label = "h"
        return h

    f = autograd.compile(neuron)
    f(2.0)
    assert "z = x1 * w\n" in f.source
    assert "h = tanh(z)\n" in f.source
    assert "d_h_0 = (1.0 - h * h)" in f.source
    assert "if d_h_0: g_z += d_h_0 * g_h" in f.source
    assert "if x1: g_w += x1 * g_z" in f.source
    unlabeled = autograd.compile(lambda x: (x * w).tanh())
    unlabeled(1.0)
    assert "mul = x1 * w\n" in unlabeled.source and "tanh_2 = tanh(mul)\n" in unlabeled.source


# ---- refused: never replayed wrongly ---------------------------------------------------------------
def test_make_op_without_a_replay_rule_is_refused_naming_it():
    f = autograd.compile(lambda x: make_op("swish", x.data, [x], [1.0]))
    with pytest.raises(CompileError, match=r"'swish'.*make_op\(\).*replay"):
        f(1.0)


def test_a_replay_rule_that_disagrees_with_the_node_is_refused():
    f = autograd.compile(lambda x: make_op("cube", x.data**3, [x], [3 * x.data**2], replay=lambda a: (a**2, [2 * a])))
    with pytest.raises(CompileError, match="replay rule of make_op 'cube' gives data 4.0"):
        f(2.0)


def test_an_unknown_operation_is_refused():
    f = autograd.compile(lambda x: Value(x.data, (x,), (1.0,), "mystery"))
    with pytest.raises(CompileError, match="cannot compile the operation 'mystery'"):
        f(1.0)


def test_control_flow_change_is_caught_by_check():
    f = autograd.compile(lambda x: x.relu() if x.data > 0 else x * 2.0, check=True)
    assert f(1.0).data == 1.0
    with pytest.raises(CompileError, match="different graph.*control flow.*torch.jit.trace"):
        f(-1.0)


def test_without_check_the_traced_path_is_frozen():
    f = autograd.compile(lambda x: x.relu() if x.data > 0 else x * 2.0)
    f(1.0)
    assert f(-1.0).data == 0.0  # relu, the path of the trace (eagerly: -2.0)


def test_check_every_k_calls():
    f = autograd.compile(lambda x: x.relu() if x.data > 0 else x * 2.0, check=3)
    f(1.0)  # call 1, traced
    f(-1.0)  # call 2: not checked
    with pytest.raises(CompileError, match="on call 3"):
        f(-1.0)


def test_a_different_number_of_inputs_is_refused():
    f = autograd.compile(lambda x, y: x * y)
    f(1.0, 2.0)
    with pytest.raises(CompileError, match="traced with 2 inputs, got 3"):
        f(1.0, 2.0, 3.0)


def test_a_list_of_another_length_is_refused():
    w = Value(1.0)
    f = autograd.compile(lambda xs: autograd.dot(xs, [w] * len(xs)))
    f([1.0, 2.0])
    with pytest.raises(CompileError, match="a list of 2 numbers, got 3 numbers"):
        f([1.0, 2.0, 3.0])


def test_value_inputs_and_wrong_outputs_are_refused():
    f = autograd.compile(lambda x: x * 2)
    with pytest.raises(TypeError, match="input 1 of a compiled function is a Value; pass numbers"):
        f(Value(1.0))
    with pytest.raises(TypeError, match="input 1 of a compiled function takes a real number"):
        f("1")
    g = autograd.compile(lambda x: x.data * 2)
    with pytest.raises(CompileError, match="must return a Value or a list of Values, got float"):
        g(1.0)


def test_compiled_outputs_inside_another_compiled_function_are_refused():
    f = autograd.compile(lambda x: x * 2)
    out = f(1.0)
    g = autograd.compile(lambda y: y * out)
    with pytest.raises(CompileError, match="output of another compiled call"):
        g(1.0)


def test_bad_arguments():
    with pytest.raises(TypeError, match="compile\\(\\) takes a function, got int"):
        autograd.compile(3)
    with pytest.raises(ValueError, match="check is True, False or a whole number"):
        autograd.compile(lambda x: x, check=-1)
    f = autograd.compile(lambda x: x * 2)
    with pytest.raises(RuntimeError, match="call the compiled function before its backward"):
        f.backward()


def test_backward_steps_cannot_step_inside_compiled_code():
    w = Value(1.0)
    out = autograd.compile(lambda x: x * w)(2.0)
    with pytest.raises(TypeError, match="cannot step inside compiled code"):
        next((out * 2).backward_steps())


def test_f_backward_is_out_backward():
    w = Value(2.0)
    f = autograd.compile(lambda x: x * w)
    out = f(3.0)
    assert isinstance(out, CompiledValue)
    f.backward()
    assert w.grad == 3.0 and out.grad == 1.0


# ---- nn.fit(..., compile=True) -------------------------------------------------------------------
def _demo(compile: bool, epochs: int):
    """micrograd's demo through nn.fit: two moons, MLP 2-16-16-1, max-margin loss + 1e-4 L2, SGD."""
    import nn

    X, y = nn.data.make_moons(n_samples=100, noise=0.1, random_state=1337)
    Y = [2.0 * t - 1.0 for t in y]
    model = nn.MLP(2, [16, 16, 1], rng=0)
    params = model.parameters()

    def loss(outputs, targets):
        data_loss = autograd.sum((1 - t * s).relu() for s, t in zip(outputs, targets)) * (1.0 / len(outputs))
        return data_loss + 1e-4 * autograd.sum(p * p for p in params)

    history = nn.fit(model, X, Y, loss, nn.optim.SGD(params, lr=0.5), epochs=epochs, progress=False, compile=compile)
    return history, [p.data for p in params], [p.grad for p in params]


def test_fit_compiled_follows_eager_exactly():
    eager_history, eager_weights, eager_grads = _demo(False, 10)
    history, weights, grads = _demo(True, 10)
    assert history.loss == eager_history.loss
    assert history.accuracy == eager_history.accuracy
    assert weights == eager_weights
    assert grads == eager_grads


def test_fit_compiled_with_a_named_loss_and_mini_batches():
    import nn

    X, y = nn.data.make_moons(n_samples=40, noise=0.1, random_state=0)
    runs = []
    for compile in (False, True):
        model = nn.MLP(2, [4, 1], activation="tanh", rng=1)
        h = nn.fit(model, X, y, "bce_logits", nn.optim.Adam(model.parameters(), lr=0.05), epochs=3, batch_size=8,
                   random_state=0, progress=False, compile=compile)
        runs.append((h.loss, [p.data for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_fit_compile_refuses_dropout_and_bad_values():
    import nn

    class Dropped(nn.Module):
        def __init__(self) -> None:
            self.hidden, self.drop, self.out = nn.Layer(2, 4, rng=0), nn.Dropout(0.5), nn.Neuron(4, "identity", rng=0)

        def forward(self, x):
            return self.out(self.drop(self.hidden(x)))

    model = Dropped()
    with pytest.raises(CompileError, match="'dropout' made with make_op"):
        nn.fit(model, [[0.0, 1.0]] * 4, [1.0] * 4, "mse", nn.optim.SGD(model.parameters(), lr=0.1), epochs=1,
               progress=False, compile=True)
    plain = nn.MLP(2, [1])
    with pytest.raises(TypeError, match="compile is True or False, got str"):
        nn.fit(plain, [[0.0, 1.0]], [1.0], "mse", nn.optim.SGD(plain.parameters(), lr=0.1), epochs=1, progress=False,
               compile="yes")


# ---- the playground trains with compiled code --------------------------------------------------------
@pytest.mark.parametrize("settings", [{}, {"activation": "relu", "regularization": "l2", "regularization_rate": 0.01},
                                      {"activation": "leaky_relu", "optimizer": "adam", "batch_size": None,
                                       "regularization": "l1", "regularization_rate": 0.003}])
def test_playground_steps_equal_eager_steps(settings):
    from autograd.compile import Compiled
    from nn.playground import Playground

    compiled, eager = Playground(**settings), Playground(**settings)
    assert isinstance(compiled._forward, Compiled)
    eager._forward = eager.model  # the same training on the eager network
    for _ in range(3):
        assert compiled.step() == eager.step()
    assert compiled.train_loss == eager.train_loss and compiled.test_loss == eager.test_loss
    assert [p.data for p in compiled.model.parameters()] == [p.data for p in eager.model.parameters()]
