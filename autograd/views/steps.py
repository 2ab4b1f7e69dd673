"""The forward and backward passes as lists of steps that explain themselves.

`backward_steps(root)` records what `backward()` would do, node by node, without touching any
``.grad``: the same order (``topological_order``, reversed) and the same local derivatives
(``LOCAL``), so the gradients after the last step are exactly the ones `backward()` leaves behind.
`forward_steps(root)` lists the values in the order they were computed. Printing a list of steps
gives a table; the stepper and `save_steps` draw them frame by frame.

A learner's own Value class (see `autograd.views.nodes`) is stepped through with *their* chain
rule: the local gradients their nodes stored (microgpt's shape), or their ``_backward`` closures,
each called once, in chainrule's topological order, on gradients that start at zero; a step shows
what the closure added to each parent. Their ``.grad`` values are put back exactly as they were
afterwards, whatever happens. ``step.node.original`` is their node.

A step holds its node, its numbers and the shared names, never the list it belongs to, so steps
make no reference cycles: a dropped graph and its steps are freed at once.
"""

import numbers
from collections.abc import Sequence

from ..graph import _backward_error, _seed
from ..value import Constant, local_grads
from .nodes import Borrowed, GraphTooLargeError, Guest, LearnerCodeError, as_roots, describe, is_node, printable, reach, short, topological

MAX_NODES = 100_000  # values recorded, at most, unless max_nodes= says otherwise
MAX_DIGITS = 17  # significant digits a float holds: digits= shows at most these

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
    if x is None:
        return "?"  # not measurable (a closure's local derivative when the upstream gradient is 0)
    try:
        s = f"{x:.{digits}g}"
    except (TypeError, ValueError):  # a learner's node may hold something else: show what it is
        return repr(x)
    if s.lstrip("-").isdigit():
        s += ".0"
    return s


