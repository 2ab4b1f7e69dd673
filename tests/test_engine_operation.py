"""Defining an operation by its formula and its derivative: it works everywhere a built-in op does."""

import copy
import gc
import math
import pickle
import random
import weakref

import pytest

from autograd import (
    DerivativeError,
    GradcheckError,
    Operation,
    UnknownOperationError,
    Value,
    backward_steps,
    draw_dot,
    gradcheck,
    gradients,
    no_grad,
    operation,
    scope,
)
from autograd import functions as F
from autograd.operation import OPERATIONS
from autograd.value import Constant


@operation(derivative=lambda x, out: (1.0 - out * out,))  # d tanh(x)/dx, one entry per input
def my_tanh(x):
    return math.tanh(x)


@operation(derivative=lambda a, b, out: (b, a))
def times(a, b):
    return a * b


# softplus(x) = log(1 + e^x); its derivative sigmoid(x) written with functions that take Values too
@operation(derivative=lambda x, out: (1.0 / (1.0 + F.exp(-x)),))
def softplus(x):
    return math.log1p(math.exp(x))


def test_the_example_from_the_docs_runs_as_written():
    x = Value(0.5, label="x")
    y = times(my_tanh(x), 3.0)
    y.backward()
    assert x.grad == pytest.approx(3.0 * (1.0 - math.tanh(0.5) ** 2), rel=1e-15)
    assert gradcheck(lambda v: my_tanh(v), 0.5)
    assert y._op == "times" and y._prev[0]._op == "my_tanh"
    assert isinstance(y._op, Operation) and isinstance(y._op, str)
    assert my_tanh.operation is y._prev[0]._op and my_tanh.__name__ == "my_tanh"


def test_a_defined_op_matches_the_built_in_it_imitates_exactly():
    for x0 in (-3.0, -0.2, 0.0, 0.7, 4.0):
        a, b = Value(x0), Value(x0)
        (my_tanh(a) * 2.0).backward()
        (b.tanh() * 2.0).backward()
        assert (a.grad, my_tanh(a).data) == (b.grad, b.tanh().data)


def test_numbers_on_either_side_become_constants():
    a = Value(2.0)
    y = times(3.0, a)
    assert isinstance(y._prev[0], Constant) and y._prev[1] is a and y.data == 6.0
    y.backward()
    assert a.grad == 3.0


def test_by_hand_backward_gradients_and_second_derivatives():
    x = Value(0.3)
    y = softplus(x)
    y.grad = 1.0
    y._backward()
    sigmoid = 1.0 / (1.0 + math.exp(-0.3))
    assert x.grad == pytest.approx(sigmoid, rel=1e-15)
    (first,) = gradients(y, [x])
    assert first == pytest.approx(sigmoid, rel=1e-15)
    (dy,) = gradients(y, [x], create_graph=True)
    (d2y,) = gradients(dy, [x])
    assert d2y == pytest.approx(sigmoid * (1.0 - sigmoid), rel=1e-12)


def test_views_name_the_op_and_step_through_it():
    x = Value(0.5, label="x")
    y = times(my_tanh(x), 3.0)
    y.label = "y"
    assert "my_tanh" in draw_dot(y).source and "times" in draw_dot(y).source
    steps = backward_steps(y)
    text = str(steps)
    assert "my_tanh(x)" in text and "times(" in text
    y.backward()
    assert steps.grads()[x] == x.grad


def test_no_grad_and_scopes_apply_to_defined_ops():
    x = Value(1.0)
    with no_grad():
        y = my_tanh(x)
    assert y._prev == () and y._op == ""
    with scope("block"):
        z = my_tanh(x)
    assert z._scope == ("block",)


def test_gradcheck_names_the_op_whose_derivative_is_wrong():
    @operation(derivative=lambda x, out: (1.0 - out,))  # forgot the square
    def bad_tanh(x):
        return math.tanh(x)

    with pytest.raises(GradcheckError, match=r"the derivative of bad_tanh looks wrong.*bad_tanh\(0\.5\)"):
        gradcheck(lambda v: bad_tanh(v) * 2.0 + v.exp(), 0.5)
    assert gradcheck(lambda v: bad_tanh(v), 0.5, raise_exception=False) is False


@pytest.mark.parametrize(
    "derivative, words",
    [
        (lambda x, out: 1.0 - out * out, "must return a tuple"),
        (lambda x, out: (1.0, 2.0), "returned 2 local derivatives for 1 input"),
        (lambda x, out: ("one",), "returned 'one'"),
        (lambda x, out: (1.0 / 0.0,), "ZeroDivisionError|division by zero"),
    ],
)
def test_a_broken_derivative_is_named_and_loses_no_gradient(derivative, words):
    op = operation(derivative=derivative, name="broken")(lambda x: x * 2.0)
    w = Value(1.5)
    (w * 3.0).backward()
    y = op(w) + w
    with pytest.raises((TypeError, ArithmeticError), match=words):
        y.backward()
    assert w.grad == 3.0


