"""draw_dot(collapse=...) and draw_model: modules drawn as boxes, grouped by the scope tags values
carry, with the values that flow between boxes drawn in full."""

import html
import re

import pytest

from autograd import Parameter, Value, draw_dot, draw_model, gradients, numerical_grad, scope
from autograd.views.draw import HIGHLIGHT, GraphTooLargeError

from test_draw import by_label, cells, parse


def make_weights(sizes, nin):
    weights, fan_in = [], nin
    for n in sizes:
        weights.append([([Parameter(0.1 * (i + 1) - 0.05 * j) for i in range(fan_in)], Parameter(0.01 * j)) for j in range(n)])
        fan_in = n
    return weights


def hand_mlp(xs, weights):
    """An MLP written by hand with the scope names nn uses: MLP > Layer i > Neuron j."""
    with scope("MLP"):
        h = xs
        for li, layer in enumerate(weights):
            with scope(f"Layer {li}"):
                out = []
                for ni, (w, b) in enumerate(layer):
                    with scope(f"Neuron {ni}"):
                        act = b
                        for wi, xi in zip(w, h):
                            act = act + wi * xi
                        out.append(act.tanh())
                h = out
    return h


def inputs():
    return [Value(v, label=f"x{i}") for i, v in enumerate((1.0, -2.0, 0.5))]


def boxes(nodes):
    return {name: cells(label) for name, (label, _) in nodes.items() if re.fullmatch(r"g\d+", name)}


def test_collapse_neuron_draws_one_box_per_neuron_with_values_between():
    xs, weights = inputs(), make_weights([4, 2], 3)
    y1, y2 = hand_mlp(xs, weights)
    loss = (y1 - 0.5) ** 2 + y2
    loss.label = "loss"
    nodes, edges = parse(draw_dot(loss, collapse="Neuron").source)
    found = boxes(nodes)
    assert sorted(c[0] for c in found.values()) == sorted([f"Neuron {j}" for j in range(4)] + ["Neuron 0", "Neuron 1"])
    assert {c[1] for c in found.values()} == {"MLP \u203a Layer 0", "MLP \u203a Layer 1"}
    layer0 = [g for g, c in found.items() if c[1].endswith("Layer 0")]
    assert all(found[g][2] == "7 ops, 4 parameters" for g in layer0)  # 3 * + 3 + and tanh; 3 w and b
    named = by_label(nodes)
    for g in layer0:  # every input feeds every first-layer neuron, once
        assert sorted(t for t, h, _ in edges if h == g) == sorted(named[f"x{i}"][0] for i in range(3))
    # each first-layer box has one output value, drawn with its number, feeding both second-layer boxes
    layer1 = [g for g in found if g not in layer0]
    for g in layer0:
        (out,) = [h for t, h, _ in edges if t == g]
        assert re.fullmatch(r"v\d+", out)
        assert cells(nodes[out][0])[:2] == [out, f"data {float(cells(nodes[out][0])[1].split()[1]):.4f}"]
        assert sorted(h for t, h, _ in edges if t == out) == sorted(layer1)
    params = [n for n, (label, _) in nodes.items() if "#dcfce7" in label]
    assert params == []  # parameters live inside their boxes
    ops = sorted(html_op(nodes[n][0]) for n in nodes if n.endswith("op"))
    assert ops == sorted(["-", "**", "+"])  # only the loss outside the modules keeps its operations


def html_op(label):
    return label.replace("&lt;", "<").replace("&gt;", ">")


def test_collapse_layer_and_mlp_and_depth():
    xs, weights = inputs(), make_weights([4, 2], 3)
    y1, y2 = hand_mlp(xs, weights)
    out = y1 * y2
    for collapse, expected in (("Layer", ["Layer 0", "Layer 1"]), ("MLP", ["MLP"]), (2, ["Layer 0", "Layer 1"]), (1, ["MLP"])):
        nodes, edges = parse(draw_dot(out, collapse=collapse).source)
        found = boxes(nodes)
        assert sorted(c[0] for c in found.values()) == expected, collapse
    nodes, edges = parse(draw_dot(out, collapse="Layer").source)
    found = boxes(nodes)
    (g0,) = [g for g, c in found.items() if c[0] == "Layer 0"]
    (g1,) = [g for g, c in found.items() if c[0] == "Layer 1"]
    between = [h for t, h, _ in edges if t == g0]
    assert len(between) == 4 and all([g1] == [h for t, h, _ in edges if t == v] for v in between)
    assert found[g0][2] == "28 ops, 16 parameters"


