"""Modules: `Neuron`, `Layer`, `MLP`, and the pieces for deeper networks (`Sequential`, `Residual`,
`Dropout`).

Every module has two ways to compute:

- ``model(x)`` builds a graph of `Value`s, so ``loss.backward()`` can fill every gradient. While a
  module computes it tags what it creates with ``autograd.scope(module.name)``, so a value made in
  neuron 3 of layer 0 of an MLP carries ``_scope == ("MLP", "Layer 0", "Neuron 3")`` and a drawing
  of the graph can group nodes by module. ``model.forward_batch(X)`` builds the same graph for a
  whole batch at once (each scope entered once per batch rather than once per example).
- ``model.forward_floats(x)`` computes the same numbers on plain floats, with no graph. It is what
  ``predict``, ``accuracy`` and decision-boundary plots use, and it is many times faster.
  ``model.float_function()`` returns it as a function with the current weights captured, which is
  the fast way to evaluate many points.
"""

import inspect
import math
import numbers
import random
from operator import mul

from autograd import Constant, Drawn, Parameter, Value, no_grad, scope

from .activations import ACTIVATIONS, VALUE_ACTIVATIONS
from .checks import short as _short
from .float_path import layer_function
from autograd.interrupts import deferred_interrupts

INITS = ("uniform", "xavier", "kaiming")

def manual_seed(seed):
    """Seed the generator every module uses when it is given no ``seed=`` of its own: Python's
    global `random` generator, so this is ``random.seed(seed)`` (with an int check).

    As in micrograd, ``random.seed(1337)`` (or ``manual_seed(1337)``) before building a model makes
    a script build the same model (and draw the same dropout masks) on every run.
    """
    random.seed(_int_seed(seed))


def _int_seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}: {_short(seed)}")
    return int(seed)


def rng_from(seed):
    """A generator from ``seed``: an int (a new `random.Random`), a `random.Random` (used as is) or
    None (Python's global `random`, which ``random.seed`` and `manual_seed` set)."""
    if seed is None or seed is random:
        return random
    if isinstance(seed, random.Random):
        return seed
    return random.Random(_int_seed(seed))


def _check_choice(value, choices, what):
    if value not in choices:
        raise ValueError(f"unknown {what} {_short(value)}; choose one of: {', '.join(choices)}")
    return value


NONLIN = {True: "relu", False: "linear"}  # micrograd's Neuron(nin, nonlin=...): True is ReLU


def _activation_of(activation, nonlin):
    """The activation name from ``activation`` (None: tanh) and micrograd's ``nonlin`` keyword
    (True: relu, False: linear); a bool given as ``activation`` is micrograd's ``nonlin`` given by
    position, as in ``Neuron(2, False)``."""
    if isinstance(activation, bool):
        if nonlin is not None and nonlin is not activation:
            raise ValueError(f"nonlin given twice, as {activation} and as {nonlin!r}; give it once")
        activation, nonlin = None, activation
    if nonlin is None:
        return _check_choice("tanh" if activation is None else activation, ACTIVATIONS, "activation")
    if not isinstance(nonlin, bool):
        raise TypeError(f"nonlin must be True (ReLU, as in micrograd) or False (linear), got {_short(nonlin)}")
    implied = NONLIN[nonlin]
    if activation is not None and activation != implied:
        raise ValueError(
            f"nonlin={nonlin} means activation={implied!r} (micrograd's meaning), but activation={activation!r} "
            "was given too; give one of them"
        )
    return implied


def _check_size(n, what):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"{what} must be a positive int, got {_short(n)}")
    return int(n)


def _draw(init, fan_in, rng):
    """One initial weight. ``uniform`` is U(-1, 1) as in micrograd; the others scale by fan-in so
    the signal keeps its size through deep networks: ``xavier`` keeps Var(w) = 1/fan_in (suits
    tanh/sigmoid), ``kaiming`` keeps Var(w) = 2/fan_in (suits relu)."""
    if init == "uniform":
        return rng.uniform(-1.0, 1.0)
    bound = math.sqrt((3.0 if init == "xavier" else 6.0) / fan_in)
    return rng.uniform(-bound, bound)


