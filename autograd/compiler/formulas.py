"""An operation's formulas as expressions the generated code can contain.

The compiler writes no calculus of its own: for every node it takes the operation's own float
formula (``op.forward``) and local derivatives (``op.derivative``) and turns them into Python
expressions over the generated code's variables, trying three ways in turn:

1. **Run the formula on symbols.** The formula is called with `Sym` objects, which record the
   arithmetic done on them: ``lambda a, b, out: (b, a)`` gives the expressions ``b`` and ``a``,
   ``lambda a, out: (1.0 - out * out,)`` gives ``1.0 - out * out``. Numbers known when compiling
   (a constant exponent, say) are passed as numbers, so Python folds them exactly as it would at run
   time. A symbol refuses to be compared or converted to a float, so a formula with a branch on its
   inputs (relu's ``1.0 if a > 0.0 else 0.0``) cannot run this way.
2. **Inline the formula's source.** A lambda (or a ``def`` that only returns an expression) is
   found in its source file, and its expression is copied with the arguments put in: relu's
   derivative becomes ``1.0 if v3 > 0.0 else 0.0``, evaluated at run time. Names it uses (``math``,
   ``sigmoid``...) are bound to the objects they name now.
3. **Call it.** Anything else (a C function such as ``math.exp``, a formula with loops) is called:
   ``exp(v3)``, ``d7 = my_derivative(v5, v6, v7)``.

Expressions are small trees of tuples, printed with only the parentheses Python needs (the order of
evaluation, and so every rounding, stays that of the formula).
"""

import ast
import builtins
import inspect
import linecache
import math
import numbers

# ---- expression trees ---------------------------------------------------------------------------
# ("arg", i)             argument i of a formula (filled in when printed)
# ("var", name)          a name in the generated code (a variable, or a bound function)
# ("lit", x)             a number
# ("bin", op, a, b)      a op b, op one of + - * / // % **
# ("unary", op, a)       -a, +a, not a
# ("call", f, args)      f(*args), f an expression
# ("if", test, a, b)     a if test else b
# ("cmp", a, ops, bs)    a < b <= c ...
# ("bool", op, values)   a and b, a or b
# ("item", a, i)         a[i]
# ("tuple", items), ("list", items)

PRECEDENCE = {"if": 1, "or": 2, "and": 3, "not": 4, "cmp": 5, "+": 10, "-": 10, "*": 11, "/": 11, "//": 11, "%": 11,
              "unary": 12, "**": 13, "atom": 16}
_AST_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**"}
_AST_CMPOPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
               ast.Is: "is", ast.IsNot: "is not"}


def lit(x):
    return ("lit", x)


class Hole:
    """Where argument ``i`` goes in a rendered expression; it gets parentheses when its precedence
    is below ``t``."""

    __slots__ = ("i", "t")

    def __init__(self, i, t=0):
        self.i = i
        self.t = t


def render(tree):
    """``(pieces, precedence)``: the expression as text pieces and `Hole`s for its arguments, with
    only the parentheses Python needs; the precedence is None for a lone argument (it is then the
    argument's own)."""
    kind = tree[0]
    if kind == "arg":
        return [Hole(tree[1])], None
    if kind == "var":
        return [tree[1]], PRECEDENCE["atom"]
    if kind == "lit":
        text, p = _number(tree[1])
        return [text], p
    if kind == "bin":
        op = tree[1]
        p = PRECEDENCE[op]
        left = _wrapped(render(tree[2]), p + 1 if op == "**" else p)
        right = _wrapped(render(tree[3]), p if op == "**" else p + 1)
        return left + [f" {op} "] + right, p
    if kind == "unary":
        op = tree[1]
        p = PRECEDENCE["not" if op == "not" else "unary"]
        return [f"{op} " if op == "not" else op] + _wrapped(render(tree[2]), p), p
    atom = PRECEDENCE["atom"]
    if kind == "call":
        pieces = _wrapped(render(tree[1]), atom) + ["("]
        for k, a in enumerate(tree[2]):
            pieces += ([", "] if k else []) + render(a)[0]
        return pieces + [")"], atom
    if kind == "item":
        return _wrapped(render(tree[1]), atom) + ["["] + render(tree[2])[0] + ["]"], atom
    if kind == "if":
        p = PRECEDENCE["if"]
        pieces = _wrapped(render(tree[2]), p + 1) + [" if "] + _wrapped(render(tree[1]), p + 1) + [" else "]
        return pieces + _wrapped(render(tree[3]), p), p
    if kind == "cmp":
        p = PRECEDENCE["cmp"]
        pieces = _wrapped(render(tree[1]), p + 1)
        for op, b in zip(tree[2], tree[3]):
            pieces += [f" {op} "] + _wrapped(render(b), p + 1)
        return pieces, p
    if kind == "bool":
        p = PRECEDENCE[tree[1]]
        pieces = []
        for k, v in enumerate(tree[2]):
            pieces += ([f" {tree[1]} "] if k else []) + _wrapped(render(v), p + 1)
        return pieces, p
    if kind in ("tuple", "list"):
        pieces = ["(" if kind == "tuple" else "["]
        for k, v in enumerate(tree[1]):
            pieces += ([", "] if k else []) + render(v)[0]
        return pieces + ([",)"] if kind == "tuple" and len(tree[1]) == 1 else [")" if kind == "tuple" else "]"]), atom
    raise ValueError(f"not an expression: {tree!r}")


