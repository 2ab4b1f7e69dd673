"""The transformer's building blocks: Linear, Embedding, RMSNorm, LayerNorm, softmax, log_softmax.

Every block's gradients are checked against central differences and against PyTorch float64, on
ordinary and extreme inputs; its float path must give the graph path's numbers to the last bit.
"""

import math
import random

import pytest

from autograd import Parameter, Value, gradients, gradcheck, topological_order
from nn import Sequential, to_torch
from nn.blocks import Embedding, LayerNorm, Linear, RMSNorm, float_twin, log_softmax, max_shift, softmax
from nn.module import from_config
from torch_or_skip import torch_or_skip


def vector(n, seed=0, scale=1.0):
    rng = random.Random(seed)
    return [rng.uniform(-2.0, 2.0) * scale for _ in range(n)]


def randomize(module, seed=0):
    """Parameters away from their starting values (norm weights start at exactly 1 and 0)."""
    rng = random.Random(seed)
    for p in module.parameters():
        p.data = rng.uniform(-1.5, 1.5)
    return module


def weighted(outputs, seed=1):
    """A scalar that depends on every output with a different weight: sum_i c_i * out_i."""
    return Value.sum([c * out for c, out in zip(coefficients(len(outputs), seed), outputs)])


def coefficients(n, seed=1):
    """The weights c_i that `weighted` gives n outputs."""
    rng = random.Random(seed)
    return [rng.uniform(-1.0, 1.0) for _ in range(n)]


def central_differences(loss_of, leaves, h=1e-6):
    """d(loss)/d(leaf) by nudging each leaf's data up and down (the graph rebuilt each time)."""
    slopes = []
    for leaf in leaves:
        x = leaf.data
        step = h * max(1.0, abs(x))
        leaf.data = x + step
        up = loss_of().data
        leaf.data = x - step
        down = loss_of().data
        leaf.data = x
        slopes.append((up - down) / (2 * step))
    return slopes


def check_block(module, x, tol=1e-6):
    """Backprop against central differences, for the inputs and every parameter of ``module``."""
    xs = [Value(v) for v in x]
    leaves = xs + module.parameters()
    loss_of = lambda: weighted(module(xs))  # noqa: E731
    loss = loss_of()
    analytic = gradients(loss, leaves)
    numeric = central_differences(loss_of, leaves)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        assert a == pytest.approx(n, rel=tol, abs=tol), f"leaf {i}: backprop {a}, central difference {n}"


# ---- structure, names, layouts ----------------------------------------------------------------------
def test_linear_has_pytorch_names_layout_and_formula():
    layer = Linear(3, 2, seed=0)
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["weight.0.0", "weight.0.1", "weight.0.2", "weight.1.0", "weight.1.1", "weight.1.2", "bias.0", "bias.1"]
    x = [0.5, -1.0, 2.0]
    out = layer(x)
    for row, b, o in zip(layer.weight, layer.bias, out):
        assert o.data == pytest.approx(b.data + sum(w.data * xi for w, xi in zip(row, x)), abs=1e-15)
    bound = 1 / math.sqrt(3)
    assert all(-bound <= w.data <= bound for row in layer.weight for w in row)  # PyTorch's default
    assert [name for name, _ in Linear(3, 2, bias=False).named_parameters()][-1] == "weight.1.2"
    gauss = Linear(50, 40, std=0.08, seed=1)
    ws = [w.data for row in gauss.weight for w in row]
    assert 0.07 < math.sqrt(sum(w * w for w in ws) / len(ws)) < 0.09


def test_embedding_looks_up_rows_and_only_the_used_row_learns():
    emb = Embedding(5, 3, seed=0)
    assert [name for name, _ in emb.named_parameters()][:4] == ["weight.0.0", "weight.0.1", "weight.0.2", "weight.1.0"]
    row = emb(2)
    assert row == emb.weight[2] and row is not emb.weight[2]  # the Parameters themselves, in a new list
    weighted(row).backward()
    assert [p.grad != 0.0 for p in emb.weight[2]] == [True] * 3
    assert all(p.grad == 0.0 for i in (0, 1, 3, 4) for p in emb.weight[i])
    for bad in (5, -1, 1.0, True, "a"):
        with pytest.raises(IndexError, match="rows 0..4"):
            emb(bad)