def test_a_module_called_on_two_inputs_gives_two_boxes():
    weights = make_weights([2], 3)
    (a1, a2) = hand_mlp(inputs(), weights)
    (b1, b2) = hand_mlp(inputs(), weights)
    total = a1 + a2 + b1 + b2
    nodes, _ = parse(draw_dot(total, collapse="MLP").source)
    assert sorted(c[0] for c in boxes(nodes).values()) == ["MLP", "MLP (call 2)"]
    shared = [n for n, (label, _) in nodes.items() if "#dcfce7" in label]
    assert shared == []


def embed_and_norm(tables, row, position):
    """An embedding lookup added to a position's (nothing but weights in it), then a norm: the
    shape of a GPT's input, written with scopes."""
    tok, pos = tables
    with scope("Embedding"):
        x = [t + p for t, p in zip(tok[row], pos[position])]
    with scope("Norm"):
        scale = Value.sum([xi * xi for xi in x]) ** -0.5
        return [xi * scale for xi in x]


def test_a_module_fed_by_nothing_but_its_weights_is_one_box_per_call():
    tables = [[[Parameter(0.1 * i + 0.01 * j + k) for j in range(4)] for i in range(3)] for k in (0, 1)]
    one = embed_and_norm(tables, 1, 0)
    nodes, _ = parse(draw_dot(one, collapse="Embedding").source)
    found = boxes(nodes)
    assert [c[0] for c in found.values()] == ["Embedding"] and list(found.values())[0][1] == "4 ops, 8 parameters"
    assert sorted(c[0] for c in boxes(parse(draw_dot(one, collapse=1).source)[0]).values()) == ["Embedding", "Norm"]
    # two positions read the same token: two calls, told apart by the norms they feed
    two = embed_and_norm(tables, 1, 0) + embed_and_norm(tables, 1, 1)
    nodes, _ = parse(draw_dot(two, collapse="Embedding").source)
    assert sorted(c[0] for c in boxes(nodes).values()) == ["Embedding", "Embedding (call 2)"]


def test_an_elementwise_module_after_a_layer_is_one_box_and_plain_number_inputs_link_a_layer():
    module = nn_or_skip()
    model = module.Sequential(module.Layer(2, 4, "relu", seed=0), module.Dropout(0.01, seed=1),
                              module.Layer(4, 1, "linear", seed=2))
    out = model([1.0, -2.0])  # plain numbers: constants, each used by every neuron of the first layer
    for collapse, expected in (("Dropout", ["Dropout 1"]), (2, ["Dropout 1", "Layer 0", "Layer 2"]),
                               ("Layer", ["Layer 0", "Layer 2"])):
        assert sorted(c[0] for c in boxes(parse(draw_dot(out, collapse=collapse).source)[0]).values()) == expected


def test_collapse_names_that_match_nothing_list_the_scopes_found():
    y1, y2 = hand_mlp(inputs(), make_weights([2, 2], 3))
    with pytest.raises(ValueError, match=r"matches no scope.*'Neuron', 'Layer', 'MLP'"):
        draw_dot(y1 + y2, collapse="Nueron")
    with pytest.raises(ValueError, match="no scope tags"):
        draw_dot(Value(1.0) * 2.0, collapse="Layer")


