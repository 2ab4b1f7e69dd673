"""check_engine: a learner's own Value class checked against chainrule. Correct classes of both
shapes pass; each bug learners make is caught with a message that says what to fix; nothing the
learner's code does makes the checker raise."""

import math
import re
import time

import pytest

import autograd
from autograd import Value, check_engine
from autograd.teach import EngineReport
from learners import (AssignValue, ClosureValue, LocalNoVisitedValue, LocalValue, LostBackwardValue, NoMaskReluValue,
                      NoOrderValue, NoRmulValue, NoVisitedValue, TanhInputValue)

NAMES = [
    "making a value", "a + b", "a - b", "a * b", "a / b", "a ** 3", "a ** -2", "a ** 0.5", "-a", "tanh(a)", "exp(a)", "log(a)", "relu(a)",
    "a + 2", "2 + a", "a - 2", "2 - a", "a * 2", "2 * a", "a / 2", "2 / a", "a + a", "a * a",
    "reused across branches", "backward()", "topological order", "deep chain", "a neuron",
]


def wrong(report):
    return {c.name: c.message for c in report.wrong}


# ---- correct classes pass ----------------------------------------------------------------------------
def test_chainrules_own_value_passes_everything():
    report = check_engine(Value)
    assert report and isinstance(report, EngineReport)
    assert [c.name for c in report] == NAMES and {c.status for c in report} == {"right"}
    assert report.summary == "Right: 28, not quite: 0, skipped: 0. All right."


@pytest.mark.parametrize("V, missing", [(ClosureValue, "log(a)"), (LocalValue, "tanh(a)")])
def test_correct_micrograd_and_microgpt_shaped_classes_pass(V, missing):
    report = check_engine(V)
    assert report, report.text
    assert [c.name for c in report.skipped] == [missing]
    assert report[missing].message == f"skipped: {V.__name__} has no {missing.split('(')[0]}()."
    (note,) = report.notes  # their topological sort is recursive, as learners write it
    assert note.name == "deep chain" and "RecursionError" in note.message and "in visit" in note.message
    assert "a list used as a stack" in note.message
    assert report["a neuron"].status == "right"


def test_an_instance_is_taken_as_its_class_and_anything_else_is_refused():
    assert check_engine(ClosureValue(1.0)).name == "ClosureValue"
    with pytest.raises(TypeError, match="takes your Value class"):
        check_engine(3.0)


# ---- each bug is caught, with what to fix ---------------------------------------------------------------
def test_equals_instead_of_plus_equals_is_caught_where_a_value_is_used_twice():
    report = check_engine(AssignValue)
    assert not report
    found = wrong(report)
    assert set(found) == {"a + a", "a * a", "reused across branches", "topological order"}
    assert "a.grad is 1, but chainrule gives 2: a is used more than once" in found["a + a"]
    assert "self.grad += ..., not =" in found["a + a"]
    assert report["a * b"].status == "right"  # a single use hides the bug; the checks above find it


def test_a_wrong_tanh_derivative_is_caught_with_the_rule():
    found = wrong(check_engine(TanhInputValue))
    assert set(found) == {"tanh(a)", "a neuron"}
    expected = 1 - math.tanh(0.6) ** 2
    assert f"a.grad is 0.64, but chainrule gives {expected:.6g}" in found["tanh(a)"]
    assert "1 - tanh(a)²: the output t squared, not the input" in found["tanh(a)"]
    assert "a rule is wrong: the checks above show which" in found["a neuron"]


def test_a_backward_pass_in_the_wrong_order_is_caught():
    found = wrong(check_engine(NoOrderValue))
    assert set(found) == {"topological order"}  # every rule is right, and so is a tree like L = (a*b + c) * f
    message = found["topological order"]
    assert re.search(r"x\.grad is [\d.]+, chainrule gives 2", message)
    assert "Each node's own step is right" in message and "reverse topological order" in message


@pytest.mark.parametrize("V, node", [(NoVisitedValue, "h's _backward"), (LocalNoVisitedValue, "one node's _local_grads")])
def test_a_topological_sort_without_a_visited_set_is_told_apart_from_a_wrong_order(V, node):
    found = wrong(check_engine(V))
    assert set(found) == {"topological order"}  # h is the only node reached along two paths
    message = found["topological order"]
    assert re.search(r"x\.grad is (3\.5|4), chainrule gives 2\.", message)  # which, the set's order decides
    assert f"Your backward() applied {node} 2 times" in message
    assert "keep a set of the nodes visited" in message
    assert "the order is wrong" not in message and "a rule is wrong" not in message


