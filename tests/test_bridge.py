"""nn.bridge without PyTorch installed: importing nn works, converting says what to install."""

import subprocess
import sys
from pathlib import Path

import pytest

import nn
from nn import from_torch, to_torch


def test_without_torch_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    model = nn.MLP(2, [1], rng=0)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[torch\]'"):
        to_torch(model)
    with pytest.raises(ImportError, match=r"pip install 'chainrule\[torch\]'"):
        from_torch(object())

def test_importing_nn_needs_neither_torch_nor_matplotlib():
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['matplotlib'] = None\n"
        "import nn\n"
        "assert callable(nn.to_torch) and callable(nn.from_torch) and callable(nn.fit)\n"
        "assert callable(nn.plot.plot_decision_boundary)\n"
        "from nn import plot, bridge, train\n"
        "print('ok')"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=root)
    assert result.stdout.strip() == "ok", result.stderr
