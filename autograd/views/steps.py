"""The forward and backward passes as lists of steps that explain themselves.

`backward_steps(root)` records what `backward()` would do, node by node, without touching any
``.grad``: the same order (``topological_order``, reversed) and the same local derivatives
(``LOCAL``), so the gradients after the last step are exactly the ones `backward()` leaves behind.
`forward_steps(root)` lists the values in the order they were computed. Printing a list of steps
gives a table; the stepper and `save_steps` draw them frame by frame.
"""

from collections.abc import Sequence

from ..graph import _backward_error, topological_order
from ..value import Constant, Value, local_grads

# How each op's local derivative reads, in terms of its parents ({0}, {1}) and its output ({out}).
# Only words for the learner: the numbers always come from LOCAL, the rule backward() uses.
_LOCAL_WORDS = {
    "+": "1",  # any number of terms, each with local derivative 1
    "-": ("1", "-1"),
    "*": ("{1}", "{0}"),
    "/": ("1/{1}", "-{out}/{1}"),
    "**": ("{1} × {0}^({1} - 1)", "{out} × log({0})"),
    "neg": ("-1",),
    "exp": ("{out}",),
    "log": ("1/{0}",),
    "sqrt": ("0.5/{out}",),
    "tanh": ("(1 - {out}²)",),
    "sigmoid": ("{out} × σ(-{0})",),
    "relu": ("[{0} > 0]",),
    "leaky_relu": ("(1 if {0} > 0 else {1})", "(0 if {0} > 0 else {0})"),
    "abs": ("sign({0})",),
    "sin": ("cos({0})",),
    "cos": ("-sin({0})",),
}
_INFIX = {"+": "+", "-": "-", "*": "×", "/": "/", "**": "**"}


def _num(x, digits):
    """A float in at most ``digits`` significant digits, always looking like a float (``6.0``)."""
    s = f"{x:.{digits}g}"
    if s.lstrip("-").isdigit():
        s += ".0"
    return s


class GradUpdate:
    """One ``parent.grad += local × upstream`` inside a backward step.

    ``before`` and ``after`` are the parent's gradient around this update, so a parent reached twice
    (``a + a``) shows its gradient as a running sum. A `Constant` parent keeps 0.0: ``dropped``.
    """

    __slots__ = ("step", "position", "parent", "local", "contribution", "before", "after")

    def __init__(self, step, position, parent, local, contribution, before, after):
        self.step = step
        self.position = position
        self.parent = parent
        self.local = local
        self.contribution = contribution
        self.before = before
        self.after = after

    @property
    def dropped(self):
        return isinstance(self.parent, Constant)

    @property
    def text(self):
        """``a.grad += b.data × e.grad = -3.0 × -2.0 = 6.0  (a.grad: 0.0 → 6.0)``"""
        step = self.step
        if step.kind in ("seed", "accumulate"):
            return step.lines[self.position]
        steps = step._steps
        node, num = step.node, steps._num
        name, out = steps.name(self.parent), steps.name(node)
        words = _LOCAL_WORDS.get(node._op) if getattr(node._op, "builtin", False) else None
        if isinstance(words, str):
            local = words
        elif words is None or len(words) != len(node._prev):
            local = f"d{out}/d{name}"
        else:
            refs = [steps.ref(p) for p in node._prev]
            local = words[self.position].format(*refs, out=steps.ref(node))
        text = (
            f"{name}.grad += {local} × {out}.grad = {num(self.local)} × {num(step.upstream)}"
            f" = {num(self.contribution)}"
        )
        if self.dropped:
            return f"{text}  ({name} is a constant: dropped)"
        return f"{text}  ({name}.grad: {num(self.before)} → {num(self.after)})"

    def __repr__(self):
        return f"<GradUpdate {self.text}>"


