"""Is ``autograd`` chainrule's engine? Another package of the same name can shadow it.

chainrule installs two import packages, ``autograd`` and ``nn``. The popular
HIPS ``autograd`` (``pip install autograd``) uses the first name too, so when
both are installed in one environment, ``import autograd`` finds only one of
them. ``check_autograd()`` turns the confusing error that follows ("cannot
import name 'Value' from 'autograd'") into one that says what happened and
what to do. ``import nn`` and the command line call it first.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["check_autograd"]

_ENGINE_NAMES = ("Value", "make_op", "dot", "no_grad")  # what nn needs from chainrule's engine

_WHAT_TO_DO = (
    "chainrule's import packages are 'autograd' and 'nn', so it cannot share a Python environment with "
    "another package named 'autograd' (such as HIPS autograd, pip install autograd). Install chainrule in "
    "its own virtual environment (python -m venv .venv, activate it, then install chainrule into it), "
    "or remove the other package from this one"
)


def check_autograd() -> ModuleType:
    """Import ``autograd`` and return it; raise ``ImportError`` if it is not chainrule's engine."""
    try:
        autograd = importlib.import_module("autograd")
    except ImportError as error:
        if not isinstance(error, ModuleNotFoundError) or error.name != "autograd":
            raise  # chainrule's own autograd failed to import something it needs: show that error
        raise ImportError(f"nn needs chainrule's 'autograd' package, which is not installed. {_WHAT_TO_DO}") from error
    missing = [name for name in _ENGINE_NAMES if not hasattr(autograd, name)]
    if missing:
        where = getattr(autograd, "__file__", None) or ", ".join(getattr(autograd, "__path__", [])) or "an unknown place"
        version = getattr(autograd, "__version__", None)
        found = f"'autograd' {version} " if isinstance(version, str) else "'autograd' "
        raise ImportError(
            f"the package {found}found at {where} is not chainrule's autograd engine (it has no {missing[0]}); "
            f"it is another package of the same name. {_WHAT_TO_DO}"
        )
    return autograd
