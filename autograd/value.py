"""`Value`: one scalar in a computation graph, with the chain rule for every operation.

Each operation computes its result on floats and records its parents. Its local derivatives live
right next to it, in ``LOCAL[op]``: one function of the parents' data and the output's data. The same
function serves first-order gradients (called with floats) and higher-order ones (called with
`Value`s, so the derivative is itself a graph). No node keeps a closure, so graphs hold no reference
cycles and are freed as soon as they are dropped.
"""

import math
import numbers

from .mode import mode

# op name -> local derivatives: f(*parents_data, out) -> tuple, one entry per parent
LOCAL = {}


def _real(x, what):
    """``x`` as a float, or a TypeError naming the type that came instead."""
    if type(x) is float:  # the common cases first, without the slower abstract-class check below
        return x
    if type(x) is int:
        return float(x)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"{what} must be a real number (int or float), got {type(x).__name__}: {x!r}")


class Value:
    """A scalar that remembers how it was computed.

    ``data`` and ``grad`` are floats; ``_prev`` is the ordered tuple of parents (``a*a`` has two);
    ``_op`` names the operation that made it (``''`` for a leaf).

    Gradients follow PyTorch: ``backward()`` recomputes the gradients of interior nodes each time but
    *adds* to the gradients of leaves, so calling it twice doubles them. Use ``zero_grad()`` (on the
    root, for the whole graph) or an optimizer's ``zero_grad()`` between steps.
    """

    __slots__ = ("data", "grad", "_prev", "_op", "label", "_scope", "__weakref__")

    def __init__(self, data, label=""):
        if isinstance(data, Value):
            raise TypeError("Value() takes a number, got a Value; use it directly, or Value(v.data) for a new leaf")
        self.data = _real(data, "Value(data)")
        self.grad = 0.0
        self._prev = ()
        self._op = ""
        if not isinstance(label, str):
            raise TypeError(f"label must be a str, got {type(label).__name__}: {label!r}")
        self.label = label
        self._scope = mode.scope

    def __repr__(self):
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __float__(self):
        return self.data

    def __format__(self, spec):
        return format(self.data, spec)

    # Comparisons look at data; == stays identity so values can be dict keys and set members.
    def __lt__(self, other):
        return self.data < _data(other)

    def __le__(self, other):
        return self.data <= _data(other)

    def __gt__(self, other):
        return self.data > _data(other)

    def __ge__(self, other):
        return self.data >= _data(other)

    # ---- arithmetic -------------------------------------------------------------------------------
    def __add__(self, other):
        other = _as_value(other)
        return _result(self.data + other.data, (self, other), "+")

    # d(a + b + ...)/d(each term) = 1; "+" takes any number of terms (see Value.sum)
    LOCAL["+"] = lambda *terms_and_out: (1.0,) * (len(terms_and_out) - 1)

    @staticmethod
    def sum(terms):
        """``terms[0] + terms[1] + ...`` as one ``+`` node with every term as a parent.

        Adds left to right, so the value is the same as the chain of binary ``+``, but the graph
        has one node instead of one per term: a neuron's products feed a single sum.
        """
        terms = tuple(map(_as_value, terms))
        if not terms:
            raise ValueError("Value.sum() needs at least one term")
        total = terms[0].data
        for t in terms[1:]:
            total += t.data
        return _result(total, terms, "+")

    def __sub__(self, other):
        other = _as_value(other)
        return _result(self.data - other.data, (self, other), "-")

    LOCAL["-"] = lambda a, b, out: (1.0, -1.0)

    def __mul__(self, other):
        other = _as_value(other)
        return _result(self.data * other.data, (self, other), "*")

    LOCAL["*"] = lambda a, b, out: (b, a)

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self.data!r} / {other.data!r}")
        return _result(self.data / other.data, (self, other), "/")

    # d(a/b)/da = 1/b    d(a/b)/db = -a/b² = -out/b
    LOCAL["/"] = lambda a, b, out: (1.0 / b, -out / b)

    def __pow__(self, other):
        other = _as_value(other)
        a, b = self.data, other.data
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
        return _result(out, (self, other), "**")

    # d(a**b)/da = b * a**(b-1)    d(a**b)/db = out * log(a)  (0 where a <= 0: only for constant b)
    LOCAL["**"] = lambda a, b, out: (
        b * a ** _minus_one(b) if float(b) != 0.0 else 0.0,
        out * log(a) if a > 0.0 else 0.0,
    )

    def __neg__(self):
        return _result(-self.data, (self,), "neg")

    LOCAL["neg"] = lambda a, out: (-1.0,)

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

    # ---- functions --------------------------------------------------------------------------------
    def exp(self):
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"exp() of {self.data!r} overflows a float (needs x <= 709.78)") from None
        return _result(out, (self,), "exp")

    LOCAL["exp"] = lambda a, out: (out,)

    def log(self):
        if self.data <= 0.0:
            raise ValueError(f"log() of {self.data!r} is undefined (needs x > 0)")
        return _result(math.log(self.data), (self,), "log")

    LOCAL["log"] = lambda a, out: (1.0 / a,)

    def sqrt(self):
        if self.data < 0.0:
            raise ValueError(f"sqrt() of {self.data!r} is undefined (needs x >= 0)")
        return _result(math.sqrt(self.data), (self,), "sqrt")

    LOCAL["sqrt"] = lambda a, out: (0.5 / out,)

    def tanh(self):
        return _result(math.tanh(self.data), (self,), "tanh")  # math.tanh is exact at ±1e308

    LOCAL["tanh"] = lambda a, out: (1.0 - out * out,)

    def sigmoid(self):
        return _result(_sigmoid(self.data), (self,), "sigmoid")

    # σ'(a) = σ(a)·σ(-a): unlike σ(1-σ), keeps full precision where σ rounds to 1
    LOCAL["sigmoid"] = lambda a, out: (out * sigmoid(-a),)

    def relu(self):
        return _result(self.data if self.data > 0.0 else 0.0, (self,), "relu")

    LOCAL["relu"] = lambda a, out: (1.0 if a > 0.0 else 0.0,)

    def leaky_relu(self, slope=0.01):
        slope = _as_value(slope)
        a = self.data
        return _result(a if a > 0.0 else slope.data * a, (self, slope), "leaky_relu")

    LOCAL["leaky_relu"] = lambda a, s, out: (1.0, 0.0) if a > 0.0 else (s, a)

    def abs(self):
        return _result(abs(self.data), (self,), "abs")

    __abs__ = abs
    LOCAL["abs"] = lambda a, out: (1.0 if a > 0.0 else -1.0 if a < 0.0 else 0.0,)

    def sin(self):
        return _result(math.sin(self.data), (self,), "sin")

    LOCAL["sin"] = lambda a, out: (cos(a),)

    def cos(self):
        return _result(math.cos(self.data), (self,), "cos")

    LOCAL["cos"] = lambda a, out: (-sin(a),)

    # ---- gradients --------------------------------------------------------------------------------
    def backward(self, grad=1.0):
        """Fill ``.grad`` of every node this value depends on (see the class docstring)."""
        from .graph import backward

        backward(self, grad)

    def zero_grad(self):
        """Set ``.grad`` to 0.0 on every node of this value's graph."""
        from .graph import zero_grad

        zero_grad(self)


