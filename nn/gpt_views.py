"""Pictures of a `GPT`: the graph of one position with each part drawn as a box, one attention
head drawn node by node, and the attention weights of every head.

The graphs are `autograd.draw_dot` drawings of the model's own computation (the same `attend`
and the same weights), so a picture can never disagree with what training backpropagates through.
"""

import numbers

from autograd import Value, draw_dot

from .gpt import GPT, attend
from .module import _short


def _tokens(model, text):
    """``text`` as the token ids the model reads: BOS and then the text's characters (a string),
    or a list of token ids as it is."""
    if not isinstance(model, GPT):
        raise TypeError(f"expected an nn.GPT, got {type(model).__name__}: {_short(model)}")
    if isinstance(text, str):
        if model.tokenizer is None:
            raise TypeError("this model has no tokenizer: give a list of token ids")
        tokens = [model.tokenizer.bos, *model.tokenizer.encode(text)]
        read = f" (BOS and the {len(text)} characters of the text)"
    else:
        tokens = None
        if not isinstance(text, (bytes, bytearray)):
            try:
                tokens = list(text)
            except TypeError:
                pass
        if tokens is None:
            raise TypeError(f"text must be a str (read after BOS) or a list of token ids, got {type(text).__name__}: "
                            f"{_short(text)}")
        read = ""
    if not tokens:
        raise ValueError("give at least one token to read")
    if len(tokens) > model.block_size:
        most = "characters" if isinstance(text, str) else "tokens"
        limit = model.block_size - 1 if isinstance(text, str) else model.block_size
        raise ValueError(f"{len(tokens)} tokens{read} do not fit in block_size={model.block_size}: give at most "
                         f"{limit} {most}")
    return tokens


def _position(tokens, position):
    if position is None:
        return len(tokens) - 1
    if isinstance(position, bool) or not isinstance(position, numbers.Integral) or not -len(tokens) <= position < len(tokens):
        raise ValueError(f"position must index the {len(tokens)} tokens read (0 to {len(tokens) - 1}, or -1 for the "
                         f"last), got {_short(position)}")
    return int(position) % len(tokens)


def _symbol(model, token):
    return model.tokenizer.symbol(token) if model.tokenizer is not None else str(token)


def position_graph(model, text, position=None):
    """The logits `Value`s of one position, with the earlier positions' keys and values as labelled
    input leaves (``k2[5]`` is channel 5 of position 2's key; ``L1.k2[5]`` in layer 1 of several).

    ``text`` is read after BOS (a string), or is a list of token ids; ``position`` defaults to the
    last one. Each logit is labelled with the token it scores (``logit[a]``)."""
    tokens = _tokens(model, text)
    position = _position(tokens, position)
    cache = model.new_cache()
    model.float_function()(tokens[:position], cache)
    for layer in range(model.n_layer):  # the cache's numbers as input leaves, outside every box
        prefix = f"L{layer}." if model.n_layer > 1 else ""
        cache.keys[layer] = [[Value(x, label=f"{prefix}k{t}[{j}]") for j, x in enumerate(key)]
                             for t, key in enumerate(cache.keys[layer])]
        cache.values[layer] = [[Value(x, label=f"{prefix}v{t}[{j}]") for j, x in enumerate(value)]
                               for t, value in enumerate(cache.values[layer])]
    logits = model.step(tokens[position], cache)
    for i, z in enumerate(logits):
        z.label = f"logit[{_symbol(model, i)}]"
    return logits


def draw_position(model, text, position=None, collapse=2, **options):
    """Draw the graph of one position (see `position_graph`) with each part of the model as a box:
    by default the embedding lookup, the first norm, each block and the head (``collapse=2``:
    the first two scope levels, GPT > part). ``collapse="Attention"``, ``"MLP"``, ``"Head"`` or
    ``"Block"`` boxes those instead; other keywords go to `autograd.draw_dot`."""
    return draw_dot(position_graph(model, text, position), collapse=collapse, **options)


