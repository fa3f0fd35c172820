"""The ``chainrule`` command line: ``chainrule demo``, ``graph``, ``train``, ``predict``."""

__version__ = "0.1.0"
