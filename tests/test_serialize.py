"""nn.serialize: saving and loading models as JSON, safely."""

import json
import math
import os
import random

import pytest

import nn
from nn import serialize


def test_save_load_round_trip_gives_identical_outputs(tmp_path):
    model = nn.MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", init="he_normal", rng=2)
    path = tmp_path / "model.json"
    model.save(path)
    document = json.loads(path.read_text())
    assert document["format"] == "chainrule-model" and document["version"] == 1
    assert document["type"] == "MLP"
    assert document["config"] == {"nin": 3, "nouts": [5, 4, 2], "activation": "tanh", "output_activation": "sigmoid"}
    state = random.getstate()
    loaded = nn.Module.load(path)
    assert random.getstate() == state  # loading draws no random numbers
    assert type(loaded) is nn.MLP and repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()
    for x in ([0.1, -0.2, 0.3], [5.0, 1.0, -7.5]):
        assert [v.data for v in loaded(x)] == [v.data for v in model(x)]
    assert type(nn.MLP.load(str(path))) is nn.MLP

@pytest.mark.parametrize(
    "model",
    [
        nn.Neuron(3, activation="elu", rng=0),
        nn.Layer(2, 3, activation="leaky_relu", rng=0),
        nn.Perceptron(2),
        nn.Dropout(0.25),
        nn.MLP(2, [1]),
    ],
    ids=repr,
)
def test_other_modules_save_and_load(tmp_path, model):
    path = tmp_path / "m.json"
    model.save(path)
    loaded = type(model).load(path)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert loaded.state_dict() == model.state_dict()

def test_load_checks_the_type(tmp_path):
    path = tmp_path / "neuron.json"
    nn.Neuron(2).save(path)
    with pytest.raises(ValueError, match="type 'Neuron', expected MLP"):
        nn.MLP.load(path)

def test_truncated_file_gives_clear_error(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [4, 1], rng=0).save(path)
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(ValueError, match="not valid JSON, perhaps truncated or corrupt"):
        nn.Module.load(path)

@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x80\x81 not utf-8", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[1, 2, 3]", "no \"format\": \"chainrule-model\" marker"),
        (b'{"weights": [1, 2]}', "marker"),
        (b'{"format": "chainrule-model", "version": 99}', "version 99"),
        (b'{"format": "chainrule-model", "version": 1, "type": "os.system", "config": {}, "state_dict": {}}', "type 'os.system'"),
        (b'{"format": "chainrule-model", "version": 1, "type": "MLP", "config": [], "state_dict": {}}', "JSON objects"),
        (b'{"format": "chainrule-model", "version": 1, "type": "MLP", "config": {"nin": "two"}, "state_dict": {}}', "cannot build"),
        (b'{"format": "chainrule-model", "version": 1, "type": "Neuron", "config": {"nin": 1}, "state_dict": {"w.0": 1}}', "2 parameters but the file stores 1 weight"),
        (b'{"format": "chainrule-model", "version": 1, "type": "Neuron", "config": {"nin": 1}, "state_dict": {"w.0": 1, "c": 2}}', "missing keys \\['b'\\]"),
    ],
)
def test_foreign_or_corrupt_files_raise_value_error(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        nn.Module.load(path)

def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    old = nn.MLP(2, [3, 1], rng=0)
    old.save(path)
    before = path.read_bytes()

    def crash(fd):  # the new file's bytes are written but the write never completes
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(ValueError, match=r"^cannot write '.*model\.json': disk full$"):
        nn.MLP(2, [3, 1], rng=1).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]  # no temporary file left behind
    assert nn.Module.load(path).state_dict() == old.state_dict()

def test_save_overwrites_on_success(tmp_path):
    path = tmp_path / "model.json"
    nn.MLP(2, [3, 1], rng=0).save(path)
    new = nn.MLP(2, [3, 1], rng=1)
    new.save(path)
    assert nn.MLP.load(path).state_dict() == new.state_dict()
    assert os.listdir(tmp_path) == ["model.json"]


class Net(nn.Module):
    def __init__(self):
        self.hidden = nn.Layer(2, 3, rng=0)

    def forward(self, x):
        return self.hidden(x)