# ---- inputs -------------------------------------------------------------------------------------
def _as_list(x, nin, who):
    if isinstance(x, (Value, numbers.Real)) and not isinstance(x, bool):
        x = [x]
    elif not isinstance(x, list):
        if isinstance(x, (str, bytes, dict)):
            raise TypeError(f"{who} takes a list of {nin} numbers, got {type(x).__name__}: {x!r}")
        try:
            x = list(x)
        except TypeError:
            raise TypeError(f"{who} takes a list of {nin} numbers, got {type(x).__name__}: {x!r}") from None
    if len(x) != nin:
        raise ValueError(f"{who} takes {nin} input{'s' if nin != 1 else ''}, got {len(x)}: {_short(x)}")
    return x


def _as_values(x, nin, who):
    """The inputs as `Value`s: numbers become `Constant` leaves (data, not trainable), once."""
    return [xi if isinstance(xi, Value) else Constant(xi) for xi in _checked(x, nin, who)]


def _as_floats(x, nin, who):
    """The inputs as floats, refused exactly as `_as_values` refuses them."""
    return [float(xi) for xi in _checked(x, nin, who)]


def _checked(x, nin, who):
    x = _as_list(x, nin, who)
    for i, xi in enumerate(x):
        if not isinstance(xi, (Value, numbers.Real)) or isinstance(xi, bool):
            raise TypeError(f"{who}: input {i} must be a number or a Value, got {type(xi).__name__}: {_short(xi)}")
    return x


