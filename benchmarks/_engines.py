"""The three engines the benchmarks compare, behind one small interface.

Each engine is imported only in the process that measures it, so no engine's imports change the
garbage collector's work for another.
"""

from importlib import metadata

NAMES = ("chainrule", "micrograd", "torch")


class Engine:
    def __init__(self, name, label, leaf, value, grad):
        self.name = name
        self.label = label  # for the table: name and version
        self.leaf = leaf  # float -> a leaf that collects a gradient
        self.value = value  # node -> float
        self.grad = grad  # leaf -> its gradient as a float


def load(name):
    """The engine called ``name``, or ImportError saying what to install."""
    if name == "chainrule":
        from autograd import Value

        return Engine(name, "chainrule", Value, lambda v: v.data, lambda v: v.grad)
    if name == "micrograd":
        try:
            from micrograd.engine import Value
        except ImportError:
            raise ImportError("micrograd is not installed: pip install -e '.[bench]'") from None
        label = f"micrograd {metadata.version('micrograd')}"
        return Engine(name, label, Value, lambda v: float(v.data), lambda v: float(v.grad))
    if name == "torch":
        try:
            import torch
        except ImportError:
            raise ImportError("PyTorch is not installed: pip install torch==2.13.0") from None

        def leaf(x):
            return torch.tensor(x, dtype=torch.float64, requires_grad=True)

        label = f"PyTorch {torch.__version__.split('+')[0]} scalars"
        return Engine(name, label, leaf, lambda v: v.item(), lambda v: v.grad.item())
    raise ValueError(f"unknown engine {name!r}; choose from {', '.join(NAMES)}")
