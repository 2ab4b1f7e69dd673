"""Gradients of plain functions of floats: ``grad(f)(x, y)`` and ``hessian(f)(x, y)``."""

from .check import _outcome, _points, analytic_grad
from .graph import gradients
from .value import Value


def grad(f):
    """A function that returns the gradient of the scalar function ``f`` at its float arguments.

    One argument gives a float; several give a tuple of floats, one per argument.
    """
    _callable(f, "grad")

    def gradient(*xs):
        grads = analytic_grad(f, *xs)
        return grads[0] if len(grads) == 1 else tuple(grads)

    return gradient


def hessian(f):
    """A function that returns the matrix of second derivatives of ``f`` (a list of row lists)."""
    _callable(f, "hessian")

    def second_derivatives(*xs):
        leaves = [Value(x) for x in _points(f, xs)]
        out = _outcome(f, f(*leaves))
        if not isinstance(out, Value):
            return [[0.0] * len(leaves) for _ in leaves]
        firsts = gradients(out, leaves, create_graph=True)
        return [[float(g) for g in gradients(first, leaves)] for first in firsts]

    return second_derivatives


def _callable(f, who):
    if not callable(f):
        raise TypeError(f"{who}(f) takes the function to differentiate, got {type(f).__name__}: {f!r:.60}")
