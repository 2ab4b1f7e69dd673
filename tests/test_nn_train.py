"""Training: the acceptance runs (classic moons, XOR, spiral), fit and its History, progress, early stopping."""

import math

import pytest

import nn
from nn import MLP, SGD, Adam, Dropout, Layer, Sequential, data, fit, losses, schedules
from nn.train import History


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_acceptance_classic_moons_demo_reaches_100_percent(activation):
    # the micrograd demo: hinge + 1e-4 L2, SGD with lr 1.0 - 0.9*k/100, 100 full-batch steps
    # (fit runs the same loop as the hand-written one; see test_fit_runs_the_same_loop_a_learner_writes)
    X, y = data.moons(100, noise=0.1, seed=1)
    model = MLP(2, [16, 16, 1], activation=activation, seed=0)
    opt = SGD(model, lr=lambda k: 1.0 - 0.9 * k / 100)
    history = fit(model, (X, y), loss="hinge", optimizer=opt, epochs=100, l2=1e-4, progress=False)
    assert opt.steps == 100
    assert model.accuracy(X, y) == 1.0 == history.train_accuracy[-1]


def test_acceptance_xor_is_learned_with_one_hidden_layer():
    X, y = data.xor(100, noise=0.1, seed=0)
    model = MLP(2, [4, 1], seed=0)
    history = fit(model, (X, y), optimizer="adam", lr=0.05, epochs=60, progress=False)
    assert history.train_accuracy[-1] == 1.0
    assert model.accuracy(X, y) == 1.0


def test_acceptance_three_class_spiral_with_cross_entropy_and_adam():
    X, y = data.spiral(150, 3, seed=0)
    model = MLP(2, [16, 16, 3], seed=0)
    history = fit(model, (X, y), loss="cross_entropy", optimizer=Adam(model, lr=0.03), epochs=25, batch_size=30, progress=False)
    assert model.accuracy(X, y) >= 0.95
    assert history.train_accuracy[-1] == model.accuracy(X, y)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]


def test_fit_runs_the_same_loop_a_learner_writes():
    X, y = data.moons(30, seed=3)
    by_hand = MLP(2, [4, 1], seed=0)
    opt = SGD(by_hand, lr=0.3)
    for _ in range(5):
        opt.zero_grad()
        (losses.hinge([by_hand(x) for x in X], y) + losses.l2(by_hand, 1e-3)).backward()
        opt.step()
    fitted = MLP(2, [4, 1], seed=0)
    fit(fitted, (X, y), loss="hinge", optimizer=SGD(fitted, lr=0.3), epochs=5, l2=1e-3, progress=False)
    assert fitted.state_dict() == by_hand.state_dict()


def test_history_holds_train_and_validation_numbers_per_epoch():
    X, y = data.moons(50, seed=0)
    model = MLP(2, [6, 1], seed=0)
    history = fit(model, (X, y), epochs=4, validation=0.2, batch_size=8, progress=False)
    assert isinstance(history, History) and len(history) == history.epochs == 4
    for series in (history.train_loss, history.val_loss, history.train_accuracy, history.val_accuracy):
        assert len(series) == 4 and all(isinstance(v, float) for v in series)
    X_train, X_val, y_train, y_val = data.train_test_split(X, y, test_size=0.2, seed=0)
    assert history.val_accuracy[-1] == model.accuracy(X_val, y_val)
    assert history.val_loss[-1] == pytest.approx(losses.binary_cross_entropy(model.predict(X_val), y_val))
    assert history.train_loss[-1] == pytest.approx(losses.binary_cross_entropy(model.predict(X_train), y_train))
    assert "4 epochs" in repr(history) and set(history.as_dict()) >= {"train_loss", "val_accuracy"}


def test_validation_may_be_a_count():
    X, y = data.moons(40, seed=0)
    history = fit(MLP(2, [4, 1], seed=0), (X, y), validation=10, epochs=1, progress=False)
    assert len(history.val_loss) == 1


