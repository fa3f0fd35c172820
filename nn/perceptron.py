"""Rosenblatt's perceptron (1958): a step neuron and its own learning rule.

The step function's derivative is 0 everywhere, so gradient descent cannot
train it. Rosenblatt's rule nudges the weights only on a mistake::

    prediction = 1 if w · x + b > 0 else 0
    w <- w + lr * (target - prediction) * x
    b <- b + lr * (target - prediction)

It finds a separating line whenever one exists (AND, OR) and never settles
when none does (XOR).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from autograd import Value, dot

from .activations import step
from .checks import as_rng, is_real, positive_int, real, shorten, show
from .init import Initializer, get_init
from .module import Module

__all__ = ["Perceptron", "PerceptronResult"]


@dataclass
class PerceptronResult:
    """What ``Perceptron.fit`` did: ``converged`` is True once an epoch made no mistake."""

    converged: bool
    epochs: int  # epochs run
    errors: list[int] = field(default_factory=list)  # misclassified examples per epoch

    def __str__(self) -> str:
        if self.converged:
            return f"converged after {self.epochs} epochs: every example is classified correctly"
        last = self.errors[-1] if self.errors else "?"
        return (
            f"did not converge in {self.epochs} epochs ({last} mistakes in the last one): "
            "no straight line separates the classes (as for XOR), so a single perceptron never will"
        )


class Perceptron(Module, saveable=True):
    """A single step neuron trained with the perceptron learning rule, on labels 0 and 1.

    Weights start at zero by default, so training is deterministic.
    """

    def __init__(
        self,
        nin: int,
        init: str | Initializer = "zeros",
        rng: int | random.Random | ModuleType | None = None,
    ) -> None:
        nin = positive_int(nin, "Perceptron(nin): the number of inputs")
        draw, source = get_init(init), as_rng(rng)
        self.w = [Value(draw(nin, 1, source), label=f"w{i}") for i in range(nin)]
        self.b = Value(0.0, label="b")

    @property
    def nin(self) -> int:
        """The number of inputs."""
        return len(self.w)

    def forward(self, x: Sequence[Value | float]) -> Value:
        """step(w · x + b) as a graph of Values (for drawing; nothing flows back through step)."""
        try:
            z = dot(x, self.w) + self.b
        except ValueError:
            raise ValueError(f"this perceptron takes {len(self.w)} inputs, got {len(x)}") from None
        return step(z)

    def predict(self, x: Sequence[float]) -> int:
        """1 if w · x + b > 0 else 0."""
        x = self._check_input(x)
        z = sum(w.data * xi for w, xi in zip(self.w, x, strict=True)) + self.b.data
        return 1 if z > 0.0 else 0

    def fit(self, X: Sequence[Sequence[float]], y: Sequence[int], epochs: int = 100, lr: float = 1.0) -> PerceptronResult:
        """Apply the perceptron rule to every example, epoch after epoch, until an epoch
        makes no mistake (converged) or ``epochs`` have run."""
        rows = [self._check_input(x) for x in X]
        targets = [_label(t) for t in y]
        if len(rows) != len(targets):
            raise ValueError(f"fit(X, y) needs one label per example, got {len(rows)} examples and {len(targets)} labels")
        if not rows:
            raise ValueError("fit(X, y) needs at least one example, got none")
        epochs = positive_int(epochs, "fit(epochs)")
        lr = real(lr, "fit(lr): the learning rate")
        if lr <= 0.0:
            raise ValueError(f"fit(lr): the learning rate must be > 0, got {lr!r}")
        errors: list[int] = []
        for _ in range(epochs):
            mistakes = 0
            for x, target in zip(rows, targets, strict=True):
                delta = lr * (target - self.predict(x))
                if delta:
                    mistakes += 1
                    for w, xi in zip(self.w, x, strict=True):
                        w.data += delta * xi
                    self.b.data += delta
            errors.append(mistakes)
            if mistakes == 0:
                return PerceptronResult(True, len(errors), errors)
        return PerceptronResult(False, len(errors), errors)

    def _check_input(self, x: Sequence[Value | float]) -> list[float]:
        if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
            raise TypeError(f"a perceptron takes a list of {len(self.w)} numbers, got {show(x)}")
        values = [v.data if isinstance(v, Value) else real(v, "each perceptron input", finite=False) for v in x]
        if len(values) != len(self.w):
            raise ValueError(f"this perceptron takes {len(self.w)} inputs, got {len(values)}: {show(x)}")
        return values

    def config(self) -> dict[str, Any]:
        return {"nin": len(self.w)}

    @classmethod
    def count_parameters(cls, config: Mapping[str, Any]) -> int:
        return positive_int(config.get("nin"), "Perceptron config: nin") + 1

    def __repr__(self) -> str:
        n = len(self.w)
        return f"Perceptron({n} input{'' if n == 1 else 's'}, step, {n + 1} parameters)"


def _label(t: object) -> int:
    if is_real(t) and t in (0, 1):
        return int(t)  # type: ignore[call-overload]
    raise ValueError(f"a perceptron learns labels 0 and 1, got {shorten(repr(t), 40)}; map other labels to 0/1 first")
