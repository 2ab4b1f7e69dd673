"""The playground driven through its widgets, headless: controls set by ``.value``, buttons, Play's
loop on an event loop, and the numbers each frame sends to the page."""

import asyncio
import json
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("ipywidgets")
pytest.importorskip("anywidget")
matplotlib.use("Agg")

import numpy as np  # noqa: E402  (comes with matplotlib)

from nn.playground import OPTIMIZER_NAMES, Playground, Trainer  # noqa: E402
from nn.playground import board, grid  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def small(**kw):
    settings = {"n": 60, "hidden": [6]}
    settings.update(kw)
    return Playground(**settings)


def shown_step(pg):
    return pg.board.frame["step"]


def test_it_builds_and_sends_every_picture():
    pg = small()
    res = pg.board.setup["resolution"]
    assert len(pg.board.grid) == res * res * 3  # the boundary heatmap as RGB bytes
    cells = pg.board.setup["neuron_resolution"] ** 2
    assert len(pg.board.neurons) == cells * sum(pg.board.setup["shown"])  # one square per drawn neuron
    assert pg.board.frame["step"] == 0 and "step 0" in pg.status.value
    assert pg.race_board.frame["curves"], "the race shows its starting point before any race is run"
    assert pg.widget.children


def test_one_step_shows_its_result_at_once():
    pg = small()
    for i in range(1, 4):
        before = bytes(pg.board.grid)
        pg.step_button.click()
        assert shown_step(pg) == i and f"step {i}," in pg.status.value
        assert bytes(pg.board.grid) != before  # the boundary moved with that one step


def test_play_trains_on_the_event_loop_until_paused():
    pg = small(frame_ms=20)

    async def session():
        pg.play.value = True
        await asyncio.sleep(0.4)
        assert pg.trainer.steps > 5 and pg.play.description == "pause"
        pg.play.value = False  # what the page's Pause does
        await asyncio.sleep(0.1)
        stopped = pg.trainer.steps
        await asyncio.sleep(0.2)
        return stopped

    stopped = asyncio.run(session())
    assert pg.trainer.steps == stopped and shown_step(pg) == stopped  # the last picture is the last step
    assert pg.play.description == "play"


def test_frames_wait_for_the_page_but_training_does_not():
    pg = small(frame_ms=10)
    pg._sent_at = float("inf")  # a page is showing: its word is awaited, not the one-second fallback
    sent = pg._sent
    pg.tick()
    pg.tick()
    assert pg._sent == sent + 1, "a second frame went out before the page drew the first"
    steps = pg.trainer.steps
    pg.tick()
    assert pg.trainer.steps > steps  # training went on while the page was busy
    pg._on_message(pg.board, {"type": "drawn", "frame": pg._sent}, [])
    pg.tick()
    assert pg._sent == sent + 2 and shown_step(pg) == pg.trainer.steps


def test_play_without_a_kernel_says_what_to_do():
    pg = small()
    pg.play.value = True
    assert pg.play.value is False and "run(n)" in pg.status.value


def test_buttons_step_and_reset_to_the_same_weights():
    pg = small()
    start = pg.trainer.model.state_dict()
    pg.run(6)
    pg.reset_button.click()
    assert pg.trainer.steps == 0 and pg.trainer.model.state_dict() == start and shown_step(pg) == 0
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
    before = [p.data for p in opt.params]
    pg.step()
    for p, b in zip(opt.params, before):
        assert p.data - b == pytest.approx(-0.3 * p.grad, rel=1e-9, abs=1e-15)
    assert pg.trainer.optimizer is opt


def test_a_new_architecture_changes_the_layout_sent():
    pg = small()
    pg.controls["hidden"].value = "3, 4, 5"
    assert pg.board.setup["sizes"] == [2, 3, 4, 5, 1]
    assert len(pg.board.frame["grads"]["layers"]) == 4
    assert len(pg.board.frame["edges"]) == 2 * 3 + 3 * 4 + 4 * 5 + 5 * 1


@pytest.mark.parametrize("text", ["1,,2", "3, x", "0", ", 4"])
def test_bad_hidden_layers_are_refused_with_a_message(text):
    pg = small()
    pg.controls["hidden"].value = text
    assert "chainrule-error" in pg.status.value and "hidden" in pg.status.value
    assert [layer.nout for layer in pg.trainer.model.layers] == [6, 1]


