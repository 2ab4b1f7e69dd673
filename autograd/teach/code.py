"""Checks for code a learner writes: a function against a reference, a derivative against central
differences.

- ``check_function(fn, reference, cases)`` calls both on the same inputs and compares what they
  return, what they leave in their `Value` arguments, and, when they return `Value`s, the gradients
  that flow back to those arguments.
- ``check_gradient(f, points)`` backpropagates through ``f`` (an operation of your own, or any
  function of `Value`s) and compares with central differences, as `gradcheck` does.

Both answer in the voice of `check`: a `Result` that is right, wrong (saying how, not what the
expected value is) or unanswered (a function whose body is still ``...`` returns None). Whatever
the learner's code does, raise, loop through a wrong type, return nonsense, they report it and
never raise because of it.
"""

import numbers

from ..check import numerical_grad
from ..graph import gradients
from ..value import Parameter, Value
from .exercise import Result, compare, show, wrong

__all__ = ["check_function", "check_gradient"]

_LEAF_TYPES = (Value, Parameter)
_WEIGHTS = (1.0, -0.75, 0.5, 1.25, -1.5, 0.625)  # distinct weights: errors in two outputs cannot cancel


def check_function(fn, reference, cases, *, tol=1e-6, atol=1e-12, hint="", reveal=False, name=None):
    """Compare the learner's ``fn`` with ``reference`` on every case of ``cases``.

    A case is a tuple of arguments (a single non-tuple value is one argument). Each call gets its
    own fresh copy: lists, tuples and dicts are copied and every `Value` in them becomes a new leaf
    with the same data, grad and label, so neither function sees what the other did. Compared, within
    ``|got - expected| <= tol * |expected| + atol``:

    - the return values (numbers, lists, `Value`s by their data);
    - the data of every `Value` argument after the call (an update rule changes them);
    - when ``reference`` returns `Value`s: the gradients of its outputs (a weighted sum, for a
      list) with respect to every `Value` argument, so the result must be built from them.
    """
    label = name or getattr(fn, "__name__", None) or "your function"
    early = _not_a_function(fn, label, hint, "write")
    if early is not None:
        return early
    cases = _tuples(cases, "check_function needs at least one case to try")
    unanswered = 0
    for case in cases:
        mine, theirs = _fresh(case), _fresh(case)
        expected = reference(*theirs)  # the lesson's reference: its errors are the lesson's bugs
        try:
            got = fn(*mine)
        except Exception as error:
            return wrong(f"for the input {_args(case)}, `{label}` raised {type(error).__name__}: {str(error)[:200]}", hint)
        if got is None and expected is not None:
            unanswered += 1
            continue
        problem = _difference(got, expected, mine, theirs, tol, atol)
        if problem is not None:
            shown = f"; the expected result is {show(expected)}" if reveal else ""
            return wrong(f"for the input {_args(case)}, {problem}{shown}", hint)
    if unanswered == len(cases):
        return Result(
            "unanswered",
            f"… No answer yet: `{label}` returns None. Write its body in place of the `...` (and return the "
            "result), run that cell, then run this one again.",
        )
    if unanswered:
        return wrong(f"`{label}` returns None for some inputs: does every path through it end in a `return`?", hint)
    grads = " and their gradients" if any(_has_value(reference(*_fresh(c))) for c in cases[:1]) else ""
    return Result("right", f"✓ Right: `{label}` agrees with the reference on all {len(cases)} inputs{grads}.")


def _not_a_function(fn, label, hint, verb):
    """The verdict when ``fn`` is still ``...`` (unanswered) or not callable (wrong); else None."""
    if fn is Ellipsis or fn is None:
        return Result("unanswered", f"… No answer yet: {verb} `{label}` in the cell above, run it, then run this one again.")
    if not callable(fn):
        return wrong(f"`{label}` should be a function, but it is {show(fn)}", hint)
    return None


def _tuples(items, empty):
    """Each item as a tuple of arguments (a single non-tuple value is one argument)."""
    items = [item if isinstance(item, tuple) else (item,) for item in items]
    if not items:
        raise ValueError(empty)
    return items


def _difference(got, expected, mine, theirs, tol, atol):
    """What differs between the learner's call and the reference's, or None."""
    try:
        problem = compare(got, expected, tol, atol)
    except Exception as error:
        return f"what it returned could not be compared ({type(error).__name__})"
    if problem is not None:
        return f"it returned {show(got)}, but {problem}"
    leaves_mine, leaves_theirs = _leaves(mine), _leaves(theirs)
    for where, a, b in zip(_names(theirs), leaves_mine, leaves_theirs):
        problem = compare(a.data, b.data, tol, atol)
        if problem is not None:
            return f"afterwards {where} holds {show(a.data)}, but {problem}"
    if not _has_value(expected) or not leaves_theirs:
        return None
    if not _has_value(got):
        return "it returned plain numbers; build the result from the Value inputs so backward() can reach them"
    try:
        g_mine = gradients(_weighted(got), leaves_mine)
    except Exception as error:
        return f"backpropagating through its result raised {type(error).__name__}: {str(error)[:200]}"
    g_theirs = gradients(_weighted(expected), leaves_theirs)
    for where, a, b in zip(_names(theirs), g_mine, g_theirs):
        problem = compare(a, b, tol, atol)
        if problem is not None:
            lost = " (is it part of the result's graph? a value that goes through .data or float() leaves it)" if a == 0.0 else ""
            return f"it returned the right value, but the gradient of {where} is {show(a)}, and {problem}{lost}"
    return None


