"""The model on many points at once, for pictures: every layer's outputs over a grid of the plane (or
over the training points) as NumPy arrays, in well under a millisecond for a 50 x 50 grid.

The float path (`nn.float_path`) evaluates one point at a time in plain Python, about 7 µs a point
for the default network; a picture needs thousands of points ten times a second. Here each layer is
one product ``Z = X Wᵀ + b`` (einsum) followed by the layer's activation in its array form
(`ARRAY_ACTIVATIONS`, the same formulas as `nn.activations.FLOAT_SOURCE`; the tests compare the two
on every activation). An activation with no array form is applied through its float form, point
by point: slower, never wrong.
"""

from ..activations import FLOAT_NAMES, FLOAT_SOURCE, LEAKY_SLOPE


def _numpy():
    try:
        import numpy as np
    except ImportError:
        raise ImportError("the playground's pictures need NumPy: pip install chainrule[notebook]") from None
    return np


def _sigmoid(z):
    np = _numpy()
    e = np.exp(-np.abs(z))  # never exponentiates a positive number, like the float form
    return np.where(z >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))


def _array_activations():
    np = _numpy()
    return {
        "tanh": np.tanh,
        "relu": lambda z: np.where(z > 0.0, z, 0.0),
        "sigmoid": _sigmoid,
        "leaky_relu": lambda z: np.where(z > 0.0, z, LEAKY_SLOPE * z),
        "linear": lambda z: z,
    }


def _activation(name):
    forms = _array_activations()
    if name in forms:
        return forms[name]
    np = _numpy()
    f = eval(f"lambda z: {FLOAT_SOURCE[name].format(z='z')}", dict(FLOAT_NAMES))  # noqa: S307 (our own source)
    return np.frompyfunc(f, 1, 1)


def layer_outputs(model, points):
    """``[A_0, A_1, ...]``: layer ``i``'s outputs at every point, an array of shape
    ``(len(points), layer.nout)``. ``model`` is an MLP (or anything with ``.layers`` of `Layer`)."""
    np = _numpy()
    a = np.asarray(points, dtype=float)
    if a.ndim == 1:
        a = a[:, None]
    outs = []
    for layer in model.layers:
        W = np.array([[w.data for w in neuron.w] for neuron in layer.neurons])
        b = np.array([neuron.b.data for neuron in layer.neurons])
        # einsum, not a BLAS product: these matrices are tiny, and BLAS worker threads left spinning
        # after a call would take a core from the training and from the browser
        a = np.asarray(_activation(layer.activation)(np.einsum("pi,ji->pj", a, W) + b), dtype=float)
        outs.append(a)
    return outs


def outputs(model, points):
    """The model's outputs at every point: shape ``(len(points),)`` for one output, else
    ``(len(points), nout)``: what ``model.predict(points)`` gives, as an array."""
    last = layer_outputs(model, points)[-1]
    return last[:, 0] if last.shape[1] == 1 else last


def grid(bounds, size):
    """``size`` x ``size`` points over a 2-D window ``((x0, x1), (y0, y1))``, row by row from the
    bottom (for 1-D bounds, ``size`` points): an array of shape ``(size * size, 2)``."""
    np = _numpy()
    xs = np.linspace(bounds[0][0], bounds[0][1], size)
    if len(bounds) == 1:
        return xs[:, None]
    ys = np.linspace(bounds[1][0], bounds[1][1], size)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


CLASS_COLOURS = ["#e8862a", "#2a6fdb", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
LEVELS = 6  # confidence bands in the boundary heatmap


def class_colours(k):
    """A colour per class, the same in every picture of the course: orange 0, blue 1, green 2, ..."""
    return [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(k)]


def shade(task, out, k):
    """An RGB colour (0..1) per model output: the predicted class's colour, deeper where the model is
    more confident (in `LEVELS` bands), so the boundary is the pale seam where the colours meet."""
    np = _numpy()
    colours = np.array([[int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in class_colours(k)])
    out = np.asarray(out, dtype=float)
    if out.ndim == 1:
        p1 = np.clip(out, 0.0, 1.0) if task.threshold == 0.5 else 1.0 / (1.0 + np.exp(-np.clip(out, -60, 60)))
        probs = np.stack([1.0 - p1, p1], axis=1)
    else:
        z = out - out.max(axis=1, keepdims=True)
        probs = np.exp(z)
        probs /= probs.sum(axis=1, keepdims=True)
        probs = probs[:, :k]
    mixed = colours[probs.argmax(axis=1)]
    confidence = probs.max(axis=1, keepdims=True)
    strength = (confidence - 1.0 / k) / (1.0 - 1.0 / k)  # 0 when unsure, 1 when certain
    strength = np.ceil(np.clip(strength, 0.0, 1.0) * LEVELS) / LEVELS  # bands, like contour lines
    return 1.0 - 0.75 * strength * (1.0 - mixed)  # from white towards the class colour


DEFAULT_WINDOW = ((-1.5, 1.5), (-1.5, 1.5))  # the learner's own dataset starts in this window


def window(X, own=False, margin=0.25):
    """The plotting window around the data: ``((x0, x1), (y0, y1))``, or x only for 1-D inputs.
    For the learner's own points (``own=True``) it is `DEFAULT_WINDOW` grown to hold every point,
    never shrunk to fit them: a click adds a point where it lands, and the next click's picture has
    the same bounds."""
    if not X:
        return DEFAULT_WINDOW
    out = []
    for d in range(len(X[0])):
        lo, hi = min(x[d] for x in X), max(x[d] for x in X)
        if own and d < len(DEFAULT_WINDOW):
            out.append((min(lo, DEFAULT_WINDOW[d][0]), max(hi, DEFAULT_WINDOW[d][1])))
        else:
            pad = max(hi - lo, 1.0) * margin
            out.append((lo - pad, hi + pad))
    return tuple(out)
