"""The playground's engine (`nn.playground.Trainer`, `Race`) without widgets or plots."""

import math

import pytest

from nn.playground import OPTIMIZER_NAMES, Trainer


def small(**kw):
    settings = {"n": 60, "hidden": [6], "batch_size": 10}
    settings.update(kw)
    return Trainer(**settings)


def test_the_default_setup_learns_moons():
    t = Trainer()
    assert [layer.nout for layer in t.model.layers] == [16, 16, 1]
    assert t.settings["dataset"] == "moons" and t.settings["batch_size"] == 10
    first = t.history["train_loss"][0]
    t.run(60)
    assert t.steps == 60 and t.epoch >= 4  # 140 training points in batches of 10
    assert t.history["train_loss"][-1] < 0.7 * first
    assert t.history["test_accuracy"][-1] > 0.8


def test_reset_restores_the_initial_weights_until_the_seed_changes():
    t = small()
    start = t.model.state_dict()
    assert start == small().model.state_dict()  # the same seed gives the same weights
    t.run(7)
    assert t.model.state_dict() != start
    t.reset()
    assert t.model.state_dict() == start and t.steps == 0 and t.optimizer.steps == 0
    assert t.history["step"] == [0]
    t.set(seed=1)
    assert t.model.state_dict() != start
    seeded = t.model.state_dict()
    t.run(3)
    t.reset()
    assert t.model.state_dict() == seeded


def test_a_learning_rate_change_mid_run_is_used_by_the_next_step():
    t = small(optimizer="sgd", lr=0.01)
    t.run(3)
    opt = t.optimizer
    t.set(lr=0.4)
    assert t.optimizer is opt and opt.lr == 0.4  # same optimizer, same state, new rate
    before = [p.data for p in opt.params]
    t.step()
    for p, b in zip(opt.params, before):
        assert p.data - b == pytest.approx(-0.4 * p.grad, rel=1e-9, abs=1e-15)
    assert t.lrs[-4:] == [0.01, 0.01, 0.01, 0.4]


def test_changing_the_optimizer_mid_run_keeps_the_weights():
    t = small()
    t.run(4)
    weights = t.model.state_dict()
    t.set(optimizer="rmsprop", lr=0.02)
    assert type(t.optimizer).__name__ == "RMSprop" and t.optimizer.lr == 0.02
    assert t.model.state_dict() == weights and t.steps == 4


def test_penalties_and_batch_size_take_effect_on_the_next_step():
    t = small(optimizer="sgd", lr=0.1, batch_size=60)  # 42 training points: one batch is all of them
    plain = t.step()
    t.reset()
    t.set(l2=0.5)
    assert t.step() > plain  # the same batch, plus the penalty
    assert len(t.last_batch[0]) == 42
    t.set(batch_size=5)
    t.step()
    assert len(t.last_batch[0]) == 5


def test_gradient_magnitudes_per_layer_are_the_mean_absolute_gradients():
    t = small(hidden=[5, 4])
    t.run(2)
    assert len(t.grad_norms) == 3 and all(len(g) == 2 for g in t.grad_norms)
    for norms, layer in zip(t.grad_norms, t.model.layers):
        ps = layer.parameters()
        assert norms[-1] == pytest.approx(sum(abs(p.grad) for p in ps) / len(ps))


@pytest.mark.parametrize("loss", ["bce", "cross_entropy", "hinge", "mse"])
def test_multiclass_works_with_every_loss(loss):
    t = Trainer(dataset="blobs", n=60, hidden=[6], loss=loss, optimizer="adam", lr=0.05, seed=1)
    assert t.task.classes == 3 and t.model.layers[-1].nout == 3
    first = t.history["train_loss"][0]
    t.run(25)
    assert t.history["train_loss"][-1] < 0.6 * first
    assert t.history["train_accuracy"][-1] > 0.8


@pytest.mark.parametrize("loss, nout", [("bce", 1), ("hinge", 1), ("mse", 1), ("cross_entropy", 2)])
def test_two_classes_use_one_output_except_cross_entropy(loss, nout):
    t = small(dataset="xor", loss=loss)
    assert t.model.layers[-1].nout == nout
    t.run(2)
    assert all(math.isfinite(v) for v in t.batch_loss)


