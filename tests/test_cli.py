"""The ``chainrule`` command: run in-process through ``main([...])``, and as a program where
exit codes, pipes and hangs are what is tested."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import HAS_DOT, needs_dot

import nn
from chainrule import cli
from chainrule.commands import demo, graph, train
from chainrule.files import atomic_write


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    """``run("graph", "x*2", "x=1")``: the command's exit status, stdout and stderr, run in ``tmp_path``."""
    monkeypatch.chdir(tmp_path)

    def runner(*args: str) -> Result:
        capsys.readouterr()
        code = cli.main(list(args))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return runner


def program(*args: str, cwd: Path, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    """``python -m chainrule ...`` as a user runs it."""
    return subprocess.run([sys.executable, "-m", "chainrule", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **kwargs)


def assert_usage_error(result: Result, pattern: str) -> None:
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert len(lines[0]) <= 500, f"{len(lines[0])} characters"
    assert re.search(pattern, lines[0]), lines[0]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def gradients(stdout: str) -> dict[str, float]:
    rows = [line.split() for line in stdout.splitlines() if line.startswith("  ") and "name" not in line]
    return {row[0]: float(row[2]) for row in rows if len(row) == 3}


# ---------------------------------------------------------------------------
# chainrule graph
# ---------------------------------------------------------------------------
@needs_dot
def test_graph_of_the_tanh_neuron(run, tmp_path):
    result = run("graph", "tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432", "-o", "neuron.svg")
    assert result.code == 0, result.err
    assert "= 0.7071067812" in result.out
    assert gradients(result.out) == pytest.approx({"x": -1.5, "w": 1.0, "b": 0.5})
    svg = ET.parse(tmp_path / "neuron.svg").getroot()
    text = " ".join(t.text or "" for t in svg.iter() if t.tag.endswith("text"))
    for word in ("x", "w", "b", "tanh", "out"):
        assert word in text.split()


def test_graph_steps_print_every_chain_rule_application(run, tmp_path):
    result = run("graph", "x*y + x", "x=3", "y=4", "--steps", "-o", "g.dot")
    assert result.code == 0, result.err
    steps = [line for line in result.out.splitlines() if re.match(r"\s+\d+\.", line)]
    assert len(steps) == 4  # + has two parents, * has two
    assert "local 4" in result.out  # d(x*y)/dx = y
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert gradients(result.out) == {"x": 5.0, "y": 3.0}  # d/dx (xy + x) = y + 1


@needs_dot
@pytest.mark.parametrize("name, magic", [("g.png", b"\x89PNG"), ("g.pdf", b"%PDF")])
def test_graph_formats_by_extension(run, tmp_path, name, magic):
    assert run("graph", "exp(x) * sin(x)", "x=0.5", "-o", name).code == 0
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_graph_without_dot_writes_the_source_and_says_how_to_install(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run("graph", "x*2", "x=1", "-o", "g.svg")
    assert result.code == 0
    assert "apt-get install graphviz" in result.err
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.svg").exists()


def test_the_readme_lines_write_different_files_by_default(run, tmp_path):
    assert graph.default_output("tanh(x*w + b)") == "graph-tanh_x_w_b.svg"
    assert graph.default_output("x**2 + 2**x") == "graph-x_2_2_x.svg"
    assert graph.default_output("ｘ * 2") == "graph-x_2.svg"
    assert graph.default_output("-(((é)))") == "graph.svg"
    assert run("graph", "x*2", "x=1").code == 0
    assert run("graph", "x+2", "x=1").code == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    suffix = "svg" if HAS_DOT else "dot"
    assert written == [f"graph-x_2.{suffix}"]  # x*2 and x+2 share letters and digits: one file, rewritten
    assert run("graph", "x**2 + 2**x", "x=3").code == 0
    assert (tmp_path / f"graph-x_2_2_x.{suffix}").exists()


def test_graph_warns_when_the_result_or_a_gradient_is_nan_or_inf(run):
    result = run("graph", "log(x)", "x=-1", "-o", "g.dot")
    assert result.code == 0
    assert "log(x) = nan" in result.out
    assert result.err.strip() == (
        "chainrule graph: warning: nan or inf in the result "
        "(from e.g. log of a negative number, 0/0, or a number too large for a float)"
    )
    result = run("graph", "x/y", "x=1", "y=0", "-o", "g.dot")
    assert "the result, the gradient of x, the gradient of y" in result.err
    assert run("graph", "x*2", "x=1", "-o", "g.dot").err == ""


def test_unicode_names_in_bindings_are_normalised_like_the_expression(run):
    result = run("graph", "ｘ * 2", "ｘ=1", "-o", "g.dot")
    assert result.code == 0, result.err
    assert gradients(result.out) == {"x": 2.0}
    result = run("graph", "ｅｘｐ(x)", "x=0", "-o", "g.dot")  # function names too: this is exp
    assert result.code == 0 and gradients(result.out) == {"x": 1.0}


HOSTILE = [
    ("__import__('os').system('touch pwned')", r"not allowed|unknown function"),
    ("x.__class__", "attribute access"),
    ("(lambda: 1)()", "lambda"),
    ("[x for x in range(3)]", "comprehension|not allowed"),
    ("x[0]", "subscript"),
    ("open('f')", "unknown function 'open'"),
    ("x if x else x", "not allowed"),
    ("'a' * 3", "only numbers"),
    ("x" + "+x" * 5000, "characters long"),
    ("(" * 250 + "x" + ")" * 250, "nested"),
    ("x*" + "-" * 500 + "x", "parts"),
    ("tanh(x, y=2)", "keyword"),
    ("x @ x", "not allowed"),
    ("x == 1", "comparison"),
    ("1" + "0" * 400 + " * x", r"401 digits\) is too large for a float"),
    ("leaky_relu(x, 1" + "0" * 400 + ")", r"401 digits\) is too large for a float"),
    ("elu(x, 1" + "0" * 400 + ")", r"401 digits\) is too large for a float"),
]


@pytest.mark.parametrize("expression, pattern", HOSTILE)
def test_hostile_expressions_are_refused_without_side_effects(run, tmp_path, expression, pattern):
    assert_usage_error(run("graph", expression, "x=1", "-o", "g.dot"), pattern)
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing run


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["graph", "x + y", "x=1"], "no value for 'y'"),
        (["graph", "x + 1", "x=one"], "must be a number"),
        (["graph", "x + 1", "x"], "NAME=VALUE"),
        (["graph", "x + 1", "x=1", "z=2"], "z given but not used"),
        (["graph", "x + 1", "x=1", "-o", "g.jpeg"], "format"),
        (["graph", "x + 1", "x=1", "-o", ""], "file name is empty"),
        (["graph", "x + 1", "x=1", "-o", "missing/g.svg"], "folder missing does not exist"),
        (["graph", "x + 1", "x=1", "x=2"], "given twice"),
        (["graph", "x + 1", "ｘ=1", "x=2"], "given twice"),
        (["graph", "tanh", "x=1"], "is a function"),
        (["graph", "x + 1", "ｅｘｐ=1"], "'exp' is a function name"),
        (["graph", "x + 1", "x=" + "1" * 100_000], "must be a finite number"),
        (["graph", "x + 1", "x=" + "a" * 100_000], "must be a number"),
        (["graph", "x + 1", "x=1", *(f"v{i}=1" for i in range(100_000))], "given but not used"),
        (["train", "--data", "mnist"], "invalid choice"),
        (["train", "--hidden", "16,x"], "sizes like 16,16"),
        (["train", "--hidden", "0"], "at least 1"),
        (["train", "--hidden", "100000"], "at most 1000"),
        (["train", "--lr", "-1"], "positive number"),
        (["train", "--lr", "nan"], "finite number"),
        (["train", "--epochs", "many"], "whole number"),
        (["train", "--samples", "1"], "at least 10"),
        (["train", "--noise", "inf"], "finite number"),
        (["train", "--init", "bogus"], "invalid choice"),
        (["train", "--data", "iris", "--loss", "hinge", "--quiet"], "two classes"),
        (["predict", "missing.json", "1", "2"], "no such file"),
        (["predict", "model.json", "1", "two"], "expected a number"),
        (["predict", "model.json", "1", "1e999"], "finite number"),
        (["nonsense"], "invalid choice"),
        (["demo", "--steps", "0"], "at least 1"),
    ],
)
def test_bad_input_is_one_short_line_and_status_2(run, args, pattern):
    assert_usage_error(run(*args), pattern)