def test_unsaveable_modules_say_why(tmp_path):
    with pytest.raises(ValueError, match="Net cannot be saved.*state_dict"):
        Net().save(tmp_path / "net.json")
    with pytest.raises(ValueError, match="custom activation function '<lambda>'"):
        nn.MLP(2, [3, 1], activation=lambda v: v).save(tmp_path / "m.json")
    assert not os.listdir(tmp_path)


# ---------------------------------------------------------------------------
# Hostile files: a ValueError, quickly and in little memory
# ---------------------------------------------------------------------------


def _document(**changes):
    doc = {
        "format": "chainrule-model",
        "version": 1,
        "type": "MLP",
        "config": {"nin": 2, "nouts": [1], "activation": "relu", "output_activation": "identity"},
        "state_dict": {},
    }
    doc.update(changes)
    return doc


MLP_2_1 = {"layers.0.neurons.0.w.0": 0.5, "layers.0.neurons.0.w.1": -0.5, "layers.0.neurons.0.b": 0.0}


def _write(tmp_path, doc, name="m.json"):
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"nin": 10**30, "nouts": [1]}, r"describes 1,000,000,000,000,000,000,000,000,000,001 parameters, more than the 1,000,000"),
        ({"nin": 2, "nouts": [10**12]}, "more than the 1,000,000 a file may hold"),
        ({"nin": 2_000_000, "nouts": [1]}, "describes 2,000,001 parameters, more than the 1,000,000"),
        ({"nin": 900_000, "nouts": [1]}, "has 900,001 parameters but the file stores 0 weights"),
        ({"nin": 2, "nouts": [1] * 100_000}, "has 200,001 parameters but the file stores 0 weights"),
        ({"nin": True, "nouts": [1]}, "nin, the number of inputs, must be a whole number >= 1, got bool True"),
        ({"nin": 2.0, "nouts": [1]}, "got float 2.0"),
        ({"nin": -3, "nouts": [1]}, "got int -3"),
        ({"nin": 2, "nouts": 5}, "nouts is a list of layer widths"),
        ({"nin": 2, "nouts": [[3]]}, "each layer width in nouts must be a whole number >= 1, got list"),
        ({"nouts": [1]}, "nin, the number of inputs, must be a whole number >= 1, got NoneType None"),
    ],
)
def test_sizes_are_checked_before_anything_is_built(tmp_path, config, message):
    import tracemalloc

    path = _write(tmp_path, _document(config=config))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message) as error:
            nn.Module.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # a few MB at most, whatever the file claims
    assert len(str(error.value)) < 600


def test_the_parameter_cap_holds_for_every_saveable_type(tmp_path):
    bombs = {
        "Neuron": {"nin": 10**9},
        "Layer": {"nin": 10**5, "nout": 10**5},
        "Embedding": {"num_embeddings": 10**6, "embedding_dim": 100},
        "Perceptron": {"nin": 10**8},
    }
    for kind, config in bombs.items():
        path = _write(tmp_path, _document(type=kind, config=config), f"{kind}.json")
        with pytest.raises(ValueError, match="more than the 1,000,000 a file may hold"):
            nn.Module.load(path)


def _deep_json_raises_recursion_error() -> bool:
    """Python 3.12 and later parse JSON nested 5,000 deep; earlier versions stop with RecursionError."""
    try:
        json.loads("[" * 5_000 + "]" * 5_000)
    except RecursionError:
        return True
    return False


