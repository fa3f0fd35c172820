"""The demo-step workload and the five engines that run it.

micrograd's demo: 100 two-moons points, an MLP 2-16-16-1 (ReLU hidden layers,
linear output), max-margin loss plus 1e-4 * L2, one full-batch SGD step with
micrograd's learning-rate schedule ``1.0 - 0.9 * k / 100``.

Every peer is a ``make_*(weights, X, Y)`` function returning a ``Stepper``:
a callable ``step(k) -> StepResult`` that runs forward, zero-grad, backward and
the SGD update for step ``k``, and reports the loss before the update and how
long the forward and backward passes took. All peers start from the same
``Weights`` so their loss trajectories can be compared number for number.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import NamedTuple

# Weights of an MLP: one entry per layer, each a list of neurons (w, b).
Neuron = tuple[list[float], float]
Weights = list[list[Neuron]]

SIZES = [2, 16, 16, 1]  # micrograd's demo MLP: 337 parameters
ALPHA = 1e-4  # strength of the L2 penalty, as in micrograd's demo


class StepResult(NamedTuple):
    loss: float  # loss before the update
    forward: float  # seconds spent building the graph and computing the loss
    backward: float  # seconds spent in zero-grad, backward and the update
    nodes: int  # graph nodes built by the forward pass (0 where not counted)


Stepper = Callable[[int], StepResult]
now = time.perf_counter  # run.py may switch this to time.process_time


def learning_rate(k: int) -> float:
    """micrograd demo's schedule."""
    return 1.0 - 0.9 * k / 100


# --------------------------------------------------------------------------
# Data and initial weights
# --------------------------------------------------------------------------
def demo_data(n_samples: int = 100) -> tuple[list[list[float]], list[float]]:
    """The demo's inputs (``nn.data.make_moons``, noise 0.1, seed 1337) and targets in {-1, +1}."""
    from nn.data import make_moons

    X, y = make_moons(n_samples=n_samples, noise=0.1, random_state=1337)
    return [[float(a) for a in row] for row in X], [2.0 * label - 1.0 for label in y]


def initial_weights(sizes: list[int] = SIZES, seed: int = 0) -> Weights:
    """micrograd's initialisation: weights uniform in [-1, 1], biases zero."""
    rng = random.Random(seed)
    return [
        [([rng.uniform(-1.0, 1.0) for _ in range(nin)], 0.0) for _ in range(nout)]
        for nin, nout in zip(sizes[:-1], sizes[1:], strict=False)
    ]


# --------------------------------------------------------------------------
# The floor: hand-written forward and backward with explicit derivatives
# --------------------------------------------------------------------------
def make_handwritten(weights: Weights, X: list[list[float]], Y: list[float]) -> Stepper:
    """Plain lists of floats; the chain rule written out by hand for this MLP."""
    W = [[list(w) for w, _ in layer] for layer in weights]  # W[l][j][i]
    B = [[b for _, b in layer] for layer in weights]  # B[l][j]
    last = len(W) - 1
    n = len(X)

    def step(k: int) -> StepResult:
        t0 = now()
        # Forward: keep every layer's activations for the backward pass.
        acts: list[list[list[float]]] = []  # acts[s][l] = input of layer l for sample s
        loss = 0.0
        d_scores = []  # d loss / d score for each sample
        for x, y in zip(X, Y, strict=False):
            a = x
            per_layer = [a]
            for layer, (Wl, Bl) in enumerate(zip(W, B, strict=False)):
                z = [bj + sum(wji * ai for wji, ai in zip(wj, a, strict=False)) for wj, bj in zip(Wl, Bl, strict=False)]
                a = z if layer == last else [zj if zj > 0.0 else 0.0 for zj in z]
                per_layer.append(a)
            acts.append(per_layer)
            margin = 1.0 - y * a[0]
            if margin > 0.0:  # relu(margin); d/dscore = -y / n where margin > 0
                loss += margin
                d_scores.append(-y / n)
            else:
                d_scores.append(0.0)
        loss /= n
        loss += ALPHA * sum(w * w for Wl in W for wj in Wl for w in wj) + ALPHA * sum(b * b for Bl in B for b in Bl)
        t1 = now()

        # Backward: d loss / d w = 2 alpha w from the penalty, plus the data term.
        gW = [[[2.0 * ALPHA * w for w in wj] for wj in Wl] for Wl in W]
        gB = [[2.0 * ALPHA * b for b in Bl] for Bl in B]
        for per_layer, d_score in zip(acts, d_scores, strict=False):
            if d_score == 0.0:
                continue
            delta = [d_score]  # d loss / d z of the current layer
            for layer in range(last, -1, -1):
                a_in = per_layer[layer]
                gWl, gBl, Wl = gW[layer], gB[layer], W[layer]
                for j, dj in enumerate(delta):
                    if dj != 0.0:
                        gBl[j] += dj
                        gwj = gWl[j]
                        for i, ai in enumerate(a_in):
                            gwj[i] += dj * ai
                if layer:
                    # d z_i(prev) = sum_j delta_j w_ji, times relu'(z_i) = 1 if a_i > 0
                    delta = [
                        sum(dj * Wl[j][i] for j, dj in enumerate(delta)) if ai > 0.0 else 0.0
                        for i, ai in enumerate(a_in)
                    ]
        lr = learning_rate(k)
        for Wl, gWl, Bl, gBl in zip(W, gW, B, gB, strict=False):
            for wj, gwj in zip(Wl, gWl, strict=False):
                for i, g in enumerate(gwj):
                    wj[i] -= lr * g
            for j, g in enumerate(gBl):
                Bl[j] -= lr * g
        t2 = now()
        return StepResult(loss, t1 - t0, t2 - t1, 0)

    return step


