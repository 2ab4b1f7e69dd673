"""`Playground`: the controls (ipywidgets) around a `Trainer`, and the views shown as images.

Training runs from a ``Play`` widget: each tick of it runs a few steps, so the kernel stays free
between ticks (other cells run, controls respond) and a learning rate moved mid-run is used from
the next step. The pictures are redrawn every ``redraw_every`` steps by updating the figures'
artists and sending one PNG per view to an ``Image`` widget, which replaces the picture in place.

Everything the buttons do is a method (``step()``, ``run(n)``, ``reset()``, ``draw()``,
``add_points()``, ``start_race()``), and every control drives the trainer through its ``.value``
observers, so the playground works the same from code and in tests.
"""

import time

from .core import DATASETS, DEFAULT_LR, LOSSES, OPTIMIZER_NAMES, Trainer
from .views import BoundaryView, CurvesView, HealthView, NetworkView, RaceView, png
from ..activations import ACTIVATIONS


def _widgets():
    try:
        import ipywidgets
    except ImportError:
        raise ImportError("the playground needs ipywidgets: pip install chainrule[notebook]") from None
    return ipywidgets


class Playground:
    """Train a small MLP interactively. ``Playground()`` in a notebook cell shows it.

    Keyword arguments are the starting settings (see `Trainer`: ``dataset="moons"``,
    ``hidden=(16, 16)``, ``optimizer="adam"``, ``batch_size=10``, ...). ``redraw_every`` is how many
    steps pass between redraws; ``steps_per_tick`` how many steps each tick of Play runs; ``interval`` the shortest time
    between ticks in ms (it grows when the ticks take longer, so they never queue up).
    """

    def __init__(self, redraw_every=10, steps_per_tick=5, interval=50, **settings):
        w = _widgets()
        self.interval = interval
        self.trainer = Trainer(**settings)
        self.redraw_every = redraw_every
        self.steps_per_tick = steps_per_tick
        self._drawn_at = None
        self._race = None
        self.views = {"boundary": BoundaryView(), "curves": CurvesView(), "network": NetworkView(), "health": HealthView()}
        self.race_view = RaceView()
        s = self.trainer.settings
        style = {"description_width": "90px"}
        wide = w.Layout(width="290px")

        def control(cls, key, value=None, **kw):
            widget = cls(value=s[key] if value is None else value, style=style, layout=wide, **kw)
            widget.observe(lambda change, key=key: self._on_setting(key, change), "value")
            return widget

        self.controls = {
            "dataset": control(w.Dropdown, "dataset", options=DATASETS, description="dataset"),
            "n": control(w.BoundedIntText, "n", min=4, max=100_000, description="points"),
            "noise": control(w.FloatSlider, "noise", min=0.0, max=1.0, step=0.01, description="noise"),
            "test_ratio": control(w.FloatSlider, "test_ratio", min=0.0, max=0.9, step=0.05, description="test share"),
            "seed": control(w.IntText, "seed", description="seed"),
            "hidden": control(w.Text, "hidden", value=", ".join(str(n) for n in s["hidden"]), description="hidden layers", continuous_update=False),
            "activation": control(w.Dropdown, "activation", options=ACTIVATIONS, description="activation"),
            "loss": control(w.Dropdown, "loss", options=LOSSES, description="loss"),
            "optimizer": control(w.Dropdown, "optimizer", options=OPTIMIZER_NAMES, description="optimizer"),
            "lr": control(w.FloatLogSlider, "lr", min=-4, max=1, step=0.05, base=10, description="learning rate", readout_format=".4f"),
            "l1": control(w.BoundedFloatText, "l1", min=0.0, max=10.0, step=0.0001, description="L1"),
            "l2": control(w.BoundedFloatText, "l2", min=0.0, max=10.0, step=0.0001, description="L2"),
            "batch_size": control(w.BoundedIntText, "batch_size", min=1, max=100_000, description="batch size"),
        }
        self.play = w.Play(value=0, min=0, max=10**9, step=1, interval=interval, description="play")
        self.play.observe(self._on_tick, "value")
        self.step_button = w.Button(description="one step", layout=w.Layout(width="90px"))
        self.step_button.on_click(lambda _: self.step())
        self.reset_button = w.Button(description="reset", layout=w.Layout(width="90px"))
        self.reset_button.on_click(lambda _: self.reset())
        self.status = w.HTML()
        # the learner's own points
        self.point_class = w.BoundedIntText(value=0, min=0, max=9, description="class", style=style, layout=wide)
        self.point_list = w.Text(placeholder="x, y, class; x, y, class; ...", description="add points", style=style, layout=w.Layout(width="420px"))
        self.add_button = w.Button(description="add", layout=w.Layout(width="60px"))
        self.add_button.on_click(lambda _: self._add_from_text())
        self.clear_button = w.Button(description="clear", layout=w.Layout(width="60px"))
        self.clear_button.on_click(lambda _: self.clear_points())
        # the race
        self.race_choice = w.SelectMultiple(options=OPTIMIZER_NAMES, value=OPTIMIZER_NAMES, rows=5, description="race", style=style)
        self.race_play = w.Play(value=0, min=0, max=10**9, step=1, interval=interval, description="race")
        self.race_play.observe(self._on_race_tick, "value")
        self.race_button = w.Button(description="new race", layout=w.Layout(width="90px"))
        self.race_button.on_click(lambda _: self.start_race())
        self.images = {name: w.Image(format="png") for name in self.views}
        self.race_image = w.Image(format="png")
        self.views["boundary"].fig.canvas.mpl_connect("button_press_event", self._on_press)
        self.click_events = self._listen_for_clicks()
        c = self.controls
        data_box = w.VBox([w.HTML("<b>data</b>"), c["dataset"], c["n"], c["noise"], c["test_ratio"], c["seed"]])
        model_box = w.VBox([w.HTML("<b>model</b>"), c["hidden"], c["activation"], c["loss"]])
        train_box = w.VBox([w.HTML("<b>training</b>"), c["optimizer"], c["lr"], c["l1"], c["l2"], c["batch_size"]])
        buttons = w.HBox([self.play, self.step_button, self.reset_button, self.status])
        points_box = w.HBox([self.point_list, self.point_class, self.add_button, self.clear_button])
        race_box = w.HBox([self.race_choice, w.VBox([self.race_button, self.race_play]), self.race_image])
        self.widget = w.VBox([
            w.HBox([data_box, model_box, train_box]),
            buttons,
            w.HBox([self.images["boundary"], self.images["network"]]),
            w.HBox([self.images["curves"], self.images["health"]]),
            points_box,
            race_box,
        ])
        self.draw()

    # ---- showing ----------------------------------------------------------------------------------
    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)

    def draw(self):
        """Redraw every view now (artists updated in place) and send the pictures to the widgets."""
        self.trainer.record()
        for name, view in self.views.items():
            view.update(self.trainer)
            self.images[name].value = view.png()
        self._drawn_at = self.trainer.steps
        self._say()

    def _say(self, error=None):
        t = self.trainer
        h = t.history
        text = f"step {t.steps}, epoch {t.epoch}, lr {t.optimizer.lr:.4g}"
        if h["train_loss"]:
            text += f", train loss {h['train_loss'][-1]:.4f}"
        if h["test_loss"] and h["test_loss"][-1] is not None:
            text += f", test loss {h['test_loss'][-1]:.4f}"
        if t.task.note:
            text += f" ({t.task.note})"
        if error:
            text = f"<span style='color:#c00'>{error}</span>"
        self.status.value = text

    # ---- training ---------------------------------------------------------------------------------
    def step(self):
        """One training step; redraws if ``redraw_every`` steps have passed since the last drawing."""
        try:
            loss = self.trainer.step()
        except (ValueError, FloatingPointError) as error:
            self.play.playing = False
            self._say(error=str(error))
            return None
        if self._drawn_at is None or self.trainer.steps - self._drawn_at >= self.redraw_every:
            self.draw()
        return loss

    def run(self, n):
        """``n`` steps with the usual throttled redraws; returns the last batch loss."""
        loss = None
        for _ in range(n):
            loss = self.step()
        return loss

    def reset(self):
        """Back to step 0 with the same initial weights (new ones only when the seed changes)."""
        self.trainer.reset()
        self.draw()

    def _on_tick(self, change):
        if change["new"] > change["old"]:
            start = time.perf_counter()
            for _ in range(self.steps_per_tick):
                if self.step() is None:
                    break
            self._pace(self.play, time.perf_counter() - start)

    def _pace(self, play, seconds):
        """Keep the ticks further apart than they take (averaged), so none wait in a queue and
        pause stops at once."""
        self._tick_cost = 0.8 * getattr(self, "_tick_cost", seconds) + 0.2 * seconds
        wanted = max(self.interval, int(1500 * self._tick_cost))
        if abs(wanted - play.interval) > 0.2 * play.interval:
            play.interval = wanted

    def _on_setting(self, key, change):
        value = change["new"]
        try:
            self.trainer.set(**{key: value})
        except ValueError as error:
            self._say(error=str(error))
            return
        if key == "optimizer":  # each optimizer starts from its own usual rate
            self.controls["lr"].value = DEFAULT_LR[value]
        self.draw()

    # ---- the learner's points ---------------------------------------------------------------------
    def add_points(self, points):
        """Add ``(x, y, class)`` points to your own dataset and switch to it."""
        try:
            self.trainer.add_points(points)
        except ValueError as error:
            self._say(error=str(error))
            return
        self.controls["dataset"].value = "own"
        self.draw()

    def clear_points(self):
        self.trainer.clear_points()
        self.draw()

    def on_click(self, x, y):
        """A click on the boundary plot at (x, y) adds a point of the class chosen in ``class``."""
        self.add_points([(x, y, self.point_class.value)])

    def _on_press(self, event):  # for an interactive matplotlib canvas showing the boundary figure
        if event.inaxes is not None and event.xdata is not None:
            self.on_click(event.xdata, event.ydata)

    def _listen_for_clicks(self):
        """Clicks on the boundary picture, through ipyevents when it is installed (else use the list)."""
        try:
            from ipyevents import Event
        except ImportError:
            return None
        events = Event(source=self.images["boundary"], watched_events=["click"])
        events.on_dom_event(self._on_image_click)
        return events

    def _on_image_click(self, event):
        """A click at pixel (dataX, dataY) of the boundary PNG (origin top left) becomes a point."""
        if event.get("dataX") is None or event.get("dataY") is None:
            return
        if self.trainer.nin != 2:
            self._say(error="points are added by clicking on a 2-D dataset's plot")
            return
        view = self.views["boundary"]
        px, py = float(event["dataX"]), view.fig.bbox.height - float(event["dataY"])
        x, y = view.ax.transData.inverted().transform((px, py))
        (x0, x1), (y0, y1) = view.ax.get_xlim(), view.ax.get_ylim()
        if x0 <= x <= x1 and y0 <= y <= y1:
            self.on_click(float(x), float(y))

    def _add_from_text(self):
        text = self.point_list.value.strip()
        try:
            points = [tuple(float(v) for v in item.replace(",", " ").split()) for item in text.split(";") if item.strip()]
        except ValueError:
            self._say(error=f"points are 'x, y, class' separated by ';', got {text!r}")
            return
        self.add_points(points)
        self.point_list.value = ""

    # ---- the optimizer race -----------------------------------------------------------------------
    def start_race(self, optimizers=None, lrs=None):
        """A new race from the current initial weights; ``race_play`` (or ``race(n)``) advances it."""
        names = list(self.race_choice.value if optimizers is None else optimizers)
        self._race = self.trainer.race(names, lrs)
        self._draw_race()
        return self._race

    def race(self, steps, optimizers=None, lrs=None):
        """Run a new race for ``steps`` steps (blocking) and return it."""
        race = self.start_race(optimizers, lrs)
        race.step(steps)
        self._draw_race()
        return race

    def _draw_race(self):
        self.race_view.update(self._race)
        self.race_image.value = png(self.race_view.fig)

    def _on_race_tick(self, change):
        if change["new"] > change["old"]:
            if self._race is None:
                self.start_race()
            start = time.perf_counter()
            self._race.step(self.steps_per_tick)
            if self._race.steps % self.redraw_every < self.steps_per_tick:
                self._draw_race()
            self._pace(self.race_play, time.perf_counter() - start)
