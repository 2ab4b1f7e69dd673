"""Optimizers and schedules: torch.optim trajectories to 1e-9, hand-checked steps, state, errors."""

import math

import pytest

from autograd import Parameter, Value
from nn import MLP, SGD, Adagrad, Adam, AdamW, RMSprop, losses, schedules, to_torch
from torch_or_skip import torch_or_skip

X = [[0.5, -1.0], [1.5, 0.3], [-0.7, 0.8], [0.1, 0.1], [-1.2, -0.4]]
Y = [1.0, -0.5, 0.25, 0.0, -1.0]

CONFIGS = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.05}),
    ("Adam", {"lr": 0.02, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.05}),
    ("AdamW", {"lr": 0.05, "weight_decay": 0.3, "betas": (0.5, 0.99)}),
    ("RMSprop", {"lr": 0.01}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "centered": True, "weight_decay": 0.05}),
    ("Adagrad", {"lr": 0.1}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.01, "weight_decay": 0.05, "initial_accumulator_value": 0.2}),
]
OURS = {"SGD": SGD, "Adam": Adam, "AdamW": AdamW, "RMSprop": RMSprop, "Adagrad": Adagrad}


def run_ours(name, kwargs, steps, schedule=None):
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    if schedule is not None:
        kwargs = dict(kwargs, lr=schedule)
    opt = OURS[name](model, **kwargs)
    start = model.state_dict()
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        losses.mse([model(x) for x in X], Y).backward()
        opt.step()
        trajectory.append([p.data for p in model.parameters()])
    return start, trajectory, model


def run_torch(name, kwargs, start_model, steps, schedule=None):
    torch = torch_or_skip()
    net = to_torch(start_model)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    opt = getattr(torch.optim, name)(net.parameters(), **kwargs)
    scheduler = None
    if schedule is not None:
        scheduler = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: schedule(k) / kwargs["lr"])
    inputs = torch.tensor(X, dtype=torch.float64)
    targets = torch.tensor(Y, dtype=torch.float64)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(inputs).squeeze(1), targets).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        flat = []  # the order of named_parameters(): per neuron its weights, then its bias
        for linear in linears:
            for row, bias in zip(linear.weight.tolist(), linear.bias.tolist()):
                flat.extend(row + [bias])
        trajectory.append(flat)
    return trajectory


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_trajectory_matches_torch_optim(name, kwargs):
    torch_or_skip()
    start, ours, _ = run_ours(name, kwargs, steps=25)
    fresh = MLP(2, [4, 1], activation="tanh", seed=0)
    assert fresh.state_dict() == start
    theirs = run_torch(name, kwargs, fresh, steps=25)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a == pytest.approx(b, abs=1e-9, rel=0), f"step {step}"
    assert ours[-1] != ours[0]


@pytest.mark.parametrize(
    "schedule",
    [schedules.linear(0.1, 0.01, 10), schedules.step(0.1, 4, 0.5), schedules.cosine(0.1, 12, 0.01), lambda k: 0.1 / (1 + k)],
)
@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_scheduled_trajectory_matches_torch_lambda_lr(schedule, name):
    torch_or_skip()
    kwargs = {"lr": 0.1, "momentum": 0.9} if name == "SGD" else {"lr": 0.1}
    _, ours, _ = run_ours(name, kwargs, steps=15, schedule=schedule)
    theirs = run_torch(name, kwargs, MLP(2, [4, 1], activation="tanh", seed=0), steps=15, schedule=schedule)
    for a, b in zip(ours, theirs):
        assert a == pytest.approx(b, abs=1e-9, rel=0)


def test_one_adam_step_by_hand_and_its_state():
    p = Parameter(1.0)
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999))
    p.grad = 2.0
    opt.step()
    m, v = 0.1 * 2.0, 0.001 * 4.0
    m_hat, v_hat = m / (1 - 0.9), v / (1 - 0.999)
    assert p.data == pytest.approx(1.0 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8), rel=1e-14)
    assert opt.state[p] == pytest.approx({"step": 1, "m": m, "v": v})
    assert opt.steps == 1


def test_sgd_momentum_state_and_named_state():
    model = MLP(1, [1], activation="linear", seed=0)
    opt = SGD(model, lr=0.5, momentum=0.9)
    w, b = model.parameters()
    for g in (1.0, 2.0):
        w.grad, b.grad = g, 0.0
        opt.step()
    assert opt.state[w]["momentum"] == pytest.approx(0.9 * 1.0 + 2.0)
    assert list(opt.named_state()) == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.b"]
    assert opt.named_state()["layers.0.neurons.0.w.0"] is opt.state[w]


def test_the_classic_schedule_and_a_learning_rate_changed_mid_run():
    sched = schedules.linear(1.0, 0.1, 100)
    assert [sched(k) for k in (0, 50, 100, 200)] == pytest.approx([1.0, 0.55, 0.1, 0.1])
    for k in range(100):
        assert sched(k) == pytest.approx(1.0 - 0.9 * k / 100, abs=1e-15)
    p = Parameter(0.0)
    opt = SGD([p], lr=sched)
    assert opt.lr == 1.0
    p.grad = 1.0
    opt.step()
    assert p.data == -1.0 and opt.lr == pytest.approx(0.991)
    opt.lr = 0.5  # a plain number replaces the schedule
    opt.step()
    assert p.data == -1.5
    assert "linear(1.0, 0.1, steps=100)" in repr(SGD([p], lr=sched))