def test_a_graph_too_large_is_boxed_by_module_and_the_picture_says_so():
    y1, y2 = hand_mlp(inputs(), make_weights([4, 2], 3))
    whole = draw_dot(y1 + y2)
    assert whole.collapsed is None and not boxes(parse(whole.source)[0]) and "label" not in whole.graph_attr
    boxed = draw_dot(y1 + y2, max_nodes=40)
    assert boxed.collapsed == "Neuron" and boxed.nodes <= 40  # the finest level that fits
    assert boxed.body == draw_dot(y1 + y2, max_nodes=40, collapse="Neuron").body  # the same boxes
    caption = html.unescape(boxed.graph_attr["label"])
    assert f"{whole.nodes} nodes, more than max_nodes=40: each Neuron drawn as one box" in caption
    assert "collapse=None, max_nodes=None draws every node" in caption
    assert draw_dot(y1 + y2, max_nodes=14).collapsed == "Layer"
    with pytest.raises(GraphTooLargeError, match=r"counting stopped.*collapse='auto' or a module name"):
        draw_dot(y1 + y2, max_nodes=20, collapse=None)
    with pytest.raises(GraphTooLargeError, match=r"even with each MLP drawn as one box.*max_nodes=None"):
        draw_dot(y1 + y2, max_nodes=3)


def test_boxes_asked_for_by_name_are_drawn_however_large_the_graph_when_they_fit(monkeypatch):
    module = nn_or_skip()
    model = module.MLP(10, [150, 150, 10], seed=0)  # about 80,000 nodes: above what collapse="auto" walks
    x = [0.1 * i - 0.4 for i in range(10)]
    with pytest.raises(GraphTooLargeError) as info:
        draw_model(model, x)
    message = str(info.value)
    assert "more than 50,000 nodes" in message and "collapse='auto' looks for module boxes only in graphs of up to" in message
    assert "pass collapse='Neuron' or 'Layer' or 'MLP' to draw each of those modules as one box" in message
    assert "far above" not in message and "hours" in message  # hours: for drawing every node, not the boxes
    boxed = draw_model(model, x, collapse="Layer")
    assert boxed.collapsed == "Layer" and boxed.nodes == 10 + 150 + 150 + 10 + 3
    assert sorted(c[0] for c in boxes(parse(boxed.source)[0]).values()) == ["Layer 0", "Layer 1", "Layer 2"]
    assert draw_model(model, x, collapse=2).nodes == boxed.nodes
    # beyond the walk for named boxes: refused, saying why and what to do
    monkeypatch.setattr("autograd.views.draw.BOXED_WALK", 60_000)  # below this graph's size
    with pytest.raises(GraphTooLargeError) as info:
        draw_model(model, x, collapse="Layer")
    message = str(info.value)
    assert message.startswith("this graph is too large to box: more than 60,000 nodes")
    assert "drawing each Layer as one box means walking every one of them" in message
    assert "max_nodes=None to box it anyway" in message
    assert draw_model(model, x, collapse="Layer", max_nodes=None).nodes == boxed.nodes


def test_highlight_inside_a_box_marks_the_box():
    xs = inputs()
    y1, y2 = hand_mlp(xs, make_weights([2], 3))
    inner = y1._prev[0]  # the sum before tanh, hidden in Neuron 0's box
    nodes, edges = parse(draw_dot(y1 + y2, collapse="Neuron", highlight=[inner, y1, xs[0]]).source)
    found = boxes(nodes)
    marked = [g for g in found if HIGHLIGHT in nodes[g][0]]
    assert [found[g][0] for g in marked] == ["Neuron 0"]
    named = by_label(nodes)
    lit = {(t, h) for t, h, attrs in edges if HIGHLIGHT in attrs}
    out = [h for t, h, _ in edges if t == marked[0]]
    assert lit == {(named["x0"][0], marked[0]), (marked[0], out[0])}


def test_collapsed_drawings_are_deterministic():
    def build():
        y1, y2 = hand_mlp(inputs(), make_weights([3, 2], 3))
        return y1 * y2

    first, second = build(), build()
    for collapse in ("Neuron", "Layer", "MLP"):
        assert draw_dot(first, collapse=collapse).source == draw_dot(second, collapse=collapse).source


def test_draw_model_works_on_any_callable():
    weights = make_weights([2, 1], 2)
    g = draw_model(lambda x: hand_mlp(x, weights)[0], [0.5, -1.0])
    nodes, _ = parse(g.source)
    named = by_label(nodes)
    assert {"x[0]", "x[1]", "out"} <= set(named)
    assert named["x[0]"][1][1] == "data 0.5000"
    assert named["out"][1][2] == "grad \u2014"  # nothing ran backward
    assert not boxes(nodes)  # small enough to draw whole
    with pytest.raises(TypeError, match="callable"):
        draw_model(3, [1.0])


