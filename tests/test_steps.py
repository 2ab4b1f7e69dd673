"""Steps as data: the backward pass recorded node by node must be the backward pass, exactly."""

import math
import random
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Constant, Value, backward, topological_order
from autograd.views.steps import backward_steps, forward_steps
from examples import lecture_expression
from torch_or_skip import torch_or_skip


classic = lecture_expression  # L = (a*b + c) * f, every node labelled


def neuron():
    """o = tanh(x1*w1 + x2*w2 + b)."""
    v = dict(x1=Value(2.0, "x1"), x2=Value(0.0, "x2"), w1=Value(-3.0, "w1"), w2=Value(1.0, "w2"))
    v["b"] = Value(6.8813735870195432, "b")
    v["x1w1"] = v["x1"] * v["w1"]
    v["x2w2"] = v["x2"] * v["w2"]
    v["s"] = v["x1w1"] + v["x2w2"]
    v["n"] = v["s"] + v["b"]
    v["o"] = v["n"].tanh()
    for name, node in v.items():
        node.label = name
    return v


def mlp(seed=0, sizes=(3, 4, 4, 1)):
    """A small tanh MLP written out with Values, and a squared-error loss over two samples."""
    rng = random.Random(seed)
    layers = [
        [([Value(rng.uniform(-1, 1)) for _ in range(n_in)], Value(rng.uniform(-1, 1))) for _ in range(n_out)]
        for n_in, n_out in zip(sizes, sizes[1:])
    ]
    loss = Value(0.0)
    for xs, target in [([2.0, 3.0, -1.0], 1.0), ([0.5, -1.0, 1.0], -1.0)]:
        act = xs
        for layer in layers:
            act = [sum((w * x for w, x in zip(ws, act)), b).tanh() for ws, b in layer]
        loss = loss + (act[0] - target) ** 2
    params = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    return loss, params


def expression(ops, x0, y0):
    """A random graph from a list of op codes, reusing earlier nodes (fan-out) on purpose."""
    nodes = [Value(x0, "x"), Value(y0, "y")]
    for code, i, j in ops:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        out = [
            lambda: a + b,
            lambda: a * b,
            lambda: a - b,
            lambda: a * 0.5,
            lambda: a.tanh(),
            lambda: (a * a + 1.0).log(),
            lambda: a.sigmoid(),
            lambda: a.relu() + b,
            lambda: (a.tanh() + 2.0) ** 2,
            lambda: a / (b * b + 1.0),
        ][code]()
        nodes.append(out)
    return nodes[-1]


def replay_matches_backward(root):
    """Record the steps first, then run backward(): every gradient must agree exactly."""
    before = {n: n.grad for n in topological_order(root)}
    steps = backward_steps(root)
    assert {n: n.grad for n in topological_order(root)} == before, "recording must not write .grad"
    replayed = steps.grads()
    backward(root)
    for node in topological_order(root):
        assert replayed[node] == node.grad, (steps.name(node), replayed[node], node.grad)
    return steps


# ---- the order and the numbers ---------------------------------------------------------------------
def test_steps_follow_backwards_order_seed_first():
    v = classic()
    steps = backward_steps(v["L"])
    assert [s.kind for s in steps] == ["seed"] + ["grad"] * 3
    interior = [n for n in reversed(topological_order(v["L"])) if n._prev]
    assert [s.node for s in steps[1:]] == interior
    assert steps[0].node is v["L"]
    assert [s.index for s in steps] == list(range(len(steps)))


def test_classic_example_records_hand_computed_values():
    v = classic()
    a, b, c, f, e, d = (v[k].data for k in "abcfed")
    steps = backward_steps(v["L"])
    by_node = {s.node: s for s in steps[1:]}

    # dL/dL = 1; L = d*f; d = e + c; e = a*b
    assert by_node[v["L"]].upstream == 1.0
    (ud, uf) = by_node[v["L"]].updates
    assert (ud.parent, ud.local, ud.contribution, ud.before, ud.after) == (v["d"], f, f, 0.0, f)
    assert (uf.parent, uf.local, uf.contribution, uf.after) == (v["f"], d, d, d)
    assert by_node[v["d"]].upstream == f
    assert [u.after for u in by_node[v["d"]].updates] == [f, f]
    assert [u.local for u in by_node[v["d"]].updates] == [1.0, 1.0]
    assert by_node[v["e"]].upstream == f
    assert [(u.parent, u.local, u.after) for u in by_node[v["e"]].updates] == [
        (v["a"], b, b * f),
        (v["b"], a, a * f),
    ]


