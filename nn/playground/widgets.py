"""`Playground`: the controls (ipywidgets) around a `Trainer`, and live pictures drawn in the page.

Play runs training in the kernel as a task on its event loop: the task trains in slices of 20 ms
and yields for a millisecond after each, so the kernel handles Pause, clicks and control changes
within a slice; every ``frame_ms`` it sends the pictures' numbers. Training
never waits for the page: a frame is sent only when the page has drawn the one before (or a second
has passed), so a slow page gets fewer pictures, not a queue, and a cheaper `Trainer.step` shows up
directly as more steps per second. The pictures are drawn in the browser on canvases
(``board.Board``, anywidget, its JavaScript shipped in this package) from numbers alone.

Everything the buttons do is a method (``step()``, ``run(n)``, ``reset()``, ``draw()``,
``add_points()``, ``start_race()``), and every control drives the trainer through its ``.value``
observers, so the playground works the same from code and in tests.
"""

import asyncio
import html
import time

from . import board
from .core import DATASETS, DEFAULT_LR, LOSSES, OPTIMIZER_NAMES, Trainer
from ..activations import ACTIVATIONS

# what a refused setting, a bad point or a failed step can raise: shown in the status line
REFUSED = (ValueError, TypeError, ArithmeticError)
ERROR_SECONDS = 6.0  # how long a refused value's message stays in the status line
SLICE = 0.02  # seconds of training between two looks at the kernel's messages: Pause acts this fast


def _widgets():
    try:
        import ipywidgets
    except ImportError:
        raise ImportError("the playground needs ipywidgets: pip install chainrule[notebook]") from None
    return ipywidgets


