"""The nodes a view reads: chainrule's `Value`s, or a learner's own class, adopted by its shape.

The views read a node's ``data``, ``grad``, ordered parents ``_prev``, op name ``_op`` and
``label``. chainrule's `Value` has them. A learner's class is read by one of the two common shapes
and wrapped in `Guest`s that have them too:

- micrograd's and the lecture's: ``data``, ``grad``, ``_prev`` (usually a set), ``_op``, an
  optional ``label``, and a ``_backward`` closure per node;
- microgpt's: ``data``, ``grad``, ``_children`` (a tuple) and ``_local_grads``, with no op names
  (such an operation is drawn and named ``f``).

A set has no order, so the parents in a set are sorted: by label, then by a fingerprint of how each
was computed (its op, its value and, recursively, its inputs), then by one of what it is used by,
then by which the walk reached first. The same graph is then drawn and stepped the same way on
every run; only parents alike in all of these (mirror images in the graph) can swap.

`reach` counts a graph's nodes up to a limit, so a view refuses a huge graph as soon as the count
passes its limit instead of walking the whole graph first.
"""

import hashlib
import linecache
import traceback
from pathlib import Path

from ..graph import _walk
from ..value import Value

UNNAMED_OP = "f"  # the op name shown for a learner's operation that has no name
_HERE = str(Path(__file__).resolve().parent.parent)  # the autograd package: not the learner's code


class GraphTooLargeError(ValueError):
    """A graph has more nodes than a view's limit; the message says what to do instead."""


class Guest:
    """A learner's node seen the way the views see a `Value`.

    ``original`` is their node; ``data`` and ``grad`` are read from it, so a view shows their
    numbers as they are now. ``_prev`` holds the guests of its parents in a fixed order, ``_local``
    the local gradients their node stored (microgpt's shape) or None (a ``_backward`` closure).
    """

    __slots__ = ("original", "_prev", "_op", "label", "_local", "_ordered")
    _scope = ()  # a learner's nodes carry no module scopes

    def __init__(self, original, parents, op, label, local, ordered):
        self.original = original
        self._prev = parents
        self._op = op
        self.label = label
        self._local = local
        self._ordered = ordered  # False when the parents came from a set (their order is ours)

    @property
    def data(self):
        return self.original.data

    @property
    def grad(self):
        return self.original.grad

    def __repr__(self):
        name = f" {self.label!r}" if self.label else ""
        return f"<Guest{name} of a {type(self.original).__name__} with data {short(self.data)}>"


def is_node(x):
    """A chainrule node, or anything with a learner's node shape (``data`` and parents)."""
    if isinstance(x, (Value, Guest)):
        return True
    return not isinstance(x, type) and hasattr(x, "data") and (hasattr(x, "_prev") or hasattr(x, "_children"))


SHAPES = (
    "a Value: chainrule's, or your own class with data, grad and _prev (micrograd's shape) "
    "or _children and _local_grads (microgpt's shape)"
)


def as_roots(root, what, limit=None, ops=True, refuse=None):
    """The roots a view was given (one node or a list of them) as nodes the views read.

    A learner's graph is adopted: every node gets its `Guest`. ``limit`` bounds the nodes adopted
    (values, plus one per operation when ``ops``); past it, ``refuse(count)`` raises. Returns the
    roots and, for a learner's graph, ``{id(their node): guest}`` (else None).
    """
    if is_node(root):
        roots = [root]
    else:
        try:
            roots = list(root)
        except TypeError:
            raise TypeError(f"{what} must be {SHAPES}; or a list of them; got {type(root).__name__}: {short(root)}") from None
        if not roots:
            raise TypeError(f"{what} must be a Value or a list of Values, got an empty list")
        bad = next((r for r in roots if not is_node(r)), None)
        if bad is not None:
            raise TypeError(f"{what} must be {SHAPES}; got a {type(bad).__name__} in the list: {short(bad)}")
        roots = list({id(r): r for r in roots}.values())
    if all(isinstance(r, (Value, Guest)) for r in roots):
        return roots, None
    guests = adopt(roots, limit, ops, refuse)
    return [guests[id(r)] for r in roots], guests