def test_schedule_shapes():
    s = schedules.step(1.0, 10, 0.5)
    assert [s(k) for k in (0, 9, 10, 25)] == [1.0, 1.0, 0.5, 0.25]
    c = schedules.cosine(1.0, 10, min_lr=0.1)
    assert c(0) == 1.0 and c(5) == pytest.approx(0.55) and c(10) == pytest.approx(0.1) and c(50) == pytest.approx(0.1)
    assert schedules.constant(0.3)(1000) == 0.3


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: schedules.step(0.1, every=0.5), TypeError, "every must be a positive int .*got float: 0.5"),
        (lambda: schedules.step(0.1, every=0), ValueError, "every must be a positive int .*got 0"),
        (lambda: schedules.step(0.1, every=True), TypeError, "every must be a positive int"),
        (lambda: schedules.step(0.1, 3, gamma=-0.5), ValueError, "gamma must be a finite number >= 0, got -0.5"),
        (lambda: schedules.step("0.1", 3), TypeError, "lr must be a number, got str"),
        (lambda: schedules.linear(1.0, 0.0, 0), ValueError, "steps must be a positive int"),
        (lambda: schedules.linear(1.0, 0.0, 10.5), TypeError, "steps must be a positive int"),
        (lambda: schedules.linear(1.0, float("nan"), 10), ValueError, "end must be a finite number"),
        (lambda: schedules.cosine(1.0, -3), ValueError, "steps must be a positive int"),
        (lambda: schedules.cosine(1.0, None), TypeError, "steps must be a positive int"),
        (lambda: schedules.cosine(1.0, 10, min_lr=float("inf")), ValueError, "min_lr must be a finite number"),
        (lambda: schedules.constant(-1.0), ValueError, "lr must be a finite number >= 0"),
    ],
)
def test_a_schedule_checks_its_arguments_when_it_is_built(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_schedule_takes_numpy_numbers():
    np = pytest.importorskip("numpy")
    s = schedules.step(np.float64(1.0), np.int64(10), np.float32(0.5))
    assert [s(k) for k in (0, 10)] == [1.0, 0.5]


def test_weight_decay_shrinks_weights_without_gradient():
    p, q = Parameter(2.0), Parameter(2.0)
    SGD([p], lr=0.1, weight_decay=0.5).step()
    AdamW([q], lr=0.1, weight_decay=0.5).step()
    assert p.data == pytest.approx(2.0 - 0.1 * 0.5 * 2.0)
    assert q.data == pytest.approx(2.0 * (1 - 0.1 * 0.5))


def test_a_non_finite_gradient_stops_the_step_and_changes_nothing():
    a, b = Parameter(1.0), Parameter(2.0)
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = 1.0, float("nan")
    with pytest.raises(FloatingPointError, match="gradient of parameter 1 is nan"):
        opt.step()
    assert (a.data, b.data, opt.steps, opt.state[a]) == (1.0, 2.0, 0, {})


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_a_parameter_whose_grad_is_none_is_left_alone(name, kwargs):
    # as torch.optim does with a tensor whose .grad is None: no update, no state
    model = MLP(2, [3, 1], activation="tanh", seed=4)
    start = model.state_dict()
    frozen = model.layers[0].neurons[1].w[0]
    opt = OURS[name](model, **kwargs)
    for _ in range(3):
        opt.zero_grad()
        losses.mse([model(x) for x in X], Y).backward()
        frozen.grad = None
        opt.step()
    after = model.state_dict()
    assert after["layers.0.neurons.1.w.0"] == start["layers.0.neurons.1.w.0"]
    assert opt.state[frozen] == {}
    assert all(after[k] != start[k] for k in after if k != "layers.0.neurons.1.w.0")


def test_zero_grad_clears_every_parameter():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 1.0]).backward()
    opt = RMSprop(model)
    opt.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda p: SGD(p, lr=-0.1), ValueError, "lr must be a finite number >= 0"),
        (lambda p: SGD(p, lr=float("nan")), ValueError, "lr must be"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), ValueError, "nesterov=True needs momentum"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), ValueError, "beta2 must be < 1.0"),
        (lambda p: Adam(p, betas=0.9), ValueError, "betas must be a pair"),
        (lambda p: RMSprop(p, alpha=1.5), ValueError, "alpha must be <= 1.0"),
        (lambda p: Adagrad(p, eps=-1), ValueError, "eps must be"),
        (lambda p: SGD([], lr=0.1), ValueError, "no parameters"),
        (lambda p: SGD([1.0], lr=0.1), TypeError, "optimizes Values"),
        (lambda p: SGD(p + p, lr=0.1), ValueError, "same parameter twice"),
    ],
)
def test_bad_settings_say_what_is_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make([Value(1.0)])


def test_a_schedule_that_returns_garbage_is_reported():
    opt = SGD([Value(1.0)], lr=lambda k: -1.0)
    with pytest.raises(ValueError, match="schedule's learning rate at step 0"):
        opt.step()
