"""Steps drawn frame by frame, and `save_steps`: one self-contained HTML page that steps through them.

The page holds every frame as inline SVG plus a few lines of JavaScript: play / pause, previous /
next, a slider and the arrow keys. It loads nothing from anywhere (its Content-Security-Policy
forbids it), so it works offline and can be put on any web page as it is.
"""

import html
import os
from pathlib import Path

from ..files import write_atomic
from .nodes import GraphTooLargeError, as_roots, is_node, printable, reach, short
from .steps import Steps, backward_steps, forward_steps

MAX_NODES = 300  # nodes (values and operations) of a graph stepped through: each step redraws all of them


def as_steps(source, forward=False, grad=1.0, digits=6, max_nodes=MAX_NODES, what="save_steps"):
    """`Steps` from a root (backward only, or forward first with ``forward=True``), or the given
    `Steps` unchanged. A graph of more than ``max_nodes`` nodes (values and operations, as drawn)
    is refused before anything is recorded: every step draws the whole graph."""
    if not isinstance(forward, bool):
        raise TypeError(f"{what}(forward={short(forward)}): give True or False")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"{what}(max_nodes={short(max_nodes)}): give a positive int, or None for no limit")
    if isinstance(source, Steps):
        if forward or grad != 1.0 or digits != source.digits:
            raise TypeError(
                "forward=, grad= and digits= apply when recording; with recorded steps, pass them to "
                "forward_steps() / backward_steps() instead"
            )
        _check_size(source.root, max_nodes, what)
        return source
    if not is_node(source):
        raise TypeError(
            f"{what}: expected a Value (the root) or steps from backward_steps(), got {type(source).__name__}: "
            f"{short(source)}"
        )

    def refuse(count):
        raise GraphTooLargeError(_too_large(max_nodes, what))

    (root,), _ = as_roots(source, f"{what}(root)", max_nodes, refuse=refuse)
    _check_size(root, max_nodes, what)
    steps = backward_steps(root, grad, digits, max_nodes=None)
    return forward_steps(root, digits, max_nodes=None) + steps if forward else steps


def _check_size(root, max_nodes, what):
    if max_nodes is not None and reach([root], max_nodes) > max_nodes:
        raise GraphTooLargeError(_too_large(max_nodes, what))


def _too_large(max_nodes, what):
    return (f"{what}: this graph has more than {max_nodes} nodes (values and operations; counting stopped "
            "there), and every step draws all of them. Step through a part of it (the steps of an "
            f"intermediate value), print backward_steps(root) as a table, or pass max_nodes=None to {what} it "
            "anyway (slow: one drawing per step).")


def frame_svg(steps, frame, **draw):
    """The SVG text of one `Frame`: the graph with the values and gradients known so far and the
    step's nodes highlighted. ``draw`` goes to `draw_dot` (``rankdir``, ``fields``, ``fmt``, ...)."""
    from .draw import draw_dot

    draw.setdefault("max_nodes", None)  # the stepper and save_steps check the size before recording
    drawing = draw_dot(steps.root, highlight=frame.highlight, grads=frame.grads, values=frame.values, **draw)
    svg = drawing.svg()
    if isinstance(svg, bytes):
        svg = svg.decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
