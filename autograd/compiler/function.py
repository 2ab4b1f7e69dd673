"""`compiled(fn)`: a function of `Value`s recorded once, then run as straight-line Python on floats.

Calling it runs the generated code: no `Value` is made, and the gradients of the Values the
function uses from outside (its parameters) are added to their ``.grad``, as ``fn(...).backward()``
would add them. A call that goes where no recorded run went (another shape of argument, a
comparison that comes out the other way) is recorded again first, so the numbers are always those
of the graph path.
"""

import functools
import math
import time
import warnings

from ..interrupts import deferred_interrupts
from ..mode import mode
from ..value import Constant, Value, _real
from .codegen import Generator
from .program import Program, graph_run
from .trace import CompileError, Retrace, arguments, rebuild, record

class CompileWarning(UserWarning):
    """A compiled function could not be compiled and runs on the graph path (same numbers, slower)."""


_SCALAR = object()  # seed: 1.0 when the function returns one number, else no backward pass
_COST = {"per_node": 50e-6}  # seconds to merge, write and compile one node: measured as compiling goes


def _seeds(seed, structure):
    """The seeds of a run's flat outputs: one number for a single output, a list for several."""
    if seed is _SCALAR:
        seed = 1.0 if isinstance(structure, int) else None
    if seed is None:
        return None
    return [seed] if isinstance(structure, int) else list(seed)


