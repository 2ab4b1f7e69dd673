"""Losses: hand-computed values, gradients against central differences and PyTorch, stability, errors."""

import math

import pytest

from autograd import Value, numerical_grad
from nn import MLP, losses
from torch_or_skip import torch_or_skip


def values(*xs):
    return [Value(x) for x in xs]


def test_mse_by_hand():
    pred = values(1.0, 2.0, 4.0)
    loss = losses.mse(pred, [0.0, 2.0, 1.0])
    assert loss.data == pytest.approx((1 + 0 + 9) / 3)
    loss.backward()
    assert [p.grad for p in pred] == pytest.approx([2 * 1 / 3, 0.0, 2 * 3 / 3])
    assert losses.mse(Value(3.0), 1.0).data == 4.0
    assert losses.mse(pred, [0.0, 2.0, 1.0], reduction="sum").data == 10.0
    batch = [values(1.0, 0.0), values(0.0, 2.0)]
    assert losses.mse(batch, [[0.0, 0.0], [0.0, 0.0]]).data == pytest.approx(5 / 4)


@pytest.mark.parametrize(
    "score, label, expected",
    [(0.3, 1, 0.7), (0.3, 0, 1.3), (0.3, -1, 1.3), (2.0, 1, 0.0), (-2.0, 0, 0.0), (-0.5, 1, 1.5)],
)
def test_hinge_by_hand_with_either_label_convention(score, label, expected):
    s = Value(score)
    loss = losses.hinge(s, label)
    assert loss.data == pytest.approx(expected)
    loss.backward()
    y = 1.0 if label > 0 else -1.0
    assert s.grad == (-y if expected > 0 else 0.0)


def test_hinge_labels_0_1_and_minus1_plus1_give_the_same_loss():
    scores = [0.5, -0.2, 1.7, -3.0]
    a = losses.hinge(values(*scores), [1, 0, 0, 1]).data
    b = losses.hinge(values(*scores), [1, -1, -1, 1]).data
    assert a == b == pytest.approx((0.5 + 0.8 + 2.7 + 4.0) / 4)


@pytest.mark.parametrize("z", [-1000.0, -40.0, -3.0, -0.5, 0.0, 0.5, 3.0, 40.0, 1000.0])
@pytest.mark.parametrize("t", [0.0, 0.3, 1.0])
def test_binary_cross_entropy_is_exact_and_stable_for_any_logit(z, t):
    v = Value(z)
    loss = losses.binary_cross_entropy(v, t)
    # softplus written with log1p, a different formula than the module's
    expected = max(z, 0.0) + math.log1p(math.exp(-abs(z))) - t * z
    assert loss.data == pytest.approx(expected, rel=1e-12, abs=1e-12)
    loss.backward()
    assert math.isfinite(loss.data) and math.isfinite(v.grad)
    assert v.grad == pytest.approx(1 / (1 + math.exp(-z)) - t if z > -700 else -t, abs=1e-12)


def test_binary_cross_entropy_by_hand():
    assert losses.bce(Value(0.0), 1).data == pytest.approx(math.log(2))
    assert losses.binary_cross_entropy(values(0.0, 0.0), [0, 1]).data == pytest.approx(math.log(2))


def test_cross_entropy_by_hand_and_its_gradient_is_softmax_minus_onehot():
    logits = values(1.0, 2.0, 0.5)
    loss = losses.cross_entropy(logits, 1)
    exps = [math.exp(1.0), math.exp(2.0), math.exp(0.5)]
    assert loss.data == pytest.approx(-math.log(exps[1] / sum(exps)))
    loss.backward()
    softmax = [e / sum(exps) for e in exps]
    assert [v.grad for v in logits] == pytest.approx([softmax[0], softmax[1] - 1.0, softmax[2]])
    assert losses.cross_entropy(values(0.0, 0.0, 0.0), 2).data == pytest.approx(math.log(3))


def test_cross_entropy_is_stable_for_huge_logits():
    logits = values(1000.0, 0.0, -1000.0)
    assert losses.cross_entropy(logits, 0).data == pytest.approx(0.0, abs=1e-12)
    loss = losses.cross_entropy(logits, 2)
    assert loss.data == pytest.approx(2000.0)
    loss.backward()
    assert [v.grad for v in logits] == pytest.approx([1.0, 0.0, -1.0])


