"""The backward pass: order, accumulation, deep and wide graphs, and memory."""

import gc
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

import examples
from autograd import Value, backward, topological_order, zero_grad


def lecture_expression():
    v = examples.lecture_expression()
    return tuple(v[k] for k in ("a", "b", "c", "f", "e", "d", "L"))


def test_lecture_expression_gradients():
    a, b, c, f, e, d, L = lecture_expression()
    L.backward()
    assert [n.grad for n in (a, b, c, f, e, d, L)] == [6.0, -4.0, -2.0, 4.0, -2.0, -2.0, 1.0]


def test_tanh_neuron_from_the_lecture():
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(0.7071067811865476)
    assert (x1.grad, w1.grad, x2.grad, w2.grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0))


def test_topological_order_puts_parents_first_and_is_deterministic():
    a, b, c, f, e, d, L = lecture_expression()
    order = topological_order(L)
    assert order[-1] is L and len(order) == len(set(order)) == 7
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        assert all(position[p] < position[node] for p in node._prev)
    assert order == [a, b, e, c, d, f, L]


def test_fan_out_accumulates():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0
    x = Value(2.0)
    y = x * x * x  # d/dx x³ = 3x² through a reused node
    y.backward()
    assert x.grad == 12.0


def test_backward_twice_doubles_leaf_gradients_and_recomputes_interior_ones():
    a, b, c, f, e, d, L = lecture_expression()
    L.backward()
    L.backward()
    assert (a.grad, b.grad, c.grad, f.grad) == (12.0, -8.0, -4.0, 8.0)
    assert (e.grad, d.grad, L.grad) == (-2.0, -2.0, 1.0)


@given(st.floats(-2, 2), st.floats(-2, 2))
def test_backward_twice_doubles_exactly_even_with_fan_out(x0, y0):
    x, y = Value(x0), Value(y0)
    z = (x * x * y).tanh() + x * y.sin() + x.exp() * y  # x and y each reach z along several paths
    z.backward()
    once = (x.grad, y.grad)
    z.backward()
    assert (x.grad, y.grad) == (2 * once[0], 2 * once[1])


def test_a_failed_backward_leaves_leaf_gradients_as_they_were():
    x, y = Value(2.0), Value(0.0)
    z = x * 3 + y.sqrt()  # sqrt'(0) is infinite
    x.grad, y.grad = 0.5, 0.25
    with pytest.raises(ZeroDivisionError):
        z.backward()
    assert (x.grad, y.grad) == (0.5, 0.25)


def test_a_leaf_gradient_of_none_counts_as_zero():
    # p.grad = None is how PyTorch code clears a gradient
    a, b, c, f, e, d, L = lecture_expression()
    L.backward()
    fresh = (a.grad, b.grad, c.grad, f.grad)
    a.grad, b.grad = None, None
    L.backward()
    assert (a.grad, b.grad, c.grad, f.grad) == (fresh[0], fresh[1], 2 * fresh[2], 2 * fresh[3])
    assert type(a.grad) is float
    leaf = Value(3.0)
    leaf.grad = None
    leaf.backward()
    assert leaf.grad == 1.0


def test_a_failed_backward_keeps_a_gradient_of_none():
    x, y = Value(2.0), Value(0.0)
    z = x * 3 + y.sqrt()
    x.grad, y.grad = None, 0.25
    with pytest.raises(ZeroDivisionError):
        z.backward()
    assert (x.grad, y.grad) == (None, 0.25)


def test_zero_grad_on_a_graph_and_a_custom_seed():
    a, b, c, f, e, d, L = lecture_expression()
    L.backward()
    L.zero_grad()
    assert all(n.grad == 0.0 for n in (a, b, c, f, e, d, L))
    backward(L, grad=0.5)
    assert a.grad == 3.0
    zero_grad(L)
    assert a.grad == 0.0


def test_backward_of_a_leaf():
    x = Value(4.0)
    x.backward()
    x.backward()
    assert x.grad == 2.0


def test_deep_chain_of_100k_nodes_without_recursion():
    x = Value(0.5)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    assert len(topological_order(y)) == 1 + 4 * 100_000
    y.backward()
    assert x.grad == 1.0


def test_neuron_with_100k_inputs():
    n = 100_000
    xs = [Value(float(i % 7) - 3.0) for i in range(n)]
    ws = [Value(0.001 * (i % 5)) for i in range(n)]
    out = sum((w * x for w, x in zip(ws, xs)), Value(0.0)).tanh()
    out.backward()
    slope = 1.0 - out.data**2
    assert ws[10].grad == pytest.approx(xs[10].data * slope)
    assert xs[10].grad == pytest.approx(ws[10].data * slope)


def test_a_dropped_graph_is_freed_without_the_cyclic_collector():
    gc.disable()
    try:
        x = Value(1.0)
        y = (x * 2).tanh() + x.exp()
        y.backward()
        alive = [weakref.ref(n) for n in topological_order(y) if n is not x]
        del y
        assert all(ref() is None for ref in alive)
    finally:
        gc.enable()


def test_no_node_refers_to_itself():
    x = Value(1.0)
    y = (x * x).sigmoid()
    for node in topological_order(y):
        assert node not in gc.get_referents(node)
