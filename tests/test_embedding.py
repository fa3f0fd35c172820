"""nn.Embedding: a lookup table of Values, and a makemore-style model that trains it."""

import math
import random
import statistics

import pytest

import nn
from autograd import Value


def test_table_shape_names_and_repr():
    emb = nn.Embedding(27, 4, rng=0)
    assert (emb.num_embeddings, emb.embedding_dim) == (27, 4)
    assert len(emb.weight) == 27 and all(len(row) == 4 for row in emb.weight)
    names = [name for name, _ in emb.named_parameters()]
    assert names[:5] == ["weight.0.0", "weight.0.1", "weight.0.2", "weight.0.3", "weight.1.0"]
    assert names[-1] == "weight.26.3" and emb.num_parameters() == 108
    assert repr(emb) == "Embedding(27, 4, 108 parameters)"


def test_default_init_is_standard_normal_like_torch():
    values = [v.data for row in nn.Embedding(500, 40, rng=1).weight for v in row]
    assert abs(statistics.fmean(values)) < 4 / math.sqrt(len(values))
    assert statistics.pvariance(values) == pytest.approx(1.0, rel=0.03)


def test_init_gets_torchs_fan_in_and_fan_out():
    seen = set()

    def record(fan_in, fan_out, rng):
        seen.add((fan_in, fan_out))
        return 0.5

    emb = nn.Embedding(10, 3, init=record, rng=0)
    assert seen == {(3, 10)}  # torch.nn.init reads a (num_embeddings, embedding_dim) weight this way
    assert {v.data for row in emb.weight for v in row} == {0.5}


def test_seeds_and_the_global_random_module():
    def table(e):
        return [v.data for row in e.weight for v in row]

    assert table(nn.Embedding(5, 2, rng=3)) == table(nn.Embedding(5, 2, rng=random.Random(3)))
    random.seed(4)
    a = table(nn.Embedding(5, 2))
    random.seed(4)
    assert table(nn.Embedding(5, 2)) == a


def test_looking_up_one_index_and_a_list():
    emb = nn.Embedding(5, 3, rng=0)
    row = emb(2)
    assert len(row) == 3 and all(a is b for a, b in zip(row, emb.weight[2], strict=True))  # the table's own Values
    row.append(Value(0.0))
    assert len(emb.weight[2]) == 3  # a fresh list each call: the table cannot be changed through it
    flat = emb([4, 0, 4])
    assert len(flat) == 9
    assert flat[:3] == emb.weight[4] and flat[3:6] == emb.weight[0] and flat[6:] == emb.weight[4]
    assert emb([]) == []


def test_numpy_integers_are_indices():
    np = pytest.importorskip("numpy")
    emb = nn.Embedding(5, 3, rng=0)
    assert emb(np.int64(1)) == emb(1) and emb(np.array([4, 0])) == emb([4, 0])


@pytest.mark.parametrize(
    ("index", "error", "message"),
    [
        (5, IndexError, r"Embedding\(5, 3, 15 parameters\) has rows 0 to 4, got index 5"),
        (-1, IndexError, "has rows 0 to 4, got index -1"),
        ([1, 7], IndexError, "got index 7"),
        (1.0, TypeError, "takes a row index \\(an int\\) or a list of them, got float 1.0"),
        (True, TypeError, "got bool True"),
        ("ab", TypeError, "got str 'ab'"),
        ([1, 2.5], TypeError, "row indices are whole numbers, got float 2.5"),
        ([Value(1.0)], TypeError, "row indices are whole numbers, got Value"),
    ],
)
def test_bad_indices_are_explained(index, error, message):
    with pytest.raises(error, match=message):
        nn.Embedding(5, 3, rng=0)(index)


@pytest.mark.parametrize(
    ("index", "message"),
    [
        ([10**4000], "got index an int of about 4,001 digits"),
        ([10**5000], "got index an int of about 5,001 digits"),
        (-(10**50), "got index a negative int of about 51 digits"),
        (10**29, "got index " + str(10**29)),
    ],
)
def test_huge_indices_are_described_by_their_size_not_printed(index, message):
    with pytest.raises(IndexError) as caught:
        nn.Embedding(3, 2, rng=0)(index)
    text = str(caught.value)
    assert text == "Embedding(3, 2, 6 parameters) has rows 0 to 2, " + message
    assert len(text) < 100


@pytest.mark.parametrize(("args", "message"), [((0, 3), "num_embeddings"), ((5, 0), "embedding_dim"), ((5.0, 3), "got float 5.0")])
def test_bad_sizes_are_explained(args, message):
    with pytest.raises(ValueError, match=message):
        nn.Embedding(*args)


def test_only_the_rows_looked_up_get_gradients():
    emb = nn.Embedding(4, 2, rng=0)
    out = emb([1, 3, 1])
    total = sum((v * (i + 1) for i, v in enumerate(out)), Value(0.0))
    total.backward()
    grads = [[v.grad for v in row] for row in emb.weight]
    assert grads == [[0.0, 0.0], [1.0 + 5.0, 2.0 + 6.0], [0.0, 0.0], [3.0, 4.0]]


def test_embedding_saves_and_loads(tmp_path):
    emb = nn.Embedding(6, 2, rng=0)
    emb.save(tmp_path / "emb.json")
    loaded = nn.Module.load(tmp_path / "emb.json")
    assert type(loaded) is nn.Embedding and loaded.state_dict() == emb.state_dict()
    assert [v.data for v in loaded([5, 1])] == [v.data for v in emb([5, 1])]


# ---------------------------------------------------------------------------
# A makemore-style character model
# ---------------------------------------------------------------------------

NAMES = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "amelia", "harper", "evelyn", "abigail", "ella", "luna"]
CHARS = "." + "abcdefghijklmnopqrstuvwxyz"


def _examples(block: int = 3) -> tuple[list[list[int]], list[int]]:
    X, Y = [], []
    for name in NAMES:
        context = [0] * block
        for ch in name + ".":
            ix = CHARS.index(ch)
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]
    return X, Y


class CharMLP(nn.Module):
    def __init__(self, rng):
        self.emb = nn.Embedding(27, 4, rng=rng)
        self.mlp = nn.MLP(3 * 4, [16, 27], activation="tanh", init="glorot_uniform", rng=rng)

    def forward(self, context):
        return self.mlp(self.emb(context))


def test_a_makemore_style_model_trains_its_embeddings():
    X, Y = _examples()
    model = CharMLP(rng=0)
    assert model.num_parameters() == 27 * 4 + (12 + 1) * 16 + (16 + 1) * 27
    assert [name for name, _ in model.named_parameters()][0] == "emb.weight.0.0"
    table_before = [v.data for row in model.emb.weight for v in row]
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    rng = random.Random(0)
    looked_up = set()
    for _ in range(30):
        batch = rng.sample(range(len(X)), 16)
        looked_up.update(i for j in batch for i in X[j])
        loss = nn.cross_entropy([model(X[j]) for j in batch], [Y[j] for j in batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    full = nn.cross_entropy([model(x) for x in X], Y).data
    assert full < math.log(27) - 0.5  # well below uniform guessing (3.30)
    table_after = [v.data for row in model.emb.weight for v in row]
    moved = {i for i in range(27) if table_after[4 * i : 4 * i + 4] != table_before[4 * i : 4 * i + 4]}
    assert moved == looked_up  # the embeddings of every character seen in a context were trained, no others
    assert CHARS.index("e") in moved and CHARS.index("z") not in moved
