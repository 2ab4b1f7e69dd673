"""`check_engine(YourValue)`: a learner's own Value class checked against chainrule, op by op.

A learner who writes their own engine (micrograd's shape, with a ``_backward`` closure per node,
or microgpt's, with ``_children`` and ``_local_grads``) calls ``check_engine(Value)`` and gets one
line per check, in the voice of the lessons' exercise checker::

    Checking Value against chainrule: 28 checks.
    ✓ a + b: right (the value and both gradients, at (a, b) = (0.6, -1.7) and (-1.3, 0.8)).
    ✗ a * b: Not quite: at a = 0.6, b = -1.7: b.grad is -1.7, but chainrule gives 0.6. Hint: ...
    … relu(a): skipped: Value has no relu().
    ⚠ deep chain: backward() on a chain of 5000 additions raised RecursionError ...
    Right: 22, not quite: 1, skipped: 3.

Every line starts with a mark and the check's name: ``✓`` right, ``✗`` not quite, ``…`` skipped
(the class lacks that operation or refuses its arguments, or its operations are too slow for the
deep chain: a short chain is timed first), ``⚠`` a limit worth knowing
that is not counted as wrong (a recursive topological sort on a deep chain). The names, marks and
order are stable, so a lesson can rely on them (``report["a * b"].status``).

Every operation is checked at two points, chosen so that each input is negative at one and
positive at the other and every branch is taken (``relu`` where it passes the gradient and where
it blocks it): a rule right at one point only is caught, and the message names the point.

The checks, in order:

- **operations**: the value and the gradients of ``a + b``, ``a - b``, ``a * b``, ``a / b``,
  ``a ** 3``, ``a ** -2``, ``a ** 0.5`` (the last two skipped if the class's ``__pow__`` refuses
  such exponents), ``-a``, ``tanh(a)``, ``exp(a)``, ``log(a)``, ``relu(a)``. The gradients come
  from the learner's own chain rule, node by node, run by chainrule in a correct order (their
  ``_backward`` closures, or their ``_local_grads``), so a wrong local derivative is told apart
  from a wrong ``backward()``. A class chainrule cannot read is checked through its ``backward()``.
- **numbers on either side**: ``a + 2``, ``2 + a``, ``a - 2``, ``2 - a``, ``a * 2``, ``2 * a``,
  ``a / 2``, ``2 / a``.
- **values used more than once**: ``a + a`` and ``a * a`` (the classic ``=`` instead of ``+=``),
  and a value reused across branches.
- **backward()**: the learner's own pass on the lecture's expression, on a graph where any order
  but a topological one gives wrong gradients, on a deep chain, and on the lecture's neuron with
  each activation the class has, its pre-activation positive and negative.
  Their pass is watched node by node (each node's ``_backward``, or the reads of its
  ``_local_grads``, counted), so a node whose step runs twice (a topological sort without a set of
  visited nodes) or never is told apart from a wrong order and from a wrong rule.

It never raises because of the learner's code: whatever their code raises (``SystemExit`` from an
``exit()`` included; only Ctrl-C stops the checker) is reported with its line. It returns an `EngineReport`, true when nothing is wrong, shown as text (``print``) or,
in Jupyter, as coloured lines.
"""

import html
import math
import numbers
import sys
import time

from ..graph import gradients
from ..value import Value
from ..views.nodes import LearnerCodeError, describe, is_node, learner_line, short
from ..views.steps import backward_steps

__all__ = ["check_engine", "EngineReport", "EngineCheck"]

MARKS = {"right": "✓", "wrong": "✗", "skipped": "…", "note": "⚠"}
COLOURS = {"right": "#15803d", "wrong": "#b91c1c", "skipped": "#6b7280", "note": "#b45309"}
CHAIN = 5000  # operations in the deep chain: five times Python's usual recursion limit
PROBE = 100  # operations timed first: the deep chain is skipped if it would take more than BUDGET seconds
BUDGET = 3.0
# Every check runs at two points, so each branch of an operation is taken and each input is negative
# at one point and positive at the other: a rule right at one point only (a ReLU without its mask,
# an abs() too many) is caught. Nothing cancels at any of them.
ONE = ((0.6,), (-1.3,))
TWO = ((0.6, -1.7), (-1.3, 0.8))
POSITIVE = ((0.6,), (2.3,))  # log and fractional powers: defined for a > 0 only