def test_a_backward_that_skips_nodes_is_told_so():
    class OneLevel(ClosureValue):
        def backward(self):  # the root and its parents only
            self.grad = 1.0
            self._backward()
            for p in self._prev:
                p._backward()

    message = wrong(check_engine(OneLevel))["backward()"]
    assert "Your backward() never applied one node's _backward" in message
    assert "every node the root was computed from" in message


def test_a_backward_without_reversed_is_caught_in_every_graph():
    class Forwards(ClosureValue):
        def backward(self):
            order, seen = [], set()

            def visit(v):
                if v not in seen:
                    seen.add(v)
                    for p in v._prev:
                        visit(p)
                    order.append(v)

            visit(self)
            self.grad = 1.0
            for v in order:  # leaves first: nothing has arrived yet when they run
                v._backward()

    found = wrong(check_engine(Forwards))
    assert {"backward()", "topological order", "a neuron"} <= set(found)
    assert all("the order is wrong" in found[name] for name in ("backward()", "topological order", "a neuron"))
    assert "a * b" not in found  # the rules themselves are right


def test_a_missing_seed_is_caught():
    class NoSeed(ClosureValue):
        def backward(self):
            self.grad = 0.0
            ClosureValue.backward(self)
            self.grad = 0.0

    assert "must start with self.grad = 1.0" in wrong(check_engine(NoSeed))["backward()"]


def test_a_relu_without_its_mask_is_caught_at_a_negative_input_and_in_a_neuron():
    report = check_engine(NoMaskReluValue)
    found = wrong(report)
    assert set(found) == {"relu(a)", "a neuron"}
    assert found["relu(a)"].startswith("Not quite: at a = -1.3: a.grad is 1, but chainrule gives 0.")
    assert "where a > 0, else 0" in found["relu(a)"]
    # the lecture's neuron with a negative pre-activation: a ReLU passes nothing back
    assert "o = relu(x1*w1 + x2*w2 + b) where x1*w1 + x2*w2 + b = -0.8814" in found["a neuron"]
    assert "w1.grad is 2, chainrule gives 0" in found["a neuron"] and "a rule is wrong" in found["a neuron"]
    assert "o = tanh" not in found["a neuron"]  # the tanh neuron passed at both signs


