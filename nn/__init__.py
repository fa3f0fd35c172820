"""chainrule's neural-network library, built on the ``autograd`` engine.

Everything is importable from ``nn`` directly: modules, activations, losses,
initialisers, optimisers, training, data sets and metrics.
"""

# ruff: noqa: E402 - the check below must run before anything imports from autograd
from ._install_check import check_autograd

check_autograd()  # another package named autograd gets a clear error, not a missing-name one

from autograd import Value, is_grad_enabled, no_grad

from . import data, init, metrics, optim, plot, serialize
from .activations import (
    ACTIVATIONS,
    elu,
    get_activation,
    identity,
    leaky_relu,
    log_softmax,
    maxout,
    register_activation,
    relu,
    sigmoid,
    sign,
    softmax,
    softplus,
    step,
    tanh,
)
from .bridge import from_torch, to_torch
from .data import (
    batches,
    load_iris,
    logic_gate,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    minmax_scale,
    one_hot,
    standardize,
    train_test_split,
    xor,
)
from .draw import draw_model
from .init import get_init
from .layers import MLP, Dropout, Embedding, Layer, Neuron
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
from .metrics import accuracy, confusion_matrix, predict_classes
from .module import Module
from .optim import SGD, Adam, AdamW, ExponentialLR, LinearLR, RMSprop, StepLR
from .perceptron import Perceptron, PerceptronResult
from .playground import Playground, playground
from .train import EarlyStopping, History, StepResult, fit, train_step

__all__ = [
    "Value",
    "no_grad",
    "is_grad_enabled",
    # modules
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Dropout",
    "Embedding",
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
    "register_activation",
    "ACTIVATIONS",
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
    # optimisers and schedules
    "optim",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "StepLR",
    "ExponentialLR",
    "LinearLR",
    # data
    "data",
    "xor",
    "logic_gate",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "make_blobs",
    "load_iris",
    "train_test_split",
    "standardize",
    "minmax_scale",
    "one_hot",
    "batches",
    # metrics
    "metrics",
    "accuracy",
    "predict_classes",
    "confusion_matrix",
    # training, pictures and PyTorch
    "fit",
    "History",
    "train_step",
    "StepResult",
    "EarlyStopping",
    "plot",
    "serialize",
    "to_torch",
    "from_torch",
    "draw_model",
    "Playground",
    "playground",
]