def test_validation_data_and_own_lists_work():
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    y = [-1, 1, 1, -1]  # a learner's own XOR with -1/+1 labels: hinge by default
    model = MLP(2, [8, 1], seed=1)
    history = fit(model, (X, y), validation=(X, y), optimizer="adam", lr=0.05, epochs=80, progress=False)
    assert history.val_accuracy[-1] == history.train_accuracy[-1] == 1.0


def test_the_lectures_float_targets_train_with_mse_and_report_accuracy():
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    model = MLP(3, [4, 4, 1], seed=0)
    history = fit(model, (xs, ys), optimizer=SGD(model, lr=0.05), epochs=40, progress=False)
    assert history.train_loss[-1] == pytest.approx(losses.mse(model.predict(xs), ys))
    assert history.train_accuracy[-1] == 1.0


def test_mini_batches_take_one_step_each():
    X, y = data.blobs(45, k=3, seed=0)
    model = MLP(2, [5, 3], seed=0)
    opt = Adam(model, lr=0.01)
    fit(model, (X, y), optimizer=opt, epochs=3, batch_size=10, progress=False)
    assert opt.steps == 3 * 5


def test_regression_has_no_accuracy():
    X, y = data.regression(40, seed=0)
    model = MLP(1, [8, 1], seed=0)
    history = fit(model, (X, y), optimizer="adam", lr=0.02, epochs=30, progress=False)
    assert history.train_accuracy == [None] * 30
    assert history.train_loss[-1] < history.train_loss[0]
    with pytest.raises(ValueError, match="accuracy is undefined for regression"):
        fit(model, (X, y), epochs=1, monitor="train_accuracy", progress=False)


def test_early_stopping_stops_and_restores_the_best_weights():
    X, y = data.moons(40, seed=0)
    model = MLP(2, [8, 1], seed=0)
    lr = lambda k: 0.05 if k < 6 else 20.0  # good steps, then wild ones that make the loss worse
    history = fit(model, (X, y), loss="hinge", optimizer=SGD(model, lr=lr), epochs=50, early_stopping=3, progress=False)
    assert history.stopped_early and history.epochs < 50
    assert history.epochs == history.best_epoch + 3
    best = history.train_loss[history.best_epoch - 1]
    assert best == min(history.train_loss)
    assert losses.hinge(model.predict(X), y) == pytest.approx(best)


def test_progress_bar_is_silent_when_not_a_terminal_and_shows_when_asked(capsys):
    X, y = data.xor(20, seed=0)
    fit(MLP(2, [3, 1], seed=0), (X, y), epochs=2)
    assert capsys.readouterr().err == ""
    fit(MLP(2, [3, 1], seed=0), (X, y), epochs=2, progress=True)
    assert "2/2" in capsys.readouterr().err
    fit(MLP(2, [3, 1], seed=0), (X, y), epochs=2, progress=False)
    assert capsys.readouterr().err == ""


def test_callback_sees_every_epoch_and_the_train_mode_is_restored():
    X, y = data.xor(20, seed=0)
    model = MLP(2, [3, 1], seed=0).eval()
    seen = []
    fit(model, (X, y), epochs=3, progress=False, callback=lambda epoch, h: seen.append((epoch, len(h))))
    assert seen == [(1, 1), (2, 2), (3, 3)]
    assert model.training is False


def dropout_model():
    return Sequential(Layer(2, 16, "relu", seed=0), Dropout(0.5, seed=0), Layer(16, 1, "linear", seed=1))


@pytest.mark.parametrize("loss", ["mse", losses.mse, lambda outputs, targets: losses.mse(outputs, targets)])
def test_history_is_measured_in_eval_mode_whatever_the_loss(loss):
    X, y = data.moons(40, seed=0)
    targets = [float(t) for t in y]
    X_val, y_val = X[:10], targets[:10]
    model = dropout_model()
    history = fit(model, (X, targets), loss=loss, optimizer=SGD(model, lr=0.0), epochs=5, validation=(X_val, y_val), early_stopping=1, progress=False)
    # the weights never change (lr 0), so with Dropout off every epoch measures the same numbers
    train, val = losses.mse(model.predict(X), targets), losses.mse(model.predict(X_val), y_val)
    assert history.train_loss == pytest.approx([train, train], rel=1e-12)
    assert history.val_loss == pytest.approx([val, val], rel=1e-12)
    assert history.train_accuracy == [model.accuracy(X, targets, threshold=0.5)] * 2
    assert history.val_accuracy == [model.accuracy(X_val, y_val, threshold=0.5)] * 2
    assert history.best_epoch == 1 and history.stopped_early