.controls { display: flex; gap: .5em; align-items: center; flex-wrap: wrap; margin-bottom: 1em; }
.controls input[type=range] { flex: 1; min-width: 12em; }
.step-graph { overflow: auto; }
.step-graph svg { max-width: 100%; height: auto; }
.step-text { background: #f6f6f6; padding: .75em; white-space: pre-wrap; font-size: 95%; }
.js .step-frame { display: none; }
.js .step-frame.current { display: block; }
.hint { color: #777; font-size: 85%; }
"""

# Shows one frame at a time; without JavaScript every frame is shown, one after another.
_SCRIPT = """
const frames = document.querySelectorAll(".step-frame"), slider = document.getElementById("slider");
const counter = document.getElementById("counter"), play = document.getElementById("play");
let current = 0, timer = null;
function show(i) {
  current = Math.max(0, Math.min(frames.length - 1, i));
  frames.forEach((f, k) => f.classList.toggle("current", k === current));
  slider.value = current;
  counter.textContent = "step " + current + " of " + (frames.length - 1);
}
function pause() { clearInterval(timer); timer = null; play.textContent = "\\u25B6 play"; }
function toggle() {
  if (timer) return pause();
  if (current === frames.length - 1) show(0);
  play.textContent = "\\u23F8 pause";
  timer = setInterval(() => current < frames.length - 1 ? show(current + 1) : pause(), INTERVAL);
}
document.getElementById("prev").onclick = () => { pause(); show(current - 1); };
document.getElementById("next").onclick = () => { pause(); show(current + 1); };
play.onclick = toggle;
slider.oninput = () => { pause(); show(Number(slider.value)); };
document.addEventListener("keydown", (e) => {
  const go = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[e.key];
  if (go) { e.preventDefault(); pause(); show(current + go); }
  else if (e.key === "Home") { pause(); show(0); }
  else if (e.key === "End") { pause(); show(frames.length - 1); }
  else if (e.key === " " && spaceToggles(e.target)) { e.preventDefault(); toggle(); }
});
// Space plays or pauses wherever the focus is on the page or one of its controls (a clicked button
// or the slider keeps the focus); on a button it must not also press that button when released.
function spaceToggles(target) { return target === document.body || !!target.closest(".controls"); }
document.addEventListener("keyup", (e) => { if (e.key === " " && spaceToggles(e.target)) e.preventDefault(); });
show(0);
"""


def check_draw_options(draw, what):
    """Fail now, naming the option, if ``draw`` holds something `draw_dot` would refuse later."""
    from .draw import check_options

    for taken in ("highlight", "grads", "values"):
        if taken in draw:
            raise TypeError(f"{what}() sets {taken}= itself for every step; leave it out")
    try:
        check_options(**draw)
    except TypeError as error:
        if "unexpected keyword argument" in str(error):
            raise TypeError(f"{what}() got {str(error).split(' got ', 1)[1]} (nor does draw_dot)") from None
        raise


MAX_INTERVAL = 2**31 - 1  # ms: browsers treat a longer delay as 0 and play at full speed


def check_interval(interval, what):
    if not isinstance(interval, int) or isinstance(interval, bool) or not 1 <= interval <= MAX_INTERVAL:
        raise ValueError(f"{what}(interval={short(interval)}): the delay between frames in milliseconds, an int from "
                         f"1 to {MAX_INTERVAL} (about 24 days; browsers play a longer delay at full speed)")


def steps_html(source, *, forward=False, grad=1.0, digits=6, title=None, interval=1200, max_nodes=MAX_NODES, **draw):
    """The page `save_steps` writes, as a string (see `save_steps`)."""
    return _page(source, "steps_html", forward, grad, digits, title, interval, max_nodes, draw)


def _page(source, what, forward, grad, digits, title, interval, max_nodes, draw):
    check_interval(interval, what)
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{what}(title={short(title)}): the page's title is a str (or None for the default)")
    check_draw_options(draw, what)
    steps = as_steps(source, forward, grad, digits, max_nodes, what)
    name = steps.name(steps.root)
    title = printable(title) if title is not None else f"Backpropagation through {name}"
    figures = []
    for frame in steps.frames():
        step = frame.step
        figures.append(
            f'<figure class="step-frame" id="step-{step.index}" data-step="{step.index}" data-kind="{step.kind}">'
            f'<div class="step-graph">{frame_svg(steps, frame, **draw)}</div>'
            f'<pre class="step-text">{html.escape(step.text)}</pre></figure>'
        )
    last = len(steps) - 1
    csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
            '<script>document.documentElement.classList.add("js");</script></head><body>',
            f"<h1>{html.escape(title)}</h1>",
            '<div class="controls">',
            '<button id="play" type="button">\u25B6 play</button>',
            '<button id="prev" type="button">\u25C0 previous</button>',
            '<button id="next" type="button">next \u25B6</button>',
            f'<input id="slider" type="range" min="0" max="{last}" value="0" step="1" aria-label="step">',
            f'<span id="counter">step 0 of {last}</span></div>',
            '<p class="hint">Arrow keys step, Space plays or pauses, Home / End jump to the ends.</p>',
            *figures,
            f"<script>const INTERVAL = {interval};{_SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


def save_steps(source, path, *, forward=False, grad=1.0, digits=6, title=None, interval=1200, max_nodes=MAX_NODES,
               **draw):
    """Write the backward pass of ``source`` (a root `Value`, a node of your own Value class, or
    `Steps`) to one HTML file at ``path``.

    Every step is a frame: the graph with the gradients known so far, the active node and its parents
    highlighted, and the step's explanation below. ``forward=True`` shows the values being computed
    first. ``interval`` is the play speed in milliseconds; ``draw`` goes to `draw_dot`. A graph of
    more than ``max_nodes`` nodes (values and operations, 300) is refused before anything is recorded
    (each frame draws all of them); ``None`` lifts the limit. Returns the path.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_steps(path={short(path)}): give a file name (str or Path), such as 'backprop.html'")
    page = _page(source, "save_steps", forward, grad, digits, title, interval, max_nodes, draw)
    path = Path(path)
    write_atomic(path, page, "the steps page", example="backprop.html")
    return path
