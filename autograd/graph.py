"""Walking a graph: topological order, the backward pass, and gradients as graphs.

Nothing here recurses, so a chain of a million nodes is as easy as a chain of ten.
"""

from .value import LOCAL, Constant, Value, local_grads


def topological_order(root):
    """Every node ``root`` depends on, each after all of its parents, ending with ``root``.

    Depth-first over parents in their recorded order, with an explicit stack, so the order is the
    same on every run and any depth works.
    """
    return _walk(root)


def _walk(root, reset=None):
    # The one implementation of the order. backward() passes a list as ``reset``: interior
    # gradients are zeroed on the way, and each leaf's earlier gradient is moved into the list as
    # (leaf, gradient), so the pass sums every gradient from zero. That saves a second pass over a
    # graph that may be too big for the CPU caches.
    order = []
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
                if reset is not None and parent.grad != 0.0:  # None too: see backward()
                    reset.append((parent, parent.grad))
                    parent.grad = 0.0
                order.append(parent)  # a leaf has no parents to wait for: place it now
        else:
            stack.pop()
            if reset is not None:
                if node._prev:
                    node.grad = 0.0
                elif node.grad != 0.0:  # a leaf root
                    reset.append((node, node.grad))
                    node.grad = 0.0
            order.append(node)
    return order


def backward(root, grad=1.0):
    """Apply the chain rule from ``root`` back to the leaves, filling ``.grad`` of every node.

    Interior gradients are recomputed from zero; leaf gradients accumulate across calls (as in
    PyTorch): the pass sums each leaf's gradient from zero, then adds it to the earlier one, so a
    second call doubles it exactly. A leaf whose ``.grad`` is None (PyTorch's "no gradient yet")
    starts from zero. ``grad`` seeds ``root``: d(root)/d(root) = 1.0 by default.
    """
    earlier = []
    order = _walk(root, earlier)  # topological_order(root); every gradient starts from zero
    root.grad += float(grad)
    node = root
    try:
        for node in reversed(order):
            parents = node._prev
            # The same step for every arity; spelled out for one and two parents, which is every
            # built-in op, to skip building an argument list per node.
            if len(parents) == 2:
                a, b = parents
                g = node.grad
                da, db = LOCAL[node._op](a.data, b.data, node.data)
                a.grad += da * g
                b.grad += db * g
            elif len(parents) == 1:
                (a,) = parents
                (da,) = LOCAL[node._op](a.data, node.data)
                a.grad += da * node.grad
            elif parents:
                g = node.grad
                for parent, local in zip(parents, local_grads(node)):
                    parent.grad += local * g
    except (ArithmeticError, ValueError) as error:
        for leaf in order:  # a failed pass leaves every leaf gradient as it was
            if not leaf._prev:
                leaf.grad = 0.0
        for leaf, g in earlier:
            leaf.grad = g
        raise _backward_error(node, error) from error
    for leaf, g in earlier:
        if g is not None:  # None is PyTorch's "no gradient yet" (``p.grad = None``): zero
            leaf.grad = g + leaf.grad


def _backward_error(node, error):
    inputs = ", ".join(repr(p.data) for p in node._prev)
    return type(error)(
        f"the derivative of {node._op}({inputs}) is not finite here ({error}); "
        "move the input away from this point (e.g. add a small epsilon)"
    )


def zero_grad(root):
    """Set ``.grad`` to 0.0 on every node of ``root``'s graph (leaves included)."""
    for node in topological_order(root):
        node.grad = 0.0


def gradients(root, wrt, create_graph=False):
    """d(root)/d(w) for each ``w`` in ``wrt``, without touching any ``.grad``.

    With ``create_graph=True`` the gradients are `Value`s whose own graphs lead back to the inputs,
    so they can be differentiated again (second derivatives, Hessians, Newton's method). The local
    derivatives come from the same formulas ``backward()`` uses, evaluated on `Value`s instead of
    floats.
    """
    wrt = list(wrt)
    grads = {root: Value(1.0) if create_graph else 1.0}
    for node in reversed(topological_order(root)):
        g = grads.get(node)
        if g is None or not node._prev:
            continue
        if create_graph:
            locals_ = LOCAL[node._op](*node._prev, node)
        else:
            locals_ = local_grads(node)
        for parent, local in zip(node._prev, locals_):
            if isinstance(parent, Constant):
                continue
            contribution = local * g
            previous = grads.get(parent)
            grads[parent] = contribution if previous is None else previous + contribution
    return [grads[w] if w in grads else (Constant(0.0) if create_graph else 0.0) for w in wrt]

