"""The playground's pictures as static matplotlib figures, for lessons and handouts: `plot_boundary`
into any axes, and `snapshot` (all four pictures in one figure). The live playground draws the same
pictures in the browser (board.py). Each view draws into its own `Figure` or a part of one (no
pyplot, so nothing is shown by accident), updates its artists in place, and rebuilds them only when
the model's layout or the data change (``trainer.version``).

Colours: classes as in every lesson (`CLASS_COLOURS`: orange 0, blue 1, green 2, ...); a weight
is blue when positive and orange when negative, a neuron's output blue when positive and red when
negative. Test points are drawn
hollow, training points filled.
"""

from .grid import CLASS_COLOURS, LEVELS, class_colours, layer_outputs, outputs, window  # noqa: F401 (the lessons import CLASS_COLOURS here)
from .grid import grid as grid_array
from .grid import shade as _shade

POSITIVE, NEGATIVE = "#2a6fdb", "#e8862a"  # a weight's sign: blue +, orange - (like classes 1 and 0)
TRAIN, TEST = "#1f77b4", "#ff7f0e"  # curves and 1-D points: matplotlib's first two colours
MAX_DRAWN = 24  # neurons drawn per layer in the network view (the rest are counted, not drawn)


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
        import numpy as np
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("the playground needs matplotlib: pip install chainrule[notebook]") from None
    return np, Figure, FigureCanvasAgg


def new_figure(width, height, dpi=72):
    """A `Figure` on its own Agg canvas (not registered with pyplot)."""
    _, Figure, FigureCanvasAgg = _matplotlib()
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def shade(task, outputs):
    """An RGB colour per model output (see `grid.shade`)."""
    return _shade(task, outputs, max(task.classes or 2, 2))


class View:
    """Base: a figure, rebuilt when ``trainer.version`` changes, otherwise updated in place."""

    size = (4.0, 4.0)

    def __init__(self, fig=None):
        self.fig = new_figure(*self.size) if fig is None else fig  # or a part of a larger figure
        self.version = None
        self.draws = 0

    def update(self, trainer):
        if trainer.version != self.version:
            self.clear()
            self.build(trainer)
            self.version = trainer.version
        self.refresh(trainer)
        self.draws += 1

    def clear(self):
        self.fig.clear()