DEEP = "[" * 5_000 + "]" * 5_000
DEEP_MESSAGE = "nested too deeply" if _deep_json_raises_recursion_error() else "not a chainrule model file"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (DEEP, DEEP_MESSAGE),
        ("[" * 100_000 + "]" * 100_000, "holds 100,000 JSON objects and lists; a model file has at most 10,000"),
        ('{"format": "chainrule-model", "x": ' + "1" * 5000 + "}", "not valid JSON"),
        (json.dumps(_document(version=True)), "version True"),
        (json.dumps(_document(version=1.0)), "version 1.0"),
        (json.dumps(_document(version="1")), "version '1'"),
        (json.dumps(_document(type=["MLP"])), r"type \['MLP'\], expected one of"),
        (json.dumps(_document(type="x" * 10_000)), "type 'xxxx"),
        (json.dumps(_document(state_dict=[])), "must both be JSON objects"),
        (json.dumps(_document(config={"nin": 2, "nouts": [1], "init": "he_normal"}, state_dict=MLP_2_1)), "cannot build a MLP"),
        (json.dumps(_document(config={"nin": 2, "nouts": [1], "activation": "nope"}, state_dict=MLP_2_1)), "unknown activation 'nope'"),
        (json.dumps(_document(config={"nin": 2, "nouts": [1], "dropout": 5}, state_dict=MLP_2_1)), "0 <= p < 1"),
    ],
)
def test_malformed_documents_raise_value_error(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as error:
        nn.Module.load(path)
    assert len(str(error.value)) < 600


def _refuse_parsing(monkeypatch):
    """Make json.loads fail loudly, to show a file is refused before it is parsed."""

    def never(*args, **kwargs):
        raise AssertionError("json.loads was called")

    monkeypatch.setattr(serialize.json, "loads", never)


def test_many_tiny_containers_are_refused_before_parsing(tmp_path, monkeypatch):
    # 10,000 empty objects: 30 kB here; 20 million of them (60 MB) would cost 2 GB to parse
    pad = "[" + ", ".join(["{}"] * serialize.MAX_JSON_CONTAINERS) + "]"
    path = _write(tmp_path, json.dumps(_document(state_dict=MLP_2_1))[:-1] + ', "pad": ' + pad + "}")
    _refuse_parsing(monkeypatch)
    with pytest.raises(ValueError) as error:
        nn.Module.load(path)
    assert str(error.value) == (
        f"{str(path)!r} is not a chainrule model file: it holds 10,005 JSON objects and lists; "
        "a model file has at most 10,000"
    )


def test_more_values_than_any_model_holds_are_refused_before_parsing(tmp_path, monkeypatch):
    pad = "[" + "0," * serialize.MAX_JSON_VALUES + "0]"  # 2.2 MB of zeros, one more than the limit
    path = _write(tmp_path, json.dumps(_document(state_dict=MLP_2_1))[:-1] + ', "pad": ' + pad + "}")
    _refuse_parsing(monkeypatch)
    with pytest.raises(ValueError, match=r"it holds about 1,100,0[0-9][0-9] JSON values; a model file has at most 1,100,000$"):
        nn.Module.load(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": [{}, {}, {}]}', "it holds 5 JSON objects and lists; a test file has at most 3"),
        (b'{"a": [[], [], []]}', "it holds 5 JSON objects and lists; a test file has at most 3"),
        ('{"a": [1, 2, 3, 4, 5, 6]}', "it holds about 5 JSON values; a test file has at most 4"),
        ('{"a": "\u00e9", "b": [1, 2, 3, 4, 5]}'.encode(), "it holds about 5 JSON values; a test file has at most 4"),
    ],
)
def test_check_json_size_counts_containers_and_values_in_text_or_bytes(text, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        serialize.check_json_size(text, "a test file", max_containers=3, max_values=4)
    with pytest.raises(ValueError, match=f"^{message}$"):
        serialize.parse_json(text, "a test file", max_containers=3, max_values=4)


def test_parse_json_within_the_limits_returns_the_document():
    assert serialize.parse_json('{"a": [{}, 1, 2]}', "a test file", max_containers=3, max_values=4) == {"a": [{}, 1, 2]}
    assert serialize.parse_json(b'[1.5, "x"]') == [1.5, "x"]
    if _deep_json_raises_recursion_error():
        with pytest.raises(ValueError, match="^its JSON is nested too deeply$"):
            serialize.parse_json(DEEP, max_containers=10_000)
    else:  # a deep list is parsed (the container count bounds its cost)
        assert isinstance(serialize.parse_json(DEEP, max_containers=10_000), list)
    with pytest.raises(ValueError, match=r"^it is not valid JSON, perhaps truncated or corrupt \(Expecting"):
        serialize.parse_json('{"a": ')


def test_a_saved_model_fits_the_limits_at_the_parameter_cap(tmp_path):
    model = nn.MLP(1000, [12, 1], rng=0)  # names as long as a 1,000,000-weight MLP's (layers.0.neurons.11.w.999)
    model.save(tmp_path / "m.json")
    raw = (tmp_path / "m.json").read_bytes()
    weights = model.num_parameters()
    assert len(raw) / weights < 0.9 * serialize.MAX_FILE_BYTES / serialize.MAX_PARAMETERS  # about 53 of 64 bytes
    assert raw.count(b",") <= weights + 10 and raw.count(b"{") + raw.count(b"[") <= 10
    assert serialize.MAX_JSON_VALUES > serialize.MAX_PARAMETERS


@pytest.mark.parametrize("where", ["parse", "build"])
def test_running_out_of_memory_while_loading_is_a_value_error(tmp_path, monkeypatch, where):
    path = tmp_path / "m.json"
    nn.MLP(2, [3, 1], rng=0).save(path)

    def exhausted(*args, **kwargs):
        raise MemoryError

    if where == "parse":
        monkeypatch.setattr(serialize.json, "loads", exhausted)
        message = f"^{str(path)!r} is not a chainrule model file: it is too large to read as a model file: ran out of memory$"
    else:
        monkeypatch.setattr(nn.MLP, "from_config", exhausted)
        message = f"^{str(path)!r} is too large to load: the computer ran out of memory$"
    with pytest.raises(ValueError, match=message.replace("/", ".").replace("(", ".").replace(")", ".")):
        nn.Module.load(path)
    with pytest.raises(ValueError, match="ran out of memory"):
        serialize.load_model(path)


def test_a_huge_integer_weight_is_a_value_error_and_nothing_is_built(tmp_path):
    model = nn.MLP(2, [2, 1], rng=0)
    state = {k: 0.5 for k in model.state_dict()}
    text = json.dumps(_document(config=model.config(), state_dict=state)).replace("0.5}", "1" + "0" * 400 + "}")
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match="the saved weights do not fit.*holds int 1000"):
        nn.Module.load(path)
    with pytest.raises(ValueError, match="holds int"):
        serialize.load_model(path)


