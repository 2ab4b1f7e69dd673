"""Loss functions and weight penalties.

Each loss takes the model's outputs (`Value`s, or plain floats for a loss with no graph) and plain
targets, for one sample or a batch:

- one sample: ``hinge(score, 1)``, ``cross_entropy([l0, l1, l2], 2)``;
- a batch: lists of outputs and targets, ``hinge(scores, labels)``; the result is the mean over the
  batch (``reduction="sum"`` adds them up instead).

With `Value` outputs the result is a `Value` to call ``backward()`` on; with float outputs it is a
float (handy for evaluating without building a graph).
"""

import math
import numbers

from autograd import Value, operation, take

from .module import _short

REDUCTIONS = ("mean", "sum")


# ---- helpers that work on Values and floats alike -----------------------------------------------
def _exp(x):
    return x.exp() if isinstance(x, Value) else math.exp(x)


def _log(x):
    return x.log() if isinstance(x, Value) else math.log(x)


def _relu(x):
    if isinstance(x, Value):
        return x.relu()
    return x if x > 0.0 else 0.0


def _total(terms):
    """Left-to-right sum without the extra ``0 +`` node that ``sum()`` starts with."""
    terms = iter(terms)
    total = next(terms)
    for term in terms:
        total = total + term
    return total


def _is_number(x):
    return isinstance(x, (Value, numbers.Real)) and not isinstance(x, bool)


def _number(x, what):
    """``x`` as a `Value` or a Python float (so NumPy numbers give float results too)."""
    if not _is_number(x):
        raise TypeError(f"{what} must be a number or a Value, got {type(x).__name__}: {_short(x)}")
    if isinstance(x, Value):
        return x
    try:
        return float(x)
    except OverflowError:
        raise ValueError(f"{what} is {_short(x)}, too large for a float") from None


def _plain(targets):
    """NumPy arrays and scalars as the Python lists and numbers they hold; anything else as it is."""
    if not isinstance(targets, (Value, list, tuple)) and hasattr(targets, "tolist"):
        return targets.tolist()
    return targets


def _reduce(terms, reduction, name):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean' or 'sum', got {reduction!r}")
    if not terms:
        raise ValueError(f"{name}: got an empty batch")
    total = _total(terms)
    return total / len(terms) if reduction == "mean" else total


def _batch(outputs, targets, name):
    """(outputs, targets) as two equal-length lists, from one sample or a batch."""
    targets = _plain(targets)
    if isinstance(targets, (list, tuple)):
        if not isinstance(outputs, (list, tuple)):
            raise TypeError(f"{name}: targets are a list of {len(targets)}, so outputs must be a list too")
        if len(outputs) != len(targets):
            raise ValueError(f"{name}: {len(outputs)} outputs but {len(targets)} targets; they must pair up")
        return list(outputs), list(targets)
    return [outputs], [targets]


def _label_sign(label, name):
    if not isinstance(label, numbers.Real) or isinstance(label, bool):
        raise TypeError(f"{name}: a label must be a number (0/1 or -1/+1), got {type(label).__name__}: {_short(label)}")
    return 1.0 if label > 0 else -1.0


# ---- losses ---------------------------------------------------------------------------------------
def mse(outputs, targets, reduction="mean"):
    """Mean squared error: the mean of ``(output - target)**2``.

    Outputs and targets pair up one to one: numbers, lists, or lists of lists (a batch of vector
    outputs), and every element counts once in the mean.
    """
    pairs = []
    stack = [(outputs, targets)]
    while stack:
        out, target = stack.pop()
        target = _plain(target)
        if isinstance(target, (list, tuple)) or isinstance(out, (list, tuple)):
            if not isinstance(target, (list, tuple)) or not isinstance(out, (list, tuple)):
                raise ValueError(f"mse: output {_short(out)} and target {_short(target)} do not have the same shape")
            if len(out) != len(target):
                raise ValueError(f"mse: {len(out)} outputs but {len(target)} targets; they must pair up")
            stack.extend(reversed(list(zip(out, target))))
        else:
            pairs.append((_number(out, "mse: an output"), _number(target, "mse: a target")))
    return _reduce([_square(out - target) for out, target in pairs], reduction, "mse")


def _square(d):
    if isinstance(d, Value):
        return d**2
    try:
        return d**2
    except OverflowError:  # on floats: inf, as float arithmetic gives elsewhere
        return math.inf


def hinge(scores, labels, reduction="mean"):
    """The max-margin loss ``max(0, 1 - y * score)`` of the classic moons demo.

    A label > 0 counts as y = +1, any other as y = -1, so labels may be 0/1 or -1/+1. The loss is
    zero once a point is on the right side with a margin of at least 1.
    """
    scores, labels = _batch(scores, labels, "hinge")
    terms = []
    for score, label in zip(scores, labels):
        y = _label_sign(label, "hinge")
        terms.append(_relu(1.0 - y * _number(score, "hinge: a score")))
    return _reduce(terms, reduction, "hinge")


