"""Writing a `program.Program` as one Python function: the forward pass, then the backward pass.

The function has the shape ``name(x, ix, p, grads, seed, gx)``: ``x`` the number arguments,
``ix`` the int arguments, ``p`` the values of the leaves it reads (parameters), ``grads`` where
their gradients are added, ``seed`` d(output)/d(output) (a list for several outputs; None computes
the outputs only), ``gx`` where the gradients of ``x`` are added (or None). For a neuron::

    def loss(x, ix, p, grads, seed, gx):
        x0, x1 = x
        v5 = p[2] + p[0] * x0 + p[1] * x1
        v6 = v5 if v5 > 0.0 else 0.0
        if seed is None:
            return v6
        g5 = (1.0 if v5 > 0.0 else 0.0) * seed
        a2 = g5
        a0 = x0 * g5
        a1 = x1 * g5
        grads[0] += a0
        grads[1] += a1
        grads[2] += a2
        return v6

Every node is a local variable (``v5``) unless its value is used once and nowhere else, in which
case its expression is written where it is used (the products inside the sum above). Gradients
follow the reverse topological order of the graph, each parent's local derivative times the
node's gradient, as ``backward()`` does, so the numbers are the graph path's. Nothing is written
to ``grads`` until every gradient is computed, so a call that fails leaves ``grads`` as it was.
"""

import builtins
import keyword
import math
import re

from ..operation import OPERATIONS
from .formulas import Formulas, arg_uses, lit, show
from .program import Branch, Path
from .trace import Retrace

POW = OPERATIONS["**"]
_RESERVED = re.compile(r"[vgabdsxi]\d+|x|ix|p|grads|seed|gx")
MAX_FUSED_DEPTH = 24  # longer chains of single-use nodes get a variable (keeps lines short and nesting shallow)


