"""The recorded runs of a function, merged: its nodes, and a tree of the ways it went.

Each recorded run (`trace.Trace`) becomes a `Path`: the nodes it computed, in topological order,
its outputs, and the guards it passed (what it compared or read, with the outcome). Nodes are
shared between paths by structure: a node is its operation and its parents (or, for a leaf, what
kind of leaf it is), so the parts two runs have in common are computed once. The paths hang in a
tree of `Branch`es, one per guard, so the compiled code can be an ``if`` where the Python was.
"""

import math

from ..operation import Operation
from ..value import Constant, Value, local_grads
from .trace import CompileError, Drawn


class Node:
    """One computation in the merged program.

    ``kind`` is ``"input"`` (number argument ``slot``), ``"index"`` (int argument ``slot``),
    ``"leaf"`` (a Value from outside, read at each call: slot ``slot`` of the leaf table),
    ``"const"`` (a number made during the run: ``value``), ``"drawn"`` (a `Drawn` number: ``draw``)
    or ``"op"`` (operation ``op`` of ``parents``, node ids). ``scope`` is where it was made."""

    __slots__ = ("id", "kind", "op", "parents", "slot", "value", "draw", "scope", "grad")

    def __init__(self, id_, kind, op=None, parents=(), slot=None, value=None, draw=None, scope=()):
        self.id = id_
        self.kind = kind
        self.op = op
        self.parents = parents
        self.slot = slot
        self.value = value
        self.draw = draw
        self.scope = scope
        self.grad = False  # whether a gradient flows through it to something that collects one


class Path:
    """One way through the function: its nodes in topological order (ids), its outputs (("ref", id)
    or ("lit", x)), its draws in order, its guards ``(key, outcome)``, and the output nesting."""

    __slots__ = ("order", "outputs", "structure", "draws", "guards", "members")

    def __init__(self, order, outputs, structure, draws, guards):
        self.order = order
        self.outputs = outputs
        self.structure = structure
        self.draws = draws
        self.guards = guards
        self.members = frozenset(order)


class Branch:
    """A guard where recorded runs were told apart: ``children`` maps each outcome seen to the
    `Branch` or `Path` that follows."""

    __slots__ = ("guard", "children")

    def __init__(self, guard):
        self.guard = guard
        self.children = {}


