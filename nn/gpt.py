"""A small GPT on scalars: causal multi-head self-attention with a key/value cache, an MLP block,
residual wiring, and `GPT`, the whole character-level model microgpt trains on names.

The model reads one position at a time, as microgpt does. Each position looks itself up in two
tables (the token's embedding plus the position's), is normalised, passes through the blocks, and
ends as one logit per token of the vocabulary: the model's scores for what comes next. Attention
lets a position look back: its query is compared (dot product) with the key of every position so
far, the softmax of those scores weighs their values. Keys and values of earlier positions are kept
in a `KVCache`, so each position is computed once; and since a position can only read the cache,
no later token can change an earlier output (the model is causal by construction).

Parameter names follow PyTorch (``blocks.0.attn.wq.weight.3.5``); ``to_torch(model)`` gives the
same network in PyTorch. Like every block in `nn.blocks`, the forward is plain arithmetic that runs
on floats too: ``model.float_function()`` is the fast way to evaluate and sample.
"""

import math
import numbers

from autograd import is_tracing, scope, take

from .blocks import Floatable, Embedding, LayerNorm, Linear, RMSNorm, _vector, dot, log_softmax, relu, softmax, total
from .checks import flag, is_whole, short as _short
from .module import _check_choice, _check_size, register, rng_from

NORMS = {"rmsnorm": RMSNorm, "layernorm": LayerNorm}


class KVCache:
    """What attention remembers of the positions read so far.

    For each layer: ``keys[layer][t]`` and ``values[layer][t]`` are the key and value vectors of
    position t, what later positions read. Kept as floats for looking at (`nn.gpt_views`):
    ``queries[layer][t]``, the query of position t, and ``weights[layer][t][h]``, the attention
    weights head h gave positions 0..t. ``len(cache)`` is the number of positions read; a cache
    holds at most ``block_size``.
    """

    def __init__(self, n_layer, block_size):
        self.n_layer = _check_size(n_layer, "KVCache n_layer")
        self.block_size = _check_size(block_size, "KVCache block_size")
        self.keys = [[] for _ in range(n_layer)]
        self.values = [[] for _ in range(n_layer)]
        self.queries = [[] for _ in range(n_layer)]
        self.weights = [[] for _ in range(n_layer)]

    def __len__(self):
        return len(self.keys[-1])  # the last layer is written last: only complete positions count

    def __repr__(self):
        return f"KVCache({len(self)} of {self.block_size} positions, {self.n_layer} layer{'s' if self.n_layer > 1 else ''})"


def attend(q, keys, values):
    """One attention head at one position: ``(output, weights)``.

    The score of position t is ``q·k_t / √d`` (d = the head's size): how well what this position
    looks for (its query) matches what position t offers (its key). The weights are the softmax of
    the scores, and the output is the weighted sum of the values ``Σ_t w_t v_t``.
    """
    scale = math.sqrt(len(q))
    scores = [dot(q, k) / scale for k in keys]
    weights = softmax(scores)
    output = [total([w * v[j] for w, v in zip(weights, values)]) for j in range(len(q))]
    return output, weights