def test_extra_keys_give_a_short_message(tmp_path):
    model = nn.MLP(2, [1], rng=0)
    state = {**model.state_dict(), **{f"junk.{i}": 0.0 for i in range(100_000)}}
    path = _write(tmp_path, _document(config=model.config(), state_dict=state))
    with pytest.raises(ValueError, match="has 3 parameters but the file stores 100,003 weights") as error:
        nn.Module.load(path)
    assert len(str(error.value)) < 600


def test_renamed_keys_with_the_right_count_give_the_names(tmp_path):
    model = nn.MLP(2, [1], rng=0)
    state = {f"w{i}": 0.0 for i in range(3)}
    path = _write(tmp_path, _document(config=model.config(), state_dict=state))
    with pytest.raises(ValueError, match=r"missing keys \['layers.0.neurons.0.w.0', .*unexpected keys \['w0'"):
        nn.Module.load(path)


def test_top_level_keys_it_does_not_know_are_ignored(tmp_path):
    model = nn.MLP(2, [1], rng=0)
    path = tmp_path / "m.json"
    model.save(path)
    doc = json.loads(path.read_text())
    doc["classes"] = {"names": ["no", "yes"], "threshold": 0.0}  # what the command line adds
    path.write_text(json.dumps(doc))
    assert nn.Module.load(path).state_dict() == model.state_dict()


# ---------------------------------------------------------------------------
# Files that are not regular files
# ---------------------------------------------------------------------------


def _finishes(fn, seconds=20.0):
    """Run fn in a thread; return its exception (or None) if it ends within ``seconds`` (a guard, not a timing)."""
    import threading

    outcome = {}

    def target():
        try:
            fn()
        except BaseException as error:  # noqa: BLE001 - handed back to the test
            outcome["error"] = error

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "it blocked"
    return outcome.get("error")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    error = _finishes(lambda: nn.Module.load(fifo))
    assert isinstance(error, ValueError) and "is a FIFO (named pipe), not a model file" in str(error)
    error = _finishes(lambda: serialize.read_file(fifo))
    assert isinstance(error, ValueError)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_before_it_is_read():
    error = _finishes(lambda: serialize.load_model("/dev/zero"))
    assert isinstance(error, ValueError) and "'/dev/zero' is a device, not a model file" in str(error)


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="is a folder, not a model file"):
        nn.Module.load(tmp_path)


def test_a_file_larger_than_the_limit_is_refused_before_reading(tmp_path):
    big = tmp_path / "big.json"
    with open(big, "wb") as file:
        file.truncate(serialize.MAX_FILE_BYTES + 1)  # sparse: no disk used, nothing read
    with pytest.raises(ValueError, match="64,000,001 bytes; a model file may be at most 64,000,000 bytes"):
        nn.Module.load(big)


