"""`check`: the "predict, then check" exercises of the lessons.

A lesson asks for a prediction (``answer = ...``), and the next cell calls ``check(answer, expected)``.
The verdict shows as the cell's output. It never raises because of the answer: an unanswered
exercise (``...`` or ``None``), an answer of the wrong type, a huge integer, a list that contains
itself: each gets a message, not a traceback, so a notebook runs top to bottom before anyone has
answered anything.

After a wrong answer the verdict says how it is wrong (too large, wrong sign, wrong length) but not
the expected value, so the learner can think again; ``reveal=True`` shows it.
"""

import math
import numbers
from fractions import Fraction

from ..value import Value

__all__ = ["check", "Result"]


class Result:
    """The verdict of `check`: ``status`` is ``'right'``, ``'wrong'`` or ``'unanswered'``.

    True only when right. Its text is the message, so it shows as the output of a notebook cell.
    """

    __slots__ = ("status", "message")

    def __init__(self, status, message):
        self.status = status
        self.message = message

    def __bool__(self):
        return self.status == "right"

    def __repr__(self):
        return self.message

    __str__ = __repr__


def check(answer, expected, *, tol=1e-3, atol=0.0, hint="", reveal=False, name="answer"):
    """Compare a learner's ``answer`` with ``expected`` and return a `Result` that explains it.

    Numbers agree when ``|answer - expected| <= tol * |expected| + atol``: relative at every scale,
    so ``0.731`` matches ``σ(1) = 0.7310585...`` at the default ``tol`` and ``0`` does not match
    ``9.5e-7``. An expected value that is only zero up to rounding needs an ``atol`` of that size.
    A `Value` answer counts as its ``.data``; NumPy and PyTorch arrays as the lists they hold.
    Lists and tuples are compared item by item, strings ignoring case and surrounding spaces,
    booleans exactly. ``hint`` is shown after a wrong answer; ``reveal=True`` shows the expected
    value after a wrong answer too. ``name`` is the variable the learner fills in.
    """
    _check_tolerances(tol, atol)
    _kind(expected, "expected")  # a bad `expected` is the lesson's bug: fail loudly
    if answer is Ellipsis or answer is None:
        return Result(
            "unanswered",
            f"… No answer yet: replace the `...` in `{name} = ...` above with your prediction, "
            "run that cell, then run this one again.",
        )
    try:
        if isinstance(answer, (list, tuple)) and any(item is Ellipsis or item is None for item in answer):
            return Result(
                "unanswered",
                f"… Not finished: some items of `{name}` are still `...` or None; fill in every one, "
                "run that cell, then run this one again.",
            )
        problem = compare(answer, expected, tol, atol)
    except Exception as error:  # the answer misbehaved (an odd object): say so, never raise
        problem = f"it could not be compared ({type(error).__name__}: {_clip(str(error))})"
    if problem is None:
        return Result("right", f"✓ Right: {show(answer)}.")
    return wrong(f"you wrote {show(answer)}, but {problem}", hint, show(expected) if reveal else None)


def wrong(what, hint="", expected=None):
    """The `Result` of a wrong answer: what is wrong, the hint, and the way on."""
    lines = [f"✗ Not quite: {what}."]
    if hint:
        lines.append(f"Hint: {hint}")
    if expected is not None:
        lines.append(f"The expected value is {expected}.")
    else:
        lines.append("Try again, or open the solution below.")
    return Result("wrong", "\n".join(lines))


def _check_tolerances(tol, atol):
    for what, x in (("tol", tol), ("atol", atol)):
        if not isinstance(x, numbers.Real) or isinstance(x, bool) or not 0 <= x < math.inf:
            raise ValueError(f"check({what}=...) must be a finite number >= 0, got {x!r}")


def _kind(x, what):
    """'number', 'bool', 'text' or 'sequence'; a TypeError for anything else (for `expected`)."""
    x = plain(x)
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, (numbers.Real, Value)):
        return "number"
    if isinstance(x, str):
        return "text"
    if isinstance(x, (list, tuple)):
        for item in x:
            _kind(item, f"an item of {what}")
        return "sequence"
    raise TypeError(f"{what} must be a number, bool, str, list or tuple, got {type(x).__name__}: {x!r}")


def plain(x):
    """NumPy and PyTorch arrays and scalars as the Python lists and numbers they hold."""
    if isinstance(x, (numbers.Number, str, list, tuple, Value)) and not _is_numpy(x):
        return x
    for method in ("tolist", "item"):
        convert = getattr(type(x), method, None)
        if convert is not None and (_is_numpy(x) or type(x).__module__.startswith("torch")):
            return convert(x)
    return x


def _is_numpy(x):
    return type(x).__module__ == "numpy"


