"""Writing a `program.Program` as one Python function: the forward pass, then the backward pass.

The function has the shape ``name(x, ix, p, grads, seed, gx)``: ``x`` the number arguments,
``ix`` the int arguments, ``p`` the values of the leaves it reads (parameters), ``grads`` where
their gradients are added, ``seed`` d(output)/d(output) (a list for several outputs; None computes
the outputs only), ``gx`` where the gradients of ``x`` are added (or None). For a neuron::

    def loss(x, ix, p, grads, seed, gx):
        x0, x1 = x
        p0, p1, p2 = p[:3]
        v8 = p0 + p1 * x0 + p2 * x1
        v9 = v8 if v8 > 0.0 else 0.0
        if seed is None:
            return v9
        g8 = (1.0 if v8 > 0.0 else 0.0) * seed
        grads[0] += g8
        grads[1] += x0 * g8
        grads[2] += x1 * g8
        if gx is not None:
            gx[0] += p1 * g8
            gx[1] += p2 * g8
        return v9

The parameters are read into local names once (``p0``); every node is a local variable (``v8``) unless its value is used once and nowhere else, in which
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
from .formulas import Formulas, arg_uses, fill, lit, render, show
from .program import Branch, Path
from .trace import Retrace

POW = OPERATIONS["**"]
_RESERVED = re.compile(r"[vgabdsxip]\d+|x|ix|p|grads|seed|gx|drawn")
MAX_FUSED_DEPTH = 24  # longer chains of single-use nodes get a variable (keeps lines short and nesting shallow)


class Generator:
    """Writes the code of one `Program`, and keeps the names it gave objects between rewrites."""

    def __init__(self, program, name="compiled"):
        self.program = program
        self.name = _identifier(name)
        self.drawn = []  # the numbers the last call drew (a Drawn is drawn once, even if the call is recorded again)
        self.namespace = {"Retrace": Retrace, "inf": math.inf, "nan": math.nan, "drawn": self.drawn}
        self._names = {}
        for builtin_name in ("abs", "float", "int", "max", "min", "len", "range"):
            obj = getattr(builtins, builtin_name)
            self.namespace[builtin_name] = obj
            self._names[id(obj)] = builtin_name
        self.formulas = Formulas(self.bind, self.namespace)
        self._renders = {}
        self._recipes = {}

    def bind(self, obj, hint=None):
        """The name the generated code uses for ``obj`` (a function, a module, a number's type);
        ``hint`` names a lambda."""
        name = self._names.get(id(obj))
        if name is not None:
            return name
        base = getattr(getattr(obj, "rule", obj), "__name__", None) or type(obj).__name__  # a checked derivative: its rule's name
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
        if program.n_inputs:
            lines.append(f"    {_unpack('x', program.n_inputs)} = x")
        if program.n_indices:
            lines.append(f"    {_unpack('i', program.n_indices)} = ix")
        leaves = [n.slot for n in nodes if n.kind == "leaf"]
        if leaves:  # the parameters it reads, as local names (faster to run and to compile than p[k])
            count = max(leaves) + 1
            for start in range(0, count, 16):
                end = min(start + 16, count)
                names = ", ".join(f"p{k}" for k in range(start, end))
                lines.append(f"    {names}{',' if end - start == 1 else ''} = p[{start if start else ''}:{end}]")
        if any(n.kind == "drawn" for n in nodes):  # what it drew, for a call recorded again (see Compiled.run)
            lines.append("    drawn.clear()")
        self._emit(program.tree, 0, "    ", lines)
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
        n = len(nodes)
        self.forward, self.locals = {}, {}
        uses = [0] * n
        consumer = [None] * n
        needed = set()
        self.domain = {}
        for node in nodes:
            if node.kind != "op":
                continue
            c = node.id
            parents = node.parents
            pattern = tuple([("lit", nodes[p].value) if nodes[p].kind == "const" else None for p in parents])
            forward, local, args_used = self._recipe(node.op, pattern, node.grad)
            self.forward[c] = forward
            for p in parents:
                uses[p] += 1
                consumer[p] = c
            if node.op is POW and not _integral(nodes[parents[1]]):
                self.domain[c] = parents[0]  # a ** b needs a >= 0 unless b is a whole number
                needed.update((c, parents[0]))
            if local is None:
                continue
            self.locals[c] = local
            arguments = (*parents, c)
            if local[0] == "call":  # called at run time: it needs every argument
                needed.update(arguments)
                continue
            for j, p in enumerate(parents):
                if nodes[p].grad:
                    for i in args_used[j]:
                        needed.add(arguments[i])
        members = [0] * n  # which paths each node is on (a bit per path)
        for i, path in enumerate(program.paths):
            bit = 1 << i
            for c in path.order:
                members[c] |= bit
        for path in program.paths:
            needed.update(ref[1] for ref in path.outputs if ref[0] == "ref")
            for guard, _ in path.guards:
                needed.update(part[1] for part in guard[1:] if isinstance(part, tuple) and part[0] == "ref")
        fused = self.fused = [False] * n
        depth = [0] * n
        for node in nodes:  # ids are topological: parents first
            if node.kind != "op":
                continue
            c = node.id
            depth[c] = 1 + max([depth[p] for p in node.parents if fused[p]], default=0)
            after = consumer[c]
            fused[c] = (uses[c] == 1 and c not in needed and after is not None and members[c] == members[after]
                        and depth[c] < MAX_FUSED_DEPTH)
        self.members = members
        self._texts = {}

    def _recipe(self, op, pattern, grad):
        """``(forward, local derivatives, which arguments each local uses)`` of an operation on
        arguments known or not (``pattern``), rendered once for every node like it."""
        key = (id(op), pattern, grad)
        found = self._recipes.get(key)
        if found is not None:
            return found
        formulas = self.formulas
        forward = self._rendered(formulas.forward(op, pattern))
        local = args_used = None
        if grad:
            tree = formulas.derivative(op, pattern + (None,))
            if tree[0] == "call":
                local = ("call", self._rendered(tree))
            else:
                local = ("entries", [(entry, self._rendered(entry)) for entry in tree])
                args_used = [sorted(arg_uses(entry)) for entry in tree]
        found = self._recipes[key] = (forward, local, args_used)
        return found

    def _rendered(self, tree):
        found = self._renders.get(id(tree))
        if found is None:
            found = self._renders[id(tree)] = (tree, render(tree))
        return found[1]

    def text(self, c):
        """``(text, precedence)`` of node ``c``'s value in the generated code."""
        found = self._texts.get(c)
        if found is not None:
            return found
        node = self.program.nodes[c]
        kind = node.kind
        if kind == "op":
            if self.fused[c]:
                found = fill(self.forward[c], [self.text(p) for p in node.parents])
            else:
                found = (f"v{c}", ATOM)
        elif kind == "input":
            found = (f"x{node.slot}", ATOM)
        elif kind == "index":
            found = (f"i{node.slot}", ATOM)
        elif kind == "leaf":
            found = (f"p{node.slot}", ATOM)
        elif kind == "const":
            found = show(lit(node.value))
        else:  # drawn
            found = (f"v{c}", ATOM)
        self._texts[c] = found
        return found

    def _operand(self, part):
        if part[0] == "ref":
            node = self.program.nodes[part[1]]
            return lit(node.value) if node.kind == "const" else ("var", self.text(part[1])[0])
        if part[0] == "index":
            return ("var", f"i{part[1]}")
        return lit(part[1])

    # ---- the tree of paths ----
    def _emit(self, tree, above, indent, lines):
        """The code of a subtree: the nodes on every path below it (and not on every path below
        the branch above, bits ``above``), then its branch or its path's end."""
        paths = _paths(tree)
        mask = 0
        for path in paths:
            mask |= 1 << self.program.paths.index(path)
        if mask != above:
            self._forward(mask, above, paths[0], indent, lines)
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
            self._emit(child, mask, indent, lines)
            return
        if kind == "cmp" and set(tree.children) == {True, False}:
            lines.append(f"{indent}if {show(condition)[0]}:")
            self._emit(tree.children[True], mask, indent + "    ", lines)
            lines.append(f"{indent}else:")
            self._emit(tree.children[False], mask, indent + "    ", lines)
            return
        for k, (outcome, child) in enumerate(children):
            test = condition if outcome is True and kind == "cmp" else _test(condition, outcome)
            lines.append(f"{indent}{'if' if k == 0 else 'elif'} {show(test)[0]}:")
            self._emit(child, mask, indent + "    ", lines)
        lines.append(f"{indent}else:")
        lines.append(f"{indent}    raise Retrace")

    def _forward(self, mask, above, path, indent, lines):
        """The forward statements of the nodes on every path of ``mask`` but not of ``above``."""
        nodes = self.program.nodes
        members = self.members

        def here(c):
            m = members[c]
            return m & mask == mask and (not above or m & above != above)

        for c in path.draws:
            if here(c):
                lines.append(f"{indent}v{c} = {self.bind(nodes[c].draw)}()")
                lines.append(f"{indent}drawn.append(v{c})")
        scope = None
        text = self.text
        fused = self.fused
        for c in path.order:
            node = nodes[c]
            if node.kind != "op" or fused[c] or not here(c):
                continue
            if node.scope and node.scope != scope:
                scope = node.scope
                lines.append(f"{indent}# {' / '.join(scope)}")
            if c in self.domain:
                lines.append(f"{indent}if {text(self.domain[c])[0]} < 0.0:")
                lines.append(f"{indent}    raise Retrace")
            lines.append(f"{indent}v{c} = {fill(self.forward[c], [text(p) for p in node.parents])[0]}")

    def _finish(self, path, indent, lines):
        """The end of one path: its outputs, then its backward pass. Each node's gradient is the
        sum of what its consumers pass it, in the order ``backward()`` adds them, written once all
        of them are known; the leaves' sums are added to ``grads`` at the very end."""
        nodes = self.program.nodes
        text = self.text
        outputs = [self._operand(ref) for ref in path.outputs]
        result = show(_rebuilt(path.structure, outputs))[0]
        lines.append(f"{indent}if seed is None:")
        lines.append(f"{indent}    return {result}")
        single = isinstance(path.structure, int)  # one number: the seed is a number, else a list
        if not single:
            lines.append(f"{indent}{_unpack('s', len(path.outputs))} = seed")
        terms = {}
        for j, ref in enumerate(path.outputs):
            if ref[0] == "ref" and nodes[ref[1]].grad:
                terms.setdefault(ref[1], []).append(("seed" if single else f"s{j}", ATOM))
        leaves = []
        for c in reversed(path.order):
            node = nodes[c]
            if node.kind != "op":
                if c in terms and node.grad:
                    leaves.append(c)
                continue
            received = terms.pop(c, None)
            if received is None or not node.grad:
                continue
            if len(received) == 1 and received[0][1] == ATOM and received[0][0].isidentifier():
                upstream = received[0]  # one contribution of 1 × a gradient: that same number
            else:
                lines.append(f"{indent}g{c} = {_sum(received)}")
                upstream = (f"g{c}", ATOM)
            arguments = [text(p) for p in node.parents] + [text(c)]
            how, local = self.locals[c]
            if how == "call":
                lines.append(f"{indent}d{c} = {fill(local, arguments)[0]}")
            for j, parent in enumerate(node.parents):
                if not nodes[parent].grad:
                    continue
                if how == "call":
                    factor = (f"d{c}[{j}]", ATOM)
                else:
                    entry, shape = local[j]
                    if entry[0] == "lit":
                        if entry[1] == 0:
                            continue
                        factor = entry[1]
                    else:
                        factor = fill(shape, arguments)
                terms.setdefault(parent, []).append(_times(factor, upstream))
        seen = set(leaves)
        leaves.extend(c for c in terms if c not in seen and nodes[c].kind in ("leaf", "input"))
        flush = sorted((nodes[c].slot, c) for c in leaves if nodes[c].kind == "leaf")
        for slot, c in flush:
            lines.append(f"{indent}grads[{slot}] += {_sum(terms[c])}")
        inputs = sorted((nodes[c].slot, c) for c in leaves if nodes[c].kind == "input")
        if inputs:
            lines.append(f"{indent}if gx is not None:")
            for slot, c in inputs:
                lines.append(f"{indent}    gx[{slot}] += {_sum(terms[c])}")
        lines.append(f"{indent}return {result}")


ATOM = 16


def _sum(terms):
    """``t0 + t1 + ...``, added left to right as ``backward()`` adds contributions."""
    parts = []
    for k, (text, p) in enumerate(terms):
        parts.append(text if p > 10 or (k == 0 and p == 10) else f"({text})")
    return " + ".join(parts)


def _times(factor, upstream):
    """``(text, precedence)`` of a local derivative times an upstream gradient."""
    if not isinstance(factor, tuple):  # a number known when compiling
        if factor == 1:
            return upstream
        if factor == -1:
            return (f"-{upstream[0]}" if upstream[1] >= 12 else f"-({upstream[0]})"), 12
        factor = show(lit(factor))
    left = factor[0] if factor[1] >= 11 else f"({factor[0]})"
    right = upstream[0] if upstream[1] > 11 else f"({upstream[0]})"
    return f"{left} * {right}", 11


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
