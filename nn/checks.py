"""Arguments checked where they enter, by one rule per kind of argument, shared by every part of `nn`.

- A whole number (a size, a count, a seed, an index) is any integral number, a Python int or a NumPy
  integer; never a bool (``True`` is not a size) and never a float such as ``2.0``.
- A flag (an on/off switch such as ``bias`` or ``restore_best``) is a bool, NumPy's too, or the int
  0 or 1 (as PyTorch takes them); anything else (``"no"``, ``-1``, ``None``) is refused, never read
  by its truthiness, where ``"no"`` would mean yes.
- Data is different: in a dataset (`nn.data.check_dataset`) a bool is the number 0 or 1, as in a
  truth table, whether Python's or NumPy's.
"""

import numbers

__all__ = ["short", "is_bool", "is_whole", "whole", "flag"]


def short(x):
    """``repr(x)`` cut to 60 characters; an int too long to print in full is described instead."""
    if isinstance(x, int) and x.bit_length() > 200:
        return f"an int of about {int(x.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(x)
    except Exception:
        text = f"<{type(x).__name__} object>"
    return text if len(text) <= 60 else text[:57] + "..."


def is_bool(value):
    """Whether ``value`` is a bool: Python's, or NumPy's ``np.True_`` / ``np.False_``."""
    return isinstance(value, bool) or (type(value).__name__ in ("bool_", "bool") and type(value).__module__ == "numpy")


def is_whole(value):
    """Whether ``value`` is a whole number by the rule above (NumPy integers yes, bools no)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def whole(value, what, minimum=None, error=ValueError):
    """``value`` as a Python int, or ``error`` naming ``what``: a whole number, at least ``minimum``."""
    if not is_whole(value) or (minimum is not None and value < minimum):
        at_least = "" if minimum is None else f" >= {minimum}"
        raise error(f"{what} must be an int{at_least}, got {short(value)}")
    return int(value)


def flag(value, what):
    """``value`` as True or False by the rule above; a ValueError names ``what`` otherwise."""
    if is_bool(value) or (is_whole(value) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{what} must be True or False, got {short(value)}")
