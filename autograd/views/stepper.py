"""`Stepper`: watch the backward pass one node at a time in Jupyter (ipywidgets).

Play / pause, previous / next and a slider move through the steps; the graph highlights the active
node and its parents and shows the gradients computed so far, with the step's explanation below.
The controls are tied together with ``widgets.link`` (kernel side), so the stepper works in
JupyterLab, Notebook, VS Code and Colab alike, and it can be driven from Python: set
``stepper.slider.value`` (or call ``go``) and read ``index``, ``svg``, ``text`` and ``highlighted``.
"""

import html
import numbers

from .nodes import short
from .steps_html import MAX_NODES, as_steps, check_draw_options, check_interval, frame_svg


def _widgets():
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(
            'the stepper needs ipywidgets: pip install "chainrule[notebook]" '
            "(or use save_steps() for a page, or print(backward_steps(root)) for a table)"
        ) from None
    return ipywidgets


# the graph shrinks to the column's width like the exported page (save_steps) does
_GRAPH_STYLE = "overflow:auto;max-width:100%;white-space:normal"
_SVG_FIT = "<style>.chainrule-graph > svg { max-width: 100%; height: auto; }</style>"


class Stepper:
    """Step through ``source`` (a root `Value`, a node of your own Value class, or `Steps`) with widgets.

    ``forward=True`` shows the values being computed first; ``grad`` seeds the root; ``interval`` is
    the play speed in milliseconds; ``draw`` goes to `draw_dot` (``rankdir``, ``fields``, ...).
    A graph of more than ``max_nodes`` nodes (values and operations, 300) is refused before
    anything is recorded (each step redraws all of them); ``None`` lifts the limit.
    Display it as the last expression of a cell, or ``display(stepper)``. Like any widget it lives
    until ``close()``; after that, dropping it frees the graph at once.
    """

    def __init__(self, source, *, forward=False, grad=1.0, digits=6, interval=1200, max_nodes=MAX_NODES, **draw):
        check_interval(interval, "Stepper")
        check_draw_options(draw, "Stepper")
        widgets = _widgets()
        self.steps = as_steps(source, forward, grad, digits, max_nodes, "Stepper")
        self._draw = draw
        self._frame = {}
        self._svg = {}
        last = len(self.steps) - 1
        self.play = widgets.Play(value=0, min=0, max=last, step=1, interval=interval, description="play")
        self.slider = widgets.IntSlider(value=0, min=0, max=last, step=1, description="step")
        self._link = widgets.link((self.play, "value"), (self.slider, "value"))
        self.previous = widgets.Button(description="previous", icon="step-backward", tooltip="previous step")
        self.next = widgets.Button(description="next", icon="step-forward", tooltip="next step")
        # the callbacks are kept so that close() can remove them: they are what ties the widgets to the graph
        self._callbacks = (lambda _: self.go(self.index - 1), lambda _: self.go(self.index + 1),
                           lambda change: self._show(change["new"]))
        self.previous.on_click(self._callbacks[0])
        self.next.on_click(self._callbacks[1])
        # only the graph scales (and, past that, scrolls): the controls and the text stay in view
        self.graph = widgets.HTML(layout=widgets.Layout(max_width="100%", overflow="auto"))
        self.explanation = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.slider.observe(self._callbacks[2], names="value")
        controls = widgets.HBox(
            [self.play, self.previous, self.next, self.slider], layout=widgets.Layout(flex_flow="row wrap")
        )
        self.widget = widgets.VBox(
            [controls, self.graph, self.explanation], layout=widgets.Layout(max_width="100%")
        )
        self._show(0)

    # ---- state ------------------------------------------------------------------------------------
    @property
    def index(self):
        """The step shown."""
        return self.slider.value

    @property
    def step(self):
        """The `Step` shown."""
        return self.steps[self.index]

    @property
    def frame(self):
        """The `Frame` shown: values and gradients known so far, and the highlighted nodes."""
        return self._frame_at(self.index)

    @property
    def highlighted(self):
        """The nodes marked in the graph: the active node and its parents."""
        return self.frame.highlight

    @property
    def text(self):
        """The explanation shown under the graph, as plain text."""
        return self.step.text

    @property
    def svg(self):
        """The graph shown, as SVG text."""
        return self._frame_svg(self.index)

    def __len__(self):
        return len(self.steps)

    # ---- moving -----------------------------------------------------------------------------------
    def go(self, i):
        """Show step ``i``, clamped to the first and last step."""
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"go(i) takes a step number (an int from 0 to {len(self.steps) - 1}), got "
                            f"{type(i).__name__}: {short(i)}")
        self.slider.value = max(0, min(len(self.steps) - 1, int(i)))

    def _frame_at(self, i):
        if i not in self._frame:
            self._frame[i] = self.steps.frame(i)
        return self._frame[i]

    def _frame_svg(self, i):
        if i not in self._svg:
            self._svg[i] = frame_svg(self.steps, self._frame_at(i), **self._draw)
        return self._svg[i]

    def _show(self, i):
        self.graph.value = f'{_SVG_FIT}<div class="chainrule-graph" style="{_GRAPH_STYLE}">{self._frame_svg(i)}</div>'
        step, last = self.steps[i], len(self.steps) - 1
        self.explanation.value = (
            f"<b>step {i} of {last}</b>"
            f'<pre style="white-space:pre-wrap;margin:.25em 0">{html.escape(step.text)}</pre>'
        )
        self.previous.disabled = i == 0
        self.next.disabled = i == last

    def close(self):
        """Close the widgets and let go of the graph: after this, dropping the stepper frees it."""
        if self._callbacks is None:
            return
        previous, following, show = self._callbacks
        self.previous.on_click(previous, remove=True)
        self.next.on_click(following, remove=True)
        self.slider.unobserve(show, names="value")
        self._link.unlink()
        self._callbacks = None
        controls = self.widget.children[0]
        for w in (self.widget, controls, self.play, self.previous, self.next, self.slider, self.graph, self.explanation):
            w.close()

    # ---- display ----------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        """The widget, with a plain-text line for places that cannot show it (a notebook not run yet)."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/plain"] = repr(self) + " (run the cell in a live notebook to step through it)"
        return bundle

    def __repr__(self):
        return f"<Stepper at step {self.index} of {len(self.steps) - 1}: {self.step.header}>"