def test_a_loss_of_your_own_trains_exactly_as_the_built_in_one_with_dropout():
    # measuring the History draws no Dropout masks, so it cannot change the masks training uses
    X, y = data.moons(30, seed=2)
    targets = [float(t) for t in y]
    runs = []
    for loss in ("mse", lambda outputs, targets: losses.mse(outputs, targets)):
        model = dropout_model()
        history = fit(model, (X, targets), loss=loss, optimizer=SGD(model, lr=0.05), epochs=3, validation=0.2, progress=False)
        runs.append((model.state_dict(), history.val_loss))
    # the built-in loss trains on the compiled path, this one on the graph path: the same masks
    assert list(runs[0][0].values()) == pytest.approx(list(runs[1][0].values()), rel=1e-12, abs=1e-15)
    assert runs[0][1] == pytest.approx(runs[1][1], rel=1e-12)


def test_fit_gives_each_module_back_its_own_mode():
    X, y = data.xor(20, seed=0)
    model = dropout_model()
    model[1].eval()  # Dropout off, the layers in training mode
    fit(model, (X, y), loss=lambda outputs, targets: losses.hinge(outputs, targets), epochs=2, progress=False)
    assert [model.training, model[0].training, model[1].training, model[2].training] == [True, True, False, True]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"epochs": -1}, ValueError, "epochs must be an int"),
        ({"monitor": "val_loss"}, ValueError, "needs validation data"),
        ({"monitor": "loss"}, ValueError, "monitor must be"),
        ({"optimizer": "lbfgs"}, ValueError, "unknown optimizer 'lbfgs'"),
        ({"loss": "cross_entropy"}, ValueError, "cross_entropy needs class labels 0..0"),
        ({"l2": -1.0}, ValueError, "l2 must be"),
        ({"early_stopping": 0}, ValueError, "patience"),
        ({"optimizer": 3}, TypeError, "optimizer must be a name"),
    ],
)
def test_bad_settings_say_what_is_wrong(kwargs, error, message):
    X, y = data.xor(20, seed=0)
    with pytest.raises(error, match=message):
        fit(MLP(2, [3, 1], seed=0), (X, y), progress=False, **kwargs)


def test_bad_data_says_what_is_wrong():
    with pytest.raises(TypeError, match="pair"):
        fit(MLP(2, [3, 1]), [[0.0, 1.0]], progress=False)
    with pytest.raises(ValueError, match="X has 2 examples but y has 1"):
        fit(MLP(2, [3, 1]), ([[0.0, 1.0], [1.0, 0.0]], [1]), progress=False)
    with pytest.raises(ValueError, match="binary_cross_entropy needs labels 0/1"):
        fit(MLP(2, [3, 1]), ([[0.0, 1.0], [1.0, 0.0]], [0, 2]), loss="bce", progress=False)


def test_schedules_plug_into_fit():
    X, y = data.moons(30, seed=0)
    model = MLP(2, [4, 1], seed=0)
    opt = SGD(model, lr=schedules.cosine(0.5, 10))
    fit(model, (X, y), optimizer=opt, epochs=10, progress=False)
    assert opt.steps == 10 and opt.lr == 0.0