def test_norms_normalise():
    x = vector(8, seed=3, scale=7.0)
    out = RMSNorm(8, elementwise_affine=False)(x)  # nothing to learn, numbers in: numbers out
    assert math.sqrt(sum(v * v for v in out) / 8) == pytest.approx(1.0, abs=1e-6)
    out = [v.data for v in LayerNorm(8)([Value(v) for v in x])]
    assert sum(out) / 8 == pytest.approx(0.0, abs=1e-12)
    assert sum(v * v for v in out) / 8 == pytest.approx(1.0, abs=1e-6)
    assert [n for n, _ in LayerNorm(2).named_parameters()] == ["weight.0", "weight.1", "bias.0", "bias.1"]
    assert [n for n, _ in RMSNorm(2).named_parameters()] == ["weight.0", "weight.1"]
    assert LayerNorm(2, bias=False).num_parameters() == 2 and LayerNorm(2, elementwise_affine=False).num_parameters() == 0


def test_blocks_check_their_inputs_and_arguments():
    with pytest.raises(ValueError, match="vector of 3 numbers, got 2"):
        Linear(3, 2)([1.0, 2.0])
    with pytest.raises(TypeError, match="list of 4 numbers"):
        RMSNorm(4)(1.0)
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(4, eps=0.0)
    with pytest.raises(ValueError, match="std"):
        Linear(2, 2, std=-1.0)
    with pytest.raises(ValueError, match="positive int"):
        Embedding(0, 3)
    with pytest.raises(TypeError, match="non-empty list of logits"):
        softmax([])


# ---- softmax -------------------------------------------------------------------------------------------
def test_softmax_and_log_softmax_are_probabilities_and_their_logs():
    z = [Value(v) for v in (1.0, -0.5, 3.0, 0.0)]
    p = softmax(z)
    assert sum(pi.data for pi in p) == pytest.approx(1.0, abs=1e-15)
    expected = [math.exp(v.data) / sum(math.exp(w.data) for w in z) for v in z]
    assert [pi.data for pi in p] == pytest.approx(expected, rel=1e-14)
    assert [v.data for v in log_softmax(z)] == pytest.approx([math.log(e) for e in expected], rel=1e-14)


def test_softmax_is_stable_at_extreme_logits():
    for z in ([1000.0, 999.0, -1000.0], [-1000.0, -1001.0, -1002.0], [710.0, 0.0]):
        p = [v.data for v in softmax([Value(v) for v in z])]
        assert all(math.isfinite(v) for v in p) and sum(p) == pytest.approx(1.0, abs=1e-15)
        logp = log_softmax([Value(v) for v in z])
        assert logp[1].data == pytest.approx(z[1] - z[0] - math.log1p(sum(math.exp(v - z[0]) for v in z[1:])), abs=1e-12)
    z = [Value(1000.0), Value(999.0), Value(-1000.0)]
    loss = -log_softmax(z)[1]
    grads = gradients(loss, z)
    p = [v.data for v in softmax([Value(v.data) for v in z])]
    assert grads == pytest.approx([p[0], p[1] - 1.0, p[2]], abs=1e-15)


def test_softmax_gradient_is_p_times_delta_minus_p():
    z = [Value(v) for v in vector(5, seed=4)]
    p = softmax(z)
    pd = [v.data for v in p]
    for i in range(5):
        assert gradients(p[i], z) == pytest.approx([pd[i] * ((i == j) - pd[j]) for j in range(5)], abs=1e-15)