def reach(roots, limit=None, ops=True):
    """How many nodes the roots reach (values, plus one per operation when ``ops``). Stops as soon
    as the count passes ``limit`` and returns that count, so a huge graph is never walked whole."""
    seen = set(roots)
    stack = list(seen)
    count = 0
    step = 2 if ops else 1
    while stack:
        prev = stack.pop()._prev
        count += step if prev else 1
        if limit is not None and count > limit:
            return count
        for p in prev:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return count


def topological(roots):
    """Every node the roots reach, each after its parents: the engine's own order (its one walk,
    which reads only ``_prev``, so a learner's `Guest`s are ordered by the same rule)."""
    if len(roots) == 1:
        return _walk(roots[0], [])
    return _walk(_Joint(roots), [])[:-1]  # a throwaway node whose parents are the roots


class _Joint:
    __slots__ = ("_prev",)

    def __init__(self, roots):
        self._prev = tuple(roots)


# ---- adopting a learner's graph --------------------------------------------------------------------
class _Read:
    __slots__ = ("node", "parents", "ordered", "op", "label", "local", "print", "uses")

    def __init__(self, node):
        children = getattr(node, "_children", None)
        if children is not None:  # microgpt's shape: an ordered tuple and the local gradients
            self.parents, self.ordered = tuple(children), True
            local = getattr(node, "_local_grads", None)
            self.local = None if local is None else tuple(local)
            if self.local is not None and len(self.local) != len(self.parents):
                raise ValueError(
                    f"a {type(node).__name__} node has {len(self.parents)} _children but "
                    f"{len(self.local)} _local_grads: each child needs its local gradient"
                )
        else:
            prev = getattr(node, "_prev", None)
            if prev is None or not hasattr(node, "data"):
                raise TypeError(f"cannot read a {type(node).__name__} as a node: it needs data and _prev or _children")
            self.parents, self.ordered, self.local = tuple(prev), isinstance(prev, (tuple, list)), None
        op = getattr(node, "_op", "")
        op = "" if op is None else op if isinstance(op, str) else str(op)
        self.op = op or (UNNAMED_OP if self.parents else "")
        label = getattr(node, "label", "")
        self.label = "" if label is None else label if isinstance(label, str) else str(label)
        self.node = node
        self.print = None  # a fingerprint of how it was computed (its inputs, recursively)
        self.uses = None  # a fingerprint of what it is used by (its consumers, recursively)


def adopt(roots, limit=None, ops=True, refuse=None):
    """A `Guest` for every node the roots reach, ``{id(their node): guest}``."""
    read = {}
    post = []  # each node after its parents
    count = 0
    for root in roots:
        if id(root) in read:
            continue
        info = read[id(root)] = _Read(root)
        count += 2 if ops and info.parents else 1
        stack, active = [(info, iter(info.parents))], {id(root)}
        while stack:
            info, parents = stack[-1]
            for p in parents:
                key = id(p)
                if key in active:
                    raise ValueError(f"this graph has a cycle: a {type(p).__name__} node is among its own inputs")
                if key not in read:
                    if not is_node(p):
                        raise TypeError(
                            f"a {type(info.node).__name__} node has a parent that is not a node: "
                            f"a {type(p).__name__} ({short(p)}); parents must be nodes too"
                        )
                    child = read[key] = _Read(p)
                    count += 2 if ops and child.parents else 1
                    if limit is not None and count > limit:
                        refuse(count)
                    stack.append((child, iter(child.parents)))
                    active.add(key)
                    break
            else:
                stack.pop()
                active.discard(id(info.node))
                post.append(info)
        if limit is not None and count > limit:
            refuse(count)
    if all(info.ordered for info in post):
        order = post
    else:
        for info in post:  # a fingerprint of how each node was computed, for sorting sets
            kids = [read[id(p)].print for p in info.parents]
            if not info.ordered:
                kids.sort()
            h = hashlib.blake2b(digest_size=16)
            h.update(f"{info.op}\0{info.label}\0{short(getattr(info.node, 'data', None))}\0".encode("utf-8", "replace"))
            for k in kids:
                h.update(k)
            info.print = h.digest()
        uses = {}
        for info in reversed(post):  # consumers first: what each node is used by, and where
            h = hashlib.blake2b(info.print + b"".join(sorted(uses.get(id(info.node), []))), digest_size=16).digest()
            info.uses = h
            for position, p in enumerate(info.parents):
                uses.setdefault(id(p), []).append(h + (str(position).encode() if info.ordered else b""))
        order = _sorted_walk(roots, read)
    guests = {}
    for info in order:
        guests[id(info.node)] = Guest(
            info.node, tuple(guests[id(p)] for p in info.parents), info.op, info.label, info.local, info.ordered
        )
    return guests