# name, methods the class needs, function of the inputs, points, the derivative in words, optional:
# an operation the class may refuse for these arguments (a power it was not written for) is skipped
OPERATIONS = [
    ("a + b", ("__add__",), lambda a, b: a + b, TWO, "d(a+b)/da = d(a+b)/db = 1", False),
    ("a - b", ("__sub__",), lambda a, b: a - b, TWO, "d(a-b)/da = 1 and d(a-b)/db = -1", False),
    ("a * b", ("__mul__",), lambda a, b: a * b, TWO, "d(a*b)/da = b and d(a*b)/db = a", False),
    ("a / b", ("__truediv__",), lambda a, b: a / b, TWO, "d(a/b)/da = 1/b and d(a/b)/db = -a/b²", False),
    ("a ** 3", ("__pow__",), lambda a: a**3, ONE, "d(a**n)/da = n·a**(n-1), here 3·a²", False),
    ("a ** -2", ("__pow__",), lambda a: a**-2, ONE, "d(a**n)/da = n·a**(n-1), here -2·a**-3", True),
    ("a ** 0.5", ("__pow__",), lambda a: a**0.5, POSITIVE, "d(a**n)/da = n·a**(n-1), here 0.5·a**-0.5", True),
    ("-a", ("__neg__",), lambda a: -a, ONE, "d(-a)/da = -1", False),
    ("tanh(a)", ("tanh",), lambda a: a.tanh(), ONE, "d tanh(a)/da = 1 - tanh(a)²: the output t squared, not the input", False),
    ("exp(a)", ("exp",), lambda a: a.exp(), ONE, "d exp(a)/da = exp(a), the output itself", False),
    ("log(a)", ("log",), lambda a: a.log(), POSITIVE, "d log(a)/da = 1/a", False),
    ("relu(a)", ("relu",), lambda a: a.relu(), ONE, "d relu(a)/da = 1 where a > 0, else 0: the gradient passes only where the input was positive", False),
]
# name, method of the class it needs, function, the reflected method Python calls for a number on the left
NUMBERS = [
    ("a + 2", "__add__", lambda a: a + 2, None),
    ("2 + a", "__add__", lambda a: 2 + a, "__radd__"),
    ("a - 2", "__sub__", lambda a: a - 2, None),
    ("2 - a", "__sub__", lambda a: 2 - a, "__rsub__"),
    ("a * 2", "__mul__", lambda a: a * 2, None),
    ("2 * a", "__mul__", lambda a: 2 * a, "__rmul__"),
    ("a / 2", "__truediv__", lambda a: a / 2, None),
    ("2 / a", "__truediv__", lambda a: 2 / a, "__rtruediv__"),
]
# the lecture's neuron, with its pre-activation x1*w1 + x2*w2 + b positive (0.8814) and negative
NEURON = ((2.0, 0.0, -3.0, 1.0, 6.8813735870195432), (2.0, 0.0, -3.0, 1.0, 5.1186264129804568))
ADD_BACK = "gradients from every use of a value must add up: in _backward write self.grad += ..., not ="


class EngineCheck:
    """One line of the report: ``name``, ``status`` ('right', 'wrong', 'skipped' or 'note'), ``message``."""

    __slots__ = ("name", "status", "message")

    def __init__(self, name, status, message):
        self.name = name
        self.status = status
        self.message = message

    @property
    def line(self):
        return f"{MARKS[self.status]} {self.name}: {self.message}"

    def __repr__(self):
        return self.line