def test_cross_entropy_batch_is_the_mean():
    batch = [values(1.0, 2.0), values(3.0, -1.0)]
    single = [losses.cross_entropy(logits, t).data for logits, t in zip(batch, [0, 0])]
    assert losses.cross_entropy(batch, [0, 0]).data == pytest.approx(sum(single) / 2)
    assert losses.cross_entropy(batch, [0, 0], reduction="sum").data == pytest.approx(sum(single))


def test_penalties():
    model = MLP(2, [2, 1], seed=0)
    params = model.parameters()
    l2 = losses.l2(model, 0.5)
    assert l2.data == pytest.approx(0.5 * sum(p.data**2 for p in params))
    l2.backward()
    assert [p.grad for p in params] == pytest.approx([p.data for p in params])
    l1 = losses.l1(params, 2.0)
    assert l1.data == pytest.approx(2.0 * sum(abs(p.data) for p in params))


@pytest.mark.parametrize(
    "loss, outputs, targets",
    [
        (losses.mse, [0.3, -1.2], [1.0, 0.5]),
        (losses.hinge, [0.3, -1.2, 2.5], [1, 0, 1]),
        (losses.binary_cross_entropy, [0.3, -1.2], [1, 0]),
        (losses.cross_entropy, [[0.3, -1.2, 0.7], [2.0, 0.1, -0.3]], [2, 0]),
    ],
)
def test_every_loss_on_floats_gives_a_float_equal_to_the_graph(loss, outputs, targets):
    as_values = [values(*o) if isinstance(o, list) else Value(o) for o in outputs]
    graph = loss(as_values, targets)
    plain = loss(outputs, targets)
    assert isinstance(plain, float) and isinstance(graph, Value)
    assert plain == pytest.approx(graph.data, rel=1e-14)


@pytest.mark.parametrize(
    "loss, outputs, targets",
    [
        (losses.mse, [0.3, -1.2], [1.0, 0.5]),
        (losses.mse, [[0.3, -1.2], [0.5, 2.0]], [[1.0, 0.5], [-1.0, 0.0]]),
        (losses.hinge, [0.3, -1.2, 2.5], [1, -1, 1]),
        (losses.binary_cross_entropy, [0.3, -1.2], [1, 0]),
        (losses.cross_entropy, [[0.3, -1.2, 0.7], [2.0, 0.1, -0.3]], [2, 0]),
    ],
)
def test_numpy_targets_work_like_python_numbers(loss, outputs, targets):
    np = pytest.importorskip("numpy")
    expected = loss(outputs, targets)
    as_numpy = [
        np.array(targets),  # a whole batch as an array
        [np.asarray(t) if isinstance(t, list) else np.int64(t) if isinstance(t, int) else np.float32(t) for t in targets],
    ]
    for numpy_targets in as_numpy:
        plain = loss(outputs, numpy_targets)
        assert type(plain) is float and plain == pytest.approx(expected, rel=1e-7)
        as_values = [values(*o) if isinstance(o, list) else Value(o) for o in outputs]
        graph = loss(as_values, numpy_targets)
        assert graph.data == pytest.approx(expected, rel=1e-7)
    # one sample with a NumPy scalar target, and NumPy outputs
    one = [np.float64(z) for z in outputs[0]] if isinstance(outputs[0], list) else np.float32(outputs[0])
    single = loss(one, np.int8(targets[0]) if isinstance(targets[0], int) else np.float32(targets[0]))
    assert type(single) is float and single == pytest.approx(loss(outputs[0], targets[0]), rel=1e-7)


def test_cross_entropy_takes_any_integral_class_index():
    np = pytest.importorskip("numpy")
    expected = losses.cross_entropy([1.0, 2.0, 3.0], 2)
    for index in (np.int64(2), np.int32(2), np.uint8(2), 2.0, np.float32(2.0)):
        assert losses.cross_entropy([1.0, 2.0, 3.0], index) == expected
    for index in (np.bool_(True), True, 2.5, np.int64(3), -1):
        with pytest.raises(ValueError, match="class index in 0..2"):
            losses.cross_entropy([1.0, 2.0, 3.0], index)


@pytest.mark.parametrize(
    "loss, targets",
    [(losses.mse, [0.7, -0.4, 1.5]), (losses.binary_cross_entropy, [1, 0, 0.25]), (losses.hinge, [1, 0, 1])],
)
def test_gradients_match_central_differences(loss, targets):
    point = [0.35, -0.8, 0.1]
    vs = values(*point)
    loss(vs, targets).backward()
    numeric = numerical_grad(lambda *xs: loss(list(xs), targets), *point)
    assert [v.grad for v in vs] == pytest.approx(numeric, abs=1e-7)


