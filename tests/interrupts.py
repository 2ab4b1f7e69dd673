"""Ctrl-C at every line: run a function and send a real SIGINT to this process at its n-th line.

``sys.settrace`` counts the lines run in the chosen source folders; at line n the tracer raises
SIGINT, so Python's own handler (or one the code under test installed) runs exactly there, as when
a user presses Ctrl-C at that moment.
"""

import os
import signal
import sys

import autograd
import nn

NN = os.path.dirname(nn.__file__)
AUTOGRAD = os.path.dirname(autograd.__file__)


def run_interrupted(fn, n, folders=(NN,)):
    """Run ``fn()`` with a SIGINT sent at its ``n``-th line in ``folders``; returns True if it was
    interrupted (KeyboardInterrupt), False if it ran to the end."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if count == n:
                signal.raise_signal(signal.SIGINT)
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(folders) else None

    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    sys.settrace(tracer)
    try:
        fn()
    except KeyboardInterrupt:
        return True
    finally:
        sys.settrace(None)
    return False  # n was past the last line


def interrupt_everywhere(setup, fn, check, folders=(NN,), stride=1, limit=1_000_000):
    """For n = 1, 1 + stride, 1 + 2*stride, ...: ``state = setup()``, run ``fn(state)`` with a SIGINT
    at its n-th line in ``folders`` and ``check(state, interrupted)``, until n is past the last line.
    Returns how many runs were interrupted."""
    for run, n in enumerate(range(1, limit, stride)):
        state = setup()
        interrupted = run_interrupted(lambda: fn(state), n, folders)
        check(state, interrupted)
        if not interrupted:
            return run
    raise AssertionError(f"still interrupted after {limit} lines")
