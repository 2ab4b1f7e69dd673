"""`autograd.compiled`: a function recorded once and run as straight-line Python on floats gives the
graph path's values and gradients, follows branches, shapes, lookups and random draws, and never
returns a number the graph path would not."""

import math
import random
import warnings

import pytest

from autograd import CompileError, Drawn, Parameter, Value, compiled, gradients, no_grad, numerical_grad, operation, take
from autograd.compiler import CompileWarning


def graph(fn, *xs):
    """(value, gradients of the arguments) on the graph path."""
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    return out.data, tuple(gradients(out, leaves))


def same(a, b):
    """Equal as floats, NaN equal to NaN."""
    return a == b or (math.isnan(a) and math.isnan(b))


UNARY = {
    "neg": lambda a: -a,
    "exp": Value.exp,
    "log": lambda a: (a * a + 0.5).log(),
    "sqrt": lambda a: (a * a + 0.25).sqrt(),
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "relu": Value.relu,
    "leaky_relu": lambda a: a.leaky_relu(0.1),
    "abs": abs,
    "sin": Value.sin,
    "cos": Value.cos,
    "square": lambda a: a**2,
    "cube": lambda a: a**3,
    "inverse": lambda a: 1.0 / (a * a + 1.0),
    "root": lambda a: (a * a + 1.0) ** 0.5,
}
BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / (b * b + 1.0),
    "**": lambda a, b: (a * a + 1.0) ** b,
    "sum": lambda a, b: Value.sum([a, b, a * b, 2.0]),
    "leaky_slope": lambda a, b: a.leaky_relu(b),
}
POINTS = [-3.0, -1.0, -0.5, 0.0, 0.25, 1.0, 2.5]
EXTREME = [-1000.0, -30.0, 1e-300, 30.0, 1000.0]


@pytest.mark.parametrize("name", sorted(UNARY))
def test_every_unary_op_gives_the_graph_path_numbers(name):
    fn = UNARY[name]
    f = compiled(lambda a: fn(a))
    for x in POINTS + (EXTREME if name in ("tanh", "sigmoid", "relu", "leaky_relu", "abs", "neg") else []):
        value, (grad,) = f.value_and_grad(x)
        want_value, (want_grad,) = graph(fn, x)
        assert same(value, want_value) and same(grad, want_grad), (name, x)
    assert f.traces <= 3  # recorded, repeated once to check, then only compiled code (plus a branch or two)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_every_binary_op_gives_the_graph_path_numbers(name):
    fn = BINARY[name]
    f = compiled(lambda a, b: fn(a, b))
    rng = random.Random(0)
    for _ in range(20):
        a, b = rng.uniform(-3, 3), rng.uniform(-3, 3)
        value, grads = f.value_and_grad(a, b)
        assert (value, grads) == graph(fn, a, b), (name, a, b)


def test_gradients_agree_with_central_differences():
    def fn(a, b):
        h = (a * b + a.tanh() - (b / (a * a + 1.0)).exp()).sigmoid()
        return h * (b * b + 1.0).log() + abs(a - b) + a.sin() * b.cos()

    f = compiled(fn)
    for a, b in [(0.3, -1.2), (1.5, 0.7), (-2.0, 2.0)]:
        _, grads = f.value_and_grad(a, b)
        assert grads == pytest.approx(numerical_grad(fn, a, b), rel=1e-6, abs=1e-8)


def test_a_python_if_on_a_value_becomes_an_if_in_the_compiled_code():
    def fn(x):
        if x > 0:
            return x * 3.0
        return x.exp()

    f = compiled(fn)
    for x in [1.0, 2.0, -1.0, -2.0, 0.5, -0.5, 0.0]:
        assert f.value_and_grad(x) == (graph(fn, x)[0], graph(fn, x)[1])
    assert f.paths == 2 and f.traces == 3  # each branch recorded once, and one repeated to check
    assert "if x0 > 0:" in f.source and "else:" in f.source


def test_relu_kink_is_not_a_branch_its_derivative_is_evaluated_at_run_time():
    f = compiled(lambda x: (x * 2.0).relu())
    for x in [1.0, -1.0, 0.0, 3.0, -3.0]:
        assert f.value_and_grad(x) == graph(lambda v: (v * 2.0).relu(), x)
    assert f.paths == 1
    assert "1.0 if" in f.source and "> 0.0 else 0.0" in f.source