def _wrapped(rendered, t):
    """The pieces of a sub-expression, in parentheses when its precedence is below ``t``."""
    pieces, p = rendered
    if p is None:  # a lone argument: decided when it is filled in
        hole = pieces[0]
        return [Hole(hole.i, max(hole.t, t))]
    return ["("] + pieces + [")"] if p < t else pieces


def fill(rendered, args):
    """``(text, precedence)`` of a rendered expression with ``args[i]`` (each a ``(text,
    precedence)``) in its holes."""
    pieces, p = rendered
    out = []
    for piece in pieces:
        if type(piece) is str:
            out.append(piece)
        else:
            text, q = args[piece.i]
            out.append(text if q >= piece.t else f"({text})")
    if p is None:
        return out[0], args[pieces[0].i][1]
    return "".join(out), p


def show(tree, args=()):
    """``(source text, precedence)`` of an expression tree; ``args`` (trees) fill its ("arg", i)."""
    return fill(render(tree), [show(a) for a in args])


def _number(x):
    if isinstance(x, bool):
        return repr(x), PRECEDENCE["atom"]
    if isinstance(x, float):
        if math.isnan(x):
            return "nan", PRECEDENCE["atom"]
        if math.isinf(x):
            return ("inf", PRECEDENCE["atom"]) if x > 0 else ("-inf", PRECEDENCE["unary"])
    text = repr(x)
    return text, PRECEDENCE["unary"] if text.startswith("-") else PRECEDENCE["atom"]


def references(tree, out=None):
    """The ("var", name) names an expression tree uses (arguments not filled in are skipped)."""
    out = set() if out is None else out
    stack = [tree]
    while stack:
        t = stack.pop()
        kind = t[0]
        if kind == "var":
            out.add(t[1])
        elif kind in ("bin",):
            stack += [t[2], t[3]]
        elif kind == "unary":
            stack.append(t[2])
        elif kind == "call":
            stack.append(t[1])
            stack += t[2]
        elif kind == "item":
            stack += [t[1], t[2]]
        elif kind == "if":
            stack += [t[1], t[2], t[3]]
        elif kind == "cmp":
            stack.append(t[1])
            stack += t[3]
        elif kind in ("bool", "tuple", "list"):
            stack += t[2] if kind == "bool" else t[1]
    return out


def arg_uses(tree):
    """Which ("arg", i) an expression tree uses."""
    used = set()
    stack = [tree]
    while stack:
        t = stack.pop()
        if not isinstance(t, tuple) or not t:
            continue
        if t[0] == "arg":
            used.add(t[1])
        elif t[0] not in ("var", "lit"):
            stack.extend(x for x in t[1:] if isinstance(x, tuple))
            for x in t[1:]:
                if isinstance(x, list):
                    stack.extend(x)
    return used


# ---- symbols ------------------------------------------------------------------------------------
class NotSymbolic(Exception):
    """A formula asked a symbol for its value (a comparison, a float conversion...)."""


def _tree(x):
    if isinstance(x, Sym):
        return x.tree
    if isinstance(x, numbers.Real) and not isinstance(x, bool) and type(x) in (int, float):
        return lit(x)
    raise NotSymbolic


