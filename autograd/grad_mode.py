"""Grad mode: whether operations record a graph, and whether they check for nan/inf.

The engine's only per-thread state is one small int in a ``ContextVar``: each
thread (and each asyncio task) has its own, and a thread started inside
``no_grad`` still records. ``no_grad`` and ``detect_anomaly`` set a bit of it
inside ``with`` (or inside a decorated function, generator or coroutine).

Also here, process-wide: ``one_backward_at_a_time``, the lock that makes
backward passes from several threads run one after another.
"""

from __future__ import annotations

import gc
import inspect
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .engine import Step, Value

__all__ = ["no_grad", "detect_anomaly", "is_grad_enabled"]

F = TypeVar("F", bound=Callable[..., Any])

NO_GRAD = 1  # results record no parents
ANOMALY = 2  # check every result (and every backward step) for nan/inf
MODE: ContextVar[int] = ContextVar("chainrule_grad_mode", default=0)
# This thread's mode: 0, or NO_GRAD and/or ANOMALY. Bound once: every operation calls it.
current_mode = MODE.get
_SAVED: ContextVar[tuple[int, ...]] = ContextVar("chainrule_saved_grad_modes", default=())


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()``."""
    return not current_mode() & NO_GRAD


class _ModeSwitch:
    """Sets one bit of the grad mode inside ``with``; also a decorator.

    Each ``with`` saves the mode it found in the current context and puts it
    back on exit, so one object can be used by several threads at once.
    """

    _flag = 0

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        # ``@no_grad`` passes the function straight in; ``no_grad()`` passes nothing
        self = super().__new__(cls)
        return self if func is None else self(func)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        pass

    def __enter__(self) -> None:
        mode = MODE.get()
        _SAVED.set((*_SAVED.get(), mode))
        MODE.set(mode | self._flag)

    def __exit__(self, *exc: object) -> None:
        saved = _SAVED.get()
        MODE.set(saved[-1])
        _SAVED.set(saved[:-1])

    def __call__(self, func: F) -> F:
        switch = type(self)
        if inspect.isgeneratorfunction(func):
            return _generator_under(switch, func)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(func):

            @wraps(func)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                with switch():  # the coroutine runs in its task's own context
                    return await func(*args, **kwargs)

            return coroutine  # type: ignore[return-value]

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with switch():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _generator_under(switch: type[_ModeSwitch], func: Callable[..., Any]) -> Callable[..., Any]:
    """A generator function whose body runs under ``switch``, and its caller's code between yields not."""

    @wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Any:
        gen = func(*args, **kwargs)
        try:
            with switch():
                item = next(gen)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    with switch():
                        gen.close()
                    raise
                except BaseException as error:  # thrown in by the caller: pass it on
                    with switch():
                        item = gen.throw(error)
                else:
                    with switch():
                        item = gen.send(sent)
        except StopIteration as stop:
            return stop.value

    return generator


class no_grad(_ModeSwitch):
    """Record no graph: results of operations are plain leaves without parents.

    Use as ``with no_grad():``, ``@no_grad()`` or ``@no_grad`` (also on a
    generator or ``async def`` function: their bodies run without recording).
    The flag belongs to the current thread (a ``ContextVar``): a thread started
    inside ``no_grad`` records unless it enters ``no_grad`` itself.
    """

    _flag = NO_GRAD


class detect_anomaly(_ModeSwitch):
    """Raise ``FloatingPointError`` at the first operation producing nan or inf.

    Checks every forward result and, during ``backward()``, every gradient
    contribution. The error names the operation, its inputs and their labels.
    """

    _flag = ANOMALY


# --------------------------------------------------------------------------
# Anomaly messages
# --------------------------------------------------------------------------
def _describe(v: Value) -> str:
    name = f" '{v.label}'" if v.label else ""
    return f"Value{name}(data={v.data})"


def check_forward(data: float, op: str, parents: tuple[Value, ...]) -> None:
    """Under ``detect_anomaly()``: raise if an operation's result is nan or inf."""
    if not math.isfinite(data):
        inputs = ", ".join(_describe(p) for p in parents)
        raise FloatingPointError(f"detect_anomaly: operation '{op}' produced {data} from inputs [{inputs}]")


def check_step(step: Step) -> None:
    """Under ``detect_anomaly()``: raise if a chain-rule step's contribution is nan or inf."""
    if not math.isfinite(step.contribution):
        node, parent = step.node, step.parent
        inputs = ", ".join(_describe(p) for p in node.parents)
        raise FloatingPointError(
            f"detect_anomaly: backward through '{node.op}' (inputs [{inputs}]) gave gradient "
            f"{step.contribution} for {_describe(parent)}: local derivative {step.local_grad} "
            f"times upstream gradient {step.upstream}"
        )


# --------------------------------------------------------------------------
# One backward pass at a time, with the cyclic collector paused
# --------------------------------------------------------------------------
_BACKWARD = threading.RLock()


@contextmanager
def one_backward_at_a_time() -> Iterator[None]:
    """Hold the backward lock and pause Python's cyclic garbage collector.

    The lock: passes from several threads run one after another (Python runs
    one thread at a time anyway), so two passes over shared Values never
    interleave, and each pass finds the collector as the last one left it.
    The pause: backward creates no reference cycles, yet every few hundred
    allocations the collector would walk the whole (possibly million-node)
    graph looking for some (2.5x slower on big graphs: benchmarks/README.md).
    """
    with _BACKWARD:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            yield
        finally:
            if was_enabled:
                gc.enable()