def _sorted_walk(roots, read):
    """Each node after its parents, depth first from the roots, with every set of parents sorted as
    it is reached: by label, then how it was computed, then what it is used by, then (for parents
    alike in all of these) the one reached first."""
    reached = {}  # id -> when the walk first reached it
    post = []
    for root in roots:
        if id(root) in reached:
            continue
        reached[id(root)] = len(reached)
        stack = [(read[id(root)], None)]
        while stack:
            info, parents = stack[-1]
            if parents is None:  # reached for the first time: its parents' order is fixed now
                if not info.ordered:
                    info.parents = tuple(sorted(info.parents, key=lambda p: (
                        read[id(p)].label, read[id(p)].print, read[id(p)].uses, reached.get(id(p), len(read)))))
                parents = iter(info.parents)
                stack[-1] = (info, parents)
            for p in parents:
                if id(p) not in reached:
                    reached[id(p)] = len(reached)
                    stack.append((read[id(p)], None))
                    break
            else:
                stack.pop()
                post.append(info)
    return post


def printable(s):
    """``s`` with control characters and unpaired surrogates shown as their Python escapes
    (``\\n``, ``\\x00``, ``\\ud800``): a name on one line that every file and terminal can take."""
    if s.isprintable():
        return s
    return "".join(ch if ch.isprintable() or ch == " " else _escape(ch) for ch in s)


def _escape(ch):
    code = ord(ch)
    if 0xD800 <= code < 0xE000 or code < 32 or 0x7F <= code < 0xA0:
        return repr(ch)[1:-1]
    return ch  # other characters Python calls unprintable (spaces of other widths, marks) show as they are


def short(x, limit=60):
    """``repr(x)``, cut to ``limit`` characters; a failing ``__repr__`` gives the type's name."""
    try:
        text = repr(x)
    except Exception:  # a learner's __repr__ may fail: say what it is instead
        text = f"<{type(x).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---- running a learner's backward closures ----------------------------------------------------------
class LearnerCodeError(RuntimeError):
    """The learner's own code raised; the message names the node, the exception and their line."""


def learner_line(error):
    """Where in the learner's code ``error`` was raised: ``'line 12 in __mul__: out = ...'``, or ''."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if not str(Path(f.filename).resolve()).startswith(_HERE)]
    if not frames:
        return ""
    f = frames[-1]
    code = (f.line or linecache.getline(f.filename, f.lineno)).strip()
    return f"line {f.lineno} in {f.name}" + (f": {code}" if code else "")


def describe(error):
    """``TypeError: unsupported operand ... (line 12 in __mul__: ...)``: the exception and its line."""
    where = learner_line(error)
    try:
        text = str(error)
    except Exception:  # a learner's exception whose __str__ fails: its type says enough
        text = ""
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return message + (f" (at {where})" if where else "")


class Borrowed:
    """A learner's gradients lent to a pass that runs their ``_backward`` closures: every ``.grad``
    starts at zero, and all of them are put back exactly as they were when the pass ends, however it
    ends (an error in their code, Ctrl-C)."""

    def __init__(self, guests):
        self.saved = [(g.original, g.original.grad) for g in guests]

    def __enter__(self):
        try:
            for node, _ in self.saved:
                node.grad = 0.0
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        for node, grad in self.saved:
            node.grad = grad
        return False