class Program:
    """Everything recorded for one kind of call (one `trace.arguments` key)."""

    def __init__(self, leaves, wrt_inputs):
        self.leaves = leaves  # the Compiled's leaf table (shared, grows)
        self.wrt_inputs = wrt_inputs
        self.nodes = []
        self._index = {}
        self.tree = None
        self.paths = []
        self._consts = set()
        self.n_inputs = 0
        self.n_indices = 0

    # ---- adding a run ----
    def add(self, trace, slot_of):
        """Merge ``trace`` in; returns ``(path, values)``: the new `Path` (or the equal one already
        recorded) and the trace's Value for each node id of the path."""
        inputs = {id(v): i for i, v in enumerate(trace.inputs)}
        indices = {id(t.leaf): t.slot for t in trace.indices}
        self.n_inputs = max(self.n_inputs, len(trace.inputs))
        self.n_indices = max(self.n_indices, len(trace.indices))
        roots = [v for v in trace.outputs if isinstance(v, Value)]
        for expression, _ in trace.guards:
            roots += [part[1] for part in expression[2:] if isinstance(part, tuple) and part[0] == "node"]
            if expression[0] == "val" and expression[1][0] == "node":
                roots.append(expression[1][1])
        roots += trace.draws
        ids, order, values, last_draw = {}, [], {}, None  # ids: id(Value) -> node id
        index, nodes, consts, mark = self._index, self.nodes, self._consts, trace.mark
        for v in _topological(roots):
            prev = v._prev
            if prev:
                op = v._op
                scope = v._scope
                if not scope or scope[0] is not mark:
                    raise CompileError(
                        f"the function uses a Value computed before it was called (made by {str(op)!r}, data "
                        f"{v._data!r}); compute it inside the function, or use a leaf"
                    )
                parents = tuple([ids[id(p)] for p in prev])
                if op.builtin and consts.issuperset(parents):
                    key = ("const", v._data.hex())
                    make = ("const", None, (), None, v._data, None)
                else:
                    key = (id(op), parents)
                    make = ("op", op, parents, None, None, None)
                scope = scope[1:]
            else:
                scope = v._scope
                if id(v) in inputs:
                    slot = inputs[id(v)]
                    key, make = ("input", slot), ("input", None, (), slot, None, None)
                elif id(v) in indices:
                    slot = indices[id(v)]
                    key, make = ("index", slot), ("index", None, (), slot, None, None)
                elif isinstance(v, Drawn):
                    key = ("drawn", last_draw, _identity(v.draw))
                    make = ("drawn", None, (), None, None, v.draw)
                elif scope and scope[0] is mark:
                    key, make = ("const", v._data.hex()), ("const", None, (), None, v._data, None)
                else:
                    slot = slot_of(v)
                    key, make = ("leaf", slot), ("leaf", None, (), slot, None, None)
            node = index.get(key)
            if node is None:
                kind, op, parents, slot, value, draw = make
                if kind == "op":  # checked once, where the node first appears
                    _check_formula(v, op)
                node = Node(len(nodes), kind, op, parents, slot, value, draw, scope[1:] if scope and scope[0] is mark else scope)
                self._mark_grad(node)
                nodes.append(node)
                index[key] = node  # known by its key only once it is whole (a Ctrl-C leaves no half-made node)
                if kind == "const":
                    consts.add(node.id)
            c = node.id
            if node.kind == "drawn":
                last_draw = c
            if c not in values:
                order.append(c)
                values[c] = v
            ids[id(v)] = c
        guards = []
        for expression, outcome in trace.guards:
            guard = _guard_key(expression, ids, nodes)
            if guard is not None:
                guards.append((guard, _outcome(outcome)))
        outputs = [("lit", float(v)) if not isinstance(v, Value) else _ref(nodes[ids[id(v)]]) for v in trace.outputs]
        draws = [ids[id(d)] for d in trace.draws]
        path = self._insert(Path(order, outputs, trace.structure, draws, guards))
        return path, values

    def _mark_grad(self, node):
        if node.kind == "leaf":
            node.grad = not isinstance(self.leaves[node.slot], Constant)
        elif node.kind == "input":
            node.grad = self.wrt_inputs
        elif node.kind == "op":
            node.grad = any(self.nodes[p].grad for p in node.parents)

    def _insert(self, path):
        if self.tree is None:
            self.paths.append(path)  # before the tree holds it: the code is written from the tree
            self.tree = _chain(path, 0)
            return path
        at, parent, outcome = self.tree, None, None
        for i, (guard, result) in enumerate(path.guards):
            if isinstance(at, Path):
                raise _inconsistent()
            if at.guard != guard:
                raise _inconsistent()
            child = at.children.get(result)
            if child is None:
                self.paths.append(path)
                at.children[result] = _chain(path, i + 1)
                return path
            at = child
        if isinstance(at, Branch):
            raise _inconsistent()
        if at.members != path.members or at.outputs != path.outputs:
            raise _inconsistent()
        return at  # the same way as a recorded run

    # ---- the result of a recorded run, from its graph ----
    def interpret(self, path, values, params, grads, seeds, input_grads):
        """The outputs of the recorded run and its gradients, added to ``grads`` (and
        ``input_grads``) in the order the compiled code adds them: the call that was recorded gets
        the result the compiled code would have given."""
        outputs = [ref[1] if ref[0] == "lit" else values[ref[1]]._data for ref in path.outputs]
        g = {}
        for ref, seed in zip(path.outputs, seeds):
            if ref[0] == "ref" and self.nodes[ref[1]].grad:
                g[ref[1]] = g[ref[1]] + seed if ref[1] in g else seed
        nodes = self.nodes
        for c in reversed(path.order):
            node = nodes[c]
            if node.kind != "op" or c not in g:
                continue
            upstream = g[c]
            for parent, local in zip(node.parents, local_grads(values[c])):
                if nodes[parent].grad:
                    term = local * upstream
                    g[parent] = g[parent] + term if parent in g else term
        for c in path.order:
            node = nodes[c]
            if c in g and node.grad:
                if node.kind == "leaf":
                    grads[node.slot] += g[c]
                elif node.kind == "input" and input_grads is not None:
                    input_grads[node.slot] += g[c]
        return outputs


