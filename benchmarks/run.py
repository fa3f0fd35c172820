"""chainrule side by side with micrograd, PyTorch and hand-written backprop.

    python benchmarks/run.py           # full run, a few minutes
    python benchmarks/run.py --quick   # smoke test, well under a minute

Everything runs in one process from the same initial weights. Before any
clock starts, every engine's loss trajectory on the demo must match the
hand-written one (and the graph workloads' gradients must match micrograd's);
a mismatch aborts the run with exit status 1. Times are medians over repeated
runs; engines take turns within each repeat so that drift hits all alike.
See benchmarks/README.md for the method and the results.
"""

from __future__ import annotations

import argparse
import gc
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
try:
    import autograd  # noqa: F401
except ImportError:  # running from a checkout without installing it
    sys.path.insert(1, str(HERE.parent))

import graphs  # noqa: E402
import peers  # noqa: E402

FLOOR = "hand-written floor"
MICROGRAD = "micrograd 0.1.0"
NN = "chainrule nn (dot)"
BINARY = "chainrule binary ops"
COMPILED = "chainrule compiled"
TIGHT = "tight hand-written floor"
RTOL = 1e-9  # trajectories must agree to this relative tolerance


class TrajectoryMismatch(AssertionError):
    """An engine computed different numbers from the reference: its timing means nothing."""


@dataclass(frozen=True)
class Config:
    check_steps: int  # demo steps whose losses are compared
    repeats: int  # repeats of every timing; the median is reported
    steps_per_repeat: int  # timed demo steps per repeat (after one warm-up step)
    chain_sizes: tuple[int, ...]
    torch_chain_max: int  # PyTorch chains up to this size (it is slow per op)
    micrograd_raised_max: int  # micrograd chains with a raised recursion limit up to this size
    dag_nodes: int
    memory_nodes: int


FULL = Config(8, 7, 3, (1_000, 10_000, 100_000, 1_000_000), 1_000_000, 1_000_000, 200_000, 100_000)
QUICK = Config(3, 5, 2, (1_000, 10_000), 1_000, 10_000, 20_000, 20_000)


# --------------------------------------------------------------------------
# Correctness first
# --------------------------------------------------------------------------
def check_trajectories(steps: int, names: Sequence[str] | None = None) -> dict[str, list[float]]:
    """Run ``steps`` demo steps per engine; raise ``TrajectoryMismatch`` unless all match the floor."""
    X, Y = peers.demo_data()
    weights = peers.initial_weights()
    names = list(names or peers.PEERS)
    losses = {}
    for name in names:
        step = peers.PEERS[name](weights, X, Y)
        losses[name] = [step(k).loss for k in range(steps)]
    reference = peers.make_handwritten(weights, X, Y)
    expected = [reference(k).loss for k in range(steps)]
    for name, got in losses.items():
        for k, (a, b) in enumerate(zip(got, expected, strict=False)):
            if not abs(a - b) <= RTOL * abs(b):
                raise TrajectoryMismatch(
                    f"{name}: loss at step {k} is {a!r}, the hand-written reference gives {b!r} "
                    f"(relative error {abs(a - b) / abs(b):.2e} > {RTOL:g}); its timings would be meaningless"
                )
    return losses