def head_graph(model, text, layer=0, head=0, position=None):
    """One attention head at one position, as a graph of its own: ``(outputs, weights)``.

    Its inputs are leaves holding the numbers the model computed: the position's query ``q[j]``,
    and the keys ``k{t}[j]`` and values ``v{t}[j]`` of positions t = 0..position (this head's
    channels only); then `attend`, the code the model runs, computes the scores, their softmax
    (the weights ``w[t]``, labelled with the token read at t) and the outputs ``out[j]``."""
    tokens = _tokens(model, text)
    position = _position(tokens, position)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < model.n_layer:
        raise ValueError(f"layer must be in 0..{model.n_layer - 1}, got {layer!r}")
    if isinstance(head, bool) or not isinstance(head, int) or not 0 <= head < model.n_head:
        raise ValueError(f"head must be in 0..{model.n_head - 1}, got {head!r}")
    cache = model.new_cache()
    model.float_function()(tokens[:position + 1], cache)
    d = model.n_embd // model.n_head
    part = slice(head * d, (head + 1) * d)
    q = [Value(x, label=f"q[{j}]") for j, x in enumerate(cache.queries[layer][position][part])]
    keys = [[Value(x, label=f"k{t}[{j}]") for j, x in enumerate(key[part])] for t, key in enumerate(cache.keys[layer])]
    values = [[Value(x, label=f"v{t}[{j}]") for j, x in enumerate(v[part])] for t, v in enumerate(cache.values[layer])]
    outputs, weights = attend(q, keys, values)
    for t, w in enumerate(weights):
        w.label = f"w[{t}: {_symbol(model, tokens[t])}]"
    for j, out in enumerate(outputs):
        out.label = f"out[{j}]"
    return outputs, weights


def draw_head(model, text, layer=0, head=0, position=None, **options):
    """Draw one attention head at one position node by node (see `head_graph`); keywords go to
    `autograd.draw_dot` (``rankdir="TB"`` suits a tall head; a late position may need
    ``max_nodes=None``)."""
    outputs, _ = head_graph(model, text, layer, head, position)
    return draw_dot(outputs, **options)


def attention_weights(model, text, layer=0):
    """``weights[h][t]``: the attention weights head ``h`` of ``layer`` gave positions 0..t when
    reading position t (a list of t + 1 floats that add up to 1), on the float path."""
    tokens = _tokens(model, text)
    if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < model.n_layer:
        raise ValueError(f"layer must be in 0..{model.n_layer - 1}, got {layer!r}")
    cache = model.new_cache()
    model.float_function()(tokens, cache)
    return [[row[h] for row in cache.weights[layer]] for h in range(model.n_head)]


def plot_attention(model, text, layer=0, axes=None):
    """Heat maps of the attention weights of every head of ``layer`` (matplotlib): row t is the
    position reading, column s the position read; the upper triangle is empty (no position sees
    the future). Returns the axes."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("plot_attention needs matplotlib: pip install chainrule[notebook]") from None
    weights = attention_weights(model, text, layer)
    tokens = _tokens(model, text)
    labels = [_symbol(model, t) for t in tokens]
    n = len(tokens)
    if axes is None:
        _, axes = plt.subplots(1, model.n_head, figsize=(2.4 * model.n_head, 2.6), squeeze=False)
        axes = axes[0]
    if len(axes) != model.n_head:
        raise ValueError(f"plot_attention draws {model.n_head} heads; got {len(axes)} axes")
    for h, ax in enumerate(axes):
        grid = [[row[s] if s < len(row) else float("nan") for s in range(n)] for row in weights[h]]
        ax.imshow(grid, vmin=0.0, vmax=1.0, cmap="Blues")
        ax.set_xticks(range(n), labels)
        ax.set_yticks(range(n), labels)
        ax.set_title(f"head {h}", fontsize="small")
        ax.tick_params(labelsize="small")
    axes[0].set_ylabel("reading")
    for ax in axes:
        ax.set_xlabel("read")
    return axes