# ---- the base class -----------------------------------------------------------------------------
class Module:
    """Base of every network piece.

    A subclass stores its `Parameter`s and sub-modules as attributes (alone, in lists or in dicts) and
    defines ``forward(x)`` on `Value`s; ``parameters()``, ``named_parameters()``, ``zero_grad()``,
    ``train()``/``eval()``, ``state_dict()`` and saving then work without more code. To have the
    fast float path too, define ``float_function()``.

    ``name`` is the scope tag of what the module computes (the class name unless a parent module
    names it, e.g. ``"Layer 0"``).
    """

    name = "Module"
    training = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.name = cls.__name__  # the default scope name, even if a subclass skips __init__

    def __init__(self):
        self.name = type(self).__name__
        self.training = True

    # ---- computing ----
    def __call__(self, *args, **kwargs):
        with scope(self.name):
            return self.forward(*args, **kwargs)

    def forward(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define forward(x)")

    def forward_batch(self, X):
        """``[self(x) for x in X]``: the same graph, values and scopes, built faster where a module
        can enter its scopes once per batch instead of once per example (as `Layer` does)."""
        with scope(self.name):
            return self._forward_batch(X)

    def _forward_batch(self, X):
        return [self.forward(x) for x in X]

    def float_function(self):
        """A plain function ``f(x)`` that computes this module's output on floats, building no graph.

        The weights are read now: call it again after training steps. Dropout is off in it (it
        always computes as in ``eval()`` mode). Modules that do not define their own fall back to
        running ``self(x)`` under ``no_grad()`` (correct, but without the speed-up).
        """
        # A module without its own float path: run the graph path with no graph recorded.
        def f(x):
            was_training = self.training
            self.eval()
            try:
                with no_grad():
                    out = self(x)
            finally:
                self.train(was_training)
            return [float(v) for v in out] if isinstance(out, (list, tuple)) else float(out)

        return f

    def forward_floats(self, x):
        """This module's output for one input on plain floats: same numbers as ``self(x)``, no graph."""
        return self.float_function()(x)

    def predict(self, X):
        """The outputs for every row of ``X`` on plain floats: a float per row for a model with one
        output, a list of floats otherwise."""
        f = self.float_function()
        return [f(x) for x in X]

    def accuracy(self, X, y, threshold=0.0):
        """The fraction of rows of ``X`` classified as ``y`` says, computed on plain floats.

        One output: the class is positive when the score is above ``threshold`` (0 for logits and
        margins; use 0.5 for a model trained with mse on 0/1 labels); a label counts as positive
        when it is > 0, so labels may be 0/1 or -1/+1. Several outputs: the class is the index of
        the largest.
        """
        from .train import accuracy

        return accuracy(self, X, y, threshold=threshold)

    # ---- structure ----
    def named_children(self):
        """(attribute name, module) for each direct sub-module, lists and dicts expanded as
        ``name.i`` and ``name.key``; a module held twice is listed twice (see ``modules()``)."""
        for key, item in vars(self).items():
            for name, element in _expand(key, item):
                if isinstance(element, Module):
                    yield name, element

    def modules(self):
        """This module and every module inside it, parents before children, each once (a module
        used in two places, as in weight sharing, is listed where it is first met)."""
        seen = set()
        stack = [self]
        while stack:
            module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield module
            stack.extend(reversed([child for _, child in module.named_children()]))

    def named_parameters(self):
        """(dotted name, parameter) pairs, e.g. ``("layers.0.neurons.3.w.1", p)``, in a fixed order.

        Lists and dicts are expanded, nested ones too: a weight matrix stored as a list of rows
        gives ``("weight.2.5", p)`` for row 2, column 5, and modules kept in a dict ``parts`` give
        ``("parts.encoder.w.0", p)``. As in PyTorch, a parameter (or a module) met twice, as when
        one layer is used in two places, is listed once, under the name it is first met by."""
        seen_modules, seen = set(), set()
        stack = [("", self)]
        while stack:
            prefix, module = stack.pop()
            if id(module) in seen_modules:
                continue
            seen_modules.add(id(module))
            children = []
            for key, item in vars(module).items():
                for name, element in _expand(prefix + key, item):
                    if isinstance(element, Parameter):
                        if element not in seen:
                            seen.add(element)
                            yield name, element
                    elif isinstance(element, Module):
                        children.append((name + ".", element))
            stack.extend(reversed(children))

    def parameters(self):
        """Every trainable `Parameter`, in the order of ``named_parameters()``, each once."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self):
        """How many scalars training adjusts (a shared one counts once)."""
        return sum(1 for _ in self.named_parameters())

    def zero_grad(self):
        """Set every parameter's ``.grad`` to 0.0 (gradients add up across ``backward()`` calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def train(self, mode=True):
        """Switch this module and its sub-modules to training mode (Dropout active). Returns self."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self):
        """Switch to evaluation mode (Dropout passes values through). Returns self."""
        return self.train(False)

    # ---- saving ----
    def state_dict(self):
        """Every parameter's value by dotted name, as plain floats (a copy)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state):
        """Set the parameters from ``state`` (as made by ``state_dict()``).

        Every name must match and every value must be a finite number; otherwise a ValueError
        says what is wrong and no parameter changes (nor does Ctrl-C leave it half loaded).
        """
        from .serialize import check_state

        values = check_state(self, state)
        with deferred_interrupts():  # Ctrl-C meanwhile waits: a model is never half loaded
            for p, value in zip(self.parameters(), values):
                p.data = value

    def save(self, path):
        """Write the model (its layout and weights) to ``path`` as JSON; see `nn.serialize`."""
        from .serialize import save

        save(self, path)

    def load(self, path):
        """Read weights saved by ``save()`` into this model; a bad file changes nothing."""
        from .serialize import load_into

        load_into(self, path)
        return self

    def config(self):
        """The arguments that rebuild this module's layout (used when saving)."""
        raise NotImplementedError(f"{type(self).__name__} does not describe its layout; define config()")

    # ---- display ----
    def extra_repr(self):
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        extra = self.extra_repr()
        count = f"{self.num_parameters()} parameters"
        lines = [f"{type(self).__name__}({extra + ', ' if extra else ''}{count}):"]
        for key, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({key}): {body}")
        return "\n".join(lines)


def _expand(name, item):
    """``(name, item)``, or for a list or tuple ``(name.i, element)`` for each element and for a
    dict ``(name.key, value)`` for each entry, nested ones too, in order (a container that holds
    itself is expanded once)."""
    if not isinstance(item, (list, tuple, dict)):
        yield name, item
        return
    stack = [(name, item)]
    expanded = set()
    while stack:
        name, item = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if id(item) in expanded:
                continue
            expanded.add(id(item))
            entries = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend(reversed([(f"{name}.{key}", element) for key, element in entries]))
        else:
            yield name, item


def _name_children(modules):
    for i, module in enumerate(modules):
        module.name = f"{type(module).__name__} {i}"


# ---- neurons, layers, MLPs ----------------------------------------------------------------------
class Neuron(Module):
    """One neuron: ``activation(b + w·x)``. Weights ``w`` (one per input) and the bias ``b`` are
    `Parameter`s; the bias starts at 0, the weights as ``init`` says (see `MLP`).

    ``activation`` is ``"tanh"`` unless given; micrograd's ``Neuron(nin, nonlin=True)`` works too:
    ``nonlin=True`` is ReLU and ``nonlin=False`` linear, as in micrograd."""

    def __init__(self, nin, activation=None, init="uniform", seed=None, nonlin=None):
        super().__init__()
        self.nin = _check_size(nin, "Neuron nin")
        self.nout = 1
        self.activation = _activation_of(activation, nonlin)
        self.init = _check_choice(init, INITS, "init")
        rng = rng_from(seed)
        self.w = [Parameter(_draw(init, self.nin, rng)) for _ in range(self.nin)]
        self.b = Parameter(0.0)

    def forward(self, x):
        return self._forward(_as_values(x, self.nin, self.name))

    def _forward(self, xs):
        # b + w0*x0 + w1*x1 + ...: one "+" node over the bias and the products
        act = Value.sum([self.b, *map(mul, self.w, xs)])
        f = VALUE_ACTIVATIONS[self.activation]
        return act if f is None else f(act)

    def float_function(self):
        return _layer_function([self], self.activation, self.name)

    def extra_repr(self):
        return f"{self.nin}, activation={self.activation!r}"

    def config(self):
        return {"type": "Neuron", "nin": self.nin, "activation": self.activation}


def _layer_function(neurons, activation, who):
    """The float forward of these neurons with their current weights (see `nn.float_path`)."""
    nin = len(neurons[0].w)
    return layer_function(
        [[w.data for w in n.w] for n in neurons],
        [n.b.data for n in neurons],
        activation,
        lambda x: _as_floats(x, nin, who),
    )


class Layer(Module):
    """``nout`` neurons that all see the same inputs. Returns one `Value` when ``nout == 1``, a
    list otherwise. ``activation`` and ``nonlin`` as for `Neuron`."""

    def __init__(self, nin, nout, activation=None, init="uniform", seed=None, nonlin=None):
        super().__init__()
        self.nin = _check_size(nin, "Layer nin")
        self.nout = _check_size(nout, "Layer nout")
        self.activation = _activation_of(activation, nonlin)
        self.init = _check_choice(init, INITS, "init")
        rng = rng_from(seed)
        self.neurons = [Neuron(self.nin, self.activation, init, rng) for _ in range(self.nout)]
        _name_children(self.neurons)

    def forward(self, x):
        xs = _as_values(x, self.nin, self.name)
        out = []
        for neuron in self.neurons:
            with scope(neuron.name):
                out.append(neuron._forward(xs))
        return out[0] if len(out) == 1 else out

    def _forward_batch(self, X):
        rows = [_as_values(x, self.nin, self.name) for x in X]
        outs = [[] for _ in rows]
        for neuron in self.neurons:
            with scope(neuron.name):  # once per neuron for the whole batch
                compute = neuron._forward
                for out, xs in zip(outs, rows):
                    out.append(compute(xs))
        return [out[0] if len(out) == 1 else out for out in outs]

    def float_function(self):
        return _layer_function(self.neurons, self.activation, self.name)

    def extra_repr(self):
        return f"{self.nin}, {self.nout}, activation={self.activation!r}"

    def config(self):
        return {"type": "Layer", "nin": self.nin, "nout": self.nout, "activation": self.activation}

    def __repr__(self):  # a layer's neurons all look alike: one line says it all
        return f"Layer({self.extra_repr()})"


class Sequential(Module):
    """Modules applied one after another: the output of each is the input of the next.

    ``Sequential(Layer(2, 16, "relu"), Dropout(0.1), Layer(16, 1, "linear"))``. The modules are
    in ``layers`` and named ``"Layer 0"``, ``"Dropout 1"``, ... for the graph's scopes.
    """

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError(f"{type(self).__name__} needs at least one module")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"{type(self).__name__} item {i} must be a Module, got {type(layer).__name__}")
        self.layers = list(layers)
        _name_children(self.layers)
        self.nin = next((m.nin for m in self.layers if hasattr(m, "nin")), None)
        self.nout = next((m.nout for m in reversed(self.layers) if hasattr(m, "nout")), None)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def _forward_batch(self, X):
        for layer in self.layers:
            X = layer.forward_batch(X)
        return X

    def float_function(self):
        fs = [layer.float_function() for layer in self.layers]

        def f(x):
            for g in fs:
                x = g(x)
            return x

        return f

    def forward_floats_by_layer(self, x):
        """Every layer's output for one input, on plain floats: ``[out_0, out_1, ...]`` (the last is
        ``forward_floats(x)``), e.g. to draw what each neuron responds to."""
        outputs = []
        for layer in self.layers:
            x = layer.forward_floats(x)
            outputs.append(x)
        return outputs

    def __len__(self):
        return len(self.layers)

    def __getitem__(self, i):
        return self.layers[i]

    def config(self):
        return {"type": "Sequential", "layers": [layer.config() for layer in self.layers]}