def test_draw_model_collapses_automatically_when_large():
    weights = make_weights([6, 6, 1], 3)
    model = lambda x: hand_mlp(x, weights)[0]  # noqa: E731
    whole = draw_model(model, [1.0, 2.0, 3.0], max_nodes=None)
    assert not boxes(parse(whole.source)[0])
    fine = draw_model(model, [1.0, 2.0, 3.0], max_nodes=whole.nodes - 1)
    found = boxes(parse(fine.source)[0])
    assert len(found) == 13 and all(c[0].startswith("Neuron") for c in found.values())
    coarse = draw_model(model, [1.0, 2.0, 3.0], max_nodes=fine.nodes - 1)
    assert sorted(c[0] for c in boxes(parse(coarse.source)[0]).values()) == ["Layer 0", "Layer 1", "Layer 2"]


@pytest.mark.parametrize("x, error, message", [
    ("em", TypeError, "x is text ('em'); give the token ids the model reads"),
    (b"em", TypeError, "x must be a number or a list of numbers, got bytes"),
    ([], ValueError, "x is empty"),
    ([1.0, "2"], TypeError, "x must be a number or a list of numbers, but x[1] is a str: '2'"),
    pytest.param(10**400, OverflowError, "x is an int of 401 digits, too large for a float", id="huge int"),
    ([1.0, 10**400], OverflowError, "x[1] is an int of 401 digits"),
    (None, TypeError, "x must be a number or a list of numbers, got NoneType"),
])
def test_draw_model_names_what_is_wrong_with_x(x, error, message):
    with pytest.raises(error, match=re.escape(f"draw_model(model, x): {message}")):
        draw_model(lambda v: v[0] * 2.0, x)


def test_draw_model_checks_backward_and_the_output():
    with pytest.raises(TypeError, match=re.escape("draw_model(backward='yes'): give True or False")):
        draw_model(lambda v: v * 2.0, 1.0, backward="yes")
    with pytest.raises(TypeError, match=re.escape("the model's output must be a Value or a list of Values (lists of "
                                                  "lists too); got a float at out[1]: 2.0")):
        draw_model(lambda v: [v * 2.0, 2.0], 1.0)
    with pytest.raises(TypeError, match=r"got \[\[\]\], which holds none"):
        draw_model(lambda v: [[]], 1.0)


def test_draw_model_draws_a_gpt_from_its_token_ids():
    gpt, text = pytest.importorskip("nn.gpt"), pytest.importorskip("nn.text")
    model = gpt.GPT(text.CharTokenizer("abc"), n_embd=4, n_head=2, block_size=4, seed=0)
    tokens = [model.tokenizer.bos, 0, 2]
    assert draw_model(model, tokens).collapsed == 4  # the finest level that fits: heads, linear maps...
    drawing = draw_model(model, tokens, max_nodes=200)  # ids, not numbers to differentiate: passed as they are
    nodes, _ = parse(drawing.source)
    named = by_label(nodes)
    logits = model(tokens)
    for t, row in enumerate(logits):  # a list of logits per position, each labelled with its place
        for i, z in enumerate(row):
            assert named[f"out[{t}][{i}]"][1][1] == f"data {z.data:.4f}"
    assert drawing.collapsed == 2 and drawing.nodes <= 200  # one box per part of the model
    found = sorted(c[0] for c in boxes(nodes).values())
    assert found == ["Block 0", "Embedding", "Embedding (call 2)", "Embedding (call 3)", "lm_head",
                     "norm", "norm (call 2)", "norm (call 3)"]
    assert "modules to depth 2 drawn as one box" in html.unescape(drawing.graph_attr["label"])
    with pytest.raises(ValueError, match="token ids are ints in 0..3, got 7$"):  # the model's own word, about x
        draw_model(model, [3, 7])
    with pytest.raises(ValueError, match="Layer 0 takes 2 inputs, got 3"):  # a model that reads numbers
        draw_model(nn_or_skip().MLP(2, [1], seed=0), [1, 2, 3])


