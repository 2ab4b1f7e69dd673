"""Recording one run of a function of `Value`s: what a compiled function is made from.

`record(fn, args)` calls ``fn`` once with `Value` leaves for its number arguments and watches:

- the graph it builds (every node made during the run is tagged, so the compiler can tell the
  constants the function made from the Values it uses from outside: its parameters);
- every number it reads from a `Value` (``v.data``, ``float(v)``) and every comparison of Values
  (``if v > 0``): the engine reports them here. The compiled code checks each one again on every
  call: a comparison must come out the same way, a number read must be the same number, or the
  function is traced again (so a Python ``if`` on a Value becomes an ``if`` in the compiled code);
- its int arguments, which it receives as `TracedIndex` objects: `take` looks up a list with one
  and the compiled code repeats the lookup with each new index; any other use of the int
  (``rows[i]``, ``i + 1``, ``int(i)``) fixes the compiled code to that value;
- every `Drawn` number (a dropout mask, noise), which the compiled code draws again on each call.

Data-dependent numbers must be computed as operations, never read: softmax's shift by the largest
logit is an operation whose derivative is zero (see `nn.losses`), not ``max(z.data for z in zs)``.
"""

import numbers

from ..mode import mode
from ..operation import OPERATIONS, Operation
from ..value import Constant, Value, apply


class CompileError(Exception):
    """A function the compiler cannot turn into straight-line code; its graph path still works."""


class Retrace(Exception):
    """Raised by compiled code when a call goes where no recorded run went: record a new run."""


class _Mark:
    """The scope tag of every node made while a function is recorded (see `record`)."""

    __slots__ = ()

    def __repr__(self):
        return "<compiled>"

    __str__ = __repr__


class Tracer:
    """What one recorded run depended on: ``guards`` are ``(expression, outcome)`` in the order the
    run looked at them; ``draws`` the `Drawn` numbers it made, in order."""

    def __init__(self, replay=()):
        self.mark = _Mark()
        self.guards = []
        self.draws = []
        self.replay = list(reversed(replay))  # numbers already drawn for this call, to use before drawing more
        self.refused = None

    def read(self, node):
        self.guards.append((("val", ("node", node)), node._data))

    def compare(self, op, node, other, outcome):
        self.guards.append((("cmp", op, ("node", node), operand(other)), outcome))

    def refuse(self, reason):
        if self.refused is None:
            self.refused = reason
        raise CompileError(reason)


def operand(x):
    """How a guard refers to ``x``: a node, an index argument, or a number."""
    if isinstance(x, Value):
        return ("node", x)
    if isinstance(x, TracedIndex):
        return ("index", x.slot)
    return ("lit", x)


def is_tracing():
    """True while a compiled function is being recorded in this thread: a module can skip work
    that only matters on the graph path (recording numbers for a picture, say)."""
    return mode.tracer is not None


# ---- index arguments --------------------------------------------------------------------------------
class TracedIndex:
    """An int argument of a function being recorded: a token id, a class label, a position.

    `take` looks up a list with it, and the compiled code repeats the lookup with each new int. Any
    other use reads its value (``rows[i]``, ``i + 1``, ``int(i)``, ``str(i)``, ``hash(i)``), and the
    compiled code is then valid only for that value; a comparison (``i > 0``) only for that outcome.
    """

    __slots__ = ("slot", "value", "leaf", "tracer")

    def __init__(self, slot, value, tracer):
        self.slot = slot
        self.value = value
        self.leaf = Value(float(value))  # the input of the lookups (`take`) made with this index
        self.tracer = tracer

    def _read(self):
        self.tracer.guards.append((("val", ("index", self.slot)), self.value))
        return self.value

    def _compare(self, op, other, outcome):
        self.tracer.guards.append((("cmp", op, ("index", self.slot), operand(other)), outcome))
        return outcome

    def __index__(self):
        return self._read()

    __int__ = __index__

    def __float__(self):
        return float(self._read())

    def __hash__(self):
        return hash(self._read())

    def __repr__(self):
        return repr(self._read())

    def __str__(self):
        return str(self._read())

    def __format__(self, spec):
        return format(self._read(), spec)

    def __bool__(self):
        return self._compare("!=", 0, self.value != 0)

    def __eq__(self, other):
        return self._compare("==", other, self.value == _plain(other))

    def __ne__(self, other):
        return self._compare("!=", other, self.value != _plain(other))

    def __lt__(self, other):
        return self._compare("<", other, self.value < _plain(other))

    def __le__(self, other):
        return self._compare("<=", other, self.value <= _plain(other))

    def __gt__(self, other):
        return self._compare(">", other, self.value > _plain(other))

    def __ge__(self, other):
        return self._compare(">=", other, self.value >= _plain(other))


