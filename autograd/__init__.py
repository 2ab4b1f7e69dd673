"""chainrule's scalar autograd engine: `Value`, the backward pass, and views of the graph."""

from .check import GradcheckError, gradcheck, numerical_grad
from .draw import draw_dot, draw_model
from .functional import grad, hessian
from .graph import backward, gradients, topological_order, zero_grad
from .mode import is_grad_enabled, no_grad, scope
from .stepper import Stepper
from .steps import backward_steps, forward_steps
from .steps_html import save_steps
from .value import Constant, Parameter, Value, local_grads

__all__ = [
    "Value",
    "Constant",
    "Parameter",
    "backward",
    "gradients",
    "topological_order",
    "zero_grad",
    "local_grads",
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
]