class Compiled:
    """``fn`` compiled (see `compiled`). ``leaves`` lists the Values read at each call, in the order
    of the ``params``/``grads`` lists `run` takes; it starts with those given and grows as recorded
    runs find more."""

    def __init__(self, fn, static=(), leaves=(), wrt_inputs=True, eager=True, max_paths=16, max_kinds=64):
        if not callable(fn):
            raise TypeError(f"compiled() takes a function, got {type(fn).__name__}")
        self.fn = fn
        self.static = frozenset(static)
        self.leaves = []
        self._slots = {}
        for leaf in leaves:
            self.slot(leaf)
        self.wrt_inputs = bool(wrt_inputs)
        self.eager = bool(eager)
        self.max_paths = max_paths
        self.max_kinds = max_kinds
        self.programs = {}
        self.traces = 0
        self.failure = None  # why calls run on the graph path, once compiling failed
        self._last = None
        functools.update_wrapper(self, fn, updated=())

    def slot(self, leaf):
        """The position of ``leaf`` in `leaves` (added at the end if new)."""
        slot = self._slots.get(id(leaf))
        if slot is None:  # appended first: a Ctrl-C between the two lines costs a second slot, never a wrong one
            self.leaves.append(leaf)
            slot = self._slots[id(leaf)] = len(self.leaves) - 1
        return slot

    # ---- calling ----
    def __call__(self, *args):
        """``fn(*args)``'s value, as floats; when it is one number, the gradients of the Values ``fn``
        uses from outside are added to their ``.grad`` (``fn(*args).backward()``)."""
        if not mode.enabled or mode.tracer is not None:
            return _floats(self.fn(*args))  # under no_grad(), or inside a function being recorded
        if self.failure is None:
            params = [leaf._data for leaf in self.leaves]
            grads = [0.0] * len(params)
            try:
                out = self.run(args, params, grads, _SCALAR)
            except CompileError as error:
                self._fail(error)
            else:
                self._accumulate(grads)
                return out
        return self._on_graph(args)[0]

    def value_and_grad(self, *args):
        """``(value, gradients)``: ``fn(*args)`` (one number) and its derivative with respect to each
        number argument, in the arguments' shape (None for the others). The gradients of the Values
        ``fn`` uses from outside are added to their ``.grad`` too."""
        if not self.wrt_inputs:
            raise CompileError("this compiled function was made with wrt_inputs=False: it has no gradients for its arguments")
        key, floats, _ = arguments(args, self.static)
        if self.failure is None:
            params = [leaf._data for leaf in self.leaves]
            grads = [0.0] * len(params)
            input_grads = [0.0] * len(floats)
            try:
                value = self.run(args, params, grads, 1.0, input_grads)
            except CompileError as error:
                self._fail(error)
            else:
                self._accumulate(grads)
                position = iter(input_grads)
                return value, tuple(_shaped(a, k, position) for a, k in zip(args, key))
        value, input_grads = self._on_graph(args)
        position = iter(input_grads)
        return value, tuple(_shaped(a, k, position) for a, k in zip(args, key))

    def _fail(self, error):
        self.failure = str(error)
        warnings.warn(f"{self.__name__} runs on the graph path from now on: {error}", CompileWarning, stacklevel=3)

    def _on_graph(self, args):
        """``(value, gradients of the number arguments)`` computed on the graph, as without compiling."""
        key, _, _ = arguments(args, self.static)
        inputs = []
        values = [_leaves(a, k, inputs) for a, k in zip(args, key)]
        out = self.fn(*values)
        if isinstance(out, Value):
            out.backward()
        elif not isinstance(out, (list, tuple, float, int)):
            raise TypeError(f"{self.__name__} must return a Value, a number, or a list of them")
        return _floats(out), [leaf._grad for leaf in inputs]

    def run(self, args, params, grads, seed=1.0, input_grads=None):
        """The low-level call: ``fn(*args)``'s outputs as floats, with the leaves' values read from
        ``params`` (a list in the order of `leaves`) and d(seed · outputs)/d(leaf) added to ``grads``
        (and, for the number arguments, to ``input_grads``). ``seed`` is a number for one output, a
        list for several, None for no backward pass. A call that finds new leaves appends their
        values to ``params`` and zeros to ``grads``.

        A kind of call is compiled when it is first recorded, and the recorded call gets the compiled
        code's result; the next call of that kind is recorded again, and must go the same way: a
        function that draws random numbers other than with `Drawn`, or reads a global that changes,
        is caught there (a CompileError) instead of being frozen. With ``eager=False`` the calls
        before that run on the graph path, and recording starts only once the time they took (plus
        the time the calls announced with `expect` would take) pays for compiling: a kind of call
        seen a few times is never compiled."""
        key, floats, ints = arguments(args, self.static)
        program = self.programs.get(key)
        if program is None:
            program = self._program(key)
        if program.failed is not None:
            raise CompileError(program.failed)
        self._last = program
        if program.expected:
            program.expected -= 1
        if program.function is not None and program.verified:
            s = (1.0 if program.single else None) if seed is _SCALAR else seed
            try:
                return program.function(floats, ints, params, grads, s, input_grads)
            except Retrace:
                pass
            except Exception as error:  # recorded again: the graph path raises its own error, or goes a new way
                paths = len(program.paths)
                out = self._record(args, key, program, params, grads, seed, input_grads, program.generator.drawn)
                if len(program.paths) == paths:  # the recording went a known way: the code should have
                    program.misses += 1
                    if program.misses > 3:
                        program.failed = f"the compiled code of {self.__name__} fails where its graph does not: {error!r}"
                return out
            return self._record(args, key, program, params, grads, seed, input_grads, program.generator.drawn)
        if not (self.eager or program.paths or self._pays(program)):
            return self._graph(args, key, program, params, grads, seed, input_grads)
        return self._record(args, key, program, params, grads, seed, input_grads)

    def expect(self, *args, calls=1):
        """Announce about ``calls`` more calls ``f(*args)``, or like it (the same kind: shapes and
        static values). With ``eager=False`` such a kind is compiled as soon as one call on the graph path
        has shown that the announced calls would pay for compiling it."""
        key, _, _ = arguments(args, self.static)
        program = self.programs.get(key)
        if program is None:
            program = self._program(key)
        program.expected += max(int(calls), 0)

    @staticmethod
    def _pays(program):
        """Whether the graph time spent on this kind, plus what its announced calls would spend,
        covers the estimated time of compiling it."""
        if not program.graph_calls:
            return False
        spent = program.graph_time
        return spent + spent / program.graph_calls * program.expected >= program.cost

    def _program(self, key):
        if len(self.programs) >= self.max_kinds:
            raise CompileError(
                f"{self.__name__} was called with {len(self.programs)} different kinds of arguments (shapes, "
                "static values); compiling each would cost more than it saves"
            )
        program = Program(self.leaves, self.wrt_inputs)
        program.generator = Generator(program, getattr(self.fn, "__name__", "compiled"))
        program.function = program.source = program.failed = None
        program.single = True
        program.verified = False  # recorded twice the same way: it depends on its arguments only
        program.misses = 0  # calls its code failed although the recording went a known way
        program.graph_time = 0.0  # seconds its calls took on the graph path
        program.graph_calls = 0  # how many there were
        program.expected = 0  # calls announced with `expect` and not made yet
        program.cost = math.inf  # the seconds compiling it is expected to take
        self.programs[key] = program  # whole, or not at all (a Ctrl-C above leaves no half-made program)
        return program

    def _graph(self, args, key, program, params, grads, seed, input_grads):
        """A call on the graph path (counted towards compiling it)."""
        started = time.perf_counter()
        trace = record(self.fn, args, key, watch=False)
        seeds = _seeds(seed, trace.structure)
        outputs, nodes, leaf_grads = graph_run(trace, self.slot, seeds, input_grads)
        self._grow(params, grads)
        for slot, g in leaf_grads:
            grads[slot] += g
        program.graph_time += time.perf_counter() - started
        program.graph_calls += 1
        program.cost = nodes * _COST["per_node"]
        return rebuild(trace.structure, outputs)

    def _record(self, args, key, program, params, grads, seed, input_grads, replay=()):
        if len(program.paths) >= self.max_paths:
            raise CompileError(
                f"{self.__name__} went {len(program.paths)} different ways for the same kind of arguments: it "
                "depends on its data (comparisons of Values, numbers read with .data) more than compiled code "
                "can follow; use an operation for data-dependent numbers (see autograd.compiler)"
            )
        started = time.perf_counter()
        trace = record(self.fn, args, key, replay=replay)
        self.traces += 1
        paths = len(program.paths)
        path, values = program.add(trace, self.slot)  # a CompileError if it ran differently than before
        new = len(program.paths) > paths
        if not new:
            program.verified = True  # recorded twice the same way: it depends on its arguments only
        self._grow(params, grads)
        program.single = all(isinstance(p.structure, int) for p in program.paths)
        if new or program.function is None:
            try:
                program.source, program.function = program.generator.compile()
            except (SyntaxError, RecursionError, MemoryError, ValueError) as error:  # too big or too deep for CPython
                program.failed = f"{self.__name__} could not be compiled: {type(error).__name__}: {error}"
                program.function = None
            else:
                seconds = (time.perf_counter() - started) / max(len(program.nodes), 1)
                _COST["per_node"] = 0.5 * _COST["per_node"] + 0.5 * seconds
        seeds = _seeds(seed, path.structure)
        if seeds is None:
            outputs = [ref[1] if ref[0] == "lit" else values[ref[1]]._data for ref in path.outputs]
            return rebuild(path.structure, outputs)
        if program.function is not None and not path.draws:
            # the code computes the graph just recorded, so it gives this call's result (without
            # drawing its numbers again: a call that drew some is answered from its graph)
            _, floats, ints = arguments(args, self.static)
            s = (1.0 if program.single else None) if seed is _SCALAR else seed
            try:
                return program.function(floats, ints, params, grads, s, input_grads)
            except Retrace:
                pass
        outputs = program.interpret(path, values, params, grads, seeds, input_grads)
        return rebuild(path.structure, outputs)

    def _grow(self, params, grads):
        while len(params) < len(self.leaves):
            params.append(self.leaves[len(params)]._data)
        while len(grads) < len(self.leaves):
            grads.append(0.0)

    def leaf_values(self):
        """The values of `leaves`, in order: the ``params`` list `run` takes."""
        return [leaf._data for leaf in self.leaves]

    def accumulate(self, grads):
        """Add ``grads`` (a list in the order of `leaves`, as `run` fills it) to the leaves' ``.grad``,
        as ``backward()`` adds a gradient (a leaf whose ``.grad`` is None starts from zero; a
        `Constant` collects none). All or nothing, as ``backward()`` adds them: a Ctrl-C meanwhile
        waits until every gradient is added."""
        grads = [g if type(g) is float else _real(g, "a compiled gradient") for g in grads]
        with deferred_interrupts():
            for leaf, g in zip(self.leaves, grads):
                if type(leaf) is not Constant:
                    old = leaf._grad
                    leaf._grad = g if old is None else old + g

    _accumulate = accumulate

    # ---- looking inside ----
    @property
    def source(self):
        """The Python code of the kind of call made last (print it to see what a compiled graph
        looks like)."""
        program = self._last
        if program is None or not program.paths:
            raise ValueError(f"{self.__name__} has not been recorded yet: call it first")
        if program.source is None:
            program.source = program.generator.source()
        return program.source

    @property
    def paths(self):
        """How many different ways through the function have been recorded (over all kinds of call)."""
        return sum(len(p.paths) for p in self.programs.values())

    def __repr__(self):
        kinds = len(self.programs)
        return (f"<compiled {self.__name__}: {self.traces} recorded run{'s' if self.traces != 1 else ''}, "
                f"{kinds} kind{'s' if kinds != 1 else ''} of call, {self.paths} path{'s' if self.paths != 1 else ''}>")


