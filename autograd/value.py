"""`Value`: one scalar in a computation graph, with the chain rule for every operation.

Each operation computes its result on floats and records its parents and the `Operation` that made
it (``node._op``). Its local derivatives sit right next to it: ``builtin(name, derivative)``, where
``derivative(*parents_data, out)`` returns one d(out)/d(parent) per parent. The same function serves
first-order gradients (called with floats) and higher-order ones (called with `Value`s, so the
derivative is itself a graph). No node keeps a closure, so graphs hold no reference cycles and are
freed as soon as they are dropped. An operation a learner defines (`autograd.operation`) is the
same kind of object, applied by `apply`.
"""

import math
import numbers

from .mode import mode
from .operation import OPERATIONS, Operation, UnknownOperationError, builtin


def _real(x, what):
    """``x`` as a float, or a TypeError naming the type that came instead (an OverflowError for an
    int too large for a float)."""
    if type(x) is float:  # the common cases first, without the slower abstract-class check below
        return x
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return float(x)
        except OverflowError:
            raise OverflowError(f"{what} is {_short_number(x)}, too large for a float (|x| < 1.8e308)") from None
    if _looks_like_a_value(x):
        raise TypeError(
            f"{what} must be a real number or a chainrule Value, got a {type(x).__name__} from another engine "
            f"({type(x).__module__}); use one engine in a computation, or pass its number (x.data)"
        )
    raise TypeError(f"{what} must be a real number (int or float), got {type(x).__name__}: {_short_repr(x)}")


def _looks_like_a_value(x):
    """A node of another engine (micrograd's, a learner's own): it has data and grad."""
    try:
        return hasattr(x, "data") and hasattr(x, "grad") and not isinstance(x, Value)
    except Exception:
        return False


def _short_number(x):
    if isinstance(x, int) and x.bit_length() > 64:  # str() of a huge int is slow, or refused
        return f"an int of about {int(x.bit_length() * 0.30103) + 1} digits"
    return _short_repr(x)


def _short_repr(x):
    try:
        text = repr(x)
    except Exception:
        text = f"<{type(x).__name__} object>"
    return text if len(text) <= 60 else text[:57] + "..."


# ---- the chain rule of every operation ----------------------------------------------------------------
# Each operation is its name, its float formula and its local derivatives: a function of the inputs'
# values and the output's value that returns d(out)/d(input) for each input, in order. These are the
# only place the calculus is written: backward(), gradients() (on Values, for higher orders), the
# step-through and the compiled path all call them. The Value methods below compute the same
# formulas inline (with the domain checks and error messages a learner needs).
ADD = builtin("+", lambda *terms_and_out: (1.0,) * (len(terms_and_out) - 1), lambda *terms: _total(terms))
SUB = builtin("-", lambda a, b, out: (1.0, -1.0), lambda a, b: a - b)
MUL = builtin("*", lambda a, b, out: (b, a), lambda a, b: a * b)
DIV = builtin("/", lambda a, b, out: (1.0 / b, -out / b), lambda a, b: a / b)  # d(a/b)/db = -a/b² = -out/b
POW = builtin(  # d(a**b)/da = b * a**(b-1)    d(a**b)/db = out * log(a)  (0 where a <= 0: constant b only)
    "**",
    lambda a, b, out: (b * a ** _minus_one(b) if float(b) != 0.0 else 0.0, out * log(a) if a > 0.0 else 0.0),
    lambda a, b: a**b,
)
NEG = builtin("neg", lambda a, out: (-1.0,), lambda a: -a)
EXP = builtin("exp", lambda a, out: (out,), math.exp)
LOG = builtin("log", lambda a, out: (1.0 / a,), math.log)
SQRT = builtin("sqrt", lambda a, out: (0.5 / out,), math.sqrt)
TANH = builtin("tanh", lambda a, out: (1.0 - out * out,), math.tanh)
# σ'(a) = σ(a)·σ(-a): unlike σ(1-σ), keeps full precision where σ rounds to 1
SIGMOID = builtin("sigmoid", lambda a, out: (out * sigmoid(-a),), lambda a: _sigmoid(a))
RELU = builtin("relu", lambda a, out: (1.0 if a > 0.0 else 0.0,), lambda a: a if a > 0.0 else 0.0)
LEAKY_RELU = builtin(  # inputs: a and the slope for a <= 0
    "leaky_relu", lambda a, s, out: (1.0, 0.0) if a > 0.0 else (s, a), lambda a, s: a if a > 0.0 else s * a
)
ABS = builtin("abs", lambda a, out: (1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0,), abs)
SIN = builtin("sin", lambda a, out: (cos(a),), math.sin)
COS = builtin("cos", lambda a, out: (-sin(a),), math.cos)


