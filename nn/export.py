"""``to_torch(model)``: the same network in PyTorch, with the same weights.

For the learner who outgrows scalars: train (or just build) a model here, export it, and carry on
in PyTorch with batches of tensors. The export uses float64, so outputs agree to about 1e-12.
An MLP becomes a `torch.nn.Sequential`; a `GPT` and its blocks become PyTorch modules with the same
parameter names (``blocks.0.attn.wq.weight`` holds our ``blocks.0.attn.wq.weight.i.j``).
"""

import math


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch needs PyTorch: pip install torch") from None
    return torch


def to_torch(model):
    """A PyTorch module (float64) that computes what ``model`` computes.

    A `Layer` becomes ``Linear`` (+ its activation), a `Neuron` a ``Linear`` with one output,
    `Dropout` ``torch.nn.Dropout``, `Residual` a module returning ``x + block(x)``, and `MLP` /
    `Sequential` a `torch.nn.Sequential` of those; inputs are tensors of shape (batch, nin).
    `Linear`, `RMSNorm`, `LayerNorm` and `MLPBlock` become their PyTorch counterparts (inside a
    Sequential too); `Embedding` takes token ids; `CausalSelfAttention` and `Block` take a whole
    sequence (batch, time, channels), each position attending to itself and the earlier ones; a
    `GPT` takes token ids (batch, time) or (time,) and returns the logits of every position. The
    result is in training mode when ``model`` is (Dropout active), in eval mode otherwise.
    """
    torch = _torch()
    from .module import Module

    if not isinstance(model, Module):
        raise TypeError(f"to_torch takes an nn module, got {type(model).__name__}")
    if isinstance(model, _sequence_blocks()):
        return _transformer(model, torch).train(model.training)
    parts = _convert(model, torch)
    out = parts[0] if len(parts) == 1 and isinstance(parts[0], torch.nn.Sequential) else torch.nn.Sequential(*parts)
    return out.train(model.training)  # same mode: Dropout is active in both or in neither


def _activation(name, torch):
    from .activations import LEAKY_SLOPE

    return {
        "tanh": torch.nn.Tanh,
        "relu": torch.nn.ReLU,
        "sigmoid": torch.nn.Sigmoid,
        "leaky_relu": lambda: torch.nn.LeakyReLU(LEAKY_SLOPE),
        "linear": None,
    }[name]


def _linear(neurons, activation, torch):
    linear = torch.nn.Linear(len(neurons[0].w), len(neurons), dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[w.data for w in n.w] for n in neurons], dtype=torch.float64))
        linear.bias.copy_(torch.tensor([n.b.data for n in neurons], dtype=torch.float64))
    act = _activation(activation, torch)
    return [linear] if act is None else [linear, act()]


def _convert(module, torch, memo=None):
    """A list of torch modules equivalent to ``module`` (one level per call; module trees are
    shallow). A module used in several places becomes one torch module used there: shared weights
    stay shared."""
    memo = {} if memo is None else memo
    if id(module) not in memo:
        memo[id(module)] = _convert_new(module, torch, memo)
    return memo[id(module)]


def _convert_new(module, torch, memo):
    from .module import Dropout, Layer, Neuron, Residual, Sequential

    if isinstance(module, _vector_blocks()):
        return [_transformer(module, torch)]
    if isinstance(module, Layer):
        return _linear(module.neurons, module.activation, torch)
    if isinstance(module, Neuron):
        return _linear([module], module.activation, torch)
    if isinstance(module, Dropout):
        return [torch.nn.Dropout(module.p)]
    if isinstance(module, Sequential):
        parts = []
        for layer in module.layers:
            parts.extend(_convert(layer, torch, memo))
        return [torch.nn.Sequential(*parts)]
    if isinstance(module, Residual):
        return [_residual_class(torch)(torch.nn.Sequential(*_convert(module.block, torch, memo)))]
    raise TypeError(f"to_torch does not know how to convert {type(module).__name__}")


_RESIDUAL = {}


def _residual_class(torch):
    if "cls" not in _RESIDUAL:

        class Residual(torch.nn.Module):
            """x + block(x)"""

            def __init__(self, block):
                super().__init__()
                self.block = block

            def forward(self, x):
                return x + self.block(x)

        _RESIDUAL["cls"] = Residual
    return _RESIDUAL["cls"]


# ---- the transformer blocks ---------------------------------------------------------------------------
def _vector_blocks():
    """Blocks that map a vector to a vector: they also convert inside a `Sequential`."""
    from .blocks import LayerNorm, Linear, RMSNorm
    from .gpt import MLPBlock

    return (Linear, RMSNorm, LayerNorm, MLPBlock)


def _sequence_blocks():
    """Blocks that read a sequence (or token ids): converted on their own."""
    from .blocks import Embedding
    from .gpt import GPT, Block, CausalSelfAttention

    return (GPT, Block, CausalSelfAttention, Embedding)