def test_regression_trains_with_mse_and_says_so_for_other_losses():
    t = Trainer(dataset="regression", n=40, hidden=[8], loss="hinge", lr=0.03)
    assert t.task.loss == "mse" and "regression uses mse" in t.task.note
    assert t.history["train_accuracy"][0] is None
    first = t.history["train_loss"][0]
    t.run(30)
    assert t.history["train_loss"][-1] < first


def test_own_points_make_a_dataset():
    t = small()
    with pytest.raises(ValueError, match="a point is"):
        t.add_points([(1.0, 2.0)])
    t.set(dataset="own")
    with pytest.raises(ValueError, match="add points"):
        t.step()
    t.add_points([(-1, -1, 0), (1, 1, 0), (-1, 1, 1), (1, -1, 1), (0.9, 0.9, 0), (-0.9, 0.9, 1)])
    assert len(t.X_train) + len(t.X_test) == 6 and t.task.classes == 2
    t.add_points([(0, 0, 2)])
    assert t.task.classes == 3 and t.model.layers[-1].nout == 3
    t.run(3)
    t.clear_points()
    assert t.X == []


def test_bad_settings_are_refused_and_change_nothing():
    t = small()
    before = dict(t.settings)
    for bad in ({"lr": -1}, {"hidden": "a, b"}, {"hidden": [4, 0]}, {"batch_size": 0}, {"loss": "l3"},
                {"dataset": "mnist"}, {"test_ratio": 1.0}):
        with pytest.raises(ValueError):
            t.set(**bad)
        assert t.settings == before
    with pytest.raises(ValueError, match="unknown setting"):
        t.set(learning_rate=0.1)


def test_health_finds_dead_and_saturated_units():
    t = small(activation="relu", hidden=[4, 3])
    for neuron in t.model.layers[0].neurons[:3]:
        neuron.b.data = -100.0  # never positive on the data: dead
    rows = t.health()
    assert [r["units"] for r in rows] == [4, 3]
    assert rows[0]["dead"] == 3 and rows[0]["saturated"] == 0
    t = small(activation="tanh", hidden=[4])
    t.model.layers[0].neurons[0].b.data = 50.0  # always near +1: saturated
    assert t.health()[0]["saturated"] == 1 and t.health()[0]["dead"] == 0


def test_a_race_starts_every_optimizer_from_the_same_weights_and_data():
    t = small()
    t.run(5)  # the race starts from the initial weights, not from where this run is
    race = t.race()
    assert list(race.trainers) == list(OPTIMIZER_NAMES)
    for racer in race.trainers.values():
        assert racer.model.state_dict() == t.initial_state
        assert racer.X_train is t.X_train
    race.step(10)
    curves = race.curves
    assert len(curves) == len(OPTIMIZER_NAMES)
    starts = {values[0] for _, values in curves.values()}
    assert len(starts) == 1  # one starting loss
    assert len({tuple(values) for _, values in curves.values()}) == len(OPTIMIZER_NAMES)
    assert all(steps[-1] == 10 for steps, _ in curves.values())
    with pytest.raises(ValueError, match="unknown optimizer"):
        t.race(["lbfgs"])


def test_a_fork_starts_over_from_the_same_weights_with_another_optimizer():
    t = small(optimizer="adam", lr=0.01)
    t.run(4)
    other = t.fork("sgd", 0.2)
    assert other.model.state_dict() == t.initial_state and other.steps == 0
    assert type(other.optimizer).__name__ == "SGD" and other.optimizer.lr == 0.2
    twin = t.fork()
    twin.run(4)
    assert twin.model.state_dict() == t.model.state_dict()  # same data, same batches, same rule
    with pytest.raises(ValueError, match="unknown optimizer"):
        t.fork("lbfgs")


