"""Numerical derivatives and gradient checking: a library feature, for learners and for tests."""

from .graph import gradients, topological_order
from .mode import no_grad
from .value import Constant, Value, _real, local_grads


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when analytic and numerical gradients disagree."""


def numerical_grad(f, *xs, h=1e-6):
    """Central differences (f(x+h) - f(x-h)) / 2h for each input of a scalar function.

    ``f`` receives `Value`s (under `no_grad`, so no graph is built) and may return a `Value` or a
    number. The step is scaled by the size of each input, so large inputs are not lost to rounding.
    """

    def at(point):
        with no_grad():
            return float(f(*[Value(p) for p in point]))

    xs = _points(f, xs)
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not 0.0 < h < 1.0:
        raise ValueError(f"numerical_grad(h=...) is the relative step, a number between 0 and 1 (1e-6 is usual), got {h!r}")
    slopes = []
    for i, x in enumerate(xs):
        step = h * max(1.0, abs(x))
        up = xs[:i] + [x + step] + xs[i + 1 :]
        down = xs[:i] + [x - step] + xs[i + 1 :]
        slopes.append((at(up) - at(down)) / (2.0 * step))
    return slopes


def _points(f, xs):
    if not callable(f):
        raise TypeError(f"the first argument is the function to differentiate, got {type(f).__name__}")
    return [_real(x.data if isinstance(x, Value) else x, f"the point's input {i}") for i, x in enumerate(xs)]


def analytic_grad(f, *xs):
    """The gradients of ``f`` at ``xs`` by backpropagation, as a list of floats (one per input)."""
    leaves = [Value(x) for x in _points(f, xs)]
    out = f(*leaves)
    if not isinstance(out, Value):
        return [0.0 for _ in leaves]
    return gradients(out, leaves)


def gradcheck(f, *xs, h=1e-6, rtol=1e-5, atol=1e-7, raise_exception=True):
    """Compare backpropagated gradients of ``f`` at ``xs`` with central differences.

    Returns True when every input agrees within ``atol + rtol * |numerical|``. Otherwise raises
    `GradcheckError` naming each input that disagrees and, where it can tell, the operation whose
    derivative disagrees with central differences of its own formula (or returns False with
    ``raise_exception=False``).
    """
    analytic = analytic_grad(f, *xs)
    numeric = numerical_grad(f, *xs, h=h)
    bad = [
        f"  input {i} (x = {x!r}): backprop {a!r}, central difference {n!r}"
        for i, (x, a, n) in enumerate(zip(xs, analytic, numeric))
        if not abs(a - n) <= atol + rtol * abs(n)
    ]
    if not bad:
        return True
    if raise_exception:
        raise GradcheckError("gradients disagree:\n" + "\n".join(bad + _suspects(f, xs, h, rtol, atol)))
    return False


def _suspects(f, xs, h, rtol, atol):
    """Lines naming each operation in ``f``'s graph whose local derivative disagrees with central
    differences of its own float formula (the operations a learner defined first)."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    if not isinstance(out, Value):
        return []
    found = {}
    for node in topological_order(out):
        op, parents = node._op, node._prev
        forward = getattr(op, "forward", None)
        if not parents or forward is None or op in found:
            continue
        inputs = [p._data for p in parents]
        try:
            locals_ = local_grads(node)
        except Exception as error:
            found[op] = (op.builtin, f"  the derivative of {op} raised {type(error).__name__}: {error}")
            continue
        for i, (parent, x, local) in enumerate(zip(parents, inputs, locals_)):
            if isinstance(parent, Constant):
                continue  # a constant's derivative never reaches a gradient
            step = h * max(1.0, abs(x))
            try:
                up = forward(*inputs[:i], x + step, *inputs[i + 1 :])
                down = forward(*inputs[:i], x - step, *inputs[i + 1 :])
            except (ArithmeticError, ValueError):
                continue
            slope = (up - down) / (2.0 * step)
            if not abs(float(local) - slope) <= atol + rtol * abs(slope):
                at = ", ".join(repr(v) for v in inputs)
                found[op] = (op.builtin, f"  the derivative of {op} looks wrong: at {op}({at}) it gives {float(local)!r} "
                             f"for input {i}, but central differences of {op}'s own formula give {slope!r}")
                break
    # operations a learner defined first: the built-in ones are tested, and flag kinks (relu at 0)
    return [line for _, line in sorted(found.values(), key=lambda item: item[0])]
