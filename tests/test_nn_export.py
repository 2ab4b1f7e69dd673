"""to_torch: the same network in PyTorch, outputs and gradients equal to 1e-9."""

import random

import pytest

from nn import MLP, Dropout, Layer, Neuron, Residual, Sequential, to_torch
from torch_or_skip import torch_or_skip

POINTS = [[random.Random(i).uniform(-2, 2), random.Random(i + 100).uniform(-2, 2)] for i in range(12)]


def compare(model, torch, n_in=2):
    net = to_torch(model)
    assert isinstance(net, torch.nn.Sequential)
    points = [p[:n_in] for p in POINTS]
    inputs = torch.tensor(points, dtype=torch.float64)
    theirs = net(inputs)
    outputs = model.predict(points)
    flat = [v for out in outputs for v in (out if isinstance(out, list) else [out])]
    assert flat == pytest.approx(theirs.flatten().tolist(), abs=1e-9, rel=1e-9)
    # the gradient of the summed outputs with respect to every weight
    theirs.sum().backward()
    model.zero_grad()
    for x in points:
        out = model(x)
        for v in out if isinstance(out, list) else [out]:
            v.backward()
    grads = [g for p in net.parameters() for g in p.grad.flatten().tolist()]
    layers = [model] if isinstance(model, Neuron) else [m for m in model.modules() if isinstance(m, Layer)]
    ours = []
    for layer in layers:  # torch order: each weight matrix row by row, then the biases
        neurons = layer.neurons if isinstance(layer, Layer) else [layer]
        ours += [w.grad for n in neurons for w in n.w] + [n.b.grad for n in neurons]
    assert ours == pytest.approx(grads, abs=1e-9, rel=1e-9)
    return net


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu", "linear"])
def test_an_mlp_exports_with_equal_outputs_and_gradients(activation):
    torch = torch_or_skip()
    net = compare(MLP(2, [6, 5, 3], activation=activation, seed=0), torch)
    assert net[0].weight.dtype == torch.float64 and net[0].weight.shape == (6, 2)


def test_one_output_layers_neurons_and_containers_export():
    torch = torch_or_skip()
    compare(MLP(2, [4, 1], seed=1), torch)
    compare(Layer(2, 3, "relu", seed=0), torch)
    compare(Neuron(2, "sigmoid", seed=0), torch)
    model = Sequential(Layer(2, 4, "tanh", seed=0), Residual(Layer(4, 4, "relu", seed=1)), Dropout(0.5), Layer(4, 2, "linear", seed=2))
    model.eval()
    net = compare(model, torch)
    assert not net.training


def test_the_training_mode_carries_over():
    torch_or_skip()
    model = Sequential(Layer(2, 2, seed=0), Dropout(0.5))
    assert to_torch(model).training and not to_torch(model.eval()).training


def test_unknown_modules_are_refused():
    torch_or_skip()
    with pytest.raises(TypeError, match="takes an nn module"):
        to_torch("model")