def test_help_has_an_example_for_every_command(run):
    for command in ("demo", "graph", "train", "predict"):
        result = run(command, "--help")
        assert result.code == 0
        assert "example" in result.out and f"chainrule {command}" in result.out


def test_every_command_has_its_own_parser_and_function():
    parser = cli.build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps the sub-parsers here
    assert sorted(commands) == ["demo", "graph", "predict", "train"]
    for name, sub in commands.items():
        assert sub.get_default("func").__name__ == f"cmd_{name}"


def test_the_program_exits_with_the_status_it_reports(tmp_path):
    ok = program("--version", cwd=tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("chainrule ")
    bad = program("graph", "x +", "x=1", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "cannot parse" in bad.stderr


def test_a_closed_pipe_stops_the_command_quietly(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "chainrule", "graph", "x*y + x", "x=3", "y=4", "--steps",
                                "-o", "g.dot"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader goes away before anything is written, as `| head -c 0` would
    _, err = process.communicate(timeout=60)
    assert err == b""
    assert process.returncode == cli.EXIT_BROKEN_PIPE == 141


# ---------------------------------------------------------------------------
# Writing output files
# ---------------------------------------------------------------------------
def test_a_folder_as_output_is_refused_and_nothing_is_left_behind(run, tmp_path):
    (tmp_path / "adir.svg").mkdir()
    assert_usage_error(run("graph", "x*2", "x=1", "-o", "adir.svg"), "adir.svg: it is a folder")
    assert [p.name for p in tmp_path.iterdir()] == ["adir.svg"]


def test_devices_and_pipes_as_output_are_refused(run, tmp_path):
    os.mkfifo(tmp_path / "fifo.dot")
    assert_usage_error(run("graph", "x*2", "x=1", "-o", "fifo.dot"), "a device, a pipe or a socket")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "fifo.dot").st_mode)  # still a pipe
    (tmp_path / "null.dot").symlink_to(os.devnull)
    assert_usage_error(run("graph", "x*2", "x=1", "-o", "null.dot"), "a device, a pipe or a socket")
    assert os.readlink(tmp_path / "null.dot") == os.devnull
    assert_usage_error(run("train", "--data", "xor", "--save", "fifo.dot"), "a device, a pipe or a socket")


def test_output_through_a_symlink_writes_its_target_and_keeps_permissions(run, tmp_path):
    real = tmp_path / "real.dot"
    real.write_text("old")
    real.chmod(0o600)
    (tmp_path / "link.dot").symlink_to("real.dot")
    assert run("graph", "x*2", "x=1", "-o", "link.dot").code == 0
    assert (tmp_path / "link.dot").is_symlink()
    assert real.read_text().startswith("digraph")
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == []


def test_a_file_planted_at_the_old_temporary_name_is_never_followed(run, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / ".g.dot.tmp").symlink_to(victim)
    assert run("graph", "x*2", "x=1", "-o", "g.dot").code == 0
    assert victim.read_text() == "precious"
    assert not (tmp_path / "g.dot").is_symlink() and (tmp_path / "g.dot").read_text().startswith("digraph")


def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "g.dot"
    target.write_text("old")

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ValueError, match=r"^cannot write '.*g\.dot': No space left on device$"):
        atomic_write(target, b"new")
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_a_new_output_file_gets_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.dot", b"digraph {}")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.dot").stat().st_mode) == 0o644