def test_a_changed_shape_is_compiled_anew_and_each_shape_keeps_its_own_code():
    def norm(xs):
        return Value.sum([x * x for x in xs]).sqrt()

    f = compiled(norm)
    for xs in ([3.0, 4.0], [1.0, 2.0, 2.0], [3.0, 4.0], [6.0, 8.0], [2.0, 3.0, 6.0]):
        value, (grads,) = f.value_and_grad(xs)
        assert value == math.sqrt(sum(x * x for x in xs))
        assert grads == pytest.approx([x / value for x in xs], rel=1e-15)
    assert len(f.programs) == 2


def test_a_number_read_with_data_is_checked_never_baked_in():
    def fn(x):
        return x * x.data  # the number read is a constant for the graph; compiled code must not reuse it

    f = compiled(fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CompileWarning)
        for x in [2.0, 3.0, 2.0, -1.0, 5.0] + [float(k) for k in range(20)]:
            value, (grad,) = f.value_and_grad(x)
            assert (value, grad) == (x * x, x)


def test_a_function_that_keeps_changing_its_way_falls_back_to_the_graph_path_with_a_warning():
    f = compiled(lambda x: x * float(x))
    with pytest.warns(CompileWarning, match="graph path"):
        for k in range(40):
            assert f(float(k)) == float(k * k)
    assert f.failure is not None


def test_parameters_collect_gradients_as_backward_would():
    w, b = Parameter(0.5), Parameter(-0.25)

    @compiled
    def loss(x, y):
        return (w * x + b - y) ** 2

    data = [(1.0, 2.0), (2.0, 1.0), (-1.0, 0.0), (0.5, 0.5)]
    for x, y in data:
        loss(x, y)
    got = (w.grad, b.grad)
    w.grad = b.grad = 0.0
    for x, y in data:
        ((w * x + b - y) ** 2).backward()
    assert got == (w.grad, b.grad)


def test_a_parameter_with_no_gradient_yet_starts_from_zero():
    w = Parameter(2.0)
    w.grad = None
    f = compiled(lambda x: w * x)
    f(3.0)
    assert w.grad == 3.0


def test_a_new_parameter_value_is_read_on_every_call():
    w = Parameter(1.0)
    f = compiled(lambda x: (w * x).tanh())
    for value in (1.0, -2.0, 0.5, 3.0):
        w.data = value
        assert f(0.7) == math.tanh(value * 0.7)


@operation(derivative=lambda x, out: (math.cos(x) * 2.0,))
def twice_sin(x):
    return 2.0 * math.sin(x)


def _cube_derivative(x, out):
    square = x * x
    return (3.0 * square,)


@operation(derivative=_cube_derivative)
def cube(x):
    return x * x * x


@operation(derivative=lambda *xs_and_out: tuple(2.0 * x for x in xs_and_out[:-1]))
def sum_of_squares(*xs):
    total = 0.0
    for x in xs:
        total += x * x
    return total


@operation(derivative=lambda a, b, out: (1.0, -1.0) if a > b else (0.0, 0.0))
def gap(a, b):
    return a - b if a > b else 0.0


def test_operations_a_learner_defines_compile_from_their_own_formulas():
    def fn(a, b):
        return twice_sin(a) * cube(b) + sum_of_squares(a, b, a * b) + gap(a, b) * 3.0

    f = compiled(fn)
    rng = random.Random(1)
    for _ in range(10):
        a, b = rng.uniform(-2, 2), rng.uniform(-2, 2)
        assert f.value_and_grad(a, b) == graph(fn, a, b)
    source = f.source
    assert "cos(x0) * 2.0" in source  # the lambda's own expression, inlined
    assert "3.0 * (x1 * x1)" in source  # the def's statements, run on symbols
    assert "_cube_derivative" not in source and "sum_of_squares" not in source  # nothing left to call


def _capped_derivative(x, out):
    if x > 1.0:  # a branch over statements: neither run on symbols nor inlined, so compiled code calls it
        return (0.0,)
    slope = 1.0
    return (slope,)


@operation(derivative=_capped_derivative)
def capped(x):
    return min(x, 1.0)


def test_a_learners_derivative_is_inlined_from_its_own_rule_or_called_through_the_engines_check():
    assert twice_sin.operation.derivative.rule is not twice_sin.operation.derivative  # the engine checks it

    def fn(a, b):
        return capped(twice_sin(a) * b) + a

    f = compiled(fn)
    for a, b in [(0.3, -1.2), (1.5, 0.7), (-2.0, 2.0), (0.0, 0.0), (1.0, 3.0)]:
        assert f.value_and_grad(a, b) == graph(fn, a, b)
    source = f.source
    assert "cos(x0) * 2.0" in source  # the rule's own expression, not a call of its checking wrapper
    assert "_capped_derivative(" in source and "checked" not in source  # called (checked), named after the rule


