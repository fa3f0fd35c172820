"""The benchmark computes the right numbers (correctness only: no timings are asserted).

A benchmark of wrong answers is worthless, so before timing anything
``benchmarks/run.py`` checks that every engine follows the hand-written
backprop's loss trajectory and that chainrule's graph gradients equal
micrograd's. These tests run those same checks, as ``--quick`` does.
"""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.micrograd, pytest.mark.torch]
pytest.importorskip("micrograd", reason="the benchmark compares with micrograd 0.1.0 (pip install micrograd==0.1.0)")
pytest.importorskip("torch", reason="the benchmark compares with PyTorch (pip install torch)")

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    """Import a module from benchmarks/ (a folder of scripts, not a package)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


run = _load("run")
peers = run.peers
graphs = run.graphs


def test_every_engine_follows_the_hand_written_loss_trajectory():
    losses = run.check_trajectories(run.QUICK.check_steps)
    assert set(losses) == set(peers.PEERS)
    reference = losses[run.FLOOR]
    assert len(reference) == run.QUICK.check_steps
    assert len(set(reference)) == len(reference)  # the weights really change from step to step
    for name, got in losses.items():
        assert got == pytest.approx(reference, rel=1e-9), name


def test_a_wrong_engine_aborts_the_run(monkeypatch):
    def off_by_a_little(weights, X, Y):
        step = peers.make_handwritten(weights, X, Y)
        return lambda k: step(k)._replace(loss=step(k).loss * (1 + 1e-6)) if k else step(k)

    monkeypatch.setitem(peers.PEERS, "broken", off_by_a_little)
    with pytest.raises(run.TrajectoryMismatch, match="broken: loss at step 1"):
        run.check_trajectories(3, names=["broken"])


def test_all_peers_start_from_the_same_weights():
    weights = peers.initial_weights()
    model = peers.chainrule_mlp(weights)
    assert [len(layer.neurons) for layer in model.layers] == [16, 16, 1]
    assert [n.w[0].data for n in model.layers[1].neurons] == [w[0] for w, _ in weights[1]]
    assert sum(len(w) + 1 for layer in weights for w, _ in layer) == len(model.parameters()) == 337


def test_demo_data_is_two_seeded_moons():
    X, Y = peers.demo_data()
    assert len(X) == len(Y) == 100
    assert sorted(set(Y)) == [-1.0, 1.0] and Y.count(1.0) == 50
    assert peers.demo_data() == (X, Y)  # same points every run


def test_chain_and_dag_gradients_match_micrograd():
    run.check_graph_gradients(chain_size=300, dag_size=1_000)


def test_bytes_per_node_is_measured():
    assert 50 < graphs.bytes_per_node(graphs.chainrule_engine(), 2_000) < 1_000


def test_backward_is_split_into_sort_and_chain_rule_on_the_same_graph(monkeypatch):
    # a fake clock, one tick per reading: no test reads a real one
    ticks = itertools.count()
    monkeypatch.setattr(peers, "now", lambda: float(next(ticks)))
    nodes, parts = run.time_backward_parts(run.Config(1, 3, 1, (1_000,), 1_000, 1_000, 1_000, 1_000))
    assert nodes > 60_000  # micrograd's demo graph, leaves included; chainrule's has as many nodes
    assert set(parts) == {"chainrule", run.MICROGRAD}
    tick = 1e9 / nodes  # each pass timed takes one tick, reported in ns per node
    mg, cr = parts[run.MICROGRAD], parts["chainrule"]
    assert (mg.sort_ns, mg.chain_rule_ns, mg.total_ns) == pytest.approx((tick, tick, tick))  # each pass timed on its own
    assert (cr.sort_ns, cr.total_ns) == pytest.approx((tick, tick))
    assert cr.chain_rule_ns == pytest.approx(cr.total_ns - cr.sort_ns)  # backward() = sort + chain rule


def _demo(forward: float, backward: float) -> object:
    return run.StepTime(forward, backward, forward + backward)


def test_binary_operator_targets_count_forward_and_backward_together():
    demo = {
        run.MICROGRAD: _demo(0.60, 0.04),
        run.BINARY: _demo(0.06, 0.03),  # 10x forward, 1.3x backward, 7.1x together
        run.NN: _demo(0.012, 0.007),
        run.FLOOR: _demo(0.0035, 0.0011),
    }
    dag = {"chainrule": run.GraphTime(1_000.0, 400.0), run.MICROGRAD: run.GraphTime(10_000.0, 1_000.0)}
    cfg = run.Config(1, 1, 1, (1_000,), 1_000, 1_000, 1_000, 1_000)
    targets = {t.name: t for t in run.evaluate(cfg, demo, {}, dag, {"chainrule": 196.0, run.MICROGRAD: 688.0})}
    dag_row = next(t for name, t in targets.items() if "random DAG" in name)
    demo_row = next(t for name, t in targets.items() if "binary ops" in name and "demo" in name)
    assert dag_row.verdict == "PASS" and dag_row.measured == "7.9x (build 10.0x, backward 2.5x)"
    assert demo_row.verdict == "PASS" and demo_row.measured == "7.1x (forward 10.0x, backward 1.3x)"
    assert targets["nn path >= 30x faster than micrograd per demo step"].verdict == "PASS"  # 33.7x

    demo[run.BINARY] = _demo(0.15, 0.03)  # 4x forward, yet 3.6x together: not enough
    demo_row = next(t for t in run.evaluate(cfg, demo, {}, dag, {"chainrule": 196.0, run.MICROGRAD: 688.0}) if "demo step" in t.name and "binary" in t.name)
    assert demo_row.verdict == "FAIL"