def test_losses_match_pytorch():
    torch = torch_or_skip()
    F = torch.nn.functional
    scores = [0.3, -2.1, 4.0, -700.0, 900.0]
    bce_t = [1.0, 0.0, 0.0, 1.0, 0.0]
    for loss, reference, targets in [
        (losses.binary_cross_entropy, F.binary_cross_entropy_with_logits, bce_t),
        (losses.mse, F.mse_loss, [0.5, 1.0, -3.0, -699.0, 899.5]),
    ]:
        vs = values(*scores)
        out = loss(vs, targets)
        out.backward()
        t = torch.tensor(scores, dtype=torch.float64, requires_grad=True)
        ref = reference(t, torch.tensor(targets, dtype=torch.float64))
        ref.backward()
        assert out.data == pytest.approx(ref.item(), rel=1e-9, abs=1e-12)
        assert [v.grad for v in vs] == pytest.approx(t.grad.tolist(), rel=1e-9, abs=1e-12)

    rows = [[0.3, -1.2, 0.7], [200.0, 0.1, -300.0], [-5.0, 5.0, 0.0]]
    classes = [2, 1, 1]
    vs = [values(*r) for r in rows]
    out = losses.cross_entropy(vs, classes)
    out.backward()
    t = torch.tensor(rows, dtype=torch.float64, requires_grad=True)
    ref = F.cross_entropy(t, torch.tensor(classes))
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-9)
    assert [v.grad for r in vs for v in r] == pytest.approx(t.grad.flatten().tolist(), rel=1e-9, abs=1e-12)

    margin = [0.3, -2.1, 0.5]
    labels = [1, 0, 0]
    vs = values(*margin)
    out = losses.hinge(vs, labels)
    out.backward()
    t = torch.tensor(margin, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0 if label > 0 else -1.0 for label in labels], dtype=torch.float64)
    ref = torch.relu(1 - y * t).mean()
    ref.backward()
    assert out.data == pytest.approx(ref.item(), rel=1e-12)
    assert [v.grad for v in vs] == pytest.approx(t.grad.tolist(), rel=1e-12)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: losses.binary_cross_entropy(Value(0.0), -1), ValueError, "targets must be in \\[0, 1\\]"),
        (lambda: losses.cross_entropy(values(1.0, 2.0), 2), ValueError, "class index in 0..1, got 2"),
        (lambda: losses.cross_entropy(Value(1.0), 0), ValueError, "at least 2 logits"),
        (lambda: losses.cross_entropy(values(1.0, 2.0), 0.5), ValueError, "class index"),
        (lambda: losses.hinge(values(1.0, 2.0), [1]), ValueError, "2 outputs but 1 targets"),
        (lambda: losses.hinge(Value(1.0), "yes"), TypeError, "label must be a number"),
        (lambda: losses.mse(Value(1.0), [1.0, 2.0]), ValueError, "do not have the same shape"),
        (lambda: losses.mse([Value(1.0)], [[1.0]]), ValueError, "same shape"),
        (lambda: losses.mse([], []), ValueError, "empty batch"),
        (lambda: losses.mse(Value(1.0), 1.0, reduction="max"), ValueError, "reduction"),
        (lambda: losses.l2([], 1.0), ValueError, "no parameters"),
        (lambda: losses.get("softmax"), ValueError, "unknown loss 'softmax'"),
    ],
)
def test_bad_input_says_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_numbers_too_large_for_a_float_get_a_clear_error_or_inf():
    from autograd import Value
    from nn import data

    with pytest.raises(ValueError, match="mse: a target is an int of about 401 digits, too large for a float"):
        losses.mse(Value(1.0), 10**400)
    with pytest.raises(ValueError, match="class index in 0..1, got an int of about 5001 digits"):
        losses.cross_entropy([Value(1.0), Value(2.0)], 10**5000)
    with pytest.raises(ValueError, match="targets must be in \\[0, 1\\] .*got an int of about 401 digits"):
        losses.binary_cross_entropy(Value(1.0), 10**400)
    assert losses.mse([1e200], [0.0]) == math.inf  # on floats, as float arithmetic overflows elsewhere
    assert losses.mse([3.0], [1.0]) == 4.0
    with pytest.raises(ValueError, match=r"X\[0\]\[0\] is an int too large for a float"):
        data.check_dataset([[10**400, 1.0]], [1])