class Step:
    """One frame of a pass.

    ``kind`` is ``"inputs"`` (every leaf's value), ``"value"`` (one node computed from its parents),
    ``"seed"`` (the root's gradient set to ``grad``), ``"grad"`` (one node passing its gradient to
    its parents: ``updates``, one `GradUpdate` per parent) or ``"accumulate"`` (leaves adding the
    gradients of earlier passes, after the last ``"grad"`` step). ``node`` is the node the step is about
    (None for ``"inputs"``), ``upstream`` its gradient when processed, and ``highlight`` the nodes a
    drawing marks: the node and its parents.
    """

    __slots__ = ("_steps", "index", "kind", "node", "upstream", "updates", "highlight")

    def __init__(self, steps, kind, node, upstream=None, updates=(), highlight=()):
        self._steps = steps
        self.index = None
        self.kind = kind
        self.node = node
        self.upstream = upstream
        self.updates = updates
        self.highlight = highlight

    @property
    def header(self):
        """What the step is about: ``e = a * b``, ``seed L`` or ``inputs``."""
        if self.kind == "inputs":
            return "inputs"
        if self.kind == "seed":
            return f"seed {self._steps.name(self.node)}"
        if self.kind == "accumulate":
            return "accumulate"
        return self._steps.expression(self.node)

    @property
    def lines(self):
        """The step's arithmetic, one line per update (dropped constant updates left out)."""
        steps, num = self._steps, self._steps._num
        if self.kind == "inputs":
            named = [n for n in self.highlight if n.label or not isinstance(n, Constant)]
            return [", ".join(f"{steps.name(n)} = {num(n.data)}" for n in named) or "(none)"]
        if self.kind == "value":
            node = self.node
            values = [num(p.data) for p in node._prev]
            if node._op in _INFIX:
                inner = f" {_INFIX[node._op]} ".join(values)
            elif node._op == "neg":
                inner = f"-({values[0]})"
            else:
                inner = f"{node._op}({', '.join(values)})"
            return [f"{steps.name(node)} = {inner} = {num(node.data)}"]
        if self.kind == "seed":
            (update,) = self.updates
            name = steps.name(self.node)
            why = f"d{name}/d{name} = 1" if update.contribution == 1.0 else "the gradient passed in"
            return [
                f"{name}.grad += {num(update.contribution)}  (the seed: {why})"
                f"  ({name}.grad: {num(update.before)} → {num(update.after)})"
            ]
        if self.kind == "accumulate":
            return [
                f"{steps.name(u.parent)}.grad = {num(u.contribution)} (earlier passes) + {num(u.before)}"
                f" (this pass) = {num(u.after)}"
                for u in self.updates
            ]
        return [u.text for u in self.updates if not u.dropped] or ["(no gradient flows to its inputs)"]

    @property
    def text(self):
        """The explanation shown under the graph: ``header:  line`` for every line."""
        return "\n".join(f"{self.header}:  {line}" for line in self.lines)

    def __str__(self):
        return self.text

    def __repr__(self):
        return f"<Step {self.index} {self.kind}: {self.header}>"


class Frame:
    """What a drawing of one step shows: ``values`` and ``grads`` known so far (dicts node -> float;
    ``values=None`` means every value is known) and the nodes to ``highlight``."""

    __slots__ = ("step", "values", "grads", "highlight")

    def __init__(self, step, values, grads, highlight):
        self.step = step
        self.values = values
        self.grads = grads
        self.highlight = highlight


