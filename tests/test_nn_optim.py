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


# ---- a step is all or nothing ---------------------------------------------------------------------
def _snapshot(model, opt):
    return model.state_dict(), {name: dict(state) for name, state in opt.named_state().items()}, opt.steps


@pytest.mark.parametrize("name, kwargs", CONFIGS)
def test_ctrl_c_at_any_line_of_a_step_changes_everything_or_nothing(name, kwargs):
    from interrupts import interrupt_everywhere

    model = MLP(2, [3, 1], activation="tanh", seed=1)
    opt = OURS[name](model, **kwargs)
    for _ in range(2):  # some state to keep consistent
        opt.zero_grad()
        losses.mse([model(x) for x in X], Y).backward()
        opt.step()
    before = _snapshot(model, opt)
    grads = [p.grad for p in model.parameters()]
    opt.step()
    after = _snapshot(model, opt)

    def setup():
        model.load_state_dict(before[0])
        for p, state, g in zip(model.parameters(), before[1].values(), grads):
            opt.state[p].clear()
            opt.state[p].update(state)
            p.grad = g
        opt.steps = before[2]
        return None

    def check(_, interrupted):
        now = _snapshot(model, opt)
        assert now == after or (interrupted and now == before)
        if "step" in next(iter(now[1].values())):  # Adam's and Adagrad's per-parameter counts agree
            assert {state["step"] for state in now[1].values()} == {now[2]}

    lines = interrupt_everywhere(setup, lambda _: opt.step(), check)
    assert lines > 50


def test_a_step_that_would_overflow_changes_nothing():
    model = MLP(2, [3, 1], seed=0)
    for opt in (SGD(model, lr=1e300), Adam(model, lr=0.1), RMSprop(model, lr=0.1)):
        before = model.state_dict()
        opt.zero_grad()
        for p in model.parameters():
            p.grad = 1e200 if isinstance(opt, SGD) else 1e300  # g*g overflows Adam's and RMSprop's state
        with pytest.raises(FloatingPointError, match=r"would make parameter layers\.0\.neurons\.0\.w\.0 or its optimizer state infinite or nan; no parameter was changed \(lower the learning rate\)"):
            opt.step()
        assert model.state_dict() == before and opt.steps == 0
        assert all(state == {} for state in opt.state.values())


def test_optimizer_numbers_too_large_for_a_float_are_refused_clearly():
    p = Parameter(1.0)
    with pytest.raises(ValueError, match="lr must be a finite number >= 0.0, got an int of about 401 digits"):
        SGD([p], lr=10**400)
    with pytest.raises(ValueError, match="momentum must be"):
        SGD([p], lr=0.1, momentum=10**5000)
    opt = SGD([p], lr=lambda k: 10.0**k if k < 400 else 10**400 * 1.0)
    opt.steps = 400
    with pytest.raises(ValueError, match="schedule's learning rate at step 400 must be a finite number"):
        opt.lr
    growing = schedules.step(0.1, every=1, gamma=10.0)
    assert growing(400) == math.inf  # not OverflowError: the optimizer refuses it with the step number


# ---- gradient clipping -------------------------------------------------------------------------------
def _with_grads(grads):
    params = [Parameter(0.1 * i) for i in range(len(grads))]
    for p, g in zip(params, grads):
        p.grad = g
    return params


GRADS = [0.3, -4.0, None, 2.5, 1e-3, -0.7]


@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 4.0, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    import nn

    torch = torch_or_skip()
    params = _with_grads(GRADS)
    total = nn.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    tensors = []
    for g in GRADS:
        t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        t.grad = None if g is None else torch.tensor([g], dtype=torch.float64)
        tensors.append(t)
    expected = torch.nn.utils.clip_grad_norm_(tensors, max_norm, norm_type=norm_type)
    assert isinstance(total, float) and total == pytest.approx(expected.item(), rel=1e-12)
    for p, t in zip(params, tensors):
        assert (p.grad is None) == (t.grad is None)
        if p.grad is not None:
            assert p.grad == pytest.approx(t.grad.item(), rel=1e-12)
    clipped = [abs(p.grad) for p in params if p.grad is not None]
    after = max(clipped) if norm_type == math.inf else sum(g**norm_type for g in clipped) ** (1 / norm_type)
    assert after <= max_norm * (1 + 1e-9) or total <= max_norm


