"""Learning-rate schedules: functions of the step number k (0 for the first step) that give the
learning rate for that step.

Pass one as an optimizer's ``lr``: ``SGD(model, lr=linear(1.0, 0.1, 100))`` is the classic moons
demo's ``1.0 - 0.9*k/100``. Any plain function of k works the same way: ``lr=lambda k: 0.1 / (1 + k)``.
"""

import math
import numbers


class Schedule:
    """A named learning-rate rule: call it with the step number to get the rate."""

    def __init__(self, rule, description):
        self._rule = rule
        self._description = description

    def __call__(self, k):
        return self._rule(k)

    def __repr__(self):
        return self._description


def _count(x, what):
    """A positive int (NumPy ints too): a number of optimizer steps."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise TypeError(f"{what} must be a positive int (a number of steps), got {type(x).__name__}: {x!r}")
    if x < 1:
        raise ValueError(f"{what} must be a positive int (a number of steps), got {x!r}")
    return int(x)


def _rate(x, what):
    """A finite number >= 0, as a float."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(x).__name__}: {x!r}")
    try:
        value = float(x)
    except OverflowError:  # an int beyond any float
        value = math.inf
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {value if value == math.inf else x!r}")
    return value


def constant(lr):
    """The same rate at every step."""
    lr = _rate(lr, "lr")
    return Schedule(lambda k: lr, f"constant({lr})")


def step(lr, every, gamma=0.1):
    """``lr`` multiplied by ``gamma`` after every ``every`` steps: lr * gamma**(k // every)."""
    lr, gamma = _rate(lr, "lr"), _rate(gamma, "gamma")
    every = _count(every, "every")

    def rule(k):
        try:
            return lr * gamma ** (k // every)
        except OverflowError:  # gamma > 1 for long enough: a rate beyond any float, which the optimizer refuses
            return math.inf

    return Schedule(rule, f"step({lr}, every={every}, gamma={gamma})")


def linear(start, end, steps):
    """From ``start`` at step 0 to ``end`` at step ``steps`` in a straight line, then ``end``."""
    start, end = _rate(start, "start"), _rate(end, "end")
    steps = _count(steps, "steps")
    return Schedule(lambda k: start + (end - start) * min(k, steps) / steps, f"linear({start}, {end}, steps={steps})")


def cosine(lr, steps, min_lr=0.0):
    """Half a cosine from ``lr`` down to ``min_lr`` over ``steps`` steps, then ``min_lr``: fast
    early progress and a gentle landing."""
    lr, min_lr = _rate(lr, "lr"), _rate(min_lr, "min_lr")
    steps = _count(steps, "steps")

    def rule(k):
        return min_lr + (lr - min_lr) * (1.0 + math.cos(math.pi * min(k, steps) / steps)) / 2.0

    return Schedule(rule, f"cosine({lr}, steps={steps}, min_lr={min_lr})")
