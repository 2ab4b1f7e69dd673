"""The building blocks of a transformer: `Linear`, `Embedding`, `RMSNorm`, `LayerNorm`, and the
functions `softmax` and `log_softmax`.

A vector is a list of numbers, one per channel. Every block is a `Module` that tags what it computes
with its scope, so a drawing can box it, and its weights are `Parameter`s with PyTorch's names and
layout (``weight[i][j]`` links input j to output i; ``named_parameters()`` gives ``"weight.i.j"``).

Each block is written once, in plain arithmetic (``+ - * / **``, `exp`, `log`, `relu`, `total`) that
runs on `Value`s and on floats alike. ``block(x)`` builds the graph; ``block.float_function()`` runs
the very same code on a copy whose weights are floats (`float_twin`), so the two paths cannot
disagree, and the float path needs no second copy of the model.

For a tracer (a compiled path): the forward of every block is a fixed sequence of operations for a
given input length, with no branch on the value of a `Value`. The one number that depends on the
data is softmax's shift, the largest logit, subtracted before exponentiating so that ``exp`` never
overflows; it is the graph node `max_shift` (an operation whose derivative is declared zero: the
softmax does not change when every logit moves by the same amount), so a trace records it and
recomputes it for new inputs instead of baking in a constant.
"""

import math
import numbers
from operator import mul

from autograd import Parameter, Value, take

from .losses import _exp as exp
from .losses import _largest as _shift  # the largest logit: the operation max_shift on Values
from .losses import max_shift  # noqa: F401 (softmax's shift, defined once with cross_entropy's)
from .losses import _log as log
from .losses import _relu as relu
from .checks import flag, short as _short
from .module import Module, _check_size, register, rng_from


# ---- arithmetic on Values and floats alike ----------------------------------------------------------
def total(terms):
    """``terms[0] + terms[1] + ...``, added left to right.

    On `Value`s it is one ``+`` node with every term as a parent (`Value.sum`); on floats a plain
    loop, which rounds exactly as that node does (Python's ``sum()`` of floats is compensated from
    3.12 on, and would not).
    """
    terms = list(terms)
    if isinstance(terms[0], Value):
        return Value.sum(terms)
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out


def dot(w, x):
    """``w[0]*x[0] + w[1]*x[1] + ...``: one similarity score, or one output of a linear layer."""
    return total(map(mul, w, x))


def _log_normalizer(z):
    """``(shifted, log_total)``: each logit minus the largest, and log Σ exp(shifted)."""
    shift = _shift(z)
    shifted = [zi - shift for zi in z]
    return shifted, log(total([exp(s) for s in shifted]))


def softmax(logits):
    """``exp(z_i) / Σ_j exp(z_j)`` for a list of logits: probabilities that add up to 1.

    Computed on ``z - max(z)`` (see `max_shift`), so logits of ±1000 neither overflow nor lose the
    answer. Its gradient: d p_i / d z_j = p_i (δ_ij - p_j)."""
    z = _logits(logits, "softmax")
    shift = _shift(z)
    e = [exp(zi - shift) for zi in z]
    s = total(e)
    return [ei / s for ei in e]


def log_softmax(logits):
    """``log softmax(z)_i = z_i - log Σ_j exp(z_j)``, computed stably (on ``z - max(z)``).

    ``-log_softmax(z)[target]`` is the cross-entropy loss of predicting ``target``; its gradient
    with respect to the logits is ``softmax(z) - onehot(target)``."""
    shifted, log_total = _log_normalizer(_logits(logits, "log_softmax"))
    return [s - log_total for s in shifted]


def _logits(logits, who):
    if not isinstance(logits, (list, tuple)) or not logits:
        raise TypeError(f"{who} takes a non-empty list of logits (numbers or Values), got {_short(logits)}")
    return logits


# ---- the float path: the same code on float weights -----------------------------------------------
def float_twin(module):
    """A copy of ``module`` whose parameters are plain floats (their values now), in eval mode.

    Calling it runs the module's own forward on floats: the same numbers as the graph path, with no
    graph and many times faster. Read the weights again (call this again) after training steps.
    """
    memo = {}

    def copy(item):
        if isinstance(item, Value):
            return item.data
        if isinstance(item, (list, tuple)):
            return type(item)(copy(element) for element in item)
        if isinstance(item, dict):
            return {key: copy(value) for key, value in item.items()}
        if isinstance(item, Module):
            if id(item) not in memo:
                twin = object.__new__(type(item))
                memo[id(item)] = twin
                twin.__dict__.update({key: copy(value) for key, value in vars(item).items()})
                twin.training = False
            return memo[id(item)]
        return item

    return copy(module)


