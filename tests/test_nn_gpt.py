"""The GPT: attention, the KV cache, causality, names, saving, PyTorch parity, the float path."""

import math
import random
from collections import Counter

import pytest

import nn
from autograd import Value, gradients, topological_order
from nn import to_torch
from nn.blocks import log_softmax
from nn.gpt import GPT, Block, CausalSelfAttention, KVCache, MLPBlock, attend, next_token_loss, sequence_loss
from nn.text import CharTokenizer
from test_nn_gpt_blocks import assert_same_grads, central_differences, randomize, vector, weighted
from torch_or_skip import torch_or_skip

TOKENIZER = CharTokenizer("abcde")  # ids 0..4, BOS = 5


def small(**sizes):
    options = dict(n_layer=2, n_embd=8, n_head=2, block_size=8, seed=1)
    options.update(sizes)
    return GPT(TOKENIZER, **options)


def data(xs):
    return [[v.data for v in row] for row in xs]


def flat(rows):
    return [v for row in rows for v in row]


# ---- structure ---------------------------------------------------------------------------------------
def test_default_sizes_are_microgpts_and_names_follow_pytorch():
    model = GPT(CharTokenizer("abcdefghijklmnopqrstuvwxyz"), seed=0)
    assert (model.n_layer, model.n_embd, model.n_head, model.block_size) == (1, 16, 4, 16)
    assert model.num_parameters() == 27 * 16 + 16 * 16 + 27 * 16 + 4 * 16 * 16 + 2 * 64 * 16 == 4192
    names = [name for name, _ in model.named_parameters()]
    prefixes = list(dict.fromkeys(name.rsplit(".", 2)[0] for name in names))
    assert prefixes == ["wte.weight", "wpe.weight", "blocks.0.attn.wq.weight", "blocks.0.attn.wk.weight",
                        "blocks.0.attn.wv.weight", "blocks.0.attn.wo.weight", "blocks.0.mlp.fc1.weight",
                        "blocks.0.mlp.fc2.weight", "lm_head.weight"]
    assert names[0] == "wte.weight.0.0" and names[-1] == "lm_head.weight.26.15"
    assert model.state_dict()["blocks.0.attn.wq.weight.3.5"] == model.blocks[0].attn.wq.weight[3][5].data


def test_weights_are_drawn_in_microgpts_order():
    """N(0, 0.08) row by row: wte, wpe, lm_head, then each layer's wq, wk, wv, wo, fc1, fc2."""
    model = small()
    rng = random.Random(1)
    order = [model.wte, model.wpe, model.lm_head]
    for block in model.blocks:
        order += [block.attn.wq, block.attn.wk, block.attn.wv, block.attn.wo, block.mlp.fc1, block.mlp.fc2]
    for module in order:
        assert [[p.data for p in row] for row in module.weight] == [[rng.gauss(0, 0.08) for _ in row] for row in module.weight]


def test_sizes_are_checked():
    with pytest.raises(ValueError, match="multiple of n_head"):
        GPT(TOKENIZER, n_embd=10, n_head=4)
    with pytest.raises(ValueError, match="norm"):
        GPT(TOKENIZER, norm="batchnorm")
    with pytest.raises(TypeError, match="vocabulary size"):
        GPT(1.5)
    with pytest.raises(ValueError, match="token ids are ints in 0..5"):
        small()([0, 6])
    with pytest.raises(TypeError, match="encode text first"):
        small()("abc")
    with pytest.raises(ValueError, match="block_size=8"):
        small()([5, 0, 1, 2, 3, 4, 0, 1, 2])
    model = small()
    cache = model.new_cache()
    model([5, 0, 1, 2, 3, 4, 0], cache)
    with pytest.raises(ValueError, match="the cache holds 7 and 2 more"):
        model([1, 2], cache)
    assert len(cache) == 7  # refused before reading anything


# ---- attention, the cache, causality -----------------------------------------------------------------
def test_attend_is_the_softmax_weighted_sum_of_values():
    q = [Value(v) for v in (0.5, -1.0)]
    keys = [[Value(v) for v in k] for k in ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0))]
    values = [[Value(v) for v in k] for k in ((1.0, 2.0), (3.0, -1.0), (0.0, 0.5))]
    out, weights = attend(q, keys, values)
    scores = [(0.5 * k0 - 1.0 * k1) / math.sqrt(2) for k0, k1 in ((1, 0), (0, 1), (1, 1))]
    expected = [math.exp(s) / sum(math.exp(r) for r in scores) for s in scores]
    assert [w.data for w in weights] == pytest.approx(expected, rel=1e-14)
    for j in range(2):
        assert out[j].data == pytest.approx(sum(w * v[j].data for w, v in zip(expected, values)), rel=1e-14)