def test_demo_checks_every_output_before_training(run, tmp_path):
    (tmp_path / "out" / "neuron.svg").mkdir(parents=True)
    result = run("demo", "--out", "out", "--quiet")
    assert_usage_error(result, "neuron.svg: it is a folder")
    assert result.out == ""  # refused before training started
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["neuron.svg"]
    (tmp_path / "file").write_text("")
    assert_usage_error(run("demo", "--out", "file"), "it is a file, not a folder")


# ---------------------------------------------------------------------------
# chainrule train / predict
# ---------------------------------------------------------------------------
def test_train_xor_reaches_full_accuracy_and_predicts_each_corner(run, tmp_path):
    result = run("train", "--data", "xor", "--seed", "0", "--save", "xor.json", "--quiet")
    assert result.code == 0, result.err
    assert "train accuracy 1.000" in result.out and "test accuracy 1.000" in result.out
    assert json.loads((tmp_path / "xor.json").read_text())["type"] == "MLP"
    for x1, x2, label in [(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0)]:
        out = run("predict", "xor.json", str(x1), str(x2))
        assert out.code == 0, out.err
        score, line = out.out.splitlines()
        assert (float(score) > 0) == bool(label)  # hinge: the sign is the class
        assert line == f"class {label}"
    assert_usage_error(run("predict", "xor.json", "1"), "2 inputs")


