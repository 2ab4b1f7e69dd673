"""Per-thread recording state: whether operations record a graph, and the current scope tag."""

import threading
from contextlib import contextmanager


class _Mode(threading.local):
    # Class attributes are each thread's starting values.
    enabled = True  # operations record their parents
    scope = ()  # names of the modules computing right now, outermost first
    tracer = None  # the `autograd.compiler` trace recording this thread's computation, if any


mode = _Mode()


@contextmanager
def no_grad():
    """Operations inside record no graph: results are plain leaves. Per thread, so it is thread-safe."""
    if mode.tracer is not None:
        mode.tracer.refuse("no_grad() inside a compiled function (its results would be frozen numbers)")
    before = mode.enabled
    mode.enabled = False
    try:
        yield
    finally:
        mode.enabled = before


def is_grad_enabled():
    """True when operations in this thread record a graph."""
    return mode.enabled


class scope:
    """Tag every value created inside with ``name`` (nested scopes give a path).

    Views such as ``draw_dot(collapse=...)`` group nodes by this tag; ``nn`` sets it while a module
    computes, so the engine never needs to know what a neuron or a layer is. A class rather than a
    generator: modules enter it for every neuron of every example, so it must be cheap.
    """

    __slots__ = ("name", "before")

    def __init__(self, name):
        self.name = str(name)

    def __enter__(self):
        self.before = mode.scope
        mode.scope = self.before + (self.name,)

    def __exit__(self, *exc):
        mode.scope = self.before
