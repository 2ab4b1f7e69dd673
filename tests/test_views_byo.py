"""Bring your own Value: draw_dot, backward_steps, the Stepper and save_steps on a learner's own
class (micrograd's shape with _backward closures, microgpt's with _children and _local_grads)."""

import gc
import html
import math
import random
import re
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import Value, backward_steps, draw_dot, forward_steps, save_steps
from autograd.views.nodes import UNNAMED_OP, Guest, LearnerCodeError
from learners import AssignValue, ClosureValue, LocalValue
from test_draw import cells, parse


def lecture(V):
    """L = (a*b + c) * f with the learner's class, every node labelled (labels set after)."""
    a, b, c, f = V(2.0), V(-3.0), V(10.0), V(-2.0)
    e = a * b
    d = e + c
    L = d * f
    nodes = dict(a=a, b=b, c=c, f=f, e=e, d=d, L=L)
    for name, node in nodes.items():
        node.label = name
    return nodes


def shown(source):
    """{label: [cells]} of every value box in the DOT."""
    nodes, _ = parse(source)
    return {cells(label)[0]: cells(label) for name, (label, _) in nodes.items() if re.fullmatch(r"v\d+", name)}


# ---- drawing ------------------------------------------------------------------------------------------
def test_their_graph_is_drawn_with_their_labels_values_and_gradients():
    v = lecture(ClosureValue)
    boxes = shown(draw_dot(v["L"]).source)
    assert set(boxes) == set(v)
    assert boxes["a"] == ["a", "data 2.0000", "grad \u2014"]  # backward has not run
    v["L"].backward()
    boxes = shown(draw_dot(v["L"]).source)
    for name, node in v.items():
        assert boxes[name] == [name, f"data {node.data:.4f}", f"grad {node.grad:.4f}"]
    nodes, edges = parse(draw_dot(v["L"]).source)
    assert sorted(html.unescape(label) for n, (label, _) in nodes.items() if n.endswith("op")) == ["*", "*", "+"]
    assert len(edges) == 9


def test_a_graph_without_op_names_shows_each_local_gradient_on_its_edge():
    x, w = LocalValue(2.0), LocalValue(-3.0)
    y = (x * w).relu() + x  # x is used twice
    nodes, edges = parse(draw_dot(y, legend=True).source)
    ops = [html.unescape(label) for n, (label, _) in nodes.items() if n.endswith("op")]
    assert ops == [UNNAMED_OP] * 3
    into_mul = sorted(attrs for t, h, attrs in edges if h == "v2op")
    assert into_mul == ["label=<\u2202 -3.0000>", "label=<\u2202 2.0000>"]  # d(xw)/dx = w, d(xw)/dw = x
    assert "the local gradient the node stored" in nodes["legend"][0]


def same_graph_twice(V, build):
    return draw_dot(build(V)).source, draw_dot(build(V)).source


def build_random(V, ops, x0, y0, labelled):
    leaves = [V(x0), V(y0), V(x0)]  # two leaves with the same value
    if labelled:
        for i, leaf in enumerate(leaves):
            leaf.label = f"x{i}"
    nodes = list(leaves)
    for code, i, j in ops:
        a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
        nodes.append([lambda: a + b, lambda: a * b, lambda: a.tanh(), lambda: a * b + a][code]())
    return nodes[-1]


OPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.integers(0, 20)), min_size=1, max_size=15)


@given(OPS, st.floats(-2, 2), st.floats(-2, 2))
def test_sets_of_parents_are_drawn_and_stepped_the_same_way_every_time(ops, x0, y0):
    junk = [ClosureValue(0.0) for _ in range(random.randint(0, 50))]  # other objects move the new ones' ids
    first, second = (build_random(ClosureValue, ops, x0, y0, labelled=True) for _ in range(2))
    assert draw_dot(first).source == draw_dot(second).source
    assert str(backward_steps(first)) == str(backward_steps(second))
    del junk


def test_alike_parents_are_told_apart_by_which_is_reached_first():
    """Unlabelled leaves with the same value are alike; the one the walk reached first comes first."""
    for _ in range(20):
        first, second = (build_random(ClosureValue, [(1, 0, 2), (1, 3, 0)], 0.5, 0.5, labelled=False) for _ in range(2))
        assert draw_dot(first).source == draw_dot(second).source


def test_parents_in_a_set_are_sorted_by_label():
    a, b = ClosureValue(1.0, label="b-second"), ClosureValue(1.0, label="a-first")
    y = a + b
    nodes, edges = parse(draw_dot(y).source)
    assert [cells(nodes[t][0])[0] for t, h, _ in edges if h.endswith("op")] == ["a-first", "b-second"]