def make_tight_floor(weights: Weights, X: list[list[float]], Y: list[float]) -> Stepper:
    """The floor as a careful engineer writes it for this MLP (2-16-16-1): flat lists, C-level loops.

    Each layer is a list of weight rows; every sum of products is ``sum(map(mul, ...))``,
    every gradient row an ``map(add, ...)`` over the row, samples with an
    inactive hinge are skipped, and no per-sample list of layers is kept.
    """
    from operator import add, mul

    (l1, l2, l3) = weights
    W1, B1 = [list(w) for w, _ in l1], [b for _, b in l1]
    W2, B2 = [list(w) for w, _ in l2], [b for _, b in l2]
    W3, B3 = list(l3[0][0]), [l3[0][1]]
    n = len(X)
    rows = [(x[0], x[1], y) for x, y in zip(X, Y, strict=True)]

    def step(k: int) -> StepResult:
        t0 = now()
        loss = 0.0
        active = []  # (x0, x1, h1, h2, d loss/d score) of the samples whose hinge is active
        w10 = [w[0] for w in W1]
        w11 = [w[1] for w in W1]
        for x0, x1, y in rows:
            h1 = [z if z > 0.0 else 0.0 for z in map(add, map(mul, w10, [x0] * 16), map(add, map(mul, w11, [x1] * 16), B1))]
            h2 = [z if z > 0.0 else 0.0 for z in [sum(map(mul, w, h1)) + b for w, b in zip(W2, B2)]]
            margin = 1.0 - y * (sum(map(mul, W3, h2)) + B3[0])
            if margin > 0.0:
                loss += margin
                active.append((x0, x1, h1, h2, -y / n))
        loss = loss / n + ALPHA * (sum(map(mul, (w for r in W1 + W2 for w in r), (w for r in W1 + W2 for w in r)))
                                   + sum(map(mul, W3, W3)) + sum(map(mul, B1 + B2 + B3, B1 + B2 + B3)))
        t1 = now()
        a2 = 2.0 * ALPHA
        gW1 = [[a2 * w for w in r] for r in W1]
        gW2 = [[a2 * w for w in r] for r in W2]
        gW3 = [a2 * w for w in W3]
        gB1, gB2, gB3 = [a2 * b for b in B1], [a2 * b for b in B2], a2 * B3[0]
        for x0, x1, h1, h2, d in active:
            gB3 += d
            gW3 = list(map(add, gW3, [d * h for h in h2]))
            d2 = [d * w if h > 0.0 else 0.0 for w, h in zip(W3, h2)]
            d1 = [0.0] * 16
            for j, dj in enumerate(d2):
                if dj:
                    gB2[j] += dj
                    gW2[j] = list(map(add, gW2[j], [dj * h for h in h1]))
                    d1 = list(map(add, d1, [dj * w for w in W2[j]]))
            for i, di in enumerate(d1):
                if di and h1[i] > 0.0:
                    gB1[i] += di
                    g = gW1[i]
                    g[0] += di * x0
                    g[1] += di * x1
        lr = learning_rate(k)
        for r, g in zip(W1 + W2 + [W3], gW1 + gW2 + [gW3]):
            r[:] = [w - lr * gw for w, gw in zip(r, g)]
        B1[:] = [b - lr * g for b, g in zip(B1, gB1)]
        B2[:] = [b - lr * g for b, g in zip(B2, gB2)]
        B3[0] -= lr * gB3
        t2 = now()
        return StepResult(loss, t1 - t0, t2 - t1, 0)

    return step