def test_defining_an_op_checks_its_derivative_and_its_name():
    with pytest.raises(TypeError, match=r"derivative must take 2 arguments.*lambda x, out"):
        operation(derivative=lambda x: (1.0,), name="f")(lambda x: x)
    with pytest.raises(TypeError, match="3 arguments"):

        @operation(derivative=lambda a, out: (1.0,))
        def two(a, b):
            return a + b

    with pytest.raises(TypeError, match="needs a function"):
        operation(derivative=1.0)
    with pytest.raises(ValueError, match="needs a name"):
        operation(derivative=lambda x, out: (1.0,))(lambda x: x)
    with pytest.raises(TypeError, match=r"my_tanh\(\) takes 1 input, got 2"):
        my_tanh(1.0, 2.0)


def test_errors_of_the_formula_name_the_op_and_the_input():
    @operation(derivative=lambda x, out: (0.5 / out,))
    def root(x):
        return math.sqrt(x)

    with pytest.raises(ValueError, match=r"root\(-4\.0\) failed: math domain error"):
        root(-4.0)
    weird = operation(derivative=lambda x, out: (1.0,), name="weird")(lambda x: "no")
    with pytest.raises(TypeError, match=r"result of weird\(1\.0\)"):
        weird(1.0)
    with pytest.raises(TypeError, match="an input of my_tanh"):
        my_tanh("1")


def test_a_learner_op_named_like_a_built_in_leaves_the_built_in_alone():
    @operation(derivative=lambda x, out: (0.0,))  # wrong on purpose
    def tanh(x):
        return math.tanh(x)

    assert OPERATIONS["tanh"].builtin
    a = Value(0.3)
    a.tanh().backward()
    assert a.grad == pytest.approx(1.0 - math.tanh(0.3) ** 2)
    b = Value(0.3)
    tanh(b).backward()
    assert b.grad == 0.0


def test_redefining_an_op_replaces_it_for_new_nodes_only():
    first = operation(derivative=lambda x, out: (1.0,), name="scaled")(lambda x: x)
    old = first(Value(1.0))
    second = operation(derivative=lambda x, out: (2.0,), name="scaled")(lambda x: 2.0 * x)
    assert OPERATIONS["scaled"] is second.operation
    assert gradients(old, old._prev) == [1.0]


def test_an_op_of_any_number_of_inputs():
    @operation(derivative=lambda *xs_and_out: tuple(2.0 * x for x in xs_and_out[:-1]))
    def sum_of_squares(*xs):
        return sum(x * x for x in xs)

    xs = [Value(v) for v in (1.0, -2.0, 3.0)]
    y = sum_of_squares(*xs)
    y.backward()
    assert y.data == 14.0 and [x.grad for x in xs] == [2.0, -4.0, 6.0]


def test_every_built_in_formula_matches_its_value_method():
    rng = random.Random(0)
    methods = {
        "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b,
        "**": lambda a, b: a**b, "neg": lambda a: -a, "exp": Value.exp, "log": Value.log, "sqrt": Value.sqrt,
        "tanh": Value.tanh, "sigmoid": Value.sigmoid, "relu": Value.relu, "leaky_relu": Value.leaky_relu,
        "abs": abs, "sin": Value.sin, "cos": Value.cos,
    }
    builtins = {name: op for name, op in OPERATIONS.items() if op.builtin}
    assert set(builtins) == set(methods)
    for name, op in builtins.items():
        for _ in range(50):
            xs = [rng.uniform(0.1, 3.0) * rng.choice((1, -1) if name not in ("log", "sqrt", "**") else (1,))
                  for _ in range(op.arity or 2)]
            node = methods[name](*map(Value, xs))
            assert node._op is op
            assert node.data == op.forward(*xs)


def test_copies_and_pickles_of_a_graph_keep_the_operations():
    x = Value(0.5)
    y = (x * 2.0).tanh() + my_tanh(x)
    for clone in (copy.deepcopy(y), pickle.loads(pickle.dumps(y))):
        assert clone._prev[0]._op is y._prev[0]._op  # the built-in tanh itself
        assert clone._prev[1]._op == "my_tanh"
        clone.backward()
        leaves = [n for n in (clone._prev[1]._prev[0],)]
        assert leaves[0].grad == pytest.approx(2 * (1 - math.tanh(1.0) ** 2) + 1 - math.tanh(0.5) ** 2)


def test_a_graph_of_defined_ops_is_freed_without_the_cyclic_collector():
    gc.disable()
    try:
        x = Value(0.5)
        y = times(my_tanh(x), 3.0)
        y.backward()
        ref = weakref.ref(y)
        del y
        assert ref() is None
    finally:
        gc.enable()


def test_unknown_op_names_in_the_lecture_constructor_say_how_to_define_them():
    a, b = Value(2.0), Value(3.0)
    (a * 1.0).backward()
    node = Value(6.0, (a, b), "mystery")
    with pytest.raises(UnknownOperationError, match=r"'mystery'.*@autograd\.operation"):
        (node * 2.0).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)
    with pytest.raises(UnknownOperationError, match="no operation"):
        Value(6.0, (a, b)).backward()
