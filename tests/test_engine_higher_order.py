"""Gradients as graphs: second derivatives, Hessians, Newton's method; grad, numerical_grad, gradcheck."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import GradcheckError, Value, gradcheck, gradients, grad, hessian, numerical_grad
from autograd import value as value_module


def test_first_and_second_derivative_of_x_cubed():
    x = Value(2.0)
    (first,) = gradients(x**3, [x], create_graph=True)
    assert isinstance(first, Value) and first.data == 12.0
    (second,) = gradients(first, [x], create_graph=True)
    assert second.data == 12.0
    (third,) = gradients(second, [x])
    assert third == 6.0
    assert x.grad == 0.0  # .grad is untouched by gradients()


def test_gradients_of_a_negative_base_with_constant_exponent():
    x = Value(-2.0)
    (first,) = gradients(x**3, [x], create_graph=True)
    (second,) = gradients(first, [x])
    assert (first.data, second) == (12.0, -12.0)


def test_gradients_with_respect_to_something_unused_is_zero():
    x, y = Value(1.0), Value(2.0)
    assert gradients(x * 3, [x, y]) == [3.0, 0.0]


UNARY_SECOND = {
    "exp": (lambda v: v.exp(), math.exp, 0.7),
    "log": (lambda v: v.log(), lambda x: -1 / x**2, 1.3),
    "sqrt": (lambda v: v.sqrt(), lambda x: -0.25 * x**-1.5, 2.0),
    "tanh": (lambda v: v.tanh(), lambda x: -2 * math.tanh(x) * (1 - math.tanh(x) ** 2), 0.4),
    "sigmoid": (lambda v: v.sigmoid(), lambda x: (s := 1 / (1 + math.exp(-x))) * (1 - s) * (1 - 2 * s), 0.3),
    "sin": (lambda v: v.sin(), lambda x: -math.sin(x), 0.9),
    "cos": (lambda v: v.cos(), lambda x: -math.cos(x), 0.9),
    "div": (lambda v: 1 / v, lambda x: 2 / x**3, 1.5),
    "pow": (lambda v: v**2.5, lambda x: 2.5 * 1.5 * x**0.5, 1.2),
    "rpow": (lambda v: 3**v, lambda x: 3**x * math.log(3) ** 2, 0.8),
}


@pytest.mark.parametrize("name", sorted(UNARY_SECOND))
def test_second_derivatives_of_every_smooth_function(name):
    f, second, x0 = UNARY_SECOND[name]
    assert hessian(f)(x0)[0][0] == pytest.approx(second(x0), rel=1e-10)


def test_hessian_of_a_function_of_two_variables():
    def f(x, y):
        return x * x * y + (x * y).sin() + y.exp() / x

    x, y = 0.7, -0.4
    h = hessian(f)(x, y)
    s, c, e = math.sin(x * y), math.cos(x * y), math.exp(y)
    expected = [
        [2 * y - y * y * s + 2 * e / x**3, 2 * x + c - x * y * s - e / x**2],
        [2 * x + c - x * y * s - e / x**2, -x * x * s + e / x],
    ]
    for row, want in zip(h, expected):
        assert row == pytest.approx(want, rel=1e-10)


def test_hessian_matches_pytorch():
    from torch_or_skip import torch_or_skip

    torch = torch_or_skip()

    def f(x, y, z):
        return (x * y).tanh() * z.exp() + (x - z) ** 2 / y.sigmoid() + (y * z).cos()

    point = (0.3, -1.1, 0.6)
    ours = hessian(f)(*point)
    theirs = torch.autograd.functional.hessian(
        lambda t: f(t[0], t[1], t[2]), torch.tensor(point, dtype=torch.float64)
    )
    for i in range(3):
        assert ours[i] == pytest.approx(theirs[i].tolist(), abs=1e-9)


def test_newtons_method_with_second_derivatives():
    # minimise f(x) = x⁴ - 3x² + x: x ← x - f'(x)/f''(x)
    x = 2.0
    for _ in range(20):
        v = Value(x)
        (d1,) = gradients(v**4 - 3 * v**2 + v, [v], create_graph=True)
        (d2,) = gradients(d1, [v])
        x -= d1.data / d2
    assert 4 * x**3 - 6 * x + 1 == pytest.approx(0.0, abs=1e-12)
    assert 12 * x**2 - 6 > 0


def test_grad_of_plain_functions():
    assert grad(lambda x: x * x)(3.0) == 6.0
    assert grad(lambda x, y: x * y)(3.0, 4.0) == (4.0, 3.0)
    assert grad(lambda x: 5.0)(1.0) == 0.0


@given(st.floats(-3, 3), st.floats(0.2, 3))
def test_numerical_grad_is_central_differences(x, y):
    num = numerical_grad(lambda a, b: a * b.log() + a.sin(), x, y)
    assert num == pytest.approx([math.log(y) + math.cos(x), x / y], rel=1e-6, abs=1e-6)


def test_gradcheck_catches_a_wrong_derivative(monkeypatch):
    assert gradcheck(lambda x: x.sin(), 0.5)
    monkeypatch.setattr(value_module.SIN, "derivative", lambda a, out: (math.sin(a),))  # should be cos
    with pytest.raises(GradcheckError, match=r"input 0 \(x = 0.5\)"):
        gradcheck(lambda x: x.sin(), 0.5)
    assert gradcheck(lambda x: x.sin(), 0.5, raise_exception=False) is False