class GradUpdate:
    """One ``parent.grad += local × upstream`` inside a step.

    ``node`` is the node whose step this is, ``upstream`` its gradient then. ``before`` and
    ``after`` are the parent's gradient around this update, so a parent reached twice (``a + a``)
    shows its gradient as a running sum. A `Constant` parent keeps 0.0: ``dropped``.
    """

    __slots__ = ("kind", "node", "upstream", "position", "parent", "local", "contribution", "before", "after",
                 "_names")

    def __init__(self, names, kind, node, upstream, position, parent, local, contribution, before, after):
        self._names = names
        self.kind = kind
        self.node = node
        self.upstream = upstream
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
        names, num = self._names, self._names.num
        name = names.name(self.parent)
        if self.kind == "seed":
            why = f"d{name}/d{name} = 1" if self.contribution == 1.0 else "the gradient passed in"
            return (f"{name}.grad += {num(self.contribution)}  (the seed: {why})"
                    f"  ({name}.grad: {num(self.before)} → {num(self.after)})")
        if self.kind == "accumulate":
            return (f"{name}.grad = {num(self.contribution)} (earlier passes) + {num(self.before)}"
                    f" (this pass) = {num(self.after)}")
        node = self.node
        out = names.name(node)
        words = _LOCAL_WORDS.get(node._op) if getattr(node._op, "builtin", False) else None  # not a guest's op
        if isinstance(words, str):
            local = words
        elif words is None or len(words) != len(node._prev):
            local = f"d{out}/d{name}"
        else:
            refs = [names.ref(p) for p in node._prev]
            local = words[self.position].format(*refs, out=names.ref(node))
        text = (
            f"{name}.grad += {local} × {out}.grad = {num(self.local)} × {num(self.upstream)}"
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

    __slots__ = ("_names", "index", "kind", "node", "upstream", "updates", "highlight")

    def __init__(self, names, kind, node, upstream=None, updates=(), highlight=()):
        self._names = names
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
            return f"seed {self._names.name(self.node)}"
        if self.kind == "accumulate":
            return "accumulate"
        return self._names.expression(self.node)

    @property
    def lines(self):
        """The step's arithmetic, one line per update (dropped constant updates left out)."""
        names, num = self._names, self._names.num
        if self.kind == "inputs":
            named = [n for n in self.highlight if n.label or not isinstance(n, Constant)]
            return [", ".join(f"{names.name(n)} = {num(n.data)}" for n in named) or "(none)"]
        if self.kind == "value":
            node = self.node
            values = [num(p.data) for p in node._prev]
            if len(values) == 1 and node._op in _INFIX and type(node) is Guest and not node._ordered:
                values *= 2  # a + a, as a set of one parent
            if node._op in _INFIX:
                inner = f" {_INFIX[node._op]} ".join(values)
            elif node._op == "neg":
                inner = f"-({values[0]})"
            else:
                inner = f"{printable(node._op)}({', '.join(values)})"
            return [f"{names.name(node)} = {inner} = {num(node.data)}"]
        if self.kind in ("seed", "accumulate"):
            return [u.text for u in self.updates]
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


def _same_node(a, b):
    """The same node; for a learner's graph, adopted by two calls, the same node of theirs."""
    return a is b or (type(a) is Guest and type(b) is Guest and a.original is b.original)


def _mapping(mine, theirs):
    """A function from the nodes of ``theirs`` to the same nodes in ``mine`` (for a learner's graph
    adopted twice, two sets of `Guest`s of the same nodes)."""
    if mine is theirs or not mine or type(mine[0]) is not Guest:
        return lambda n: n
    by_original = {id(n.original): n for n in mine}
    if len(theirs) != len(mine) or any(id(n.original) not in by_original for n in theirs):
        raise ValueError("the graph changed between the two calls: record forward_steps and backward_steps of it again")
    return lambda n: None if n is None else by_original[id(n.original)]


class Names:
    """How steps name the nodes of one graph: a label, a constant's value, or ``v<position>``."""

    __slots__ = ("order", "digits", "_names")

    def __init__(self, order, digits):
        self.order = order
        self.digits = digits
        self._names = None

    def num(self, x):
        return _num(x, self.digits)

    def name(self, node):
        """The node's label, a constant's value, or ``v<position in topological order>``."""
        if self._names is None:
            names = {}
            for i, n in enumerate(self.order):
                if n.label:
                    names[n] = printable(n.label)
                elif isinstance(n, Constant):
                    names[n] = self.num(n.data)
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
        if len(parents) == 1 and node._op in _INFIX and type(node) is Guest and not node._ordered:
            parents *= 2  # a set of one parent for a binary op: both operands were that value (a + a)
        if node._op in _INFIX and (len(parents) == 2 or node._op == "+"):
            return f"{out} = " + f" {node._op} ".join(parents)
        if node._op == "neg":
            return f"{out} = -{parents[0]}"
        return f"{out} = {printable(node._op)}({', '.join(parents)})"


class Steps(Sequence):
    """A list of `Step`s of one graph. ``str()`` gives a table; ``grads()`` replays the gradients.

    ``root`` is the root as the views read it (for a learner's class, its `Guest`); ``order`` is
    the topological order. A graph of more than ``max_nodes`` values is refused as soon as the count
    passes it (`GraphTooLargeError`); ``None`` records any size.
    """

    def __init__(self, root, digits=6, max_nodes=MAX_NODES, what="steps"):
        if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= MAX_DIGITS:
            raise ValueError(f"digits={short(digits)}: give the significant digits to show, an int from 1 to "
                             f"{MAX_DIGITS} (a float holds no more)")
        if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
            raise ValueError(f"max_nodes={short(max_nodes)}: give a positive int, or None for no limit")

        def refuse(count):
            raise GraphTooLargeError(
                f"{what}: this graph has more than {max_nodes} nodes (counting stopped there); recording a step "
                "for each would take long and use a lot of memory. Step through a part of it "
                f"({what}(some_intermediate_value)), or pass max_nodes=None to record it anyway."
            )

        if isinstance(root, Steps) or not is_node(root):
            raise TypeError(f"steps need a Value as the root, got {type(root).__name__}: {short(root)}")
        try:
            (root,), _ = as_roots(root, f"{what}(root)", max_nodes, ops=False, refuse=refuse)
        except TypeError as error:
            raise TypeError(f"steps need a Value as the root: {error}") from None
        if max_nodes is not None and reach([root], max_nodes, ops=False) > max_nodes:
            refuse(max_nodes + 1)
        self.root = root
        self.order = topological([root])
        self.digits = digits
        self.names = Names(self.order, digits)
        self._steps = []
        self.start = None  # gradients before the backward pass, when there is one

    # ---- names ------------------------------------------------------------------------------------
    def _num(self, x):
        return self.names.num(x)

    def name(self, node):
        """The node's label, a constant's value, or ``v<position in topological order>``."""
        return self.names.name(node)

    def ref(self, node):
        """How a formula refers to a node's value: ``a.data``, or a plain number for a constant."""
        return self.names.ref(node)

    def expression(self, node):
        """``e = a * b``, ``y = -x``, ``o = tanh(n)``, or just the name for a leaf."""
        return self.names.expression(node)

    # ---- the sequence -----------------------------------------------------------------------------
    def _add(self, step):
        step.index = len(self._steps)
        self._steps.append(step)

    def __len__(self):
        return len(self._steps)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._steps[i]
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"steps[i] takes a step number (an int) or a slice, got {type(i).__name__}: {short(i)}")
        n = len(self._steps)
        if not -n <= i < n:
            raise IndexError(f"step {short(i)} is out of range: there are {n} steps (0 to {n - 1})")
        return self._steps[int(i)]

    def __add__(self, other):
        """Forward steps followed by backward steps of the same root, as one list."""
        if not isinstance(other, Steps) or not _same_node(other.root, self.root):
            raise ValueError("only steps of the same root can be joined (forward_steps(r) + backward_steps(r))")
        if self.start is not None:
            raise ValueError("backward steps must come last: forward_steps(root) + backward_steps(root)")
        same = _mapping(self.order, other.order)
        joined = Steps.__new__(Steps)
        joined.root, joined.order, joined.digits, joined.names = self.root, self.order, self.digits, self.names
        joined._steps = []
        joined.start = None if other.start is None else {same(n): g for n, g in other.start.items()}
        for step in self:
            joined._add(Step(self.names, step.kind, step.node, step.upstream, step.updates, step.highlight))
        for step in other:
            updates = tuple(
                GradUpdate(self.names, u.kind, same(u.node), u.upstream, u.position, same(u.parent), u.local,
                           u.contribution, u.before, u.after)
                for u in step.updates
            )
            joined._add(Step(self.names, step.kind, same(step.node), step.upstream, updates,
                             tuple(map(same, step.highlight))))
        return joined

    # ---- replay -----------------------------------------------------------------------------------
    def grads(self):
        """Every node's gradient after the last step, replayed from the recorded updates.

        Keys are the nodes as given: for a learner's class, their own nodes."""
        if self.start is None:
            return {}
        grads = dict(self.start)
        for step in self:
            for u in step.updates:
                grads[u.parent] = u.after
        if type(self.root) is Guest:
            return {node.original: g for node, g in grads.items()}
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
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"frame(i) takes a step number (an int), got {type(i).__name__}: {short(i)}")
        if not -n <= i < n:
            raise IndexError(f"step {short(i)} is out of range: there are {n} steps (0 to {n - 1})")
        i = int(i) % n
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


