"""The notebook playground: train tiny MLPs interactively and watch them learn.

    from nn.playground import Playground
    Playground()                       # in a notebook cell: controls, Play, live pictures

`Playground` (widgets.py) holds the ipywidgets controls; its live pictures (decision boundary, the
network with its weights and each neuron's output, loss and accuracy, gradient health, the
optimizer race) are drawn in the browser from numbers (board.py, front/board.js); views.py draws the
same pictures as static matplotlib figures (`plot_boundary`, `snapshot`). `Trainer` and `Race` (core.py) are the engine under them, usable
without widgets or plots. ipywidgets and matplotlib are needed only by `Playground` and the views
(``pip install chainrule[notebook]``).
"""

from .core import DATASETS, DEFAULT_LR, LOSSES, OPTIMIZER_NAMES, Race, Task, Trainer


def __getattr__(name):
    if name == "Playground":
        from .widgets import Playground

        return Playground
    if name in ("plot_boundary", "snapshot"):
        from . import views

        return getattr(views, name)
    raise AttributeError(f"module 'nn.playground' has no attribute {name!r}")


__all__ = ["Playground", "plot_boundary", "snapshot", "Trainer", "Race", "Task", "DATASETS", "LOSSES", "OPTIMIZER_NAMES", "DEFAULT_LR"]
