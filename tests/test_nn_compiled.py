"""Compiled training (`nn.compiled`): `fit`, `train_step` and the playground's `Trainer` give the graph
path's losses and gradients with every loss, optimizer, penalty and Dropout, fall back where they
must, and build no graph."""

import math
import random
import tracemalloc

import pytest

from autograd import CompileError, Value, take
from nn import GPT, MLP, SGD, Adagrad, Adam, AdamW, Dropout, Layer, Module, RMSprop, Sequential, data, fit, losses, schedules
from nn import compiled as compiled_training
from nn.playground.core import Task, Trainer
from nn.text import CharTokenizer, fit_text
from nn.train import train_step
from tests.torch_or_skip import torch_or_skip


def moons_model(seed=0):
    return MLP(2, [16, 16, 1], activation="relu", seed=seed)


def moons():
    X, y = data.moons(100, noise=0.1, seed=1)
    return X, [1 if t > 0 else -1 for t in y]


def grads(model):
    return [p.grad for p in model.parameters()]


def steps_agree(make_model, make_optimizer, loss_fn, X, y, steps, l2=0.0, l1=0.0, batch=None, exact=True, first=True):
    """Train two copies side by side, one compiled (``first``) and one on the graph; compare every step."""
    runs = []
    for compiled in (first, False):
        model = make_model()
        opt = make_optimizer(model)
        out = []
        rng = random.Random(0)
        for _ in range(steps):
            idx = list(range(len(X))) if batch is None else rng.sample(range(len(X)), batch)
            loss = train_step(model, opt, loss_fn, [X[i] for i in idx], [y[i] for i in idx], l2=l2, l1=l1, compiled=compiled)
            out.append((loss, grads(model)))
        runs.append((out, model.state_dict()))
    (fast, fast_state), (slow, slow_state) = runs
    for (loss_a, grads_a), (loss_b, grads_b) in zip(fast, slow):
        if exact:
            assert loss_a == loss_b and grads_a == grads_b
        else:
            assert loss_a == pytest.approx(loss_b, rel=1e-12, abs=1e-15)
            assert grads_a == pytest.approx(grads_b, rel=1e-12, abs=1e-15)
    if exact:
        assert fast_state == slow_state
    return fast


def test_100_moons_steps_give_the_graph_paths_losses_and_gradients_to_the_last_bit():
    X, y = moons()
    fast = steps_agree(moons_model, lambda m: SGD(m, lr=schedules.linear(1.0, 0.1, 100)), losses.hinge, X, y,
                       100, l2=1e-4)
    assert fast[-1][0] < 0.5 * fast[0][0]  # and it learned