@register
class CausalSelfAttention(Floatable):
    """Multi-head self-attention for one position, with a key/value cache.

    ``wq``, ``wk``, ``wv`` map the input to a query, a key and a value (``n_embd`` numbers each),
    split into ``n_head`` heads of ``n_embd // n_head``; each head attends (see `attend`) over the
    cache, and ``wo`` mixes the heads' outputs back into ``n_embd`` numbers. ``attn(x, cache)``
    appends this position's key and value to ``cache`` (a `KVCache`; ``layer`` says which of its
    layers is this module's) and returns the output vector. Each head computes in scope
    ``"Head h"``, so drawings can box heads.
    """

    def __init__(self, n_embd, n_head, bias=False, std=None, layer=0, seed=None):
        super().__init__()
        self.n_embd, self.n_head = _heads(n_embd, n_head, "CausalSelfAttention")
        self.nin = self.nout = self.n_embd
        self.layer = _layer_slot(layer)
        bias = flag(bias, "CausalSelfAttention bias")
        self.head_dim = self.n_embd // self.n_head
        rng = rng_from(seed)
        self.wq, self.wk, self.wv, self.wo = (Linear(n_embd, n_embd, bias, std, rng) for _ in range(4))
        for name in ("wq", "wk", "wv", "wo"):
            getattr(self, name).name = name

    def forward(self, x, cache):
        x = _vector(x, self.n_embd, self.name)
        if not isinstance(cache, KVCache) or self.layer >= cache.n_layer:
            raise TypeError(f"{self.name} needs a KVCache with a slot for layer {self.layer}, got {cache!r}")
        q, k, v = self.wq(x), self.wk(x), self.wv(x)
        keys, values = cache.keys[self.layer], cache.values[self.layer]
        keys.append(k)
        values.append(v)
        out, used = [], []
        d = self.head_dim
        for h in range(self.n_head):
            with scope(f"Head {h}"):
                head, weights = attend(q[h * d:(h + 1) * d], [key[h * d:(h + 1) * d] for key in keys],
                                       [value[h * d:(h + 1) * d] for value in values])
            out.extend(head)
            used.append(weights)
        if not is_tracing():  # numbers kept for the pictures; compiled training has none to keep
            cache.queries[self.layer].append([float(qi) for qi in q])
            cache.weights[self.layer].append([[float(w) for w in weights] for weights in used])
        return self.wo(out)

    def extra_repr(self):
        return f"n_embd={self.n_embd}, n_head={self.n_head}"

    def config(self):
        return {"type": "CausalSelfAttention", "n_embd": self.n_embd, "n_head": self.n_head,
                "bias": self.wq.bias is not None, "layer": self.layer}

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``CausalSelfAttention(**config)``, counted without building it."""
        n, _ = _heads(config["n_embd"], config["n_head"], "CausalSelfAttention")
        _layer_slot(config["layer"])
        return 4 * Linear.layout_size({"nin": n, "nout": n, "bias": config["bias"], "std": config["std"]})


def _heads(n_embd, n_head, who):
    """``(n_embd, n_head)`` as ints, checked: ``n_head`` heads of ``n_embd // n_head`` channels each."""
    n_embd, n_head = _check_size(n_embd, f"{who} n_embd"), _check_size(n_head, f"{who} n_head")
    if n_embd % n_head:
        raise ValueError(f"n_embd={n_embd} must be a multiple of n_head={n_head} (each head gets n_embd // n_head channels)")
    return n_embd, n_head


def _layer_slot(layer):
    if not is_whole(layer) or layer < 0:
        raise ValueError(f"layer must be an int >= 0 (this module's slot in the KVCache), got {layer!r}")
    return int(layer)


@register
class MLPBlock(Floatable):
    """The position-wise MLP of a transformer block: ``fc2(relu(fc1(x)))``, widening to ``hidden``
    numbers (4 × ``n_embd`` by default) and back. Each position computes alone here; attention is
    where positions meet."""

    def __init__(self, n_embd, hidden=None, bias=False, std=None, seed=None):
        super().__init__()
        self.n_embd = self.nin = self.nout = _check_size(n_embd, "MLPBlock n_embd")
        self.hidden = _check_size(4 * n_embd if hidden is None else hidden, "MLPBlock hidden")
        rng = rng_from(seed)
        self.fc1 = Linear(n_embd, self.hidden, bias, std, rng)
        self.fc2 = Linear(self.hidden, n_embd, bias, std, rng)
        self.fc1.name, self.fc2.name = "fc1", "fc2"

    def forward(self, x):
        return self.fc2([relu(h) for h in self.fc1(x)])

    def extra_repr(self):
        return f"{self.n_embd}, hidden={self.hidden}"

    def config(self):
        return {"type": "MLPBlock", "n_embd": self.n_embd, "hidden": self.hidden, "bias": self.fc1.bias is not None}

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``MLPBlock(**config)``, counted without building it."""
        n = _check_size(config["n_embd"], "MLPBlock n_embd")
        hidden = _check_size(4 * n if config["hidden"] is None else config["hidden"], "MLPBlock hidden")
        sizes = {"bias": config["bias"], "std": config["std"]}
        return Linear.layout_size({"nin": n, "nout": hidden, **sizes}) + Linear.layout_size({"nin": hidden, "nout": n, **sizes})


@register
class Block(Floatable):
    """One transformer block, pre-norm with residual connections:

        x = x + attn(norm1(x))      # positions exchange information
        x = x + mlp(norm2(x))       # each position thinks on its own

    The ``x + ...`` is the residual stream: each block adds a change to it, and the gradient flows
    back through the ``+`` unchanged, which keeps deep stacks trainable."""

    def __init__(self, n_embd, n_head, norm="rmsnorm", std=None, layer=0, seed=None):
        super().__init__()
        self.n_embd = self.nin = self.nout = _check_size(n_embd, "Block n_embd")
        self.norm = _check_choice(norm, NORMS, "norm")
        rng = rng_from(seed)
        self.norm1 = _norm(norm, n_embd, "norm 1")
        self.attn = CausalSelfAttention(n_embd, n_head, std=std, layer=layer, seed=rng)
        self.norm2 = _norm(norm, n_embd, "norm 2")
        self.mlp = MLPBlock(n_embd, std=std, seed=rng)
        self.attn.name, self.mlp.name = "Attention", "MLP"

    def forward(self, x, cache):
        x = [a + b for a, b in zip(x, self.attn(self.norm1(x), cache))]
        return [a + b for a, b in zip(x, self.mlp(self.norm2(x)))]

    def extra_repr(self):
        return f"n_embd={self.n_embd}, n_head={self.attn.n_head}, norm={self.norm!r}"

    def config(self):
        return {"type": "Block", "n_embd": self.n_embd, "n_head": self.attn.n_head, "norm": self.norm, "layer": self.attn.layer}

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``Block(**config)``, counted without building it (its norms have none)."""
        n = _check_size(config["n_embd"], "Block n_embd")
        _check_choice(config["norm"], NORMS, "norm")
        parts = {"n_embd": n, "bias": False, "std": config["std"]}
        return (CausalSelfAttention.layout_size({**parts, "n_head": config["n_head"], "layer": config["layer"]})
                + MLPBlock.layout_size({**parts, "hidden": None}))