class Value:
    """A scalar that remembers how it was computed.

    ``data`` and ``grad`` are floats, checked when assigned (``grad`` may also be None, PyTorch's
    "no gradient yet"); ``_prev`` is the ordered tuple of parents (``a*a`` has two); ``_op`` is the
    `Operation` that made the value, a str such as ``'*'`` (``''`` for a leaf); ``label`` names it in
    drawings.

    ``Value(2.0, label="a")`` (or ``Value(2.0, "a")``) makes a leaf. The lecture's constructor
    ``Value(data, _children=(), _op='', label='')`` works too: a node built with the name of an
    operation the engine knows differentiates like that operation.

    Gradients follow PyTorch: ``backward()`` recomputes the gradients of interior nodes each time but
    *adds* to the gradients of leaves, so calling it twice doubles them. Use ``zero_grad()`` (on the
    root, for the whole graph) or an optimizer's ``zero_grad()`` between steps.
    """

    __slots__ = ("_data", "_grad", "_prev", "_op", "_label", "_scope", "__weakref__")

    def __init__(self, data, _children=(), _op="", label=""):
        if isinstance(data, Value):
            raise TypeError("Value() takes a number, got a Value; use it directly, or Value(v.data) for a new leaf")
        if isinstance(_children, str) and not _op and not label:  # Value(2.0, "a"): the label
            _children, label = (), _children
        self._data = _real(data, "Value(data)")
        self._grad = 0.0
        self._prev, self._op = _recorded(_children, _op) if (_children or _op) else ((), "")
        self.label = label
        self._scope = mode.scope

    # ---- data, grad and label, checked where they enter ----------------------------------------------------
    @property
    def data(self):
        """The value, a float (an int or NumPy number assigned here becomes a float)."""
        if mode.tracer is not None:  # a compiled function must not bake in a number it read
            mode.tracer.read(self)
        return self._data

    @data.setter
    def data(self, value):
        self._data = _real(value, "a Value's data")

    @property
    def grad(self):
        """d(root)/d(this value) after ``root.backward()``: a float, or None ("no gradient yet")."""
        return self._grad

    @grad.setter
    def grad(self, value):
        self._grad = None if value is None else _real(value, "a Value's grad")

    @property
    def label(self):
        """The value's name in drawings and steps (a str; '' for none)."""
        return self._label

    @label.setter
    def label(self, value):
        if not isinstance(value, str):
            raise TypeError(f"label must be a str, got {type(value).__name__}: {_short_repr(value)}")
        self._label = value

    def __repr__(self):
        label = f", label={self._label!r}" if self._label else ""
        return f"Value(data={self._data!r}, grad={self._grad!r}{label})"

    def __float__(self):
        if mode.tracer is not None:
            mode.tracer.read(self)
        return self._data

    def __format__(self, spec):
        return format(self._data, spec)

    # Comparisons look at data; == stays identity so values can be dict keys and set members.
    def __lt__(self, other):
        outcome = self._data < _comparable(other)
        if mode.tracer is not None:  # a compiled function must take the same branch
            mode.tracer.compare("<", self, other, outcome)
        return outcome

    def __le__(self, other):
        outcome = self._data <= _comparable(other)
        if mode.tracer is not None:  # a compiled function must take the same branch
            mode.tracer.compare("<=", self, other, outcome)
        return outcome

    def __gt__(self, other):
        outcome = self._data > _comparable(other)
        if mode.tracer is not None:  # a compiled function must take the same branch
            mode.tracer.compare(">", self, other, outcome)
        return outcome

    def __ge__(self, other):
        outcome = self._data >= _comparable(other)
        if mode.tracer is not None:  # a compiled function must take the same branch
            mode.tracer.compare(">=", self, other, outcome)
        return outcome

    # ---- arithmetic (derivatives: see the table above) ---------------------------------------------
    def __add__(self, other):
        other = _as_value(other)
        return _result(self._data + other._data, (self, other), ADD)

    @staticmethod
    def sum(terms):
        """``terms[0] + terms[1] + ...`` as one ``+`` node with every term as a parent.

        Adds left to right, so the value is the same as the chain of binary ``+``, but the graph
        has one node instead of one per term: a neuron's products feed a single sum.
        """
        terms = tuple(map(_as_value, terms))
        if not terms:
            raise ValueError("Value.sum() needs at least one term")
        total = terms[0]._data
        for t in terms[1:]:
            total += t._data
        return _result(total, terms, ADD)

    def __sub__(self, other):
        other = _as_value(other)
        return _result(self._data - other._data, (self, other), SUB)

    def __mul__(self, other):
        other = _as_value(other)
        return _result(self._data * other._data, (self, other), MUL)

    def __truediv__(self, other):
        other = _as_value(other)
        if other._data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self._data!r} / {other._data!r}")
        return _result(self._data / other._data, (self, other), DIV)

    def __pow__(self, other):
        other = _as_value(other)
        a, b = self._data, other._data
        if a == 0.0 and b < 0.0:
            raise ZeroDivisionError(f"0.0 ** {b!r} is undefined (a negative power of zero)")
        if a < 0.0 and not b.is_integer():
            raise ValueError(f"{a!r} ** {b!r} is not a real number (a negative base needs an integer power)")
        if a < 0.0 and not isinstance(other, Constant):
            raise ValueError(
                f"{a!r} ** y with a Value exponent y needs a base >= 0: the derivative with respect to y "
                "is out * log(base); use a plain number as the exponent for a negative base"
            )
        try:
            out = a**b
        except OverflowError:
            raise OverflowError(f"{a!r} ** {b!r} overflows a float") from None
        return _result(out, (self, other), POW)

    def __neg__(self):
        return _result(-self._data, (self,), NEG)

    def __radd__(self, other):
        return _as_value(other) + self

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rmul__(self, other):
        return _as_value(other) * self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    def __rpow__(self, other):
        return _as_value(other) ** self

    # ---- functions ----------------------------------------------------------------------------------
    def exp(self):
        try:
            out = math.exp(self._data)
        except OverflowError:
            raise OverflowError(f"exp() of {self._data!r} overflows a float (needs x <= 709.78)") from None
        return _result(out, (self,), EXP)

    def log(self):
        if self._data <= 0.0:
            raise ValueError(f"log() of {self._data!r} is undefined (needs x > 0)")
        return _result(math.log(self._data), (self,), LOG)

    def sqrt(self):
        if self._data < 0.0:
            raise ValueError(f"sqrt() of {self._data!r} is undefined (needs x >= 0)")
        return _result(math.sqrt(self._data), (self,), SQRT)

    def tanh(self):
        return _result(math.tanh(self._data), (self,), TANH)  # math.tanh is exact at ±1e308

    def sigmoid(self):
        return _result(_sigmoid(self._data), (self,), SIGMOID)

    def relu(self):
        return _result(self._data if self._data > 0.0 else 0.0, (self,), RELU)

    def leaky_relu(self, slope=0.01):
        slope = _as_value(slope)
        a = self._data
        return _result(a if a > 0.0 else slope._data * a, (self, slope), LEAKY_RELU)

    def abs(self):
        return _result(abs(self._data), (self,), ABS)

    __abs__ = abs

    def sin(self):
        if math.isinf(self._data):
            raise ValueError(f"sin() of {self._data!r} is undefined (needs a finite x)")
        return _result(math.sin(self._data), (self,), SIN)

    def cos(self):
        if math.isinf(self._data):
            raise ValueError(f"cos() of {self._data!r} is undefined (needs a finite x)")
        return _result(math.cos(self._data), (self,), COS)

    # ---- gradients ----------------------------------------------------------------------------------
    def backward(self, grad=1.0):
        """Fill ``.grad`` of every node this value depends on (see the class docstring).

        ``grad`` seeds this value's gradient (1.0, or None for the same, as in PyTorch)."""
        from .graph import backward

        backward(self, grad)

    @property
    def _backward(self):
        """This node's own step of the chain rule, as in the lecture: ``node._backward()`` does, for
        each parent, ``parent.grad += local derivative × node.grad`` (nothing for a leaf).
        ``backward()`` does exactly this for every node, in reverse topological order."""
        return self._chain_rule_step

    @_backward.setter
    def _backward(self, step):
        raise AttributeError(
            "a chainrule Value takes its step of the chain rule from its operation, so _backward cannot be "
            "assigned; to add an operation, give its formula and derivative to @autograd.operation(derivative=...)"
        )

    def _chain_rule_step(self):
        if not self._prev:
            return
        try:
            locals_ = local_grads(self)
        except Exception as error:
            from .graph import _backward_error

            clearer = _backward_error(self, error)
            if clearer is error:
                raise
            try:
                raise clearer from error
            finally:
                clearer = None
        upstream = 0.0 if self._grad is None else self._grad
        for parent, local in zip(self._prev, locals_):
            parent.grad = (0.0 if parent.grad is None else parent.grad) + local * upstream

    def zero_grad(self):
        """Set ``.grad`` to 0.0 on every node of this value's graph."""
        from .graph import zero_grad

        zero_grad(self)

    def __deepcopy__(self, memo):
        """A copy of this value's whole graph, parents first, without recursion (any depth)."""
        from .graph import topological_order

        if id(self) in memo:
            return memo[id(self)]
        for node in topological_order(self):
            if id(node) in memo:
                continue
            twin = _new(type(node))
            twin._data, twin._grad, twin._label, twin._scope, twin._op = (
                node._data, node._grad, node._label, node._scope, node._op)
            twin._prev = tuple(memo[id(p)] for p in node._prev)
            memo[id(node)] = twin
        return memo[id(self)]