def test_train_step_is_one_update_of_the_loop_and_leaves_the_gradients():
    from nn import MLP, SGD, losses
    from nn.train import train_step

    X, y = [[0.5, -1.0], [1.0, 2.0]], [1.0, -1.0]
    model, twin = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0)
    opt, twin_opt = SGD(model, lr=0.1), SGD(twin, lr=0.1)
    value = train_step(model, opt, losses.mse, X, y, l2=0.01)
    twin_opt.zero_grad()
    loss = losses.mse([twin(x) for x in X], y) + losses.l2(twin, 0.01)
    loss.backward()
    grads = [p.grad for p in twin.parameters()]
    twin_opt.step()
    assert value == loss.data
    assert [p.grad for p in model.parameters()] == grads
    assert model.state_dict() == twin.state_dict()


def test_classify_is_the_rule_accuracy_counts_by():
    assert [nn.classify(v) for v in (-0.3, 0.0, 0.2)] == [0, 0, 1]
    assert [nn.classify(v, threshold=0.5) for v in (0.4, 0.6)] == [0, 1]
    assert nn.classify([0.1, 2.0, -1.0]) == 1
    model = MLP(2, [5, 3], seed=2)
    X = [[0.1 * i, -0.2 * i] for i in range(-5, 6)]
    y = [nn.classify(out) for out in model.predict(X)]
    assert model.accuracy(X, y) == 1.0
    y[0] = (y[0] + 1) % 3
    assert model.accuracy(X, y) == 10 / 11


# ---- everything checked before the first step ---------------------------------------------------------
def test_an_optimizer_of_another_model_is_refused_before_training():
    X, y = data.xor(20, seed=0)
    model, other = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=r"the optimizer holds none of this model's 13 parameters .* build it on this model, e.g. SGD\(model, lr=...\)"):
        fit(model, (X, y), optimizer=SGD(other, lr=0.1), epochs=3, progress=False)
    with pytest.raises(ValueError, match=r"holds only 12 of this model's 13 parameters \(missing: layers.1.neurons.0.b\)"):
        fit(model, (X, y), optimizer=Adam(model.parameters()[:-1]), epochs=3, progress=False)
    assert model.state_dict() == before and other.state_dict() == MLP(2, [3, 1], seed=1).state_dict()
    both = SGD(model.parameters() + other.parameters(), lr=0.1)  # more than this model's is fine
    fit(model, (X, y), optimizer=both, epochs=1, progress=False)
    assert both.steps == 1


@pytest.mark.parametrize(
    "validation, error, message",
    [
        (([[0.0, 1.0, 2.0]], [1]), ValueError, "validation rows have 3 features but training rows have 2"),
        (([[0.0, 1.0]], [5]), ValueError, "validation data: cross_entropy: the target must be a class index in 0..2, got 5"),
        (([[0.0, 1.0]], [[1.0, 0.0]]), ValueError, "validation data: cross_entropy"),
    ],
)
def test_bad_validation_data_is_caught_before_epoch_1_changes_anything(validation, error, message):
    X, y = data.blobs(30, k=3, seed=0)
    model = MLP(2, [4, 3], seed=0)
    opt = Adam(model, lr=0.1)
    before = model.state_dict()
    with pytest.raises(error, match=message):
        fit(model, (X, y), optimizer=opt, validation=validation, epochs=2, progress=False)
    assert model.state_dict() == before and opt.steps == 0