def _arith(name):
    def method(self, *other):
        return getattr(self._read(), name)(*[_read(o) for o in other])

    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__floordiv__",
              "__rfloordiv__", "__mod__", "__rmod__", "__truediv__", "__rtruediv__", "__pow__", "__rpow__",
              "__neg__", "__pos__", "__abs__", "__and__", "__or__", "__xor__", "__lshift__", "__rshift__",
              "__invert__", "__round__", "__trunc__", "__floor__", "__ceil__", "__divmod__", "__rdivmod__"):
    setattr(TracedIndex, _name, _arith(_name))
numbers.Integral.register(TracedIndex)


def _plain(x):
    return x.value if isinstance(x, TracedIndex) else x


def _read(x):
    return x._read() if isinstance(x, TracedIndex) else x


def _take_derivative(i, *values_and_out):
    n = len(values_and_out) - 1
    chosen = int(i) % n
    return (0.0, *[1.0 if j == chosen else 0.0 for j in range(n)])


# ``take(i, v0, v1, ...) = v_i``: a lookup the compiled code repeats with each new index. Its local
# derivative is 1 for the value looked up and 0 for the others (and for the index).
TAKE = OPERATIONS.setdefault("take", Operation("take", _take_derivative, lambda i, *values: values[int(i)]))


def _take_expressions(n):
    """take's formulas for ``n`` values as the expressions compiled code writes: ``(v0, v1, ...)[i]``,
    and the local derivatives 0 for the index and ``1.0 if i % n == j else 0.0`` for value j (what
    `_take_derivative` returns, without a call and a tuple per lookup)."""
    forward = ("item", ("tuple", [("arg", j + 1) for j in range(n)]), ("arg", 0))
    chosen = ("bin", "%", ("arg", 0), ("lit", n))
    locals_ = [("if", ("cmp", chosen, ["=="], [("lit", j)]), ("lit", 1.0), ("lit", 0.0)) for j in range(n)]
    return forward, [("lit", 0.0)] + locals_


TAKE.expressions = _take_expressions  # read by `formulas` instead of the source of the lambdas above


def take(values, index):
    """``values[index]``, as a lookup a compiled function repeats with the index of each call.

    Outside a compiled function it is exactly ``values[index]``. When ``index`` is an int argument
    of a function being compiled, ``rows[index]`` would fix the compiled code to that one index;
    ``take(rows, index)`` records a lookup instead. ``values`` is a list of Values (or numbers), or a
    table: a list of equally long rows, of which the row ``index`` is returned (an embedding)."""
    if not isinstance(index, TracedIndex):
        return values[index]
    values = list(values)
    if not values:
        raise IndexError("take() from an empty list")
    first = values[0]
    if isinstance(first, (list, tuple)):
        width = len(first)
        for i, row in enumerate(values):
            if not isinstance(row, (list, tuple)) or len(row) != width:
                raise ValueError(f"take() from a table needs rows of equal length: row 0 has {width} entries, row {i} does not")
        row = [apply(TAKE, (index.leaf, *[r[j] for r in values])) for j in range(width)]
        return type(first)(row) if isinstance(first, tuple) else row
    return apply(TAKE, (index.leaf, *values))


# ---- numbers drawn anew on each run -------------------------------------------------------------------
class Drawn(Constant):
    """A number drawn anew each time the computation runs: ``Drawn(draw)`` is a constant with the
    value ``draw()`` (a dropout mask, noise), and a compiled function calls ``draw()`` again on each
    call, in the order the Python code would, so it sees the random numbers the graph path would."""

    __slots__ = ("draw",)

    def __init__(self, draw):
        if not callable(draw):
            raise TypeError(f"Drawn(draw) takes a function that returns a number, got {type(draw).__name__}")
        tracer = mode.tracer
        super().__init__(tracer.replay.pop() if tracer is not None and tracer.replay else draw())
        self.draw = draw
        if tracer is not None:
            tracer.draws.append(self)


# ---- arguments ----------------------------------------------------------------------------------------
def arguments(args, static):
    """``(key, floats, ints)`` of a call: its numbers (Values count as their number) and its int
    arguments in order, and a key made of everything else: the shapes of the lists and the values
    of the static arguments (those at the positions in ``static``, and anything not a number)."""
    floats, ints, key = [], [], []
    for i, a in enumerate(args):
        key.append(_flatten(a, floats, ints) if i not in static else ("s", _hashable(a, i)))
    return tuple(key), floats, ints


_FLOAT_ROWS = {}  # n -> the key part of a list of n floats