def test_explanation_reads_like_the_arithmetic():
    v = classic()
    step = [s for s in backward_steps(v["L"]) if s.node is v["e"]][0]
    assert step.text.splitlines() == [
        "e = a * b:  a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0  (a.grad: 0.0 → 6.0)",
        "e = a * b:  b.grad += a.data × e.grad = 2.0 × -2.0 = -4.0  (b.grad: 0.0 → -4.0)",
    ]
    assert str(step) == step.text
    seed = backward_steps(v["L"])[0]
    assert seed.text == "seed L:  L.grad += 1.0  (the seed: dL/dL = 1)  (L.grad: 0.0 → 1.0)"


def test_tanh_neuron_hand_computed():
    v = neuron()
    o = v["o"].data
    steps = replay_matches_backward(v["o"])
    step = [s for s in steps if s.kind == "grad" and s.node is v["o"]][0]
    (update,) = step.updates
    assert update.parent is v["n"]
    assert math.isclose(update.local, 1.0 - math.tanh(v["n"].data) ** 2, rel_tol=1e-12)
    dn = update.after
    assert math.isclose(dn, 0.5, rel_tol=1e-9)  # b was chosen so that o = 1/sqrt(2)
    assert math.isclose(o, 1 / math.sqrt(2), rel_tol=1e-12)
    assert v["w1"].grad == v["x1"].data * dn
    assert v["x1"].grad == v["w1"].data * dn
    assert v["w2"].grad == 0.0 * dn and v["x2"].grad == v["w2"].data * dn
    assert "o = tanh(n):  n.grad += (1 - o.data²) × o.grad = 0.5 × 1.0 = 0.5  (n.grad: 0.0 → 0.5)" == step.text


def test_fan_out_is_a_running_sum():
    a = Value(-4.0, "a")
    b = a + a
    b.label = "b"
    steps = replay_matches_backward(b)
    (step,) = steps[1:]
    first, second = step.updates
    assert first.parent is second.parent is a
    assert (first.before, first.after, second.before, second.after) == (0.0, 1.0, 1.0, 2.0)
    assert step.highlight == (b, a)  # a drawing marks a once
    assert "(a.grad: 1.0 → 2.0)" in step.text.splitlines()[1]
    # a * a: each factor's local derivative is the other factor
    sq = a * a  # a already holds 2.0 from the backward() above: leaves accumulate
    steps = backward_steps(sq)
    first, second = steps[1].updates
    assert first.local == second.local == a.data
    assert (first.before, second.after) == (0.0, a.data + a.data)  # this pass, from zero
    (carry,) = steps[-1].updates  # then the earlier 2.0 is added, as backward() does
    assert steps[-1].kind == "accumulate" and carry.parent is a
    assert (carry.contribution, carry.before, carry.after) == (2.0, -8.0, -6.0)
    assert steps[-1].text == "accumulate:  a.grad = 2.0 (earlier passes) + -8.0 (this pass) = -6.0"
    assert steps.grads()[a] == -6.0


def test_every_recorded_gradient_is_the_final_one():
    """Each node's upstream when processed, and the last 'after' of every parent, is its final grad."""
    loss, params = mlp()
    steps = backward_steps(loss)
    backward(loss)
    last_after = {}
    for step in steps:
        if step.kind == "grad":
            assert step.upstream == step.node.grad
        for u in step.updates:
            assert u.after == (0.0 if u.dropped else u.before + u.contribution)
            last_after[u.parent] = u.after
    for node in topological_order(loss):
        assert last_after[node] == node.grad
    assert all(p in last_after for p in params)


