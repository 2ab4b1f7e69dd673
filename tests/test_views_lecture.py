"""The drawing calls of the lecture that builds micrograd (and of micrograd's trace_graph notebook),
run on chainrule: with chainrule's Value, with the lecture's own network classes written on it, and
with a learner's own Value class. No notebook is needed; each test is a few of the lecture's cells."""

import random
import re

import pytest

from autograd import Value, draw_dot
from learners import ClosureValue
from test_draw import cells, parse

XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
YS = [1.0, -1.0, -1.0, 1.0]


def boxes(drawing):
    nodes, _ = parse(drawing.source)
    return {cells(label)[0]: cells(label) for name, (label, _) in nodes.items() if re.fullmatch(r"v\d+", name)}


def lecture_neuron(V):
    x1, x2 = V(2.0, label="x1"), V(0.0, label="x2")
    w1, w2 = V(-3.0, label="w1"), V(1.0, label="w2")
    b = V(6.8813735870195432, label="b")
    x1w1 = x1 * w1; x1w1.label = "x1*w1"  # noqa: E702
    x2w2 = x2 * w2; x2w2.label = "x2*w2"  # noqa: E702
    x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = "x1*w1 + x2*w2"  # noqa: E702
    n = x1w1x2w2 + b; n.label = "n"  # noqa: E702
    return dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b, x1w1=x1w1, x2w2=x2w2, x1w1x2w2=x1w1x2w2, n=n)


@pytest.mark.parametrize("V", [Value, ClosureValue])
def test_the_neuron_by_hand_then_drawn(V):
    v = lecture_neuron(V)
    o = v["n"].tanh(); o.label = "o"  # noqa: E702
    assert set(boxes(draw_dot(o))) == {"x1", "x2", "w1", "w2", "b", "x1*w1", "x2*w2", "x1*w1 + x2*w2", "n", "o"}
    o.grad = 1.0  # the lecture's by-hand cells
    o._backward()
    v["n"]._backward()
    v["b"]._backward()
    v["x1w1x2w2"]._backward()
    v["x2w2"]._backward()
    v["x1w1"]._backward()
    shown = boxes(draw_dot(o))
    expected = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5, "n": 0.5, "o": 1.0}
    for name, grad in expected.items():
        assert shown[name][2] == f"grad {grad:.4f}", name


@pytest.mark.parametrize("V", [Value, ClosureValue])
def test_a_value_used_twice_and_reused_across_branches(V):
    a = V(3.0, label="a")
    b = a + a; b.label = "b"  # noqa: E702
    b.backward()
    assert boxes(draw_dot(b))["a"][2] == "grad 2.0000"
    a, b = V(-2.0, label="a"), V(3.0, label="b")
    d = a * b; d.label = "d"  # noqa: E702
    e = a + b; e.label = "e"  # noqa: E702
    f = d * e; f.label = "f"  # noqa: E702
    f.backward()
    shown = boxes(draw_dot(f))
    assert (shown["a"][2], shown["b"][2]) == ("grad -3.0000", "grad -8.0000")


@pytest.mark.parametrize("V", [Value, ClosureValue])
def test_tanh_written_with_exp(V):
    v = lecture_neuron(V)
    e = (2 * v["n"]).exp()
    o = (e - 1) / (e + 1)
    o.label = "o"
    o.backward()
    shown = boxes(draw_dot(o))
    assert shown["o"][1] == "data 0.7071" and shown["x1"][2] == "grad -1.5000"


def lecture_classes(V):
    """The lecture's Neuron, Layer and MLP, written on any Value class."""

    class Neuron:
        def __init__(self, nin):
            self.w = [V(random.uniform(-1, 1)) for _ in range(nin)]
            self.b = V(random.uniform(-1, 1))

        def __call__(self, x):
            return sum((wi * xi for wi, xi in zip(self.w, x)), self.b).tanh()

    class Layer:
        def __init__(self, nin, nout):
            self.neurons = [Neuron(nin) for _ in range(nout)]

        def __call__(self, x):
            outs = [n(x) for n in self.neurons]
            return outs[0] if len(outs) == 1 else outs

    class MLP:
        def __init__(self, nin, nouts):
            sz = [nin] + nouts
            self.layers = [Layer(sz[i], sz[i + 1]) for i in range(len(nouts))]

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    return MLP


def nn_mlp():
    from nn import MLP

    return MLP


@pytest.mark.parametrize("make", [nn_mlp, lambda: lecture_classes(Value), lambda: lecture_classes(ClosureValue)],
                         ids=["nn.MLP", "lecture classes on Value", "lecture classes on a learner's Value"])
def test_the_loss_over_four_examples_is_drawn_whole(make):
    random.seed(1337)
    n = make()(3, [4, 4, 1])
    ypred = [n(x) for x in XS]
    loss = sum((yout - ygt) ** 2 for ygt, yout in zip(YS, ypred))
    loss.backward()
    g = draw_dot(loss)
    assert g.collapsed is None and 400 < g.nodes <= 1000  # every value and operation, no box
    assert "label" not in g.graph_attr  # no caption: nothing was left out
    assert len([1 for line in g.body if "grad \u2014" in line]) == 0  # backward ran: every gradient shown


def test_micrograd_trace_graph_notebook(tmp_path, monkeypatch):
    from nn import Neuron

    x = Value(1.0)
    y = (x * 2 + 1).relu()
    y.backward()
    assert boxes(draw_dot(y))["v5"][1:] == ["data 3.0000", "grad 1.0000"]
    random.seed(1337)
    n = Neuron(2)
    y = n([Value(1.0), Value(-2.0)])
    y.backward()
    dot = draw_dot(y)
    monkeypatch.chdir(tmp_path)
    try:
        dot.render("gout")
    except RuntimeError as error:  # no renderer on this machine: the DOT file is still written
        pytest.skip(str(error))
    assert (tmp_path / "gout").read_text() == dot.source and (tmp_path / "gout.svg").exists()
    png = draw_dot(y, format="png", rankdir="TB")
    assert png.render("gout2", cleanup=True) == "gout2.png"