def test_every_operation_is_checked_where_each_input_is_negative_and_positive():
    class AbsMul(ClosureValue):
        """d(a*b)/da written as |b|: right as long as the inputs are positive."""

        def __mul__(self, other):
            other = self.wrap(other)
            out = type(self)(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad += abs(other.data) * out.grad
                other.grad += abs(self.data) * out.grad

            out._backward = _backward
            return out

    found = wrong(check_engine(AbsMul))
    assert found["a * b"].startswith("Not quite: at a = 0.6, b = -1.7: a.grad is 1.7, but chainrule gives -1.7")
    assert found["a * a"].startswith("Not quite: at a = -1.3: a.grad is 2.6, but chainrule gives -2.6")  # right at 0.6
    assert check_engine(ClosureValue)["a * a"].message == "right (the value and the gradient, at a = 0.6 and -1.3)."


def test_powers_are_checked_with_fractional_and_negative_exponents_where_the_class_takes_them():
    class IntPowers(ClosureValue):
        def __pow__(self, k):
            assert isinstance(k, int), "only int powers"
            return ClosureValue.__pow__(self, k)

    report = check_engine(IntPowers)
    assert report and report["a ** 3"].status == report["a ** -2"].status == "right"
    assert report["a ** 0.5"].status == "skipped"
    assert report["a ** 0.5"].message.startswith("skipped: IntPowers does not take a ** 0.5 (it raised AssertionError: only int powers")
    assert report["a ** 0.5"].message.endswith(").")

    class PositiveOnly(ClosureValue):
        """The power rule written as n·aⁿ⁻¹ with the exponent's sign dropped."""

        def __pow__(self, k):
            out = type(self)(self.data**k, (self,), f"**{k}")

            def _backward():
                self.grad += abs(k) * self.data ** (k - 1) * out.grad

            out._backward = _backward
            return out

    found = wrong(check_engine(PositiveOnly))
    assert "a ** 3" not in found and "a ** 0.5" not in found
    assert found["a ** -2"].startswith("Not quite: at a = 0.6: a.grad is 9.25926, but chainrule gives -9.25926: the sign is wrong.")
    assert "here -2·a**-3" in found["a ** -2"]


def test_missing_reflected_operators_are_caught():
    found = wrong(check_engine(NoRmulValue))
    assert set(found) == {"2 * a", "2 - a", "2 / a"}
    assert "raised TypeError: unsupported operand type(s) for *: 'int' and 'NoRmulValue'" in found["2 * a"]
    assert "Python first asks the number (2) and then your __rmul__, which NoRmulValue lacks" in found["2 * a"]


def test_numbers_not_wrapped_are_caught_with_the_line():
    class Plain(ClosureValue):
        def __add__(self, other):
            out = ClosureValue(self.data + other.data, (self, other), "+")  # the first class of the lecture
            return out

    message = wrong(check_engine(Plain))["a + 2"]
    assert "raised AttributeError: 'int' object has no attribute 'data'" in message
    assert "line" in message and "self.data + other.data" in message and "isinstance(other, Plain)" in message


def test_a_backward_that_is_never_attached_is_caught():
    found = wrong(check_engine(LostBackwardValue))
    assert "a * b" in found and "a + b" not in found
    assert "no gradient reached a; does the op attach its _backward (out._backward = _backward)?" in found["a * b"]
    assert "Hint" not in found["a * b"]  # nothing arrived: the rule is not the point yet


def test_a_microgpt_class_with_a_wrong_local_gradient():
    class BadExp(LocalValue):
        __slots__ = ()

        def exp(self):
            e = math.exp(self.data)
            return type(self)(e, (self,), (self.data,))  # the input, not exp(x)

    found = wrong(check_engine(BadExp))
    assert set(found) == {"exp(a)"} and "d exp(a)/da = exp(a)" in found["exp(a)"]


def test_a_wrong_forward_formula_is_told_apart():
    class Minus(ClosureValue):
        def __sub__(self, other):
            return self + other  # forgot the minus

    found = wrong(check_engine(Minus))
    assert "a - b is -1.1, but chainrule gives 2.3: the forward formula is wrong" in found["a - b"]


# ---- it never raises because of the learner's code ----------------------------------------------------------
def test_exceptions_in_their_code_are_reported_with_their_line():
    class Typo(ClosureValue):
        def __mul__(self, other):
            other = self.wrap(other)
            out = type(self)(self.data * other.data, (self, other), "*")

            def _backward():
                self.grad += other.dta * out.grad  # a typo

            out._backward = _backward
            return out

    found = wrong(check_engine(Typo))
    message = found["a * b"]
    assert "its _backward() raised AttributeError" in message and "'dta'" in message
    assert "self.grad += other.dta * out.grad" in message and re.search(r"line \d+ in _backward", message)
    assert "backward()" in found and "raised AttributeError" in found["backward()"]


HOSTILE = {
    "init fails": type("Broken", (), {"__init__": lambda self, x: 1 / 0}),
    "no grad": type("NoGrad", (), {"__init__": lambda self, x: setattr(self, "data", x)}),
    "ops give floats": type("Floats", (ClosureValue,), {"__add__": lambda self, o: 3.0, "__mul__": lambda self, o: None}),
    "data is text": type("Text", (ClosureValue,), {"__init__": lambda self, x, *a, **k: (ClosureValue.__init__(self, x, *a, **k), setattr(self, "data", str(x)))[0]}),
    "backward loops forever? no: raises": type("Raises", (ClosureValue,), {"backward": lambda self: [][1]}),
    "unreadable shape": type("Opaque", (), {"__init__": lambda self, x: (setattr(self, "data", x), setattr(self, "grad", 0.0))[0]}),
    "repr fails": type("BadRepr", (ClosureValue,), {"__repr__": lambda self: 1 / 0}),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_the_checker_never_raises_because_of_the_class(name):
    report = check_engine(HOSTILE[name])
    assert isinstance(report, EngineReport) and report.text.startswith("Checking ")
    assert not report or name == "repr fails"
    assert len(report.text.splitlines()) == len(report) + 2


class Halt(BaseException):
    """Something a learner's code might raise that is not an Exception."""


def raising(error):
    def method(self, *args):
        raise error

    return method


LINE = raising.__code__.co_firstlineno + 2  # the line of `raise error`


@pytest.mark.parametrize("error, shown", [(SystemExit(3), "SystemExit: 3"), (SystemExit(), "SystemExit"),
                                          (Halt("stop"), "Halt: stop"), (GeneratorExit(), "GeneratorExit")])
def test_base_exceptions_from_their_code_are_reported_not_raised(error, shown):
    V = type("Exits", (ClosureValue,), {"__mul__": raising(error), "backward": raising(error)})
    report = check_engine(V)
    found = wrong(report)
    assert found["a * b"] == f"Not quite: it raised {shown} (at line {LINE} in method: raise error)."
    assert found["backward()"] == found["a * b"]
    assert report["a + b"].status == "right"  # the other checks ran
    exits_at_once = type("ExitsAtOnce", (ClosureValue,), {"__init__": raising(SystemExit("bye"))})
    assert [c.line for c in check_engine(exits_at_once)] == [
        f"✗ making a value: Not quite: it raised SystemExit: bye (at line {LINE} in method: raise error)."]


def test_ctrl_c_still_stops_the_checker():
    V = type("Interrupted", (ClosureValue,), {"__mul__": raising(KeyboardInterrupt())})
    with pytest.raises(KeyboardInterrupt):
        check_engine(V)


def test_an_exception_that_cannot_be_printed_and_an_instance_whose_attributes_raise():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no words")

    assert wrong(check_engine(type("U", (ClosureValue,), {"__mul__": raising(Unprintable())})))["a * b"] == (
        f"Not quite: it raised Unprintable (at line {LINE} in method: raise error).")

    class Hostile(ClosureValue):
        def __getattr__(self, name):
            raise SystemExit(name)

        def __repr__(self):
            raise SystemExit("repr")

    hostile = Hostile.__new__(Hostile)  # no data, and every missing attribute exits
    assert check_engine(hostile).name == "Hostile"


def test_a_class_with_slow_operations_gets_its_report_without_the_deep_chain():
    class Slow(ClosureValue):
        def __add__(self, other):
            time.sleep(0.002)  # 5000 additions would take 10 s
            return ClosureValue.__add__(self, other)

    start = time.perf_counter()
    report = check_engine(Slow)
    assert time.perf_counter() - start < 5  # the whole report, not the 10 s chain
    deep = report["deep chain"]
    assert deep.status == "skipped" and "a chain of 100 additions took" in deep.message
    assert "the chain of 5000 would take about" in deep.message and "if they print, sleep or walk the graph" in deep.message
    assert report and report["a + b"].status == "right"


def test_a_class_it_cannot_read_is_checked_through_backward():
    class Opaque:
        """data, grad and backward(), but parents kept under a name chainrule does not know."""

        def __init__(self, data, parents=(), rule=()):
            self.data, self.grad, self.parents, self.rule = data, 0.0, parents, rule

        def __add__(self, other):
            other = other if isinstance(other, Opaque) else Opaque(other)
            return Opaque(self.data + other.data, (self, other), (1.0, 1.0))

        def __mul__(self, other):
            other = other if isinstance(other, Opaque) else Opaque(other)
            return Opaque(self.data * other.data, (self, other), (other.data, self.data))

        def backward(self):
            order, seen, stack = [], set(), [(self, False)]
            while stack:
                v, done = stack.pop()
                if done:
                    order.append(v)
                elif v not in seen:
                    seen.add(v)
                    stack.append((v, True))
                    stack.extend((p, False) for p in v.parents)
            self.grad = 1.0
            for v in reversed(order):
                for p, r in zip(v.parents, v.rule):
                    p.grad += r * v.grad

    report = check_engine(Opaque)
    assert report["making a value"].status == "note" and "cannot read its graph" in report["making a value"].message
    assert report["a * b"].status == "right" and report["deep chain"].status == "right"
    assert report["a - b"].status == "skipped"


# ---- the report --------------------------------------------------------------------------------------------
def test_the_report_reads_as_text_and_as_escaped_html():
    report = check_engine(TanhInputValue)
    lines = report.text.splitlines()
    assert lines[0] == "Checking TanhInputValue against chainrule: 28 checks."
    assert lines[-1] == "Right: 24, not quite: 2, skipped: 1, worth knowing: 1."
    marks = {"right": "✓", "wrong": "✗", "skipped": "…", "note": "⚠"}
    for line, check in zip(lines[1:-1], report):
        assert line == f"{marks[check.status]} {check.name}: {check.message}" == check.line
    assert str(report) == repr(report) == report.text
    evil = type("<script>alert(1)</script>", (ClosureValue,), {})
    page = check_engine(evil)._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert page.count("<div style=\"color:") == 28
    with pytest.raises(KeyError, match="no check named 'nope'"):
        report["nope"]


def test_check_engine_is_exported_from_autograd():
    assert autograd.check_engine is check_engine and "check_engine" in autograd.__all__
