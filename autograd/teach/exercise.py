"""`check`: the "predict, then check" exercises of the lessons.

A lesson asks for a prediction (``answer = ...``), and the next cell calls ``check(answer, expected)``.
The verdict shows as the cell's output. It never raises because of the answer: an unanswered
exercise (``...`` or ``None``) or an answer of the wrong type gets a message, not a traceback, so a
notebook runs top to bottom before anyone has answered anything.

After a wrong answer the verdict says how it is wrong (too large, wrong sign, wrong length) but not
the expected value, so the learner can think again; ``reveal=True`` shows it.
"""

import math
import numbers

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


def check(answer, expected, *, tol=1e-3, hint="", reveal=False, name="answer"):
    """Compare a learner's ``answer`` with ``expected`` and return a `Result` that explains it.

    Numbers agree when ``|answer - expected| <= tol * max(1, |expected|)`` (so ``0.731`` matches
    ``σ(1) = 0.7310585...`` at the default ``tol``); a `Value` answer counts as its ``.data``.
    Lists and tuples are compared item by item, strings ignoring case and surrounding spaces,
    booleans exactly. ``hint`` is shown after a wrong answer; ``reveal=True`` shows the expected
    value after a wrong answer too. ``name`` is the variable the learner fills in.
    """
    if not isinstance(tol, numbers.Real) or isinstance(tol, bool) or not tol >= 0:
        raise ValueError(f"check(tol=...) must be a number >= 0, got {tol!r}")
    _kind(expected, "expected")  # a bad `expected` is the lesson's bug: fail loudly
    if answer is Ellipsis or answer is None:
        return Result(
            "unanswered",
            f"… No answer yet: replace the `...` in `{name} = ...` above with your prediction, "
            "run that cell, then run this one again.",
        )
    if isinstance(answer, (list, tuple)) and any(item is Ellipsis or item is None for item in answer):
        return Result(
            "unanswered",
            f"… Not finished: some items of `{name}` are still `...` or None; fill in every one, "
            "run that cell, then run this one again.",
        )
    problem = _compare(answer, expected, tol)
    if problem is None:
        return Result("right", f"✓ Right: {_show(answer)}.")
    lines = [f"✗ Not quite: you wrote {_show(answer)}, but {problem}."]
    if hint:
        lines.append(f"Hint: {hint}")
    if reveal:
        lines.append(f"The expected value is {_show(expected)}.")
    else:
        lines.append("Try again, or open the solution below.")
    return Result("wrong", "\n".join(lines))


def _kind(x, what):
    """'number', 'bool', 'text' or 'sequence'; a TypeError for anything else."""
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


def _compare(answer, expected, tol):
    """None when ``answer`` matches ``expected``; otherwise a short description of the difference."""
    want = _kind(expected, "expected")
    try:
        got = _kind(answer, "answer")
    except TypeError:
        got = type(answer).__name__
    if want == "sequence":
        if not isinstance(answer, (list, tuple)):
            return f"a list of {len(expected)} values is expected"
        if len(answer) != len(expected):
            return f"{len(expected)} values are expected, not {len(answer)}"
        wrong = [i for i, (a, e) in enumerate(zip(answer, expected)) if _compare(a, e, tol) is not None]
        if wrong:
            which = ", ".join(str(i) for i in wrong)
            return f"item{'s' if len(wrong) > 1 else ''} {which} (counting from 0) {'differ' if len(wrong) > 1 else 'differs'}"
        return None
    if want == "bool":
        if got != "bool":
            return "True or False is expected"
        return None if answer == expected else "it is the other one"
    if want == "text":
        if got != "text":
            return "a string (in quotes) is expected"
        return None if answer.strip().lower() == expected.strip().lower() else "that is not the answer"
    if got != "number":
        got = {"text": "string", "sequence": "list"}.get(got, got)
        return f"a number is expected, not a {got}"
    a, e = _float(answer), _float(expected)
    if math.isnan(e):
        return None if math.isnan(a) else "nan is expected"
    if math.isnan(a):
        return "that is not a number (nan)"
    if abs(a - e) <= tol * max(1.0, abs(e)):
        return None
    if e != 0.0 and abs(a + e) <= tol * max(1.0, abs(e)):
        return "the sign is wrong (the size is right)"
    return "that is too large" if a > e else "that is too small"


def _float(x):
    return float(x.data if isinstance(x, Value) else x)


def _show(x):
    if isinstance(x, Value):
        return f"a Value with data {x.data!r}"
    if isinstance(x, float):
        return repr(x) if len(repr(x)) <= 10 else f"{x:.6g}"
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(_show(i) for i in x) + "]"
    return repr(x)