def test_a_loss_that_cannot_take_the_data_fails_before_training():
    X, y = data.xor(20, seed=0)
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()

    def picky(outputs, targets):
        if len(targets) != 20:
            raise ValueError("picky wants 20 targets")
        return losses.mse(outputs, targets)

    with pytest.raises(ValueError, match="validation data: picky wants 20 targets"):
        fit(model, (X, y), loss=picky, validation=(X[:5], y[:5]), epochs=2, progress=False)
    assert model.state_dict() == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": 0}, "epochs must be an int >= 1"),
        ({"epochs": 2.5}, "epochs must be an int >= 1"),
        ({"epochs": True}, "epochs must be an int >= 1"),
        ({"batch_size": 0}, "batch_size must be an int >= 1 .*or None"),
        ({"batch_size": -3}, "batch_size must be an int >= 1"),
        ({"batch_size": 1.5}, "batch_size must be an int >= 1"),
        ({"batch_size": False}, "batch_size must be an int >= 1"),
        ({"early_stopping": True}, "early_stopping must be an int >= 1"),
        ({"l2": 10**400}, "l2 must be a finite number >= 0, got an int of about 401 digits"),
        ({"l1": float("nan")}, "l1 must be a finite number >= 0"),
        ({"clip_grad_norm": 0}, "clip_grad_norm must be a finite number > 0"),
        ({"clip_grad_norm": float("inf")}, "clip_grad_norm must be a finite number > 0"),
        ({"lr": -1.0, "optimizer": "sgd"}, "lr must be a finite number >= 0"),
        ({"monitor": ["val_loss"]}, "monitor must be"),
    ],
)
def test_bad_training_arguments_are_refused_before_anything_changes(kwargs, message):
    X, y = data.xor(20, seed=0)
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(model, lr=0.1) if "optimizer" not in kwargs else kwargs.pop("optimizer")
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        fit(model, (X, y), optimizer=opt, progress=False, **kwargs)
    assert model.state_dict() == before


def test_a_wrong_lr_for_a_given_optimizer_leaves_it_as_it_was():
    X, y = data.xor(20, seed=0)
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(model, lr=0.1)
    with pytest.raises(ValueError, match="lr must be"):
        fit(model, (X, y), optimizer=opt, lr=float("inf"), progress=False)
    with pytest.raises(ValueError, match="epochs must be"):
        fit(model, (X, y), optimizer=opt, lr=0.5, epochs=0, progress=False)
    assert opt.lr == 0.1


def test_numpy_numbers_are_fine_training_arguments():
    np = pytest.importorskip("numpy")
    X, y = data.xor(20, seed=0)
    model = MLP(2, [3, 1], seed=0)
    opt = SGD(model, lr=np.float64(0.1))
    history = fit(model, (X, y), optimizer=opt, epochs=np.int64(2), batch_size=np.int64(10), l2=np.float32(1e-3), validation=np.float64(0.25), progress=False)
    assert history.epochs == 2 and opt.steps == 2 * 2


def test_bool_inputs_are_refused_on_the_float_path_as_in_the_graph():
    model = MLP(2, [3, 1], seed=0)
    for call in (lambda x: model(x), model.forward_floats, lambda x: model.predict([x]), lambda x: model.float_function()(x)):
        for x in ([True, 0.5], [0.5, False]):
            with pytest.raises(TypeError, match=f"input {x.index(next(v for v in x if type(v) is bool))} must be a number or a Value, got bool"):
                call(x)
    assert model.forward_floats([1, 0]) == model.forward_floats([1.0, 0.0])  # ints are numbers


# ---- diverging training ends with fit's own message -----------------------------------------------------
def test_diverging_training_stops_with_lower_the_learning_rate_not_an_overflow():
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    model = MLP(3, [4, 4, 1], seed=0)
    opt = SGD(model, lr=1e6)
    with pytest.warns(RuntimeWarning, match="training is diverging"):
        with pytest.raises(FloatingPointError, match=r"training diverged in epoch \d+: .*Lower the learning rate \(lr=1e\+06\)") as caught:
            fit(model, (xs, ys), loss="mse", optimizer=opt, epochs=100, progress=False)
    assert "Numerical result out of range" not in str(caught.value)
    assert all(math.isfinite(p.data) for p in model.parameters())
    state = model.state_dict()
    assert opt.steps >= 1 and model.forward_floats(xs[0]) is not None and len(state) == 41


@pytest.mark.parametrize("loss", ["hinge", "binary_cross_entropy", "mse"])
@pytest.mark.parametrize("optimizer", [Adam, SGD])
def test_huge_but_finite_losses_warn(loss, optimizer):
    X, y = data.moons(40, seed=0)
    model = MLP(2, [8, 1], seed=0)
    with pytest.warns(RuntimeWarning, match=r"the train loss grew from .* by epoch 1: training is diverging; lower the learning rate \(lr=1e\+06\)"):
        try:
            fit(model, (X, y), loss=loss, optimizer=optimizer(model, lr=1e6), epochs=5, progress=False)
        except FloatingPointError as error:
            assert "Lower the learning rate" in str(error)