class BoundaryView(View):
    """The decision boundary as a heatmap on the float path, with training (filled) and test
    (hollow) points; for 1-D regression, the fitted curve over the points."""

    size = (4.2, 4.0)

    def __init__(self, resolution=40, ax=None, interpolation="bilinear"):
        self.resolution = resolution
        self.interpolation = interpolation
        self.given_ax = ax
        if ax is None:
            super().__init__()
        else:  # draw into someone else's axes (a static figure in a lesson)
            self.fig, self.version, self.draws = ax.figure, None, 0

    def clear(self):
        if self.given_ax is None:
            self.fig.clear()
        else:
            self.given_ax.clear()

    def build(self, trainer):
        np, _, _ = _matplotlib()
        ax = self.ax = self.given_ax or self.fig.add_axes([0.1, 0.08, 0.86, 0.86])
        self.bounds = window(trainer.X, own=trainer.settings["dataset"] == "own")
        self.grid = grid_array(self.bounds, self.resolution)
        if trainer.nin == 1:
            ax.scatter([x[0] for x in trainer.X_train], trainer.y_train, s=12, color=TRAIN, label="train")
            if trainer.X_test:
                ax.scatter([x[0] for x in trainer.X_test], trainer.y_test, s=14, facecolors="none", edgecolors=TEST, label="test")
            (self.curve,) = ax.plot([g[0] for g in self.grid], [0.0] * len(self.grid), color="black", lw=2)
            ax.set_xlim(*self.bounds[0])
            ys = list(trainer.y) or [0.0]
            pad = 0.2 * max(max(ys) - min(ys), 1.0)
            ax.set_ylim(min(ys) - pad, max(ys) + pad)
            ax.set_xlabel("x")
            ax.set_ylabel("y")
            ax.legend(loc="upper left", fontsize="small")
            self.image = None
            return
        (x0, x1), (y0, y1) = self.bounds
        blank = np.ones((self.resolution, self.resolution, 3))
        self.image = ax.imshow(blank, origin="lower", extent=(x0, x1, y0, y1), aspect="auto", interpolation=self.interpolation)
        k = max(trainer.task.classes or 2, 2)
        colours = class_colours(k)
        for X, y, filled in ((trainer.X_train, trainer.y_train, True), (trainer.X_test, trainer.y_test, False)):
            if not X:
                continue
            c = [colours[t] for t in y]
            if filled:
                ax.scatter([x[0] for x in X], [x[1] for x in X], s=14, c=c, edgecolors="white", linewidths=0.4)
            else:
                ax.scatter([x[0] for x in X], [x[1] for x in X], s=16, facecolors="none", edgecolors=c, linewidths=1.1)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        self.title = ax.set_title("", fontsize="small")

    def refresh(self, trainer):
        np, _, _ = _matplotlib()
        out = outputs(trainer.model, self.grid)
        if self.image is None:
            self.curve.set_ydata(out)
            return
        rgb = shade(trainer.task, out).reshape(self.resolution, self.resolution, 3)
        self.image.set_data(rgb)
        h = trainer.history
        acc = h["test_accuracy"][-1] if h["test_accuracy"] and h["test_accuracy"][-1] is not None else None
        self.title.set_text(f"step {trainer.steps}" + (f", test accuracy {acc:.0%}" if acc is not None else ""))


def plot_boundary(trainer, ax, resolution=100):
    """Draw ``trainer``'s decision boundary (or fitted curve) and its points into ``ax``, once.
    (Fine cells without smoothing: sharp, and small as a PNG.)"""
    BoundaryView(resolution, ax=ax, interpolation="nearest").update(trainer)
    return ax


class CurvesView(View):
    """Train and test loss (left) and accuracy (right) against the step."""

    size = (6.0, 2.6)

    def build(self, trainer):
        self.loss_ax = self.fig.add_axes([0.13, 0.2, 0.34, 0.68])
        self.acc_ax = self.fig.add_axes([0.64, 0.2, 0.34, 0.68])
        self.lines = {}
        for key, ax, colour, style in (
            ("train_loss", self.loss_ax, TRAIN, "-"),
            ("test_loss", self.loss_ax, TEST, "--"),
            ("train_accuracy", self.acc_ax, TRAIN, "-"),
            ("test_accuracy", self.acc_ax, TEST, "--"),
        ):
            (self.lines[key],) = ax.plot([], [], style, color=colour, label=key.split("_")[0])
        self.loss_ax.set_title("loss", fontsize="small")
        self.acc_ax.set_title("accuracy", fontsize="small")
        self.loss_ax.set_xlabel("step", fontsize="small")
        self.acc_ax.set_xlabel("step", fontsize="small")
        self.loss_ax.set_ylabel("loss", fontsize="small")
        self.acc_ax.set_ylabel("accuracy", fontsize="small")
        self.loss_ax.legend(fontsize="x-small", loc="upper right")
        self.acc_ax.set_ylim(0.0, 1.02)
        for ax in (self.loss_ax, self.acc_ax):
            ax.tick_params(labelsize="x-small")

    def refresh(self, trainer):
        h = trainer.history
        for key, line in self.lines.items():
            pairs = [(s, v) for s, v in zip(h["step"], h[key]) if v is not None]
            line.set_data([s for s, _ in pairs], [v for _, v in pairs])
        for ax in (self.loss_ax, self.acc_ax):
            ax.relim()
            ax.autoscale_view(scaley=ax is self.loss_ax)
        last = max(h["step"][-1] if h["step"] else 1, 1)
        self.loss_ax.set_xlim(0, last)
        self.acc_ax.set_xlim(0, last)