def _norm(kind, dim, name):
    """A normalisation without learned weights, as microgpt's (its scale is left to the next layer)."""
    module = NORMS[kind](dim, elementwise_affine=False)
    module.name = name
    return module


@register
class GPT(Floatable):
    """A character-level GPT: token and position embeddings, ``n_layer`` transformer `Block`s, and
    a linear head that gives one logit per token of the vocabulary.

    ``vocab`` is a `nn.text.CharTokenizer` (then `nn.text.generate` returns strings), the characters
    it knows as a string, or a vocabulary size (token ids then; the last id is BOS, the token that
    starts and ends a sequence, as in the tokenizer). The defaults are microgpt's: 1 layer, 16 channels,
    4 heads, 16 positions, RMSNorm without weights (also right after the embeddings), ReLU, no
    biases, weights drawn from N(0, ``std`` = 0.08) in microgpt's order (wte, wpe, lm_head, then
    each layer's wq, wk, wv, wo, fc1, fc2), about 4,200 parameters.

    ``model(tokens)`` reads a list of token ids from the start and returns, for each position, the
    list of logits for the next token. ``model(tokens, cache)`` continues after the positions the
    `KVCache` already holds (``model.new_cache()``), which is how sampling reads one token at a time.
    """

    def __init__(self, vocab, n_layer=1, n_embd=16, n_head=4, block_size=16, norm="rmsnorm", std=0.08, seed=None):
        super().__init__()
        self.tokenizer, self.vocab_size = _vocabulary(vocab)
        self.n_layer = n_layer = _check_size(n_layer, "GPT n_layer")
        self.n_embd, self.n_head = n_embd, n_head = _heads(n_embd, n_head, "GPT")
        self.block_size = block_size = _check_size(block_size, "GPT block_size")
        self.norm_kind = _check_choice(norm, NORMS, "norm")
        rng = rng_from(seed)
        # drawn in microgpt's order (the head before the blocks), kept in the order they compute
        wte = Embedding(self.vocab_size, n_embd, std, rng)
        wpe = Embedding(block_size, n_embd, std, rng)
        lm_head = Linear(n_embd, self.vocab_size, bias=False, std=std, seed=rng)
        self.wte, self.wpe = wte, wpe
        self.norm = _norm(norm, n_embd, "norm")
        self.blocks = [Block(n_embd, n_head, norm, std, layer=i, seed=rng) for i in range(n_layer)]
        self.lm_head = lm_head
        wte.name, wpe.name, lm_head.name = "wte", "wpe", "lm_head"
        for i, block in enumerate(self.blocks):
            block.name = f"Block {i}"

    def new_cache(self):
        """An empty `KVCache` for this model."""
        return KVCache(self.n_layer, self.block_size)

    def forward(self, tokens, cache=None):
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, (list, tuple)):
            hint = " (encode text first: model.tokenizer.encode(text))" if isinstance(tokens, str) else ""
            raise TypeError(f"{self.name} takes a list of token ids, got {type(tokens).__name__}: {tokens!r}{hint}")
        if cache is None:
            cache = self.new_cache()
        elif not isinstance(cache, KVCache) or cache.n_layer != self.n_layer:
            raise TypeError(f"{self.name}: cache must be a KVCache from model.new_cache(), got {cache!r}")
        if len(cache) + len(tokens) > self.block_size:
            raise ValueError(
                f"{self.name} reads at most block_size={self.block_size} positions; the cache holds "
                f"{len(cache)} and {len(tokens)} more were given (crop the sequence, or start a new cache)"
            )
        return [self._position(token, cache) for token in tokens]

    def step(self, token, cache):
        """The logits for what follows ``token``, read at the next position of ``cache``."""
        return self([token], cache)[0]

    def _position(self, token, cache):
        if isinstance(token, bool) or not isinstance(token, numbers.Integral) or not 0 <= token < self.vocab_size:
            raise ValueError(f"{self.name}: token ids are ints in 0..{self.vocab_size - 1}, got {token!r}")
        position = len(cache)
        with scope("Embedding"):  # the input of the blocks: token + position
            x = [t + p for t, p in zip(self.wte(token), self.wpe(position))]
        x = self.norm(x)
        for block in self.blocks:
            x = block(x, cache)
        return self.lm_head(x)

    def extra_repr(self):
        return (f"vocab_size={self.vocab_size}, n_layer={self.n_layer}, n_embd={self.n_embd}, "
                f"n_head={self.n_head}, block_size={self.block_size}")

    def config(self):
        vocab = self.tokenizer.chars if self.tokenizer is not None else self.vocab_size
        return {"type": "GPT", "vocab": vocab, "n_layer": self.n_layer, "n_embd": self.n_embd,
                "n_head": self.n_head, "block_size": self.block_size, "norm": self.norm_kind}

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``GPT(**config)``, counted without building it: the two embedding
        tables, the head and the blocks."""
        vocab = config["vocab"]  # the characters' count, without a tokenizer's tables
        vocab_size = len(set(vocab)) + 1 if isinstance(vocab, str) and vocab else _vocabulary(vocab)[1]
        n_layer = _check_size(config["n_layer"], "GPT n_layer")
        n, n_head = _heads(config["n_embd"], config["n_head"], "GPT")
        block_size = _check_size(config["block_size"], "GPT block_size")
        std = config["std"]
        block = Block.layout_size({"n_embd": n, "n_head": n_head, "norm": config["norm"], "std": std, "layer": 0})
        return (Embedding.layout_size({"num": vocab_size, "dim": n, "std": std})
                + Embedding.layout_size({"num": block_size, "dim": n, "std": std})
                + Linear.layout_size({"nin": n, "nout": vocab_size, "bias": False, "std": std}) + n_layer * block)


def _vocabulary(vocab):
    from .text import CharTokenizer

    if isinstance(vocab, CharTokenizer):
        return vocab, vocab.vocab_size
    if isinstance(vocab, str):
        tokenizer = CharTokenizer(vocab)
        return tokenizer, tokenizer.vocab_size
    if not is_whole(vocab) or vocab < 2:
        raise TypeError(f"GPT vocab is a CharTokenizer, its characters as a string, or a vocabulary size (an int >= 2), got {_short(vocab)}")
    return None, int(vocab)


def next_token_loss(logits, targets):
    """The next-token loss of a batch of sequences, in nats per token.

    ``logits[b][t]`` are the logits sequence b gave at position t, ``targets[b][t]`` the token that
    really came next; each prediction costs ``-log softmax(logits)[target]``, and the loss is the
    mean over every prediction in the batch. Works on `Value`s (a `Value`) and floats (a float).
    """
    if not isinstance(logits, (list, tuple)) or not logits or len(logits) != len(targets):
        raise ValueError("next_token_loss takes a batch: a list of sequences of logits and a list of target sequences, as long")
    terms = []
    for sequence, expected in zip(logits, targets):
        if len(sequence) != len(expected) or not sequence:
            raise ValueError(f"next_token_loss: a sequence has {len(sequence)} positions of logits but {len(expected)} targets")
        terms.extend(take(log_softmax(z), target) for z, target in zip(sequence, expected))
    return -total(terms) / len(terms)


def split_sequence(tokens, block_size):
    """``(inputs, targets)`` of one sequence: position t reads ``tokens[t]`` and must predict
    ``tokens[t + 1]``. A sequence longer than the block is cut to its first ``block_size + 1``
    tokens, as microgpt cuts it."""
    n = min(block_size, len(tokens) - 1)
    if n < 1:
        raise ValueError(f"a sequence needs at least 2 tokens (one to read, one to predict), got {list(tokens)!r}")
    return list(tokens[:n]), list(tokens[1:n + 1])


def sequence_loss(model, tokens):
    """The mean next-token loss of one sequence of token ids (see `next_token_loss`).

    ``model`` is a `GPT` (the loss is a `Value` to call ``backward()`` on) or its float path
    (``model.float_function()``: a float)."""
    inputs, targets = split_sequence(tokens, model.block_size)
    return next_token_loss([model(inputs)], [targets])
