"""Operations: what a node records about how it was made, and the way to define a new one.

An `Operation` is a `str`, the operation's name (``node._op == "*"``, and drawings show it), that
also carries its chain rule: ``derivative(*inputs, out)`` returns d(out)/d(input) for each input,
one entry per input. It is the one source of every derivative: ``backward()``,
``node._backward()``, ``gradients(create_graph=True)``, the step-through and the compiled path all
call it. The same function works on floats and on `Value`s (for higher-order gradients), so the
calculus is written once.

Every built-in operation is an `Operation` (see `autograd.value`), and so is every operation a
learner defines with the `operation` decorator::

    @operation(derivative=lambda x, out: (1.0 - out * out,))   # d tanh(x)/dx, one entry per input
    def my_tanh(x):
        return math.tanh(x)

    y = my_tanh(Value(0.5))      # a node whose _op is the operation "my_tanh"
"""

import functools
import inspect
import math
import numbers

# name -> Operation, for building a node from an op's name (the lecture's ``Value(6.0, (a, b), "*")``)
OPERATIONS = {}


class UnknownOperationError(ValueError):
    """A node's op has no derivative the engine knows (made with ``Value(data, children, "name")``)."""


class DerivativeError(TypeError):
    """A learner's derivative returned something other than one number per input."""


class Operation(str):
    """An operation's name (this string) with its local derivatives ``derivative(*inputs, out)``.

    ``forward`` is the float formula (None where a `Value` method computes it inline), ``arity`` the
    number of inputs (None for any number, as for ``+``), ``builtin`` whether the engine defines it.
    """

    def __new__(cls, name, derivative=None, forward=None, arity=None, builtin=False):
        op = super().__new__(cls, name)
        op.derivative = derivative
        op.forward = forward
        op.arity = arity
        op.builtin = builtin
        return op

    def __reduce__(self):  # a pickled graph names its operations; loading finds them by name
        return (_named, (str(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _named(name):
    # an operation not defined in this process stays a plain name: backward() says how to define it
    return OPERATIONS.get(name, name)


def builtin(name, derivative, forward):
    """Register one of the engine's own operations (used by `autograd.value`); returns it."""
    op = Operation(name, derivative, forward, _arity(forward, name), builtin=True)
    OPERATIONS[name] = op
    return op


def operation(derivative, *, name=None):
    """Define an operation by its float formula (the decorated function) and its local derivatives.

    ``derivative(*inputs, out)`` gets the inputs' values and the output's value and returns a tuple
    with d(out)/d(input) for each input, in order. The decorated function then takes `Value`s or
    numbers and returns a `Value` that ``backward()``, ``gradients()``, the drawings and the
    step-through all understand. Written with operations that also accept `Value`s (arithmetic,
    ``math``-free), the derivative supports ``gradients(..., create_graph=True)`` too.
    ``name`` defaults to the function's name. `gradcheck` catches a wrong derivative.
    """
    if not callable(derivative):
        raise TypeError(
            "operation(derivative=...) needs a function derivative(*inputs, out) that returns one "
            f"local derivative per input, got {type(derivative).__name__}: {derivative!r}"
        )

    def define(forward):
        if not callable(forward):
            hint = (" (a bare @operation has no derivative: write @operation(derivative=lambda x, out: (...,)))"
                    if not isinstance(forward, type) else "")
            raise TypeError(f"@operation decorates the float formula (a function), got {type(forward).__name__}{hint}")
        op_name = name if name is not None else getattr(forward, "__name__", "")
        if not isinstance(op_name, str) or not op_name.strip() or op_name == "<lambda>":
            raise ValueError("an operation needs a name: decorate a def, or pass name='...'")
        arity = _arity(forward, op_name)
        _check_derivative_takes(derivative, arity, op_name)
        op = Operation(op_name, _checked(derivative, op_name), forward, arity)
        if not (op_name in OPERATIONS and OPERATIONS[op_name].builtin):
            OPERATIONS[op_name] = op  # the latest definition of a name wins; a built-in's name stays its own
        from .value import apply

        @functools.wraps(forward)
        def apply_op(*inputs):
            return apply(op, inputs)

        apply_op.operation = op
        return apply_op

    return define


def _checked(derivative, name):
    """``derivative`` with what it returns checked on every call: one number (or, for higher-order
    gradients, one Value) per input, so a slip fails where it happens instead of leaving a complex
    number, an array or a Value in some ``.grad``."""

    def checked(*inputs_and_out):
        locals_ = derivative(*inputs_and_out)
        n = len(inputs_and_out) - 1
        if not isinstance(locals_, (tuple, list)) or len(locals_) != n:
            example = "(1.0 - out * out,)" if n == 1 else "(" + ", ".join(f"d{i}" for i in range(n)) + ")"
            if isinstance(locals_, (tuple, list)):
                raise DerivativeError(
                    f"the derivative of {name} returned {len(locals_)} local derivatives for {n} input"
                    f"{'s' if n != 1 else ''}; return one per input, in order, e.g. {example}"
                )
            raise DerivativeError(
                f"the derivative of {name} must return a tuple with one local derivative per input, "
                f"e.g. {example}; it returned {_short(locals_)}"
            )
        on_floats = type(inputs_and_out[-1]) is float
        out = []
        for i, local in enumerate(locals_):
            if isinstance(local, numbers.Real) and not isinstance(local, bool):
                out.append(float(local) if type(local) is not float else local)
            elif not on_floats and _is_value(local):
                out.append(local)
            else:
                raise DerivativeError(
                    f"the derivative of {name} returned {_short(local)} ({type(local).__name__}) for input {i}; "
                    "each local derivative must be a real number"
                    + (" (it got floats, so it must not return a Value)" if on_floats and _is_value(local) else "")
                )
        return tuple(out)

    checked.rule = derivative  # the learner's own function
    return checked


def _is_value(x):
    from .value import Value

    return isinstance(x, Value)


def _short(x):
    try:
        text = repr(x)
    except Exception:
        text = f"<{type(x).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _arity(forward, name):
    """How many inputs ``forward`` takes: a number, or None for ``*args``."""
    try:
        params = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):  # a C function without a signature
        return _C_ARITY.get(forward)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    required = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    if not required:
        raise TypeError(f"operation {name!r}: the formula must take at least one input")
    return len(required)


_C_ARITY = {math.exp: 1, math.log: 1, math.sqrt: 1, math.tanh: 1, math.sin: 1, math.cos: 1, abs: 1}


def _check_derivative_takes(derivative, arity, name):
    if arity is None:
        return
    try:
        inspect.signature(derivative).bind(*range(arity + 1))
    except TypeError:
        inputs = ", ".join(f"x{i}" for i in range(arity)) if arity > 1 else "x"
        raise TypeError(
            f"operation {name!r} takes {arity} input{'s' if arity > 1 else ''}, so its derivative must take "
            f"{arity + 1} arguments, the input{'s' if arity > 1 else ''} and then the output: "
            f"derivative=lambda {inputs}, out: (...)"
        ) from None
    except ValueError:  # a builtin without a signature: trust it
        return