class Constant(Value):
    """A number that entered an operation (the ``2`` in ``2*x``). It never collects gradient."""

    __slots__ = ()

    @property
    def grad(self):
        return 0.0

    @grad.setter
    def grad(self, value):
        pass  # contributions to a constant are dropped


_IN_PLACE = (
    "`p {op}= x` on a Parameter does not change the parameter: it makes a new Value and rebinds the "
    "name p (in `for p in params:` nothing would train). Change its value with `p.data {op}= x`."
)


class Parameter(Value):
    """A leaf that training updates (a weight or a bias). Only its kind differs from a `Value`,
    and in-place arithmetic (``p += x``) is refused, since it would rebind the name, not train."""

    __slots__ = ()

    def __iadd__(self, other):
        raise TypeError(_IN_PLACE.format(op="+"))

    def __isub__(self, other):
        raise TypeError(_IN_PLACE.format(op="-"))

    def __imul__(self, other):
        raise TypeError(_IN_PLACE.format(op="*"))

    def __itruediv__(self, other):
        raise TypeError(_IN_PLACE.format(op="/"))

    def __ipow__(self, other):
        raise TypeError(_IN_PLACE.format(op="**"))


_new = object.__new__


def _result(data, parents, op):
    """A new node: ``data`` computed by ``op`` from ``parents`` (no parents under ``no_grad``)."""
    node = _new(Value)
    node._data = data
    node._grad = 0.0
    m = mode
    if m.enabled:
        node._prev = parents
        node._op = op
    else:
        node._prev = ()
        node._op = ""
    node._label = ""
    node._scope = m.scope
    return node