# --------------------------------------------------------------------------
# chainrule
# --------------------------------------------------------------------------
def chainrule_mlp(weights: Weights) -> object:
    """``nn.MLP`` loaded with ``weights``."""
    from nn import MLP

    model = MLP(SIZES[0], SIZES[1:])
    load_weights(model, weights)
    return model


def load_weights(model: object, weights: Weights) -> None:
    """Copy ``weights`` into a micrograd-shaped model (``layers``, ``neurons``, ``w``, ``b``)."""
    layers = model.layers  # type: ignore[attr-defined]
    assert [len(layer.neurons) for layer in layers] == [len(layer) for layer in weights], "layer sizes differ"
    for layer, layer_weights in zip(layers, weights, strict=False):
        for neuron, (w, b) in zip(layer.neurons, layer_weights, strict=False):
            assert len(neuron.w) == len(w), "fan-in differs"
            for p, value in zip(neuron.w, w, strict=False):
                p.data = float(value)
            neuron.b.data = float(b)


def make_chainrule_nn(weights: Weights, X: list[list[float]], Y: list[float]) -> Stepper:
    """chainrule through the nn MLP (neurons on ``autograd.dot``), n-ary sums for the loss."""
    import autograd

    model = chainrule_mlp(weights)
    params = model.parameters()  # type: ignore[attr-defined]
    inv_n = 1.0 / len(X)

    def loss_of(X: list[list[float]], Y: list[float]) -> object:
        scores = [model(x) for x in X]  # type: ignore[operator]
        data_loss = autograd.sum((1 - y * s).relu() for y, s in zip(Y, scores, strict=False)) * inv_n
        reg_loss = ALPHA * autograd.sum(p * p for p in params)
        return data_loss + reg_loss

    return _sgd_stepper(params, loss_of, X, Y, _zero_grads(params))


def compiled_demo(weights: Weights, n: int) -> tuple[list, Callable[[list[list[float]], list[float]], object]]:
    """The nn demo with ``autograd.compile``: one compiled function per example's hinge, one for the penalty."""
    import autograd

    model = chainrule_mlp(weights)
    params = model.parameters()  # type: ignore[attr-defined]
    inv_n = 1.0 / n
    hinge = autograd.compile(lambda x, y: (1 - y * model(x)).relu())  # type: ignore[operator]
    penalty = autograd.compile(lambda: ALPHA * autograd.sum(p * p for p in params))

    def loss_of(X: list[list[float]], Y: list[float]) -> object:
        return autograd.sum(hinge.map(X, Y)) * inv_n + penalty()

    return params, loss_of


def make_chainrule_compiled(weights: Weights, X: list[list[float]], Y: list[float]) -> Stepper:
    """chainrule nn, the loss traced once by ``autograd.compile`` and run as generated code."""
    params, loss_of = compiled_demo(weights, len(X))
    return _sgd_stepper(params, loss_of, X, Y, _zero_grads(params))


def _zero_grads(params: list) -> Callable[[], None]:
    def zero_grad() -> None:
        for p in params:
            p.grad = 0.0

    return zero_grad


def _sgd_stepper(
    params: list,
    loss_of: Callable[[list[list[float]], list[float]], object],
    X: list[list[float]],
    Y: list[float],
    zero_grad: Callable[[], None],
) -> Stepper:
    """One timed SGD step of a Value-based engine: forward (``loss_of``), zero-grad, backward, update."""

    def step(k: int) -> StepResult:
        t0 = now()
        loss = loss_of(X, Y)
        t1 = now()
        zero_grad()
        loss.backward()  # type: ignore[attr-defined]
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        t2 = now()
        return StepResult(loss.data, t1 - t0, t2 - t1, 0)  # type: ignore[attr-defined]

    return step


