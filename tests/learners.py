"""Value classes the way learners write them, for the tests of chainrule's bring-your-own-Value
tools: two correct ones (micrograd's shape with closures, microgpt's shape with stored local
gradients) and the bugs learners actually make.

Each is written here from the algorithm (a node keeps its parents; backward() orders the nodes so
each comes after everything it feeds, then applies the chain rule from the root down); none is
copied from another project.
"""

import math


class ClosureValue:
    """micrograd's / the lecture's shape: parents in a set, an op name, a _backward closure."""

    def __init__(self, data, _children=(), _op="", label=""):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op
        self.label = label

    def __repr__(self):
        return f"ClosureValue(data={self.data})"

    @classmethod
    def wrap(cls, x):
        return x if isinstance(x, cls) else cls(x)

    def __add__(self, other):
        other = self.wrap(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self.wrap(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, k):
        assert isinstance(k, (int, float)), "powers of plain numbers only"
        out = type(self)(self.data**k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad

        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = type(self)(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = type(self)(self.data if self.data > 0 else 0.0, (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * self.wrap(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return self.wrap(other) - self

    def __rtruediv__(self, other):
        return self.wrap(other) / self

    def backward(self):
        order, seen = [], set()

        def visit(v):  # recursive, as learners write it
            if v not in seen:
                seen.add(v)
                for parent in v._prev:
                    visit(parent)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


class LocalValue:
    """microgpt's shape: __slots__, ordered _children and the _local_grads, no op names."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    @classmethod
    def wrap(cls, x):
        return x if isinstance(x, cls) else cls(x)

    def __add__(self, other):
        other = self.wrap(other)
        return type(self)(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = self.wrap(other)
        return type(self)(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):
        return type(self)(self.data**k, (self,), (k * self.data ** (k - 1),))

    def exp(self):
        e = math.exp(self.data)
        return type(self)(e, (self,), (e,))

    def log(self):
        return type(self)(math.log(self.data), (self,), (1 / self.data,))

    def relu(self):
        return type(self)(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * self.wrap(other) ** -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other

    def __rsub__(self, other):
        return self.wrap(other) - self

    def __rtruediv__(self, other):
        return self.wrap(other) / self

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for child in v._children:
                    visit(child)
                order.append(v)

        visit(self)
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad


# ---- the bugs learners make ----------------------------------------------------------------------
class AssignValue(ClosureValue):
    """``=`` instead of ``+=`` in _backward: a value used twice keeps only its last gradient."""

    def __add__(self, other):
        other = self.wrap(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = self.wrap(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad = other.data * out.grad
            other.grad = self.data * out.grad

        out._backward = _backward
        return out


class TanhInputValue(ClosureValue):
    """tanh's derivative written with the input x instead of the output t: 1 - x² for 1 - t²."""

    def tanh(self):
        x = self.data
        out = type(self)(math.tanh(x), (self,), "tanh")

        def _backward():
            self.grad += (1 - x**2) * out.grad

        out._backward = _backward
        return out


class NoOrderValue(ClosureValue):
    """backward() walks breadth-first from the root instead of in topological order: a node reused
    at two depths runs its _backward before every use has added its gradient."""

    def backward(self):
        self.grad = 1.0
        queue, seen = [self], {self}
        while queue:
            v = queue.pop(0)
            v._backward()
            for parent in v._prev:
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)


class NoMaskReluValue(ClosureValue):
    """relu's _backward without its mask: the gradient passes even where the input was negative.
    Right wherever the input is positive, so one positive test point hides it."""

    def relu(self):
        out = type(self)(self.data if self.data > 0 else 0.0, (self,), "ReLU")

        def _backward():
            self.grad += out.grad  # forgot (out.data > 0)

        out._backward = _backward
        return out


def _without(cls, name, doc, *methods):
    """``cls`` as a learner who never wrote ``methods`` would have it."""
    body = {k: v for k, v in vars(cls).items() if k not in (*methods, "__dict__", "__weakref__")}
    return type(name, (), dict(body, __doc__=doc))


NoRmulValue = _without(ClosureValue, "NoRmulValue", "No __rmul__, __rsub__, __rtruediv__: ``2 * a`` fails.",
                       "__rmul__", "__rsub__", "__rtruediv__")


class LostBackwardValue(ClosureValue):
    """__mul__ builds its _backward but never attaches it: no gradient passes through *."""

    def __mul__(self, other):
        other = self.wrap(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        return out


class NoVisitedValue(ClosureValue):
    """A topological sort without a set of visited nodes: a node reached along two paths is listed
    (and its _backward run) twice."""

    def backward(self):
        order = []

        def visit(v):
            for parent in v._prev:
                visit(parent)
            order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


class LocalNoVisitedValue(LocalValue):
    """microgpt's shape with the same missing visited set."""

    __slots__ = ()

    def backward(self):
        order = []

        def visit(v):
            for child in v._children:
                visit(child)
            order.append(v)

        visit(self)
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad
