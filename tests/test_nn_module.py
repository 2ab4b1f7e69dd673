"""Modules: the lecture's loop, structure and names, scopes, seeds, the float path, containers, errors."""

import math
import random
from operator import mul

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from autograd import Constant, Parameter, Value, numerical_grad, topological_order
from nn import MLP, Dropout, Layer, Module, Neuron, Residual, Sequential
from nn.module import from_config
from torch_or_skip import torch_or_skip

LECTURE_XS = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]


def lecture_loop(n, steps=20):
    """The lecture's loop as it is typed there; the losses of its steps and the last predictions."""
    xs, ys = LECTURE_XS, LECTURE_YS
    losses = []
    for k in range(steps):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        for p in n.parameters():
            p.data += -0.1 * p.grad
        losses.append(loss.data)
    return losses, ypred


def test_the_lectures_hand_written_loop_works_unchanged():
    losses, ypred = lecture_loop(MLP(3, [4, 4, 1], seed=0), steps=30)
    assert losses[-1] < 0.05 * losses[0]
    assert all(isinstance(v, Value) for v in ypred)
    assert [math.copysign(1, v.data) for v in ypred] == LECTURE_YS


def test_the_lectures_network_has_a_tanh_output_and_learns_from_every_start():
    n = MLP(3, [4, 4, 1], output="tanh", seed=0)
    assert [layer.activation for layer in n.layers] == ["tanh", "tanh", "tanh"]
    assert n([2.0, 3.0, -1.0])._op == "tanh"
    assert repr(n).startswith("MLP(3, [4, 4, 1], activation='tanh', output='tanh'")
    # the tanh output keeps the lecture's steps of 0.1 small; a linear output overshoots from
    # some starts (the README says so)
    finals = [lecture_loop(MLP(3, [4, 4, 1], output="tanh", seed=seed))[0][-1] for seed in range(40)]
    assert max(finals) < 0.5
    assert any(lecture_loop(MLP(3, [4, 4, 1], seed=seed))[0][-1] > 1.0 for seed in range(60))


def test_output_is_one_value_for_one_output_and_a_list_otherwise():
    assert isinstance(MLP(3, [4, 4, 1], seed=0)([1.0, 2.0, 3.0]), Value)
    out = MLP(3, [4, 2], seed=0)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 2 and all(isinstance(v, Value) for v in out)
    assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), Value)
    assert len(Layer(2, 5, seed=0)([1.0, 2.0])) == 5
    assert isinstance(Neuron(2, seed=0)([1.0, 2.0]), Value)


def test_parameters_are_parameter_leaves_with_dotted_names():
    model = MLP(3, [4, 4, 1], seed=0)
    named = list(model.named_parameters())
    assert model.num_parameters() == len(named) == 4 * 4 + 4 * 5 + 1 * 5 == 41
    assert all(isinstance(p, Parameter) and p._op == "" for _, p in named)
    names = [name for name, _ in named]
    assert names[:5] == [
        "layers.0.neurons.0.w.0",
        "layers.0.neurons.0.w.1",
        "layers.0.neurons.0.w.2",
        "layers.0.neurons.0.b",
        "layers.0.neurons.1.w.0",
    ]
    assert names[-1] == "layers.2.neurons.0.b"
    assert dict(named)["layers.0.neurons.3.w.1"] is model.layers[0].neurons[3].w[1]
    assert [p for _, p in named] == model.parameters()
    assert len(set(map(id, model.parameters()))) == 41


def test_hidden_layers_use_the_activation_and_the_output_is_linear():
    model = MLP(2, [3, 3, 2], activation="relu", seed=0)
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "linear"]
    out = model([0.5, -0.5])
    assert all(v._op == "+" for v in out)  # the last layer ends with the bias sum, no activation
    assert MLP(2, [3, 1]).activation == "tanh"


def test_a_value_made_in_neuron_3_of_layer_0_carries_that_scope():
    model = MLP(2, [4, 4, 1], seed=0)
    out = model([0.5, -1.5])
    w = model.layers[0].neurons[3].w[0]
    made_by_w = [node for node in topological_order(out) if w in node._prev]
    assert made_by_w and all(node._scope == ("MLP", "Layer 0", "Neuron 3") for node in made_by_w)
    assert out._scope == ("MLP", "Layer 2", "Neuron 0")
    scopes = {node._scope for node in topological_order(out) if node._op}
    assert {s[:2] for s in scopes} == {("MLP", "Layer 0"), ("MLP", "Layer 1"), ("MLP", "Layer 2")}


def test_forward_batch_builds_the_same_graph_as_one_call_per_example():
    X = [[0.5, -1.5], [2.0, 0.25], [-1.0, -1.0]]
    for model in (
        MLP(2, [4, 3, 1], seed=0),
        MLP(2, [3, 2], activation="relu", seed=0),
        Sequential(Layer(2, 2, seed=0), Residual(MLP(2, [3, 2], seed=1)), Neuron(2, seed=2)),
    ):
        one_by_one = [model(x) for x in X]
        batched = model.forward_batch(X)
        for a, b in zip(one_by_one, batched):
            a, b = (a, b) if isinstance(a, list) else ([a], [b])
            for u, v in zip(a, b):
                nodes_u, nodes_v = topological_order(u), topological_order(v)
                assert [(n.data, n._op, n._scope) for n in nodes_u] == [(n.data, n._op, n._scope) for n in nodes_v]


def test_names_default_to_the_class_and_parents_number_their_children():
    seq = Sequential(Layer(2, 3, seed=0), Dropout(0.1), Layer(3, 1, seed=0))
    assert seq.name == "Sequential"
    assert [m.name for m in seq.layers] == ["Layer 0", "Dropout 1", "Layer 2"]
    assert [n.name for n in seq.layers[0].neurons] == ["Neuron 0", "Neuron 1", "Neuron 2"]
    assert Neuron(2).name == "Neuron" and MLP(2, [1]).name == "MLP"

    class Custom(Module):  # a learner's module that forgets super().__init__()
        def __init__(self):
            self.inner = Layer(2, 1, seed=0)

        def forward(self, x):
            return self.inner(x) * 2.0

    custom = Custom()
    out = custom([1.0, 1.0])
    assert out._scope == ("Custom",) and out._prev[0]._scope == ("Custom", "Layer", "Neuron 0")
    assert [name for name, _ in custom.named_parameters()] == ["inner.neurons.0.w.0", "inner.neurons.0.w.1", "inner.neurons.0.b"]
    assert custom.forward_floats([1.0, 1.0]) == pytest.approx(out.data)


def test_the_same_seed_gives_the_same_model():
    a, b, c = MLP(2, [8, 1], seed=3), MLP(2, [8, 1], seed=3), MLP(2, [8, 1], seed=4)
    assert a.state_dict() == b.state_dict() != c.state_dict()
    nn.manual_seed(11)
    first = MLP(2, [8, 1]).state_dict()
    nn.manual_seed(11)
    assert MLP(2, [8, 1]).state_dict() == first
    assert MLP(2, [8, 1], seed=random.Random(5)).state_dict() == MLP(2, [8, 1], seed=5).state_dict()


@pytest.mark.parametrize("init, bound", [("uniform", 1.0), ("xavier", math.sqrt(3 / 50)), ("kaiming", math.sqrt(6 / 50))])
def test_initial_weights_follow_the_init_and_biases_start_at_zero(init, bound):
    layer = Layer(50, 40, init=init, seed=0)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert max(abs(w) for w in weights) <= bound
    assert max(abs(w) for w in weights) > 0.95 * bound  # it uses the whole range
    variance = sum(w * w for w in weights) / len(weights)
    assert variance == pytest.approx(bound**2 / 3, rel=0.1)  # uniform on [-a, a] has variance a²/3
    assert all(n.b.data == 0.0 for n in layer.neurons)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu", "relu", "linear"])
def test_parameter_gradients_match_central_differences(activation):
    model = MLP(3, [4, 3, 1], activation=activation, seed=1)
    x = [0.4, -1.2, 0.9]
    params = model.parameters()
    rng = random.Random(0)
    for p in params:  # nonzero biases keep relu away from its kink at 0
        p.data = rng.uniform(0.1, 1.0) if p.data == 0.0 else p.data

    def f(*values):
        for p, value in zip(params, values):
            p.data = value.data
        return model(x)

    start = [p.data for p in params]
    out = f(*[Value(v) for v in start])
    out.backward()
    analytic = [p.grad for p in params]
    numeric = numerical_grad(f, *start)
    for p, value in zip(params, start):
        p.data = value
    assert analytic == pytest.approx(numeric, abs=1e-6)


def test_inputs_may_be_values_and_then_get_gradients():
    model = MLP(2, [3, 1], seed=2)
    x = [Value(0.3), Value(-0.8)]
    model(x).backward()
    numeric = numerical_grad(lambda a, b: model([a, b]), 0.3, -0.8)
    assert [v.grad for v in x] == pytest.approx(numeric, abs=1e-7)


def test_float_inputs_enter_the_graph_once_per_layer_as_constants():
    layer = Layer(2, 5, seed=0)
    out = layer([0.5, 2.0])
    inputs = {node for node in topological_order(out[0]) + topological_order(out[4]) if isinstance(node, Constant)}
    assert sorted(c.data for c in inputs) == [0.5, 2.0]  # shared by the neurons, not copied


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu", "linear"])
def test_the_float_path_computes_what_the_graph_computes(activation):
    model = MLP(2, [5, 4, 3], activation=activation, seed=0)
    rng = random.Random(0)
    for _ in range(20):
        x = [rng.uniform(-3, 3), rng.uniform(-3, 3)]
        graph = [v.data for v in model(x)]
        assert model.forward_floats(x) == graph  # the same numbers, to the last bit
    single = MLP(2, [3, 1], activation=activation, seed=0)
    assert single.forward_floats((1.0, 2)) == single([1.0, 2.0]).data
    assert isinstance(single.forward_floats([1.0, 2.0]), float)
    assert single.forward_floats([Value(1.0), 2]) == single.forward_floats([1.0, 2.0])
    assert isinstance(single.forward_floats([Value(1.0), 2]), float)


@given(
    nin=st.integers(1, 4),
    sizes=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    activation=st.sampled_from(["tanh", "relu", "sigmoid", "leaky_relu", "linear"]),
    init=st.sampled_from(["uniform", "xavier", "kaiming"]),
    seed=st.integers(0, 2**16),
    data=st.data(),
)
def test_float_path_equals_graph_path_for_any_mlp(nin, sizes, activation, init, seed, data):
    model = MLP(nin, sizes, activation=activation, init=init, seed=seed)
    x = data.draw(st.lists(st.floats(-10, 10), min_size=nin, max_size=nin))
    graph = model(x)
    graph = [v.data for v in graph] if isinstance(graph, list) else graph.data
    assert model.forward_floats(x) == graph
    batched = model.forward_batch([x])[0]
    assert ([v.data for v in batched] if isinstance(batched, list) else batched.data) == graph


def test_the_float_path_adds_in_the_graphs_order_on_wide_layers():
    # more inputs than one compiled line holds, with terms whose order changes the rounding
    layer = Layer(70, 3, activation="linear", seed=0)
    x = [1e16 if i % 7 == 0 else -1e16 if i % 7 == 3 else 1.0 + i / 3 for i in range(70)]
    graph = [v.data for v in layer(x)]
    assert layer.forward_floats(x) == graph
    assert layer.forward_floats(x) != [math.fsum([n.b.data, *map(mul, [w.data for w in n.w], x)]) for n in layer.neurons]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu", "linear"])
def test_each_activation_gives_the_same_numbers_on_both_paths_at_extremes(activation):
    neuron = Neuron(1, activation=activation, seed=0)
    neuron.w[0].data = 1.0
    for z in (-1e308, -1000.0, -710.0, -1e-300, -0.0, 0.0, 5e-324, 1e-8, 37.0, 1000.0, 1e308, math.inf, -math.inf):
        assert neuron.forward_floats([z]) == neuron([z]).data, z


def test_the_float_path_takes_any_sequence_of_numbers():
    model = MLP(3, [4, 2], activation="tanh", seed=3)
    expected = [v.data for v in model([1.0, -2.0, 0.5])]
    for x in ([1.0, -2.0, 0.5], (1.0, -2.0, 0.5), [1, -2, 0.5], [Value(1.0), Constant(-2.0), 0.5], iter([1.0, -2.0, 0.5])):
        assert model.forward_floats(x) == expected
    numpy = pytest.importorskip("numpy")
    assert model.forward_floats(numpy.array([1.0, -2.0, 0.5])) == expected
    assert all(type(v) is float for v in model.forward_floats(numpy.array([1.0, -2.0, 0.5])))
    one = Neuron(1, activation="sigmoid", seed=0)
    assert one.forward_floats(0.25) == one.forward_floats([0.25]) == one([0.25]).data


def test_the_float_path_shows_every_layers_output():
    model = MLP(2, [4, 3, 1], activation="relu", seed=0)
    outputs = model.forward_floats_by_layer([0.5, -0.25])
    assert [len(o) if isinstance(o, list) else 1 for o in outputs] == [4, 3, 1]
    assert outputs[0] == pytest.approx([v.data for v in model.layers[0]([0.5, -0.25])])
    assert outputs[-1] == model.forward_floats([0.5, -0.25])


def test_the_float_path_builds_no_graph_and_reads_the_current_weights():
    model = MLP(2, [3, 1], seed=0)
    f = model.float_function()
    before = f([1.0, 1.0])
    model.layers[1].neurons[0].b.data += 1.0
    assert f([1.0, 1.0]) == before  # a snapshot
    assert model.forward_floats([1.0, 1.0]) == pytest.approx(before + 1.0)
    assert all(p.grad == 0.0 for p in model.parameters())


def test_predict_and_accuracy_use_the_float_path():
    model = MLP(2, [4, 1], seed=0)
    X = [[0.1, 0.2], [-1.0, 0.5], [2.0, -2.0]]
    scores = model.predict(X)
    assert scores == pytest.approx([model(x).data for x in X], rel=1e-12)
    labels = [1 if s > 0 else 0 for s in scores]
    assert model.accuracy(X, labels) == 1.0
    assert model.accuracy(X, [1 - t for t in labels]) == 0.0
    assert nn.accuracy(model, X, [2 * t - 1 for t in labels]) == 1.0  # -1/+1 labels too
    multi = MLP(2, [4, 3], seed=0)
    classes = [max(range(3), key=out.__getitem__) for out in multi.predict(X)]
    assert multi.accuracy(X, classes) == 1.0


def test_dropout_is_active_only_in_train_mode():
    drop = Dropout(0.25, seed=0)
    x = [Value(1.0) for _ in range(2000)]
    out = drop(x)
    kept = [v.data for v in out if v.data != 0.0]
    assert set(kept) == {1.0 / 0.75}
    assert abs(len(kept) / 2000 - 0.75) < 0.04
    drop.eval()
    assert drop(x) == x
    model = Sequential(Layer(2, 3, seed=0), Dropout(0.5, seed=0), Layer(3, 1, seed=0))
    assert model.eval() is model and not any(m.training for m in model.modules())
    assert model([1.0, 2.0]).data == pytest.approx(model.forward_floats([1.0, 2.0]))
    model.train()
    assert all(m.training for m in model.modules())
    outs = {round(model([1.0, 2.0]).data, 12) for _ in range(20)}
    assert len(outs) > 1  # random masks while training
    assert model.forward_floats([1.0, 2.0]) == pytest.approx(model.eval()([1.0, 2.0]).data)


def test_residual_adds_its_input_and_passes_the_gradient_through():
    block = Layer(3, 3, activation="tanh", seed=0)
    res = Residual(block)
    x = [Value(0.2), Value(-0.4), Value(1.0)]
    out = res(x)
    inner = block([v.data for v in x])
    assert [o.data for o in out] == pytest.approx([v.data + i.data for v, i in zip(x, inner)])
    out[0].backward()
    jac = numerical_grad(lambda a, b, c: res([a, b, c])[0], 0.2, -0.4, 1.0)
    assert [v.grad for v in x] == pytest.approx(jac, abs=1e-7)
    assert res.forward_floats([0.2, -0.4, 1.0]) == pytest.approx([o.data for o in out])
    assert [n for n, _ in res.named_parameters()][0] == "block.neurons.0.w.0"
    assert out[0]._scope == ("Residual",) and block.name == "Layer 0"
    with pytest.raises(ValueError, match="keeps the size"):
        Residual(Layer(3, 2))


def test_residual_blocks_keep_gradients_alive_in_deep_networks():
    def first_layer_grad(model):
        out = model([0.5, -0.5, 0.25, 1.0])
        out[0].backward()
        return max(abs(p.grad) for p in model.layers[0].parameters())

    plain = Sequential([Layer(4, 4, "sigmoid", seed=i) for i in range(20)])
    deep = Sequential([Residual(Layer(4, 4, "sigmoid", seed=i)) for i in range(20)])
    assert first_layer_grad(plain) < 1e-8 < 1e-3 < first_layer_grad(deep)