def forward_steps(root, digits=6, *, max_nodes=MAX_NODES):
    """The forward pass of ``root``'s graph as `Steps`: first every leaf's value ("inputs"), then
    one step per computed node, in topological order (the order the values were computed in).
    ``max_nodes`` bounds the graph's size (values; None for no limit)."""
    steps = Steps(root, digits, max_nodes, "forward_steps")
    names = steps.names
    leaves = tuple(n for n in steps.order if not n._prev)
    steps._add(Step(names, "inputs", None, highlight=leaves))
    for node in steps.order:
        if node._prev:
            steps._add(Step(names, "value", node, highlight=_unique((node, *node._prev))))
    return steps


def backward_steps(root, grad=1.0, digits=6, *, max_nodes=MAX_NODES):
    """The backward pass of ``root`` as `Steps`, in exactly the order `backward()` uses.

    The first step seeds ``root.grad`` with ``grad``; then each node, in reverse topological order,
    passes ``local × its gradient`` to every parent. Every gradient starts at 0.0; when leaves
    already hold gradients from earlier passes, a last ``"accumulate"`` step adds them (as
    `backward()` does, whose leaf gradients accumulate). Nothing is written to any ``.grad``.
    ``steps.grads()`` replays the steps and equals what `backward()` gives.

    ``root`` may be a node of your own Value class: the steps then show what your own chain rule
    does (see the module docstring), and your ``.grad`` values are left exactly as they were.
    A graph of more than ``max_nodes`` values (100,000) is refused before anything is recorded;
    ``max_nodes=None`` records any size.
    """
    try:
        seed = _seed(grad)  # the seed backward() would take: a finite number, None meaning 1.0
    except (TypeError, ValueError, OverflowError) as error:
        raise type(error)(str(error).replace("backward(grad)", "backward_steps(grad)")) from None
    steps = Steps(root, digits, max_nodes, "backward_steps")
    root, names = steps.root, steps.names
    grads = {n: 0.0 for n in steps.order}  # the pass sums every gradient from zero
    steps.start = dict(grads)
    guests = type(root) is Guest
    closures = guests and any(n._local is None for n in steps.order if n._prev)
    with Borrowed(steps.order) if closures else _Nothing():
        if closures:
            root.original.grad = seed
        after = 0.0 if isinstance(root, Constant) else seed
        grads[root] = after
        update = GradUpdate(names, "seed", root, seed, 0, root, 1.0, seed, 0.0, after)
        steps._add(Step(names, "seed", root, upstream=seed, updates=(update,), highlight=(root,)))
        for node in reversed(steps.order):
            if not node._prev:
                continue
            g = grads[node]
            step = Step(names, "grad", node, upstream=g, highlight=_unique((node, *node._prev)))
            if closures:
                step.updates = _their_closure(names, node, g, grads)
            else:
                step.updates = _updates(names, node, g, grads, _locals(node, guests))
            steps._add(step)

    # Leaves keep what earlier passes gave them: this pass's gradient is added to it.
    earlier = [] if guests else [n for n in steps.order if not n._prev and not isinstance(n, Constant) and n.grad]
    if earlier:
        step = Step(names, "accumulate", None, highlight=tuple(earlier))
        step.updates = tuple(
            GradUpdate(names, "accumulate", None, None, i, leaf, 1.0, leaf.grad, grads[leaf], leaf.grad + grads[leaf])
            for i, leaf in enumerate(earlier)
        )
        steps._add(step)
    return steps