def snapshot(t):
    """Everything a refused change must leave alone."""
    return (dict(t.settings), list(t.points), t.X, t.X_train, t.model, t.model.state_dict(), t.optimizer,
            t.steps, t.version, {k: list(v) for k, v in t.history.items()})


BAD_SETTINGS = [
    {"n": 1}, {"n": -5}, {"n": 2.5}, {"n": True}, {"n": "200"}, {"seed": "x"}, {"seed": 1.5}, {"seed": None},
    {"noise": float("nan")}, {"noise": "0.1"}, {"test_ratio": "x"}, {"test_ratio": -0.1}, {"lr": float("inf")},
    {"lr": None}, {"l2": -1}, {"batch_size": 2.0}, {"hidden": "1,,2"}, {"hidden": ", 4"}, {"hidden": 16},
    {"hidden": [4, True]}, {"activation": ["tanh"]}, {"optimizer": None}, {"dataset": 3},
]


@pytest.mark.parametrize("bad", BAD_SETTINGS, ids=lambda bad: repr(bad))
def test_a_refused_setting_leaves_the_run_exactly_as_it_was(bad):
    t = small()
    t.run(3)
    before = snapshot(t)
    with pytest.raises(ValueError) as error:
        t.set(**bad)
    assert str(error.value)  # a message, naming what was wrong
    assert snapshot(t) == before
    t.step()  # and the run goes on
    assert t.steps == 4


def test_the_constructor_refuses_bad_settings_with_a_message():
    for bad in [b for b in BAD_SETTINGS if b != {"lr": None}] + [{"eval_every": 0}, {"points": [(0, 0, -3)]}]:
        with pytest.raises(ValueError):
            Trainer(**bad)


def test_hidden_layers_text_refuses_empty_entries_instead_of_skipping_them():
    from nn.playground.core import parse_hidden

    assert parse_hidden("16, 8") == [16, 8] and parse_hidden(" 4 ") == [4] and parse_hidden("") == []
    for text in ("1,,2", "1, 2,", ",3", "1 2", "a"):
        with pytest.raises(ValueError, match="separated by commas"):
            parse_hidden(text)


@pytest.mark.parametrize("point", [
    (float("nan"), 0.0, 0), (0.0, float("inf"), 1), (0.0, 0.0, -3), (0.0, 0.0, 1.5), (0.0, 0.0, True),
    (0.0, 0.0, 10), ("a", 0.0, 0), (0.0, 0.0), (0.0, 0.0, "1"), None,
])
def test_a_refused_point_adds_nothing_and_leaves_the_run_as_it_was(point):
    t = small(dataset="own", points=[(-1, -1, 0), (1, 1, 0), (-1, 1, 1), (1, -1, 1)])
    t.run(2)
    before = snapshot(t)
    with pytest.raises(ValueError, match="point"):
        t.add_points([(0.5, 0.5, 1), point])  # the good point before it is not added either
    assert snapshot(t) == before
    t.step()


def test_numpy_numbers_are_accepted_as_settings_and_points():
    np = pytest.importorskip("numpy")
    t = small(n=np.int64(40), seed=np.int64(2), lr=np.float64(0.05))
    assert len(t.X) == 40
    t.add_points([(np.float32(0.5), np.float64(-0.5), np.int64(1)), (0.1, 0.2, 1.0)])
    assert t.points == [([0.5, -0.5], 1), ([pytest.approx(0.1), pytest.approx(0.2)], 1)]


def test_a_class_seen_only_in_the_held_out_points_still_gets_an_output():
    t = small(dataset="own", test_ratio=0.3, points=[(0.5, -0.5, 0), (1.4, 1.4, 1), (-1.4, 0.2, 1), (0.1, 0.1, 0)])
    for seed in range(6):
        t.set(seed=seed)
        t.add_points([(-0.3, -1.2, 2)])
        assert t.task.classes == 3 and t.model.layers[-1].nout == 3
        t.run(2)  # train and test both evaluate, whichever side the class-2 point fell on
        t.clear_points()
        t.add_points([(0.5, -0.5, 0), (1.4, 1.4, 1), (-1.4, 0.2, 1), (0.1, 0.1, 0)])