class EngineReport:
    """What `check_engine` found: ``checks`` (`EngineCheck`s, in order); true when none is wrong
    (and at least one operation was checked).

    ``str(report)`` (and the notebook's display) is the report; ``report["a * b"]`` one check;
    ``wrong``, ``skipped`` and ``notes`` the checks of each kind.
    """

    def __init__(self, name, checks):
        self.name = name
        self.checks = checks

    def _of(self, status):
        return [c for c in self.checks if c.status == status]

    @property
    def right(self):
        return self._of("right")

    @property
    def wrong(self):
        return self._of("wrong")

    @property
    def skipped(self):
        return self._of("skipped")

    @property
    def notes(self):
        return self._of("note")

    def __bool__(self):
        return not self.wrong and any(c.status == "right" for c in self.checks[1:])

    def __getitem__(self, name):
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; the checks are: {', '.join(c.name for c in self.checks)}")

    def __iter__(self):
        return iter(self.checks)

    def __len__(self):
        return len(self.checks)

    @property
    def header(self):
        return f"Checking {self.name} against chainrule: {len(self.checks)} checks."

    @property
    def summary(self):
        parts = [f"Right: {len(self.right)}", f"not quite: {len(self.wrong)}", f"skipped: {len(self.skipped)}"]
        if self.notes:
            parts.append(f"worth knowing: {len(self.notes)}")
        verdict = " All right." if self and not self.skipped else ""
        return ", ".join(parts) + "." + verdict

    @property
    def text(self):
        return "\n".join([self.header, *(c.line for c in self.checks), self.summary])

    def __str__(self):
        return self.text

    __repr__ = __str__

    def _repr_html_(self):
        rows = [f'<div style="color:{COLOURS[c.status]}">{html.escape(c.line)}</div>' for c in self.checks]
        return ('<div class="chainrule-engine-check" style="font-family:ui-monospace,monospace;'
                'white-space:pre-wrap;line-height:1.4">'
                f"<div><b>{html.escape(self.header)}</b></div>{''.join(rows)}"
                f"<div><b>{html.escape(self.summary)}</b></div></div>")


def check_engine(value_class):
    """Check a Value class of your own against chainrule and say, op by op, what is right.

    ``value_class`` is the class (an instance is taken as its class). Returns an `EngineReport`:
    true when nothing is wrong; print it, or leave it as a notebook cell's last expression. It never
    raises because of the class's code: what that code raises is reported, with its line.
    """
    if not isinstance(value_class, type):
        try:
            instance = is_node(value_class)
        except KeyboardInterrupt:
            raise
        except BaseException:  # its attributes raise: it is an instance all the same
            instance = True
        if not instance:
            raise TypeError(f"check_engine() takes your Value class, got {type(value_class).__name__}: {short(value_class)}")
        value_class = type(value_class)
    return EngineReport(value_class.__name__, list(_Checker(value_class).run()))


class _Skip(Exception):
    """A check that cannot run: its message says why."""


