"""Teaching tools: checking a learner's answers and, later, a learner's own code.

- `exercise`: `check(answer, expected)`, the "predict, then check" verdicts of the lessons.
"""

from .exercise import Result, check

__all__ = ["check", "Result"]