class Sym:
    """A value not known while compiling: arithmetic on it records the expression."""

    __slots__ = ("tree",)

    def __init__(self, tree):
        self.tree = tree

    def _bin(self, op, other, reflected=False):
        a, b = self.tree, _tree(other)
        return Sym(("bin", op, b, a) if reflected else ("bin", op, a, b))

    def __add__(self, o):
        return self._bin("+", o)

    def __radd__(self, o):
        return self._bin("+", o, True)

    def __sub__(self, o):
        return self._bin("-", o)

    def __rsub__(self, o):
        return self._bin("-", o, True)

    def __mul__(self, o):
        return self._bin("*", o)

    def __rmul__(self, o):
        return self._bin("*", o, True)

    def __truediv__(self, o):
        return self._bin("/", o)

    def __rtruediv__(self, o):
        return self._bin("/", o, True)

    def __pow__(self, o):
        return self._bin("**", o)

    def __rpow__(self, o):
        return self._bin("**", o, True)

    def __neg__(self):
        return Sym(("unary", "-", self.tree))

    def __pos__(self):
        return Sym(("unary", "+", self.tree))

    def __abs__(self):
        return Sym(("call", ("var", "abs"), [self.tree]))

    def _refuse(self, *args):
        raise NotSymbolic

    __bool__ = __float__ = __int__ = __index__ = __complex__ = __round__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = __hash__ = _refuse
    __iter__ = __len__ = __getitem__ = _refuse


def run_symbolically(f, args):
    """``f(*args)`` with symbols as the tree of its result, or None when ``f`` needs values."""
    try:
        result = f(*args)
    except NotSymbolic:
        return None
    except Exception:  # a formula that does more than arithmetic on its inputs
        return None
    return result


def _as_tree(x):
    """A formula's result (a symbol or a plain number) as a tree, or None."""
    if isinstance(x, Sym):
        return x.tree
    if type(x) in (int, float):
        return lit(x)
    return None


# ---- the source of a formula --------------------------------------------------------------------
_parsed = {}


def _module_ast(filename):
    lines = linecache.getlines(filename)
    if not lines:
        return None
    text = "".join(lines)
    cached = _parsed.get(filename)
    if cached is not None and cached[0] == text:
        return cached[1]
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    _parsed[filename] = (text, tree)
    return tree


_found = {}


def formula_ast(f):
    """``(parameter names, vararg name, the expression f returns)`` from f's source, or None."""
    key = getattr(f, "__code__", None)
    if key not in _found:
        _found[key] = _formula_ast(f)
    return _found[key]


def _formula_ast(f):
    code = getattr(f, "__code__", None)
    if code is None:
        return None
    module = _module_ast(code.co_filename)
    if module is None:
        return None
    # where the instructions of f come from (zero-width entries, such as the function's start, say nothing)
    positions = [(p[0], p[2]) for p in code.co_positions()
                 if None not in p and (p[1], p[3]) > (p[0], p[2])]
    names = list(code.co_varnames[:code.co_argcount])
    found = []
    for node in ast.walk(module):
        if isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno:
            if [a.arg for a in node.args.args] == names and all(_inside(node, line, col) for line, col in positions):
                found.append((node.args, node.body))
        elif isinstance(node, (ast.FunctionDef,)) and node.name == code.co_name:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            if first == code.co_firstlineno:
                statements = node.body
                if statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant):
                    statements = statements[1:]  # the docstring
                if len(statements) == 1 and isinstance(statements[0], ast.Return) and statements[0].value is not None:
                    found.append((node.args, statements[0].value))
    if len(found) != 1:
        return None
    arguments, body = found[0]
    if arguments.kwonlyargs or arguments.kwarg or arguments.defaults or arguments.posonlyargs:
        return None
    names = [a.arg for a in arguments.args]
    return names, (arguments.vararg.arg if arguments.vararg else None), body


def _inside(node, line, col):
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno, node.end_col_offset)
    return start <= (line, col) <= end


class Unsupported(Exception):
    """Source the inliner does not copy (a loop, a keyword argument...)."""


