"""Teaching tools: checking a learner's answers and a learner's own code.

- `exercise`: `check(answer, expected)`, the "predict, then check" verdicts of the lessons.
- `code`: `check_function(fn, reference, cases)` for a function the learner writes, and
  `check_gradient(f, points)` for a derivative the learner writes (against central differences).
- `engine_check`: `check_engine(YourValue)`, a learner's own Value class checked against chainrule.
"""

from .code import check_function, check_gradient
from .engine_check import EngineCheck, EngineReport, check_engine
from .exercise import Result, check

__all__ = ["check", "check_function", "check_gradient", "Result", "check_engine", "EngineReport", "EngineCheck"]