def chainrule_binary_demo(weights: Weights) -> tuple[list, Callable[[list[list[float]], list[float]], object]]:
    """The demo written exactly like micrograd's, on chainrule: (parameters, loss function)."""
    from autograd import Value

    last = len(weights) - 1
    model = [[([Value(w) for w in ws], Value(b)) for ws, b in layer] for layer in weights]
    params = [p for layer in model for ws, b in layer for p in (*ws, b)]

    def forward(x: list) -> Value:
        for i, layer in enumerate(model):
            acts = [sum((wi * xi for wi, xi in zip(ws, x, strict=False)), b) for ws, b in layer]
            x = acts if i == last else [a.relu() for a in acts]
        return x[0]

    def loss_of(X: list[list[float]], Y: list[float]) -> Value:
        inputs = [[Value(v) for v in row] for row in X]
        scores = [forward(x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores, strict=False)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        return data_loss + reg_loss

    return params, loss_of


def make_chainrule_binary(weights: Weights, X: list[list[float]], Y: list[float]) -> Stepper:
    """chainrule with binary operators only, written exactly like micrograd's demo."""
    params, loss_of = chainrule_binary_demo(weights)
    return _sgd_stepper(params, loss_of, X, Y, _zero_grads(params))


# --------------------------------------------------------------------------
# micrograd 0.1.0 and PyTorch
# --------------------------------------------------------------------------
def micrograd_demo(weights: Weights) -> tuple[object, list, Callable[[list[list[float]], list[float]], object]]:
    """micrograd's own MLP and demo loss, loaded with the shared weights: (model, parameters, loss function)."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    model = MLP(SIZES[0], SIZES[1:])
    load_weights(model, weights)
    params = model.parameters()

    def loss_of(X: list[list[float]], Y: list[float]) -> Value:
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores, strict=False)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        return data_loss + reg_loss

    return model, params, loss_of


def make_micrograd(weights: Weights, X: list[list[float]], Y: list[float]) -> Stepper:
    """micrograd's own MLP and demo loss, loaded with the shared weights."""
    model, params, loss_of = micrograd_demo(weights)
    return _sgd_stepper(params, loss_of, X, Y, model.zero_grad)  # type: ignore[attr-defined]


def make_torch(weights: Weights, X: list[list[float]], Y: list[float]) -> Stepper:
    """PyTorch with one 0-dim float64 tensor per scalar: the same scalar-by-scalar graph."""
    import torch

    def scalar(v: float) -> torch.Tensor:
        return torch.tensor(v, dtype=torch.float64, requires_grad=True)

    last = len(weights) - 1
    model = [[([scalar(w) for w in ws], scalar(b)) for ws, b in layer] for layer in weights]
    params = [p for layer in model for ws, b in layer for p in (*ws, b)]

    def forward(x: list) -> torch.Tensor:
        for i, layer in enumerate(model):
            acts = [sum((wi * xi for wi, xi in zip(ws, x, strict=False)), b) for ws, b in layer]
            x = acts if i == last else [a.relu() for a in acts]
        return x[0]

    def step(k: int) -> StepResult:
        t0 = now()
        scores = [forward(x) for x in X]
        losses = [(1 + -yi * si).relu() for yi, si in zip(Y, scores, strict=False)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in params)
        loss = data_loss + reg_loss
        t1 = now()
        for p in params:
            p.grad = None
        loss.backward()
        lr = learning_rate(k)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        t2 = now()
        return StepResult(loss.item(), t1 - t0, t2 - t1, 0)

    return step


PEERS: dict[str, Callable[[Weights, list[list[float]], list[float]], Stepper]] = {
    "chainrule compiled": make_chainrule_compiled,
    "chainrule nn (dot)": make_chainrule_nn,
    "chainrule binary ops": make_chainrule_binary,
    "micrograd 0.1.0": make_micrograd,
    "PyTorch 0-dim f64": make_torch,
    "hand-written floor": make_handwritten,
    "tight hand-written floor": make_tight_floor,
}
