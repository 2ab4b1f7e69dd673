"""What a learner following the lecture that builds micrograd types, on chainrule's Value."""

import math

import pytest

from autograd import UnknownOperationError, Value
from autograd.value import Constant

from examples import lecture_expression


def neuron():
    """The lecture's neuron o = tanh(x1*w1 + x2*w2 + b), every node labelled, as a dict."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n, o=o)


def test_underscore_backward_is_one_step_of_the_chain_rule():
    a, b = Value(2.0), Value(-3.0)
    o = a * b
    o.grad = 1.0
    o._backward()
    assert (a.grad, b.grad) == (-3.0, 2.0)
    a._backward()  # a leaf: nothing to pass on
    assert (a.grad, b.grad) == (-3.0, 2.0)


def test_the_lectures_by_hand_backward_fills_the_same_gradients_as_backward():
    by_hand = neuron()
    by_hand["o"].grad = 1.0
    for name in ("o", "n", "b", "x1w1x2w2", "x2w2", "x1w1"):
        by_hand[name]._backward()
    auto = neuron()
    auto["o"].backward()
    assert {k: v.grad for k, v in by_hand.items()} == {k: v.grad for k, v in auto.items()}
    assert by_hand["x1"].grad == pytest.approx(-1.5) and by_hand["w2"].grad == 0.0


def test_underscore_backward_adds_so_calling_it_twice_doubles():
    nodes = lecture_expression()
    L, d, f = nodes["L"], nodes["d"], nodes["f"]
    L.grad = 1.0
    L._backward()
    L._backward()
    assert (d.grad, f.grad) == (2 * f.data, 2 * d.data)


def test_underscore_backward_skips_constants_and_treats_none_as_zero():
    x = Value(3.0)
    y = 2.0 * x
    x.grad = None
    y.grad = 1.0
    y._backward()
    assert x.grad == 2.0 and isinstance(y._prev[0], Constant) and y._prev[0].grad == 0.0


@pytest.mark.parametrize(
    "make",
    [
        lambda a, b: Value(6.0, (a, b), "*"),
        lambda a, b: Value(6.0, _children=(a, b), _op="*", label="c"),
        lambda a, b: Value(6.0, (a, b), "*", "c"),
        lambda a, b: Value(6.0, {a, b} if False else [a, b], "*"),
    ],
)
def test_the_lecture_constructor_differentiates_like_the_op_it_names(make):
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = make(a, b)
    assert c._prev == (a, b) and c._op == "*" and c.data == 6.0
    (c * 1.0).backward()
    assert (a.grad, b.grad) == (3.0, 2.0)


def test_the_lecture_constructor_for_every_arity_and_label_positions():
    a = Value(0.5)
    t = Value(math.tanh(0.5), (a,), "tanh", label="t")
    assert t.label == "t"
    t.backward()
    assert a.grad == pytest.approx(1.0 - math.tanh(0.5) ** 2)
    assert Value(2.0, "a").label == "a" and Value(2.0, label="a")._prev == ()
    s = Value(6.0, (Value(1.0), Value(2.0), Value(3.0)), "+")
    s.backward()
    assert [p.grad for p in s._prev] == [1.0, 1.0, 1.0]


def test_the_lecture_constructor_refuses_what_cannot_be_a_node():
    a = Value(1.0)
    with pytest.raises(TypeError, match="takes 2 inputs, but 1 children"):
        Value(1.0, (a,), "*")
    with pytest.raises(TypeError, match="_children must be a tuple"):
        Value(1.0, a, "neg")
    with pytest.raises(TypeError, match="_op must be"):
        Value(1.0, (a,), 3)
    with pytest.raises(TypeError, match="a child"):
        Value(1.0, (a, "b"), "+")


def test_an_unknown_op_fails_in_backward_naming_it_and_loses_nothing():
    a, b = Value(2.0), Value(3.0)
    (a + b).backward()
    c = Value(8.0, (a, b), "**2")
    with pytest.raises(UnknownOperationError, match=r"'\*\*2'.*define it with its derivative"):
        c.backward()
    assert (a.grad, b.grad) == (1.0, 1.0)
    with pytest.raises(UnknownOperationError, match="'\\*\\*2'"):
        c._backward()


def test_the_lectures_loop_on_mlp_runs_and_learns():
    import random

    from nn import MLP

    random.seed(0)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    n = MLP(3, [4, 4, 1], output="tanh", seed=1)
    assert len(n.parameters()) == 41
    losses = []
    for _ in range(20):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -0.1 * p.grad
        losses.append(loss.data)
    assert losses[-1] < losses[0] / 5


def test_same_numbers_as_micrograd_on_random_expressions():
    engine = pytest.importorskip("micrograd.engine", reason="micrograd is not installed (pip install micrograd==0.1.0)")
    import random

    rng = random.Random(3)

    def build(make, plan, xs):
        vals = [make(x) for x in xs]
        for op, i, j, c in plan:
            a, b = vals[i], vals[j]
            vals.append(
                {
                    "+": lambda: a + b, "-": lambda: a - c, "*": lambda: a * b, "/": lambda: a / (abs(c) + 1.0),
                    "rsub": lambda: c - a, "rdiv": lambda: c / (a * a + 1.0), "pow": lambda: (a * a + 0.5) ** 1.5,
                    "relu": lambda: a.relu() + b, "neg": lambda: -a * c, "sq": lambda: a**2,
                }[op]()
            )
        return vals

    ops = ["+", "-", "*", "/", "rsub", "rdiv", "pow", "relu", "neg", "sq"]
    for _ in range(30):
        xs = [rng.uniform(-2, 2) for _ in range(4)]
        plan = []
        for k in range(12):
            plan.append((rng.choice(ops), rng.randrange(4 + k), rng.randrange(4 + k), rng.uniform(-2, 2)))
        ours = build(Value, plan, xs)
        theirs = build(engine.Value, plan, xs)
        ours[-1].backward()
        theirs[-1].backward()
        assert ours[-1].data == pytest.approx(theirs[-1].data, rel=1e-12, abs=1e-12)
        for a, b in zip(ours[:4], theirs[:4]):
            assert a.grad == pytest.approx(b.grad, rel=1e-9, abs=1e-9)