def test_the_shift_is_a_node_with_zero_derivative_and_changes_no_gradient():
    z = [Value(v) for v in (0.3, 2.0, -1.0)]
    loss = -log_softmax(z)[0]
    shift = next(node for node in topological_order(loss) if node._op == "max_shift")
    assert shift.data == 2.0 and list(shift._prev) == z
    assert max_shift(*z)._op.derivative(0.3, 2.0, -1.0, 2.0) == (0.0, 0.0, 0.0)
    # the exact formula log(sum(exp(z))) - z[0], with no shift at all, has the same gradients
    plain = (z[0].exp() + z[1].exp() + z[2].exp()).log() - z[0]
    assert gradients(loss, z) == pytest.approx(gradients(plain, z), abs=1e-15)
    assert gradients(loss, [shift]) == pytest.approx([0.0], abs=1e-15)  # what flows into it cancels


@pytest.mark.parametrize("scale", [1.0, 30.0, 1e-3])
def test_softmax_gradients_match_central_differences(scale):
    z = vector(6, seed=5, scale=scale)
    for k in range(3):
        gradcheck(lambda *v: softmax(list(v))[k] * 3.0, *z)
        gradcheck(lambda *v: log_softmax(list(v))[k], *z)


# ---- gradients against central differences --------------------------------------------------------------
@pytest.mark.parametrize("scale", [1.0, 1e3, 1e-3])
def test_norm_gradients_match_central_differences(scale):
    x = vector(6, seed=6, scale=scale)
    check_block(randomize(RMSNorm(6)), x)
    check_block(RMSNorm(6, elementwise_affine=False), x)
    check_block(randomize(LayerNorm(6)), x)
    check_block(LayerNorm(6, elementwise_affine=False), x)


def test_linear_gradients_match_central_differences():
    check_block(Linear(4, 3, seed=0), vector(4, seed=7))
    check_block(Linear(4, 3, bias=False, seed=1), vector(4, seed=8, scale=100.0))


def test_norms_of_a_zero_vector_stay_finite():
    """eps keeps the norm of an all-zero vector (an extreme input) finite, with finite gradients."""
    for norm in (RMSNorm(4), LayerNorm(4)):
        xs = [Value(0.0) for _ in range(4)]
        out = norm(xs)
        grads = gradients(weighted(out), xs)
        assert all(v.data == 0.0 for v in out) and all(math.isfinite(g) for g in grads)


# ---- the float path --------------------------------------------------------------------------------------
def test_every_block_gives_the_same_numbers_on_floats():
    x = vector(6, seed=9)
    for block in (Linear(6, 4, seed=0), Linear(6, 4, bias=False, seed=1), randomize(RMSNorm(6)),
                  randomize(LayerNorm(6)), LayerNorm(6, elementwise_affine=False)):
        graph = [v.data for v in block([Value(v) for v in x])]
        assert block.float_function()(x) == graph  # to the last bit
        assert block.forward_floats(x) == graph
        assert all(type(v) is float for v in block.float_function()(x))
    emb = Embedding(4, 3, seed=0)
    assert emb.float_function()(1) == [p.data for p in emb.weight[1]]
    z = vector(5, seed=10)
    assert softmax(z) == [v.data for v in softmax([Value(v) for v in z])]
    assert log_softmax(z) == [v.data for v in log_softmax([Value(v) for v in z])]


def test_a_float_twin_copies_the_weights_now_and_leaves_the_model_alone():
    layer = Linear(2, 2, seed=0)
    twin = float_twin(layer)
    assert twin.weight == [[p.data for p in row] for row in layer.weight] and twin.parameters() == []
    layer.weight[0][0].data += 1.0
    assert twin.weight[0][0] != layer.weight[0][0].data
    assert isinstance(layer.weight[0][0], Parameter)


def test_no_block_branches_on_the_data():
    """The same operations, in the same order, whatever the numbers: a trace of one input replays
    on every other (even when the largest logit moves, or every input changes sign)."""
    def ops(f, x):
        return [node._op for node in topological_order(weighted(f([Value(v) for v in x])))]

    for f in (softmax, log_softmax, Linear(4, 3, seed=0), randomize(RMSNorm(4)), randomize(LayerNorm(4))):
        assert ops(f, [1.0, 2.0, 3.0, 4.0]) == ops(f, [4.0, -3.0, 2.0, -100.0]) == ops(f, [0.0, 0.0, 0.0, 0.0])