class NetworkView(View):
    """The network: each neuron a small heatmap of its output over the input plane, each weight a
    line whose width is its size and whose colour its sign (blue +, orange -)."""

    size = (6.0, 4.0)

    def __init__(self, resolution=14, fig=None):
        self.resolution = resolution
        super().__init__(fig)

    def build(self, trainer):
        np, _, _ = _matplotlib()
        from matplotlib import colormaps
        from matplotlib.collections import LineCollection

        ax = self.ax = self.fig.add_axes([0.0, 0.0, 1.0, 0.92])
        ax.set_axis_off()
        model = trainer.model
        sizes = [trainer.nin] + [layer.nout for layer in model.layers]
        self.shown = [min(n, MAX_DRAWN) for n in sizes]
        columns = len(sizes)
        tallest = max(self.shown)
        self.box = 0.36  # half the side of a neuron's square
        # columns spread to fill the figure's width, so the squares stay square
        width, height = self.fig.bbox.width, self.fig.bbox.height
        gap = self.gap = max(2.0, (width / (0.92 * height)) * (tallest + 1.5) / max(columns - 1, 1) * 0.8)
        self.pos = []
        for c, n in enumerate(self.shown):
            top = (tallest - 1) / 2.0
            self.pos.append([(c * gap, top - (n - 1) / 2.0 + i) for i in range(n)][::-1])
        segments = []
        for c, layer in enumerate(model.layers):
            for j in range(self.shown[c + 1]):
                for i in range(self.shown[c]):
                    (xa, ya), (xb, yb) = self.pos[c][i], self.pos[c + 1][j]
                    segments.append([(xa + self.box, ya), (xb - self.box, yb)])
        self.edges = LineCollection(segments, zorder=1)
        ax.add_collection(self.edges)
        self.bounds = window(trainer.X, own=trainer.settings["dataset"] == "own")
        self.grid = grid_array(self.bounds if trainer.nin == 2 else self.bounds[:1], self.resolution)
        self.images = []
        cmap = colormaps["RdBu"].resampled(LEVELS * 2 + 1)  # a few shades read as well as many
        for c, n in enumerate(self.shown):
            column = []
            for i in range(n):
                x, y = self.pos[c][i]
                extent = (x - self.box, x + self.box, y - self.box, y + self.box)
                shape = (self.resolution, self.resolution) if trainer.nin == 2 else (1, self.resolution)
                column.append(ax.imshow(np.zeros(shape), extent=extent, origin="lower", cmap=cmap,
                                        vmin=-1.0, vmax=1.0, zorder=2, interpolation="nearest"))
            self.images.append(column)
            if sizes[c] > n:
                ax.text(c * gap, -0.9, f"+{sizes[c] - n} more", ha="center", fontsize="x-small")
            name = "input" if c == 0 else ("output" if c == columns - 1 else f"layer {c - 1}")
            ax.text(c * gap, tallest - 0.2, name, ha="center", fontsize="small")
        ax.set_xlim(-1.0, (columns - 1) * gap + 1.0)
        ax.set_ylim(-1.2, tallest + 0.3)
        self.title = self.fig.suptitle("", fontsize="small")

    def refresh(self, trainer):
        np, _, _ = _matplotlib()
        from matplotlib.colors import to_rgba

        model = trainer.model
        weights = []
        for c, layer in enumerate(model.layers):
            for j in range(self.shown[c + 1]):
                w = layer.neurons[j].w
                weights.extend(w[i].data for i in range(self.shown[c]))
        top = max((abs(w) for w in weights), default=1.0) or 1.0
        pos, neg = to_rgba(POSITIVE), to_rgba(NEGATIVE)
        self.edges.set_linewidths([0.2 + 3.0 * abs(w) / top for w in weights])
        self.edges.set_colors([(pos if w > 0 else neg)[:3] + (0.25 + 0.75 * abs(w) / top,) for w in weights])
        layers = [self.grid, *layer_outputs(model, self.grid)]
        shape = self.images[0][0].get_array().shape
        for c, column in enumerate(self.images):
            for i, image in enumerate(column):
                arr = np.asarray(layers[c][:, i], dtype=float).reshape(shape)
                scale = max(float(np.abs(arr).max()), 1e-12)
                image.set_data(arr / scale)
        self.title.set_text(f"weights: width = size, blue +, orange -   (max |w| = {top:.2f})")