def test_the_cache_gives_the_same_outputs_as_reading_the_whole_sequence():
    model = small()
    tokens = [5, 0, 3, 3, 1, 4, 2]
    whole = data(model(tokens))
    cache = model.new_cache()
    stepped = [[v.data for v in model.step(token, cache)] for token in tokens]
    assert stepped == whole  # to the last bit
    assert len(cache) == len(tokens) and repr(cache) == "KVCache(7 of 8 positions, 2 layers)"
    resumed = model.new_cache()
    model(tokens[:3], resumed)
    assert data(model(tokens[3:], resumed)) == whole[3:]


def test_a_later_token_never_changes_an_earlier_output():
    model = small()
    tokens = [5, 0, 3, 3, 1, 4]
    base = data(model(tokens))
    for t in range(len(tokens)):
        for other in range(5):
            changed = tokens[:t] + [other] + tokens[t + 1:]
            out = data(model(changed))
            assert out[:t] == base[:t]
            if other != tokens[t]:
                assert out[t] != base[t]  # ...while the position itself does see its token


def test_attention_weights_are_kept_per_position_and_head_and_sum_to_one():
    model = small()
    cache = model.new_cache()
    model([5, 0, 1, 2], cache)
    for layer in range(2):
        assert len(cache.weights[layer]) == 4 and len(cache.queries[layer]) == 4
        for t, heads in enumerate(cache.weights[layer]):
            assert len(heads) == 2
            for weights in heads:
                assert len(weights) == t + 1 and sum(weights) == pytest.approx(1.0, abs=1e-15)
                assert all(type(w) is float for w in weights)


def test_the_first_position_attends_only_to_itself():
    model = small()
    cache = model.new_cache()
    model([5], cache)
    assert cache.weights[0][0] == [[1.0], [1.0]]


def test_shapes():
    model = small()
    logits = model([5, 0, 1])
    assert len(logits) == 3 and all(len(z) == model.vocab_size == 6 for z in logits)
    cache = model.new_cache()
    assert len(model.step(5, cache)) == 6 and len(cache) == 1
    assert [len(k) for k in cache.keys[0]] == [8] and len(cache.keys) == 2
    attn = model.blocks[0].attn
    assert (attn.n_head, attn.head_dim) == (2, 4)


def test_attention_alone_matches_pytorch_outputs_and_gradients():
    torch = torch_or_skip()
    attn = CausalSelfAttention(6, 3, seed=0)
    rows = [vector(6, seed=s) for s in range(5)]
    xs = [[Value(v) for v in row] for row in rows]
    cache = KVCache(1, 5)
    ours = [attn(x, cache) for x in xs]
    net = to_torch(attn)
    xt = torch.tensor([rows], dtype=torch.float64, requires_grad=True)
    theirs = net(xt)[0]
    assert flat(data(ours)) == pytest.approx(flat(theirs.tolist()), abs=1e-12)
    coefficients = vector(30, seed=9)
    (theirs.reshape(-1) * torch.tensor(coefficients, dtype=torch.float64)).sum().backward()
    Value.sum([c * v for c, v in zip(coefficients, flat(ours))]).backward()
    assert flat([[v.grad for v in x] for x in xs]) == pytest.approx(xt.grad[0].reshape(-1).tolist(), abs=1e-12)
    assert_same_grads(attn, net, tol=1e-12)


def test_attention_needs_its_cache():
    attn = CausalSelfAttention(4, 2, seed=0)
    with pytest.raises(TypeError, match="KVCache with a slot for layer 0"):
        attn([0.1, 0.2, 0.3, 0.4], None)
    out = attn([0.1, 0.2, 0.3, 0.4], KVCache(1, 4))
    assert len(out) == 4


# ---- gradients ----------------------------------------------------------------------------------------
def test_gpt_gradients_match_central_differences():
    model = small(n_layer=1, block_size=6)
    tokens = [5, 0, 3, 1, 5]
    loss = sequence_loss(model, tokens)
    params = model.parameters()
    rng = random.Random(0)
    chosen = rng.sample(params, 40) + [model.wte.weight[3][2], model.wpe.weight[3][1]]
    analytic = gradients(loss, chosen)
    numeric = central_differences(lambda: sequence_loss(model, tokens), chosen)
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-8)
    assert model.wpe.weight[5][0] not in set(p for p in chosen)  # a position never read...
    assert gradients(loss, [model.wpe.weight[5][0]]) == [0.0]  # ...gets no gradient


@pytest.mark.parametrize("module", [MLPBlock(6, seed=0), Block(6, 2, seed=1), Block(6, 3, norm="layernorm", seed=2)],
                         ids=["mlp", "block", "block-layernorm"])
def test_block_gradients_match_central_differences(module):
    x = vector(6, seed=3)
    call = (lambda xs: module(xs)) if isinstance(module, MLPBlock) else (lambda xs: module(xs, _filled(module)))
    xs = [Value(v) for v in x]
    leaves = xs + module.parameters()
    analytic = gradients(weighted(call(xs)), leaves)
    numeric = central_differences(lambda: weighted(call(xs)), leaves)
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def _filled(block):
    """A cache with two earlier positions already in it, so attention has something to weigh."""
    cache = KVCache(1, 4)
    cache.keys[0] += [vector(6, seed=4), vector(6, seed=5)]
    cache.values[0] += [vector(6, seed=6), vector(6, seed=7)]
    cache.queries[0] += [[0.0] * 6, [0.0] * 6]
    cache.weights[0] += [[[1.0]], [[0.5, 0.5]]]
    return cache


