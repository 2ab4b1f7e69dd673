"""Optimizers: `SGD` (momentum, Nesterov, weight decay), `Adam`, `AdamW`, `RMSprop`, `Adagrad`.

Each follows the update rule of the `torch.optim` class of the same name step for step, works on
plain floats, and keeps what it remembers per parameter in ``state[p]`` (a dict of floats) so a
lesson can look inside: ``opt.state[p]["m"]`` is Adam's running mean of p's gradient, and
``opt.named_state()`` shows the same by parameter name.

``lr`` is a number or a schedule, i.e. any function of the step number k = 0, 1, 2, ... (see
`nn.schedules`); ``opt.lr`` is the rate the next ``step()`` will use, and may be set at any time.
"""

import math
import numbers
from itertools import chain

from autograd import Value

from autograd.interrupts import deferred_interrupts
from .module import _short


def _number(x, what, low=0.0, high=None, high_open=False):
    """``x`` as a float, or a ValueError naming ``what`` unless it is a finite number in range."""
    value = None
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            value = float(x)
        except (OverflowError, ValueError, TypeError):  # e.g. an int beyond any float
            pass
    if value is None or not math.isfinite(value) or value < low:
        raise ValueError(f"{what} must be a finite number >= {low}, got {_short(x)}")
    if high is not None and (value > high or (high_open and value == high)):
        raise ValueError(f"{what} must be {'<' if high_open else '<='} {high}, got {_short(x)}")
    return value


def _lerp(start, end, weight):
    # how torch.lerp rounds, so running means match torch.optim to the last bit
    if weight < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


class Optimizer:
    """Base class: holds the parameters, the learning rate or schedule, the step count and state."""

    def __init__(self, params, lr):
        if hasattr(params, "named_parameters"):
            named = list(params.named_parameters())
        else:
            named = [(str(i), p) for i, p in enumerate(params)]
        if not named:
            raise ValueError(f"{type(self).__name__} got no parameters to optimize")
        seen = set()
        for name, p in named:
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__} optimizes Values, got a {type(p).__name__} at position {name}")
            if p in seen:
                raise ValueError(f"{type(self).__name__} got the same parameter twice ({name})")
            seen.add(p)
        self.names = [name for name, _ in named]
        self.params = [p for _, p in named]
        self.state = {p: {} for p in self.params}
        self.steps = 0
        self.lr = lr

    @property
    def lr(self):
        """The learning rate of the next step (a schedule is evaluated at the current step count)."""
        if self._schedule is not None:
            try:
                lr = self._schedule(self.steps)
            except OverflowError:  # e.g. a growing rate beyond any float
                lr = math.inf
            return _number(lr, f"the schedule's learning rate at step {self.steps}")
        return self._lr

    @lr.setter
    def lr(self, value):
        if callable(value):
            self._schedule, self._lr = value, None
        else:
            self._schedule, self._lr = None, _number(value, "lr")

    def zero_grad(self):
        """Set every parameter's ``.grad`` to 0.0 before the next ``backward()``."""
        for p in self.params:
            p.grad = 0.0

    def step(self):
        """Update every parameter from its ``.grad`` (fill it first with ``loss.backward()``).

        All or nothing: every new value and state is computed first, then all are written at once
        (a Ctrl-C meanwhile waits until they are), so the parameters, their state and ``steps``
        always agree. A gradient, new value or state that is not finite (training diverged) raises
        FloatingPointError and changes nothing. A parameter whose ``.grad`` is None (no gradient
        yet, as PyTorch marks it) is left as it is, and so is its state."""
        params = self.params
        grads = [p.grad for p in params]
        if None in grads or not all(map(math.isfinite, grads)):
            for name, g in zip(self.names, grads):
                if g is not None and not math.isfinite(g):
                    raise FloatingPointError(
                        f"the gradient of parameter {name} is {g}; no parameter was changed "
                        "(a smaller learning rate or a stable loss usually fixes this)"
                    )
        lr = self.lr
        update, states = self._update, self.state
        changed, values, new_states = [], [], []
        for p, g in zip(params, grads):
            if g is None:
                continue
            state = states[p].copy()
            try:
                x = update(p.data, g, lr, state)
            except (OverflowError, ValueError):  # a float too large, or the square root of one gone negative
                x = math.nan
            changed.append(p)
            values.append(x)
            new_states.append(state)
        finite = math.isfinite
        if not (all(map(finite, values)) and all(map(finite, chain.from_iterable(map(dict.values, new_states))))):
            for p, x, state in zip(changed, values, new_states):
                if not (finite(x) and all(map(finite, state.values()))):
                    name = self.names[params.index(p)]
                    raise FloatingPointError(
                        f"this step (lr={lr:g}) would make parameter {name} or its optimizer state infinite or nan; "
                        "no parameter was changed (lower the learning rate)"
                    )
        with deferred_interrupts():
            for p, x, state in zip(changed, values, new_states):
                p.data = x
                states[p].update(state)
            self.steps += 1

    def _update(self, x, g, lr, state):
        raise NotImplementedError

    def named_state(self):
        """``{parameter name: its state dict}``, to inspect what the optimizer remembers."""
        return {name: self.state[p] for name, p in zip(self.names, self.params)}

    def _settings(self):
        return ""

    def __repr__(self):
        lr = repr(self._schedule) if self._schedule is not None else self._lr
        extra = self._settings()
        return f"{type(self).__name__}(lr={lr}{', ' + extra if extra else ''}; {len(self.params)} parameters, {self.steps} steps)"