def test_the_status_line_escapes_what_the_learner_typed():
    pg = small()
    pg.controls["hidden"].value = "<img src=x onerror=alert(1)>"
    assert "<img" not in pg.status.value and "&lt;img src=x onerror=alert(1)&gt;" in pg.status.value
    pg.controls["dataset"].value = "own"
    pg.point_list.value = "16, <i>8"
    pg.add_button.click()
    assert "<i>" not in pg.status.value and "16, &lt;i&gt;8" in pg.status.value


def test_no_error_escapes_the_handlers():
    pg = small()
    before = dict(pg.trainer.settings)
    for key, value in (("n", 1), ("n", -5), ("seed", "x"), ("noise", None), ("test_ratio", "x"), ("hidden", "1e9"),
                       ("lr", float("nan")), ("batch_size", 0), ("activation", 3)):
        pg.status.value = ""
        pg._on_setting(key, {"new": value})  # what a page could send
        assert "chainrule-error" in pg.status.value, (key, value)
        assert pg.trainer.settings == before
    pg.controls["dataset"].value = "own"
    pg.add_points([(float("nan"), 0, 0)])
    pg.add_points([(0, 0, -3)])
    pg.add_points(None)
    assert pg.trainer.points == [] and "chainrule-error" in pg.status.value
    pg._on_message(pg.board, {"type": "click", "x": "a", "y": 1}, [])
    pg._on_message(pg.board, "junk", [])


def test_multiclass_through_the_controls():
    pg = small(hidden=[8])
    pg.controls["dataset"].value = "blobs"
    pg.controls["loss"].value = "cross_entropy"
    assert pg.trainer.model.layers[-1].nout == 3 and len(pg.board.setup["colours"]) == 3
    first = pg.trainer.history["train_loss"][0]
    pg.run(20)
    assert pg.trainer.history["train_loss"][-1] < first


def test_regression_sends_a_curve():
    pg = small(dataset="regression", n=30, hidden=[8])
    before = list(pg.board.frame["curve"])
    pg.run(5)
    assert pg.board.frame["curve"] != before and pg.board.grid == b""


def test_own_points_need_an_explicit_switch_and_keep_the_window():
    pg = small()
    pg.on_click(0.0, 0.0)  # on moons: refused with a word, the dataset on screen stays
    assert pg.trainer.settings["dataset"] == "moons" and len(pg.trainer.X) == 60
    assert "choose the dataset" in pg.status.value and "own" in pg.status.value
    pg.controls["dataset"].value = "own"
    assert pg.board.setup["train"] == [] and pg.board.setup["hint"]
    window = pg.board.setup["bounds"]
    for x, y, cls in ((0.5, -0.5, 0), (1.45, 1.45, 1), (-1.4, 0.2, 1), (0.1, 0.1, 0), (-0.3, -1.2, 2)):
        pg.point_class.value = cls
        pg._on_message(pg.board, {"type": "click", "x": x, "y": y}, [])  # what a click on the page sends
        assert pg.trainer.points[-1] == ([x, y], cls)
        assert pg.board.setup["bounds"] == window  # the picture's bounds stay put
    assert len(pg.board.setup["train"]) + len(pg.board.setup["test"]) == 5
    pg.point_list.value = "3, 3, 0"  # typed outside the window: it grows to hold it
    pg.add_button.click()
    assert pg.board.setup["bounds"][0][1] >= 3 and pg.point_list.value == ""
    pg.point_list.value = "1, 2, three"
    pg.add_button.click()
    assert "points are" in pg.status.value
    pg.clear_button.click()
    pg.step()
    assert "add points" in pg.status.value


def test_the_race_draws_one_curve_per_optimizer():
    pg = small()
    race = pg.race(6)
    curves = {c["label"].split()[0]: c for c in pg.race_board.frame["curves"]}
    assert set(curves) == set(OPTIMIZER_NAMES)
    for name, (steps, values) in race.curves.items():
        assert curves[name]["loss"] == values and curves[name]["step"] == steps
    pg.race_choice.value = ("sgd", "adam")
    pg.race_button.click()
    pg._train_for(0.05, "race")
    pg._draw_race()
    assert len(pg.race_board.frame["curves"]) == 2 and pg._race.steps >= 1


