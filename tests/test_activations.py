"""nn.activations: values, derivatives worked by hand, names, and registering your own."""

import math

import pytest
from helpers import close

import nn
from autograd import Value
from nn.activations import ACTIVATIONS, get_activation


def test_step_and_sign_values():
    assert [nn.step(x).data for x in (-2.0, 0.0, 3.0)] == [0.0, 0.0, 1.0]
    assert [nn.sign(x).data for x in (-2.0, 0.0, 3.0)] == [-1.0, 0.0, 1.0]
    assert nn.step(Value(1.0)).op == "step"

def test_activations_accept_plain_numbers():
    assert nn.relu(-3).data == 0.0
    assert nn.tanh(0.5).data == pytest.approx(math.tanh(0.5))

def test_maxout_splits_gradient_between_ties():
    a, b, c = Value(3.0), Value(1.0), Value(3.0)
    out = nn.maxout([a, b, c])
    out.backward()
    assert out.data == 3.0
    assert (a.grad, b.grad, c.grad) == (0.5, 0.0, 0.5)

@pytest.mark.parametrize("fn", [nn.softmax, nn.log_softmax])
def test_softmax_extreme_logits_are_finite(fn):
    xs = [Value(1000.0), Value(0.0), Value(-1000.0)]
    outs = fn(xs)
    sum(o * w for o, w in zip(outs, [0.3, -1.2, 2.0], strict=True)).backward()
    assert all(math.isfinite(o.data) for o in outs)
    assert all(math.isfinite(x.grad) for x in xs)

def test_softmax_worked_example():
    probs = [p.data for p in nn.softmax([2.0, 1.0, 0.1])]
    assert probs == pytest.approx([0.659, 0.242, 0.099], abs=5e-4)
    assert sum(probs) == pytest.approx(1.0, abs=1e-15)
    # one node per output, whose parents are all the inputs
    xs = [Value(2.0), Value(1.0)]
    out = nn.softmax(xs)
    assert out[0].op == "softmax" and out[0].parents == tuple(xs)

def test_list_functions_reject_bad_input():
    with pytest.raises(ValueError, match="empty"):
        nn.softmax([])
    with pytest.raises(TypeError, match="list"):
        nn.maxout(Value(1.0))


EXPECTED_AT_MINUS_HALF = {  # f(-0.5), worked by hand
    "identity": -0.5,
    "step": 0.0,
    "sign": -1.0,
    "sigmoid": 1 / (1 + math.exp(0.5)),
    "tanh": math.tanh(-0.5),
    "relu": 0.0,
    "leaky_relu": -0.005,
    "elu": math.exp(-0.5) - 1,
    "softplus": math.log1p(math.exp(-0.5)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_get_activation_by_name(name):
    fn = get_activation(name)
    assert callable(fn)
    assert get_activation(name.upper()) is fn
    assert close(fn(Value(-0.5)).data, EXPECTED_AT_MINUS_HALF["identity" if name == "linear" else name])

def test_get_activation_passes_callables_and_none():
    f = lambda v: v * 2  # noqa: E731
    assert get_activation(f) is f
    assert get_activation(None) is nn.identity

def test_get_activation_errors_list_valid_names():
    with pytest.raises(ValueError, match=r"unknown activation 'relux'.*tanh.*relu.*softplus"):
        get_activation("relux")
    with pytest.raises(ValueError, match="whole list"):
        get_activation("softmax")
    with pytest.raises(ValueError, match="maxout"):
        get_activation("maxout")
