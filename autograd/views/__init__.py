"""Views of a graph: they read it and never change how gradients are computed.

- `draw`: `draw_dot` / `draw_model`, the graph as a picture with every value and gradient;
  `drawing` is the `graphviz.Digraph` it returns, `render` the renderer every picture goes through.
- `steps`: the forward and backward passes as lists of steps that explain themselves;
  `steps_html` writes them as one HTML page (`save_steps`), `stepper` shows them with widgets.
- `nodes`: how the views read a graph, chainrule's own or a learner's own Value class, with a
  size limit checked while walking.
"""

from .draw import draw_dot, draw_model
from .stepper import Stepper
from .steps import backward_steps, forward_steps
from .steps_html import save_steps

__all__ = ["draw_dot", "draw_model", "backward_steps", "forward_steps", "Stepper", "save_steps"]