def test_the_grid_matches_the_float_path_on_every_activation():
    from nn.activations import ACTIVATIONS

    for act in ACTIVATIONS:
        for loss, dataset in (("bce", "moons"), ("cross_entropy", "blobs")):
            t = Trainer(dataset=dataset, n=40, hidden=[5, 3], activation=act, loss=loss, seed=2)
            t.run(3)
            points = grid.grid(grid.window(t.X), 9)
            expected = np.array(t.model.predict(points.tolist()), dtype=float)
            assert np.allclose(grid.outputs(t.model, points), expected, rtol=1e-12, atol=1e-12), act
            for got, layer in zip(grid.layer_outputs(t.model, points[:3]), zip(*[t.model.forward_floats_by_layer(p) for p in points[:3].tolist()])):
                assert np.allclose(got, np.array([r if isinstance(r, list) else [r] for r in layer]), rtol=1e-12, atol=1e-12)
    big = Trainer(dataset="xor", n=40, hidden=[3], activation="sigmoid")
    for neuron in big.model.layers[0].neurons:
        neuron.b.data = -800.0  # exp would overflow in a naive sigmoid
    assert np.all(np.isfinite(grid.outputs(big.model, [[0.0, 0.0]])))


def test_health_on_arrays_agrees_with_the_trainer():
    for act in ("relu", "tanh", "sigmoid"):
        t = Trainer(n=60, hidden=[4, 3], activation=act, seed=1)
        t.model.layers[0].neurons[0].b.data = -100.0 if act == "relu" else 50.0
        assert board.health(t) == t.health()


def test_long_curves_are_thinned_evenly_and_keep_the_last_point():
    assert board.thin(5) == [0, 1, 2, 3, 4]
    keep = board.thin(10_001, limit=400)
    assert keep[-1] == 10_000 and len(keep) <= 402
    assert len({b - a for a, b in zip(keep, keep[1:-1])}) == 1
    assert board.thin(10_001, limit=400)[:-1] == board.thin(10_002, limit=400)[:-1]  # stable from frame to frame


def test_the_page_and_the_snapshot_use_the_lessons_class_colours():
    from nn.playground.views import CLASS_COLOURS

    assert grid.class_colours(2) == CLASS_COLOURS[:2] == ["#e8862a", "#2a6fdb"]  # orange 0, blue 1
    assert len(set(grid.class_colours(5))) == 5
    js = (ROOT / "nn" / "playground" / "front" / "board.js").read_text()
    assert all(c in js for c in CLASS_COLOURS[:2])  # the page's fallback before its first setup
    from nn.playground import snapshot

    t = Trainer(n=40, hidden=[4])
    fig = snapshot(t)
    width, height = fig.get_size_inches() * fig.dpi
    assert width >= 1000 and height >= 700  # readable when saved in a notebook
    assert all(ax.get_xlabel() for ax in fig.get_axes() if ax.get_visible() and ax.axison and ax.get_title() != "")


def test_plot_boundary_draws_into_given_axes():
    from matplotlib.figure import Figure

    from nn.playground import plot_boundary

    fig = Figure()
    left, right = fig.subplots(1, 2)
    t = Trainer(dataset="xor", n=40, hidden=[4])
    plot_boundary(t, left, resolution=20)
    assert left.images[0].get_array().shape == (20, 20, 3) and not right.images
    assert len(left.collections) == 2 and left.get_xlabel() and left.get_ylabel()


def test_a_notebook_not_run_yet_shows_a_readable_line():
    pg = small()
    bundle = pg._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("Playground: moons (60 points), MLP 2-6-1 tanh")


def test_the_front_end_is_shipped_in_the_package_and_loads_nothing():
    js = (ROOT / "nn" / "playground" / "front" / "board.js").read_text()
    assert "export default" in js
    for word in ("http:", "https:", "import(", "fetch(", "XMLHttpRequest", "innerHTML"):
        assert word not in js


def test_lesson_notebooks_keep_readable_text_for_widgets():
    """What a reader sees before running: the saved plain text of each widget cell says what it is."""
    for name in ("stepper.ipynb", "10_playground.ipynb"):
        nb = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / name).read_text())
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:
                    text = "".join(data.get("text/plain", ""))
                    assert "children=" not in text and ("Stepper" in text or "Playground" in text), text


def test_a_refused_value_stays_in_view_while_training_goes_on(monkeypatch):
    from nn.playground import widgets

    pg = small()
    pg.controls["hidden"].value = "1,,2"
    pg.tick(0.01)  # the next pictures keep the message, under the step counter they update
    assert "1,,2" in pg.status.value and "step " in pg.status.value
    monkeypatch.setattr(widgets, "ERROR_SECONDS", 0.0)
    pg.controls["hidden"].value = "4,,"
    pg.step()
    pg.step()
    assert "chainrule-error" not in pg.status.value  # and goes once it has been read