@pytest.mark.parametrize("slip, message", [
    (lambda x: (x > 0.0,), "real number"),  # a bool, not a number
    (lambda x: (1.0, 2.0), "2 local derivatives for 1 input"),
    (lambda x: 1.0, "tuple"),
], ids=["bool", "count", "not-a-tuple"])
def test_a_slip_in_a_learners_derivative_raises_the_graph_paths_error_in_compiled_code_too(slip, message):
    # right below 0.8, the slip above it: compiled while right, then called where it slips
    op = operation(derivative=lambda x, out: (1.0 - out * out,) if x < 0.8 else slip(x), name="slip")(math.tanh)
    with pytest.raises(Exception, match=message) as on_graph:
        graph(lambda a: op(a * 2.0), 0.45)
    f = compiled(lambda a: op(a * 2.0))
    for x in (0.1, 0.2, 0.3):
        assert f.value_and_grad(x) == graph(lambda a: op(a * 2.0), x)
    assert f.traces == 2 and "slip_derivative(" in f.source  # compiled, calling the checked derivative
    with pytest.raises(type(on_graph.value), match=message):
        f.value_and_grad(0.45)


def test_a_lookup_with_take_is_repeated_with_each_new_index():
    table = [[Parameter(0.1 * (r + 1) * (c + 2)) for c in range(3)] for r in range(4)]

    @compiled
    def f(i, x):
        row = take(table, i)
        return Value.sum([w * x for w in row]).tanh()

    for i in (0, 3, 1, 2, 3, 0):
        for p in (p for row in table for p in row):
            p.grad = 0.0
        value = f(i, 0.5)
        assert value == math.tanh(sum(p.data * 0.5 for p in table[i]))
        t = 1.0 - value * value
        for r, row in enumerate(table):
            for p in row:
                assert p.grad == (0.5 * t if r == i else 0.0)
    assert len(f.programs) == 1 and f.paths == 1


def test_plain_indexing_with_an_int_argument_is_fixed_to_that_index_and_still_right():
    table = [Parameter(float(k)) for k in range(5)]
    f = compiled(lambda i, x: table[i] * x)
    for i in (0, 3, 0, 4, 3, 1):
        assert f(i, 2.0) == 2.0 * i
    assert f.paths == 4  # one path per index used


def test_drawn_numbers_are_drawn_anew_in_the_graph_paths_order():
    def run(use_compiled):
        rng = random.Random(7)
        w = Parameter(0.5)

        def fn(x):
            return w * x * Drawn(rng.random) + Drawn(lambda: rng.gauss(0.0, 1.0))

        f = compiled(fn) if use_compiled else None
        out = []
        for x in (1.0, 2.0, 3.0, 4.0, 5.0):
            if use_compiled:
                out.append(f(x))
            else:
                y = fn(Value(x))
                y.backward()
                out.append(y.data)
        return out, w.grad

    assert run(True) == run(False)
    assert len(set(run(True)[0])) == 5


def test_a_call_recorded_again_after_its_draws_does_not_draw_twice():
    def run(use_compiled):
        rng = random.Random(3)

        def fn(x):
            noisy = x + Drawn(rng.random)  # drawn before the branch that sends the call back to recording
            if noisy > 1.0:
                return noisy * 2.0
            return -noisy

        f = compiled(fn)
        return [f(x) if use_compiled else fn(Value(x)).data for x in (0.1, 0.2, 0.9, 0.3, 0.95, 0.05, 0.99, 0.4)]

    assert run(True) == run(False)


def test_random_numbers_drawn_without_drawn_are_caught_not_frozen():
    rng = random.Random(0)
    f = compiled(lambda x: x * rng.random())
    with pytest.warns(CompileWarning, match="ran differently"):
        values = [f(1.0) for _ in range(5)]
    assert len(set(values)) == 5  # every call a fresh draw, as on the graph path


def test_a_value_computed_outside_is_refused_with_a_message():
    w = Value(2.0)
    h = w * 3.0  # made before the call

    f = compiled(lambda x: h * x)
    with pytest.warns(CompileWarning, match="computed before it was called"):
        assert f(2.0) == 12.0
    assert w.grad == 6.0  # the graph path ran: gradients reach w through h


def test_no_grad_inside_a_compiled_function_is_refused():
    def fn(x):
        with no_grad():
            scale = x * 2.0
        return x * scale

    f = compiled(fn)
    with pytest.warns(CompileWarning, match="no_grad"):
        assert f(3.0) == 18.0