class _Checker:
    def __init__(self, cls):
        self.cls = cls
        self.name = cls.__name__
        self.readable = True  # chainrule can read its graphs (else gradients come from backward())
        self.local = False  # microgpt's shape: local gradients stored on the nodes

    def has(self, method):
        return callable(getattr(self.cls, method, None))

    def make(self, x, label=""):
        v = self.cls(x)
        if label:
            try:
                v.label = label
            except (AttributeError, TypeError):  # a class with __slots__ and no label
                pass
        return v

    def run(self):
        checks = []
        basic = self.check("making a value", self.making)
        checks.append(basic)
        if basic.status not in ("right", "note"):
            return checks
        for name, needs, f, points, rule, optional in OPERATIONS:
            checks.append(self.check(name, lambda: self.operation(name, needs, f, points, rule, optional)))
        for name, method, f, reflected in NUMBERS:
            checks.append(self.check(name, lambda: self.number(name, method, f, reflected)))
        checks.append(self.check("a + a", lambda: self.twice("a + a", lambda a: a + a, ("__add__",))))
        checks.append(self.check("a * a", lambda: self.twice("a * a", lambda a: a * a, ("__mul__",))))
        checks.append(self.check("reused across branches", self.reused))
        checks.append(self.check("backward()", self.backward))
        checks.append(self.check("topological order", self.order))
        checks.append(self.check("deep chain", self.deep))
        checks.append(self.check("a neuron", self.neuron))
        return checks

    def check(self, name, run):
        try:
            result = run()
        except _Skip as skip:
            return EngineCheck(name, "skipped", str(skip))
        except _Wrong as wrong:
            return EngineCheck(name, "wrong", str(wrong))
        except LearnerCodeError as error:  # their _backward failed while chainrule ran it: already described
            return EngineCheck(name, "wrong", f"Not quite: {error}.")
        except KeyboardInterrupt:  # the one thing their code may stop the checker with: the user's Ctrl-C
            raise
        except BaseException as error:  # SystemExit (sys.exit(), exit()) and the like are reported too
            return EngineCheck(name, "wrong", f"Not quite: it raised {describe(error)}.")
        if isinstance(result, EngineCheck):
            return result
        status, message = result
        return EngineCheck(name, status, message)

    # ---- the checks ---------------------------------------------------------------------------------
    def making(self):
        v = self.cls(2.0)
        if not hasattr(v, "data") or not hasattr(v, "grad"):
            return "wrong", f"Not quite: {self.name}(2.0) needs the attributes data and grad."
        if not _same(v.data, 2.0):
            return "wrong", f"Not quite: {self.name}(2.0).data is {v.data!r}, not 2.0."
        if not _same(v.grad, 0.0):
            return "wrong", f"Not quite: a new value's grad is {v.grad!r}; it should start at 0 (backward() adds to it)."
        self.local = hasattr(v, "_children")
        if not callable(getattr(v, "backward", None)):
            return "wrong", f"Not quite: {self.name} has no backward() method."
        if not is_node(v):
            self.readable = False
            return "note", (f"{self.name} has neither _prev (micrograd's shape) nor _children (microgpt's), so chainrule "
                            "cannot read its graph: gradients are checked through backward() only.")
        return "right", f"right: {self.name}(2.0) has data 2.0 and grad 0."

    def operation(self, name, needs, f, points, rule, optional):
        self.needs(*needs)
        return self.compare(name, f, points, rule, optional=optional)

    def number(self, name, method, f, reflected):
        self.needs(method)
        try:
            return self.compare(name, f, ONE, None)
        except Exception as error:
            if reflected and isinstance(error, TypeError) and not self.has(reflected):
                hint = (f"Python first asks the number ({name.split()[0]}) and then your {reflected}, which "
                        f"{self.name} lacks: add def {reflected}(self, other) to it")
                raise _Wrong(f"Not quite: {name} raised {describe(error)}. Hint: {hint}.") from None
            if not reflected and isinstance(error, (AttributeError, TypeError)):
                hint = f"turn a plain number into a {self.name} first: other = other if isinstance(other, {self.name}) else {self.name}(other)"
                raise _Wrong(f"Not quite: {name} raised {describe(error)}. Hint: {hint}.") from None
            raise

    def twice(self, name, f, needs):
        self.needs(*needs)
        return self.compare(name, f, ONE, ADD_BACK, twice=True)

    def reused(self):
        self.needs("__add__", "__mul__")
        return self.compare("(a*b) * (a+b)", lambda a, b: (a * b) * (a + b), ((-2.0, 3.0), (1.5, -0.5)),
                            f"a and b each feed two nodes (a*b and a+b): {ADD_BACK}", twice=True)

    def backward(self):
        self.needs("__add__", "__mul__")
        return self.their_backward(lambda a, b, c, f: (a * b + c) * f, (2.0, -3.0, 10.0, -2.0), "L = (a*b + c) * f")

    def order(self):
        self.needs("__add__", "__mul__")
        # h is used at two depths: by out directly and, two steps further, through p and q
        return self.their_backward(_ordered_graph, (0.5,), "out = (h*2 + 1) * h with h = x*x")

    def deep(self):
        self.needs("__add__")
        self.fast_enough()
        x = self.make(0.5)
        y = x
        one = self.make(1.0)
        for _ in range(CHAIN):
            y = y + one
        try:
            y.backward()
        except RecursionError as error:
            where = learner_line(error)
            line = f" (at {where})" if where else ""
            return "note", (f"backward() on a chain of {CHAIN} additions raised RecursionError{line}: your topological "
                            f"sort calls itself once per node, and Python stops at about {sys.getrecursionlimit()} "
                            "nested calls. That is fine for the lecture's graphs; for deep ones, build the order with "
                            "a list used as a stack instead of recursion (or raise sys.setrecursionlimit).")
        if not _same(x.grad, 1.0):
            return "wrong", f"Not quite: after backward() on a chain of {CHAIN} additions, x.grad is {x.grad!r}, but chainrule gives 1.0."
        return "right", f"right: backward() went through a chain of {CHAIN} additions."

    def fast_enough(self):
        """Time a short chain (built and backpropagated) first, and skip the deep chain when the
        whole of it would take more than a few seconds: a class whose operations are slow (they
        print, or walk the graph) still gets its report at once."""
        start = time.perf_counter()
        x, one = self.make(0.5), self.make(1.0)
        y = x
        for _ in range(PROBE):
            y = y + one
        y.backward()
        took = time.perf_counter() - start
        expected = took * CHAIN / PROBE
        if expected > BUDGET:
            raise _Skip(f"skipped: a chain of {PROBE} additions took {took:.2g} s to build and backpropagate, so the "
                        f"chain of {CHAIN} would take about {expected:.0f} s. Your operations are fine for small graphs; "
                        "if they print, sleep or walk the graph, take that out, and this check runs.")

    def neuron(self):
        """The lecture's neuron with every activation the class has, where it is active and where
        it is not (a ReLU passes nothing back from a negative pre-activation)."""
        self.needs("__add__", "__mul__")
        acts = [m for m in ("tanh", "relu") if self.has(m)] or [None]
        shown = []
        for act in acts:
            def neuron(x1, x2, w1, w2, b, act=act):
                n = x1 * w1 + x2 * w2 + b
                return getattr(n, act)() if act else n

            what = f"o = {act}(x1*w1 + x2*w2 + b)" if act else "o = x1*w1 + x2*w2 + b"
            for inputs in NEURON:
                n = inputs[0] * inputs[2] + inputs[1] * inputs[3] + inputs[4]
                status, message = self.their_backward(neuron, inputs, f"{what} where x1*w1 + x2*w2 + b = {n:.4g}",
                                                      labels=("x1", "x2", "w1", "w2", "b"))
                if status != "right":
                    return status, message
            shown.append(what)
        return "right", (f"right: backward() on {' and on '.join(shown)} gives chainrule's gradients, with "
                         "x1*w1 + x2*w2 + b positive and negative.")

    # ---- comparing with chainrule ---------------------------------------------------------------------
    def needs(self, *methods):
        missing = [m for m in methods if not self.has(m)]
        if missing:
            shown = ", ".join(m if m.startswith("__") else f"{m}()" for m in missing)
            raise _Skip(f"skipped: {self.name} has no {shown}.")

    def compare(self, name, f, points, rule, twice=False, optional=False):
        """Build ``f`` with their class and with chainrule's at each point; compare the value and the
        gradients. The first point where something differs is the one reported."""
        for inputs in points:
            result = self.compare_at(name, f, inputs, rule, twice, optional, len(points) > 1)
            if result[0] != "right":
                return result
        shown = "the value and the gradient" if len(points[0]) == 1 else "the value and both gradients"
        return "right", f"right ({shown}, at {_points(points)})."

    def compare_at(self, name, f, inputs, rule, twice, optional, say_where):
        labels = "ab"[: len(inputs)]
        theirs = [self.make(x, label) for x, label in zip(inputs, labels)]
        ours = [Value(x) for x in inputs]
        want = f(*ours)
        at = f"at {_point(inputs, labels)}: " if say_where else ""
        try:
            out = f(*theirs)
        except (TypeError, AssertionError, NotImplementedError, ValueError) as error:
            if not optional:
                raise
            raise _Skip(f"skipped: {self.name} does not take {name} (it raised {describe(error)}).") from None
        if not is_node(out) and self.readable:
            return "wrong", f"Not quite: {name} gave a {type(out).__name__}, not a {self.name}."
        got = getattr(out, "data", out)
        if not _same(got, want.data):
            return "wrong", (f"Not quite: {at}{name} is {_show(got)}, but chainrule gives {_show(want.data)}: "
                             "the forward formula is wrong.")
        expected = gradients(want, ours)
        grads = self.gradients(out, theirs)
        problems = [self.why(label, g, e, twice) for label, g, e in zip(labels, grads, expected) if not _same(g, e)]
        if problems:
            unreached = all(p.endswith("?") for p in problems)  # nothing arrived: the rule is not the point yet
            hint = f" Hint: {rule}." if rule and not unreached else ""
            return "wrong", f"Not quite: {at}" + " ".join(problems) + hint
        return "right", ""

    def gradients(self, out, inputs):
        """The inputs' gradients from their own chain rule: run node by node by chainrule when it can
        read the graph (so a wrong backward() cannot hide a right rule), else by their backward()."""
        if self.readable and is_node(out):
            found = backward_steps(out).grads()
            return [_get(found, v) for v in inputs]
        out.backward()
        return [v.grad for v in inputs]

    def why(self, label, got, expected, twice):
        if _same(got, 0.0) and not _same(expected, 0.0):
            where = "store its _local_grads" if self.local else "attach its _backward (out._backward = _backward)"
            return f"{label}.grad is 0, but chainrule gives {_show(expected)}: no gradient reached {label}; does the op {where}?"
        if twice:
            return (f"{label}.grad is {_show(got)}, but chainrule gives {_show(expected)}: {label} is used more than once, "
                    "and its gradient is the sum over its uses.")
        if _number(got) and _same(-got, expected):
            return f"{label}.grad is {_show(got)}, but chainrule gives {_show(expected)}: the sign is wrong."
        return f"{label}.grad is {_show(got)}, but chainrule gives {_show(expected)}."

    def their_backward(self, f, inputs, what, labels=None):
        """Their backward() on a graph of a few nodes, compared with chainrule's gradients."""
        if labels is None:
            labels = "abcf"[: len(inputs)] if len(inputs) > 1 else ("x",)
        theirs = [self.make(x, label) for x, label in zip(inputs, labels)]
        ours = [Value(x) for x in inputs]
        expected = gradients(f(*ours), ours)
        out = f(*theirs)
        steps = _StepCounter(out) if self.readable else None
        out.backward()
        if not _same(getattr(out, "grad", None), 1.0):
            return "wrong", (f"Not quite: after backward() the root's grad is {_show(getattr(out, 'grad', None))}: "
                             "backward() must start with self.grad = 1.0 (d out/d out = 1).")
        wrong = [(label, v.grad, e) for label, v, e in zip(labels, theirs, expected) if not _same(v.grad, e)]
        if not wrong:
            return "right", f"right: backward() on {what} gives chainrule's gradients."
        shown = f"Not quite: backward() on {what}: " + "; ".join(
            f"{label}.grad is {_show(g)}, chainrule gives {_show(e)}" for label, g, e in wrong)
        if steps is not None and steps.repeated():
            return "wrong", f"{shown}. {steps.repeated()}"
        if steps is not None and steps.missed():
            return "wrong", f"{shown}. {steps.missed()}"
        rules_right = False
        if self.readable:  # the same graph through their own rules, in a correct order
            fresh = [self.make(x, label) for x, label in zip(inputs, labels)]
            by_rules = backward_steps(f(*fresh)).grads()
            rules_right = all(_same(_get(by_rules, v), e) for v, e in zip(fresh, expected))
        step = "apply a node's _local_grads" if self.local else "call a node's _backward"
        if rules_right:
            return "wrong", (f"{shown}. Each node's own step is right (run in a topological order they give "
                             f"chainrule's numbers), so the order is wrong: backward() must {step} only after every "
                             "node that uses it has had its own turn, that is in reverse topological order (build the "
                             "order depth first, appending a node after all of its parents, then go through it "
                             "backwards).")
        if self.readable:
            return "wrong", (f"{shown}. Run node by node in a correct order, your rules give wrong numbers too, so a "
                             "rule is wrong: the checks above show which.")
        return "wrong", f"{shown}."