def test_train_iris_with_cross_entropy_and_predict_a_class(run, tmp_path):
    result = run("train", "--data", "iris", "--hidden", "8", "--epochs", "100", "--save", "iris.json", "--quiet")
    assert result.code == 0, result.err
    assert float(re.search(r"test accuracy ([\d.]+)", result.out).group(1)) >= 0.9
    lines = run("predict", "iris.json", "5.1", "3.5", "1.4", "0.2").out.splitlines()
    scores = [float(s) for s in lines[0].split()]
    assert len(scores) == 3 and scores.index(max(scores)) == 0
    assert lines[1] == "class 0 (setosa)"
    assert run("predict", "iris.json", "6.7", "3.0", "5.2", "2.3").out.splitlines()[1] == "class 2 (virginica)"
    assert nn.Module.load(tmp_path / "iris.json").config()["nouts"] == [8, 3]  # the library reads it as before


@pytest.mark.parametrize(
    "loss, outputs, output_activation, targets, threshold",
    [
        (None, 1, None, [-1, 1, 1], None),  # two classes: the hinge loss, -1/+1 targets
        ("hinge_loss", 1, None, [-1, 1, 1], None),
        ("bce", 1, "sigmoid", [0, 1, 1], 0.5),  # probabilities out, split at one half
        ("bce_with_logits", 1, None, [0, 1, 1], None),  # logits, split at 0
        ("mse", 1, None, [0, 1, 1], 0.5),
        ("l1", 1, None, [0, 1, 1], 0.5),
        ("cross_entropy", 2, None, [0, 1, 1], None),  # one output per class
    ],
)
def test_every_loss_name_of_the_library_shapes_the_network(loss, outputs, output_activation, targets, threshold):
    task = train.task_for(loss, [0, 1, 1], "moons")
    assert (task.outputs, task.output_activation, task.targets, task.threshold) == (
        outputs, output_activation, targets, threshold
    )


def test_the_command_line_offers_the_library_s_names():
    parser = cli.build_parser()
    train_parser = parser._subparsers._group_actions[0].choices["train"]
    choices = {action.dest: action.choices for action in train_parser._actions if action.choices}
    assert set(choices["data"]) == set(nn.data.DATASETS)
    assert set(choices["loss"]) == set(nn.losses.LOSSES)
    assert set(choices["activation"]) == set(nn.activations.ACTIVATIONS)


@pytest.mark.parametrize(
    "args, pattern",
    [
        (["--data", "iris", "--samples", "50"], "'iris' is a fixed data set; leave out --samples"),
        (["--data", "xor", "--noise", "0.1"], "'xor' is a fixed data set; leave out --noise"),
        (["--data", "blobs", "--loss", "hinge"], "needs two classes, but blobs has 3"),
        (["--data", "moons", "--samples", "1"], "at least 10"),
    ],
)
def test_data_and_loss_mismatches_are_one_line(run, args, pattern):
    result = run("train", *args, "--quiet", "--epochs", "1")
    assert_usage_error(result, pattern)


def test_train_a_generated_xor_cloud(run):
    result = run("train", "--data", "xor", "--samples", "40", "--hidden", "8", "--epochs", "5", "--quiet")
    assert result.code == 0, result.err
    assert "on xor (30 train / 10 test points)" in result.out


