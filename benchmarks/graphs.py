"""Graph-shaped workloads: a long chain, a random DAG, and bytes per node.

Each engine is described by an ``Engine``: how to make a leaf and how to run
backward. The graphs themselves are built with the plain binary operators
``+ - *`` so that the same code builds a chainrule, micrograd or PyTorch graph.

micrograd's ``backward`` sorts the graph with a recursive function, so deep
graphs hit Python's recursion limit. Run as a script, this module measures one
micrograd case in a fresh process with the limit raised:

    python benchmarks/graphs.py chain 100000
    python benchmarks/graphs.py dag 200000

and prints the result as one line of JSON.
"""

from __future__ import annotations

import gc
import json
import math
import random
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

now = time.perf_counter
CLOCK = "wall"  # or "cpu": process CPU time, steadier on a shared machine


@dataclass
class Engine:
    name: str
    leaf: Callable[[float], Any]  # make a leaf holding a number
    backward: Callable[[Any], None]  # run backward from a root
    grad: Callable[[Any], float]  # read a leaf's gradient


def chainrule_engine() -> Engine:
    from autograd import Value

    return Engine("chainrule", Value, lambda root: root.backward(), lambda v: v.grad)


def micrograd_engine() -> Engine:
    from micrograd.engine import Value

    return Engine("micrograd 0.1.0", Value, lambda root: root.backward(), lambda v: v.grad)


def torch_engine() -> Engine:
    import torch

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    return Engine("PyTorch 0-dim f64", leaf, lambda root: root.backward(), lambda v: v.grad.item())


@dataclass
class GraphResult:
    nodes: int  # interior nodes built
    build_ns: float  # forward (graph building) time per node
    backward_ns: float  # backward time per node
    check: float  # sum of the leaves' gradients, to compare engines


# --------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------
def build_chain(engine: Engine, n: int) -> tuple[Any, list[Any]]:
    """``n`` nodes, each depending on the one before: v = v*a, v = v+b, ..."""
    a, b = engine.leaf(0.999999), engine.leaf(0.001)
    v = engine.leaf(1.0)
    for i in range(n):
        v = v * a if i % 2 else v + b
    return v, [a, b]


DAG_LEAVES = 1000
DAG_WINDOW = 64


def dag_plan(n: int, seed: int = 0) -> tuple[list[float], list[tuple[int, int, int, int]]]:
    """The random choices of ``build_dag``, drawn before the clock starts."""
    rng = random.Random(seed)
    leaves = [rng.uniform(0.25, 0.65) for _ in range(DAG_LEAVES)]
    w = DAG_WINDOW
    choices = [(rng.randrange(4), rng.randrange(w), rng.randrange(w), rng.randrange(DAG_LEAVES)) for _ in range(n)]
    return leaves, choices


def build_dag(engine: Engine, plan: tuple[list[float], list[tuple[int, int, int, int]]]) -> tuple[Any, list[Any]]:
    """``len(choices)`` binary-op nodes, each on random nodes among the last ``window``.

    Half the nodes are ``x * c`` (``c`` one of the leaves, between 0.25 and
    0.65), a quarter ``x + y`` and a quarter ``x - y``: the shrinking and the
    growing balance, so the numbers stay finite. A node used by
    several later nodes makes it a DAG rather than a tree, and choosing
    parents from a recent window makes it deep (thousands of levels).
    """
    leaf_data, choices = plan
    window = DAG_WINDOW
    leaves = [engine.leaf(x) for x in leaf_data]
    recent = leaves[:window]
    for k, (op, i, j, c) in enumerate(choices):
        x, y = recent[i], recent[j]
        if op == 0:
            v = x + y
        elif op == 1:
            v = x - y
        else:
            v = x * leaves[c]
        recent[k % window] = v
    # The root sums the last window of nodes so every recent node matters.
    root = recent[0]
    for v in recent[1:]:
        root = root + v
    return root, leaves


def dag_nodes(n: int) -> int:
    """Interior nodes of ``build_dag``: the random ones plus the final sum."""
    return n + DAG_WINDOW - 1


def time_graph(engine: Engine, build: Callable[[Engine, Any], tuple[Any, list[Any]]], plan: Any, nodes: int) -> GraphResult:
    """Build once and run backward once; per-node times in nanoseconds."""
    gc.collect()
    t0 = now()
    root, leaves = build(engine, plan)
    t1 = now()
    engine.backward(root)
    t2 = now()
    check = math.fsum(engine.grad(leaf) for leaf in leaves)
    del root, leaves
    gc.collect()
    return GraphResult(nodes, (t1 - t0) / nodes * 1e9, (t2 - t1) / nodes * 1e9, check)


def bytes_per_node(engine: Engine, n: int) -> float:
    """Memory held by the graph of ``build_dag`` per interior node (tracemalloc)."""
    gc.collect()
    rng = random.Random(1)
    # Leaves are built outside the measurement, so only the graph nodes count.
    a = [engine.leaf(rng.uniform(-1.0, 1.0)) for _ in range(64)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        nodes = list(a)
        for k in range(n):
            x, y = nodes[-1], nodes[-1 - (k * 7919) % 60]
            nodes.append(x * y if k % 2 else x + y)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # The list holding the nodes is part of the measurement; leave it out.
    list_bytes = sys.getsizeof(nodes) - sys.getsizeof(a)
    return (after - before - list_bytes) / n


# --------------------------------------------------------------------------
# micrograd in a subprocess with a raised recursion limit
# --------------------------------------------------------------------------
def micrograd_subprocess(kind: str, n: int, timeout: float = 600.0) -> dict[str, Any]:
    """Run one micrograd case in a fresh interpreter; returns its JSON or an error."""
    cmd = [sys.executable, __file__, kind, str(n), CLOCK]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _main(argv: list[str]) -> None:
    global now
    kind, n = argv[0], int(argv[1])
    if len(argv) > 2 and argv[2] == "cpu":
        now = time.process_time
    sys.setrecursionlimit(max(10_000, 4 * n + 1000))
    engine = micrograd_engine()
    gc.collect()
    gc.freeze()
    if kind == "chain":
        result = time_graph(engine, build_chain, n, n)
    elif kind == "dag":
        result = time_graph(engine, build_dag, dag_plan(n), dag_nodes(n))
    else:
        raise SystemExit(f"unknown workload {kind!r}; use chain or dag")
    print(json.dumps(result.__dict__))


if __name__ == "__main__":
    _main(sys.argv[1:])
