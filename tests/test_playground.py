"""The playground driven through its widgets, headless: controls set by ``.value``, Play ticks,
buttons, and the figures updated in place."""

import pytest

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
matplotlib.use("Agg")

import numpy as np  # noqa: E402  (comes with matplotlib)

from nn.playground import OPTIMIZER_NAMES, Playground  # noqa: E402

PNG = b"\x89PNG"


def small(**kw):
    settings = {"n": 60, "hidden": [6], "redraw_every": 5, "steps_per_tick": 2}
    settings.update(kw)
    return Playground(**settings)


def test_it_builds_and_draws_every_view():
    pg = small()
    for image in [*pg.images.values()]:
        assert bytes(image.value).startswith(PNG)
    assert "step 0" in pg.status.value
    assert pg.widget.children  # the layout a notebook shows


def test_play_ticks_train_without_a_loop_in_the_cell():
    pg = small()
    first = pg.trainer.history["train_loss"][0]
    for _ in range(15):
        pg.play.value += 1  # what the front end's timer does
    assert pg.trainer.steps == 30
    assert pg.trainer.history["train_loss"][-1] < first
    pg.play.value = 0  # Play's stop button rewinds its counter: no step
    assert pg.trainer.steps == 30


def test_buttons_step_and_reset_to_the_same_weights():
    pg = small()
    start = pg.trainer.model.state_dict()
    pg.step_button.click()
    assert pg.trainer.steps == 1
    pg.run(6)
    pg.reset_button.click()
    assert pg.trainer.steps == 0 and pg.trainer.model.state_dict() == start
    pg.controls["seed"].value = 3
    assert pg.trainer.model.state_dict() != start


def test_a_learning_rate_moved_mid_run_sizes_the_next_update():
    pg = small()
    pg.controls["optimizer"].value = "sgd"
    assert type(pg.trainer.optimizer).__name__ == "SGD"
    pg.run(3)
    pg.controls["lr"].value = 0.3
    opt = pg.trainer.optimizer
    assert opt.lr == pytest.approx(0.3)
    pg.steps_per_tick = 1
    before = [p.data for p in opt.params]
    pg.play.value += 1
    for p, b in zip(opt.params, before):
        assert p.data - b == pytest.approx(-0.3 * p.grad, rel=1e-9, abs=1e-15)
    assert pg.trainer.optimizer is opt  # the run went on with the same optimizer


def test_the_figures_update_in_place():
    pg = small()
    boundary, curves, network, health = (pg.views[k] for k in ("boundary", "curves", "network", "health"))
    image, edges, train_line = boundary.image, network.edges, curves.lines["train_loss"]
    pixels = np.array(image.get_array(), copy=True)
    widths = np.array(edges.get_linewidths(), copy=True)
    neuron = np.array(network.images[1][0].get_array(), copy=True)
    png_before = pg.images["boundary"].value
    pg.run(10)
    assert boundary.image is image and network.edges is edges and curves.lines["train_loss"] is train_line
    assert not np.allclose(image.get_array(), pixels)
    assert not np.allclose(edges.get_linewidths(), widths)
    assert not np.allclose(network.images[1][0].get_array(), neuron)
    assert list(train_line.get_xdata()) == pg.trainer.history["step"]
    assert len(health.lines[0].get_xdata()) == 10
    assert bytes(pg.images["boundary"].value) != bytes(png_before)
    assert boundary.draws == 3  # built once, then every 5 steps: throttled


def test_redraws_are_throttled():
    pg = small(redraw_every=4, steps_per_tick=1)
    draws = pg.views["network"].draws
    pg.run(12)
    assert pg.views["network"].draws == draws + 3


def test_a_new_architecture_rebuilds_the_network_drawing():
    pg = small()
    pg.controls["hidden"].value = "3, 4, 5"
    assert [layer.nout for layer in pg.trainer.model.layers] == [3, 4, 5, 1]
    assert [len(column) for column in pg.views["network"].images] == [2, 3, 4, 5, 1]
    assert len(pg.views["health"].lines) == 4
    pg.controls["hidden"].value = "3, x"
    assert "sizes separated by commas" in pg.status.value
    assert [layer.nout for layer in pg.trainer.model.layers] == [3, 4, 5, 1]


