"""chainrule's neural networks: modules, losses, optimizers, datasets and training, on `autograd`.

    from nn import MLP
    model = MLP(2, [16, 16, 1])          # 2 inputs, two hidden layers of 16 (tanh), one output
    score = model([0.5, -1.0])           # a Value: call score.backward() for every gradient

See `nn.module`, `nn.losses`, `nn.optim`, `nn.schedules`, `nn.data` and `nn.train`; for a small
GPT on characters, `nn.blocks`, `nn.gpt`, `nn.text` and `nn.gpt_views`.
"""

from . import data, losses, optim, schedules, text
from .blocks import Embedding, LayerNorm, Linear, RMSNorm, log_softmax, softmax
from .gpt import GPT, Block, CausalSelfAttention, KVCache, MLPBlock
from .module import MLP, Dropout, Layer, Module, Neuron, Residual, Sequential, manual_seed
from .optim import SGD, Adagrad, Adam, AdamW, RMSprop, clip_grad_norm_, clip_grad_value_
from .serialize import load
from .train import History, accuracy, classify, fit, predict


def to_torch(model):
    """An equivalent PyTorch module with the same weights (float64); see `nn.export`."""
    from .export import to_torch

    return to_torch(model)


__all__ = [
    "Module",
    "Neuron",
    "Layer",
    "MLP",
    "Sequential",
    "Residual",
    "Dropout",
    "Linear",
    "Embedding",
    "RMSNorm",
    "LayerNorm",
    "softmax",
    "log_softmax",
    "CausalSelfAttention",
    "MLPBlock",
    "Block",
    "KVCache",
    "GPT",
    "text",
    "manual_seed",
    "data",
    "losses",
    "optim",
    "schedules",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "clip_grad_norm_",
    "clip_grad_value_",
    "fit",
    "predict",
    "accuracy",
    "classify",
    "History",
    "load",
    "to_torch",
]