def _fresh(x):
    """A copy of an argument: containers copied, every Value a new leaf with the same data, grad and
    label (a `Parameter` stays one)."""
    if isinstance(x, Value):
        leaf = (type(x) if type(x) in _LEAF_TYPES else Value)(x.data, label=x.label)
        leaf.grad = x.grad
        return leaf
    if isinstance(x, list):
        return [_fresh(i) for i in x]
    if isinstance(x, tuple):
        return tuple(_fresh(i) for i in x)
    if isinstance(x, dict):
        return {k: _fresh(v) for k, v in x.items()}
    return x


def _leaves(x):
    """Every Value in an argument structure, in order."""
    found, stack = [], [x]
    while stack:
        item = stack.pop()
        if isinstance(item, Value):
            found.append(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return found


def _names(args):
    """A name for each Value in the arguments: its label, or where it sits (``argument 2, item 0``)."""
    names = []

    def walk(item, where):
        if isinstance(item, Value):
            names.append(item.label or where)
        elif isinstance(item, (list, tuple)):
            for i, sub in enumerate(item):
                walk(sub, f"{where}, item {i}")
        elif isinstance(item, dict):
            for k, sub in item.items():
                walk(sub, f"{where}[{k!r}]")

    for i, arg in enumerate(args):
        walk(arg, f"argument {i + 1}")
    return names


def _has_value(x):
    if isinstance(x, Value):
        return True
    return isinstance(x, (list, tuple)) and any(_has_value(i) for i in x)


def _weighted(out):
    """One Value from a result: itself, or a weighted sum of the Values in a (nested) list."""
    if isinstance(out, Value):
        return out
    values = [v for v in _leaves(out)]
    total = 0.0
    for k, v in enumerate(values):
        total = total + _WEIGHTS[k % len(_WEIGHTS)] * v
    return total


def _args(case):
    """The inputs of a case, short: Values as ``Value(0.5)``, lists shown to a few items."""

    def short(x, depth=0):
        shape = getattr(x, "shape", None)
        if isinstance(shape, tuple) and not isinstance(x, (list, tuple)):  # a NumPy or PyTorch array
            return f"an array of shape {shape}" if shape else show(x)
        if isinstance(x, Value):
            return f"{x.label}={show(x.data)}" if x.label else f"Value({show(x.data)})"
        if isinstance(x, (list, tuple)) and depth < 2:
            inner = ", ".join(short(i, depth + 1) for i in x[:6]) + (", ..." if len(x) > 6 else "")
            return f"[{inner}]" if isinstance(x, list) else f"({inner})"
        return show(x)

    return "(" + ", ".join(short(a) for a in case) + ")"


def check_gradient(f, points, *, rtol=1e-5, atol=1e-7, hint="", name=None):
    """Backpropagate through ``f`` at each point and compare with central differences.

    ``f`` takes `Value`s (one per coordinate of a point) and returns a `Value`: an operation made
    with ``autograd.operation``, or any function built from them. A point is a number or a tuple of
    numbers. Agreement is `gradcheck`'s: ``|backprop - numerical| <= atol + rtol * |numerical|``.
    A disagreement reports both numbers and their ratio (a constant ratio points to a missing
    factor, lesson 11).
    """
    label = name or getattr(f, "__name__", None) or "your function"
    early = _not_a_function(f, label, hint, "define")
    if early is not None:
        return early
    points = _tuples(points, "check_gradient needs at least one point")
    derivative = getattr(getattr(f, "operation", None), "derivative", None)
    derivative = getattr(derivative, "rule", derivative)  # the learner's own function, unchecked
    for point in points:
        if derivative is not None:
            try:
                local = derivative(*point, float(f(*point)))
            except Exception:
                local = ()  # the backward pass below reports the error properly
            if local is None or local is Ellipsis:
                return Result(
                    "unanswered",
                    f"… No answer yet: the derivative of `{label}` returns {local!r}. Write it in place of "
                    "the `...` (a tuple, one entry per input), run that cell, then run this one again.",
                )
        where = ", ".join(f"{x!r}" for x in point)
        try:
            leaves = [Value(float(x)) for x in point]
            out = f(*leaves)
            if not isinstance(out, Value):
                return wrong(f"at ({where}), `{label}` returned {show(out)}, not a Value: nothing to backpropagate", hint)
            analytic = gradients(out, leaves)
        except Exception as error:
            return wrong(f"at ({where}), backpropagating through `{label}` raised {type(error).__name__}: {str(error)[:200]}", hint)
        try:
            numeric = numerical_grad(f, *point)
        except Exception as error:
            return wrong(f"at ({where}), evaluating `{label}` raised {type(error).__name__}: {str(error)[:200]}", hint)
        for i, (a, n) in enumerate(zip(analytic, numeric)):
            if not (isinstance(a, numbers.Real) and abs(a - n) <= atol + rtol * abs(n)):
                which = f"input {i} " if len(point) > 1 else ""
                ratio = f" (ratio {a / n:.4g})" if isinstance(a, numbers.Real) and n != 0 and a == a else ""
                return wrong(
                    f"at ({where}), backpropagation gives d{label}/d{which or 'x'} = {show(a)}, central differences "
                    f"{show(n)}{ratio}",
                    hint,
                )
    return Result("right", f"✓ Right: backpropagation through `{label}` agrees with central differences at all {len(points)} points.")