class _StepCounter:
    """Counts how often a learner's backward() applies each computed node's own chain-rule step:
    each node's ``_backward`` is wrapped (micrograd's shape), or its ``_local_grads`` replaced by a
    tuple that counts its reads (microgpt's shape). Made for the checker's own small graphs only.

    A topological sort without a set of visited nodes lists a node once per path to it, so its step
    runs more than once; a walk that misses nodes runs some never."""

    def __init__(self, root):
        self.counts = {}  # id -> [node, times applied]
        self.kind = None
        seen, stack = {id(root)}, [root]
        while stack:
            node = stack.pop()
            parents = _parents(node)
            for p in parents:
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append(p)
            if parents:
                self._wrap(node)

    def _wrap(self, node):
        entry = self.counts.setdefault(id(node), [node, 0])
        try:
            backward = getattr(node, "_backward", None)
            if callable(backward):
                def counted(*args, **kwargs):
                    entry[1] += 1
                    return backward(*args, **kwargs)

                node._backward = counted
                self.kind = "_backward"
                return True
            local = getattr(node, "_local_grads", None)
            if local is not None:
                node._local_grads = _CountedGrads(local, entry)
                self.kind = "_local_grads"
                return True
        except (AttributeError, TypeError):  # a read-only attribute: not counted
            pass
        del self.counts[id(node)]
        return False

    def _name(self, node):
        label = getattr(node, "label", "")
        return f"{label}'s" if isinstance(label, str) and label else "one node's"

    def repeated(self):
        twice = [(node, n) for node, n in self.counts.values() if n > 1]
        if not twice:
            return ""
        node, n = twice[0]
        return (f"Your backward() applied {self._name(node)} {self.kind} {n} times: a node reached along two paths "
                "went into the topological order twice, and each time passed its whole gradient on again. Visit each "
                "node once: keep a set of the nodes visited, and skip a node already in it "
                "(if v not in visited: visited.add(v); ...).")

    def missed(self):
        counts = [n for _, n in self.counts.values()]
        if not counts or max(counts) == 0:  # nothing counted: their backward() reads the graph another way
            return ""
        never = [node for node, n in self.counts.values() if n == 0]
        if not never:
            return ""
        return (f"Your backward() never applied {self._name(never[0])} {self.kind}: the topological order must hold "
                "every node the root was computed from, found by following each node's parents all the way to the "
                "leaves.")