def check_graph_gradients(chain_size: int = 500, dag_size: int = 2_000) -> None:
    """chainrule's leaf gradients on the chain and the DAG equal micrograd's."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 20 * dag_size))  # micrograd's topological sort recurses
    try:
        for build, plan in ((graphs.build_chain, chain_size), (graphs.build_dag, graphs.dag_plan(dag_size))):
            results = []
            for engine in (graphs.chainrule_engine(), graphs.micrograd_engine()):
                root, leaves = build(engine, plan)
                engine.backward(root)
                results.append([engine.grad(leaf) for leaf in leaves])
            for a, b in zip(*results, strict=False):
                if not abs(a - b) <= 1e-9 * max(abs(b), 1e-300):
                    raise TrajectoryMismatch(f"{build.__name__}: chainrule gradient {a!r} != micrograd's {b!r}")
    finally:
        sys.setrecursionlimit(limit)


# --------------------------------------------------------------------------
# Timings
# --------------------------------------------------------------------------
@dataclass
class StepTime:
    forward: float  # seconds, median over repeats
    backward: float
    total: float


def time_demo(cfg: Config) -> dict[str, StepTime]:
    """Median per-step forward, backward and total time of every engine."""
    X, Y = peers.demo_data()
    weights = peers.initial_weights()
    names = list(peers.PEERS)
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for r in range(cfg.repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:  # rotate who goes first
            gc.collect()
            step = peers.PEERS[name](weights, X, Y)
            step(0)  # warm-up: first-call costs, caches
            results = [step(k) for k in range(1, 1 + cfg.steps_per_repeat)]
            runs[name].append(
                (statistics.fmean(s.forward for s in results), statistics.fmean(s.backward for s in results))
            )
            del step, results
    gc.collect()
    out = {}
    for name, rs in runs.items():
        fwd = statistics.median(f for f, _ in rs)
        bwd = statistics.median(b for _, b in rs)
        out[name] = StepTime(fwd, bwd, statistics.median(f + b for f, b in rs))
    return out


@dataclass
class GraphTime:
    build_ns: float | None = None
    backward_ns: float | None = None
    error: str = ""  # why the engine could not run this case

    @property
    def total_ns(self) -> float | None:
        return None if self.build_ns is None or self.backward_ns is None else self.build_ns + self.backward_ns


def _median_graph(results: list[graphs.GraphResult]) -> GraphTime:
    return GraphTime(statistics.median(r.build_ns for r in results), statistics.median(r.backward_ns for r in results))


def _repeats_for(cfg: Config, n: int) -> int:
    return max(1, cfg.repeats if n <= 100_000 else cfg.repeats // 2)


def time_chain(cfg: Config) -> dict[int, dict[str, GraphTime]]:
    """Long chains: chainrule, PyTorch, micrograd (default and raised recursion limit)."""
    out: dict[int, dict[str, GraphTime]] = {}
    cr, mg = graphs.chainrule_engine(), graphs.micrograd_engine()
    th = graphs.torch_engine()
    for n in cfg.chain_sizes:
        row: dict[str, GraphTime] = {}
        reps = _repeats_for(cfg, n)
        row["chainrule"] = _median_graph([graphs.time_graph(cr, graphs.build_chain, n, n) for _ in range(reps)])
        if n <= cfg.torch_chain_max:
            torch_reps = min(reps, 3 if n <= 100_000 else 1)  # ~13 s and 1.3 GB per run at 1M nodes
            row[th.name] = _median_graph([graphs.time_graph(th, graphs.build_chain, n, n) for _ in range(torch_reps)])
        else:
            row[th.name] = GraphTime(error="not run (slow per op)")
        if n <= 10_000:  # with Python's default limit; bigger chains fail the same way
            try:
                row[MICROGRAD] = _median_graph([graphs.time_graph(mg, graphs.build_chain, n, n) for _ in range(reps)])
            except RecursionError:
                row[MICROGRAD] = GraphTime(error=f"RecursionError (limit {sys.getrecursionlimit()})")
                gc.collect()
        else:
            row[MICROGRAD] = GraphTime(error=f"RecursionError (limit {sys.getrecursionlimit()})")
        if n <= cfg.micrograd_raised_max:
            res = graphs.micrograd_subprocess("chain", n)
            key = MICROGRAD + ", limit raised"
            row[key] = GraphTime(error=res["error"]) if "error" in res else GraphTime(res["build_ns"], res["backward_ns"])
        out[n] = row
    return out


def time_dag(cfg: Config) -> dict[str, GraphTime]:
    """The random DAG: chainrule in process, micrograd in a subprocess (recursion limit raised)."""
    plan = graphs.dag_plan(cfg.dag_nodes)
    nodes = graphs.dag_nodes(cfg.dag_nodes)
    cr = graphs.chainrule_engine()
    reps = _repeats_for(cfg, cfg.dag_nodes)
    out = {"chainrule": _median_graph([graphs.time_graph(cr, graphs.build_dag, plan, nodes) for _ in range(reps)])}
    mg_runs = [graphs.micrograd_subprocess("dag", cfg.dag_nodes) for _ in range(max(1, reps // 2))]
    errors = [r["error"] for r in mg_runs if "error" in r]
    if errors:
        out[MICROGRAD] = GraphTime(error=errors[0])
    else:
        out[MICROGRAD] = GraphTime(
            statistics.median(r["build_ns"] for r in mg_runs), statistics.median(r["backward_ns"] for r in mg_runs)
        )
    return out


@dataclass
class BackwardParts:
    """Backward alone on the binary-operator demo graph, ns per node."""

    sort_ns: float  # the topological order
    chain_rule_ns: float  # the chain rule applied in that order (and interior gradients zeroed)
    total_ns: float  # the whole backward()


def time_backward_parts(cfg: Config) -> tuple[int, dict[str, BackwardParts]]:
    """Split backward into its two passes, for chainrule and micrograd, on the same demo graph.

    micrograd's sort is timed with a copy of its own ``build_topo`` (from
    ``Value.backward`` in micrograd 0.1.0), its chain-rule pass by calling each
    node's ``_backward`` in that order. chainrule's sort is
    ``autograd.topological_order``; its chain-rule pass is backward() minus it.
    """
    from autograd import topological_order

    X, Y = peers.demo_data()
    weights = peers.initial_weights()
    cr_loss = peers.chainrule_binary_demo(weights)[1](X, Y)
    mg_loss = peers.micrograd_demo(weights)[2](X, Y)

    def micrograd_topo(root: object) -> list:
        topo: list = []
        visited: set = set()

        def build_topo(v: object) -> None:
            if v not in visited:
                visited.add(v)
                for child in v._prev:  # type: ignore[attr-defined]
                    build_topo(child)
                topo.append(v)

        build_topo(root)
        return topo

    mg_order = micrograd_topo(mg_loss)
    nodes = len(mg_order)
    assert nodes == len(topological_order(cr_loss)), "the two demo graphs differ"  # type: ignore[arg-type]

    def mg_chain_rule() -> None:
        for v in reversed(mg_order):
            v._backward()

    def timed(fn: Callable[[], object]) -> float:
        gc.collect()
        t0 = peers.now()
        fn()
        return (peers.now() - t0) / nodes * 1e9

    runs: dict[str, list[tuple[float, float, float]]] = {"chainrule": [], MICROGRAD: []}
    for _ in range(cfg.repeats):
        sort = timed(lambda: topological_order(cr_loss, leaves=False))  # type: ignore[arg-type]
        total = timed(cr_loss.backward)  # type: ignore[attr-defined]
        runs["chainrule"].append((sort, total - sort, total))
        sort = timed(lambda: micrograd_topo(mg_loss))
        runs[MICROGRAD].append((sort, timed(mg_chain_rule), timed(mg_loss.backward)))  # type: ignore[attr-defined]
    return nodes, {
        name: BackwardParts(*(statistics.median(r[i] for r in rs) for i in range(3))) for name, rs in runs.items()
    }


@dataclass
class CompileCost:
    setup_ms: float  # tracing, generating and compiling the code (the first step minus a later one)
    peak_kb: dict[str, float]  # peak memory of one demo step (tracemalloc), compiled and eager


def measure_compile(cfg: Config) -> CompileCost:
    """Set-up time of the compiled demo and peak memory of one step, compiled and eager."""
    import tracemalloc

    X, Y = peers.demo_data()
    weights = peers.initial_weights()
    setups = []
    for _ in range(cfg.repeats):
        gc.collect()
        step = peers.make_chainrule_compiled(weights, X, Y)
        t0 = peers.now()
        step(0)
        t1 = peers.now()
        step(1)
        t2 = peers.now()
        setups.append((t1 - t0) - (t2 - t1))
    peak = {}
    for name, make in ((COMPILED, peers.make_chainrule_compiled), (NN, peers.make_chainrule_nn)):
        step = make(weights, X, Y)
        step(0)  # traced (compiled) and warmed up
        gc.collect()
        tracemalloc.start()
        step(1)
        peak[name] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    return CompileCost(statistics.median(setups) * 1e3, peak)


def measure_memory(cfg: Config) -> dict[str, float]:
    return {
        "chainrule": graphs.bytes_per_node(graphs.chainrule_engine(), cfg.memory_nodes),
        MICROGRAD: graphs.bytes_per_node(graphs.micrograd_engine(), cfg.memory_nodes),
    }


# --------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------
def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-markdown table, columns padded for reading in a terminal."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=False)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def fmt_ns(x: float | None, error: str = "") -> str:
    return error if x is None else f"{x:,.0f}"


@dataclass
class Target:
    name: str
    measured: str
    ok: bool | None  # None: not measured in this mode

    @property
    def verdict(self) -> str:
        return "SKIP" if self.ok is None else ("PASS" if self.ok else "FAIL")


def evaluate(
    cfg: Config,
    demo: dict[str, StepTime],
    chain: dict[int, dict[str, GraphTime]],
    dag: dict[str, GraphTime],
    memory: dict[str, float],
    compiled: CompileCost | None = None,
) -> list[Target]:
    mg, nn_, floor = demo[MICROGRAD].total, demo[NN].total, demo[FLOOR].total
    targets = [
        Target("nn path >= 30x faster than micrograd per demo step", f"{mg / nn_:.1f}x", mg / nn_ >= 30),
        Target("nn path within 5x of the hand-written floor", f"{nn_ / floor:.1f}x", nn_ / floor <= 5),
    ]
    if COMPILED in demo and TIGHT in demo:
        c, tight = demo[COMPILED].total, demo[TIGHT].total
        targets.append(Target("compiled <= 1.3x the tight hand-written floor", f"{c / tight:.2f}x", c / tight <= 1.3))
        targets.append(Target("compiled >= 8x faster than eager nn", f"{nn_ / c:.1f}x", nn_ / c >= 8))
    if compiled is not None:
        targets.append(Target("compile set-up <= 50 ms", f"{compiled.setup_ms:.1f} ms", compiled.setup_ms <= 50))
        ratio = compiled.peak_kb[COMPILED] / compiled.peak_kb[NN]
        targets.append(Target("compiled peak memory per step <= 2x eager's", f"{ratio:.2f}x "
                              f"({compiled.peak_kb[COMPILED]:,.0f} vs {compiled.peak_kb[NN]:,.0f} KiB)", ratio <= 2))
    # Binary operators, per node, forward and backward: the random DAG and the demo written with them.
    # (Both demo graphs have the same nodes, so the ratio per step is the ratio per node.)
    cr, m = dag["chainrule"], dag[MICROGRAD]
    if m.total_ns is not None and cr.total_ns and cr.build_ns and cr.backward_ns and m.build_ns and m.backward_ns:
        ratio = m.total_ns / cr.total_ns
        split = f"build {m.build_ns / cr.build_ns:.1f}x, backward {m.backward_ns / cr.backward_ns:.1f}x"
        targets.append(Target("binary ops >= 4x faster than micrograd per node (forward + backward), random DAG", f"{ratio:.1f}x ({split})", ratio >= 4))
    else:
        targets.append(Target("binary ops >= 4x faster than micrograd per node, random DAG", m.error, None))
    mg_demo, bin_demo = demo[MICROGRAD], demo[BINARY]
    ratio = mg_demo.total / bin_demo.total
    split = f"forward {mg_demo.forward / bin_demo.forward:.1f}x, backward {mg_demo.backward / bin_demo.backward:.1f}x"
    targets.append(Target("binary ops >= 4x faster than micrograd per node (forward + backward), demo step", f"{ratio:.1f}x ({split})", ratio >= 4))
    third = memory[MICROGRAD] / 3
    targets.append(
        Target("bytes per node <= 1/3 of micrograd's", f"{memory['chainrule']:.0f} B vs {third:.0f} B", memory["chainrule"] <= third)
    )
    big = max(cfg.chain_sizes)
    if big >= 1_000_000 and 100_000 in chain:
        works = chain[big]["chainrule"].error == ""
        targets.append(Target("1,000,000-node chain: forward and backward work", "yes" if works else "no", works))
        ratio = (chain[big]["chainrule"].backward_ns or 0.0) / (chain[100_000]["chainrule"].backward_ns or 1.0)
        targets.append(Target("backward ns/node at 1M within 2x of 100k", f"{ratio:.2f}x", ratio <= 2))
    else:
        targets.append(Target("1,000,000-node chain (full run only)", "-", None))
        targets.append(Target("backward scaling 100k -> 1M (full run only)", "-", None))
    return targets


def report(
    cfg: Config,
    demo: dict[str, StepTime],
    chain: dict[int, dict[str, GraphTime]],
    dag: dict[str, GraphTime],
    backward_parts: tuple[int, dict[str, BackwardParts]],
    memory: dict[str, float],
    targets: list[Target],
) -> str:
    mg, floor = demo[MICROGRAD].total, demo[FLOOR].total
    out = [f"## Demo step (100 two-moons points, MLP 2-16-16-1, median of {cfg.repeats})\n"]
    rows = [
        [name, f"{t.forward * 1e3:.2f}", f"{t.backward * 1e3:.2f}", f"{t.total * 1e3:.2f}", f"{mg / t.total:.1f}x", f"{t.total / floor:.1f}x"]
        for name, t in demo.items()
    ]
    out.append(table(["engine", "forward ms", "backward ms", "step ms", "speed-up vs micrograd", "time vs floor"], rows))

    out.append("\n## Long chain: forward + backward, ns per node\n")
    engines = list(next(iter(chain.values())))
    rows = [[f"{n:,}", *(fmt_ns(chain[n][e].total_ns, chain[n][e].error) if e in chain[n] else "-" for e in engines)] for n in chain]
    out.append(table(["nodes", *engines], rows))
    rows = [[f"{n:,}", fmt_ns(chain[n]["chainrule"].build_ns), fmt_ns(chain[n]["chainrule"].backward_ns)] for n in chain]
    out.append("\nchainrule alone (ns per node):\n")
    out.append(table(["nodes", "forward", "backward"], rows))

    out.append(f"\n## Random DAG of {graphs.dag_nodes(cfg.dag_nodes):,} binary-op nodes, ns per node\n")
    cr = dag["chainrule"]
    rows = []
    for name, t in dag.items():
        if t.error:
            rows.append([name, t.error, "", ""])
        else:
            rows.append([name, fmt_ns(t.build_ns), fmt_ns(t.backward_ns), f"{(t.build_ns or 0) / (cr.build_ns or 1):.1f}x / {(t.backward_ns or 0) / (cr.backward_ns or 1):.1f}x"])
    out.append(table(["engine", "build", "backward", "vs chainrule (build / backward)"], rows))
    out.append("\nmicrograd's recursive sort needs a raised recursion limit here (a fresh process).")

    nodes, parts = backward_parts
    out.append(f"\n## Backward alone: the binary-operator demo graph ({nodes:,} nodes), ns per node\n")
    rows = [[name, fmt_ns(p.sort_ns), fmt_ns(p.chain_rule_ns), fmt_ns(p.total_ns)] for name, p in parts.items()]
    out.append(table(["engine", "topological sort", "chain-rule pass", "backward"], rows))
    mg = parts[MICROGRAD]
    out.append(
        f"\nA backward 4x faster than micrograd's would take {mg.total_ns / 4:,.0f} ns per node; micrograd's own "
        f"chain-rule pass alone, over an order already computed, takes {mg.chain_rule_ns:,.0f}."
    )

    out.append(f"\n## Bytes per graph node (tracemalloc, {cfg.memory_nodes:,} binary-op nodes)\n")
    out.append(table(["engine", "bytes / node"], [[k, f"{v:.0f}"] for k, v in memory.items()]))

    out.append("\n## Targets (SPEC, Performance)\n")
    if cfg is QUICK:
        out.append("Quick mode: few repeats of small workloads, so these verdicts are only indicative; the full run decides.\n")
    out.append(table(["target", "measured", "verdict"], [[t.name, t.measured, t.verdict] for t in targets]))
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    import os

    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()} ({platform.python_implementation()})"


def _stage(title: str, fn: Callable[[], object]) -> object:
    print(f"... {title}", file=sys.stderr, flush=True)
    return fn()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats: a smoke test")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: this process's CPU time (steady on a busy machine; the default); wall: elapsed time",
    )
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    peers.now = graphs.now = time.process_time if args.clock == "cpu" else time.perf_counter
    graphs.CLOCK = args.clock  # passed on to the micrograd subprocesses

    # Import every engine up front, then freeze what the imports left on the
    # heap so the cyclic GC does not rescan PyTorch's modules during timings.
    import micrograd.engine  # noqa: F401
    import torch

    torch.set_num_threads(1)  # scalars: no parallelism to gain, and the CPU clock stays per-thread honest

    gc.collect()
    gc.freeze()

    print(f"chainrule benchmarks ({'quick' if args.quick else 'full'}, {args.clock} clock) on {machine()}\n")
    try:
        _stage("checking loss trajectories", lambda: check_trajectories(cfg.check_steps))
        _stage("checking chain and DAG gradients against micrograd", check_graph_gradients)
    except TrajectoryMismatch as exc:
        print(f"ABORT: {exc}", file=sys.stderr)
        return 1
    print(f"Loss trajectories: all {len(peers.PEERS)} engines agree with the hand-written backprop over "
          f"{cfg.check_steps} SGD steps (relative tolerance {RTOL:g}); chain and DAG gradients agree with micrograd.\n")
    demo = _stage("timing the demo step", lambda: time_demo(cfg))
    chain = _stage("timing long chains", lambda: time_chain(cfg))
    dag = _stage("timing the random DAG", lambda: time_dag(cfg))
    parts = _stage("timing backward alone", lambda: time_backward_parts(cfg))
    memory = _stage("measuring bytes per node", lambda: measure_memory(cfg))
    compiled = _stage("measuring compile set-up and peak memory", lambda: measure_compile(cfg))
    targets = evaluate(cfg, demo, chain, dag, memory, compiled)  # type: ignore[arg-type]
    print(report(cfg, demo, chain, dag, parts, memory, targets))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