def test_train_checks_the_save_target_before_training(run, tmp_path):
    (tmp_path / "model.json").mkdir()
    result = run("train", "--data", "xor", "--save", "model.json", "--quiet")
    assert_usage_error(result, "model.json: it is a folder")
    assert result.out == ""


def test_accuracy_is_measured_in_eval_mode_and_restores_the_mode():
    model = nn.MLP(2, [16, 1], rng=0, dropout=0.9)
    X = [[0.1 * i, -0.2 * i] for i in range(20)]
    y = [1 if i % 2 else -1 for i in range(20)]
    with model.evaluating():
        expected = nn.metrics.accuracy([model(x) for x in X], y)
    assert [train.accuracy(model, X, y, None) for _ in range(5)] == [expected] * 5
    assert model.training


def test_predict_is_the_same_on_every_run_for_a_model_with_dropout(run, tmp_path):
    model = nn.MLP(2, [16, 16, 1], rng=0, dropout=0.5)
    model.eval()
    expected = model([0.5, -0.2]).data
    model.train()
    model.save(tmp_path / "d.json")
    outputs = {run("predict", "d.json", "0.5", "-0.2").out for _ in range(6)}
    assert outputs == {f"{expected:.10g}\n"}


def test_predict_prints_the_class_of_a_classifier(run, tmp_path):
    nn.MLP(2, [3], rng=1).save(tmp_path / "three.json")
    nn.MLP(2, [1], output_activation="sigmoid", rng=1).save(tmp_path / "sigmoid.json")
    nn.MLP(2, [1], rng=1).save(tmp_path / "score.json")
    three = run("predict", "three.json", "0.5", "-0.2").out.splitlines()
    scores = [float(s) for s in three[0].split()]
    assert three[1] == f"class {scores.index(max(scores))}"
    sigmoid = run("predict", "sigmoid.json", "0.5", "-0.2").out.splitlines()
    assert sigmoid[1] == f"class {int(float(sigmoid[0]) > 0.5)}"
    assert len(run("predict", "score.json", "0.5", "-0.2").out.splitlines()) == 1  # one raw score: no class


def test_predict_runs_a_saved_dropout_layer_as_the_identity(run, tmp_path):
    nn.Dropout(0.5).save(tmp_path / "drop.json")
    result = run("predict", "drop.json", "1", "2")
    assert (result.code, result.out) == (0, "1 2\n")


def test_predict_reads_whole_numbers_as_row_indices_for_an_embedding(run, tmp_path):
    emb = nn.Embedding(3, 2, rng=0)
    emb.save(tmp_path / "emb.json")
    rows = [f"{v.data:.10g}" for i in (1, 0) for v in emb.weight[i]]
    result = run("predict", "emb.json", "1", "0")
    assert (result.code, result.out) == (0, " ".join(rows) + "\n")
    assert_usage_error(run("predict", "emb.json", "1.5"), r"^chainrule predict: error: Embedding row indices are whole numbers, got float 1.5$")
    assert_usage_error(run("predict", "emb.json", "7"), r"Embedding\(3, 2, 6 parameters\) has rows 0 to 2, got index 7$")
    assert_usage_error(run("predict", "emb.json", "x"), "expected a number, got 'x'")
    nn.MLP(2, [1], rng=0).save(tmp_path / "mlp.json")  # a model over numbers still reads "1" as 1.0
    assert run("predict", "mlp.json", "1", "0").out == run("predict", "mlp.json", "1.0", "0.0").out


def bad_model_files(folder: Path) -> dict[str, str]:
    """name -> pattern of its one-line error."""
    nn.MLP(2, [2, 1], rng=0).save(folder / "good.json")
    document = json.loads((folder / "good.json").read_text())
    (folder / "truncated.json").write_text('{"format": "chainrule')
    (folder / "foreign.json").write_text('{"hello": "world"}')
    (folder / "folder.json").mkdir()
    (folder / "nested.json").write_text("[" * 100_000 + "]" * 100_000)
    big = json.loads(json.dumps(document))
    big["state_dict"][next(iter(big["state_dict"]))] = 10**401
    (folder / "bigint.json").write_text(json.dumps(big))
    extra = json.loads(json.dumps(document))
    extra["state_dict"].update({f"k{i}": 0.0 for i in range(100_000)})
    (folder / "extra.json").write_text(json.dumps(extra))
    (folder / "huge.json").write_bytes(b" " * (30 * 2**20))
    (folder / "zero.json").symlink_to("/dev/zero")
    return {
        "truncated.json": "not valid JSON|not a chainrule model",
        "foreign.json": "format",
        "folder.json": "is a folder",
        "nested.json": "nested too deeply|not a chainrule model",
        "bigint.json": "too large|holds int",
        "extra.json": "unexpected keys|do not fit",
        "huge.json": "not valid JSON",
        "zero.json": "is a device, not a model file",
    }