def test_next_token_loss_is_the_mean_over_every_prediction():
    logits = [[[1.0, 2.0, 0.5], [0.0, 0.0, 3.0]], [[2.0, 1.0, 1.0]]]
    targets = [[1, 2], [0]]
    expected = -(log_softmax(logits[0][0])[1] + log_softmax(logits[0][1])[2] + log_softmax(logits[1][0])[0]) / 3
    assert next_token_loss(logits, targets) == pytest.approx(expected, rel=1e-15)
    with pytest.raises(ValueError, match="2 positions of logits but 1 targets"):
        next_token_loss([logits[0]], [[1]])
    with pytest.raises(ValueError, match="at least 2 tokens"):
        sequence_loss(small(), [5])


# ---- float path, tracing, saving --------------------------------------------------------------------------
def test_the_float_path_gives_the_graph_paths_numbers():
    model = small(norm="layernorm")
    tokens = [5, 4, 3, 2, 1, 0]
    f = model.float_function()
    assert f(tokens) == data(model(tokens))
    assert sequence_loss(f, tokens + [5]) == sequence_loss(model, tokens + [5]).data
    assert model.forward_floats(tokens) == data(model(tokens))


def test_every_position_runs_the_same_operations_whatever_the_tokens():
    """No branch on the data: a trace of one sequence replays on another of the same length."""
    model = small()

    def ops(tokens):  # every operation the loss is made of (a token read twice shares its leaves)
        return Counter(node._op for node in topological_order(sequence_loss(model, tokens)) if node._prev)

    assert ops([5, 0, 1, 2, 5]) == ops([5, 4, 4, 4, 5]) == ops([1, 3, 0, 2, 2])


def test_save_and_load_round_trip(tmp_path):
    model = randomize(small(), seed=3)
    path = tmp_path / "gpt.json"
    model.save(path)
    loaded = nn.load(path)
    assert isinstance(loaded, GPT) and loaded.tokenizer == TOKENIZER
    assert loaded.state_dict() == model.state_dict() and loaded.config() == model.config()
    assert data(loaded([5, 1, 2])) == data(model([5, 1, 2]))
    fresh = small(seed=9)
    fresh.load(path)
    assert fresh.state_dict() == model.state_dict()
    other = small(n_embd=4)
    before = other.state_dict()
    with pytest.raises(ValueError, match="different model"):
        other.load(path)
    assert other.state_dict() == before  # a failed load changes nothing
    sized = GPT(6, n_embd=4, n_head=2, block_size=4, seed=0)
    sized.save(tmp_path / "sized.json")
    assert nn.load(tmp_path / "sized.json").tokenizer is None


# ---- PyTorch ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("norm", ["rmsnorm", "layernorm"])
def test_to_torch_gives_the_same_outputs_and_gradients(norm):
    torch = torch_or_skip()
    model = small(norm=norm)
    net = to_torch(model)
    tokens = [5, 0, 3, 3, 1, 4, 2, 1]
    theirs = net(torch.tensor(tokens))
    assert theirs.shape == (8, 6)
    assert flat(data(model(tokens))) == pytest.approx(flat(theirs.tolist()), abs=1e-12)
    batch = net(torch.tensor([tokens, tokens[::-1]]))
    assert flat(batch[1].tolist()) == pytest.approx(flat(data(model(tokens[::-1]))), abs=1e-12)
    targets = tokens[1:] + [5]
    torch.nn.functional.cross_entropy(theirs, torch.tensor(targets)).backward()
    loss = next_token_loss([model(tokens)], [targets])
    assert loss.data == pytest.approx(torch.nn.functional.cross_entropy(theirs, torch.tensor(targets)).item(), abs=1e-12)
    model.zero_grad()
    loss.backward()
    assert_same_grads(model, net, tol=1e-9)


def test_blocks_convert_to_torch_on_their_own():
    torch = torch_or_skip()
    block = Block(6, 2, seed=0)
    xs = [vector(6, seed=s) for s in range(4)]
    cache = KVCache(1, 4)
    ours = [[v.data for v in block([Value(x) for x in row], cache)] for row in xs]
    theirs = to_torch(block)(torch.tensor([xs], dtype=torch.float64))[0]
    assert flat(ours) == pytest.approx(flat(theirs.tolist()), abs=1e-12)
    mlp = MLPBlock(6, seed=1)
    assert [v.data for v in mlp(xs[0])] == pytest.approx(to_torch(mlp)(torch.tensor([xs[0]], dtype=torch.float64))[0].tolist(), abs=1e-12)
