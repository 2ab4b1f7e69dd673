"""Steps drawn frame by frame, and `save_steps`: one self-contained HTML page that steps through them.

The page holds every frame as inline SVG plus a few lines of JavaScript: play / pause, previous /
next, a slider and the arrow keys. It loads nothing from anywhere (its Content-Security-Policy
forbids it), so it works offline and can be put on any web page as it is.
"""

import html
from pathlib import Path

from .steps import Steps, backward_steps, forward_steps
from ..value import Value


def as_steps(source, forward=False, grad=1.0, digits=6):
    """`Steps` from a root `Value` (backward only, or forward first with ``forward=True``), or the
    given `Steps` unchanged."""
    if isinstance(source, Steps):
        if forward or grad != 1.0 or digits != source.digits:
            raise TypeError(
                "forward=, grad= and digits= apply when recording; with recorded steps, pass them to "
                "forward_steps() / backward_steps() instead"
            )
        return source
    if not isinstance(source, Value):
        raise TypeError(
            f"expected a Value (the root) or steps from backward_steps(), got {type(source).__name__}: {source!r}"
        )
    steps = backward_steps(source, grad, digits)
    return forward_steps(source, digits) + steps if forward else steps


def frame_svg(steps, frame, **draw):
    """The SVG text of one `Frame`: the graph with the values and gradients known so far and the
    step's nodes highlighted. ``draw`` goes to `draw_dot` (``rankdir``, ``fields``, ``fmt``, ...)."""
    from .draw import draw_dot

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
  else if (e.key === " " && e.target === document.body) { e.preventDefault(); toggle(); }
});
show(0);
"""


def steps_html(source, *, forward=False, grad=1.0, digits=6, title=None, interval=1200, **draw):
    """The page `save_steps` writes, as a string (see `save_steps`)."""
    steps = as_steps(source, forward, grad, digits)
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
        raise ValueError(f"interval is the delay between frames in milliseconds (a positive int), got {interval!r}")
    name = steps.name(steps.root)
    title = title if title is not None else f"Backpropagation through {name}"
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


def save_steps(source, path, *, forward=False, grad=1.0, digits=6, title=None, interval=1200, **draw):
    """Write the backward pass of ``source`` (a root `Value`, or `Steps`) to one HTML file at ``path``.

    Every step is a frame: the graph with the gradients known so far, the active node and its parents
    highlighted, and the step's explanation below. ``forward=True`` shows the values being computed
    first. ``interval`` is the play speed in milliseconds; ``draw`` goes to `draw_dot`. Returns the path.
    """
    page = steps_html(source, forward=forward, grad=grad, digits=digits, title=title, interval=interval, **draw)
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
