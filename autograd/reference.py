"""The whole engine on one page: ``autograd/engine.py`` without its safety and speed-ups.

A Value holds a number (``data``), the Values it was computed from
(``parents``) and its derivative with respect to each (``local_grads``),
written right next to the forward formula. ``backward()`` then applies one
line of calculus, the chain rule, to every edge from the output back::

    parent.grad += local_grad * node.grad

The library never imports this file; the tests prove it gives the same
numbers as the real engine, which adds more operations, ``no_grad``,
IEEE-safe arithmetic (``exp(1000)`` is inf, not an error), leaves that
accumulate over several ``backward()`` calls, and two speed-ups.
"""

import math


class Value:
    def __init__(self, data, parents=(), local_grads=()):
        self.data = float(data)
        self.grad = 0.0  # d(output)/d(self), filled in by backward()
        self.parents = parents  # the Values this one was computed from
        self.local_grads = local_grads  # d(self)/d(parent), one per parent

    def __add__(self, other):  # d/da = 1, d/db = 1
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0))

    def __sub__(self, other):  # d/da = 1, d/db = -1
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data - other.data, (self, other), (1.0, -1.0))

    def __mul__(self, other):  # d/da = b, d/db = a
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __truediv__(self, other):  # q = a / b: d/da = 1/b, d/db = -q/b
        other = other if isinstance(other, Value) else Value(other)
        q = self.data / other.data
        return Value(q, (self, other), (1.0 / other.data, -q / other.data))

    def __pow__(self, n):  # n a plain number: d/da = n * a^(n-1)
        return Value(self.data**n, (self,), (n * self.data ** (n - 1),))

    def __neg__(self):  # d/da = -1
        return Value(-self.data, (self,), (-1.0,))

    __radd__, __rmul__ = __add__, __mul__  # 2 + x is x + 2, 2 * x is x * 2

    def __rsub__(self, other):  # 2 - x
        return Value(other) - self

    def __rtruediv__(self, other):  # 2 / x
        return Value(other) / self

    def exp(self):  # d/da = e^a
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def tanh(self):  # t = tanh(a): d/da = 1 - t^2
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,))

    def relu(self):  # d/da = 1 if a > 0 else 0
        a = self.data
        return Value(a, (self,), (1.0,)) if a > 0.0 else Value(0.0, (self,), (0.0,))

    def backward(self):
        order = topological_order(self)
        for node in order:
            node.grad = 0.0
        self.grad = 1.0  # d(self)/d(self)
        for node in reversed(order):  # from the output back to the inputs
            for parent, local_grad in zip(node.parents, node.local_grads):
                parent.grad += local_grad * node.grad  # the chain rule

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"


def topological_order(root):
    """Every Value ``root`` depends on, each after its parents (a depth-first search without recursion)."""
    order, visited = [], {root}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                visited.add(parent)
                stack.append((parent, iter(parent.parents)))
                break
        else:  # every parent is placed: so is this node
            stack.pop()
            order.append(node)
    return order


def sum(values):  # noqa: A001 - as autograd.sum
    """One node for v1 + v2 + ... + vn.   d/dvi = 1."""
    values = tuple(values)
    total = 0.0
    for v in values:
        total += v.data
    return Value(total, values, (1.0,) * len(values))


def dot(xs, ws):
    """One node for x1*w1 + x2*w2 + ... + xn*wn.   d/dxi = wi,   d/dwi = xi."""
    total = 0.0
    for x, w in zip(xs, ws):
        total += x.data * w.data
    return Value(total, (*xs, *ws), (*(w.data for w in ws), *(x.data for x in xs)))