class Floatable(Module):
    """A module whose forward is plain arithmetic that runs on floats too: its float path is its
    own forward run on a `float_twin`."""

    def float_function(self):
        return float_twin(self)


# ---- checking inputs --------------------------------------------------------------------------------
def _vector(x, n, who):
    if not isinstance(x, (list, tuple)):
        raise TypeError(f"{who} takes a list of {n} numbers (a vector), got {type(x).__name__}: {_short(x)}")
    if len(x) != n:
        raise ValueError(f"{who} takes a vector of {n} numbers, got {len(x)}: {_short(x)}")
    return x


def _check_std(std, what):
    if std is None:
        return None
    if isinstance(std, bool) or not isinstance(std, numbers.Real) or not math.isfinite(std) or std < 0:
        raise ValueError(f"{what} std must be a finite number >= 0 (or None for the default), got {std!r}")
    return float(std)


def _check_eps(eps, who):
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not math.isfinite(eps) or eps <= 0:
        raise ValueError(f"{who} eps must be a small positive number (e.g. 1e-5), got {eps!r}")
    return float(eps)


def _matrix(rows, cols, draw):
    """``rows`` lists of ``cols`` Parameters, drawn row by row."""
    return [[Parameter(draw()) for _ in range(cols)] for _ in range(rows)]


# ---- blocks ------------------------------------------------------------------------------------------
@register
class Linear(Floatable):
    """``y = W x + b``: ``nout`` outputs, each a weighted sum of the ``nin`` inputs plus a bias.

    ``weight`` holds ``nout`` rows of ``nin`` `Parameter`s (PyTorch's layout), ``bias`` ``nout``
    Parameters, or None with ``bias=False`` (as in microgpt and in GPT-2's successors). Weights
    start as PyTorch's do, uniform in ±1/√nin, or Gaussian with standard deviation ``std``; biases
    start at 0. Takes a vector, returns a vector.
    """

    def __init__(self, nin, nout, bias=True, std=None, seed=None):
        super().__init__()
        self.nin = _check_size(nin, "Linear nin")
        self.nout = _check_size(nout, "Linear nout")
        self.std = _check_std(std, "Linear")
        bias = flag(bias, "Linear bias")
        rng = rng_from(seed)
        if self.std is None:
            bound = 1.0 / math.sqrt(nin)
            self.weight = _matrix(nout, nin, lambda: rng.uniform(-bound, bound))
        else:
            self.weight = _matrix(nout, nin, lambda: rng.gauss(0.0, self.std))
        self.bias = [Parameter(0.0) for _ in range(nout)] if bias else None

    def forward(self, x):
        x = _vector(x, self.nin, self.name)
        if self.bias is None:
            return [dot(row, x) for row in self.weight]
        return [total([b, *map(mul, row, x)]) for row, b in zip(self.weight, self.bias)]

    def extra_repr(self):
        return f"{self.nin}, {self.nout}{'' if self.bias is not None else ', bias=False'}"

    def config(self):
        return {"type": "Linear", "nin": self.nin, "nout": self.nout, "bias": self.bias is not None}

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``Linear(**config)``, counted without building it (see `nn.module.register`)."""
        nin, nout = _check_size(config["nin"], "Linear nin"), _check_size(config["nout"], "Linear nout")
        _check_std(config["std"], "Linear")
        return nout * nin + (nout if flag(config["bias"], "Linear bias") else 0)


@register
class Embedding(Floatable):
    """A table of ``num`` learned vectors of ``dim`` numbers: ``emb(i)`` is row ``i`` of ``weight``.

    The same as a `Linear` layer without bias applied to a one-hot vector (1 at ``i``), without the
    multiplications by zero: only the row looked up gets a gradient. Rows start Gaussian with
    standard deviation ``std`` (1, as in PyTorch)."""

    def __init__(self, num, dim, std=1.0, seed=None):
        super().__init__()
        self.num = _check_size(num, "Embedding num")
        self.dim = self.nout = _check_size(dim, "Embedding dim")
        self.std = _check_std(std, "Embedding")
        rng = rng_from(seed)
        self.weight = _matrix(num, dim, lambda: rng.gauss(0.0, self.std))

    def forward(self, index):
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < self.num:
            raise IndexError(f"{self.name} has rows 0..{self.num - 1}; got {index!r}")
        return list(take(self.weight, index))  # a lookup compiled code repeats for each token

    def extra_repr(self):
        return f"{self.num}, {self.dim}"

    def config(self):
        return {"type": "Embedding", "num": self.num, "dim": self.dim}

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``Embedding(**config)``, counted without building it."""
        _check_std(config["std"], "Embedding")
        return _check_size(config["num"], "Embedding num") * _check_size(config["dim"], "Embedding dim")