class Steps(Sequence):
    """A list of `Step`s of one graph. ``str()`` gives a table; ``grads()`` replays the gradients."""

    def __init__(self, root, digits=6):
        if not isinstance(root, Value):
            raise TypeError(f"steps need a Value as the root, got {type(root).__name__}: {root!r}")
        if not isinstance(digits, int) or isinstance(digits, bool) or digits < 1:
            raise ValueError(f"digits must be a positive int, got {digits!r}")
        self.root = root
        self.order = topological_order(root)
        self.digits = digits
        self._steps = []
        self._names = None
        self.start = None  # gradients before the backward pass, when there is one

    # ---- names ------------------------------------------------------------------------------------
    def _num(self, x):
        return _num(x, self.digits)

    def name(self, node):
        """The node's label, a constant's value, or ``v<position in topological order>``."""
        if self._names is None:
            names = {}
            for i, n in enumerate(self.order):
                if n.label:
                    names[n] = n.label
                elif isinstance(n, Constant):
                    names[n] = self._num(n.data)
                else:
                    names[n] = f"v{i}"
            self._names = names
        return self._names[node]

    def ref(self, node):
        """How a formula refers to a node's value: ``a.data``, or a plain number for a constant."""
        if isinstance(node, Constant) and not node.label:
            return self.name(node)
        return f"{self.name(node)}.data"

    def expression(self, node):
        """``e = a * b``, ``y = -x``, ``o = tanh(n)``, or just the name for a leaf."""
        out, parents = self.name(node), [self.name(p) for p in node._prev]
        if not parents:
            return out
        if node._op in _INFIX and (len(parents) == 2 or node._op == "+"):
            return f"{out} = " + f" {node._op} ".join(parents)
        if node._op == "neg":
            return f"{out} = -{parents[0]}"
        return f"{out} = {node._op}({', '.join(parents)})"

    # ---- the sequence -----------------------------------------------------------------------------
    def _add(self, step):
        step.index = len(self._steps)
        self._steps.append(step)

    def __len__(self):
        return len(self._steps)

    def __getitem__(self, i):
        return self._steps[i]

    def __add__(self, other):
        """Forward steps followed by backward steps of the same root, as one list."""
        if not isinstance(other, Steps) or other.root is not self.root:
            raise ValueError("only steps of the same root can be joined (forward_steps(r) + backward_steps(r))")
        if self.start is not None:
            raise ValueError("backward steps must come last: forward_steps(root) + backward_steps(root)")
        joined = Steps(self.root, self.digits)
        joined.order, joined._names, joined.start = self.order, self._names, other.start
        for step in (*self, *other):
            copy = Step(joined, step.kind, step.node, step.upstream, (), step.highlight)
            copy.updates = tuple(
                GradUpdate(copy, u.position, u.parent, u.local, u.contribution, u.before, u.after)
                for u in step.updates
            )
            joined._add(copy)
        return joined

    # ---- replay -----------------------------------------------------------------------------------
    def grads(self):
        """Every node's gradient after the last step, by replaying the recorded contributions."""
        if self.start is None:
            return {}
        grads = dict(self.start)
        for step in self:
            for u in step.updates:
                if not u.dropped:
                    grads[u.parent] = grads[u.parent] + u.contribution
        return grads

    def frames(self):
        """One `Frame` per step, each with the values and gradients known after it."""
        values, grads = {}, {}
        for step in self:
            values = _advance(step, values, grads)
            yield Frame(step, None if values is None else dict(values), dict(grads), step.highlight)

    def frame(self, i):
        """The `Frame` of step ``i`` (negative counts from the end), replayed from the first step."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"step {i} is out of range: there are {n} steps (0 to {n - 1})")
        i %= n
        values, grads = {}, {}
        for step in self._steps[: i + 1]:
            values = _advance(step, values, grads)
        return Frame(self[i], values, grads, self[i].highlight)

    # ---- text -------------------------------------------------------------------------------------
    def table(self):
        """The steps as a table: number, what is computed, and the arithmetic."""
        rows = [(str(s.index), s.header, s.lines) for s in self]
        w0 = max([1] + [len(r[0]) for r in rows])
        w1 = min(40, max([4] + [len(r[1]) for r in rows]))
        out = [f"{'#':>{w0}}  {'step':<{w1}}  arithmetic"]
        for number, header, lines in rows:
            for k, line in enumerate(lines):
                if k == 0:
                    out.append(f"{number:>{w0}}  {header:<{w1}}  {line}")
                else:
                    out.append(f"{'':>{w0}}  {'':<{w1}}  {line}")
        return "\n".join(out)

    def __str__(self):
        return self.table()

    def __repr__(self):
        kinds = sorted({s.kind for s in self})
        return f"<Steps: {len(self)} steps ({', '.join(kinds)}) of {self.name(self.root)}>"


def forward_steps(root, digits=6):
    """The forward pass of ``root``'s graph as `Steps`: first every leaf's value ("inputs"), then
    one step per computed node, in topological order (the order the values were computed in)."""
    steps = Steps(root, digits)
    leaves = tuple(n for n in steps.order if not n._prev)
    steps._add(Step(steps, "inputs", None, highlight=leaves))
    for node in steps.order:
        if node._prev:
            steps._add(Step(steps, "value", node, highlight=_unique((node, *node._prev))))
    return steps


def backward_steps(root, grad=1.0, digits=6):
    """The backward pass of ``root`` as `Steps`, in exactly the order `backward()` uses.

    The first step seeds ``root.grad`` with ``grad``; then each node, in reverse topological order,
    passes ``local × its gradient`` to every parent. Every gradient starts at 0.0; when leaves
    already hold gradients from earlier passes, a last ``"accumulate"`` step adds them (as
    `backward()` does, whose leaf gradients accumulate). Nothing is written to any ``.grad``.
    ``steps.grads()`` replays the steps and equals what `backward()` gives.
    """
    steps = Steps(root, digits)
    if isinstance(grad, Value) or isinstance(grad, bool) or not isinstance(grad, (int, float)):
        raise TypeError(f"grad must be a number (the seed, usually 1.0), got {type(grad).__name__}: {grad!r}")
    grads = {n: 0.0 for n in steps.order}  # the pass sums every gradient from zero
    steps.start = dict(grads)

    seed = Step(steps, "seed", root, upstream=float(grad), highlight=(root,))
    before = grads[root]
    after = 0.0 if isinstance(root, Constant) else before + float(grad)
    grads[root] = after
    seed.updates = (GradUpdate(seed, 0, root, 1.0, float(grad), before, after),)
    steps._add(seed)

    for node in reversed(steps.order):
        if not node._prev:
            continue
        g = grads[node]
        try:
            locals_ = local_grads(node)
        except (ArithmeticError, ValueError) as error:
            raise _backward_error(node, error) from error
        step = Step(steps, "grad", node, upstream=g, highlight=_unique((node, *node._prev)))
        updates = []
        for position, (parent, local) in enumerate(zip(node._prev, locals_)):
            contribution = local * g
            before = grads[parent]
            after = 0.0 if isinstance(parent, Constant) else before + contribution
            grads[parent] = after
            updates.append(GradUpdate(step, position, parent, local, contribution, before, after))
        step.updates = tuple(updates)
        steps._add(step)

    # Leaves keep what earlier passes gave them: this pass's gradient is added to it.
    earlier = [n for n in steps.order if not n._prev and not isinstance(n, Constant) and n.grad]
    if earlier:
        step = Step(steps, "accumulate", None, highlight=tuple(earlier))
        step.updates = tuple(
            GradUpdate(step, i, leaf, 1.0, leaf.grad, grads[leaf], leaf.grad + grads[leaf])
            for i, leaf in enumerate(earlier)
        )
        steps._add(step)
    return steps


def _advance(step, values, grads):
    """Apply one step to the values and gradients known so far (``grads`` in place); returns the
    values, None once the backward pass has begun (every value is known by then)."""
    if step.kind == "inputs":
        return {n: n.data for n in step.highlight}
    if step.kind == "value":
        values[step.node] = step.node.data
        return values
    for u in step.updates:
        grads[u.parent] = u.after
    return None


def _unique(nodes):
    seen, out = set(), []
    for n in nodes:
        if n not in seen:
            seen.add(n)
            out.append(n)
    return tuple(out)