def test_a_file_that_grows_past_the_limit_while_read_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    nn.MLP(2, [4, 1], rng=0).save(path)
    size = path.stat().st_size
    assert serialize.read_file(path, limit=size) == path.read_bytes()
    real_stat = os.stat
    monkeypatch.setattr(serialize.os, "stat", lambda p: os.stat_result((*real_stat(p)[:6], 10, *real_stat(p)[7:])))
    with pytest.raises(ValueError, match=f"larger than {size - 1:,} bytes"):
        serialize.read_file(path, limit=size - 1)  # stat said 10 bytes; the read finds more and stops


def test_load_model_turns_every_failure_into_one_value_error(tmp_path):
    cases = {
        tmp_path / "missing.json": "cannot read .*missing.json: no such file",
        tmp_path: "is a folder",
        _write(tmp_path, "garbage", "g.json"): "not valid JSON",
        _write(tmp_path, _document(), "empty.json"): "3 parameters but the file stores 0 weights",
    }
    for path, message in cases.items():
        with pytest.raises(ValueError, match=message):
            serialize.load_model(path)
    with pytest.raises(FileNotFoundError):  # Module.load keeps Python's usual error for a missing file
        nn.Module.load(tmp_path / "missing.json")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may read any file")
def test_load_model_reports_permission_denied(tmp_path):
    path = tmp_path / "m.json"
    nn.MLP(2, [1]).save(path)
    path.chmod(0)
    with pytest.raises(ValueError, match="permission denied"):
        serialize.load_model(path)


# ---------------------------------------------------------------------------
# What load returns
# ---------------------------------------------------------------------------


def test_load_keeps_training_mode_and_evaluating_predicts_deterministically(tmp_path):
    model = nn.MLP(2, [16, 16, 1], rng=0, dropout=0.5)
    model.eval()
    expected = model([0.5, -0.2]).data
    model.save(tmp_path / "d.json")
    loaded = nn.Module.load(tmp_path / "d.json")
    assert loaded.training and loaded.dropout.training  # as PyTorch: loading does not change the mode
    with loaded.evaluating():
        assert [loaded([0.5, -0.2]).data for _ in range(5)] == [expected] * 5
    assert loaded.training


def test_dropout_saves_and_loads(tmp_path):
    nn.Dropout(0.5).save(tmp_path / "drop.json")
    loaded = serialize.load_model(tmp_path / "drop.json")
    assert type(loaded) is nn.Dropout and loaded.p == 0.5
    with loaded.evaluating():
        assert loaded([1.0, 2.0]) == [1.0, 2.0]


def test_non_finite_weights_are_saved_as_strict_json_and_read_back(tmp_path):
    model = nn.MLP(2, [2, 1], rng=0)
    params = model.parameters()
    params[0].data, params[1].data, params[2].data = math.nan, math.inf, -math.inf
    path = tmp_path / "m.json"
    model.save(path)
    text = path.read_text()

    def strict(token):
        raise AssertionError(f"bare {token} in the file")

    document = json.loads(text, parse_constant=strict)
    values = list(document["state_dict"].values())
    assert values[:3] == ["nan", "inf", "-inf"] and all(isinstance(v, float) for v in values[3:])
    loaded = nn.Module.load(path).parameters()
    assert math.isnan(loaded[0].data) and loaded[1].data == math.inf and loaded[2].data == -math.inf
    assert [p.data for p in loaded[3:]] == [p.data for p in params[3:]]


def test_bare_nan_tokens_from_older_files_still_load(tmp_path):
    model = nn.Neuron(1, rng=0)
    path = _write(tmp_path, '{"format": "chainrule-model", "version": 1, "type": "Neuron", "config": {"nin": 1, "activation": "relu"}, '
                            '"state_dict": {"w.0": NaN, "b": -Infinity}}')
    loaded = nn.Module.load(path)
    assert math.isnan(loaded.w[0].data) and loaded.b.data == -math.inf
    assert type(model) is type(loaded)


def test_other_strings_are_not_numbers(tmp_path):
    path = _write(tmp_path, '{"format": "chainrule-model", "version": 1, "type": "Neuron", "config": {"nin": 1}, '
                            '"state_dict": {"w.0": "NaN", "b": 0}}')
    with pytest.raises(ValueError, match="'w.0' holds str 'NaN'"):
        nn.Module.load(path)