def test_ordinary_training_does_not_warn(recwarn):
    X, y = data.moons(40, seed=0)
    model = MLP(2, [8, 1], seed=0)
    fit(model, (X, y), optimizer=Adam(model, lr=0.05), epochs=10, progress=False)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# ---- Ctrl-C leaves the model and the optimizer at a step boundary -----------------------------------------
@pytest.mark.parametrize("make", [lambda m: Adam(m, lr=0.05), lambda m: SGD(m, lr=0.1, momentum=0.9)])
def test_ctrl_c_anywhere_in_fit_leaves_model_and_optimizer_at_a_step_boundary(make):
    import os

    from interrupts import AUTOGRAD, NN, interrupt_everywhere

    X, y = data.xor(6, noise=0.1, seed=0)
    kwargs = dict(epochs=2, batch_size=3, l2=1e-3, clip_grad_norm=1.0, progress=False)

    def snapshot(model, opt):
        return model.state_dict(), {name: dict(s) for name, s in opt.named_state().items()}

    # the state after each complete step, from an uninterrupted run of the same loop
    reference = MLP(2, [2, 1], seed=0)
    ref_opt = make(reference)
    boundaries = [snapshot(reference, ref_opt)]
    real_step = ref_opt.step

    def recording_step():
        real_step()
        boundaries.append(snapshot(reference, ref_opt))

    ref_opt.step = recording_step
    fit(reference, (X, y), optimizer=ref_opt, **kwargs)
    assert len(boundaries) == 5

    def setup():
        model = MLP(2, [2, 1], seed=0)
        return model, make(model)

    def check(state, interrupted):
        model, opt = state
        assert snapshot(model, opt) == boundaries[opt.steps]
        if isinstance(opt, Adam) and opt.steps:
            assert {s["step"] for s in opt.state.values()} == {opt.steps}

    def run(state):
        fit(state[0], (X, y), optimizer=state[1], **kwargs)

    # every line of the optimizer and of the commit, and every 37th line anywhere in nn and autograd
    stepping = (os.path.join(NN, "optim.py"), os.path.join(AUTOGRAD, "interrupts.py"))
    assert interrupt_everywhere(setup, run, check, folders=stepping) > 300
    assert interrupt_everywhere(setup, run, check, folders=(NN, AUTOGRAD), stride=37) > 300


def test_clip_grad_norm_in_fit_is_the_hand_written_clipped_loop():
    import nn

    X, y = data.moons(30, seed=3)
    by_hand = MLP(2, [4, 1], seed=0)
    opt = SGD(by_hand, lr=0.5)
    norms = []
    for _ in range(5):
        opt.zero_grad()
        (losses.hinge([by_hand(x) for x in X], y) + losses.l2(by_hand, 1e-3)).backward()
        norms.append(nn.clip_grad_norm_(by_hand.parameters(), 0.1))
        before = [p.data for p in by_hand.parameters()]
        opt.step()
        moved = math.sqrt(sum((p.data - b) ** 2 for p, b in zip(by_hand.parameters(), before)))
        assert moved <= 0.5 * 0.1 * (1 + 1e-9)  # a clipped SGD step is at most lr * max_norm long
    assert max(norms) > 0.1  # the clipping did something
    fitted = MLP(2, [4, 1], seed=0)
    fit(fitted, (X, y), loss="hinge", optimizer=SGD(fitted, lr=0.5), epochs=5, l2=1e-3, clip_grad_norm=0.1, progress=False)
    assert fitted.state_dict() == by_hand.state_dict()
    unclipped = MLP(2, [4, 1], seed=0)
    fit(unclipped, (X, y), loss="hinge", optimizer=SGD(unclipped, lr=0.5), epochs=5, l2=1e-3, progress=False)
    assert unclipped.state_dict() != fitted.state_dict()