class MLP(Sequential):
    """A multi-layer perceptron: ``MLP(3, [4, 4, 1])`` has 3 inputs, two hidden layers of 4 and one
    output.

    Hidden layers use ``activation`` (``"tanh"`` as in the lecture; also ``"relu"``, ``"sigmoid"``,
    ``"leaky_relu"``, ``"linear"``); the output layer uses ``output``: ``"linear"`` by default, as
    in micrograd, so scores and logits are not squashed; ``output="tanh"`` is the lecture's network,
    whose output neurons are tanh neurons too. ``init="uniform"`` draws weights
    from U(-1, 1) like micrograd; ``"xavier"`` and ``"kaiming"`` scale them by fan-in for deeper
    networks. ``seed`` (an int) makes the weights repeatable; without it the generator set by
    ``nn.manual_seed`` is used. Calling it returns one `Value` when the last layer has one output,
    a list otherwise.
    """

    def __init__(self, nin, nouts, activation="tanh", init="uniform", seed=None, output="linear"):
        nin = _check_size(nin, "MLP nin")
        if isinstance(nouts, numbers.Integral) and not isinstance(nouts, bool):
            nouts = [nouts]
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, e.g. [16, 16, 1], got {_short(nouts)}")
        nouts = [_check_size(n, "each MLP layer size") for n in nouts]
        _check_choice(activation, ACTIVATIONS, "activation")
        _check_choice(output, ACTIVATIONS, "output activation")
        _check_choice(init, INITS, "init")
        rng = rng_from(seed)
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        super().__init__(
            [Layer(sizes[i], sizes[i + 1], activation if i < last else output, init, rng) for i in range(len(nouts))]
        )
        self.activation = activation
        self.output = output
        self.init = init

    def extra_repr(self):
        nouts = [layer.nout for layer in self.layers]
        out = "" if self.output == "linear" else f", output={self.output!r}"
        return f"{self.nin}, {nouts}, activation={self.activation!r}{out}"

    def config(self):
        return {
            "type": "MLP",
            "nin": self.nin,
            "nouts": [layer.nout for layer in self.layers],
            "activation": self.activation,
            "output": self.output,
        }