def ast_to_tree(node, f, params, bind):
    """The expression ``node`` (from the source of ``f``) as a tree: parameter ``params[i]`` becomes
    ("arg", i); other names are resolved now and bound with ``bind(object) -> name``."""
    closure = {}
    if f.__closure__:
        closure = dict(zip(f.__code__.co_freevars, (c.cell_contents for c in f.__closure__)))

    def resolve(name):
        if name in closure:
            return closure[name]
        if name in f.__globals__:
            return f.__globals__[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        raise Unsupported(name)

    def constant(value):
        if type(value) in (int, float, bool):
            return lit(value)
        return ("var", bind(value))

    def walk(n):
        if isinstance(n, ast.Name):
            if n.id in params:
                return ("arg", params.index(n.id))
            return constant(resolve(n.id))
        if isinstance(n, ast.Constant):
            if type(n.value) in (int, float, bool):
                return lit(n.value)
            raise Unsupported(n.value)
        if isinstance(n, ast.Attribute):
            base = n
            chain = []
            while isinstance(base, ast.Attribute):
                chain.append(base.attr)
                base = base.value
            if not isinstance(base, ast.Name) or base.id in params:
                raise Unsupported("attribute of an argument")
            obj = resolve(base.id)
            for attr in reversed(chain):
                obj = getattr(obj, attr)
            return constant(obj)
        if isinstance(n, ast.BinOp) and type(n.op) in _AST_BINOPS:
            return ("bin", _AST_BINOPS[type(n.op)], walk(n.left), walk(n.right))
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.USub, ast.UAdd, ast.Not)):
            op = {ast.USub: "-", ast.UAdd: "+", ast.Not: "not"}[type(n.op)]
            return ("unary", op, walk(n.operand))
        if isinstance(n, ast.IfExp):
            return ("if", walk(n.test), walk(n.body), walk(n.orelse))
        if isinstance(n, ast.Compare) and all(type(op) in _AST_CMPOPS for op in n.ops):
            return ("cmp", walk(n.left), [_AST_CMPOPS[type(op)] for op in n.ops], [walk(c) for c in n.comparators])
        if isinstance(n, ast.BoolOp):
            return ("bool", "and" if isinstance(n.op, ast.And) else "or", [walk(v) for v in n.values])
        if isinstance(n, ast.Call) and not n.keywords and not any(isinstance(a, ast.Starred) for a in n.args):
            return ("call", walk(n.func), [walk(a) for a in n.args])
        if isinstance(n, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in n.elts):
            return ("tuple", [walk(e) for e in n.elts])
        if isinstance(n, ast.Subscript) and not isinstance(n.slice, ast.Slice):
            return ("item", walk(n.value), walk(n.slice))
        raise Unsupported(type(n).__name__)

    return walk(node)


def split_entries(tree, n):
    """A derivative's tree as ``n`` trees, one per input: a tuple, or a choice between tuples
    (``(1.0, 0.0) if a > 0.0 else (s, a)`` gives ``1.0 if a > 0.0 else s`` and ``0.0 if ...``)."""
    if tree[0] == "tuple":
        return list(tree[1]) if len(tree[1]) == n else None
    if tree[0] == "if":
        body, other = split_entries(tree[2], n), split_entries(tree[3], n)
        if body is None or other is None:
            return None
        return [("if", tree[1], b, o) for b, o in zip(body, other)]
    return None