def test_zero_grad_train_eval_and_repr():
    model = MLP(2, [16, 16, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    text = repr(model)
    assert text.splitlines()[0] == "MLP(2, [16, 16, 1], activation='tanh', 337 parameters):"
    assert "Layer(16, 1, activation='linear')" in text
    assert repr(Neuron(3, activation="relu")) == "Neuron(3, activation='relu')"
    assert repr(Dropout(0.1)) == "Dropout(p=0.1)"


def test_a_module_rebuilt_from_its_layout_computes_alike_once_given_the_weights():
    model = Sequential(MLP(2, [3, 2], activation="relu", output="sigmoid", seed=1), Dropout(0.2), Layer(2, 1, "linear", seed=2))
    rebuilt = from_config(model.config())
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict())
    model.eval(), rebuilt.eval()
    assert rebuilt([0.3, -0.7]).data == model([0.3, -0.7]).data


def test_rebuilding_from_a_layout_leaves_the_shared_generator_alone():
    nn.manual_seed(0)
    expected = MLP(2, [4, 1]).state_dict()
    nn.manual_seed(0)
    from_config(MLP(2, [8, 8, 1], seed=5).config())
    assert MLP(2, [4, 1]).state_dict() == expected


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: MLP(2, []), ValueError, "non-empty list"),
        (lambda: MLP(0, [1]), ValueError, "positive int"),
        (lambda: MLP(2, [3, 0]), ValueError, "positive int"),
        (lambda: MLP(2, [3], activation="softmax"), ValueError, "unknown activation 'softmax'"),
        (lambda: MLP(2, [3], init="zeros"), ValueError, "unknown init"),
        (lambda: MLP(2, [3], output="softmax"), ValueError, "unknown output activation 'softmax'"),
        (lambda: MLP(2, [3], seed="x"), TypeError, "seed must be an int"),
        (lambda: Dropout(1.0), ValueError, "0 <= p < 1"),
        (lambda: Sequential(), ValueError, "at least one module"),
        (lambda: Sequential(Layer(2, 2), "relu"), TypeError, "must be a Module"),
    ],
)
def test_bad_construction_says_what_is_wrong(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_say_what_is_wrong():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="input 1 must be a number or a Value, got str"):
        model([1.0, "2"])
    with pytest.raises(TypeError, match="list of 2 numbers"):
        model("ab")
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        model.forward_floats([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="input 1 must be a number or a Value, got NoneType"):
        model.predict([[1.0, None]])
    with pytest.raises(ValueError, match="takes 2 inputs, got 1"):
        model.predict([[1.0]])
    with pytest.raises(TypeError, match="list of 2 numbers, got str"):
        model.forward_floats("ab")
    assert isinstance(MLP(1, [2, 1], seed=0)(0.5), Value)  # one input may be a bare number


# ---- micrograd's habits: random.seed and nonlin ------------------------------------------------------
def test_random_seed_before_building_reproduces_the_model_and_manual_seed_is_random_seed():
    random.seed(1337)
    first = MLP(2, [16, 16, 1], activation="relu").state_dict()
    random.seed(1337)
    assert MLP(2, [16, 16, 1], activation="relu").state_dict() == first
    nn.manual_seed(1337)
    assert MLP(2, [16, 16, 1], activation="relu").state_dict() == first
    nn.manual_seed(1337)
    assert random.random() == random.Random(1337).random()  # manual_seed seeds Python's generator
    random.seed(7)
    dropout = Dropout(0.5)
    masks = [dropout([1.0] * 8) for _ in range(3)]
    random.seed(7)
    assert [Dropout(0.5)([1.0] * 8) for _ in range(3)] == masks  # dropout masks too
    with pytest.raises(TypeError, match="seed must be an int"):
        nn.manual_seed("1337")


def test_building_draws_micrograds_weights_in_micrograds_order():
    mg = pytest.importorskip("micrograd.nn", reason="micrograd is in the dev extra: pip install -e '.[dev]'")
    for theirs_make, ours_make in [
        (lambda: mg.MLP(2, [16, 16, 1]), lambda: MLP(2, [16, 16, 1], activation="relu")),
        (lambda: mg.MLP(3, [4, 4, 1]), lambda: MLP(3, [4, 4, 1], activation="relu")),
        (lambda: mg.Layer(3, 4, nonlin=False), lambda: Layer(3, 4, nonlin=False)),
        (lambda: mg.Neuron(5), lambda: Neuron(5, nonlin=True)),
    ]:
        random.seed(42)
        theirs = theirs_make()
        after_theirs = random.random()
        random.seed(42)
        ours = ours_make()
        assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
        assert random.random() == after_theirs  # the same number of draws, too


def test_micrograds_moons_demo_gives_micrograds_numbers():
    mg = pytest.importorskip("micrograd.nn", reason="micrograd is in the dev extra: pip install -e '.[dev]'")
    from micrograd.engine import Value as TheirValue

    from nn import SGD, data, fit, losses, schedules
    from nn.train import train_step

    X, labels = data.moons(100, noise=0.1, seed=1337)
    y = [2 * t - 1 for t in labels]  # -1 or 1, as the demo makes them
    random.seed(1337)
    theirs = mg.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = MLP(2, [16, 16, 1], activation="relu")
    random.seed(1337)
    fitted = MLP(2, [16, 16, 1], activation="relu")
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    opt = SGD(ours, lr=lambda k: 1.0 - 0.9 * k / 100)
    steps = 4
    for k in range(steps):
        # micrograd's demo, as it is written there
        inputs = [list(map(TheirValue, row)) for row in X]
        scores = list(map(theirs, inputs))
        hinge = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
        data_loss = sum(hinge) * (1.0 / len(hinge))
        total = data_loss + 1e-4 * sum(p * p for p in theirs.parameters())
        theirs.zero_grad()
        total.backward()
        for p in theirs.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        # chainrule: the library's hinge loss, L2 penalty and SGD
        loss = train_step(ours, opt, losses.hinge, X, y, l2=1e-4)
        assert loss == pytest.approx(total.data, rel=1e-12, abs=1e-12)
        for a, b in zip(ours.parameters(), theirs.parameters()):
            assert a.data == pytest.approx(b.data, rel=1e-12, abs=1e-12)
    fit(fitted, (X, y), loss="hinge", l2=1e-4, optimizer=SGD(fitted, lr=schedules.linear(1.0, 0.1, 100)), epochs=steps, progress=False)
    for a, b in zip(fitted.parameters(), theirs.parameters()):
        assert a.data == pytest.approx(b.data, rel=1e-12, abs=1e-12)


def test_micrograds_nonlin_keyword():
    assert Neuron(2, nonlin=True).activation == "relu"
    assert Neuron(2, nonlin=False).activation == "linear"
    assert Neuron(2, False).activation == "linear"  # micrograd's second positional argument
    assert Neuron(2, True).activation == "relu"
    assert Neuron(2).activation == "tanh"  # the lecture's default, as before
    layer = Layer(3, 4, nonlin=False)
    assert layer.activation == "linear" and {n.activation for n in layer.neurons} == {"linear"}
    assert Layer(3, 4, activation="relu", nonlin=True).activation == "relu"  # consistent: fine
    relu, linear = Neuron(2, nonlin=True, seed=0), Neuron(2, nonlin=False, seed=0)
    for x in ([1.0, 2.0], [-1.0, -2.0]):
        z = linear(x).data
        assert relu(x).data == max(z, 0.0) and relu(x)._op == "relu" and linear(x)._op != "relu"
    assert repr(Layer(3, 4, nonlin=False)) == "Layer(3, 4, activation='linear')"
    assert Layer(3, 4, nonlin=True).config() == Layer(3, 4, activation="relu").config()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: Neuron(2, activation="tanh", nonlin=True), ValueError, "nonlin=True means activation='relu' .* but activation='tanh' was given too; give one of them"),
        (lambda: Layer(2, 3, activation="relu", nonlin=False), ValueError, "nonlin=False means activation='linear'"),
        (lambda: Neuron(2, True, nonlin=False), ValueError, "nonlin given twice"),
        (lambda: Neuron(2, nonlin=1), TypeError, "nonlin must be True \\(ReLU, as in micrograd\\) or False \\(linear\\), got 1"),
        (lambda: Layer(2, 3, nonlin="relu"), TypeError, "nonlin must be True"),
    ],
)
def test_nonlin_and_activation_must_agree(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_a_nonlin_model_saves_loads_and_exports(tmp_path):
    model = Sequential(Layer(2, 4, nonlin=True, seed=0), Layer(4, 1, nonlin=False, seed=1))
    model.save(tmp_path / "m.json")
    loaded = nn.load(tmp_path / "m.json")
    assert repr(loaded) == repr(model) and loaded.state_dict() == model.state_dict()
    assert loaded.forward_floats([0.3, -0.2]) == model.forward_floats([0.3, -0.2])
    torch = pytest.importorskip("torch")
    net = nn.to_torch(model)
    assert isinstance(net[1], torch.nn.ReLU) and len(net) == 3
    out = net(torch.tensor([[0.3, -0.2]], dtype=torch.float64)).item()
    assert out == pytest.approx(model.forward_floats([0.3, -0.2]), abs=1e-12)


def test_numpy_sizes_build_models():
    np = pytest.importorskip("numpy")
    model = MLP(np.int64(2), [np.int64(3), 1], seed=0)
    assert model.config()["nouts"] == [3, 1] and type(model.nin) is int
    assert json_round_trips(model.config())


def json_round_trips(config):
    import json

    return json.loads(json.dumps(config)) == config


class Parts(Module):
    """A model that keeps its modules and a Parameter in dicts, as a PyTorch user would."""

    def __init__(self):
        super().__init__()
        self.parts = {"encoder": nn.Linear(2, 3, seed=0), "head": Layer(3, 1, "linear", seed=1)}
        self.extra = {"scale": Parameter(1.5), "note": "not a parameter"}

    def forward(self, x):
        return self.parts["head"](self.parts["encoder"](x)) * self.extra["scale"]


def test_modules_and_parameters_kept_in_dicts_count_everywhere(tmp_path):
    model = Parts()
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["extra.scale", "parts.encoder.weight.0.0", "parts.encoder.weight.0.1"]  # its own, then its parts'
    assert names[-2:] == ["parts.head.neurons.0.w.2", "parts.head.neurons.0.b"]
    assert model.num_parameters() == len(model.parameters()) == len(model.state_dict()) == 9 + 4 + 1
    assert [type(m).__name__ for m in model.modules()] == ["Parts", "Linear", "Layer", "Neuron"]
    model.save(tmp_path / "parts.json")
    twin = Parts()
    twin.extra["scale"].data = 7.0
    assert twin.load(tmp_path / "parts.json").state_dict() == model.state_dict()
    before = model.state_dict()
    history = nn.fit(model, nn.data.moons(40), epochs=5, progress=False)
    after = model.state_dict()
    assert all(after[name] != before[name] for name in ("parts.encoder.weight.0.0", "parts.head.neurons.0.b", "extra.scale"))
    assert history.train_loss[-1] < history.train_loss[0]
    assert model.forward_floats([0.5, -0.5]) == model([0.5, -0.5]).data


def test_a_module_used_twice_shares_its_weights_as_in_pytorch(tmp_path):
    torch = torch_or_skip()
    shared = nn.Linear(2, 2, seed=0)
    model = Sequential(shared, Layer(2, 2, "tanh", seed=1), shared)
    names = [name for name, _ in model.named_parameters()]
    assert len(names) == len(set(names)) == model.num_parameters() == 6 + 6
    assert names[:6] == ["layers.0.weight.0.0", "layers.0.weight.0.1", "layers.0.weight.1.0", "layers.0.weight.1.1",
                         "layers.0.bias.0", "layers.0.bias.1"]  # named by the first path that reaches them
    assert [type(m).__name__ for m in model.modules()].count("Linear") == 1
    # the gradient of a shared weight is the sum over both uses, as in PyTorch
    x = [0.3, -0.7]
    model.zero_grad()
    sum(model(x)).backward()
    twin = nn.to_torch(model)
    assert sum(p.numel() for p in twin.parameters()) == 12  # still shared after the export
    twin(torch.tensor([x], dtype=torch.float64)).sum().backward()
    assert shared.weight[1][0].grad == pytest.approx(twin[0].weight.grad[1, 0].item(), rel=1e-12)
    assert shared.bias[0].grad == pytest.approx(twin[0].bias.grad[0].item(), rel=1e-12)
    # fit trains it (Adam got each parameter once), and saving keeps the state consistent
    nn.fit(model, (nn.data.moons(30)[0], [[0.0, 1.0]] * 30), epochs=2, progress=False)
    model.save(tmp_path / "shared.json")
    other = Sequential(nn.Linear(2, 2, seed=5), Layer(2, 2, "tanh", seed=6), nn.Linear(2, 2, seed=7))
    with pytest.raises(ValueError, match="missing 6 parameter"):
        other.load(tmp_path / "shared.json")
    again = nn.Linear(2, 2, seed=9)
    rebuilt = Sequential(again, Layer(2, 2, "tanh", seed=2), again)
    assert rebuilt.load(tmp_path / "shared.json").state_dict() == model.state_dict()
    assert rebuilt.forward_floats(x) == model.forward_floats(x)
    with pytest.raises(ValueError, match="does not describe its model's layout .*parts that share weights"):
        nn.load(tmp_path / "shared.json")  # a layout would rebuild two separate layers