def compare(answer, expected, tol, atol):
    """None when ``answer`` matches ``expected``; otherwise a short description of the difference.

    The walk follows ``expected`` (the lesson's value), so an answer that nests deeper, or contains
    itself, is never walked further than the expected value goes.
    """
    answer, expected = plain(answer), plain(expected)
    want = _kind(expected, "expected")
    if want == "sequence":
        if not isinstance(answer, (list, tuple)):
            return f"a list of {len(expected)} values is expected"
        if len(answer) != len(expected):
            return f"{len(expected)} values are expected, not {len(answer)}"
        problems = [(i, compare(a, e, tol, atol)) for i, (a, e) in enumerate(zip(answer, expected))]
        problems = [(i, p) for i, p in problems if p is not None]
        if problems:
            which = ", ".join(str(i) for i, _ in problems[:10]) + (", ..." if len(problems) > 10 else "")
            verb = "differ" if len(problems) > 1 else "differs"
            text = f"item{'s' if len(problems) > 1 else ''} {which} (counting from 0) {verb}"
            first, problem = problems[0]
            if isinstance(plain(expected[first]), (list, tuple)) and not problem.startswith("item"):
                text += f" (in item {first}: {problem})"  # a wrong length or kind inside it
            return text
        return None
    if want == "bool":
        if not isinstance(answer, bool):
            return "True or False is expected"
        return None if answer == expected else "it is the other one"
    if want == "text":
        if not isinstance(answer, str):
            return "a string (in quotes) is expected"
        return None if str.lower(str.strip(answer)) == str.lower(str.strip(expected)) else "that is not the answer"
    if isinstance(answer, bool) or not isinstance(answer, (numbers.Real, Value)):
        got = "list" if isinstance(answer, (list, tuple)) else "string" if isinstance(answer, str) else type(answer).__name__
        return f"a number is expected, not a {got}"
    a, e = _number(answer), _number(expected)
    if a is None:
        return "it is a Value whose data is not a number"
    return _compare_numbers(a, e, tol, atol)


def _number(x):
    """A Python int or float for a number or a Value (None when a Value holds something odd)."""
    if isinstance(x, Value):
        x = x.data
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            return None
    return x if isinstance(x, int) else float(x)


def _compare_numbers(a, e, tol, atol):
    if isinstance(e, float) and math.isnan(e):
        return None if isinstance(a, float) and math.isnan(a) else "nan is expected"
    if isinstance(a, float) and math.isnan(a):
        return "that is not a number (nan)"
    if isinstance(e, float) and math.isinf(e):
        if a == e:
            return None
        if a == -e:
            return "the sign is wrong"
        return "that is too large" if a > e else "that is too small"
    if isinstance(a, float) and math.isinf(a):
        return "that is too large (infinite)" if a > 0 else "that is too small (minus infinity)"
    # exact arithmetic: no overflow for a huge int, no rounding in the tolerance itself
    A, E = Fraction(a), Fraction(e)
    allowed = Fraction(tol) * abs(E) + Fraction(atol)
    if abs(A - E) <= allowed:
        return None
    if E != 0 and abs(A + E) <= allowed:
        return "the sign is wrong (the size is right)"
    return "that is too large" if A > E else "that is too small"


def show(x, depth=0):
    """A short, safe description of a value for a message: never raises, never walks forever."""
    try:
        x = plain(x)
        if isinstance(x, Value):
            data = x.data
            return f"a Value with data {show(data, depth + 1)}" if isinstance(data, numbers.Real) else "a Value with odd data"
        if isinstance(x, bool) or x is None:
            return repr(x)
        if isinstance(x, int):
            if x.bit_length() > 200:
                return f"an integer of about {int(x.bit_length() * math.log10(2)) + 1} digits"
            return repr(x)
        if isinstance(x, float):
            return repr(x) if len(repr(x)) <= 10 else f"{x:.6g}"
        if isinstance(x, (list, tuple)):
            shape = _shape(x)
            if shape is not None and len(shape) > 1 and _count(shape) > 8:
                return f"a {'×'.join(map(str, shape))} list"
            if depth >= 3:
                return "[...]"
            items = [show(i, depth + 1) for i in x[:8]]
            return "[" + ", ".join(items) + (", ..." if len(x) > 8 else "") + "]"
        return _clip(repr(x))
    except Exception:
        return f"a {type(x).__name__}"


def _shape(x, depth=0):
    """The shape of a regular nested list of numbers (``(4, 3)``), or None."""
    if isinstance(x, (numbers.Real, Value)) and not isinstance(x, bool):
        return ()
    if depth > 4 or not isinstance(x, (list, tuple)) or not x:
        return None
    inner = {_shape(plain(item), depth + 1) for item in x[:100]}
    if len(inner) != 1 or None in inner or len(x) > 100:
        return None
    return (len(x), *inner.pop())


def _count(shape):
    total = 1
    for n in shape:
        total *= n
    return total


def _clip(text, limit=80):
    return text if len(text) <= limit else text[: limit - 3] + "..."