class Generator:
    """Writes the code of one `Program`, and keeps the names it gave objects between rewrites."""

    def __init__(self, program, name="compiled"):
        self.program = program
        self.name = _identifier(name)
        self.namespace = {"Retrace": Retrace, "inf": math.inf, "nan": math.nan}
        self._names = {}
        for builtin_name in ("abs", "float", "int", "max", "min", "len", "range"):
            obj = getattr(builtins, builtin_name)
            self.namespace[builtin_name] = obj
            self._names[id(obj)] = builtin_name
        self.formulas = Formulas(self.bind, self.namespace)

    def bind(self, obj, hint=None):
        """The name the generated code uses for ``obj`` (a function, a module, a number's type);
        ``hint`` names a lambda."""
        name = self._names.get(id(obj))
        if name is not None:
            return name
        base = getattr(obj, "__name__", None) or type(obj).__name__
        base = _identifier(hint if hint is not None and base == "<lambda>" else base)
        if _RESERVED.fullmatch(base) or keyword.iskeyword(base):
            base += "_"
        name, k = base, 2
        while name in self.namespace and self.namespace[name] is not obj:
            name, k = f"{base}_{k}", k + 1
        self.namespace[name] = obj
        self._names[id(obj)] = name
        return name

    # ---- the whole function ----
    def source(self):
        program = self.program
        nodes = program.nodes
        self._prepare()
        lines = [f"def {self.name}(x, ix, p, grads, seed, gx):"]
        inputs = sorted(n.slot for n in nodes if n.kind == "input")
        indices = sorted(n.slot for n in nodes if n.kind == "index")
        if inputs:
            lines.append(f"    {_unpack('x', program.n_inputs)} = x")
        if indices:
            lines.append(f"    {_unpack('i', program.n_indices)} = ix")
        self._emit(program.tree, frozenset(), "    ", lines)
        return "\n".join(lines) + "\n"

    def compile(self):
        """``(source, function)``."""
        text = self.source()
        code = compile(text, f"<compiled {self.name}>", "exec")
        namespace = dict(self.namespace)
        exec(code, namespace)
        return text, namespace[self.name]

    # ---- what every node needs ----
    def _prepare(self):
        program = self.program
        nodes = program.nodes
        formulas = self.formulas
        self.forward, self.locals = {}, {}
        uses = [0] * len(nodes)
        for node in nodes:
            if node.kind != "op":
                continue
            pattern = tuple(("lit", nodes[p].value) if nodes[p].kind == "const" else None for p in node.parents)
            self.forward[node.id] = formulas.forward(node.op, pattern)
            if node.grad:
                self.locals[node.id] = formulas.derivative(node.op, pattern + (None,))
            for p in node.parents:
                uses[p] += 1
        members = [set() for _ in nodes]
        for i, path in enumerate(program.paths):
            for c in path.order:
                members[c].add(i)
        needed = set()
        for path in program.paths:
            needed.update(ref[1] for ref in path.outputs if ref[0] == "ref")
            for guard, _ in path.guards:
                needed.update(part[1] for part in guard[1:] if isinstance(part, tuple) and part[0] == "ref")
        self.domain = {}
        for node in nodes:
            if node.kind != "op":
                continue
            if node.op is POW and not _integral(nodes[node.parents[1]]):
                self.domain[node.id] = node.parents[0]  # a ** b needs a >= 0 unless b is a whole number
                needed.update((node.id, node.parents[0]))
            local = self.locals.get(node.id)
            if local is None:
                continue
            arguments = (*node.parents, node.id)
            if local[0] == "call":
                needed.update(arguments)
                continue
            for j, parent in enumerate(node.parents):
                if nodes[parent].grad:
                    needed.update(arguments[i] for i in arg_uses(local[j]))
        self.fused = [False] * len(nodes)
        depth = [0] * len(nodes)
        consumer = {}
        for node in nodes:
            if node.kind == "op":
                for p in node.parents:
                    consumer[p] = node.id
        for node in nodes:  # ids are topological: parents first
            if node.kind != "op":
                continue
            depth[node.id] = 1 + max((depth[p] for p in node.parents if self.fused[p]), default=0)
            c = consumer.get(node.id)
            self.fused[node.id] = (
                node.id not in needed and uses[node.id] == 1 and c is not None
                and members[node.id] == members[c] and depth[node.id] < MAX_FUSED_DEPTH
            )
        self.members = members

    def expr(self, c):
        """The expression of node ``c``'s value in the generated code."""
        node = self.program.nodes[c]
        kind = node.kind
        if kind == "op":
            if self.fused[c]:
                return ("with", self.forward[c], [self.expr(p) for p in node.parents])
            return ("var", f"v{c}")
        if kind == "input":
            return ("var", f"x{node.slot}")
        if kind == "index":
            return ("var", f"i{node.slot}")
        if kind == "leaf":
            return ("item", ("var", "p"), lit(node.slot))
        if kind == "const":
            return lit(node.value)
        return ("var", f"v{c}")  # drawn

    def _operand(self, part):
        if part[0] == "ref":
            return self.expr(part[1])
        if part[0] == "index":
            return ("var", f"i{part[1]}")
        return lit(part[1])

    # ---- the tree of paths ----
    def _emit(self, tree, computed, indent, lines):
        paths = _paths(tree)
        common = frozenset.intersection(*[p.members for p in paths]) - computed
        self._forward(common, paths[0], indent, lines)
        computed = computed | common
        if isinstance(tree, Path):
            self._finish(tree, indent, lines)
            return
        kind = tree.guard[0]
        if kind == "cmp":
            condition = ("cmp", self._operand(tree.guard[2]), [tree.guard[1]], [self._operand(tree.guard[3])])
        else:
            condition = self._operand(tree.guard[1])
        children = list(tree.children.items())
        if len(children) == 1:
            outcome, child = children[0]
            lines.append(f"{indent}if {show(_negated(condition, outcome))[0]}:")
            lines.append(f"{indent}    raise Retrace")
            self._emit(child, computed, indent, lines)
            return
        if kind == "cmp" and set(tree.children) == {True, False}:
            lines.append(f"{indent}if {show(condition)[0]}:")
            self._emit(tree.children[True], computed, indent + "    ", lines)
            lines.append(f"{indent}else:")
            self._emit(tree.children[False], computed, indent + "    ", lines)
            return
        for k, (outcome, child) in enumerate(children):
            test = condition if outcome is True and kind == "cmp" else _test(condition, outcome)
            lines.append(f"{indent}{'if' if k == 0 else 'elif'} {show(test)[0]}:")
            self._emit(child, computed, indent + "    ", lines)
        lines.append(f"{indent}else:")
        lines.append(f"{indent}    raise Retrace")

    def _forward(self, section, path, indent, lines):
        nodes = self.program.nodes
        for c in path.draws:
            if c in section:
                lines.append(f"{indent}v{c} = {self.bind(nodes[c].draw)}()")
        scope = None
        for c in path.order:
            if c not in section:
                continue
            node = nodes[c]
            if node.kind != "op" or self.fused[c]:
                continue
            if node.scope and node.scope != scope:
                scope = node.scope
                lines.append(f"{indent}# {' / '.join(scope)}")
            if c in self.domain:
                lines.append(f"{indent}if {show(self.expr(self.domain[c]))[0]} < 0.0:")
                lines.append(f"{indent}    raise Retrace")
            lines.append(f"{indent}v{c} = {show(('with', self.forward[c], [self.expr(p) for p in node.parents]))[0]}")

    def _finish(self, path, indent, lines):
        """The end of one path: its outputs, then its backward pass."""
        nodes = self.program.nodes
        outputs = [self._operand(ref) for ref in path.outputs]
        result = show(_rebuilt(path.structure, outputs))[0]
        lines.append(f"{indent}if seed is None:")
        lines.append(f"{indent}    return {result}")
        single = isinstance(path.structure, int)  # one number: the seed is a number, else a list
        if not single:
            lines.append(f"{indent}{_unpack('s', len(path.outputs))} = seed")
        seeds = [("var", "seed")] if single else [("var", f"s{j}") for j in range(len(path.outputs))]

        # Which nodes receive how many contributions (to write the first one as an assignment).
        contributions = []
        for ref, _ in zip(path.outputs, seeds):
            if ref[0] == "ref" and nodes[ref[1]].grad:
                contributions.append(ref[1])
        plan = []
        for c in reversed(path.order):
            node = nodes[c]
            if node.kind != "op" or not node.grad:
                continue
            local = self.locals[c]
            entries = []
            for j, parent in enumerate(node.parents):
                if not nodes[parent].grad:
                    continue
                entry = None if local[0] == "call" else local[j]
                if entry is not None and entry[0] == "lit" and entry[1] == 0:
                    continue
                entries.append((j, parent, entry))
            plan.append((c, entries))
        receiving = set(contributions)
        for c, entries in plan:
            if c in receiving:
                contributions.extend(parent for _, parent, _ in entries)
                receiving.update(parent for _, parent, _ in entries)
        counts = {}
        for c in contributions:
            counts[c] = counts.get(c, 0) + 1

        gradient, assigned, leaf_sums, input_sums = {}, set(), [], []

        def add(c, term):
            node = nodes[c]
            if node.kind == "op":
                if c not in gradient:
                    if counts[c] == 1 and term[0] == "var":
                        gradient[c] = term  # a single contribution of 1 × upstream: the same number
                        return
                    gradient[c] = ("var", f"g{c}")
                    lines.append(f"{indent}g{c} = {show(term)[0]}")
                else:
                    lines.append(f"{indent}g{c} += {show(term)[0]}")
                return
            name = f"a{node.slot}" if node.kind == "leaf" else f"b{node.slot}"
            if name in assigned:
                lines.append(f"{indent}{name} += {show(term)[0]}")
            else:
                assigned.add(name)
                (leaf_sums if node.kind == "leaf" else input_sums).append(node.slot)
                lines.append(f"{indent}{name} = {show(term)[0]}")

        for ref, seed in zip(path.outputs, seeds):
            if ref[0] == "ref" and nodes[ref[1]].grad:
                add(ref[1], seed)
        for c, entries in plan:
            if c not in gradient or not entries:
                continue
            node = nodes[c]
            upstream = gradient[c]
            arguments = [self.expr(p) for p in node.parents] + [self.expr(c)]
            local = self.locals[c]
            if local[0] == "call":
                lines.append(f"{indent}d{c} = {show(('with', local, arguments))[0]}")
            for j, parent, entry in entries:
                if entry is None:
                    factor = ("item", ("var", f"d{c}"), lit(j))
                elif entry[0] == "lit":
                    factor = entry
                else:
                    factor = ("with", entry, arguments)
                add(parent, _times(factor, upstream))
        for slot in sorted(leaf_sums):
            lines.append(f"{indent}grads[{slot}] += a{slot}")
        if input_sums:
            lines.append(f"{indent}if gx is not None:")
            for slot in sorted(input_sums):
                lines.append(f"{indent}    gx[{slot}] += b{slot}")
        lines.append(f"{indent}return {result}")


