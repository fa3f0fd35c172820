"""chainrule's neural-network library, built on the ``autograd`` engine.

Everything is importable from ``nn`` directly: modules, activations, losses,
initialisers, optimisers, training, data sets and metrics.
"""

from autograd import Value

from . import init
from .activations import (
    elu,
    get_activation,
    identity,
    leaky_relu,
    log_softmax,
    maxout,
    relu,
    sigmoid,
    sign,
    softmax,
    softplus,
    step,
    tanh,
)
from .init import get_init
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge_loss,
    l1_penalty,
    l2_penalty,
    mae_loss,
    mse_loss,
)
from .module import MLP, Dropout, Layer, Module, Neuron
from .perceptron import Perceptron, PerceptronResult

__all__ = [
    "Value",
    # modules
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Dropout",
    "Perceptron",
    "PerceptronResult",
    # activations
    "identity",
    "step",
    "sign",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "maxout",
    "softmax",
    "log_softmax",
    "get_activation",
    # losses
    "mse_loss",
    "mae_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
    # initialisers
    "init",
    "get_init",
]