class SGD(Optimizer):
    """Gradient descent: ``x -= lr * g``. With ``momentum`` it follows a running sum of gradients
    ``state["momentum"]`` (``nesterov=True`` looks one step ahead); ``weight_decay`` adds
    ``weight_decay * x`` to each gradient."""

    def __init__(self, params, lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.momentum = _number(momentum, "momentum")
        self.dampening = _number(dampening, "dampening", high=1.0)
        self.weight_decay = _number(weight_decay, "weight_decay")
        self.nesterov = bool(nesterov)
        if nesterov and (self.momentum == 0.0 or self.dampening != 0.0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0")
        super().__init__(params, lr)

    def _update(self, x, g, lr, state):
        if self.weight_decay:
            g = g + self.weight_decay * x
        if self.momentum:
            buf = state.get("momentum")
            buf = g if buf is None else self.momentum * buf + (1.0 - self.dampening) * g
            state["momentum"] = buf
            g = g + self.momentum * buf if self.nesterov else buf
        return x - lr * g

    def _settings(self):
        parts = []
        if self.momentum:
            parts.append(f"momentum={self.momentum}")
        if self.dampening:
            parts.append(f"dampening={self.dampening}")
        if self.nesterov:
            parts.append("nesterov=True")
        if self.weight_decay:
            parts.append(f"weight_decay={self.weight_decay}")
        return ", ".join(parts)


class Adam(Optimizer):
    """Adam: a step along the running mean of the gradient ``state["m"]``, divided by the root of
    the running mean of its square ``state["v"]``, both corrected for starting at zero.
    ``state["step"]`` counts this parameter's updates."""

    decoupled = False

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            _number(betas[0], "beta1", high=1.0, high_open=True),
            _number(betas[1], "beta2", high=1.0, high_open=True),
        )
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")
        super().__init__(params, lr)

    def _update(self, x, g, lr, state):
        beta1, beta2 = self.betas
        if self.weight_decay:
            if self.decoupled:
                x = x * (1.0 - lr * self.weight_decay)  # AdamW: shrink the weight itself
            else:
                g = g + self.weight_decay * x  # Adam: add the decay to the gradient
        t = state["step"] = state.get("step", 0) + 1
        m, weight = state.get("m", 0.0), 1.0 - beta1  # torch.lerp's rounding (see _lerp), written out: it runs per parameter
        m = state["m"] = m + weight * (g - m) if weight < 0.5 else g - (g - m) * (1.0 - weight)
        v = state["v"] = beta2 * state.get("v", 0.0) + (1.0 - beta2) * g * g
        step_size = lr / (1.0 - beta1**t)
        denom = math.sqrt(v) / math.sqrt(1.0 - beta2**t) + self.eps
        return x - step_size * (m / denom)

    def _settings(self):
        text = f"betas={self.betas}, eps={self.eps}"
        return text + (f", weight_decay={self.weight_decay}" if self.weight_decay else "")


class AdamW(Adam):
    """Adam with decoupled weight decay: each step shrinks the weights by ``lr * weight_decay``
    directly instead of adding the decay to the gradient (which Adam would rescale)."""

    decoupled = True

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay)