def test_clip_grad_norm_by_hand():
    import nn

    a, b, c = _with_grads([3.0, 4.0, None])
    assert nn.clip_grad_norm_([a, b, c], 1.0) == 5.0
    assert (a.grad, b.grad, c.grad) == (3.0 * (1.0 / (5 + 1e-6)), 4.0 * (1.0 / (5 + 1e-6)), None)
    assert nn.clip_grad_norm_([a, b], 10.0) == pytest.approx(1.0, rel=1e-6)  # under the limit: unchanged
    assert a.grad == pytest.approx(0.6, rel=1e-6)
    huge = _with_grads([1e300, 1e300])
    assert nn.clip_grad_norm_(huge, 1.0) == pytest.approx(math.sqrt(2) * 1e300)  # no overflow in the squares
    assert huge[0].grad == pytest.approx(1 / math.sqrt(2))
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    norm = math.sqrt(sum(p.grad**2 for p in model.parameters()))
    assert nn.clip_grad_norm_(model, 1e-3) == pytest.approx(norm, rel=1e-12)  # a model works too
    assert math.sqrt(sum(p.grad**2 for p in model.parameters())) == pytest.approx(1e-3, rel=1e-5)
    assert nn.clip_grad_norm_(_with_grads([None]), 1.0) == 0.0


def test_clip_grad_norm_leaves_non_finite_gradients_for_the_step_to_report():
    import nn

    params = _with_grads([1.0, float("inf"), 2.0])
    assert nn.clip_grad_norm_(params, 1.0) == math.inf
    assert [p.grad for p in params] == [1.0, math.inf, 2.0]
    with pytest.raises(FloatingPointError, match="the total norm of the gradients is nan"):
        nn.clip_grad_norm_(_with_grads([1.0, float("nan")]), 1.0, error_if_nonfinite=True)
    with pytest.raises(FloatingPointError, match="gradient of parameter 1 is inf"):
        SGD(params, lr=0.1).step()


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda nn, ps: nn.clip_grad_norm_(ps, -1.0), ValueError, "max_norm must be a finite number >= 0"),
        (lambda nn, ps: nn.clip_grad_norm_(ps, float("nan")), ValueError, "max_norm must be"),
        (lambda nn, ps: nn.clip_grad_norm_(ps, 1.0, norm_type=0), ValueError, "norm_type must be a number > 0"),
        (lambda nn, ps: nn.clip_grad_norm_(ps, 1.0, norm_type="two"), ValueError, "norm_type must be"),
        (lambda nn, ps: nn.clip_grad_norm_([1.0], 1.0), TypeError, "takes Values, got a float"),
        (lambda nn, ps: nn.clip_grad_norm_(3, 1.0), TypeError, "takes a model, a list of Values or one Value, got int"),
        (lambda nn, ps: nn.clip_grad_value_(ps, -0.1), ValueError, "clip_value must be a finite number >= 0"),
    ],
)
def test_clipping_arguments_are_checked(call, error, message):
    import nn

    with pytest.raises(error, match=message):
        call(nn, _with_grads([1.0, 2.0]))


def test_clip_grad_value_matches_torch():
    import nn

    torch = torch_or_skip()
    params = _with_grads(GRADS)
    assert nn.clip_grad_value_(params, 0.5) is None
    tensors = [torch.zeros(1, dtype=torch.float64, requires_grad=True) for _ in GRADS]
    for t, g in zip(tensors, GRADS):
        t.grad = None if g is None else torch.tensor([g], dtype=torch.float64)
    torch.nn.utils.clip_grad_value_(tensors, 0.5)
    assert [p.grad for p in params] == [None if t.grad is None else t.grad.item() for t in tensors]
    one = Parameter(1.0)
    one.grad = -3.0
    nn.clip_grad_value_(one, 1.0)
    assert one.grad == -1.0
