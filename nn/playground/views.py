"""The playground's pictures: each view owns one matplotlib `Figure` (no pyplot, so nothing is shown
by accident) and updates its artists in place (``set_data``, ``set_array``, ``set_segments``); it
rebuilds them only when the model's layout or the data change (``trainer.version``).

Colours: blue is class 1 (or a positive weight), orange class 0 (or a negative weight); with more
classes each has its own colour. Test points are drawn hollow, training points filled.
"""

import io

CLASS_COLOURS = ["#e8862a", "#2a6fdb", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
POSITIVE, NEGATIVE = "#2a6fdb", "#e8862a"
LEVELS = 6  # confidence bands in the boundary heatmap
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


def png(fig):
    """The figure as PNG bytes (what an `ipywidgets.Image` shows)."""
    buffer = io.BytesIO()
    fig.canvas.print_png(buffer)
    return buffer.getvalue()


def _bounds(X, margin=0.25):
    """The plotting window around the data: ((x0, x1), (y0, y1)), or x only for 1-D inputs."""
    if not X:
        return [(-1.5, 1.5), (-1.5, 1.5)]
    out = []
    for d in range(len(X[0])):
        lo, hi = min(x[d] for x in X), max(x[d] for x in X)
        pad = max(hi - lo, 1.0) * margin
        out.append((lo - pad, hi + pad))
    return out


def grid_points(bounds, size):
    """``size`` x ``size`` points over a 2-D window, row by row from the bottom (1-D: ``size`` points)."""
    xs = [bounds[0][0] + (bounds[0][1] - bounds[0][0]) * i / (size - 1) for i in range(size)]
    if len(bounds) == 1:
        return [[x] for x in xs]
    ys = [bounds[1][0] + (bounds[1][1] - bounds[1][0]) * j / (size - 1) for j in range(size)]
    return [[x, y] for y in ys for x in xs]


def class_colours(k):
    return [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)]


def shade(task, outputs):
    """An RGB colour per model output: the predicted class's colour, deeper where the model is more
    confident (in `LEVELS` bands), so the boundary is the white seam where the colours meet."""
    np, _, _ = _matplotlib()
    from matplotlib.colors import to_rgb

    k = max(task.classes or 2, 2)
    colours = np.array([to_rgb(c) for c in class_colours(k)])
    if task.nout == 1:
        out = np.array(outputs, dtype=float)
        p1 = np.clip(out, 0.0, 1.0) if task.threshold == 0.5 else 1.0 / (1.0 + np.exp(-np.clip(out, -60, 60)))
        probs = np.stack([1.0 - p1, p1], axis=1)
    else:
        out = np.array(outputs, dtype=float)
        out = out - out.max(axis=1, keepdims=True)
        probs = np.exp(out)
        probs /= probs.sum(axis=1, keepdims=True)
        probs = probs[:, :k]
    mixed = colours[probs.argmax(axis=1)]
    confidence = probs.max(axis=1, keepdims=True)
    strength = (confidence - 1.0 / k) / (1.0 - 1.0 / k)  # 0 when unsure, 1 when certain
    strength = np.ceil(strength * LEVELS) / LEVELS  # bands of confidence, like contour lines
    return 1.0 - 0.75 * strength * (1.0 - mixed)  # from white towards the class colour


