"""Checks for a learner's code: `check_function` and `check_gradient` say right, wrong or unanswered,
catch the classic slips, and never raise because of the learner's code."""

import math

import pytest

from autograd import Parameter, Value, gradients
from autograd.teach import Result, check_function, check_gradient


def neuron(w, b, x):
    """The reference: tanh(w · x + b)."""
    total = b
    for wi, xi in zip(w, x):
        total = total + wi * xi
    return total.tanh()


CASES = [
    ([Value(0.5, label="w0"), Value(-1.0, label="w1")], Value(0.1, label="b"), [2.0, 3.0]),
    ([Value(-0.3), Value(0.8)], Value(-0.2), [1.0, -1.5]),
]


def test_a_right_function_passes_with_its_gradients():
    def mine(w, b, x):
        return (sum((wi * xi for wi, xi in zip(w, x)), b)).tanh()

    result = check_function(mine, neuron, CASES)
    assert result.status == "right" and "gradients" in str(result) and "2 inputs" in str(result)


def test_a_wrong_value_is_caught_without_revealing_it():
    def no_bias(w, b, x):
        return sum((wi * xi for wi, xi in zip(w, x)), Value(0.0)).tanh()

    result = check_function(no_bias, neuron, CASES, hint="add the bias")
    assert result.status == "wrong" and "too" in str(result) and "Hint: add the bias" in str(result)
    expected = neuron(*CASES[0]).data
    assert f"{expected:.6g}" not in str(result)
    assert f"{expected:.6g}" in str(check_function(no_bias, neuron, CASES, reveal=True))


def test_a_value_that_left_the_graph_is_caught_by_its_gradient():
    def through_floats(w, b, x):
        total = b
        for wi, xi in zip(w, x):
            total = total + Value(wi.data * xi)  # the right number, but w is no longer in the graph
        return total.tanh()

    result = check_function(through_floats, neuron, CASES)
    assert result.status == "wrong"
    assert "gradient of w0" in str(result) and ".data" in str(result)


def test_plain_numbers_where_values_are_expected():
    result = check_function(lambda w, b, x: neuron(w, b, x).data, neuron, CASES)
    assert result.status == "wrong" and "plain numbers" in str(result)


def test_an_unwritten_body_is_unanswered():
    def skeleton(w, b, x):
        ...

    result = check_function(skeleton, neuron, CASES)
    assert result.status == "unanswered" and "`skeleton` returns None" in str(result)
    assert check_function(..., neuron, CASES).status == "unanswered"


def test_some_paths_returning_none_is_wrong():
    def half(w, b, x):
        if x[0] > 1.5:
            return neuron(w, b, x)

    assert "every path" in str(check_function(half, neuron, CASES))


@pytest.mark.parametrize(
    "bad",
    [
        lambda w, b, x: 1 / 0,
        lambda w, b, x: "tanh",
        lambda w, b, x: [neuron(w, b, x)],
        lambda w, b, x: object(),
        lambda *args: (_ for _ in ()).throw(RecursionError("deep")),
        42,
    ],
)
def test_the_learners_code_never_makes_the_check_raise(bad):
    result = check_function(bad, neuron, CASES)
    assert isinstance(result, Result) and result.status == "wrong"
    assert str(result).startswith("✗")


def test_each_call_gets_fresh_inputs_and_updates_are_compared():
    def momentum(p, v, lr, beta):  # the reference update: returns the new velocity, moves p
        v = beta * v + p.grad
        p.data -= lr * v
        return v

    def forgets_the_step(p, v, lr, beta):
        return beta * v + p.grad

    def with_grad(data, grad):
        p = Parameter(data, label="p")
        p.grad = grad
        return p

    cases = [(with_grad(1.0, 0.5), 0.2, 0.1, 0.9), (with_grad(-2.0, 1.5), -0.4, 0.1, 0.9)]
    assert check_function(momentum, momentum, cases).status == "right"  # the copies keep .grad
    result = check_function(forgets_the_step, momentum, cases)
    assert result.status == "wrong" and "afterwards p holds" in str(result)
    assert (cases[0][0].data, cases[0][0].grad) == (1.0, 0.5)  # the caller's inputs are never touched


def test_list_outputs_are_compared_with_their_gradients():
    def softmax(zs):
        exps = [z.exp() for z in zs]
        total = sum(exps, Value(0.0))
        return [e / total for e in exps]

    def detached_total(zs):
        exps = [z.exp() for z in zs]
        total = sum(e.data for e in exps)  # the right numbers, but the normalisation has no gradient
        return [e / total for e in exps]

    cases = [([Value(1.0), Value(2.0), Value(-0.5)],)]
    assert check_function(softmax, softmax, cases)
    result = check_function(detached_total, softmax, cases)
    assert result.status == "wrong" and "gradient" in str(result)


def my_softplus_value(x):
    return (1 + x.exp()).log()


def test_check_gradient_passes_a_right_derivative():
    assert check_gradient(my_softplus_value, [-2.0, 0.3, 1.7]).status == "right"
    assert check_gradient(lambda x, y: x * y.exp(), [(0.5, -1.0), (2.0, 0.3)]).status == "right"


def test_check_gradient_reports_the_ratio_of_a_wrong_derivative():
    def detached(x):  # value right, derivative wrong: the exp factor is a constant to backprop
        return x * math.exp(x.data)

    result = check_gradient(detached, [0.5, 1.0])
    assert result.status == "wrong"
    assert "central differences" in str(result) and "ratio" in str(result)


def test_check_gradient_never_raises_because_of_the_function():
    assert check_gradient(lambda x: 1 / 0, [0.5]).status == "wrong"
    assert check_gradient(lambda x: 3.0, [0.5]).status == "wrong"
    assert check_gradient("tanh", [0.5]).status == "wrong"
    assert check_gradient(..., [0.5]).status == "unanswered"


def test_check_gradient_on_an_operation_with_an_unwritten_derivative():
    operation = pytest.importorskip("autograd").__dict__.get("operation")
    if operation is None:
        pytest.skip("autograd.operation is not available")

    def skeleton(x, out):
        ...

    @operation(derivative=skeleton)
    def softplus(x):
        return math.log1p(math.exp(x))

    assert check_gradient(softplus, [0.3]).status == "unanswered"

    @operation(derivative=lambda x, out: (1 / (1 + math.exp(-x)),))
    def softplus_right(x):
        return math.log1p(math.exp(x))

    @operation(derivative=lambda x, out: (1 / (1 + math.exp(x)),))
    def softplus_wrong(x):
        return math.log1p(math.exp(x))

    assert check_gradient(softplus_right, [-1.0, 0.3, 2.0]).status == "right"
    assert check_gradient(softplus_wrong, [-1.0, 0.3, 2.0]).status == "wrong"


def test_gradients_of_the_reference_are_what_the_engine_says():
    # the check compares against the engine, so the reference itself is checked once here
    w = [Value(0.5), Value(-1.0)]
    b = Value(0.1)
    out = neuron(w, b, [2.0, 3.0])
    g = gradients(out, w + [b])
    slope = 1 - out.data**2
    assert g == pytest.approx([slope * 2.0, slope * 3.0, slope])