def test_small_mlp_replay_equals_backward_and_torch():
    loss, params = mlp(seed=3)
    replay_matches_backward(loss)
    torch = torch_or_skip()
    rng = random.Random(3)
    sizes = (3, 4, 4, 1)
    layers = [
        [
            ([torch.tensor(rng.uniform(-1, 1), dtype=torch.float64, requires_grad=True) for _ in range(n_in)],
             torch.tensor(rng.uniform(-1, 1), dtype=torch.float64, requires_grad=True))
            for _ in range(n_out)
        ]
        for n_in, n_out in zip(sizes, sizes[1:])
    ]
    total = torch.tensor(0.0, dtype=torch.float64)
    for xs, target in [([2.0, 3.0, -1.0], 1.0), ([0.5, -1.0, 1.0], -1.0)]:
        act = [torch.tensor(x, dtype=torch.float64) for x in xs]
        for layer in layers:
            act = [torch.tanh(sum((w * x for w, x in zip(ws, act)), b)) for ws, b in layer]
        total = total + (act[0] - target) ** 2
    total.backward()
    tparams = [p for layer in layers for ws, b in layer for p in (*ws, b)]
    for ours, theirs in zip(params, tparams):
        assert math.isclose(ours.grad, theirs.grad.item(), rel_tol=1e-9, abs_tol=1e-12)


@given(
    ops=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=12),
    x0=st.floats(-3, 3),
    y0=st.floats(-3, 3),
)
def test_replay_equals_backward_on_random_graphs(ops, x0, y0):
    replay_matches_backward(expression(ops, x0, y0))


# ---- backward's accumulation semantics --------------------------------------------------------------
def test_a_pass_starts_from_zero_and_leaves_then_add_earlier_gradients():
    v = classic()
    backward(v["L"])  # leaves now hold gradients, interior nodes too
    steps = backward_steps(v["L"])
    assert all(g == 0.0 for g in steps.start.values())
    a_first = [u for s in steps for u in s.updates if u.parent is v["a"]][0]
    assert a_first.before == 0.0
    last = steps[-1]
    assert last.kind == "accumulate" and set(last.highlight) == {v["a"], v["b"], v["c"], v["f"]}
    assert "a.grad = 6.0 (earlier passes) + 6.0 (this pass) = 12.0" in last.text
    replay_matches_backward(v["L"])  # the second call doubles the leaf gradients; so does the replay


def test_seed_and_leaf_root():
    v = classic()
    steps = backward_steps(v["L"], grad=2.5)
    assert steps[0].updates[0].after == 2.5 and steps[0].upstream == 2.5
    assert steps[0].text == "seed L:  L.grad += 2.5  (the seed: the gradient passed in)  (L.grad: 0.0 → 2.5)"
    assert steps[0].updates[0].text == steps[0].lines[0]
    grads = steps.grads()
    backward(v["L"], 2.5)
    assert all(grads[n] == n.grad for n in topological_order(v["L"]))

    leaf = Value(3.0, "x")
    leaf.grad = 1.5
    steps = backward_steps(leaf)
    assert [s.kind for s in steps] == ["seed", "accumulate"] and steps.grads()[leaf] == 2.5
    leaf.backward()
    assert leaf.grad == 2.5


def test_constants_collect_nothing():
    x = Value(3.0, "x")
    y = x**2
    steps = replay_matches_backward(y)
    (ux, uc) = steps[1].updates
    assert isinstance(uc.parent, Constant) and uc.dropped and uc.after == 0.0
    assert not ux.dropped and ux.local == 2.0 * x.data
    assert steps[1].text == "v2 = x ** 2.0:  x.grad += 2.0 × x.data^(2.0 - 1) × v2.grad = 6.0 × 1.0 = 6.0  (x.grad: 0.0 → 6.0)"


def test_deep_chain_needs_no_recursion():
    x = Value(0.5, "x")
    y = x
    for _ in range(sys.getrecursionlimit() * 5):
        y = y * 1.0 + 0.0
    steps = replay_matches_backward(y)
    assert len(steps) == 1 + 2 * sys.getrecursionlimit() * 5
    assert steps[-1].updates[0].parent is x


