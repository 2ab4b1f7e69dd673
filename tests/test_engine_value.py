"""The `Value` surface learners type: names, repr, comparisons, identity, constants, errors."""

import threading

import pytest

from autograd import Constant, Value, no_grad, is_grad_enabled


def test_lecture_names_work():
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    e = a * b
    e.label = "e"
    assert (a.data, a.grad, a.label, a._op, a._prev) == (2.0, 0.0, "a", "", ())
    assert e._op == "*" and e._prev == (a, b)
    assert repr(a) == "Value(data=2.0, grad=0.0, label='a')"
    assert repr(Value(1.5)) == "Value(data=1.5, grad=0.0)"
    assert float(e) == -6.0 and f"{e:.1f}" == "-6.0"


def test_parents_are_ordered_and_repeated():
    a = Value(3.0)
    assert (a * a)._prev == (a, a)
    assert (a + 1.0)._prev[0] is a and isinstance((a + 1.0)._prev[1], Constant)
    assert (1.0 + a)._prev[1] is a


def test_comparisons_use_data_and_equality_stays_identity():
    a, b, c = Value(1.0), Value(2.0), Value(1.0)
    assert a < b and a <= c and b > a and b >= 2.0 and a < 1.5 and 0.5 < a
    assert a != c and a == a
    assert len({a, b, c}) == 3
    assert sorted([b, a])[0] is a
    assert {a: "x"}[a] == "x"


def test_unary_minus_abs_and_in_place_style_use():
    a = Value(-2.0)
    assert (-a).data == 2.0 and abs(a).data == 2.0
    x = a
    x += 1
    x *= 3
    x -= 1
    x /= 2
    x **= 2
    x.backward()
    assert x.data == ((-2.0 + 1) * 3 - 1) ** 2 / 4
    assert a.grad == pytest.approx(2 * ((-2.0 + 1) * 3 - 1) / 2 * 3 / 2)


def test_constants_never_collect_gradient():
    x = Value(3.0)
    y = 2 * x + 5
    y.backward()
    constants = [n for n in (y._prev[0]._prev[0], y._prev[1]) if isinstance(n, Constant)]
    assert [c.data for c in constants] == [2.0, 5.0]
    assert all(c.grad == 0.0 for c in constants)
    assert x.grad == 2.0


@pytest.mark.parametrize("bad", ["3", None, 1j, [1], True, {1: 2}])
def test_value_rejects_non_numbers_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_value_of_a_value_and_bad_labels_are_rejected():
    with pytest.raises(TypeError, match="got a Value"):
        Value(Value(1.0))
    with pytest.raises(TypeError, match="label"):
        Value(1.0, label=3)


def test_operations_with_non_numbers_raise_type_error():
    with pytest.raises(TypeError):
        Value(1.0) * "2"
    with pytest.raises(TypeError):
        "2" + Value(1.0)
    with pytest.raises(TypeError, match="str"):
        Value(1.0) < "x"


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: Value(-2.0).log(), ValueError, r"log\(\) of -2.0 is undefined \(needs x > 0\)"),
        (lambda: Value(0.0).log(), ValueError, r"log\(\) of 0.0"),
        (lambda: Value(-1.0).sqrt(), ValueError, r"sqrt\(\) of -1.0"),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, r"-8.0 \*\* 0.333"),
        (lambda: Value(0.0) ** -1, ZeroDivisionError, r"0.0 \*\* -1.0"),
        (lambda: Value(3.0) / 0, ZeroDivisionError, r"3.0 / 0.0"),
        (lambda: 3 / Value(0.0), ZeroDivisionError, r"3.0 / 0.0"),
        (lambda: Value(1000.0).exp(), OverflowError, r"exp\(\) of 1000.0"),
        (lambda: Value(-2.0) ** Value(2.0), ValueError, r"-2.0 \*\* y"),
        (lambda: Value(10.0) ** 400, OverflowError, r"10.0 \*\* 400.0"),
    ],
)
def test_undefined_operations_raise_and_name_the_operation_and_input(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_real_results_of_negative_bases_stay_real_floats():
    assert (Value(-8.0) ** 3).data == -512.0
    assert type((Value(-2.0) ** -1).data) is float


def test_infinite_derivative_in_backward_is_an_error_naming_the_operation():
    x = Value(0.0)
    y = x.sqrt()
    assert y.data == 0.0
    with pytest.raises(ZeroDivisionError, match=r"sqrt\(0.0\)"):
        y.backward()


def test_no_grad_records_nothing():
    a = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        b = a * 3 + 1
    assert is_grad_enabled()
    assert b.data == 7.0 and b._prev == () and b._op == ""
    c = a * 3
    assert c._prev[0] is a


def test_no_grad_is_per_thread():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def worker():
        with no_grad():
            inside.set()
            release.wait(5)
            seen["worker"] = (Value(1.0) * 2)._prev

    thread = threading.Thread(target=worker)
    thread.start()
    inside.wait(5)
    seen["main"] = (Value(1.0) * 2)._prev  # the other thread is inside no_grad right now
    release.set()
    thread.join()
    assert len(seen["main"]) == 2 and seen["worker"] == ()


def test_no_grad_restores_after_an_exception():
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError
    assert is_grad_enabled()


def test_scope_tags_values_with_a_nested_path_and_restores_it():
    from autograd import scope

    with scope("MLP"):
        with scope("Layer 0"):
            inner = Value(1.0) * 2
        outer = inner + 1
    after = outer * 3
    assert inner._scope == ("MLP", "Layer 0") and outer._scope == ("MLP",) and after._scope == ()
    with pytest.raises(KeyError):
        with scope("broken"):
            raise KeyError
    assert (Value(1.0) + 1)._scope == ()