@pytest.mark.parametrize("make_optimizer", [
    lambda m: SGD(m, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda m: Adam(m, lr=0.01),
    lambda m: AdamW(m, lr=0.01),
    lambda m: RMSprop(m, lr=0.01, centered=True, momentum=0.5),
    lambda m: Adagrad(m, lr=0.1),
], ids=["sgd", "adam", "adamw", "rmsprop", "adagrad"])
def test_every_optimizer_trains_the_same_on_both_paths(make_optimizer):
    X, y = moons()
    steps_agree(lambda: MLP(2, [8, 1], activation="tanh", seed=3), make_optimizer, losses.binary_cross_entropy,
                X[:40], [max(t, 0) for t in y[:40]], 8, batch=10)


@pytest.mark.parametrize("loss, targets, nout", [
    (losses.mse, "floats", 1),
    (losses.mse, "vectors", 2),
    (losses.hinge, "signs", 1),
    (losses.binary_cross_entropy, "bits", 1),
    (losses.cross_entropy, "classes", 3),
])
def test_every_loss_with_both_penalties_gives_the_graph_paths_numbers(loss, targets, nout):
    X, y = data.spiral(60, k=3, noise=0.1, seed=0)
    make = {
        "floats": lambda t, x: math.sin(3 * x[0]),
        "vectors": lambda t, x: [x[0] * x[1], float(t)],
        "signs": lambda t, x: 1 if t == 0 else -1,
        "bits": lambda t, x: int(t == 1),
        "classes": lambda t, x: t,
    }[targets]
    y = [make(t, x) for t, x in zip(y, X)]
    # several outputs per example: the mean of the examples' means rounds differently from one mean
    steps_agree(lambda: MLP(2, [8, 8, nout], activation="tanh", seed=1), lambda m: Adam(m, lr=0.02), loss, X, y, 6,
                l2=1e-3, l1=1e-4, batch=16, exact=targets != "vectors")


def test_dropout_draws_a_fresh_mask_every_step_in_the_graph_paths_order():
    X, y = moons()

    def make():
        return Sequential(Layer(2, 16, "relu", seed=0), Dropout(0.5, seed=4), Layer(16, 1, "linear", seed=1))

    fast = steps_agree(make, lambda m: SGD(m, lr=0.05), losses.hinge, X, y, 5, exact=False, batch=20)
    model = make()
    first = train_step(model, SGD(model, lr=0.0), losses.hinge, X[:20], y[:20], compiled=True)
    second = train_step(model, SGD(model, lr=0.0), losses.hinge, X[:20], y[:20], compiled=True)
    assert first != second  # same weights, same data: only the masks changed
    assert len({loss for loss, _ in fast}) == len(fast)


def test_fit_uses_the_compiled_path_by_default_and_matches_fit_on_the_graph():
    X, y = moons()
    histories = []
    for compiled in (None, False):
        model = moons_model(seed=2)
        history = fit(model, (X, y), loss="hinge", l2=1e-4, epochs=20, batch_size=25, validation=0.2,
                      optimizer=SGD(model, lr=0.1, momentum=0.9), progress=False, compiled=compiled)
        histories.append((history.as_dict(), model.state_dict()))
        if compiled is None:
            (step,) = compiled_training.steps(model)
            assert step.example.paths == 2 and step.example.traces == 3  # two labels, one repeated to check
    assert histories[0] == histories[1]


def test_fit_checks_its_compiled_argument():
    X, y = moons()
    with pytest.raises(ValueError, match="compiled is None"):
        fit(moons_model(), (X, y), epochs=1, compiled="yes", progress=False)


def test_a_loss_of_your_own_on_batches_trains_on_the_graph_path_unless_it_says_it_is_a_mean():
    X, y = moons()

    def own(outputs, targets):
        return losses.hinge(outputs, targets)

    model = moons_model()
    with pytest.raises(CompileError, match="mean_over_examples"):
        fit(model, (X, y), loss=own, epochs=1, compiled=True, progress=False)
    fit(model, (X, y), loss=own, epochs=2, progress=False)
    assert compiled_training.steps(model) == []

    own.mean_over_examples = True
    steps_agree(moons_model, lambda m: SGD(m, lr=0.1), own, X, y, 3)


def test_a_loss_of_your_own_on_one_example_at_a_time_compiles_with_token_ids_as_inputs():
    # a tiny character model: an embedding table looked up with take(), the loss picks the target's log-probability
    rng = random.Random(0)
    vocab, dim = 5, 4

    class Tiny(Module):
        def __init__(self):
            super().__init__()
            self.head = Layer(dim, vocab, "linear", seed=0)
            self.table = [[Value(rng.gauss(0, 1)) for _ in range(dim)] for _ in range(vocab)]  # not trained

        def forward(self, tokens):
            return [self.head(take(self.table, t)) for t in tokens]

    def next_token(outputs, targets):
        terms = []
        for logits, target in zip(outputs[0], targets[0]):
            shift = losses.max_shift(*logits)
            log_total = Value.sum([(z - shift).exp() for z in logits]).log()
            terms.append(log_total - take(logits, target) + shift)
        return Value.sum(terms) / len(terms)

    docs = [[rng.randrange(vocab) for _ in range(n)] for n in (3, 4, 3, 5, 4, 3, 4, 4)]
    X = [doc[:-1] for doc in docs]
    y = [doc[1:] for doc in docs]
    runs = []
    for compiled in (True, False):
        rng.seed(0)
        model = Tiny()
        opt = Adam(model, lr=0.05)
        losses_seen = [train_step(model, opt, next_token, [x], [t], compiled=compiled) for x, t in zip(X, y)]
        runs.append((losses_seen, model.state_dict(), [v.grad for row in model.table for v in row]))
        if compiled:
            (step,) = compiled_training.steps(model)
            assert len(step.example.programs) == 3  # one per sequence length, not one per sequence
    assert runs[0][:2] == runs[1][:2]
    # the table's gradients (it is not trained, so they add up) arrive through the lookups in another order
    assert runs[0][2] == pytest.approx(runs[1][2], rel=1e-12)


def test_a_model_that_reads_data_in_its_forward_trains_on_the_graph_path_with_the_same_numbers():
    class Rescaled(Module):
        def __init__(self):
            super().__init__()
            self.inner = Sequential(Layer(2, 4, "tanh", seed=0), Layer(4, 1, "linear", seed=1))

        def forward(self, x):
            out = self.inner(x)
            return out * (1.0 / (1.0 + abs(out.data)))  # a number read from .data: changes every example

    X, y = moons()
    with pytest.raises(CompileError, match="different ways"):
        train_step(Rescaled(), SGD(Rescaled(), lr=0.1), losses.hinge, X, y, compiled=True)
    steps_agree(Rescaled, lambda m: SGD(m, lr=0.1), losses.hinge, X, y, 3, first=None)


def test_changing_the_model_records_it_again():
    X, y = moons()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    opt = SGD(model, lr=0.1)
    train_step(model, opt, losses.hinge, X, y, compiled=True)
    for neuron in model.layers[0].neurons:
        neuron.activation = "relu"
    model.layers[0].activation = "relu"
    still = SGD(model, lr=0.0)
    fast = train_step(model, still, losses.hinge, X, y, compiled=True)
    fast_grads = grads(model)
    slow = train_step(model, still, losses.hinge, X, y, compiled=False)
    assert (fast, fast_grads) == (slow, grads(model))


def test_an_error_during_a_compiled_step_leaves_the_gradients_as_backward_would():
    X, y = moons()
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    opt = SGD(model, lr=0.1)
    train_step(model, opt, losses.mse, X[:10], [0.5] * 10, compiled=True)
    train_step(model, opt, losses.mse, X[:10], [0.5] * 10, compiled=True)
    with pytest.raises(TypeError):
        train_step(model, opt, losses.mse, X[:10], ["a"] * 10, compiled=True)
    assert all(g == 0.0 for g in grads(model))  # zero_grad ran, nothing was added


def test_the_playground_trainer_steps_on_the_compiled_path_with_the_graph_paths_numbers():
    runs = []
    for compiled in (None, False):
        trainer = Trainer(dataset="spiral", n=60, hidden=(8,), loss="cross_entropy", l2=1e-3, seed=1, compiled=compiled)
        losses_seen = [trainer.step() for _ in range(15)]
        runs.append((losses_seen, trainer.model.state_dict(), trainer.history))
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="compiled"):
        Trainer(compiled="always")