class Playground:
    """Train a small MLP interactively. ``Playground()`` in a notebook cell shows it.

    Keyword arguments are the starting settings (see `Trainer`: ``dataset="moons"``,
    ``hidden=(16, 16)``, ``optimizer="adam"``, ``batch_size=10``, ...). ``frame_ms`` is how long
    Play trains between two pictures (50 ms: up to 20 pictures a second, and Pause within one).
    """

    def __init__(self, frame_ms=50, **settings):
        w = _widgets()
        if not isinstance(frame_ms, (int, float)) or isinstance(frame_ms, bool) or not 5 <= frame_ms <= 1000:
            raise ValueError(f"frame_ms is the time between pictures in milliseconds (5 to 1000), got {frame_ms!r}")
        self.frame_ms = frame_ms
        self.trainer = Trainer(**settings)
        self._race = None
        self._tasks = {}
        self._layout = None
        self._sent = self._acked = 0
        self._sent_at = 0.0
        self._frame_cost = 0.0  # seconds a frame takes the kernel (averaged)
        self._error = None  # (message, shown until)
        self.frames = 0  # frames sent to the page
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
        button = w.Layout(width="100px")
        self.play = w.ToggleButton(value=False, description="play", icon="play", tooltip="train until paused", layout=button)
        self.play.observe(lambda change: self._on_play("train", change["new"]), "value")
        self.step_button = w.Button(description="one step", layout=button)
        self.step_button.on_click(lambda _: self.step())
        self.reset_button = w.Button(description="reset", layout=button)
        self.reset_button.on_click(lambda _: self.reset())
        self.status = w.HTML(layout=w.Layout(flex="1 1 300px"))
        # the learner's own points
        self.point_class = w.BoundedIntText(value=0, min=0, max=9, description="click adds class", style={"description_width": "110px"}, layout=w.Layout(width="170px"))
        self.point_list = w.Text(placeholder="x, y, class; x, y, class; ...", description="add points", style=style, layout=w.Layout(width="360px"))
        self.add_button = w.Button(description="add", layout=w.Layout(width="60px"))
        self.add_button.on_click(lambda _: self._add_from_text())
        self.clear_button = w.Button(description="clear", layout=w.Layout(width="60px"))
        self.clear_button.on_click(lambda _: self.clear_points())
        # the race
        self.race_choice = w.SelectMultiple(options=OPTIMIZER_NAMES, value=OPTIMIZER_NAMES, rows=5, description="race", style=style, layout=w.Layout(width="210px"))
        self.race_play = w.ToggleButton(value=False, description="race", icon="play", tooltip="advance the race until paused", layout=button)
        self.race_play.observe(lambda change: self._on_play("race", change["new"]), "value")
        self.race_button = w.Button(description="new race", layout=button)
        self.race_button.on_click(lambda _: self.start_race())
        Board = board.board_class()
        self.board = Board(kind="board")
        self.board.on_msg(self._on_message)
        self.race_board = Board(kind="race")
        c = self.controls
        wrap = w.Layout(display="flex", flex_flow="row wrap", width="100%")
        data_box = w.VBox([w.HTML("<b>data</b>"), c["dataset"], c["n"], c["noise"], c["test_ratio"], c["seed"]])
        model_box = w.VBox([w.HTML("<b>model</b>"), c["hidden"], c["activation"], c["loss"]])
        train_box = w.VBox([w.HTML("<b>training</b>"), c["optimizer"], c["lr"], c["l1"], c["l2"], c["batch_size"]])
        buttons = w.HBox([self.play, self.step_button, self.reset_button, self.status], layout=wrap)
        points_box = w.HBox([self.point_list, self.add_button, self.point_class, self.clear_button], layout=wrap)
        race_box = w.HBox([self.race_choice, w.VBox([self.race_button, self.race_play]), self.race_board], layout=wrap)
        self.widget = w.VBox([
            w.HBox([data_box, model_box, train_box], layout=wrap),
            buttons,
            self.board,
            points_box,
            race_box,
        ], layout=w.Layout(max_width="100%"))
        self.draw()
        self.start_race()

    # ---- showing ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        """The widget, with a plain-text line for places that cannot show it (a notebook not run yet)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/plain"] = self.describe()
        return bundle

    def describe(self):
        """One line saying what this playground trains (what shows where the widget cannot)."""
        t = self.trainer
        s = t.settings
        layout = "-".join(str(n) for n in [t.nin, *s["hidden"], t.task.nout])
        data = f"{s['dataset']} ({len(t.X)} points)"
        return (f"Playground: {data}, MLP {layout} {s['activation']}, {s['loss']}, {s['optimizer']} "
                f"lr {s['lr']:g}, step {t.steps} (run the cell in a live notebook to train it)")

    def __repr__(self):
        return f"<{self.describe()}>"

    def snapshot(self, **kwargs):
        """The four pictures as one static matplotlib figure (see `views.snapshot`)."""
        from .views import snapshot

        return snapshot(self.trainer, **kwargs)

    def draw(self):
        """Send the pictures' numbers for the current step to the page (and the status line)."""
        began = time.perf_counter()
        t = self.trainer
        t.record()
        if self._layout is None or self._layout["version"] != t.version:
            self._layout = board.setup(t)
        self._sent += 1
        payload, rgb, neurons = board.frame(t, self._layout, self._sent)
        with self.board.hold_sync():
            if self.board.setup != self._layout:
                self.board.setup = self._layout
            self.board.grid = rgb
            self.board.neurons = neurons
            self.board.frame = payload
        self._sent_at = now = time.perf_counter()
        self._frame_cost = 0.8 * self._frame_cost + 0.2 * (now - began)
        self.frames += 1
        self._say()

    def _say(self, error=None):
        """The status line, and the last error for `ERROR_SECONDS` (Play's pictures would otherwise
        wipe it at once). Everything in it is escaped: it can hold text the learner typed."""
        now = time.perf_counter()
        if error is not None:
            self._error = (str(error), now + ERROR_SECONDS)
        elif self._error is not None and now > self._error[1]:
            self._error = None
        t = self.trainer
        h = t.history
        text = f"step {t.steps}, epoch {t.epoch}, lr {t.optimizer.lr:.4g}"
        if h["train_loss"]:
            text += f", train loss {h['train_loss'][-1]:.4f}"
        if h["test_loss"] and h["test_loss"][-1] is not None:
            text += f", test loss {h['test_loss'][-1]:.4f}"
        if t.task.note:
            text += f" ({t.task.note})"
        line = f"<span class='chainrule-status'>{html.escape(text)}</span>"
        if self._error is not None:
            line = f"<span class='chainrule-error' style='color:#c00'>{html.escape(self._error[0])}</span><br>{line}"
        self.status.value = line

    def _ready(self):
        """Whether the page has drawn the frame before last (or a second has passed without word
        from a page, when none shows the playground)."""
        return self._acked >= self._sent - 1 or time.perf_counter() - self._sent_at > 1.0

    def _on_message(self, _widget, content, _buffers):
        if not isinstance(content, dict):
            return
        if content.get("type") == "drawn" and isinstance(content.get("frame"), int):
            self._acked = max(self._acked, content["frame"])
        elif content.get("type") == "click":
            x, y = content.get("x"), content.get("y")
            if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                self.on_click(float(x), float(y))

    # ---- training ---------------------------------------------------------------------------------
    def step(self):
        """One training step, shown at once; returns the batch loss (None if it failed)."""
        return self.run(1)

    def run(self, n):
        """``n`` steps, then one picture; returns the last batch loss (None if a step failed)."""
        loss = error = None
        try:
            for _ in range(n):
                loss = self.trainer.step()
        except REFUSED as caught:
            loss, error = None, caught
            self.play.value = False
        self.draw()
        if error is not None:
            self._say(error=error)
        return loss

    def reset(self):
        """Back to step 0 with the same initial weights (new ones only when the seed changes)."""
        self.trainer.reset()
        self.draw()

    def tick(self, seconds=None):
        """Train for ``seconds`` (default: until the next picture is due), then send a picture if
        the page is ready for one; returns how many steps it took."""
        start = self.trainer.steps
        if self._train_for(self._frame_gap() if seconds is None else seconds) and self._ready():
            self.draw()
        return self.trainer.steps - start

    def _frame_gap(self):
        """Seconds between pictures: ``frame_ms``, or longer when pictures are slow to make, so
        they never take more than a fifth of the kernel's time."""
        return max(self.frame_ms / 1000, 4 * self._frame_cost)

    def _train_for(self, seconds, which="train"):
        """At least one step (of the run, or of every racer), then more until ``seconds`` pass.
        False, with Play released and the error shown, if a step failed."""
        end = time.perf_counter() + seconds
        try:
            while True:
                self.trainer.step() if which == "train" else self._race.step(1)
                if time.perf_counter() >= end:
                    return True
        except REFUSED as error:
            (self.play if which == "train" else self.race_play).value = False
            self.draw() if which == "train" else self._draw_race()
            self._say(error=error)
            return False

    def _on_play(self, which, playing):
        toggle = self.play if which == "train" else self.race_play
        toggle.description = "pause" if playing else ("play" if which == "train" else "race")
        toggle.icon = "pause" if playing else "play"
        if not playing or which in self._tasks:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            toggle.value = False
            self._say(error="Play needs a running notebook kernel; from code, call run(n) or race(n)")
            return
        self._tasks[which] = loop.create_task(self._play(which, toggle))

    async def _play(self, which, toggle):
        """Train (or race) until the toggle is released: steps in slices of `SLICE` seconds, with
        the kernel handling its messages (Pause, the controls, the page's word) between slices, and
        a picture whenever one is due and the page is ready for it."""
        draw = self.draw if which == "train" else self._draw_race
        due = time.perf_counter() + self._frame_gap()
        try:
            while toggle.value and self._train_for(SLICE, which):
                now = time.perf_counter()
                if now >= due and (which != "train" or self._ready()):
                    draw()
                    due = now + self._frame_gap()
                await asyncio.sleep(0.001)  # the kernel handles messages here
        finally:
            del self._tasks[which]
            draw()

    def _on_setting(self, key, change):
        value = change["new"]
        try:
            self.trainer.set(**{key: value})
        except REFUSED as error:
            self._say(error=error)
            return
        if key == "optimizer":  # each optimizer starts from its own usual rate
            self.controls["lr"].value = DEFAULT_LR[value]
        if self._race is not None and self._race.version != self.trainer.version:
            self.start_race()  # a race on the data and network shown
        self.draw()

    # ---- the learner's points ---------------------------------------------------------------------
    def add_points(self, points):
        """Add ``(x, y, class)`` points to your own dataset (choose the dataset ``own`` first)."""
        if self.trainer.settings["dataset"] != "own":
            self._say(error='to add points, choose the dataset "own" first (it starts empty)')
            return
        try:
            self.trainer.add_points(points)
        except REFUSED as error:
            self._say(error=error)
            return
        self.draw()

    def clear_points(self):
        self.trainer.clear_points()
        self.draw()

    def on_click(self, x, y):
        """A click on the boundary picture at (x, y): a point of the class chosen beside it."""
        if self.trainer.nin != 2:
            self._say(error="points are added by clicking on a 2-D dataset's picture")
            return
        self.add_points([(x, y, self.point_class.value)])

    def _add_from_text(self):
        text = self.point_list.value.strip()
        try:
            points = [tuple(float(v) for v in item.replace(",", " ").split()) for item in text.split(";") if item.strip()]
        except ValueError:
            self._say(error=f"points are 'x, y, class' separated by ';', got {text!r}")
            return
        before = len(self.trainer.points)
        self.add_points(points)
        if len(self.trainer.points) > before:
            self.point_list.value = ""

    # ---- the optimizer race -----------------------------------------------------------------------
    def start_race(self, optimizers=None, lrs=None):
        """A new race from the current initial weights; ``race_play`` (or ``race(n)``) advances it."""
        names = list(self.race_choice.value if optimizers is None else optimizers)
        try:
            self._race = self.trainer.race(names, lrs)
        except REFUSED as error:
            self._say(error=error)
            return None
        self._draw_race()
        return self._race

    def race(self, steps, optimizers=None, lrs=None):
        """Run a new race for ``steps`` steps (blocking) and return it."""
        race = self.start_race(optimizers, lrs)
        race.step(steps)
        self._draw_race()
        return race

    def _draw_race(self):
        if self._race is not None:
            self.race_board.frame = board.race_frame(self._race, self.frames)
