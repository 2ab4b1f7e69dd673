"""microgpt compatibility: a microgpt-style training script runs on chainrule's `Value` unchanged and
gives the losses of its own scalar class; `nn.GPT` trained by `fit_text` gives them too.

The script below is written here from the algorithm microgpt implements (token and position
embeddings, RMSNorm, causal multi-head attention with a key/value cache, a ReLU MLP, Adam with a
linearly decaying rate, one name per step), and runs on microgpt's shape of scalar class,
`learners.LocalValue` (children and local derivatives, a recursive topological sort). That class
does ``a - b`` as ``a + (-b)`` and ``a / b`` as ``a * b**-1``, as microgpt's does, which rounds
differently from chainrule's ``-`` and ``/``: the losses agree to about 1e-15 per step and stay
within 1e-9 over the run.
"""

import math
import random

import pytest

import autograd
from learners import LocalValue
from nn import data
from nn.gpt import GPT
from nn.schedules import linear
from nn.text import CharTokenizer, fit_text, generate

STEPS = 20
SIZES = dict(n_layer=1, n_embd=8, n_head=2, block_size=16)


def microgpt_style_run(Value, docs, steps, n_layer, n_embd, n_head, block_size, total_steps=1000):
    """The training loop as a microgpt user writes it, on the scalar class ``Value``: the loss of
    every step. ``docs`` are shuffled with random.Random(42), which then draws the weights."""
    rng = random.Random(42)
    docs = list(docs)
    rng.shuffle(docs)
    chars = sorted(set("".join(docs)))
    bos, vocab = len(chars), len(chars) + 1
    head_size = n_embd // n_head

    def matrix(rows, cols):
        return [[Value(rng.gauss(0, 0.08)) for _ in range(cols)] for _ in range(rows)]

    weights = {"wte": matrix(vocab, n_embd), "wpe": matrix(block_size, n_embd), "head": matrix(vocab, n_embd)}
    for layer in range(n_layer):
        for name in ("q", "k", "v", "o"):
            weights[f"{layer}.{name}"] = matrix(n_embd, n_embd)
        weights[f"{layer}.up"] = matrix(4 * n_embd, n_embd)
        weights[f"{layer}.down"] = matrix(n_embd, 4 * n_embd)
    params = [p for rows in weights.values() for row in rows for p in row]

    def matvec(w, x):
        return [sum(wij * xj for wij, xj in zip(row, x)) for row in w]

    def softmax(z):
        top = max(zi.data for zi in z)
        e = [(zi - top).exp() for zi in z]
        s = sum(e)
        return [ei / s for ei in e]

    def norm(x):
        scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    def forward(token, position, keys, values):
        x = norm([a + b for a, b in zip(weights["wte"][token], weights["wpe"][position])])
        for layer in range(n_layer):
            h = norm(x)
            q, k, v = (matvec(weights[f"{layer}.{n}"], h) for n in "qkv")
            keys[layer].append(k)
            values[layer].append(v)
            mixed = []
            for head in range(n_head):
                lo, hi = head * head_size, (head + 1) * head_size
                scores = [sum(a * b for a, b in zip(q[lo:hi], key[lo:hi])) / head_size**0.5 for key in keys[layer]]
                w = softmax(scores)
                mixed += [sum(w[t] * values[layer][t][j] for t in range(len(w))) for j in range(lo, hi)]
            x = [a + b for a, b in zip(matvec(weights[f"{layer}.o"], mixed), x)]
            h = [hi.relu() for hi in matvec(weights[f"{layer}.up"], norm(x))]
            x = [a + b for a, b in zip(matvec(weights[f"{layer}.down"], h), x)]
        return matvec(weights["head"], x)

    m, s = [0.0] * len(params), [0.0] * len(params)
    losses = []
    for step in range(steps):
        tokens = [bos] + [chars.index(c) for c in docs[step % len(docs)]] + [bos]
        n = min(block_size, len(tokens) - 1)
        keys, values = [[] for _ in range(n_layer)], [[] for _ in range(n_layer)]
        terms = [-softmax(forward(tokens[t], t, keys, values))[tokens[t + 1]].log() for t in range(n)]
        loss = (1 / n) * sum(terms)
        loss.backward()
        rate = 0.01 * (1 - step / total_steps)
        for i, p in enumerate(params):
            m[i] = 0.85 * m[i] + 0.15 * p.grad
            s[i] = 0.99 * s[i] + 0.01 * p.grad**2
            m_hat = m[i] / (1 - 0.85 ** (step + 1))
            s_hat = s[i] / (1 - 0.99 ** (step + 1))
            p.data -= rate * m_hat / (s_hat**0.5 + 1e-8)
            p.grad = 0
        losses.append(loss.data)
    return losses


@pytest.fixture(scope="module")
def names():
    return data.names()


@pytest.fixture(scope="module")
def reference(names):
    return microgpt_style_run(LocalValue, names, STEPS, **SIZES)


def test_the_script_runs_on_chainrules_value_with_the_same_losses(names, reference):
    ours = microgpt_style_run(autograd.Value, names, STEPS, **SIZES)
    assert all(isinstance(v, float) for v in ours)
    assert ours == pytest.approx(reference, abs=1e-9, rel=0)
    assert reference[-1] < reference[0]  # it learns: the comparison is not of two flat lines


def test_nn_gpt_trained_by_fit_text_gives_the_same_losses(names, reference):
    docs = list(names)
    rng = random.Random(42)
    rng.shuffle(docs)
    model = GPT(CharTokenizer(docs), seed=rng, **SIZES)  # the generator, after the shuffle, draws the weights
    history = fit_text(model, docs, epochs=STEPS, steps_per_epoch=1, shuffle=False,
                       lr=linear(0.01, 0.0, 1000), progress=False)
    assert history.train_loss == pytest.approx(reference, abs=1e-9, rel=0)


def test_generate_draws_as_microgpts_sampler_does():
    """One draw per position from softmax(logits / temperature) with random.choices, stopping at BOS."""
    model = GPT(CharTokenizer("abc"), n_embd=4, n_head=2, block_size=6, seed=0)
    rng = random.Random(7)
    expected = []
    for _ in range(5):
        cache, token, out = model.new_cache(), model.tokenizer.bos, []
        for _ in range(model.block_size):
            logits = [z.data / 0.5 for z in model.step(token, cache)]
            top = max(logits)
            weights = [math.exp(z - top) for z in logits]
            total = 0.0
            for w in weights:
                total += w
            weights = [w / total for w in weights]
            token = rng.choices(range(model.vocab_size), weights=weights)[0]
            if token == model.tokenizer.bos:
                break
            out.append("abc"[token])
        expected.append("".join(out))
    assert generate(model, 5, temperature=0.5, seed=random.Random(7)) == expected