class View:
    """Base: a figure, rebuilt when ``trainer.version`` changes, otherwise updated in place."""

    size = (4.0, 4.0)

    def __init__(self):
        self.fig = new_figure(*self.size)
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

    def png(self):
        return png(self.fig)


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
        self.bounds = _bounds(trainer.X)
        self.grid = grid_points(self.bounds, self.resolution)
        if trainer.nin == 1:
            ax.scatter([x[0] for x in trainer.X_train], trainer.y_train, s=12, color=POSITIVE, label="train")
            if trainer.X_test:
                ax.scatter([x[0] for x in trainer.X_test], trainer.y_test, s=14, facecolors="none", edgecolors=NEGATIVE, label="test")
            (self.curve,) = ax.plot([g[0] for g in self.grid], [0.0] * len(self.grid), color="black", lw=2)
            ax.set_xlim(*self.bounds[0])
            ys = list(trainer.y) or [0.0]
            pad = 0.2 * max(max(ys) - min(ys), 1.0)
            ax.set_ylim(min(ys) - pad, max(ys) + pad)
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
        self.title = ax.set_title("", fontsize="small")

    def refresh(self, trainer):
        np, _, _ = _matplotlib()
        f = trainer.model.float_function()
        outputs = [f(p) for p in self.grid]
        if self.image is None:
            self.curve.set_ydata(outputs)
            return
        rgb = shade(trainer.task, outputs).reshape(self.resolution, self.resolution, 3)
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
        self.loss_ax = self.fig.add_axes([0.09, 0.2, 0.38, 0.68])
        self.acc_ax = self.fig.add_axes([0.6, 0.2, 0.38, 0.68])
        self.lines = {}
        for key, ax, colour, style in (
            ("train_loss", self.loss_ax, POSITIVE, "-"),
            ("test_loss", self.loss_ax, NEGATIVE, "-"),
            ("train_accuracy", self.acc_ax, POSITIVE, "-"),
            ("test_accuracy", self.acc_ax, NEGATIVE, "-"),
        ):
            (self.lines[key],) = ax.plot([], [], style, color=colour, label=key.split("_")[0])
        self.loss_ax.set_title("loss", fontsize="small")
        self.acc_ax.set_title("accuracy", fontsize="small")
        self.loss_ax.set_xlabel("step", fontsize="small")
        self.acc_ax.set_xlabel("step", fontsize="small")
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

    def __init__(self, resolution=14):
        self.resolution = resolution
        super().__init__()

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
        width, height = self.fig.get_size_inches()
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
        self.bounds = _bounds(trainer.X)
        self.grid = grid_points(self.bounds, self.resolution)
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
        rows = [model.forward_floats_by_layer(x) for x in self.grid]
        shape = self.images[0][0].get_array().shape
        for c, column in enumerate(self.images):
            for i, image in enumerate(column):
                if c == 0:
                    values = [g[i] for g in self.grid]
                else:
                    values = [r[c - 1][i] if isinstance(r[c - 1], list) else r[c - 1] for r in rows]
                arr = np.array(values, dtype=float).reshape(shape)
                scale = max(float(np.abs(arr).max()), 1e-12)
                image.set_data(arr / scale)
        self.title.set_text(f"weights: width = size, blue +, orange -   (max |w| = {top:.2f})")


class HealthView(View):
    """Gradient health: each layer's mean |gradient| over the steps (log scale), and how many of
    each hidden layer's units are dead (relu) or saturated (tanh, sigmoid)."""

    size = (6.0, 2.6)

    def build(self, trainer):
        self.grad_ax = self.fig.add_axes([0.1, 0.2, 0.5, 0.68])
        self.unit_ax = self.fig.add_axes([0.72, 0.2, 0.26, 0.68])
        n = len(trainer.model.layers)
        self.lines = [self.grad_ax.plot([], [], label=f"layer {i}" if i < n - 1 else "output")[0] for i in range(n)]
        self.grad_ax.set_yscale("log")
        self.grad_ax.set_title("mean |gradient| per layer", fontsize="small")
        self.grad_ax.set_xlabel("step", fontsize="small")
        self.grad_ax.legend(fontsize="xx-small", loc="upper right", ncol=2)
        hidden = max(n - 1, 1)
        self.dead_bars = self.unit_ax.bar([i - 0.2 for i in range(hidden)], [0] * hidden, width=0.4, color="grey", label="dead")
        self.sat_bars = self.unit_ax.bar([i + 0.2 for i in range(hidden)], [0] * hidden, width=0.4, color="tab:red", label="saturated")
        self.unit_ax.set_ylim(0.0, 1.0)
        self.unit_ax.set_xticks(range(hidden))
        self.unit_ax.set_title("share of units", fontsize="small")
        self.unit_ax.set_xlabel("hidden layer", fontsize="small")
        self.unit_ax.legend(fontsize="xx-small", loc="upper right")
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


class RaceView(View):
    """The optimizer race: one training-loss curve per optimizer, same start, same data."""

    size = (6.0, 2.8)

    def __init__(self):
        super().__init__()
        self.race = None
        self.ax = self.fig.add_axes([0.1, 0.18, 0.62, 0.7])
        self.ax.set_title("optimizer race (train loss)", fontsize="small")
        self.lines = {}

    def update(self, race):
        if race is not self.race:
            self.ax.clear()
            self.ax.set_title("optimizer race (train loss)", fontsize="small")
            self.ax.set_xlabel("step", fontsize="small")
            self.lines = {}
            for name, racer in race.trainers.items():
                label = f"{name} (lr {racer.settings['lr']:g})"
                (self.lines[name],) = self.ax.plot([], [], label=label)
            self.ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.02, 1.0))
            self.race = race
        for name, (steps, values) in race.curves.items():
            self.lines[name].set_data(steps, values)
        self.ax.relim()
        self.ax.autoscale_view()
        self.draws += 1