def apply(op, inputs):
    """``op`` applied to ``inputs`` (Values or numbers): its float formula, recorded as one node.

    This is how an operation defined with `autograd.operation` computes; the built-in operations do
    the same inline, in the `Value` methods above."""
    if op.arity is not None and len(inputs) != op.arity:
        raise TypeError(f"{op}() takes {op.arity} input{'s' if op.arity != 1 else ''}, got {len(inputs)}")
    parents = tuple(_as_value(x, f"an input of {op}()") for x in inputs)
    values = [p._data for p in parents]
    try:
        out = op.forward(*values)
    except (ArithmeticError, ValueError) as error:
        raise type(error)(f"{op}({', '.join(map(repr, values))}) failed: {error}") from error
    if isinstance(out, Value):
        raise TypeError(f"the formula of {op}() must compute on floats and return a number, it returned a Value")
    return _result(_real(out, f"the result of {op}({', '.join(map(repr, values))})"), parents, op)


def _recorded(children, op):
    """(parents, operation) for the lecture's ``Value(data, _children, _op)``."""
    if isinstance(children, Value) or not hasattr(children, "__iter__"):
        raise TypeError(f"_children must be a tuple of Values, e.g. (a, b), got {type(children).__name__}")
    parents = tuple(_as_value(c, "a child in Value(data, _children, _op)") for c in children)
    if not isinstance(op, str):
        raise TypeError(f"_op must be the operation's name, a str such as '*', got {type(op).__name__}: {_short_repr(op)}")
    known = op if isinstance(op, Operation) else OPERATIONS.get(op)
    if known is not None:
        if known.arity is not None and parents and len(parents) != known.arity:
            raise TypeError(
                f"the operation {op!r} takes {known.arity} input{'s' if known.arity != 1 else ''}, "
                f"but {len(parents)} children were given"
            )
        return parents, known
    return parents, op  # an operation the engine does not know: backward() will say how to define it