def test_bad_model_files_are_one_short_line_and_status_2(run, tmp_path):
    for name, pattern in bad_model_files(tmp_path).items():
        assert_usage_error(run("predict", name, "1", "2"), pattern)


def bomb(folder: Path, name: str, **config: object) -> str:
    """A model file of a few hundred bytes whose config describes a huge network."""
    document = {"format": "chainrule-model", "version": 1, "type": "MLP",
                "config": {"nin": 2, "nouts": [1], "activation": "relu", "output_activation": "identity", **config},
                "state_dict": {}}
    (folder / name).write_text(json.dumps(document))
    assert (folder / name).stat().st_size < 300
    return name


@pytest.mark.parametrize("config", [{"nin": 10**30}, {"nouts": [10**12]}, {"nin": 2_000_000}])
def test_a_tiny_file_describing_a_huge_model_is_refused_before_anything_is_built(run, tmp_path, config):
    result = run("predict", bomb(tmp_path, "bomb.json", **config), "1")
    assert_usage_error(result, "parameters")


def test_a_file_of_many_tiny_values_is_one_short_line_and_status_2(run, tmp_path):
    document = json.loads((tmp_path / bomb(tmp_path, "pad.json")).read_text())
    (tmp_path / "pad.json").write_text(json.dumps({**document, "pad": [{}] * 20_000}))
    assert_usage_error(run("predict", "pad.json", "1", "2"), "holds 20,005 JSON objects and lists; a model file has at most 10,000$")


def test_running_out_of_memory_while_loading_is_one_short_line_and_status_2(run, tmp_path, monkeypatch):
    nn.MLP(2, [1], rng=0).save(tmp_path / "m.json")

    def exhausted(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(nn.serialize.json, "loads", exhausted)
    assert_usage_error(run("predict", "m.json", "1", "2"), "too large to read as a model file: ran out of memory$")


@pytest.mark.skipif(not os.path.isfile("/proc/version"), reason="needs Linux's /proc")
def test_a_save_that_fails_after_training_is_one_short_line_and_status_2(run, tmp_path):
    result = run("train", "--data", "xor", "--epochs", "1", "--quiet", "--save", "/proc/version")
    assert_usage_error(result, "^chainrule train: error: cannot write '/proc/version': no new file can be created in the folder '/proc'$")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_dangling_link_into_a_missing_folder_is_refused_before_training(run, tmp_path):
    (tmp_path / "link.json").symlink_to(tmp_path / "nowhere" / "m.json")
    result = run("train", "--data", "xor", "--epochs", "1", "--quiet", "--save", "link.json")
    assert_usage_error(result, "cannot write link.json: it is a symbolic link to .*nowhere/m.json, whose folder does not exist$")
    assert result.out == ""  # refused before training started


def test_a_saved_file_s_class_record_is_checked(run, tmp_path):
    nn.MLP(2, [1], rng=0).save(tmp_path / "m.json")
    document = json.loads((tmp_path / "m.json").read_text())
    for record, pattern in [([], "must be a JSON object"), ({"names": "ab"}, "list of texts"),
                            ({"threshold": "half"}, "finite number")]:
        (tmp_path / "m.json").write_text(json.dumps({**document, "classes": record}))
        assert_usage_error(run("predict", "m.json", "1", "2"), pattern)
    (tmp_path / "m.json").write_text(json.dumps({**document, "classes": {"names": ["no", "yes"], "threshold": -1e9}}))
    assert run("predict", "m.json", "1", "2").out.splitlines()[1] == "class 1 (yes)"


def test_a_pipe_as_model_file_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "fifo.json")
    result = program("predict", "fifo.json", "1", "2", cwd=tmp_path, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip() == "chainrule predict: error: 'fifo.json' is a FIFO (named pipe), not a model file"


# ---------------------------------------------------------------------------
# chainrule demo
# ---------------------------------------------------------------------------
def test_demo_trains_and_writes_its_pictures(run, tmp_path):
    pytest.importorskip("matplotlib")
    result = run("demo", "--out", "out", "--quiet")
    assert result.code == 0, result.err
    assert float(re.search(r"accuracy (\d+)%", result.out).group(1)) >= 95
    out = tmp_path / "out"
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "decision_boundary.png").read_bytes().startswith(b"\x89PNG")
    history = json.loads((out / "history.json").read_text())
    assert len(history["loss"]) == 100 and history["loss"][-1] < history["loss"][0]
    if HAS_DOT:
        svg = ET.parse(out / "neuron.svg").getroot()
        texts = {t.text for t in svg.iter() if t.tag.endswith("text")}
        assert {"x0", "x1", "w0", "w1", "b", "dot", "relu"} <= texts
    else:
        assert (out / "neuron.dot").exists()
    assert leftovers(out) == []


