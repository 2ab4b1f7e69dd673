"""What the browser draws, as numbers: the frames the playground sends to its pictures.

The pictures are drawn in the page, on canvases, by ``front/board.js`` (shipped in this package and
loaded through anywidget; nothing comes from the network). The kernel sends only numbers: the
boundary heatmap as RGB bytes, each drawn neuron's output as bytes, and small JSON for the curves,
the weights and the gradient health. One frame costs the kernel about a millisecond (`grid`
evaluates the model on every grid point with NumPy), where a matplotlib redraw encoded as PNG cost
over 150 ms.

``setup(trainer)`` is what changes only with the data or the network (points, window, layout);
``frame(trainer)`` is everything that changes with each step.
"""

import math
from pathlib import Path

from . import grid
from .core import unit_health

FRONT = Path(__file__).with_name("front")
MAX_DRAWN = 24  # neurons drawn per layer (the rest are counted, not drawn)
MAX_POINTS = 400  # points per curve sent to the page (older ones thinned out, evenly)
RESOLUTION = 50  # boundary grid cells per side
NEURON_RESOLUTION = 14  # grid cells per side in each neuron's square


def _anywidget():
    try:
        import anywidget
        import traitlets
    except ImportError:
        raise ImportError("the playground's pictures need anywidget: pip install chainrule[notebook]") from None
    return anywidget, traitlets


def board_class():
    """The widget class, built on first use so that importing the playground needs no anywidget."""
    global Board
    if Board is None:
        anywidget, traitlets = _anywidget()

        class Board(anywidget.AnyWidget):
            """The playground's live pictures (``kind="board"``: boundary, network, curves, health;
            ``kind="race"``: the optimizer race), drawn in the page from the numbers it is sent."""

            _esm = FRONT / "board.js"
            _css = FRONT / "board.css"
            kind = traitlets.Unicode("board").tag(sync=True)
            setup = traitlets.Dict().tag(sync=True)
            frame = traitlets.Dict().tag(sync=True)
            grid = traitlets.Bytes(b"").tag(sync=True)
            neurons = traitlets.Bytes(b"").tag(sync=True)

        globals()["Board"] = Board
    return Board


Board = None


def thin(n, limit=MAX_POINTS):
    """Indices of ``n`` recorded points to draw: all while there are few, else every ``2**k``-th
    (with the last), so a long curve keeps its shape, the payload stays small, and the points drawn
    do not shift from one frame to the next."""
    stride = 1
    while n > limit * stride:
        stride *= 2
    keep = list(range(0, n, stride))
    if n and keep[-1] != n - 1:
        keep.append(n - 1)
    return keep


def _finite(v):
    return v if v is not None and math.isfinite(v) else None


def class_count(trainer):
    return max(trainer.task.classes or 2, 2)


def setup(trainer, resolution=RESOLUTION, neuron_resolution=NEURON_RESOLUTION):
    """What changes only with the data or the network: the points, the window, the layout."""
    own = trainer.settings["dataset"] == "own"
    bounds = grid.window(trainer.X, own=own)
    sizes = [trainer.nin] + [layer.nout for layer in trainer.model.layers]
    n = len(sizes)
    if trainer.nin == 1:
        train = [[x[0], float(y)] for x, y in zip(trainer.X_train, trainer.y_train)]
        test = [[x[0], float(y)] for x, y in zip(trainer.X_test, trainer.y_test)]
    else:
        train = [[x[0], x[1], y] for x, y in zip(trainer.X_train, trainer.y_train)]
        test = [[x[0], x[1], y] for x, y in zip(trainer.X_test, trainer.y_test)]
    hint = ""
    if own and not trainer.X:
        hint = "click to add points"
    return {
        "version": trainer.version, "nin": trainer.nin, "bounds": [list(b) for b in bounds],
        "train": train, "test": test, "colours": grid.class_colours(class_count(trainer)), "hint": hint,
        "resolution": resolution, "neuron_resolution": neuron_resolution,
        "sizes": sizes, "shown": [min(s, MAX_DRAWN) for s in sizes],
        "names": ["input"] + [f"layer {i}" for i in range(n - 2)] + ["output"],
        "layer_names": [f"layer {i}" for i in range(n - 2)] + ["output"],
    }


def frame(trainer, layout, number=0):
    """Everything that changes with each step, for the layout ``setup`` gave: ``(json, grid bytes,
    neuron bytes)``."""
    np = grid._numpy()
    model, h = trainer.model, trainer.history
    bounds, res, nres = layout["bounds"], layout["resolution"], layout["neuron_resolution"]
    if trainer.nin == 2:
        out = grid.outputs(model, grid.grid(bounds, res))
        rgb = (255 * grid.shade(trainer.task, out, class_count(trainer))).round().astype(np.uint8).tobytes()
        curve = None
    else:
        rgb = b""
        curve = [_finite(float(v)) for v in np.ravel(grid.outputs(model, grid.grid(bounds[:1], 120)))]
    # each drawn neuron's output over the plane, scaled to its own largest size, as bytes 0..255
    points = grid.grid(bounds if trainer.nin == 2 else bounds[:1], nres)
    tiles = [points[:, i] for i in range(min(trainer.nin, MAX_DRAWN))]
    for a in grid.layer_outputs(model, points):
        tiles.extend(a[:, j] for j in range(min(a.shape[1], MAX_DRAWN)))
    scaled = [t / max(float(np.abs(t).max()), 1e-12) for t in tiles]
    neurons = np.clip(np.round((np.concatenate(scaled) + 1.0) * 127.5), 0, 255).astype(np.uint8).tobytes()
    edges = []
    shown = layout["shown"]
    for c, layer in enumerate(model.layers):
        for neuron in layer.neurons[:shown[c + 1]]:
            edges.extend(w.data for w in neuron.w[:shown[c]])
    keep = thin(len(h["step"]))
    history = {key: [_finite(values[i]) for i in keep] for key, values in h.items()}
    gkeep = thin(len(trainer.grad_steps))
    grads = {"step": [trainer.grad_steps[i] for i in gkeep],
             "layers": [[_finite(norms[i]) for i in gkeep] for norms in trainer.grad_norms]}
    acc = h["test_accuracy"][-1] if h["test_accuracy"] else None
    title = f"step {trainer.steps}" + (f", test accuracy {acc:.0%}" if acc is not None else "")
    payload = {
        "number": number, "step": trainer.steps, "epoch": trainer.epoch, "title": title,
        "edges": [_finite(w) or 0.0 for w in edges], "history": history, "grads": grads,
        "health": health(trainer), "curve": curve,
    }
    return payload, rgb, neurons


def health(trainer):
    """`Trainer.health` on NumPy: the same rule (`core.unit_health`), on every training point."""
    layers = trainer.model.layers[:-1]
    if not trainer.X_train or not layers:
        return []
    outs = grid.layer_outputs(trainer.model, trainer.X_train)[:-1]
    return unit_health(trainer.settings["activation"], [a.T.tolist() for a in outs])


def race_frame(race, number=0):
    """The race's curves: one (steps, train loss) per optimizer."""
    curves = []
    for name, racer in race.trainers.items():
        steps, losses = racer.history["step"], racer.history["train_loss"]
        keep = thin(len(steps))
        curves.append({"label": f"{name} (lr {racer.settings['lr']:g})", "step": [steps[i] for i in keep],
                       "loss": [_finite(losses[i]) for i in keep]})
    return {"number": number, "step": race.steps, "curves": curves,
            "title": f"optimizer race (train loss), step {race.steps}"}