# ---------------------------------------------------------------------------
# Saving: symlinks, permissions, devices, temporary files
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_save_writes_through_a_symlink(tmp_path):
    target = tmp_path / "real" / "model.json"
    target.parent.mkdir()
    nn.MLP(2, [1], rng=0).save(target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    new = nn.MLP(2, [1], rng=1)
    new.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert nn.Module.load(target).state_dict() == new.state_dict()
    assert sorted(os.listdir(target.parent)) == ["model.json"]
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "real" / "later.json")
    new.save(dangling)  # creates the file the link names
    assert dangling.is_symlink() and (tmp_path / "real" / "later.json").is_file()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_save_keeps_the_permissions_of_an_existing_file(tmp_path):
    path = tmp_path / "private.json"
    nn.MLP(2, [1], rng=0).save(path)
    path.chmod(0o600)
    nn.MLP(2, [1], rng=1).save(path)
    assert (path.stat().st_mode & 0o777) == 0o600
    path.chmod(0o640)
    nn.MLP(2, [1], rng=2).save(path)
    assert (path.stat().st_mode & 0o777) == 0o640


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_a_new_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        nn.MLP(2, [1], rng=0).save(tmp_path / "new.json")
    finally:
        os.umask(old)
    assert ((tmp_path / "new.json").stat().st_mode & 0o777) == 0o640  # 0o666 less the umask, as open() gives


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_save_refuses_a_fifo_and_leaves_it(tmp_path):
    import stat

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    error = _finishes(lambda: nn.MLP(2, [1]).save(fifo))
    assert isinstance(error, ValueError) and "it is a FIFO (named pipe), not a regular file" in str(error)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and os.listdir(tmp_path) == ["pipe.json"]


def test_save_refuses_a_device_node_and_leaves_it(tmp_path):
    import stat

    node = tmp_path / "null"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a scratch /dev/null
    except (AttributeError, PermissionError, OSError):
        pytest.skip("creating a device node needs root")
    with pytest.raises(ValueError, match="it is a device, not a regular file"):
        nn.MLP(2, [1]).save(node)
    assert stat.S_ISCHR(os.stat(node).st_mode) and os.listdir(tmp_path) == ["null"]


def test_save_refuses_a_folder(tmp_path):
    (tmp_path / "adir.json").mkdir()
    with pytest.raises(ValueError, match="it is a folder"):
        nn.MLP(2, [1]).save(tmp_path / "adir.json")
    assert os.listdir(tmp_path) == ["adir.json"]


