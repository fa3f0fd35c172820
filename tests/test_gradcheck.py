"""gradcheck: backward() against central differences, and a readable report when they disagree."""

from __future__ import annotations

import math

import pytest

import autograd
from autograd import GradcheckError, Value, gradcheck


def test_a_right_derivative_passes():
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp(), [0.3, -1.2]) is True


def test_a_wrong_derivative_is_reported_input_by_input():
    def wrong_cube(x):  # claims d/dx x^3 = 2x
        return autograd.make_op("cube", x.data**3, [x], [2 * x.data])

    with pytest.raises(GradcheckError) as err:
        gradcheck(wrong_cube, [1.5])
    assert isinstance(err.value, AssertionError)
    message = str(err.value)
    assert "gradcheck failed for 1 of 1 inputs (eps=1e-06, atol=1e-06, rtol=0.0001)" in message
    assert "input 0 = 1.5: analytic 3, numeric 6.75" in message and "<-- mismatch" in message


def test_inputs_are_plain_numbers_and_f_gets_one_value_each():
    seen = []

    def f(*xs):
        seen.append([type(x).__name__ for x in xs])
        return xs[0] * xs[1]

    assert gradcheck(f, [2, 3.0])
    assert seen[0] == ["Value", "Value"]


@pytest.mark.parametrize(
    "options, error, message",
    [
        ({"eps": 0.0}, ValueError, r"eps \(the step of the central differences\) must be a finite number more than 0, got 0\.0"),
        ({"eps": -1e-6}, ValueError, "eps .* got -1e-06"),
        ({"eps": math.nan}, ValueError, "eps .* got nan"),
        ({"eps": math.inf}, ValueError, "eps .* got inf"),
        ({"atol": -1.0}, ValueError, r"atol \(the absolute tolerance\) must be a finite number 0 or more"),
        ({"rtol": math.inf}, ValueError, "rtol .* got inf"),
        ({"eps": "1e-6"}, TypeError, r"gradcheck\(eps\) takes a real number .* got str '1e-6'"),
    ],
)
def test_bad_settings_are_refused_before_anything_runs(options, error, message):
    with pytest.raises(error, match=message):
        gradcheck(lambda x: x * x, [1.0], **options)


def test_f_must_be_callable_and_return_a_value():
    with pytest.raises(TypeError, match="takes a function of Values first, got float"):
        gradcheck(1.0, [1.0])
    with pytest.raises(TypeError, match="f must return a Value, got float"):
        gradcheck(lambda x: x.data * 2, [1.0])
    with pytest.raises(TypeError, match=r"each input takes a real number .* got Value"):
        gradcheck(lambda x: x, [Value(1.0)])