class _CountedGrads(tuple):
    """A node's ``_local_grads`` that counts the passes that read it: every iteration, and every
    read of its first entry (``local_grads[0]``)."""

    def __new__(cls, grads, entry):
        self = super().__new__(cls, grads)
        self.entry = entry
        return self

    def __iter__(self):
        self.entry[1] += 1
        return super().__iter__()

    def __getitem__(self, i):
        if isinstance(i, int) and i in (0, -len(self)):
            self.entry[1] += 1
        return super().__getitem__(i)


def _parents(node):
    parents = getattr(node, "_children", None)
    if parents is None:
        parents = getattr(node, "_prev", ())
    try:
        return tuple(parents)
    except TypeError:
        return ()


class _Wrong(Exception):
    pass


def _ordered_graph(x):
    make = type(x)  # constants as nodes of the same class: this check is about order, not numbers
    h = x * x
    try:
        h.label = "h"
    except (AttributeError, TypeError):  # a class with __slots__ and no label
        pass
    return (h * make(2.0) + make(1.0)) * h


def _point(inputs, labels="ab"):
    """Where a check ran: ``a = -1.3`` or ``a = -1.3, b = 0.8``."""
    return ", ".join(f"{label} = {_show(float(x))}" for label, x in zip(labels, inputs))


def _points(points):
    """Every point of a check: ``a = 0.6 and -1.3`` or ``(a, b) = (0.6, -1.7) and (-1.3, 0.8)``."""
    if len(points[0]) == 1:
        return "a = " + " and ".join(_show(float(x)) for (x,) in points)
    return "(a, b) = " + " and ".join("(" + ", ".join(_show(float(x)) for x in p) + ")" for p in points)


def _number(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _same(got, expected):
    if not _number(got):
        return False
    return math.isclose(float(got), float(expected), rel_tol=1e-6, abs_tol=1e-9)


def _show(x):
    if isinstance(x, float):
        return f"{x + 0.0:.6g}"  # + 0.0: a zero shows as 0, never -0
    return short(x)


def _get(grads, node):
    try:
        return grads.get(node, 0.0)
    except TypeError:  # their class is not hashable: look it up by identity
        return next((g for n, g in grads.items() if n is node), 0.0)
