"""Functions of a float or a `Value` alike: ``exp``, ``log``, ``sqrt``, ``tanh``, ``sigmoid``,
``relu``, ``sin``, ``cos``.

A derivative written with them (and arithmetic) works on floats for ``backward()`` and on `Value`s
for higher-order gradients, as the built-in derivatives do::

    from autograd import functions as F

    @operation(derivative=lambda x, out: (F.cos(x),))
    def my_sin(x):
        return math.sin(x)
"""

from .value import cos, exp, log, relu, sigmoid, sin, sqrt, tanh

__all__ = ["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "sin", "cos"]