@pytest.mark.parametrize("loss", ["bce", "hinge", "mse"])
def test_the_playground_trainer_with_one_output_per_class(loss):
    runs = []
    for compiled in (True, False):
        trainer = Trainer(dataset="blobs", n=60, hidden=(6,), loss=loss, seed=3, compiled=compiled)
        runs.append([trainer.step() for _ in range(6)] + [trainer.model.state_dict()])
    assert runs[0][:-1] == pytest.approx(runs[1][:-1], rel=1e-12)
    assert list(runs[0][-1].values()) == pytest.approx(list(runs[1][-1].values()), rel=1e-12)
    assert Task.mean_over_examples is True


def test_digits_gradients_are_the_graph_paths():
    X, y = data.digits()
    model = MLP(64, [32, 10], activation="relu", init="kaiming", seed=0)
    opt = SGD(model, lr=0.0)
    fast = train_step(model, opt, losses.cross_entropy, X[:32], y[:32], l2=1e-4, compiled=True)
    fast_grads = grads(model)
    slow = train_step(model, opt, losses.cross_entropy, X[:32], y[:32], l2=1e-4, compiled=False)
    assert fast == slow and fast_grads == grads(model)


def test_compiled_gradients_match_pytorch_float64():
    torch = torch_or_skip()
    from nn import to_torch

    X, y = moons()
    model = MLP(2, [8, 8, 1], activation="tanh", seed=5)
    train_step(model, SGD(model, lr=0.0), losses.binary_cross_entropy, X, [max(t, 0) for t in y], compiled=True)
    loss = train_step(model, SGD(model, lr=0.0), losses.binary_cross_entropy, X, [max(t, 0) for t in y], compiled=True)
    net = to_torch(model)
    out = net(torch.tensor(X, dtype=torch.float64)).squeeze(1)
    reference = torch.nn.functional.binary_cross_entropy_with_logits(out, torch.tensor([float(max(t, 0)) for t in y], dtype=torch.float64))
    reference.backward()
    theirs = [g for layer in net if hasattr(layer, "weight") for g in _neuron_order(layer)]
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    assert grads(model) == pytest.approx(theirs, rel=1e-9, abs=1e-12)


