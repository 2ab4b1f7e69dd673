"""``to_torch(model)``: the same network as a `torch.nn.Sequential`, with the same weights.

For the learner who outgrows scalars: train (or just build) a model here, export it, and carry on
in PyTorch with batches of tensors. The export uses float64, so outputs agree to about 1e-12.
"""


def _torch():
    try:
        import torch
    except ImportError:
        raise ImportError("to_torch needs PyTorch: pip install torch") from None
    return torch


def to_torch(model):
    """A `torch.nn.Sequential` (float64) that computes what ``model`` computes.

    A `Layer` becomes ``Linear`` (+ its activation), a `Neuron` a ``Linear`` with one output,
    `Dropout` ``torch.nn.Dropout``, `Residual` a module returning ``x + block(x)``, and `MLP` /
    `Sequential` the sequence of those. Inputs are tensors of shape (batch, nin). The result is in
    training mode when ``model`` is (Dropout active), in eval mode otherwise.
    """
    torch = _torch()
    from .module import Module

    if not isinstance(model, Module):
        raise TypeError(f"to_torch takes an nn module, got {type(model).__name__}")
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


def _convert(module, torch):
    """A list of torch modules equivalent to ``module`` (one level per call; module trees are shallow)."""
    from .module import Dropout, Layer, Neuron, Residual, Sequential

    if isinstance(module, Layer):
        return _linear(module.neurons, module.activation, torch)
    if isinstance(module, Neuron):
        return _linear([module], module.activation, torch)
    if isinstance(module, Dropout):
        return [torch.nn.Dropout(module.p)]
    if isinstance(module, Sequential):
        parts = []
        for layer in module.layers:
            parts.extend(_convert(layer, torch))
        return [torch.nn.Sequential(*parts)]
    if isinstance(module, Residual):
        return [_residual_class(torch)(torch.nn.Sequential(*_convert(module.block, torch)))]
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
