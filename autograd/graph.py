"""Walking a graph: topological order, the backward pass, and gradients as graphs.

Nothing here recurses, so a chain of a million nodes is as easy as a chain of ten.
"""

import math
import numbers

from .interrupts import deferred_interrupts
from .operation import DerivativeError, UnknownOperationError
from .value import Constant, Value, _check_locals, _real, _short_repr, derivative_of, local_grads


def topological_order(root):
    """Every node ``root`` depends on, each after all of its parents, ending with ``root``.

    Depth-first over parents in their recorded order, with an explicit stack, so the order is the
    same on every run and any depth works.
    """
    return _walk(_root(root, "topological_order"), [])


def _root(root, who):
    if not isinstance(root, Value):
        raise TypeError(f"{who}() takes the Value to start from, got {type(root).__name__}: {_short_repr(root)}")
    return root


def _walk(root, order, leaves=None, interior=None):
    # The one implementation of the order; it fills ``order`` as it goes. backward() passes two
    # lists: every gradient is moved out of the way (leaves' into ``leaves``, interior nodes' into
    # ``interior``, as (node, gradient) pairs) so the pass sums every gradient from zero. Doing it
    # here saves a second pass over a graph that may be too big for the CPU caches.
    reset = leaves is not None
    seen = {root}
    stack = [(root, iter(root._prev))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in seen:
                seen.add(parent)
                if parent._prev:
                    stack.append((parent, iter(parent._prev)))
                    break
                if reset and parent._grad != 0.0:  # None too: see backward()
                    if type(parent) is not Constant:  # a constant's gradient is only ever dropped
                        leaves.append((parent, parent._grad))
                    parent._grad = 0.0
                order.append(parent)  # a leaf has no parents to wait for: place it now
        else:
            stack.pop()
            if reset and node._grad != 0.0:
                (interior if node._prev else leaves).append((node, node._grad))
                node._grad = 0.0
            order.append(node)
    return order


def backward(root, grad=1.0):
    """Apply the chain rule from ``root`` back to the leaves, filling ``.grad`` of every node.

    Interior gradients are recomputed from zero; leaf gradients accumulate across calls (as in
    PyTorch): the pass sums each leaf's gradient from zero, then adds it to the earlier one, so a
    second call doubles it exactly. A leaf whose ``.grad`` is None (PyTorch's "no gradient yet")
    starts from zero. ``grad`` seeds ``root``: d(root)/d(root) = 1.0 by default (None means the
    same, as in PyTorch). If the pass fails or is interrupted (an error, Ctrl-C), every gradient is
    put back as it was before the call.
    """
    _root(root, "backward")
    seed = _seed(grad)
    order, leaves, interior = [], [], []
    node = root
    try:
        _walk(root, order, leaves, interior)  # topological_order(root), every gradient from zero
        root._grad += seed
        for node in reversed(order):
            parents = node._prev
            # The step node._backward() takes, for every arity; spelled out for one and two
            # parents, which is every built-in op but the n-ary +, to skip an argument list per node.
            if len(parents) == 2:
                a, b = parents
                g = node._grad
                da, db = node._op.derivative(a._data, b._data, node._data)
                a._grad += da * g
                b._grad += db * g
            elif len(parents) == 1:
                (a,) = parents
                (da,) = node._op.derivative(a._data, node._data)
                a._grad += da * node._grad
            elif parents:
                g = node._grad
                for parent, local in zip(parents, local_grads(node)):
                    parent._grad += local * g
        with deferred_interrupts():  # leaves add what earlier passes gave them, all or none
            for leaf, g in leaves:
                if g is not None:  # None is PyTorch's "no gradient yet" (``p.grad = None``): zero
                    leaf._grad = g + leaf._grad
    except BaseException as error:
        with deferred_interrupts():  # every gradient back as it was
            for n in order:
                n._grad = 0.0
            for n, g in leaves:
                n._grad = g
            for n, g in interior:
                n._grad = g
        if not isinstance(error, Exception) or not node._prev:
            raise  # Ctrl-C and the like, unchanged
        clearer = _backward_error(node, error)
        if clearer is error:
            raise
        try:
            raise clearer from error
        finally:  # the frame must not hold its own exception: that cycle would keep the graph alive
            clearer = order = leaves = interior = node = None


def _seed(grad):
    if grad is None:
        return 1.0
    if isinstance(grad, (bool, Value)) or not isinstance(grad, numbers.Real):
        raise TypeError(
            "backward(grad): the seed is d(root)/d(root), a number (1.0 by default; None means the same), "
            f"got {type(grad).__name__}: {_short_repr(grad)}"
        )
    seed = _real(grad, "backward(grad)'s seed")
    if not math.isfinite(seed):
        raise ValueError(f"backward(grad): the seed must be a finite number, got {seed!r}")
    return seed


def _backward_error(node, error):
    """A clearer exception for ``error``, raised while applying ``node``'s rule, or ``error`` itself."""
    try:
        rule = derivative_of(node)
    except UnknownOperationError as unknown:
        return unknown
    inputs = ", ".join(repr(p._data) for p in node._prev)
    try:
        locals_ = rule(*[p._data for p in node._prev], node._data)
    except DerivativeError as wrong:  # already says what was wrong
        return wrong
    except (ArithmeticError, ValueError) as failure:
        if node._op.builtin:
            return type(failure)(
                f"the derivative of {node._op}({inputs}) is not finite here ({failure}); "
                "move the input away from this point (e.g. add a small epsilon)"
            )
        return type(failure)(f"the derivative of {node._op}({inputs}) failed: {failure}")
    except Exception as failure:
        return _retyped(failure, f"the derivative of {node._op}({inputs}) raised {type(failure).__name__}: {failure}")
    try:
        locals_ = _check_locals(node, locals_)
    except TypeError as wrong_shape:
        return wrong_shape
    for i, local in enumerate(locals_):
        if isinstance(local, bool) or not isinstance(local, (numbers.Real, Value)):
            return TypeError(
                f"the derivative of {node._op}({inputs}) returned {_short_repr(local)} "
                f"({type(local).__name__}) for input {i}; each local derivative must be a number"
            )
    return error


def _retyped(error, message):
    try:
        return type(error)(message)
    except Exception:
        return RuntimeError(message)


def _check_differentiable(node, locals_):
    """A learner's derivative evaluated on Values for higher-order gradients must keep its
    dependence on the inputs: a plain number that changes with the input means it went through
    floats (``math.cos(x)``), and every higher derivative would silently be zero."""
    op, inputs = node._op, [p._data for p in node._prev]
    for i, local in enumerate(locals_):
        if isinstance(local, Value) or op.forward is None:
            continue
        for j, x in enumerate(inputs):
            step = 1e-4 * max(1.0, abs(x))
            moved = inputs[:j] + [x + step] + inputs[j + 1 :]
            try:
                again = float(op.derivative(*moved, _real(op.forward(*moved), "a result"))[i])
            except Exception:
                continue
            if abs(again - float(local)) > 1e-9 * max(1.0, abs(again)):
                raise TypeError(
                    f"the derivative of {op} gives a plain number for input {i} although it changes with input {j}: "
                    "it went through floats (a math function, float() or .data), so higher-order gradients "
                    "(create_graph=True, hessian) would be wrong; write it with arithmetic and autograd.functions "
                    "(exp, log, sqrt, tanh, sigmoid, relu, sin, cos), which take floats and Values alike"
                )


def zero_grad(root):
    """Set ``.grad`` to 0.0 on every node of ``root``'s graph (leaves included)."""
    for node in topological_order(root):
        node._grad = 0.0


def gradients(root, wrt, create_graph=False):
    """d(root)/d(w) for each ``w`` in ``wrt``, without touching any ``.grad``.

    With ``create_graph=True`` the gradients are `Value`s whose own graphs lead back to the inputs,
    so they can be differentiated again (second derivatives, Hessians, Newton's method). The local
    derivatives come from the same formulas ``backward()`` uses, evaluated on `Value`s instead of
    floats.
    """
    _root(root, "gradients")
    if isinstance(wrt, Value):
        raise TypeError("gradients(root, wrt): wrt is a list of Values, e.g. [x] for one")
    wrt = list(wrt)
    for i, w in enumerate(wrt):
        if not isinstance(w, Value):
            raise TypeError(f"gradients(root, wrt): wrt[{i}] must be a Value, got {type(w).__name__}: {_short_repr(w)}")
    grads = {root: Value(1.0) if create_graph else 1.0}
    for node in reversed(topological_order(root)):
        g = grads.get(node)
        if g is None or not node._prev:
            continue
        try:
            if create_graph:
                locals_ = derivative_of(node)(*node._prev, node)
                if type(locals_) is not tuple or len(locals_) != len(node._prev):
                    locals_ = _check_locals(node, locals_)
                if not node._op.builtin:
                    _check_differentiable(node, locals_)
            else:
                locals_ = local_grads(node)
        except Exception as error:  # the same words backward() would use
            clearer = _backward_error(node, error)
            if clearer is error:
                raise
            try:
                raise clearer from error
            finally:
                clearer = grads = None
        for parent, local in zip(node._prev, locals_):
            if isinstance(parent, Constant):
                continue
            contribution = local * g
            previous = grads.get(parent)
            grads[parent] = contribution if previous is None else previous + contribution
    return [grads[w] if w in grads else (Constant(0.0) if create_graph else 0.0) for w in wrt]