@register
class RMSNorm(Floatable):
    """``x_i / √(mean(x²) + eps)``: the vector rescaled to a root-mean-square of 1.

    Keeps the numbers entering each block at the same size however the residual stream grows. With
    ``elementwise_affine=True`` (PyTorch's default) each channel is then multiplied by a learned
    ``weight`` (starting at 1); microgpt's GPT uses it without."""

    def __init__(self, dim, eps=1e-5, elementwise_affine=True, seed=None):
        super().__init__()
        self.dim = self.nin = self.nout = _check_size(dim, "RMSNorm dim")
        self.eps = _check_eps(eps, "RMSNorm")
        affine = flag(elementwise_affine, "RMSNorm elementwise_affine")
        self.weight = [Parameter(1.0) for _ in range(dim)] if affine else None

    def forward(self, x):
        x = _vector(x, self.dim, self.name)
        mean_square = total([xi * xi for xi in x]) / self.dim
        scale = (mean_square + self.eps) ** -0.5
        out = [xi * scale for xi in x]
        if self.weight is not None:
            out = [o * w for o, w in zip(out, self.weight)]
        return out

    def extra_repr(self):
        return f"{self.dim}, eps={self.eps}{'' if self.weight is not None else ', elementwise_affine=False'}"

    def config(self):
        return {"type": "RMSNorm", "dim": self.dim, "eps": self.eps, "elementwise_affine": self.weight is not None}

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``RMSNorm(**config)``, counted without building it."""
        dim = _check_size(config["dim"], "RMSNorm dim")
        _check_eps(config["eps"], "RMSNorm")
        return dim if flag(config["elementwise_affine"], "RMSNorm elementwise_affine") else 0


@register
class LayerNorm(Floatable):
    """``(x_i - mean(x)) / √(var(x) + eps)``: the vector centred and rescaled to variance 1.

    GPT-2's normalisation (RMSNorm drops the centring). With ``elementwise_affine=True`` each
    channel is then scaled by a learned ``weight`` (from 1) and shifted by a learned ``bias`` (from
    0, unless ``bias=False``), as in PyTorch."""

    def __init__(self, dim, eps=1e-5, elementwise_affine=True, bias=True, seed=None):
        super().__init__()
        self.dim = self.nin = self.nout = _check_size(dim, "LayerNorm dim")
        self.eps = _check_eps(eps, "LayerNorm")
        affine, bias = flag(elementwise_affine, "LayerNorm elementwise_affine"), flag(bias, "LayerNorm bias")
        self.weight = [Parameter(1.0) for _ in range(dim)] if affine else None
        self.bias = [Parameter(0.0) for _ in range(dim)] if affine and bias else None

    def forward(self, x):
        x = _vector(x, self.dim, self.name)
        mean = total(x) / self.dim
        centred = [xi - mean for xi in x]
        variance = total([c * c for c in centred]) / self.dim
        scale = (variance + self.eps) ** -0.5
        out = [c * scale for c in centred]
        if self.weight is not None:
            out = [o * w for o, w in zip(out, self.weight)]
        if self.bias is not None:
            out = [o + b for o, b in zip(out, self.bias)]
        return out

    def extra_repr(self):
        affine = "" if self.weight is not None else ", elementwise_affine=False"
        bias = ", bias=False" if self.weight is not None and self.bias is None else ""
        return f"{self.dim}, eps={self.eps}{affine}{bias}"

    def config(self):
        return {
            "type": "LayerNorm",
            "dim": self.dim,
            "eps": self.eps,
            "elementwise_affine": self.weight is not None,
            "bias": self.bias is not None,
        }

    @classmethod
    def layout_size(cls, config):
        """The parameters of ``LayerNorm(**config)``, counted without building it."""
        dim = _check_size(config["dim"], "LayerNorm dim")
        _check_eps(config["eps"], "LayerNorm")
        affine, bias = flag(config["elementwise_affine"], "LayerNorm elementwise_affine"), flag(config["bias"], "LayerNorm bias")
        return dim * affine + dim * (affine and bias)