def _as_value(x, what="an operand of a Value operation"):
    if isinstance(x, Value):
        return x
    # A Constant made without __init__: this runs for every number in an expression (the 2 in 2*x).
    node = _new(Constant)
    node._data = _real(x, what)
    node._grad = 0.0
    node._prev = ()
    node._op = ""
    node._label = ""
    node._scope = mode.scope
    return node


def _comparable(x):
    """What ``x`` is compared as: a Value's data, or the number itself (exact, even a huge int)."""
    if isinstance(x, Value):
        return x._data
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return x
    raise TypeError(f"a Value can be compared with a number or a Value, not {type(x).__name__}: {_short_repr(x)}")


def _total(terms):
    """Left to right, as a chain of binary + would add (``sum()`` of floats is compensated from 3.12)."""
    total = terms[0]
    for t in terms[1:]:
        total += t
    return total


def _sigmoid(x):
    # Never exponentiates a positive number, so it cannot overflow.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# Functions that take a float or a Value, so one derivative formula serves both gradient orders
# (public as `autograd.functions`, for derivatives a learner writes).
def exp(x):
    return x.exp() if isinstance(x, Value) else math.exp(x)


def log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


def sqrt(x):
    return x.sqrt() if isinstance(x, Value) else math.sqrt(x)


def tanh(x):
    return x.tanh() if isinstance(x, Value) else math.tanh(x)


def sigmoid(x):
    return x.sigmoid() if isinstance(x, Value) else _sigmoid(x)


def relu(x):
    if isinstance(x, Value):
        return x.relu()
    return x if x > 0.0 else 0.0


def sin(x):
    return x.sin() if isinstance(x, Value) else math.sin(x)


def cos(x):
    return x.cos() if isinstance(x, Value) else math.cos(x)


def _minus_one(b):
    # A constant exponent stays constant, so x**3 at x < 0 still has higher derivatives.
    return Constant(b.data - 1.0) if isinstance(b, Constant) else b - 1.0


def derivative_of(node):
    """The function that gives ``node``'s local derivatives, or an UnknownOperationError that says
    how to define its operation."""
    rule = getattr(node._op, "derivative", None)
    if rule is None:
        op = node._op
        if not op:
            raise UnknownOperationError(
                f"a Value with data {node._data!r} has {len(node._prev)} children but no operation: "
                "give Value(data, _children, _op) the operation's name, e.g. '*'"
            )
        known = ", ".join(repr(name) for name, o in OPERATIONS.items() if o.builtin)
        raise UnknownOperationError(
            f"backward() does not know the operation {str(op)!r} (a node made by Value(data, children, {str(op)!r})). "
            f"Use one the engine knows ({known}), or define it with its derivative: "
            f"@autograd.operation(derivative=lambda x, out: (...,)) on a function named {str(op)!r}, "
            "and build the node by calling that function"
        )
    return rule


def local_grads(node):
    """The local derivatives d(node)/d(parent) for each parent, as floats, in parent order (``()``
    for a leaf)."""
    if not isinstance(node, Value):
        raise TypeError(f"local_grads() takes a Value, got {type(node).__name__}: {_short_repr(node)}")
    if not node._prev:
        return ()
    locals_ = derivative_of(node)(*[p._data for p in node._prev], node._data)
    if type(locals_) is not tuple or len(locals_) != len(node._prev):
        return _check_locals(node, locals_)
    return locals_


def _check_locals(node, locals_):
    """Accept a list as a tuple; otherwise say what the derivative should have returned."""
    n = len(node._prev)
    example = "(1.0 - out * out,)" if n == 1 else "(" + ", ".join(f"d{i}" for i in range(n)) + ")"
    if not isinstance(locals_, (tuple, list)):
        raise TypeError(
            f"the derivative of {node._op} must return a tuple with one local derivative per input, "
            f"e.g. {example}; it returned {_short_repr(locals_)}"
        )
    if len(locals_) != n:
        raise TypeError(
            f"the derivative of {node._op} returned {len(locals_)} local derivatives for {n} input"
            f"{'s' if n != 1 else ''}; return one per input, in order, e.g. {example}"
        )
    return tuple(locals_)