def _flatten(x, floats, ints):
    if type(x) is float:
        floats.append(x)
        return "f"
    if type(x) is list and all(type(e) is float for e in x):  # a row of numbers: the common case
        floats.extend(x)
        part = _FLOAT_ROWS.get(len(x))
        if part is None:
            part = _FLOAT_ROWS[len(x)] = ("l", ("f",) * len(x))
        return part
    if isinstance(x, Value):
        floats.append(x._data)
        return "f"
    if isinstance(x, (list, tuple)):
        return ("l" if isinstance(x, list) else "t", tuple(_flatten(e, floats, ints) for e in x))
    if isinstance(x, numbers.Integral) and not isinstance(x, bool):
        ints.append(int(x))
        return "i"
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        floats.append(float(x))
        return "f"
    return ("s", _hashable(x, None))


def _hashable(x, position):
    try:
        hash(x)
    except TypeError:
        where = f"argument {position}" if position is not None else "an argument"
        raise TypeError(
            f"a compiled function takes numbers, Values, ints and lists of them; {where} is a "
            f"{type(x).__name__}, which it would have to compare by value but cannot hash"
        ) from None
    return (type(x), x)


def _traced(x, key, inputs, indices, tracer):
    """The value ``fn`` receives while recorded for the argument ``x`` whose key part is ``key``."""
    if key == "f":
        leaf = Value(x._data if isinstance(x, Value) else float(x))
        inputs.append(leaf)
        return leaf
    if key == "i":
        if tracer is None:
            return int(x)
        index = TracedIndex(len(indices), int(x), tracer)
        indices.append(index)
        return index
    if key[0] in ("l", "t"):
        items = [_traced(e, k, inputs, indices, tracer) for e, k in zip(x, key[1])]
        return items if key[0] == "l" else tuple(items)
    return x


# ---- recording ------------------------------------------------------------------------------------------
class Trace:
    """One recorded run of a function.

    ``outputs`` are what it returned, flattened (Values, or numbers), and ``structure`` rebuilds
    the nesting; ``inputs`` are the leaves given for its number arguments, ``indices`` the
    `TracedIndex` objects given for its int arguments; ``guards`` and ``draws`` are the tracer's;
    ``mark`` tags every node made during the run."""

    def __init__(self, outputs, structure, inputs, indices, tracer):
        self.outputs = outputs
        self.structure = structure
        self.inputs = inputs
        self.indices = indices
        self.guards = tracer.guards
        self.draws = tracer.draws
        self.mark = tracer.mark

    def made_here(self, node):
        scope = node._scope
        return bool(scope) and scope[0] is self.mark


def record(fn, args, key, watch=True, replay=()):
    """Run ``fn`` on ``args`` (whose `arguments` key is ``key``) and return its `Trace`.

    With ``watch=False`` the run is only tagged (to tell what it made from what it used): the graph
    path, with nothing recorded for compiling (ints are plain ints, no_grad() is allowed). ``replay``
    are numbers compiled code drew for this call before it had to be recorded: `Drawn` uses them
    first, so every number is drawn once."""
    if mode.tracer is not None:
        raise CompileError("a compiled function was called while another one is being recorded")
    if not mode.enabled:
        raise CompileError("a compiled function records its graph, and no_grad() is on")
    tracer = Tracer(replay)
    inputs, indices = [], []
    if watch:
        traced = [_traced(a, k, inputs, indices, tracer) if k[0] != "s" else a for a, k in zip(args, key)]
    else:
        traced = [_traced(a, k, inputs, None, None) if k[0] != "s" else a for a, k in zip(args, key)]
    scope = mode.scope
    try:
        try:
            mode.tracer, mode.scope = (tracer if watch else None), (tracer.mark,) + scope
            out = fn(*traced)
        finally:
            mode.tracer, mode.scope = None, scope
    except BaseException:  # again: a Ctrl-C can land in the finally above, and must not leave it recording
        mode.tracer, mode.scope = None, scope
        raise
    if tracer.refused is not None:
        raise CompileError(tracer.refused)
    outputs = []
    structure = _structure(out, outputs)
    return Trace(outputs, structure, inputs, indices, tracer)


def _structure(out, flat):
    if isinstance(out, (list, tuple)):
        return ("l" if isinstance(out, list) else "t", [_structure(o, flat) for o in out])
    if isinstance(out, Value) or (isinstance(out, numbers.Real) and not isinstance(out, bool)):
        flat.append(out)
        return len(flat) - 1
    raise CompileError(
        f"a compiled function must return a Value, a number, or a list of them; this one returned a {type(out).__name__}"
    )


def rebuild(structure, values):
    """The outputs in the nesting ``structure`` describes (see `Trace`)."""
    if isinstance(structure, int):
        return values[structure]
    items = [rebuild(s, values) for s in structure[1]]
    return items if structure[0] == "l" else tuple(items)