def test_highlight_and_grads_take_their_own_nodes():
    v = lecture(ClosureValue)
    source = draw_dot(v["L"], highlight=[v["d"], v["f"], v["L"]], grads={v["a"]: 6.0}).source
    boxes = shown(source)
    assert boxes["a"][2] == "grad 6.0000" and boxes["b"][2] == "grad \u2014"
    nodes, _ = parse(source)
    marked = {cells(label)[0] for n, (label, _) in nodes.items() if "#dc2626" in label}
    assert marked == {"d", "f", "L"}
    with pytest.raises(ValueError, match="not in the graph"):
        draw_dot(v["L"], highlight=[ClosureValue(1.0)])


NASTY = ['<script>alert("x")</script>', "a & b \\N", "{x|y}\nline 2", "]; evil [label=x"]


@pytest.mark.parametrize("label", NASTY)
def test_their_labels_are_shown_literally_everywhere(label, tmp_path):
    x = ClosureValue(1.5, label=label)
    y = x.tanh()
    y.label = 42  # not even a str
    boxes = shown(draw_dot(y).source)
    assert label.replace("\n", "\n") in boxes and "42" in boxes
    page = save_steps(y, tmp_path / "p.html").read_text()
    assert "<script>alert" not in page and html.escape(label.split("\n")[0]) in page


def test_what_is_not_a_node_is_named():
    with pytest.raises(TypeError, match="_prev .*micrograd.*_children .*microgpt"):
        draw_dot(object())
    with pytest.raises(TypeError, match="a str in the list"):
        draw_dot([ClosureValue(1.0), "x"])
    bad = LocalValue(1.0, (LocalValue(2.0),), ())
    with pytest.raises(ValueError, match="1 _children but 0 _local_grads"):
        draw_dot(bad)
    loop = ClosureValue(1.0)
    loop._prev = {loop}
    with pytest.raises(ValueError, match="cycle"):
        draw_dot(loop)


def test_a_huge_graph_of_theirs_is_refused_early():
    class Trap(ClosureValue):
        @property
        def _prev(self):
            raise AssertionError("the whole graph was walked")

        @_prev.setter
        def _prev(self, value):
            pass

    y = Trap(1.0)
    for _ in range(3000):
        y = ClosureValue(1.0) + y  # the sums are ClosureValues: only the far leaf is a Trap
    from autograd.views.draw import GraphTooLargeError

    with pytest.raises(AssertionError, match="whole graph"):  # the trap springs when reached
        draw_dot(ClosureValue(1.0) + Trap(1.0))
    with pytest.raises(GraphTooLargeError, match="more than 1000 nodes"):
        draw_dot(y)
    with pytest.raises(GraphTooLargeError, match="more than 100 nodes"):
        backward_steps(y, max_nodes=100)


# ---- stepping through their backward pass ----------------------------------------------------------------
@pytest.mark.parametrize("V", [ClosureValue, LocalValue])
def test_steps_replay_their_backward_and_leave_their_gradients_alone(V):
    v = lecture(V) if V is ClosureValue else None
    if V is LocalValue:
        a, b, c, f = V(2.0), V(-3.0), V(10.0), V(-2.0)
        v = dict(a=a, b=b, c=c, f=f, L=(a * b + c) * f)
    leaves = [v[k] for k in "abcf"]
    for leaf, g in zip(leaves, (0.5, -1.0, 7, 0.0)):  # whatever they hold now must survive
        leaf.grad = g
    before = [leaf.grad for leaf in leaves]
    steps = backward_steps(v["L"])
    assert [leaf.grad for leaf in leaves] == before and [type(leaf.grad) for leaf in leaves] == list(map(type, before))
    replayed = steps.grads()
    for leaf in leaves:
        leaf.grad = 0
    v["L"].backward()  # their own pass
    for leaf in leaves:
        assert math.isclose(replayed[leaf], leaf.grad, rel_tol=1e-12), leaf
    assert [s.kind for s in steps] == ["seed", "grad", "grad", "grad"]
    assert all(isinstance(s.node, Guest) for s in steps)
    assert steps[0].node.original is v["L"]


def test_each_step_shows_what_their_closure_added():
    v = lecture(ClosureValue)
    steps = backward_steps(v["L"])
    (step,) = [s for s in steps if s.node.original is v["e"]]
    assert step.text.splitlines() == [
        "e = a * b:  a.grad += de/da × e.grad = -3.0 × -2.0 = 6.0  (a.grad: 0.0 → 6.0)",
        "e = a * b:  b.grad += de/db × e.grad = 2.0 × -2.0 = -4.0  (b.grad: 0.0 → -4.0)",
    ]
    x = ClosureValue(3.0, label="x")
    y = x + x  # one parent in their set: the closure adds twice
    y.label = "y"
    (_, step) = backward_steps(y)
    assert step.text == "y = x + x:  x.grad += dy/dx × y.grad = 2.0 × 1.0 = 2.0  (x.grad: 0.0 → 2.0)"