class _Nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _locals(node, guests):
    """The local derivatives of one node: chainrule's rule, or the ones a learner's node stored."""
    if guests:
        return node._local
    try:
        return local_grads(node)
    except (ArithmeticError, ValueError) as error:
        raise _backward_error(node, error) from error


def _updates(names, node, g, grads, locals_):
    updates = []
    for position, (parent, local) in enumerate(zip(node._prev, locals_)):
        contribution = local * g
        before = grads[parent]
        after = 0.0 if isinstance(parent, Constant) else before + contribution
        grads[parent] = after
        updates.append(GradUpdate(names, "grad", node, g, position, parent, local, contribution, before, after))
    return tuple(updates)


def _their_closure(names, node, g, grads):
    """Run a learner's ``node._backward()`` once and record what it added to each parent."""
    backward = getattr(node.original, "_backward", None)
    if not callable(backward):
        raise TypeError(
            f"{names.expression(node)}: this {type(node.original).__name__} node has no _backward() to step "
            "through (and no _local_grads); each computed node needs one"
        )
    parents = _unique(node._prev)  # a closure adds to a parent once per use: measure each parent once
    before = [p.grad for p in parents]
    try:
        backward()
        after = [p.grad for p in parents]
        changes = [a - b for a, b in zip(after, before)]
    except Exception as error:
        raise LearnerCodeError(f"{names.expression(node)}: its _backward() raised {describe(error)}") from error
    updates = []
    for position, (parent, b, a, change) in enumerate(zip(parents, before, after, changes)):
        grads[parent] = a
        local = change / g if g else None
        updates.append(GradUpdate(names, "grad", node, g, position, parent, local, change, b, a))
    return tuple(updates)


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