def _paths(tree):
    out, stack = [], [tree]
    while stack:
        t = stack.pop()
        if isinstance(t, Path):
            out.append(t)
        else:
            stack.extend(reversed(list(t.children.values())))
    return out


def _negated(condition, outcome):
    """The test that is true when ``condition`` does not come out as ``outcome``."""
    if outcome is True:
        return ("unary", "not", condition)
    if outcome is False:
        return condition
    return ("cmp", condition, ["!="], [lit(outcome)])


def _test(condition, outcome):
    if outcome is False:
        return ("unary", "not", condition)
    return ("cmp", condition, ["=="], [lit(outcome)])


def _times(factor, upstream):
    if factor[0] == "lit":
        if factor[1] == 1:
            return upstream
        if factor[1] == -1:
            return ("unary", "-", upstream)
    return ("bin", "*", factor, upstream)


def _integral(node):
    return node.kind == "const" and float(node.value).is_integer()


def _rebuilt(structure, outputs):
    if isinstance(structure, int):
        return outputs[structure]
    items = [_rebuilt(s, outputs) for s in structure[1]]
    if structure[0] == "l":
        return ("list", items)
    return ("tuple", items)


def _unpack(prefix, n):
    names = ", ".join(f"{prefix}{i}" for i in range(n))
    return names + "," if n == 1 else names


def _identifier(name):
    name = re.sub(r"\W", "_", str(name))
    if not name or name[0].isdigit() or name == "_lambda_":
        return "compiled"
    return name
