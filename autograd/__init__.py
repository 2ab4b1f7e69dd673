"""chainrule's scalar autograd engine: `Value`, the backward pass, and views of the graph.

The engine's core is `value` (a node and every operation with its local derivatives), `operation`
(what an operation is, and how to define one), `graph` (the topological order and the backward
pass) and `mode` (`no_grad`, scopes); `functional` and `check` build gradients of plain functions
on it, and `functions` holds math that takes floats and Values alike. `compiler` records a function
once and runs it as straight-line Python on floats. `views` draws and steps through a graph, and
`teach` checks a learner's answers; both only read the graph.
`files.write_atomic` writes a file whole or not at all; every save (a model, a drawing, a page) uses it.
"""

from . import functions
from .check import GradcheckError, gradcheck, numerical_grad
from .compiler import CompileError, Drawn, compiled, is_tracing, take
from .functional import grad, hessian
from .graph import backward, gradients, topological_order, zero_grad
from .mode import is_grad_enabled, no_grad, scope
from .operation import DerivativeError, Operation, UnknownOperationError, operation
from .value import Constant, Parameter, Value, local_grads
from .views import Stepper, backward_steps, draw_dot, draw_model, forward_steps, save_steps

__all__ = [
    "Value",
    "Constant",
    "Parameter",
    "backward",
    "gradients",
    "topological_order",
    "zero_grad",
    "local_grads",
    "operation",
    "Operation",
    "UnknownOperationError",
    "DerivativeError",
    "functions",
    "no_grad",
    "is_grad_enabled",
    "scope",
    "grad",
    "hessian",
    "numerical_grad",
    "gradcheck",
    "GradcheckError",
    "draw_dot",
    "draw_model",
    "backward_steps",
    "forward_steps",
    "Stepper",
    "save_steps",
    "compiled",
    "CompileError",
    "take",
    "Drawn",
    "is_tracing",
]

from .teach import check_engine  # noqa: E402  (a teaching tool: a learner's own Value class, checked)

__all__.append("check_engine")