def _transformer(module, torch):
    """The PyTorch module for one of our transformer blocks, with our weights copied in."""
    net = _build(module, torch)
    state = module.state_dict()
    with torch.no_grad():
        for name, tensor in net.named_parameters():
            values = _gather(state, name, tuple(tensor.shape))
            tensor.copy_(torch.tensor(values, dtype=torch.float64))
    return net


def _gather(state, name, shape):
    """The nested list of our parameters ``name.i.j`` for a tensor of ``shape`` (1 or 2 axes)."""
    if len(shape) == 1:
        return [state[f"{name}.{i}"] for i in range(shape[0])]
    return [[state[f"{name}.{i}.{j}"] for j in range(shape[1])] for i in range(shape[0])]


def _build(module, torch):
    from .blocks import Embedding, LayerNorm, Linear, RMSNorm
    from .gpt import GPT, Block, CausalSelfAttention, MLPBlock

    f64 = torch.float64
    if isinstance(module, Linear):
        return torch.nn.Linear(module.nin, module.nout, bias=module.bias is not None, dtype=f64)
    if isinstance(module, Embedding):
        return torch.nn.Embedding(module.num, module.dim, dtype=f64)
    if isinstance(module, RMSNorm):
        return torch.nn.RMSNorm(module.dim, eps=module.eps, elementwise_affine=module.weight is not None, dtype=f64)
    if isinstance(module, LayerNorm):
        return torch.nn.LayerNorm(module.dim, eps=module.eps, elementwise_affine=module.weight is not None,
                                  bias=module.bias is not None, dtype=f64)
    classes = _torch_classes(torch)
    if isinstance(module, MLPBlock):
        return classes["MLPBlock"](_build(module.fc1, torch), _build(module.fc2, torch))
    if isinstance(module, CausalSelfAttention):
        return classes["CausalSelfAttention"](module.n_head, *(_build(getattr(module, w), torch) for w in ("wq", "wk", "wv", "wo")))
    if isinstance(module, Block):
        parts = (module.norm1, module.attn, module.norm2, module.mlp)
        return classes["Block"](*(_build(part, torch) for part in parts))
    if isinstance(module, GPT):
        parts = [_build(part, torch) for part in (module.wte, module.wpe, module.norm)]
        blocks = [_build(block, torch) for block in module.blocks]
        return classes["GPT"](*parts, blocks, _build(module.lm_head, torch))
    raise TypeError(f"to_torch does not know how to convert {type(module).__name__}")


_CLASSES = {}


def _torch_classes(torch):
    """The PyTorch twins of `MLPBlock`, `CausalSelfAttention`, `Block` and `GPT`, defined once."""
    if _CLASSES:
        return _CLASSES
    nn = torch.nn

    class MLPBlock(nn.Module):
        """fc2(relu(fc1(x)))"""

        def __init__(self, fc1, fc2):
            super().__init__()
            self.fc1, self.fc2 = fc1, fc2

        def forward(self, x):
            return self.fc2(torch.relu(self.fc1(x)))

    class CausalSelfAttention(nn.Module):
        """Multi-head attention over (batch, time, channels), each position seeing itself and earlier ones."""

        def __init__(self, n_head, wq, wk, wv, wo):
            super().__init__()
            self.n_head = n_head
            self.wq, self.wk, self.wv, self.wo = wq, wk, wv, wo

        def forward(self, x):
            batch, time, channels = x.shape
            heads = lambda t: t.view(batch, time, self.n_head, channels // self.n_head).transpose(1, 2)  # noqa: E731
            q, k, v = heads(self.wq(x)), heads(self.wk(x)), heads(self.wv(x))
            scores = q @ k.transpose(-2, -1) / math.sqrt(channels // self.n_head)
            later = torch.ones(time, time, dtype=torch.bool).triu(1)
            weights = torch.softmax(scores.masked_fill(later, float("-inf")), dim=-1)
            out = (weights @ v).transpose(1, 2).reshape(batch, time, channels)
            return self.wo(out)

    class Block(nn.Module):
        """x + attn(norm1(x)), then x + mlp(norm2(x))"""

        def __init__(self, norm1, attn, norm2, mlp):
            super().__init__()
            self.norm1, self.attn, self.norm2, self.mlp = norm1, attn, norm2, mlp

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class GPT(nn.Module):
        """Token ids (batch, time) or (time,) -> logits (batch, time, vocab) or (time, vocab)."""

        def __init__(self, wte, wpe, norm, blocks, lm_head):
            super().__init__()
            self.wte, self.wpe, self.norm = wte, wpe, norm
            self.blocks = nn.ModuleList(blocks)
            self.lm_head = lm_head

        def forward(self, idx):
            single = idx.dim() == 1
            if single:
                idx = idx.unsqueeze(0)
            x = self.norm(self.wte(idx) + self.wpe(torch.arange(idx.shape[1])))
            for block in self.blocks:
                x = block(x)
            logits = self.lm_head(x)
            return logits[0] if single else logits

    _CLASSES.update(MLPBlock=MLPBlock, CausalSelfAttention=CausalSelfAttention, Block=Block, GPT=GPT)
    return _CLASSES