class HealthView(View):
    """Gradient health: each layer's mean |gradient| over the steps (log scale), and how many of
    each hidden layer's units are dead (relu) or saturated (tanh, sigmoid)."""

    size = (6.0, 2.6)

    def build(self, trainer):
        self.grad_ax = self.fig.add_axes([0.14, 0.2, 0.46, 0.68])
        self.unit_ax = self.fig.add_axes([0.74, 0.2, 0.24, 0.68])
        n = len(trainer.model.layers)
        self.lines = [self.grad_ax.plot([], [], label=f"layer {i}" if i < n - 1 else "output")[0] for i in range(n)]
        self.grad_ax.set_yscale("log")
        self.grad_ax.set_title("mean |gradient| per layer", fontsize="small")
        self.grad_ax.set_xlabel("step", fontsize="small")
        self.grad_ax.set_ylabel("mean |grad|", fontsize="small")
        self.grad_ax.legend(fontsize="x-small", loc="upper right", ncol=2)
        hidden = max(n - 1, 1)
        self.dead_bars = self.unit_ax.bar([i - 0.2 for i in range(hidden)], [0] * hidden, width=0.4, color="grey", label="dead")
        self.sat_bars = self.unit_ax.bar([i + 0.2 for i in range(hidden)], [0] * hidden, width=0.4, color="tab:red", label="saturated")
        self.unit_ax.set_ylim(0.0, 1.0)
        self.unit_ax.set_xticks(range(hidden))
        self.unit_ax.set_title("share of units", fontsize="small")
        self.unit_ax.set_xlabel("hidden layer", fontsize="small")
        self.unit_ax.set_ylabel("share", fontsize="small")
        self.unit_ax.legend(fontsize="x-small", loc="upper right")
        for ax in (self.grad_ax, self.unit_ax):
            ax.tick_params(labelsize="x-small")

    def refresh(self, trainer):
        steps = trainer.grad_steps
        for line, norms in zip(self.lines, trainer.grad_norms):
            line.set_data(steps, [max(v, 1e-12) for v in norms])
        if steps:
            self.grad_ax.relim()
            self.grad_ax.autoscale_view()
            self.grad_ax.set_xlim(0, max(steps[-1], 1))
        for row in trainer.health():
            i = row["layer"]
            self.dead_bars[i].set_height(row["dead"] / row["units"])
            self.sat_bars[i].set_height(row["saturated"] / row["units"])


def snapshot(trainer, width=12.0, font_size=12):
    """The playground's four pictures of ``trainer`` as one static matplotlib `Figure`, at a size a
    page can show (what a saved notebook or a handout keeps of a live playground): the decision
    boundary and the network above, loss and accuracy and the gradient health below."""
    from matplotlib import rc_context

    with rc_context({"font.size": font_size}):
        fig = new_figure(width, width * 0.72, dpi=100)
        top, bottom = fig.subfigures(2, 1, height_ratios=[1.45, 1.0])
        left, right = top.subfigures(1, 2, width_ratios=[0.8, 1.2])
        ax = left.add_axes([0.16, 0.12, 0.8, 0.8])
        BoundaryView(60, ax=ax, interpolation="nearest").update(trainer)
        NetworkView(fig=right).update(trainer)
        curves, health = bottom.subfigures(1, 2)
        CurvesView(fig=curves).update(trainer)
        HealthView(fig=health).update(trainer)
    return fig