# ---- names, text, errors -----------------------------------------------------------------------------
def test_fallback_names_are_stable_positions_in_topological_order():
    def build():
        a = Value(1.5)
        return (a * a).exp() + a

    one, two = backward_steps(build()), backward_steps(build())
    assert [s.text for s in one] == [s.text for s in two]
    order = one.order
    assert [one.name(n) for n in order if not isinstance(n, Constant)] == [
        f"v{i}" for i, n in enumerate(order) if not isinstance(n, Constant)
    ]
    labelled = Value(1.0, "w") * 3.0
    assert backward_steps(labelled)[1].text.startswith("v2 = w * 3.0:  w.grad += 3.0 × v2.grad")


def test_table_has_every_step_and_update():
    v = classic()
    steps = backward_steps(v["L"])
    table = str(steps)
    lines = table.splitlines()
    assert lines[0].split() == ["#", "step", "arithmetic"]
    assert len(lines) == 1 + sum(len(s.lines) for s in steps)
    for step in steps:
        for line in step.lines:
            assert line in table
        assert step.header in table
    row = [line for line in lines if "e = a * b" in line][0]
    assert row.split()[0] == str(steps[-1].index)


def test_forward_steps_compute_values_in_topological_order():
    v = classic()
    steps = forward_steps(v["L"])
    assert steps[0].kind == "inputs" and set(steps[0].highlight) == {v[k] for k in "abcf"}
    assert steps[0].lines == ["a = 2.0, b = -3.0, c = 10.0, f = -2.0"]
    assert [s.node for s in steps[1:]] == [n for n in topological_order(v["L"]) if n._prev]
    assert steps[1].text == "e = a * b:  e = 2.0 × -3.0 = -6.0"
    assert steps.grads() == {}


def test_frames_fill_in_values_then_gradients():
    v = classic()
    both = forward_steps(v["L"]) + backward_steps(v["L"])
    assert [s.index for s in both] == list(range(len(both)))
    frames = list(both.frames())
    assert len(frames) == len(both) == 8
    assert frames[0].values == {v[k]: v[k].data for k in "abcf"} and frames[0].grads == {}
    assert frames[1].values[v["e"]] == v["e"].data and v["d"] not in frames[1].values
    assert frames[1].highlight == (v["e"], v["a"], v["b"])
    assert frames[4].values is None and frames[4].grads == {v["L"]: 1.0}
    assert set(frames[5].grads) == {v["L"], v["d"], v["f"]}
    assert frames[5].highlight == (v["L"], v["d"], v["f"])
    for i, frame in enumerate(frames):  # random access replays to the same state
        again = both.frame(i)
        assert (again.step, again.values, again.grads, again.highlight) == (
            frame.step, frame.values, frame.grads, frame.highlight)
    replayed = both.grads()
    assert frames[-1].grads == replayed
    assert both.frame(-1).grads == replayed and both.frame(2).highlight == frames[2].highlight
    with pytest.raises(IndexError, match="8 steps"):
        both.frame(8)
    with pytest.raises(ValueError, match="forward_steps"):
        backward_steps(v["L"]) + forward_steps(v["L"])
    with pytest.raises(ValueError, match="same root"):
        forward_steps(v["L"]) + backward_steps(v["e"])


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="Value as the root.*float"):
        backward_steps(2.0)
    with pytest.raises(TypeError, match=r"backward_steps\(grad\): the seed .* a number.*str"):
        backward_steps(Value(1.0), grad="1")
    with pytest.raises(ValueError, match=r"backward_steps\(grad\): the seed must be a finite number, got nan"):
        backward_steps(Value(1.0), grad=float("nan"))
    assert backward_steps(Value(1.0, "x"), grad=None)[0].upstream == 1.0  # None means 1.0, as in backward()
    with pytest.raises(TypeError, match=r"frame\(i\) takes a step number"):
        backward_steps(Value(1.0)).frame("0")
    with pytest.raises(ValueError, match="digits"):
        backward_steps(Value(1.0), digits=0)
    with pytest.raises(ValueError, match=r"digits=18: give the significant digits to show, an int from 1 to 17"):
        forward_steps(Value(1.0), digits=18)
    with pytest.raises(OverflowError, match=r"backward_steps\(grad\)'s seed is an int of about 401 digits"):
        backward_steps(Value(1.0), grad=10**400)
    steps = backward_steps(Value(1.0))
    with pytest.raises(IndexError, match=r"step 10+\.\.\. is out of range: there are 1 steps"):
        steps.frame(10**400)
    with pytest.raises(TypeError, match=r"steps\[i\] takes a step number \(an int\) or a slice, got str: '0'"):
        steps["0"]
    assert steps[0] is steps[-1] and steps[:1] == [steps[0]]
    for i in (1, -2, 10**400):
        with pytest.raises(IndexError, match=r"step (1|-2|10{56}\.\.\.) is out of range: there are 1 steps \(0 to 0\)$"):
            steps[i]
    assert list(steps) == [steps[0]]  # iterating ends at the IndexError, as for any sequence
    np = pytest.importorskip("numpy")
    assert steps[np.int64(0)] is steps[0] and steps.frame(np.int64(-1)).step is steps[0]  # NumPy's ints are ints
    x = Value(0.0, "x")
    y = x.sqrt()
    with pytest.raises(ZeroDivisionError) as ours:
        backward_steps(y)
    with pytest.raises(ZeroDivisionError) as engine:
        backward(y)
    assert str(ours.value) == str(engine.value) and "sqrt" in str(ours.value)


