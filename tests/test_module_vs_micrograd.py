"""nn.layers against micrograd 0.1.0 (the oracle): same weights, same outputs, same training run."""

import random

import pytest

mg_engine = pytest.importorskip("micrograd.engine", reason="micrograd 0.1.0 is the test oracle (pip install micrograd==0.1.0)")
mg_nn = pytest.importorskip("micrograd.nn", reason="micrograd 0.1.0 is the test oracle (pip install micrograd==0.1.0)")

import nn  # noqa: E402
from autograd import Value  # noqa: E402

pytestmark = pytest.mark.micrograd


def test_same_weights_and_outputs_as_micrograd():
    random.seed(1337)
    ours = nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    theirs = mg_nn.MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    for x in ([0.3, -1.2], [2.0, 0.5]):
        assert ours(x).data == pytest.approx(theirs(x).data, rel=1e-12, abs=1e-12)

def test_micrograd_training_loop_runs_unchanged_and_matches_micrograd():
    """The micrograd demo's loop (max-margin loss + L2, SGD with a decaying rate), on both libraries."""
    rng = random.Random(3)
    X = [[rng.uniform(-2, 2), rng.uniform(-2, 2)] for _ in range(12)]
    y = [1 if a * b > 0 else -1 for a, b in X]

    def run(MLP, ValueClass):
        random.seed(1337)
        model = MLP(2, [16, 16, 1])
        losses = []
        for k in range(5):
            inputs = [list(map(ValueClass, xrow)) for xrow in X]
            scores = list(map(model, inputs))
            data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores, strict=True)) * (1.0 / len(y))
            reg_loss = 1e-4 * sum(p * p for p in model.parameters())
            loss = data_loss + reg_loss
            model.zero_grad()
            loss.backward()
            learning_rate = 1.0 - 0.9 * k / 100
            for p in model.parameters():
                p.data -= learning_rate * p.grad
            losses.append(loss.data)
        return losses

    ours = run(nn.MLP, Value)
    theirs = run(mg_nn.MLP, mg_engine.Value)
    assert ours == pytest.approx(theirs, rel=1e-9)
    assert ours[-1] < ours[0]


def test_micrograd_breaks_on_a_one_neuron_hidden_layer_where_we_do_not():
    assert len(nn.MLP(2, [1, 3], rng=0)([1.5, -0.5])) == 3
    with pytest.raises(TypeError):  # its one-neuron layer hands a bare Value to the next layer
        mg_nn.MLP(2, [1, 3])([1.5, -0.5])