# ---- building blocks for deeper networks --------------------------------------------------------
class Dropout(Module):
    """Sets each input to 0 with probability ``p`` while training and scales the rest by 1/(1-p),
    so the expected output equals the input; in ``eval()`` mode (and on the float path) it passes
    values through unchanged."""

    def __init__(self, p=0.5, seed=None):
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout p is the probability of dropping a value: 0 <= p < 1, got {p!r}")
        self.p = float(p)
        self.rng = rng_from(seed)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        if isinstance(x, (Value, numbers.Real)):
            return x * self._mask(x)
        return [xi * self._mask(xi) for xi in x]

    def _mask(self, x):
        # a Drawn constant for a Value: a compiled training step draws it anew on every call
        return Drawn(self._draw) if isinstance(x, Value) else self._draw()

    def _draw(self):
        return 0.0 if self.rng.random() < self.p else 1.0 / (1.0 - self.p)

    def float_function(self):
        return lambda x: x

    def extra_repr(self):
        return f"p={self.p}"

    def config(self):
        return {"type": "Dropout", "p": self.p}


class Residual(Module):
    """``x + block(x)``: the block learns a change to its input, and the gradient reaches earlier
    layers through the ``+`` unchanged, which keeps deep networks trainable. The block must return
    as many values as it takes."""

    def __init__(self, block):
        super().__init__()
        if not isinstance(block, Module):
            raise TypeError(f"Residual takes a Module, got {type(block).__name__}")
        nin, nout = getattr(block, "nin", None), getattr(block, "nout", None)
        if nin is not None and nout is not None and nin != nout:
            raise ValueError(f"Residual needs a block that keeps the size, but it maps {nin} inputs to {nout} outputs")
        self.block = block
        _name_children([block])
        self.nin = self.nout = nin

    def forward(self, x):
        return _add(x, self.block(x), self.name)

    def _forward_batch(self, X):
        return [_add(x, fx, self.name) for x, fx in zip(X, self.block.forward_batch(X))]

    def float_function(self):
        g = self.block.float_function()
        return lambda x: _add(x, g(x), self.name)

    def config(self):
        return {"type": "Residual", "block": self.block.config()}