def test_nn_mlp_with_a_loss_replays_exactly():
    from nn import MLP
    from nn.losses import mse

    model = MLP(3, [4, 4, 1], seed=7)
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0]]
    loss = mse([model(x) for x in xs], [1.0, -1.0, -1.0])
    steps = replay_matches_backward(loss)
    assert all(isinstance(p.grad, float) for p in model.parameters())
    processed = {s.node for s in steps if s.kind == "grad"}
    assert processed == {n for n in topological_order(loss) if n._prev}
    params = set(model.parameters())
    reached = {u.parent for s in steps for u in s.updates}
    assert params <= reached, "every weight and bias receives its gradient in some step"


def test_a_sum_of_many_terms_explains_each_term():
    a, b, c = Value(1.0, "a"), Value(2.0, "b"), Value(3.0, "c")
    s = Value.sum([a, b, c])
    s.label = "s"
    steps = replay_matches_backward(s)
    assert steps[1].header == "s = a + b + c"
    assert steps[1].lines[2] == "c.grad += 1 × s.grad = 1.0 × 1.0 = 1.0  (c.grad: 0.0 → 1.0)"


# ---- size limits and memory ----------------------------------------------------------------------------
def test_a_huge_graph_is_refused_before_anything_is_recorded():
    from autograd.views.nodes import GraphTooLargeError
    from test_draw import Trap

    y = Trap(1.0)
    for _ in range(200):
        y = y + 1.0
    for record in (backward_steps, forward_steps):
        with pytest.raises(GraphTooLargeError, match=r"more than 100 nodes.*max_nodes=None"):
            record(y, max_nodes=100)
    with pytest.raises(AssertionError, match="whole graph"):  # the trap springs when the walk reaches it
        backward_steps(y, max_nodes=None)
    with pytest.raises(ValueError, match="max_nodes"):
        backward_steps(Value(1.0), max_nodes=0)


def test_dropped_steps_free_the_graph_at_once():
    """No step points back to its list, so with the cyclic collector off everything is freed."""
    import gc
    import weakref

    gc.collect()
    gc.disable()
    try:
        v = classic()
        ref = weakref.ref(v["a"])
        steps = forward_steps(v["L"]) + backward_steps(v["L"])
        text = str(steps), [u.text for s in steps for u in s.updates], list(steps.frames()), steps.frame(3)
        del v, steps, text
        assert ref() is None
    finally:
        gc.enable()
