"""chainrule's neural-network library, built on the ``autograd`` engine.

Everything is importable from ``nn`` directly: modules, activations, losses,
initialisers, optimisers, training, data sets and metrics.
"""

from autograd import Value

__all__ = ["Value"]