def _add(x, fx, who):
    if not isinstance(x, (list, tuple)):
        if isinstance(fx, (list, tuple)):
            if len(fx) != 1:
                raise ValueError(f"{who}: the block returned {len(fx)} values for 1 input")
            fx = fx[0]
        return x + fx
    if not isinstance(fx, (list, tuple)):
        fx = [fx]
    if len(fx) != len(x):
        raise ValueError(f"{who}: the block returned {len(fx)} values for {len(x)} inputs; they must match")
    return [a + b for a, b in zip(x, fx)]


MODULES = {cls.__name__: cls for cls in (Neuron, Layer, Sequential, MLP, Dropout, Residual)}
BUILT_IN = frozenset(MODULES)
MAX_DEPTH = 100  # modules inside modules, in a layout read from a file


def layout_size(config):
    """The number of parameters of the module ``config`` describes (as ``module.config()`` writes
    it), found without building anything. A ValueError says what is wrong with a description no
    module could have written (a setting its constructor does not take included). `nn.load`
    compares this number with the weights a file holds before it builds the model, so a small file
    cannot make it allocate a huge network.

    A registered module type (`register`) is counted by its class's own ``layout_size(config)``
    (given the description with its defaults filled in, see `complete`), if it has one; if a part
    has none, the answer is None (unknown)."""
    total = 0
    known = True
    stack = [(config, 1)]
    while stack:
        item, depth = stack.pop()
        kind = item.get("type") if isinstance(item, dict) else None
        if not isinstance(kind, str) or kind not in MODULES:
            raise ValueError(f"not a module description: {_short(item)}")
        if depth > MAX_DEPTH:
            raise ValueError(f"modules are nested more than {MAX_DEPTH} deep")
        item = complete(item)
        try:
            if kind not in BUILT_IN:
                count = getattr(MODULES[kind], "layout_size", None)
                if count is None:
                    known = False
                else:
                    try:
                        size = count(item)
                    except TypeError as error:  # a setting of the wrong type, as the constructor says it
                        raise ValueError(str(error)) from None
                    total += _check_count(size, kind)
            elif kind == "Dropout":
                Dropout(item["p"])  # checks p; a Dropout has no parameters
            elif kind == "Residual":
                stack.append((item["block"], depth + 1))
            elif kind == "Sequential":
                layers = item["layers"]
                if not isinstance(layers, list) or not layers:
                    raise ValueError(f"a Sequential's layers must be a non-empty list, got {_short(layers)}")
                stack.extend((layer, depth + 1) for layer in layers)
            else:
                nin = _check_size(item["nin"], f"{kind} nin")
                if kind == "MLP":
                    nouts = item["nouts"]
                    if not isinstance(nouts, list) or not nouts:
                        raise ValueError(f"MLP nouts must be a non-empty list of layer sizes, got {_short(nouts)}")
                    sizes = [_check_size(n, "each MLP layer size") for n in nouts]
                    _check_name(item["output"], "output activation")
                    _check_name(item["activation"], "activation")
                else:
                    sizes = [1 if kind == "Neuron" else _check_size(item["nout"], "Layer nout")]
                    if item["activation"] is not None:  # None: tanh, as the constructor reads it
                        _check_name(item["activation"], "activation")
                for n in sizes:
                    total += n * (nin + 1)
                    nin = n
        except KeyError as error:
            raise ValueError(f"incomplete {kind} description: {_short(item)} (no {error})") from None
    return total if known else None


