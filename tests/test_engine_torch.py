"""Parity with PyTorch (float64) on composite expressions. Skips, saying why, when torch is missing."""

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value
from torch_or_skip import torch_or_skip

torch = torch_or_skip()
F = torch.nn.functional


def both(fn, *xs):
    """Run ``fn`` on our Values and on float64 tensors; return (ours, theirs) values and grads."""
    ours = [Value(x) for x in xs]
    out = fn(ours, ops=OURS)
    out.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ref = fn(theirs, ops=TORCH)
    ref.backward()
    return (out.data, [v.grad for v in ours]), (ref.item(), [t.grad.item() if t.grad is not None else 0.0 for t in theirs])


OURS = {
    "exp": lambda v: v.exp(),
    "log": lambda v: v.log(),
    "sqrt": lambda v: v.sqrt(),
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "relu": lambda v: v.relu(),
    "leaky": lambda v: v.leaky_relu(0.1),
    "abs": abs,
    "sin": lambda v: v.sin(),
    "cos": lambda v: v.cos(),
}
TORCH = {
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky": lambda t: F.leaky_relu(t, 0.1),
    "abs": torch.abs,
    "sin": torch.sin,
    "cos": torch.cos,
}


def expression(v, ops):
    a, b, c = v
    h = ops["tanh"](a * b + c) * ops["sigmoid"](b - a) / (1 + ops["exp"](c * 0.3))
    h = h + ops["log"](a * a + 1) * ops["sqrt"](b * b + 2) - ops["abs"](c - 1) ** 1.5
    h = h + ops["sin"](a) * ops["cos"](b) + ops["relu"](c) - ops["leaky"](a - 2) + 2 ** (b / 4)
    return h * h + a / (b * b + 0.5) - (3 - c) ** 2


@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(-3, 3))
def test_composite_expression_matches_torch(a, b, c):
    # keep away from the kinks of abs(c - 1), relu(c) and leaky(a - 2)
    if abs(c - 1) < 1e-3 or abs(c) < 1e-6 or abs(a - 2) < 1e-6:
        return
    (ours, our_grads), (theirs, their_grads) = both(expression, a, b, c)
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9)
    assert our_grads == pytest.approx(their_grads, rel=1e-9, abs=1e-9)


def random_graph(leaves, ops, seed=1, size=300):
    """The same seeded sequence of operations on either engine; nodes are reused (fan-out)."""
    rng = random.Random(seed)
    nodes = list(leaves)
    for _ in range(size):
        a, b = rng.choice(nodes), rng.choice(nodes)
        kind = rng.randrange(4)
        if kind == 0:
            nodes.append(a + b)
        elif kind == 1:
            nodes.append(a * b)
        elif kind == 2:
            nodes.append(ops["tanh"](a - b))
        else:
            nodes.append(ops["sigmoid"](a) * 2)
    return sum(nodes[-20:], nodes[0] * 0)


def test_random_graph_with_fan_out_matches_torch():
    xs = [random.Random(7).uniform(-1, 1) for _ in range(6)]
    ours = [Value(x) for x in xs]
    out = random_graph(ours, OURS)
    out.backward()
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    ref = random_graph(theirs, TORCH)
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-9)
    assert [v.grad for v in ours] == pytest.approx([t.grad.item() for t in theirs], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("x", [1e308, -1e308, 700.0, -700.0, 30.0, -30.0])
def test_extreme_inputs_match_torch(x):
    for name in ("tanh", "sigmoid"):
        (ours, our_grads), (theirs, their_grads) = both(lambda v, ops: ops[name](v[0]), x)
        assert ours == pytest.approx(theirs, rel=1e-12)
        assert our_grads[0] == pytest.approx(their_grads[0], rel=1e-9, abs=1e-15)
    # torch's σ(1-σ) rounds where σ is near 1; ours keeps the exact value e^-|x| / (1 + e^-|x|)²
    (_, our_grads), _ = both(lambda v, ops: ops["sigmoid"](v[0]), x)
    e = math.exp(-abs(x))
    assert our_grads[0] == pytest.approx(e / (1 + e) ** 2, rel=1e-12, abs=1e-300)