def compiled(fn=None, *, static=(), wrt_inputs=True, eager=True):
    """Compile ``fn``, a function of `Value`s, into straight-line Python on floats.

    Use it as a decorator or call it on a function. The first call records ``fn`` (runs it on
    Values) and writes its forward and backward passes as one Python function on floats (see
    ``.source``); later calls run that function. Arguments that are numbers (or Values, or lists of
    them) are inputs, ints are indices (look a list up with `take`), and the arguments at the
    positions in ``static`` (and anything else, such as strings) are fixed: each new value is
    compiled anew. A call returns ``fn``'s value as floats and, when that is one number, adds the
    gradients of the Values ``fn`` uses from outside (its parameters) to their ``.grad``;
    ``value_and_grad`` also returns the gradients of the arguments. With ``eager=False`` a kind of
    call is compiled only once the time its calls took on the graph path would have paid for it.
    """
    if fn is None:
        return lambda f: Compiled(f, static=static, wrt_inputs=wrt_inputs, eager=eager)
    return Compiled(fn, static=static, wrt_inputs=wrt_inputs, eager=eager)


def _floats(out):
    if isinstance(out, Value):
        return out._data
    if isinstance(out, (list, tuple)):
        return type(out)(_floats(o) for o in out)
    return out


def _leaves(arg, key, inputs):
    if key == "f":
        leaf = Value(arg._data if isinstance(arg, Value) else float(arg))
        inputs.append(leaf)
        return leaf
    if key == "i" or key[0] == "s":
        return arg
    items = [_leaves(a, k, inputs) for a, k in zip(arg, key[1])]
    return items if key[0] == "l" else tuple(items)


def _shaped(arg, key, grads):
    if key == "f":
        return next(grads)
    if key == "i" or key[0] == "s":
        return None
    items = [_shaped(a, k, grads) for a, k in zip(arg, key[1])]
    return items if key[0] == "l" else tuple(items)