def graph_run(trace, slot_of, seeds, input_grads):
    """``(outputs, nodes, leaf gradients)`` of a run made on the graph path (`trace.record` with
    ``watch=False``): its outputs as floats, how many nodes its graph has, and ``(slot, gradient)``
    for every Value it used from outside (its slot from ``slot_of``), the gradients of seeds ·
    outputs summed in the order ``backward()`` sums them; the number arguments' are added to
    ``input_grads``."""
    outputs = [v._data if isinstance(v, Value) else float(v) for v in trace.outputs]
    roots = [v for v in trace.outputs if isinstance(v, Value)]
    order = _topological(roots)
    if seeds is None:
        return outputs, len(order), []
    inputs = {id(v): i for i, v in enumerate(trace.inputs)}
    g = {}
    for v, seed in zip(trace.outputs, seeds):
        if isinstance(v, Value):
            g[v] = g[v] + seed if v in g else seed
    for node in reversed(order):
        if not node._prev or node not in g:
            continue
        upstream = g[node]
        try:
            locals_ = local_grads(node)
        except Exception as error:
            from ..graph import _backward_error

            clearer = _backward_error(node, error)
            if clearer is error:
                raise
            raise clearer from error
        for parent, local in zip(node._prev, locals_):
            if isinstance(parent, Constant):
                continue
            term = local * upstream
            g[parent] = g[parent] + term if parent in g else term
    leaf_grads = []
    for node in order:
        if node._prev or node not in g:
            continue
        if id(node) in inputs:
            if input_grads is not None:
                input_grads[inputs[id(node)]] += g[node]
        elif not trace.made_here(node):
            leaf_grads.append((slot_of(node), g[node]))
    return outputs, len(order), leaf_grads


def _topological(roots):
    """Every node the roots depend on, parents first, as `autograd.topological_order` orders them
    (depth first over parents in their order), for several roots in turn."""
    order, seen = [], set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root._prev))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in seen:
                    seen.add(parent)
                    if parent._prev:
                        stack.append((parent, iter(parent._prev)))
                        break
                    order.append(parent)
            else:
                stack.pop()
                order.append(node)
    return order


def _identity(draw):
    """What makes two draw functions the same: the code and what it works on (a lambda made anew on
    each call, over the same generator, is the same draw; one over another Value is not)."""
    f = getattr(draw, "__func__", draw)
    code = getattr(f, "__code__", None)
    if code is None:  # a built-in function or method (rng.random): its name and its object
        return (id(getattr(draw, "__self__", None)), getattr(draw, "__qualname__", None) or id(draw))
    cells = tuple(id(c.cell_contents) for c in (f.__closure__ or ()))
    return (id(getattr(draw, "__self__", None)), id(code), cells)


def _ref(node):
    return ("lit", node.value) if node.kind == "const" else ("ref", node.id)


def _check_formula(v, op):
    """Refuse a node whose operation has no formula, or whose value is not its formula's."""
    if type(op) is not Operation and not isinstance(op, Operation) or op.derivative is None or op.forward is None:
        raise CompileError(
            f"the operation {str(op)!r} has no formula the compiler can use; define it with "
            "@autograd.operation(derivative=...) so both paths can compute it"
        )
    try:
        again = op.forward(*[p._data for p in v._prev])
    except Exception as error:
        raise CompileError(f"the formula of {op} failed on the recorded inputs: {error}") from None
    if again != v._data and not _same(again, v._data):
        raise CompileError(
            f"a node made by {op} holds {v._data!r}, but the formula of {op} gives {again!r} for its inputs "
            "(a node built by hand with another value, or a formula that is not a function of its inputs); "
            "the compiled code would compute the formula"
        )


def _guard_key(expression, ids, nodes):
    """A guard in terms of node ids, or None when it only involves constants."""
    parts = []
    for part in expression[1:]:
        if isinstance(part, tuple) and part[0] == "node":
            part = _ref(nodes[ids[id(part[1])]])
        elif isinstance(part, tuple) and part[0] == "lit":
            part = ("lit", part[1] if type(part[1]) in (int, float) else float(part[1]))
        parts.append(part)
    operands = [p for p in parts if isinstance(p, tuple)]
    if all(p[0] == "lit" for p in operands):
        return None
    return (expression[0], *parts)


def _outcome(x):
    return x if type(x) in (bool, int, float) else float(x)


def _chain(path, start):
    """``path``'s guards from ``start`` on as a chain of branches ending in the path."""
    node = path
    for guard, outcome in reversed(path.guards[start:]):
        branch = Branch(guard)
        branch.children[outcome] = node
        node = branch
    return node


def _same(a, b):
    try:
        a = float(a)
    except (TypeError, ValueError, OverflowError):
        return False
    return a == b or (math.isnan(a) and math.isnan(b))


def _inconsistent():
    return CompileError(
        "the function ran differently for the same arguments and the same outcomes of its comparisons: it "
        "depends on something else (random numbers not drawn with autograd.Drawn, a global, a counter), "
        "which compiled code cannot follow"
    )
