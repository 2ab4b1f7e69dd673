"""The notebook playground: train tiny MLPs interactively and watch them learn.

    from nn.playground import Playground
    Playground()                       # in a notebook cell: controls, Play, live pictures

`Playground` (widgets.py) holds the ipywidgets controls and shows the views (views.py: decision
boundary, loss and accuracy curves, the network with its weights and each neuron's output, gradient
health, the optimizer race). `Trainer` and `Race` (core.py) are the engine under them, usable
without widgets or plots. ipywidgets and matplotlib are needed only by `Playground` and the views
(``pip install chainrule[notebook]``).
"""

from .core import DATASETS, DEFAULT_LR, LOSSES, OPTIMIZER_NAMES, Race, Task, Trainer


def __getattr__(name):
    if name == "Playground":
        from .widgets import Playground

        return Playground
    if name == "plot_boundary":
        from .views import plot_boundary

        return plot_boundary
    raise AttributeError(f"module 'nn.playground' has no attribute {name!r}")


__all__ = ["Playground", "plot_boundary", "Trainer", "Race", "Task", "DATASETS", "LOSSES", "OPTIMIZER_NAMES", "DEFAULT_LR"]