def test_the_demo_neuron_picture_obeys_the_chain_rule():
    X, labels = nn.data.make_moons(n_samples=30, noise=0.1, random_state=1)
    model = nn.MLP(2, [16, 16, 1], rng=1)
    nn.fit(model, X, [2 * t - 1 for t in labels], loss="hinge", optimizer=nn.optim.SGD(model.parameters(), lr=0.5),
           epochs=3, progress=False)  # leaves training gradients behind
    root, title = demo.neuron_graph(model, X)
    assert root.data > 0.0  # the chosen neuron is active on the shown point, so its gradients are not all 0
    assert "data point" in title
    # every Value's gradient is the sum over its edges of local derivative * upstream gradient
    nodes, stack = [], [root]
    while stack:
        node = stack.pop()
        if node not in nodes:
            nodes.append(node)
            stack.extend(node.parents)
    expected = {id(n): 0.0 for n in nodes}
    expected[id(root)] = 1.0
    for node in nodes:
        for parent, local in zip(node.parents, node.local_grads, strict=True):
            expected[id(parent)] += local * node.grad
    assert [n.grad for n in nodes] == pytest.approx([expected[id(n)] for n in nodes], rel=1e-12, abs=0.0)
    weights = {id(p) for p in model.layers[0].neurons[0].parameters()}
    assert sum(1 for n in nodes if id(n) in weights or not n.parents) >= 5  # x0, x1, w0, w1, b


def test_the_demo_loss_picture_title_says_epoch_as_its_axes_do(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    from nn import plot

    figures = []
    real = plot.plot_history
    monkeypatch.setattr(plot, "plot_history", lambda history, **kw: figures.append(real(history, **kw)) or figures[-1])
    history = nn.History(loss=[1.0, 0.5], accuracy=[0.5, 1.0], lr=[1.0, 1.0])
    written = demo._write_plots(nn.MLP(2, [1], rng=0), [[0.0, 0.0], [1.0, 1.0]], [-1, 1], history, tmp_path)
    assert [p.name for p in written] == ["loss.png", "decision_boundary.png"]
    (fig,) = figures
    assert "per epoch" in fig._suptitle.get_text()
    assert {ax.get_xlabel() for ax in fig.axes} == {"epoch"}


def test_demo_without_dot_writes_dot_source(run, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    result = run("demo", "--out", "out", "--steps", "3", "--quiet")
    assert result.code == 0, result.err
    assert (tmp_path / "out" / "neuron.dot").read_text().startswith("digraph")
    assert "apt-get install graphviz" in result.err


def test_demo_without_matplotlib_skips_the_pictures_and_says_so(run, tmp_path, monkeypatch):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    result = run("demo", "--out", "out", "--steps", "3", "--quiet")
    assert result.code == 0, result.err
    assert "pip install 'chainrule[plot]'" in result.err
    out = tmp_path / "out"
    assert not (out / "loss.png").exists() and not (out / "decision_boundary.png").exists()
    assert (out / "history.json").exists()