class RMSprop(Optimizer):
    """RMSprop: divide each gradient by the root of its running mean square ``state["v"]``
    (``centered=True`` subtracts the squared running mean ``state["g"]`` first; ``momentum`` keeps a
    running sum ``state["momentum"]`` of the scaled steps)."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.alpha = _number(alpha, "alpha", high=1.0)
        self.eps = _number(eps, "eps")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self.momentum = _number(momentum, "momentum")
        self.centered = bool(centered)
        super().__init__(params, lr)

    def _update(self, x, g, lr, state):
        if self.weight_decay:
            g = g + self.weight_decay * x
        alpha = self.alpha
        v = state["v"] = alpha * state.get("v", 0.0) + (1.0 - alpha) * g * g
        if self.centered:
            mean = state["g"] = _lerp(state.get("g", 0.0), g, 1.0 - alpha)
            avg = math.sqrt(v - mean * mean) + self.eps
        else:
            avg = math.sqrt(v) + self.eps
        if self.momentum:
            buf = state["momentum"] = self.momentum * state.get("momentum", 0.0) + g / avg
            return x - lr * buf
        return x - lr * (g / avg)

    def _settings(self):
        text = f"alpha={self.alpha}, eps={self.eps}"
        if self.momentum:
            text += f", momentum={self.momentum}"
        if self.centered:
            text += ", centered=True"
        if self.weight_decay:
            text += f", weight_decay={self.weight_decay}"
        return text


class Adagrad(Optimizer):
    """Adagrad: divide each gradient by the root of the sum of all its past squares
    ``state["sum"]``, so often-updated parameters slow down."""

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr_decay = _number(lr_decay, "lr_decay")
        self.weight_decay = _number(weight_decay, "weight_decay")
        self.initial_accumulator_value = _number(initial_accumulator_value, "initial_accumulator_value")
        self.eps = _number(eps, "eps")
        super().__init__(params, lr)

    def _update(self, x, g, lr, state):
        if self.weight_decay:
            g = g + self.weight_decay * x
        t = state["step"] = state.get("step", 0) + 1
        clr = lr / (1.0 + (t - 1) * self.lr_decay)
        total = state["sum"] = state.get("sum", self.initial_accumulator_value) + g * g
        return x - clr * (g / (math.sqrt(total) + self.eps))

    def _settings(self):
        text = f"eps={self.eps}"
        if self.lr_decay:
            text += f", lr_decay={self.lr_decay}"
        if self.weight_decay:
            text += f", weight_decay={self.weight_decay}"
        return text


# ---- gradient clipping ------------------------------------------------------------------------------
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale the gradients down so that together their norm is at most ``max_norm``, as
    ``torch.nn.utils.clip_grad_norm_`` does; returns the total norm before clipping (a float).

    ``parameters`` is a model, a list of `Value`s or one `Value`. The total norm is the
    ``norm_type``-norm of all the gradients as one vector: 2 (the default) is its Euclidean length,
    ``math.inf`` (or ``"inf"``) the largest absolute gradient, any other p > 0 ``(sum |g|**p)**(1/p)``.
    When it exceeds ``max_norm``, every gradient is multiplied by ``max_norm / (total + 1e-6)``: the
    step keeps its direction and only gets shorter, which stops one exploding gradient from
    throwing the weights far away. A ``.grad`` of None is skipped.

    A total norm that is inf or nan leaves the gradients as they are (so ``optimizer.step()`` then
    names the parameter at fault), where PyTorch would make them nan; ``error_if_nonfinite=True``
    raises FloatingPointError instead.
    """
    params = _with_gradients(parameters, "clip_grad_norm_")
    max_norm = math.inf if max_norm == math.inf else _number(max_norm, "clip_grad_norm_: max_norm")
    p = _norm_type(norm_type)
    grads = [abs(v.grad) for v in params]
    if not grads:
        return 0.0
    if p == math.inf:
        total = max(grads)
    elif p == 2.0:
        total = math.hypot(*grads)  # no overflow or underflow in the squares
    else:
        largest = max(grads)
        if largest == 0.0 or not math.isfinite(largest):
            total = largest
        else:  # scaled by the largest, so |g|**p cannot overflow
            try:
                total = largest * math.fsum((g / largest) ** p for g in grads) ** (1.0 / p)
            except OverflowError:  # a tiny p: a norm beyond any float
                total = math.inf
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise FloatingPointError(
                f"clip_grad_norm_: the total norm of the gradients is {total}; "
                "a gradient is inf or nan (lower the learning rate, or look for the operation that overflowed)"
            )
        return total
    coefficient = max_norm / (total + 1e-6)
    if coefficient < 1.0:
        with deferred_interrupts():  # all gradients scaled, or none
            for v in params:
                v.grad = v.grad * coefficient
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamp every gradient into ``[-clip_value, clip_value]``, as ``torch.nn.utils.clip_grad_value_``
    does (each one alone, so unlike `clip_grad_norm_` it can turn the step's direction). A ``.grad``
    of None is skipped; nan stays nan."""
    params = _with_gradients(parameters, "clip_grad_value_")
    limit = _number(clip_value, "clip_grad_value_: clip_value")
    with deferred_interrupts():
        for v in params:
            v.grad = min(max(v.grad, -limit), limit) if v.grad == v.grad else v.grad


def _with_gradients(parameters, who):
    """The `Value`s among ``parameters`` (a model, a list or one Value) whose ``.grad`` is not None."""
    if isinstance(parameters, Value):
        parameters = [parameters]
    elif hasattr(parameters, "parameters") and callable(parameters.parameters):
        parameters = parameters.parameters()
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(f"{who} takes a model, a list of Values or one Value, got {type(parameters).__name__}") from None
    for v in parameters:
        if not isinstance(v, Value):
            raise TypeError(f"{who} takes Values, got a {type(v).__name__}: {_short(v)}")
    return [v for v in parameters if v.grad is not None]


def _norm_type(p):
    if p == "inf":
        return math.inf
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p > 0:
        raise ValueError(f"norm_type must be a number > 0 or math.inf (the largest |gradient|), got {_short(p)}")
    return float(p)


OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}