def test_calling_it_under_no_grad_computes_the_value_only():
    w = Parameter(1.5)
    f = compiled(lambda x: w * x)
    with no_grad():
        assert f(2.0) == 3.0
    assert w.grad == 0.0 and f.traces == 0


def test_several_outputs_are_returned_in_their_shape_without_a_backward_pass():
    w = Parameter(2.0)
    f = compiled(lambda x: [w * x, (w + x, x * x)])
    assert f(3.0) == [6.0, (5.0, 9.0)]
    assert f(4.0) == [8.0, (6.0, 16.0)]
    assert w.grad == 0.0


def test_run_takes_seeds_for_several_outputs():
    w = Parameter(2.0)
    f = compiled(lambda x: [w * x, w * w], wrt_inputs=False)
    for _ in range(3):
        params, grads = [2.0], [0.0]
        assert f.run((3.0,), params, grads, [1.0, 10.0]) == [6.0, 4.0]
        assert grads == [3.0 + 10.0 * 4.0]


def test_an_error_in_compiled_code_is_the_graph_paths_error_and_changes_no_gradient():
    w = Parameter(1.0)
    f = compiled(lambda x: (w * x).log())
    f(2.0)
    f(3.0)
    before = w.grad
    with pytest.raises(ValueError, match=r"log\(\) of -2.0 is undefined"):
        f(-2.0)
    assert w.grad == before
    assert f(4.0) == math.log(4.0)


def test_a_negative_base_with_a_fractional_power_is_refused_as_on_the_graph_path():
    f = compiled(lambda x: (x - 1.0) ** 0.5)
    assert f(5.0) == 2.0
    assert f(10.0) == 3.0
    with pytest.raises(ValueError, match="not a real number"):
        f(0.0)


def test_a_node_built_by_hand_with_another_value_is_refused():
    def fn(a):
        return Value(99.0, (a, a), "*")  # 99 is not a * a

    f = compiled(fn)
    with pytest.warns(CompileWarning, match="formula"):
        assert f(2.0) == 99.0


def test_the_source_of_a_neuron_is_short_and_readable():
    w = [Parameter(0.3), Parameter(-0.4)]
    b = Parameter(0.1)

    @compiled
    def neuron(x0, x1):
        return (w[0] * x0 + w[1] * x1 + b).tanh()

    neuron(1.0, 2.0)
    source = neuron.source
    assert source.startswith("def neuron(x, ix, p, grads, seed, gx):")
    assert "tanh(" in source and "grads[0] +=" in source
    assert len(source.splitlines()) < 25
    compile(source, "<check>", "exec")


def test_a_long_chain_compiles_without_deep_recursion():
    def chain(x):
        for _ in range(3000):
            x = x * 1.0001 + 0.001
        return x

    f = compiled(chain)
    value, (grad,) = f.value_and_grad(0.5)
    want = graph(chain, 0.5)
    assert value == want[0] and grad == want[1][0]


def test_with_eager_false_a_kind_is_compiled_once_its_calls_pay_for_it_or_are_announced():
    w = [Parameter(0.01 * k) for k in range(200)]

    def fn(xs):
        return Value.sum([wi * x for wi, x in zip(w, xs)]).tanh()

    xs = [0.5] * 200
    lazy = compiled(fn, eager=False)
    for _ in range(3):
        lazy(xs)
    assert lazy.traces == 0  # three calls on the graph cost less than compiling would

    planned = compiled(fn, eager=False)
    planned.expect(xs, calls=10_000)  # a training run announces its calls
    values = [planned(xs) for _ in range(4)]
    assert planned.traces == 2  # one call on the graph to time it, then recorded, verified, compiled
    assert values == [fn([Value(x) for x in xs]).data] * 4

    other = [0.5] * 199  # another kind: announced calls are per kind
    planned(other)
    assert planned.traces == 2


def test_ctrl_c_at_any_line_of_a_compiled_call_leaves_nothing_recording():
    from interrupts import AUTOGRAD, interrupt_everywhere

    from autograd import is_tracing
    from autograd.mode import mode

    w = Parameter(0.5)

    def run(f):
        for x in (1.0, 2.0, 3.0):  # recorded and compiled, recorded to check, compiled code
            f(x)

    def check(f, interrupted):
        assert not is_tracing() and mode.scope == ()
        assert f(1.5) == math.tanh(0.75) + 2.25  # and it still computes

    runs = interrupt_everywhere(lambda: compiled(lambda x: (w * x).tanh() + x * x), run, check, folders=(AUTOGRAD,))
    assert runs > 1000