class Constant(Value):
    """A number that entered an operation (the ``2`` in ``2*x``). It never collects gradient."""

    __slots__ = ()

    @property
    def grad(self):
        return 0.0

    @grad.setter
    def grad(self, value):
        pass  # contributions to a constant are dropped


class Parameter(Value):
    """A leaf that training updates (a weight or a bias). Only its kind differs from a `Value`."""

    __slots__ = ()


_new = object.__new__


def _result(data, parents, op):
    """A new node: ``data`` computed by ``op`` from ``parents`` (no parents under ``no_grad``)."""
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    m = mode
    if m.enabled:
        node._prev = parents
        node._op = op
    else:
        node._prev = ()
        node._op = ""
    node.label = ""
    node._scope = m.scope
    return node


def _as_value(x):
    if isinstance(x, Value):
        return x
    # A Constant made without __init__: this runs for every number in an expression (the 2 in 2*x).
    node = _new(Constant)
    node.data = _real(x, "an operand of a Value operation")
    node._prev = ()
    node._op = ""
    node.label = ""
    node._scope = mode.scope
    return node


def _data(x):
    return x.data if isinstance(x, Value) else _real(x, "a number compared with a Value")


def _sigmoid(x):
    # Never exponentiates a positive number, so it cannot overflow.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


# Functions that take a float or a Value, so one derivative formula serves both gradient orders.
def log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


def sin(x):
    return x.sin() if isinstance(x, Value) else math.sin(x)


def cos(x):
    return x.cos() if isinstance(x, Value) else math.cos(x)


def sigmoid(x):
    return x.sigmoid() if isinstance(x, Value) else _sigmoid(x)


def _minus_one(b):
    # A constant exponent stays constant, so x**3 at x < 0 still has higher derivatives.
    return Constant(b.data - 1.0) if isinstance(b, Constant) else b - 1.0


def local_grads(node):
    """The local derivatives d(node)/d(parent) for each parent, as floats, in parent order."""
    return LOCAL[node._op](*[p.data for p in node._prev], node.data)