def _neuron_order(layer):
    # chainrule's parameters go neuron by neuron: its weights, then its bias
    for w, b in zip(layer.weight.grad.tolist(), layer.bias.grad.tolist()):
        yield from w
        yield b


def test_a_compiled_step_builds_no_graph():
    X, y = moons()
    peaks = {}
    for compiled in (True, False):
        model = moons_model()
        opt = SGD(model, lr=0.1)
        for _ in range(3):  # on the graph until compiling pays, recorded, repeated, then compiled
            train_step(model, opt, losses.hinge, X, y, compiled=compiled)
        if compiled:
            (step,) = compiled_training.steps(model)
            assert all(program.function is not None for program in step.example.programs.values())
        tracemalloc.start()
        train_step(model, opt, losses.hinge, X, y, compiled=compiled)
        peaks[compiled] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    nodes = 38_038  # the graph of this step (the benchmark's, without its penalty)
    assert peaks[False] > 100 * nodes  # the graph path: a few hundred bytes per node
    assert peaks[True] < 2 * nodes  # compiled: a few KB in all, nothing per node


def test_fit_text_trains_a_gpt_on_the_compiled_path_with_the_graph_paths_losses():
    docs = ["abc", "bcab", "cab", "ab", "bca", "cabca"] * 4
    runs = {}
    for compiled in (True, None, False):
        model = GPT(CharTokenizer("abc"), n_embd=8, n_head=2, block_size=8, seed=0)
        history = fit_text(model, docs, epochs=3, steps_per_epoch=8, progress=False, compiled=compiled)
        runs[compiled] = (history.train_loss, model.state_dict())
        if compiled is True:
            (step,) = compiled_training.steps(model)
            assert sum(p.function is not None for p in step.example.programs.values()) == 4  # one per length of name
    for compiled in (True, None):
        # a lookup (take) changes the order some gradients are added in: equal to rounding
        assert runs[compiled][0] == pytest.approx(runs[False][0], rel=1e-12)
        assert list(runs[compiled][1].values()) == pytest.approx(list(runs[False][1].values()), rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match="compiled is None"):
        fit_text(GPT(CharTokenizer("abc"), n_embd=8, n_head=2, block_size=8), docs, compiled="yes", progress=False)
