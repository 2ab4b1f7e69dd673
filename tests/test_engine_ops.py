"""Every operation's value and gradient: against math, central differences, and extreme inputs."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, gradcheck, grad

finite = st.floats(min_value=-50.0, max_value=50.0, allow_nan=False)
positive = st.floats(min_value=0.05, max_value=50.0)  # shifted away from the singularity at 0
nonzero = finite.filter(lambda x: abs(x) > 0.05)
away_from_kink = finite.filter(lambda x: abs(x) > 1e-3)

UNARY = {
    # name: (forward on a Value, the same on floats, input strategy)
    "exp": (lambda v: v.exp(), math.exp, st.floats(-30.0, 30.0)),
    "log": (lambda v: v.log(), math.log, positive),
    "sqrt": (lambda v: v.sqrt(), math.sqrt, positive),
    "tanh": (lambda v: v.tanh(), math.tanh, st.floats(-5.0, 5.0)),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: 1.0 / (1.0 + math.exp(-x)), st.floats(-20.0, 20.0)),
    "relu": (lambda v: v.relu(), lambda x: max(x, 0.0), away_from_kink),
    "leaky_relu": (lambda v: v.leaky_relu(0.1), lambda x: x if x > 0 else 0.1 * x, away_from_kink),
    "abs": (lambda v: abs(v), abs, away_from_kink),
    "sin": (lambda v: v.sin(), math.sin, finite),
    "cos": (lambda v: v.cos(), math.cos, finite),
    "neg": (lambda v: -v, lambda x: -x, finite),
}

BINARY = {
    "+": (lambda a, b: a + b, finite, finite),
    "-": (lambda a, b: a - b, finite, finite),
    "*": (lambda a, b: a * b, finite, finite),
    "/": (lambda a, b: a / b, finite, nonzero),
    "**": (lambda a, b: a**b, st.floats(0.1, 5.0), st.floats(-3.0, 3.0)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_and_gradient(name):
    op, reference, inputs = UNARY[name]

    @given(inputs)
    def check(x):
        out = op(Value(x))
        assert out.data == pytest.approx(reference(x), rel=1e-12, abs=1e-300)
        assert isinstance(out.data, float)
        assert gradcheck(op, x)

    check()


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradient_with_values_and_numbers_on_either_side(name):
    op, left, right = BINARY[name]

    @given(left, right)
    def check(a, b):
        assert gradcheck(op, a, b)
        # a plain number on either side: the gradient flows only to the Value
        assert gradcheck(lambda x: op(x, b), a)
        assert gradcheck(lambda y: op(a, y), b)
        assert op(Value(a), b).data == op(a, Value(b)).data == op(a, b)

    check()


def test_integer_powers_of_negative_bases():
    assert gradcheck(lambda x: x**3, -2.0)
    assert gradcheck(lambda x: x**-2, -1.5)
    assert grad(lambda x: x**2)(-3.0) == -6.0


def test_value_exponent_and_number_base():
    # d(2**v)/dv = 2**v * ln 2
    assert grad(lambda v: 2**v)(3.0) == pytest.approx(8.0 * math.log(2.0), rel=1e-15)
    assert gradcheck(lambda v, w: v**w, 1.7, 2.3)


def test_subtraction_and_division_are_their_own_operations():
    a, b = Value(6.0), Value(3.0)
    assert (a - b)._op == "-" and (a - b)._prev == (a, b)
    assert (a / b)._op == "/" and (a / b)._prev == (a, b)
    assert (2 - a).data == -4.0 and (2 / b).data == 2.0 / 3.0


@pytest.mark.parametrize("x", [1e308, -1e308, 1000.0, -1000.0, 40.0, -40.0, 710.0, -745.0, 0.0])
def test_tanh_and_sigmoid_are_stable_for_any_finite_input(x):
    for fn in (Value.tanh, Value.sigmoid):
        v = Value(x)
        out = fn(v)
        out.backward()
        assert math.isfinite(out.data) and math.isfinite(v.grad)
        assert 0.0 <= v.grad <= 1.0
    assert Value(x).tanh().data == math.tanh(x)


def test_sigmoid_gradient_keeps_precision_where_sigmoid_rounds_to_one():
    # σ'(40) = e^-40 / (1 + e^-40)^2 ≈ 4.25e-18; σ(1-σ) would give exactly 0.0.
    assert grad(Value.sigmoid)(40.0) == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert grad(Value.sigmoid)(-40.0) == pytest.approx(math.exp(-40.0), rel=1e-12)
    assert grad(Value.sigmoid)(0.0) == 0.25


def test_gradients_at_extreme_but_valid_inputs():
    assert grad(Value.exp)(709.0) == pytest.approx(math.exp(709.0), rel=1e-15)
    assert grad(Value.log)(1e-300) == pytest.approx(1e300, rel=1e-15)
    assert grad(Value.sqrt)(1e300) == pytest.approx(0.5e-150, rel=1e-15)
    assert grad(lambda x: x * 1e-300)(1e300) == 1e-300
    assert grad(Value.relu)(-1e308) == 0.0 and grad(Value.relu)(1e308) == 1.0
    assert grad(abs)(-1e308) == -1.0


def test_kinks_use_the_conventional_subgradient():
    assert grad(Value.relu)(0.0) == 0.0
    assert grad(abs)(0.0) == 0.0
    assert grad(lambda x: x.leaky_relu(0.2))(0.0) == 0.2
    assert grad(lambda x: x.leaky_relu(0.2))(-3.0) == 0.2


def test_int_inputs_give_float_data_and_grads():
    a = Value(3)
    b = a * 2 + 1
    b.backward()
    for v in (a, b):
        assert type(v.data) is float and type(v.grad) is float
    assert type((Value(2) ** 2).data) is float


@given(st.lists(st.floats(-3.0, 3.0), min_size=1, max_size=8))
def test_sum_is_one_node_with_the_value_of_the_chain(xs):
    from autograd import gradients

    leaves = [Value(x) for x in xs]
    total = Value.sum([2.0, *leaves])
    chain = Value(2.0)
    for v in leaves:
        chain = chain + v
    assert total.data == chain.data  # added left to right, the same rounding as the chain
    assert total._op == "+" and total._prev[1:] == tuple(leaves)
    assert gradients(total, leaves) == [1.0] * len(leaves)
    assert gradcheck(lambda *vs: Value.sum([v * v for v in vs]), *xs)


def test_sum_has_higher_derivatives_and_rejects_nothing_to_add():
    from autograd import hessian

    assert hessian(lambda x, y: Value.sum([x * x, x * y, y]))(1.0, 2.0) == [[2.0, 1.0], [1.0, 0.0]]
    with pytest.raises(ValueError, match="at least one term"):
        Value.sum([])
    with pytest.raises(TypeError, match="str"):
        Value.sum([Value(1.0), "2"])
