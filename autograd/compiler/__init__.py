"""Compiling a function of `Value`s: record it once, then run its forward and backward passes as
straight-line Python on floats, with no node objects.

    from autograd import Value, compiled

    w, b = Value(0.5), Value(0.0)

    @compiled
    def loss(x, y):
        return (w * x + b - y) ** 2

    loss(2.0, 1.0)          # 0.0: the value; w.grad and b.grad grow as after loss(...).backward()
    print(loss.source)      # the Python it runs

- `trace` records a run: the graph, and everything the run depended on (comparisons of Values,
  numbers read from them, int arguments, `Drawn` numbers);
- `formulas` turns each operation's own formula and local derivatives into expressions;
- `program` merges recorded runs into one tree of paths; `codegen` writes it as a function;
- `function` holds `compiled`: calling, recording again when a call goes a new way.

What a compiled function can follow: any arithmetic on Values, any operation (built-in or
defined with `autograd.operation`), Python ``if``s on comparisons of Values (each outcome seen
becomes an ``if`` in the code), lookups with `take`, and random numbers made with `Drawn`. A
number read with ``.data`` or ``float()`` and used in the computation makes the code valid for
that number only (it is checked, and the function recorded again when it differs): compute
data-dependent numbers as operations instead (softmax's shift is an operation with derivative
zero, not a ``max`` over ``.data``).
"""

from .function import Compiled, CompileWarning, compiled
from .trace import CompileError, Drawn, TracedIndex, is_tracing, take

__all__ = ["compiled", "Compiled", "CompileError", "CompileWarning", "Drawn", "TracedIndex", "take", "is_tracing"]