@pytest.mark.parametrize("where", ["replace", "write"])
def test_an_interrupted_save_leaves_no_temporary_file(tmp_path, monkeypatch, where):
    path = tmp_path / "model.json"
    old = nn.MLP(2, [3, 1], rng=0)
    old.save(path)

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(serialize.os, where, interrupt)
    with pytest.raises(KeyboardInterrupt):
        nn.MLP(2, [3, 1], rng=1).save(path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["model.json"]
    assert nn.Module.load(path).state_dict() == old.state_dict()


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_link_planted_at_a_temporary_name_is_never_followed(tmp_path, monkeypatch):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    names = iter(["aaaa", "bbbb"])
    monkeypatch.setattr(serialize.secrets, "token_hex", lambda n: next(names))
    (tmp_path / ".model.json.aaaa.tmp").symlink_to(victim)  # guessed and planted in advance
    model = nn.MLP(2, [1], rng=0)
    model.save(tmp_path / "model.json")
    assert victim.read_text() == "keep me"
    assert (tmp_path / ".model.json.aaaa.tmp").is_symlink()
    assert nn.Module.load(tmp_path / "model.json").state_dict() == model.state_dict()
    assert sorted(os.listdir(tmp_path)) == [".model.json.aaaa.tmp", "model.json", "victim.txt"]


def test_a_long_legal_file_name_saves_with_a_short_temporary_name(tmp_path, monkeypatch):
    path = tmp_path / ("m" * 245 + ".json")  # 250 characters: legal, but not with 22 more appended
    made = []
    real_open = os.open

    def spy(name, *args):
        made.append(os.path.basename(name))
        return real_open(name, *args)

    monkeypatch.setattr(serialize.os, "open", spy)
    model = nn.MLP(2, [3, 1], rng=0)
    model.save(path)
    assert nn.MLP.load(path).state_dict() == model.state_dict()
    assert made[0].startswith("." + "m" * 32 + ".") and made[0].endswith(".tmp") and len(made[0]) == 1 + 32 + 1 + 16 + 4
    assert os.listdir(tmp_path) == [path.name]


def _save_error(path) -> str:
    with pytest.raises(ValueError) as error:
        nn.MLP(2, [1], rng=0).save(path)
    text = str(error.value)
    assert ".tmp" not in text  # the error is about the file asked for, never the temporary one
    return text


def test_save_errors_name_the_file_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    missing = tmp_path / "nowhere" / "m.json"
    assert _save_error(missing) == f"cannot write {str(missing)!r}: the folder {str(missing.parent)!r} does not exist"
    assert _save_error("nowhere/m.json") == "cannot write 'nowhere/m.json': the folder 'nowhere' does not exist"


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_a_dangling_symlink_is_written_through_or_refused_by_its_name(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "nowhere" / "m.json")
    assert _save_error(link) == (
        f"cannot write {str(link)!r}: it is a symbolic link to {str(tmp_path / 'nowhere' / 'm.json')!r}, "
        "whose folder does not exist"
    )
    other = tmp_path / "other.json"
    other.symlink_to(tmp_path / "new.json")  # dangling, but its folder exists: the save creates the file
    model = nn.MLP(2, [1], rng=0)
    model.save(other)
    assert other.is_symlink() and nn.Module.load(tmp_path / "new.json").state_dict() == model.state_dict()


@pytest.mark.skipif(not os.path.isfile("/proc/version"), reason="needs Linux's /proc")
def test_a_file_in_a_folder_that_takes_no_new_files_is_refused_by_its_name():
    assert _save_error("/proc/version") == "cannot write '/proc/version': no new file can be created in the folder '/proc'"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux's /proc")
def test_a_pipe_reached_through_proc_self_fd_is_refused_as_a_pipe():
    read, write = os.pipe()  # what /proc/self/fd/0 is when stdin is a pipe
    try:
        path = f"/proc/self/fd/{read}"
        assert _save_error(path) == f"cannot write {path!r}: it is a FIFO (named pipe), not a regular file"
    finally:
        os.close(read)
        os.close(write)


def test_temporary_names_are_unpredictable(tmp_path, monkeypatch):
    made = []
    real_open = os.open

    def spy(path, *args):
        made.append(os.path.basename(path))
        return real_open(path, *args)

    monkeypatch.setattr(serialize.os, "open", spy)
    nn.MLP(2, [1]).save(tmp_path / "m.json")
    nn.MLP(2, [1]).save(tmp_path / "m.json")
    assert len(made) == 2 and made[0] != made[1]
    assert all(name.startswith(".m.json.") and name.endswith(".tmp") and len(name) == len(".m.json.") + 16 + 4 for name in made)


# ---------------------------------------------------------------------------
# Which classes a file may name
# ---------------------------------------------------------------------------


def test_the_built_in_types_are_registered():
    assert set(serialize.MODULE_TYPES) >= {"Neuron", "Layer", "MLP", "Dropout", "Embedding", "Perceptron"}
    assert serialize.MODULE_TYPES["MLP"] is nn.MLP


def test_your_own_module_can_be_saveable(tmp_path):
    class Scaled(nn.Module, saveable=True):
        def __init__(self, n, scale=1.0):
            self.scale = scale
            self.w = [nn.Value(0.0) for _ in range(n)]

        def forward(self, x):
            return [w * xi * self.scale for w, xi in zip(self.w, x, strict=True)]

        def config(self):
            return {"n": len(self.w), "scale": self.scale}

    try:
        model = Scaled(3, scale=2.0)
        model.w[1].data = 4.0
        model.save(tmp_path / "s.json")
        loaded = nn.Module.load(tmp_path / "s.json")
        assert type(loaded) is Scaled and loaded.scale == 2.0 and loaded.state_dict() == model.state_dict()
        assert Scaled.load(tmp_path / "s.json").w[1].data == 4.0
        with pytest.raises(ValueError, match="type 'Scaled', expected MLP"):
            nn.MLP.load(tmp_path / "s.json")

        with pytest.raises(TypeError, match="a saveable module class named 'MLP' already exists"):

            class MLP(nn.Module, saveable=True):  # noqa: F841 - the class statement itself raises
                pass
    finally:
        serialize.MODULE_TYPES.pop("Scaled", None)