def test_multiclass_through_the_controls():
    pg = small(hidden=[8])
    pg.controls["dataset"].value = "blobs"
    pg.controls["loss"].value = "cross_entropy"
    assert pg.trainer.model.layers[-1].nout == 3
    first = pg.trainer.history["train_loss"][0]
    pg.run(20)
    assert pg.trainer.history["train_loss"][-1] < first
    assert pg.views["boundary"].image.get_array().shape == (40, 40, 3)


def test_regression_draws_a_curve():
    pg = small(dataset="regression", n=30, hidden=[8])
    curve = pg.views["boundary"].curve
    before = np.array(curve.get_ydata(), copy=True)
    pg.run(5)
    assert not np.allclose(curve.get_ydata(), before)


def test_own_points_from_a_list_and_from_clicks():
    pg = small()
    pg.point_list.value = "-1, -1, 0; 1, 1, 0; -1, 1, 1; 1 -1 1"
    pg.add_button.click()
    assert pg.controls["dataset"].value == "own" and len(pg.trainer.X) == 4
    pg.point_class.value = 2
    pg.on_click(0.0, 0.0)
    assert pg.trainer.points[-1] == ([0.0, 0.0], 2) and pg.trainer.model.layers[-1].nout == 3
    pg.run(3)
    from matplotlib.backend_bases import MouseEvent

    fig = pg.views["boundary"].fig
    x, y = pg.views["boundary"].ax.transData.transform((0.5, 0.25))
    MouseEvent("button_press_event", fig.canvas, x, y, button=1)._process()
    assert pg.trainer.points[-1][0] == pytest.approx([0.5, 0.25])
    pg.point_list.value = "1, 2, three"
    pg.add_button.click()
    assert "points are" in pg.status.value
    pg.clear_button.click()
    pg.step()
    assert "add points" in pg.status.value


def test_the_race_draws_one_curve_per_optimizer():
    pg = small()
    race = pg.race(6)
    lines = pg.race_view.lines
    assert set(lines) == set(OPTIMIZER_NAMES)
    for name, (steps, values) in race.curves.items():
        assert list(lines[name].get_ydata()) == values
    assert bytes(pg.race_image.value).startswith(PNG)
    pg.race_choice.value = ("sgd", "adam")
    pg.race_button.click()  # a new race with the chosen optimizers
    for _ in range(3):
        pg.race_play.value += 1
    assert set(pg.race_view.lines) == {"sgd", "adam"} and pg._race.steps == 6


def test_plot_boundary_draws_into_given_axes():
    from matplotlib.figure import Figure

    from nn.playground import Trainer, plot_boundary

    fig = Figure()
    left, right = fig.subplots(1, 2)
    t = Trainer(dataset="xor", n=40, hidden=[4])
    plot_boundary(t, left, resolution=20)
    assert left.images[0].get_array().shape == (20, 20, 3) and not right.images
    assert len(left.collections) == 2  # training and test points


def test_a_click_on_the_boundary_picture_adds_a_point_there():
    pytest.importorskip("ipyevents")
    pg = small()
    assert pg.click_events.source is pg.images["boundary"]
    view = pg.views["boundary"]
    px, py = view.ax.transData.transform((0.75, -0.25))
    pg.point_class.value = 1
    pg._on_image_click({"type": "click", "dataX": px, "dataY": view.fig.bbox.height - py})
    assert pg.trainer.points == [([pytest.approx(0.75), pytest.approx(-0.25)], 1)]
    assert pg.controls["dataset"].value == "own"
    pg._on_image_click({"type": "click", "dataX": 1, "dataY": 1})  # outside the axes: ignored
    assert len(pg.trainer.points) == 1


def test_ticks_slow_down_when_a_tick_takes_longer_than_the_interval():
    pg = small(interval=1)
    for _ in range(4):
        pg.play.value += 1
    assert pg.play.interval > 1  # a tick takes milliseconds: the next ones wait that long
    assert pg.play.interval < 5000