# ---- a formula as expressions -------------------------------------------------------------------
class Formulas:
    """Turns the formulas of operations into expression trees, remembering each result.

    ``bind(obj) -> name`` gives the generated code a name for an object a formula uses (a function,
    a module), which ``namespace`` then holds; the code generator supplies both.
    """

    def __init__(self, bind, namespace):
        self.bind = bind
        self.namespace = namespace
        self._cache = {}

    def _symbols(self, pattern):
        return [Sym(("arg", i)) if p is None else p[1] for i, p in enumerate(pattern)]

    def forward(self, op, pattern):
        """The tree of ``op.forward`` applied to arguments whose ``pattern`` entries are None (known
        at run time) or ("lit", x)."""
        key = ("forward", id(op), pattern)
        if key not in self._cache:
            self._cache[key] = self._forward(op, pattern)
        return self._cache[key]

    def _forward(self, op, pattern):
        expressions = getattr(op, "expressions", None)  # an operation of the compiler's own (take)
        if expressions is not None:
            return expressions(len(pattern) - 1)[0]
        f = op.forward
        tree = _as_tree(run_symbolically(f, self._symbols(pattern)))
        if tree is None:
            tree = self._inlined(f, pattern, 1, single=True)
            tree = tree[0] if tree is not None else None
        if tree is None:
            tree = ("call", ("var", self.bind(f, f"{_op_name(op)}_forward")), [("arg", i) for i in range(len(pattern))])
        if not op.builtin:  # apply() makes an operation's result a float, as float() does
            tree = ("call", ("var", "float"), [tree])
        return tree

    def derivative(self, op, pattern):
        """The local derivatives of ``op``: a list of trees, one per input (the last argument,
        ``out``, is ("arg", len(pattern) - 1)), or ("call", ...) when the derivative must be called
        and its entries read from the tuple it returns."""
        key = ("derivative", id(op), pattern)
        if key not in self._cache:
            self._cache[key] = self._derivative(op, pattern)
        return self._cache[key]

    def _derivative(self, op, pattern):
        n = len(pattern) - 1
        expressions = getattr(op, "expressions", None)
        if expressions is not None:
            return expressions(n - 1)[1]
        f = getattr(op.derivative, "rule", op.derivative)  # a learner's own function, not its checking wrapper
        result = run_symbolically(f, self._symbols(pattern))
        if isinstance(result, (tuple, list)) and len(result) == n:
            trees = [_as_tree(r) for r in result]
            if all(t is not None for t in trees):
                return trees
        trees = self._inlined(f, pattern, n)
        if trees is not None and (op.builtin or all(map(_numeric, trees))):
            return trees
        # called as the engine calls it: a learner's derivative through its check, so a slip (a bool,
        # a wrong count) raises the error the graph path raises
        return ("call", ("var", self.bind(op.derivative, f"{_op_name(op)}_derivative")), [("arg", i) for i in range(len(pattern))])

    def _inlined(self, f, pattern, n, single=False):
        """``n`` trees from f's source (each folded where its known arguments allow), or None."""
        found = formula_ast(f)
        if found is None:
            return None
        names, vararg, body = found
        if vararg is not None or len(names) != len(pattern):
            return None
        try:
            tree = ast_to_tree(body, f, names, self.bind)
        except (Unsupported, AttributeError):
            return None
        entries = [tree] if single else split_entries(tree, n)
        if entries is None:
            return None
        return [self._folded(entry, pattern) for entry in entries]

    def _folded(self, tree, pattern):
        """``tree`` with its known arguments put in, and evaluated symbolically where that works
        (a branch on a known number is decided now)."""
        known = [p for p in pattern]
        if all(k is None for k in known):
            return tree
        filled = _substitute(tree, known)
        try:
            source, _ = show(filled, [("var", f"_a{i}") for i in range(len(pattern))])
            namespace = dict(self.namespace)
            f = eval(compile(f"lambda {', '.join(f'_a{i}' for i in range(len(pattern)))}: {source}", "<formula>", "eval"),
                     namespace)
        except Exception:
            return filled
        result = _as_tree(run_symbolically(f, [Sym(("arg", i)) for i in range(len(pattern))]))
        return filled if result is None else result


def _numeric(tree):
    """Whether an inlined derivative entry surely gives a number (not a bool, a comparison, a
    tuple...), as the engine's check of a learner's derivative requires."""
    kind = tree[0]
    if kind == "lit":
        return type(tree[1]) in (int, float)
    if kind == "if":
        return _numeric(tree[2]) and _numeric(tree[3])
    return kind in ("arg", "var", "bin", "call", "item") or (kind == "unary" and tree[1] != "not")


_SYMBOL_NAMES = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}


def _op_name(op):
    return _SYMBOL_NAMES.get(str(op), str(op))


def _substitute(tree, known):
    """``tree`` with ("arg", i) replaced by known[i] where that is ("lit", x)."""
    if not isinstance(tree, tuple):
        return tree
    if tree[0] == "arg":
        k = known[tree[1]]
        return k if k is not None else tree
    if tree[0] in ("var", "lit"):
        return tree
    return tuple(
        [_substitute(t, known) for t in part] if isinstance(part, list) else _substitute(part, known)
        for part in tree
    )