def binary_cross_entropy(logits, targets, reduction="mean"):
    """Cross-entropy of a yes/no prediction, from a logit z (the score before the sigmoid).

    ``-t*log(sigmoid(z)) - (1-t)*log(1 - sigmoid(z))``, written as ``softplus(z) - t*z`` with the
    softplus in the form that never exponentiates a positive number, so logits of ±1000 give the
    exact loss and gradient ``sigmoid(z) - t``. Targets are probabilities in [0, 1] (labels 0/1).
    """
    logits, targets = _batch(logits, targets, "binary_cross_entropy")
    terms = []
    for z, t in zip(logits, targets):
        z = _number(z, "binary_cross_entropy: a logit")
        if not isinstance(t, numbers.Real) or isinstance(t, bool) or not 0.0 <= t <= 1.0:
            raise ValueError(
                f"binary_cross_entropy: targets must be in [0, 1] (labels 0/1), got {_short(t)}; "
                "for -1/+1 labels use hinge, or map them to 0/1"
            )
        # softplus(z) = z + log(1 + e^-z) for z > 0, log(1 + e^z) otherwise: both exact, never overflow
        softplus = z + _log(1.0 + _exp(-z)) if z > 0.0 else _log(1.0 + _exp(z))
        terms.append(softplus - float(t) * z)
    return _reduce(terms, reduction, "binary_cross_entropy")


def cross_entropy(logits, target, reduction="mean"):
    """Multiclass cross-entropy: ``-log(softmax(logits)[target])`` for a list of k logits and a
    class index in 0..k-1 (or a batch: a list of such lists and a list of indices).

    Computed as ``logsumexp(logits) - logits[target]`` with the largest logit subtracted before
    exponentiating, so large logits neither overflow nor lose the answer. The gradient with respect
    to the logits is ``softmax(logits) - onehot(target)``.
    """
    target = _plain(target)
    if isinstance(target, (list, tuple)):
        samples, targets = _batch(logits, target, "cross_entropy")
    else:
        samples, targets = [logits], [target]
    terms = []
    for sample, index in zip(samples, targets):
        if not isinstance(sample, (list, tuple)) or len(sample) < 2:
            raise ValueError(
                "cross_entropy needs a list of at least 2 logits per sample (one per class), got "
                f"{_short(sample)}; for a single output use binary_cross_entropy or hinge"
            )
        index = _class_index(index, len(sample))
        sample = [_number(z, "cross_entropy: a logit") for z in sample]
        shift = _largest(sample)
        log_sum = _log(_total(_exp(z - shift) for z in sample)) + shift
        terms.append(log_sum - take(sample, index))  # sample[index], a lookup compiled code repeats
    return _reduce(terms, reduction, "cross_entropy")


@operation(derivative=lambda *logits_and_out: (0.0,) * (len(logits_and_out) - 1))
def max_shift(*logits):
    """The largest logit, as a node whose derivative is declared zero.

    Softmax and cross-entropy subtract it before exponentiating so ``exp`` never overflows; moving
    every logit by the same amount changes neither, so no gradient flows through the shift. Being a
    node (rather than a number read from ``.data``) it is recomputed for every example by compiled
    code (`autograd.compiled`)."""
    return max(logits)


def _largest(logits):
    if any(isinstance(z, Value) for z in logits):
        return max_shift(*logits)
    return max(logits)


def _class_index(index, k):
    """``index`` as an int in 0..k-1: any integral number (NumPy integers too) or a float like 2.0."""
    whole = isinstance(index, numbers.Integral) or (isinstance(index, numbers.Real) and float(index).is_integer())
    if isinstance(index, bool) or not whole or not 0 <= index < k:
        raise ValueError(f"cross_entropy: the target must be a class index in 0..{k - 1}, got {_short(index)}")
    return index if isinstance(index, numbers.Integral) else int(index)  # a traced int stays one (take)


bce = binary_cross_entropy


# ---- penalties ------------------------------------------------------------------------------------
def _params(params, name):
    if hasattr(params, "parameters"):
        params = params.parameters()
    params = list(params)
    if not params:
        raise ValueError(f"{name}: got no parameters")
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"{name} takes a model or a list of Values, got a {type(p).__name__}: {_short(p)}")
    return params


def l2(params, alpha=1.0):
    """``alpha * sum(p*p)``: weight decay as a loss term (pass a model or its parameters)."""
    return alpha * _total(p * p for p in _params(params, "l2"))


def l1(params, alpha=1.0):
    """``alpha * sum(|p|)``: pushes small weights to exactly zero (pass a model or its parameters)."""
    return alpha * _total(abs(p) for p in _params(params, "l1"))


LOSSES = {
    "mse": mse,
    "hinge": hinge,
    "binary_cross_entropy": binary_cross_entropy,
    "bce": binary_cross_entropy,
    "cross_entropy": cross_entropy,
}


def get(name):
    """The loss called ``name`` (a callable is returned as it is)."""
    if callable(name):
        return name
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}") from None
