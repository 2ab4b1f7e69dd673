"""Numerical derivatives and gradient checking: a library feature, for learners and for tests."""

import math
import numbers

from .graph import gradients, topological_order
from .mode import no_grad
from .value import Constant, Value, _real, _short_repr, local_grads


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when analytic and numerical gradients disagree."""


def numerical_grad(f, *xs, h=1e-6):
    """Central differences (f(x+h) - f(x-h)) / 2h for each input of a scalar function.

    ``f`` receives `Value`s (under `no_grad`, so no graph is built) and may return a `Value` or a
    number. The step is scaled by the size of each input, so large inputs are not lost to rounding.
    """

    def at(point, i):
        try:
            with no_grad():
                return float(_outcome(f, f(*[Value(p) for p in point])))
        except (ArithmeticError, ValueError) as error:
            raise type(error)(
                f"central differences step outside the function's domain at input {i} "
                f"(f at {', '.join(map(repr, point))}: {error}); use a smaller h, or a point further from the edge"
            ) from None

    xs = _points(f, xs)
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not 0.0 < h < 1.0:
        raise ValueError(f"numerical_grad(h=...) is the relative step, a number between 0 and 1 (1e-6 is usual), got {h!r}")
    slopes = []
    for i, x in enumerate(xs):
        step = h * max(1.0, abs(x))
        up = xs[:i] + [x + step] + xs[i + 1 :]
        down = xs[:i] + [x - step] + xs[i + 1 :]
        slopes.append((at(up, i) - at(down, i)) / (2.0 * step))
    return slopes


def _points(f, xs):
    if not callable(f):
        raise TypeError(f"the first argument is the function to differentiate, got {type(f).__name__}")
    return [_real(x.data if isinstance(x, Value) else x, f"the point's input {i}") for i, x in enumerate(xs)]


def _outcome(f, out):
    """``f``'s result: a Value, or a plain number (a constant function); anything else is refused."""
    if isinstance(out, Value) or (isinstance(out, numbers.Real) and not isinstance(out, bool)):
        return out
    name = getattr(f, "__name__", "f")
    raise TypeError(
        f"{name} must return one number (a Value computed from its inputs), got {type(out).__name__}: {_short_repr(out)}"
        + ("; for several outputs, differentiate each one (or their sum)" if isinstance(out, (list, tuple)) else "")
    )


def analytic_grad(f, *xs):
    """The gradients of ``f`` at ``xs`` by backpropagation, as a list of floats (one per input)."""
    leaves = [Value(x) for x in _points(f, xs)]
    out = _outcome(f, f(*leaves))
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
    for name, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0.0 <= tol < math.inf:
            raise ValueError(f"gradcheck({name}=...) must be a finite number >= 0, got {tol!r}")
    xs = _points(f, xs)
    analytic = analytic_grad(f, *xs)
    numeric = numerical_grad(f, *xs, h=h)
    for i, (x, n) in enumerate(zip(xs, numeric)):
        if not math.isfinite(n):
            raise ValueError(
                f"gradcheck cannot check input {i} at x = {x!r}: its central difference is {n} (the function "
                "is not finite near this point, or its step is lost to rounding); check at another point"
            )
    bad = []
    for i, (x, a, n) in enumerate(zip(xs, analytic, numeric)):
        if abs(a - n) <= atol + rtol * abs(n):
            continue
        line = f"  input {i} (x = {x!r}): backprop {a!r}, central difference {n!r}"
        sides = _one_sided(lambda *p: _value_at(f, p), xs, i, h)
        if sides is not None:
            line += (f"; the function has a kink here (slope {sides[0]:.6g} on the left, {sides[1]:.6g} on the "
                     "right, which central differences average): check at a point away from it")
        bad.append(line)
    if not bad:
        return True
    if raise_exception:
        raise GradcheckError("gradients disagree:\n" + "\n".join(bad + _suspects(f, xs, h, rtol, atol)))
    return False


def _value_at(f, point):
    with no_grad():
        return float(f(*[Value(p) for p in point]))


def _one_sided(g, xs, i, h):
    """(left slope, right slope) of ``g`` along input ``i`` when they differ (a kink), else None."""
    x = xs[i]
    step = h * max(1.0, abs(x))
    try:
        mid = g(*xs)
        left = (mid - g(*xs[:i], x - step, *xs[i + 1 :])) / step
        right = (g(*xs[:i], x + step, *xs[i + 1 :]) - mid) / step
    except (ArithmeticError, ValueError, TypeError):
        return None
    if abs(left - right) > 1e-3 * max(1.0, abs(left), abs(right)):
        return left, right
    return None


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
            if _one_sided(forward, inputs, i, h) is not None:
                continue  # a kink (relu at 0): no derivative to compare with
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
    # operations a learner defined first: the built-in ones are tested
    return [line for _, line in sorted(found.values(), key=lambda item: item[0])]
