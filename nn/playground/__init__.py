"""A playground in Jupyter: change a setting and watch a small network learn.

In the spirit of TensorFlow Playground, in one notebook cell::

    import nn
    nn.playground()                     # the widgets: controls, buttons, live views

Everything the widgets show comes from a ``Playground``, a plain Python
object that needs no browser (and no ipywidgets or matplotlib)::

    pg = nn.Playground(dataset="circles", hidden=[4, 4], learning_rate=0.1)
    pg.step()                           # one epoch
    pg.play(20)                         # twenty more
    pg.train_loss[-1], pg.test_loss[-1]
    pg.boundary_grid()                  # P(class 1) over the input plane, a 2-D list
    step = pg.backward_step()           # one chain-rule step through one neuron
    text = pg.to_json()                 # settings + weights, to hand to a class
    same = nn.Playground.from_json(text)

Three parts, one file each: ``model`` (``Settings``, ``Playground``: the data,
the network, training and what the views show), ``render`` (the pictures as
PNG bytes) and ``widgets`` (``PlaygroundApp``, the ipywidgets around it).
"""

from .model import (
    ACTIVATIONS,
    DATASETS,
    FORMAT_VERSION,
    LEARNING_RATE_RANGE,
    MAX_EPOCHS,
    MAX_HIDDEN_LAYERS,
    MAX_SAMPLES,
    MAX_WIDTH,
    OPTIMIZERS,
    REGULARIZATIONS,
    RESET_ON,
    Playground,
    Settings,
    make_dataset,
)
from .render import boundary_png, loss_png, neurons_png
from .widgets import BATCH_SIZES, LEARNING_RATES, REGULARIZATION_RATES, PlaygroundApp, playground

__all__ = [
    "Playground",
    "PlaygroundApp",
    "Settings",
    "playground",
    "DATASETS",
    "ACTIVATIONS",
    "OPTIMIZERS",
    "REGULARIZATIONS",
    "LEARNING_RATE_RANGE",
    "FORMAT_VERSION",
    "MAX_SAMPLES",
    "MAX_EPOCHS",
    "RESET_ON",
    "MAX_WIDTH",
    "MAX_HIDDEN_LAYERS",
    "make_dataset",
    "boundary_png",
    "loss_png",
    "neurons_png",
    "LEARNING_RATES",
    "REGULARIZATION_RATES",
    "BATCH_SIZES",
]