def test_steps_show_the_assign_bug_as_it_happens():
    a, b = AssignValue(-2.0, label="a"), AssignValue(3.0, label="b")
    f = (a * b) * (a + b)
    f.label = "f"
    steps = backward_steps(f)
    first, last = [u for s in steps for u in s.updates if u.parent.original is a]
    assert first.before == 0.0 and last.before == first.after != 0.0
    own = b.data * last.upstream if last.node._op == "*" else last.upstream  # what that closure alone gives
    assert last.after == own and last.contribution == own - first.after  # it replaced, not added
    assert steps.grads()[a] == own != -3.0  # chainrule's a.grad is -3.0


def test_microgpt_steps_use_their_local_gradients():
    x, w = LocalValue(2.0), LocalValue(-3.0)
    y = x * w + x
    steps = backward_steps(y)
    mul = [s for s in steps if s.kind == "grad" and len(s.updates) == 2 and s.node._local == (-3.0, 2.0)][0]
    assert [u.local for u in mul.updates] == [-3.0, 2.0]
    assert mul.text.splitlines()[0].startswith(f"v2 = {UNNAMED_OP}(v0, v1):  v0.grad += dv2/dv0 × v2.grad = -3.0 × 1.0")
    assert x.grad == 0 and w.grad == 0  # never touched: no closure ran
    assert steps.grads()[x] == -2.0 and steps.grads()[w] == 2.0


def test_an_error_in_their_closure_names_the_node_and_line_and_restores_their_gradients():
    class Broken(ClosureValue):
        def tanh(self):
            out = ClosureValue.tanh(self)
            out._prev = {self}
            out._op = "tanh"

            def _backward():
                self.grad += undefined_name * out.grad  # noqa: F821

            out._backward = _backward
            return out

    x = Broken(0.5, label="x")
    y = x * Broken(2.0, label="w")
    z = y.tanh()
    z.label = "z"
    x.grad = 4.0
    with pytest.raises(LearnerCodeError) as info:
        backward_steps(z)
    message = str(info.value)
    assert "z = tanh(" in message and "NameError" in message and "undefined_name" in message and "line" in message
    assert x.grad == 4.0 and y.grad == 0.0 and z.grad == 0.0


def test_an_interrupt_inside_their_closure_restores_their_gradients():
    x = ClosureValue(0.5, label="x")
    y = x.exp()

    def interrupted():
        x.grad = 99.0
        raise KeyboardInterrupt

    y._backward = interrupted
    x.grad = 1.25
    with pytest.raises(KeyboardInterrupt):
        backward_steps(y)
    assert x.grad == 1.25 and y.grad == 0.0


def test_forward_steps_stepper_and_save_steps_take_their_root(tmp_path):
    pytest.importorskip("ipywidgets")
    from autograd import Stepper

    v = lecture(ClosureValue)
    both = forward_steps(v["L"]) + backward_steps(v["L"])
    assert both[1].text == "e = a * b:  e = 2.0 × -3.0 = -6.0"
    stepper = Stepper(v["L"], forward=True)
    stepper.go(len(stepper) - 1)
    assert "a.grad += de/da × e.grad = -3.0 × -2.0 = 6.0" in stepper.text
    assert "grad 6.0000" in stepper.svg
    stepper.close()
    page = save_steps(v["L"], tmp_path / "theirs.html", forward=True).read_text()
    assert page.count('<figure class="step-frame"') == len(both)
    assert all(leaf.grad == 0.0 for leaf in (v["a"], v["b"]))


def test_their_dropped_graph_and_its_steps_are_freed_at_once():
    class Weak(LocalValue):
        __slots__ = ("__weakref__",)

    gc.collect()
    gc.disable()
    try:
        x = Weak(2.0)
        ref = weakref.ref(x)
        y = x * x + Weak(1.0)
        steps = backward_steps(y)
        steps.grads(), str(steps), list(steps.frames())
        drawing = draw_dot(y)
        del x, y, steps, drawing
        assert ref() is None
    finally:
        gc.enable()


def test_chainrule_values_inside_their_list_are_adopted_too():
    ours = Value(2.0, label="ours")
    nodes = shown(draw_dot([ours * 3.0, ClosureValue(1.0, label="theirs")]).source)
    assert {"ours", "theirs"} <= set(nodes)
