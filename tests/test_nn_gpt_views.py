"""Pictures of the GPT: one position boxed by part, one head node by node, the attention weights,
and the stepper through a softmax's backward pass."""

import math
import re

import pytest

from autograd import Value, backward_steps, gradients
from nn.blocks import log_softmax
from nn.gpt import GPT
from nn.gpt_views import attention_weights, draw_head, draw_position, head_graph, plot_attention, position_graph
from nn.text import CharTokenizer


@pytest.fixture(scope="module")
def model():
    return GPT(CharTokenizer("abcdefghijklmnopqrstuvwxyz"), seed=0)


def boxes(drawing):
    """The names of the boxes in a drawing's DOT text."""
    return re.findall(r"<B>([^<]+)</B></TD></TR><TR><TD><FONT POINT-SIZE=\"9\">", drawing.source)


def test_one_position_is_drawn_as_a_box_per_part(model):
    drawing = draw_position(model, "em")
    assert boxes(drawing) == ["Embedding", "norm", "Block 0", "lm_head"]
    # the 16 additions token + position are one box, though no input links them but their weights
    assert "16 ops, 32 parameters" in drawing.source
    source = drawing.source
    assert all(f"logit[{c}]" in source for c in "az.")
    # the two earlier positions' keys and values enter the block as inputs
    assert len(re.findall(r"<B>[kv][01]\[\d+\]</B>", source)) == 2 * 2 * 16
    assert drawing.nodes < 200
    finer = draw_position(model, "em", collapse="Head", max_nodes=None)  # DOT text only: not laid out
    assert boxes(finer) == ["Head 0", "Head 1", "Head 2", "Head 3"]


def test_the_position_graph_computes_what_the_model_computes(model):
    logits = position_graph(model, "emm")
    expected = model([26, 4, 12, 12])[-1]
    assert [z.data for z in logits] == [z.data for z in expected]
    first = position_graph(model, "emm", position=0)
    assert [z.data for z in first] == [z.data for z in expected[:0] or model([26])[0]]
    with pytest.raises(ValueError, match="position must index the 4 tokens"):
        position_graph(model, "emm", position=4)
    with pytest.raises(ValueError, match=r"17 tokens \(BOS and the 16 characters of the text\) do not fit in "
                                         r"block_size=16: give at most 15 characters"):
        position_graph(model, "a" * 16)
    with pytest.raises(ValueError, match=r"17 tokens do not fit in block_size=16: give at most 16 tokens"):
        position_graph(model, [0] * 17)
    for text in (5, b"em", None):
        with pytest.raises(TypeError, match=r"text must be a str \(read after BOS\) or a list of token ids, got"):
            draw_position(model, text)
    with pytest.raises(TypeError, match="expected an nn.GPT, got str: 'emm'"):
        draw_position("emm", model)
    np = pytest.importorskip("numpy")
    assert [z.data for z in position_graph(model, "emm", position=np.int64(-1))] == [z.data for z in logits]


def test_one_head_is_drawn_node_by_node_from_the_models_numbers(model):
    outputs, weights = head_graph(model, "emm", head=2)
    cache = model.new_cache()
    model.float_function()([26, 4, 12, 12], cache)
    assert [w.data for w in weights] == cache.weights[0][3][2]
    assert [w.label for w in weights] == ["w[0: .]", "w[1: e]", "w[2: m]", "w[3: m]"]
    d = model.n_embd // model.n_head
    values = [v[2 * d:3 * d] for v in cache.values[0]]
    for j, out in enumerate(outputs):
        assert out.data == pytest.approx(sum(w * v[j] for w, v in zip(cache.weights[0][3][2], values)), rel=1e-13)
    drawing = draw_head(model, "emm", head=2)
    assert boxes(drawing) == [] and "max_shift" in drawing.source
    assert all(f"<B>{name}</B>" in drawing.source for name in ("q[0]", "k3[3]", "v0[1]", "out[3]"))
    with pytest.raises(ValueError, match="head must be in 0..3"):
        head_graph(model, "em", head=4)


def test_attention_weights_are_causal_probabilities(model):
    weights = attention_weights(model, "emma")
    assert len(weights) == 4
    for head in weights:
        assert [len(row) for row in head] == [1, 2, 3, 4, 5]
        assert all(sum(row) == pytest.approx(1.0, abs=1e-15) for row in head)


def test_plot_attention_draws_one_map_per_head(model):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    axes = plot_attention(model, "ava")
    assert len(axes) == 4
    grid = axes[1].images[0].get_array()
    weights = attention_weights(model, "ava")[1]
    assert grid.shape == (4, 4)
    assert float(grid[2, 1]) == pytest.approx(weights[2][1]) and grid.mask[1, 2]  # the future: empty
    assert [t.get_text() for t in axes[0].get_xticklabels()] == [".", "a", "v", "a"]
    import matplotlib.pyplot as plt

    plt.close("all")


def test_stepping_through_a_softmax_backward_gives_backwards_gradients():
    z = [Value(2.0, label="z0"), Value(-1.0, label="z1"), Value(0.5, label="z2")]
    loss = -log_softmax(z)[0]
    steps = backward_steps(loss)
    replayed = steps.grads()
    assert [replayed[zi] for zi in z] == pytest.approx(gradients(loss, z), abs=1e-15)
    p = [math.exp(v.data) / sum(math.exp(w.data) for w in z) for v in z]
    assert [replayed[zi] for zi in z] == pytest.approx([p[0] - 1.0, p[1], p[2]], abs=1e-15)
    shift = next(step for step in steps if step.node is not None and step.node._op == "max_shift")
    assert all(update.local == 0.0 for update in shift.updates)
    pytest.importorskip("ipywidgets")
    from autograd import Stepper

    stepper = Stepper(loss)
    stepper.go(len(stepper) - 1)
    assert {zi: stepper.frame.grads[zi] for zi in z} == {zi: replayed[zi] for zi in z}


def test_a_deeper_model_names_each_layers_cache_and_draws_any_layers_head():
    deep = GPT(CharTokenizer("abc"), n_layer=2, n_embd=4, n_head=2, block_size=6, seed=0)
    drawing = draw_position(deep, "ab")
    assert boxes(drawing) == ["Embedding", "norm", "Block 0", "Block 1", "lm_head"]
    assert "<B>L1.k0[0]</B>" in drawing.source and "<B>L0.v1[3]</B>" in drawing.source
    outputs, weights = head_graph(deep, "ab", layer=1, head=1)
    assert [w.data for w in weights] == attention_weights(deep, "ab", layer=1)[1][2]
    with pytest.raises(ValueError, match="layer must be in 0..1"):
        attention_weights(deep, "ab", layer=2)