# ---- saving and PyTorch --------------------------------------------------------------------------------
def test_blocks_rebuild_from_their_config():
    for block in (Linear(3, 2, bias=False), Embedding(4, 2), RMSNorm(3, eps=1e-6, elementwise_affine=False),
                  LayerNorm(3, bias=False)):
        rebuilt = from_config(block.config())
        assert type(rebuilt) is type(block) and rebuilt.config() == block.config()
        assert [n for n, _ in rebuilt.named_parameters()] == [n for n, _ in block.named_parameters()]


def test_blocks_match_pytorch_outputs_and_gradients():
    torch = torch_or_skip()
    x = vector(6, seed=11)
    model = Sequential(Linear(6, 5, seed=0), randomize(LayerNorm(5), 1), Linear(5, 4, bias=False, seed=2), randomize(RMSNorm(4), 3))
    net = to_torch(model)
    xt = torch.tensor([x], dtype=torch.float64, requires_grad=True)
    theirs = net(xt)[0]
    xs = [Value(v) for v in x]
    ours = model(xs)
    assert [v.data for v in ours] == pytest.approx(theirs.tolist(), abs=1e-12)
    weights = vector(4, seed=12)
    (theirs * torch.tensor(weights, dtype=torch.float64)).sum().backward()
    Value.sum([w * o for w, o in zip(weights, ours)]).backward()
    assert [v.grad for v in xs] == pytest.approx(xt.grad[0].tolist(), abs=1e-12)
    assert_same_grads(model, net, tol=1e-12, rename=lambda name: name.replace("layers.", "", 1))


def torch_element(tensors, name):
    """Our parameter ``name`` (``a.weight.2.5``) in PyTorch's ``{"a.weight": tensor}``: ``tensor[2, 5]``."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        key = ".".join(parts[:k])
        if key in tensors:
            return tensors[key][tuple(int(i) for i in parts[k:])].item()
    raise KeyError(name)


def assert_same_grads(model, net, tol, rename=lambda name: name):
    """Every parameter's .grad equals the PyTorch gradient of the same element (named ``rename(name)``
    there: a Sequential's layers are ``0``, ``1``... in PyTorch)."""
    grads = {name: p.grad for name, p in net.named_parameters()}
    assert sum(g.numel() for g in grads.values()) == model.num_parameters()  # one element for each of ours
    for name, p in model.named_parameters():
        assert p.grad == pytest.approx(torch_element(grads, rename(name)), abs=tol, rel=tol), name


def test_softmax_matches_pytorch_at_extreme_logits():
    torch = torch_or_skip()
    for z in (vector(7, seed=13), [1000.0, -1000.0, 999.5, 0.0], [-800.0, -801.0, -799.0]):
        zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
        zs = [Value(v) for v in z]
        assert [v.data for v in softmax(zs)] == pytest.approx(torch.softmax(zt, 0).tolist(), abs=1e-15)
        torch.log_softmax(zt, 0)[1].backward()
        assert gradients(log_softmax(zs)[1], zs) == pytest.approx(zt.grad.tolist(), abs=1e-15)


def test_embedding_gradients_match_central_differences_and_pytorch():
    emb = Embedding(5, 3, seed=0)
    loss_of = lambda: weighted(emb(3) + emb(1) + emb(3))  # noqa: E731  (row 3 read twice: gradients add)
    leaves = emb.parameters()
    analytic = gradients(loss_of(), leaves)
    assert analytic == pytest.approx(central_differences(loss_of, leaves), rel=1e-6, abs=1e-9)
    torch = torch_or_skip()
    net = to_torch(emb)
    assert net(torch.tensor([3])).tolist()[0] == [p.data for p in emb.weight[3]]
    rows = net(torch.tensor([3, 1, 3])).reshape(-1)
    (rows * torch.tensor(coefficients(9), dtype=torch.float64)).sum().backward()
    emb.zero_grad()
    weighted(emb(3) + emb(1) + emb(3)).backward()
    assert_same_grads(emb, net, tol=1e-12)