def test_draw_model_backward_shows_gradients_without_touching_grad():
    weights = make_weights([3, 1], 2)
    model = lambda x: hand_mlp(x, weights)[0]  # noqa: E731
    g = draw_model(model, [0.3, -0.7], backward=True, fmt=".6f")
    named = by_label(parse(g.source)[0])
    assert named["out"][1][2] == "grad 1.000000"
    slopes = numerical_grad(lambda a, b: model([a, b]), 0.3, -0.7)
    for i, expected in enumerate(slopes):
        shown = float(named[f"x[{i}]"][1][2].split()[1])
        assert shown == pytest.approx(expected, abs=2e-6)
    assert all(w.grad == 0.0 for layer in weights for ws, b in layer for w in ws + [b])
    with pytest.raises(ValueError, match="one output"):
        draw_model(lambda x: hand_mlp(x, weights[:1]), [0.3, -0.7], backward=True)


def test_draw_model_draws_several_outputs_together():
    weights = make_weights([2], 2)
    nodes, _ = parse(draw_model(lambda x: hand_mlp(x, weights), [1.0, 2.0]).source)
    named = by_label(nodes)
    assert "out[0]" in named and "out[1]" in named
    assert "#fef3c7" in nodes[named["out[1]"][0]][0]  # both are drawn as outputs


def nn_or_skip():
    return pytest.importorskip("nn.module", reason="the nn package is not available")


def test_nn_mlp_boxes_per_neuron_layer_and_mlp():
    module = nn_or_skip()
    model = module.MLP(3, [4, 4, 1], seed=0)
    for collapse, count in (("Neuron", 9), ("Layer", 3), ("MLP", 1)):
        nodes, edges = parse(draw_model(model, [1.0, -2.0, 0.5], collapse=collapse).source)
        found = boxes(nodes)
        assert len(found) == count, collapse
        named = by_label(nodes)
        assert {"x[0]", "x[1]", "x[2]", "out"} <= set(named)
    nodes, edges = parse(draw_model(model, [1.0, -2.0, 0.5], collapse="Layer").source)
    counts = sorted(c[2] for c in boxes(nodes).values())
    # per neuron: one * per input, one + over bias and products, and tanh (none on the output layer)
    assert counts == sorted(["20 ops, 16 parameters", "24 ops, 20 parameters", "5 ops, 5 parameters"])


def test_nn_mlp_on_plain_numbers_keeps_its_inputs_visible():
    module = nn_or_skip()
    model = module.MLP(3, [4, 1], seed=0)
    out = model([1.0, -2.0, 0.5])
    nodes, edges = parse(draw_dot(out, collapse="Neuron").source)
    data = sorted(cells(label)[0] for n, (label, _) in nodes.items() if "#f3f4f6" in label)
    assert data == ["data -2.0000", "data 0.5000", "data 1.0000"]


def test_nn_mlp_gradients_shown_match_backward():
    module = nn_or_skip()
    model = module.MLP(2, [3, 1], seed=1)
    x = [Value(0.4, label="a"), Value(-0.9, label="b")]
    out = model(x)
    expected = gradients(out, x)
    out.backward()
    named = by_label(parse(draw_dot(out, collapse="Neuron", fmt=".8f").source)[0])
    assert named["a"][1][2] == f"grad {expected[0]:.8f}" and named["b"][1][2] == f"grad {expected[1]:.8f}"


def test_nn_batch_gives_one_box_per_example():
    module = nn_or_skip()
    model = module.MLP(2, [3, 1], seed=0)
    X = [[Value(1.0, label="a0"), Value(2.0, label="a1")], [Value(-1.0, label="b0"), Value(0.5, label="b1")]]
    run = getattr(model, "forward_batch", None) or (lambda rows: [model(x) for x in rows])
    outs = run(X)
    loss = sum(((o - 1.0) ** 2 for o in outs), Value(0.0))
    nodes, edges = parse(draw_dot(loss, collapse="Layer").source)
    found = boxes(nodes)
    assert sorted(c[0] for c in found.values()) == ["Layer 0", "Layer 0 (call 2)", "Layer 1", "Layer 1 (call 2)"]
    named = by_label(nodes)
    first = [g for g, c in found.items() if c[0] == "Layer 0"][0]
    assert sorted(t for t, h, _ in edges if h == first) == sorted([named["a0"][0], named["a1"][0]])