def complete(config):
    """``config`` (one level of a layout) with every keyword argument it leaves out filled in with
    the constructor's default, e.g. ``"output": "linear"`` in an MLP saved before MLP took
    ``output=``. A setting the constructor does not take raises ValueError."""
    kind = config["type"]
    names, defaults, open_ended = _signature(MODULES[kind])
    unknown = [key for key in config if key != "type" and key not in names]
    if unknown and not open_ended:
        raise ValueError(f"{kind} takes no setting {_short(unknown[0])} (its settings: {', '.join(names)})")
    return {**{key: value for key, value in defaults.items() if key not in config}, **config}


def same_layout(a, b):
    """Whether two layouts describe the same model once their defaults are filled in (`complete`)."""
    stack = [(a, b, 1)]
    while stack:
        a, b, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(a, dict) and isinstance(b, dict):
            kind = a.get("type")
            if isinstance(kind, str) and kind in MODULES and b.get("type") == kind:
                try:
                    a, b = complete(a), complete(b)
                except ValueError:
                    return False
            if a.keys() != b.keys():
                return False
            stack.extend((a[key], b[key], depth + 1) for key in a)
        elif isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return False
            stack.extend((x, y, depth + 1) for x, y in zip(a, b))
        elif a != b or type(a) is not type(b) and not (_is_number(a) and _is_number(b)):
            return False
    return True


def _is_number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _signature(cls):
    """(the keyword arguments a layout may give, {name: default}, whether it takes any keyword) for
    the constructor of ``cls``; ``seed`` is not part of a layout."""
    names, defaults, open_ended = [], {}, False
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in ("self", "seed"):
            continue
        if parameter.kind is parameter.VAR_KEYWORD:
            open_ended = True
            continue
        names.append(name)
        if parameter.default is not parameter.empty:
            defaults[name] = parameter.default
    return names, defaults, open_ended


def _check_count(count, kind):
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
        raise TypeError(f"{kind}.layout_size() must return a number of parameters (an int >= 0), got {_short(count)}")
    return int(count)


def _check_name(value, what):
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a name, one of: {', '.join(ACTIVATIONS)}; got {_short(value)}")
    return _check_choice(value, ACTIVATIONS, what)


def register(cls):
    """Let `from_config` (and so `nn.load`) rebuild modules of class ``cls``, whose ``config()`` is
    ``{"type": class name, **the constructor's keyword arguments}`` and whose constructor takes
    ``seed=``. Returns ``cls``, so it works as a class decorator.

    A classmethod ``layout_size(config)`` that returns how many parameters such a description has
    (without building it; ``config`` has every default filled in, see `complete`, and a bad setting
    raises ValueError) lets `nn.load` refuse a file that does not hold them before it builds
    anything, as every module type of `nn` does; without one, `nn.load` builds only layouts in
    which no number exceeds the count of weights in the file."""
    MODULES[cls.__name__] = cls
    return cls


def from_config(config, seed=0):
    """Build a module from the description ``module.config()`` returns (checked whole first, by
    `layout_size`).

    Its weights are placeholders (a loaded file replaces them), drawn from their own generator
    (``seed``), so building one never moves the global generator that ``random.seed`` seeded.
    """
    layout_size(config)
    return _build(config, rng_from(seed))


def _build(config, rng):
    kind = config["type"]
    if kind == "Neuron":
        return Neuron(config["nin"], config["activation"], seed=rng)
    if kind == "Layer":
        return Layer(config["nin"], config["nout"], config["activation"], seed=rng)
    if kind == "MLP":
        return MLP(config["nin"], config["nouts"], config["activation"], seed=rng, output=config.get("output", "linear"))
    if kind == "Dropout":
        return Dropout(config["p"])
    if kind == "Residual":
        return Residual(_build(config["block"], rng))
    if kind == "Sequential":
        return Sequential([_build(layer, rng) for layer in config["layers"]])
    # a registered module: config() holds its keyword arguments
    return MODULES[kind](**{key: value for key, value in config.items() if key != "type"}, seed=rng)
