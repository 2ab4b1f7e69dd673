"""Language modelling on characters: the tokenizer, training a `GPT` on a list of texts, the
bigram baseline, and sampling.

    from nn import GPT, data
    from nn.text import CharTokenizer, fit_text, generate

    names = data.names()
    tokenizer = CharTokenizer(names)               # a..z, and BOS (id 26) to mark start and end
    model = GPT(tokenizer, seed=0)                 # microgpt's sizes
    history = fit_text(model, names, epochs=10, steps_per_epoch=100, validation=0.1)
    generate(model, 5, temperature=0.5, seed=0)    # five new names
"""

import math
import numbers
import random

from .gpt import GPT, next_token_loss, split_sequence
from .blocks import softmax
from .compiled import expect
from .module import rng_from
from .optim import Adam, Optimizer
from .schedules import linear
from .train import History, _optimizer, _progress_bar, check_loop, run_epochs, train_step


class CharTokenizer:
    """Characters to token ids and back, plus one more token, BOS, that marks where a text begins
    and where it ends.

    Built from the texts it will read (a string, or a list of strings such as `nn.data.names()`):
    the distinct characters, sorted, get the ids 0..n-1 and BOS gets n, as in microgpt, so
    ``vocab_size`` is n + 1. ``encode("emma", bos=True)`` is ``[26, 4, 12, 12, 0, 26]`` for the
    names; ``decode`` turns ids back into text (BOS shows as nothing).
    """

    def __init__(self, texts):
        if isinstance(texts, str):
            chars = set(texts)
        else:
            try:
                texts = list(texts)
            except TypeError:
                raise TypeError(f"CharTokenizer takes a string or a list of strings, got {type(texts).__name__}") from None
            for i, text in enumerate(texts):
                if not isinstance(text, str):
                    raise TypeError(f"CharTokenizer takes a string or a list of strings; item {i} is a {type(text).__name__}: {text!r}")
            chars = set().union(*texts) if texts else set()
        if not chars:
            raise ValueError("CharTokenizer needs at least one character to build its vocabulary from")
        self.chars = "".join(sorted(chars))
        self.bos = len(self.chars)
        self.vocab_size = len(self.chars) + 1
        self._ids = {ch: i for i, ch in enumerate(self.chars)}

    def encode(self, text, bos=False):
        """The token ids of ``text``; with ``bos=True`` wrapped in BOS on both sides, the form a
        model trains on (it learns to start a name after BOS and to end one by predicting BOS)."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a string, got {type(text).__name__}: {text!r}")
        ids = []
        for ch in text:
            i = self._ids.get(ch)
            if i is None:
                raise ValueError(f"the character {ch!r} (in {text!r}) is not in this tokenizer's vocabulary {self.chars!r}")
            ids.append(i)
        return [self.bos, *ids, self.bos] if bos else ids

    def decode(self, ids):
        """The text of a list of token ids; BOS tokens are left out."""
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not 0 <= i < self.vocab_size:
                raise ValueError(f"token ids are ints in 0..{self.vocab_size - 1}, got {i!r}")
            if i != self.bos:
                out.append(self.chars[i])
        return "".join(out)

    def symbol(self, i):
        """How token ``i`` reads in a table or a plot: its character, and ``.`` for BOS (makemore's
        mark; ``<BOS>`` when ``.`` is one of the characters)."""
        if i == self.bos:
            return "<BOS>" if "." in self._ids else "."
        return self.decode([i])

    def __len__(self):
        return self.vocab_size

    def __eq__(self, other):
        return isinstance(other, CharTokenizer) and other.chars == self.chars

    def __hash__(self):
        return hash(self.chars)

    def __repr__(self):
        return f"CharTokenizer({self.chars!r} + BOS = {self.vocab_size} tokens)"


# ---- documents as token sequences --------------------------------------------------------------------
def sequences(model, docs):
    """Each document as the token ids a model trains on: a string is encoded with the model's
    tokenizer and wrapped in BOS; a list of ints is used as it is."""
    if isinstance(docs, str) or not isinstance(docs, (list, tuple)):
        raise TypeError(f"docs must be a list of texts (or of token id lists), got {type(docs).__name__}")
    if not docs:
        raise ValueError("docs is empty: give at least one text")
    tokenizer = getattr(model, "tokenizer", None)
    out = []
    for i, doc in enumerate(docs):
        if isinstance(doc, str):
            if tokenizer is None:
                raise TypeError("this model has no tokenizer (it was built with a vocabulary size): give token id lists, not texts")
            out.append(tokenizer.encode(doc, bos=True))
        elif isinstance(doc, (list, tuple)):
            out.append(list(doc))
        else:
            raise TypeError(f"document {i} must be a string or a list of token ids, got {type(doc).__name__}: {doc!r}")
    return out


def mean_loss(model, docs):
    """The model's average next-token loss over ``docs``, in nats per token: every prediction of
    every document (each character and the closing BOS) counts once. Runs on the float path.

    ``exp(mean_loss)`` is the perplexity: as unsure as a uniform choice among that many tokens.
    """
    f = model.float_function()
    loss, count = 0.0, 0
    for tokens in sequences(model, docs):
        inputs, targets = split_sequence(tokens, model.block_size)
        loss += next_token_loss([f(inputs)], [targets]) * len(targets)
        count += len(targets)
    return loss / count


def bigram_loss(train_docs, test_docs, tokenizer, smoothing=1.0):
    """The loss per token on ``test_docs`` of the bigram model counted from ``train_docs``: the
    next token is predicted from the current one alone, with probability
    ``(count(a, b) + smoothing) / (count(a) + smoothing × vocab_size)``.

    The baseline a model must beat to show it learned more than letter pairs (about 2.45 nats per
    character on the names). Sequences are wrapped in BOS as in training; every prediction counts.
    """
    if isinstance(smoothing, bool) or not isinstance(smoothing, numbers.Real) or not smoothing > 0:
        raise ValueError(f"smoothing must be a number > 0 (it keeps unseen pairs possible), got {smoothing!r}")
    vocab = tokenizer.vocab_size
    counts = [[0] * vocab for _ in range(vocab)]
    for doc in train_docs:
        tokens = tokenizer.encode(doc, bos=True)
        for a, b in zip(tokens, tokens[1:]):
            counts[a][b] += 1
    log_p = [[math.log((c + smoothing) / (sum(row) + smoothing * vocab)) for c in row] for row in counts]
    loss, n = 0.0, 0
    for doc in test_docs:
        tokens = tokenizer.encode(doc, bos=True)
        for a, b in zip(tokens, tokens[1:]):
            loss -= log_p[a][b]
            n += 1
    if not n:
        raise ValueError("test_docs is empty")
    return loss / n


def split(docs, test_size=0.1, seed=0):
    """``(train, test)``: the documents shuffled with ``seed`` and ``test_size`` of them (a fraction
    or a count) held out."""
    from .data import _test_count

    docs = list(docs)
    order = list(range(len(docs)))
    rng_from(seed).shuffle(order)
    n_test = _test_count(len(docs), test_size)
    return [docs[i] for i in order[n_test:]], [docs[i] for i in order[:n_test]]


# ---- training ---------------------------------------------------------------------------------------------
def fit_text(model, docs, epochs=10, steps_per_epoch=100, batch_size=1, optimizer=None, lr=None, validation=None,
             early_stopping=None, restore_best=True, shuffle=True, seed=0, progress=None, callback=None, compiled=None):
    """Train ``model`` (a `GPT`) to predict the next token of each document; returns a `History`.

    A step takes ``batch_size`` documents (one, as in microgpt), computes their mean next-token loss
    (`next_token_loss`), backpropagates and updates, through the step `nn.fit` uses. An epoch is
    ``steps_per_epoch`` steps (Keras's meaning: one pass over 32,000 names would take hours on the
    graph path); after each one the History records

    - ``train_loss``: the loss per token of the documents the epoch trained on, each measured just
      before its own update (the loss microgpt prints, averaged);
    - ``val_loss``: `mean_loss` on ``validation`` (a list of documents, or the fraction or count of
      ``docs`` to hold out, split with ``seed``), on the float path.

    Documents are read in an order shuffled with ``seed`` and reshuffled after each pass;
    ``shuffle=False`` reads them as given (microgpt shuffles once, then reads in order).
    ``optimizer`` defaults to Adam with microgpt's betas (0.85, 0.99) and ``lr`` (default: from
    0.01 down to 0 in a straight line over the run, microgpt's schedule); a name or an `nn.optim`
    optimizer works as in `nn.fit`. ``early_stopping``, ``restore_best``, ``progress`` (a bar
    counting steps) and ``callback`` are as in `nn.fit`; the monitored number is ``val_loss`` when
    there is validation data, else ``train_loss``. ``compiled`` is as in `nn.fit`: each length of
    document met often enough is compiled (`nn.compiled`) unless it is False.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"fit_text trains a GPT, got {type(model).__name__}; use nn.fit for other models")
    for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch), ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (0 if name == "epochs" else 1):
            raise ValueError(f"{name} must be an int >= {0 if name == 'epochs' else 1}, got {value!r}")
    check_loop(early_stopping, callback)
    if compiled not in (None, True, False):
        raise ValueError(f"compiled is None (when possible), True or False, got {compiled!r}")
    if isinstance(validation, numbers.Real) and not isinstance(validation, bool):
        docs, validation = split(docs, validation, seed)
    train = [split_sequence(tokens, model.block_size) for tokens in sequences(model, docs)]
    held_out = None if validation is None else sequences(model, validation)
    opt = _text_optimizer(optimizer, model, lr, epochs * steps_per_epoch)

    history = History("val_loss" if held_out is not None else "train_loss")
    reader = _Reader(len(train), shuffle, seed)
    if batch_size == 1 and compiled is not False:  # the plan: each length met often is compiled early
        expect(model, next_token_loss, [train[i] for i in _Reader(len(train), shuffle, seed).take(epochs * steps_per_epoch)])

    def train_epoch():
        loss, count = 0.0, 0
        for _ in range(steps_per_epoch):
            batch = [train[i] for i in reader.take(batch_size)]
            inputs, targets = [x for x, _ in batch], [y for _, y in batch]
            tokens = sum(map(len, targets))
            loss += train_step(model, opt, next_token_loss, inputs, targets, compiled=compiled) * tokens
            count += tokens
            if bar is not None:
                bar.update(1)
        history.train_loss.append(loss / count)
        if held_out is not None:
            history.val_loss.append(mean_loss(model, held_out))

    bar = _progress_bar(epochs * steps_per_epoch, progress, unit="step")
    return run_epochs(model, history, epochs, train_epoch, early_stopping, restore_best, bar, callback, advance=0)


def _text_optimizer(optimizer, model, lr, steps):
    if optimizer is None:
        return Adam(model, lr=linear(0.01, 0.0, max(steps, 1)) if lr is None else lr, betas=(0.85, 0.99))
    if isinstance(optimizer, Optimizer) or isinstance(optimizer, str):
        return _optimizer(optimizer, model, lr)
    raise TypeError(f"optimizer must be a name or an nn.optim optimizer, got {type(optimizer).__name__}")


class _Reader:
    """Indices 0..n-1 in passes: a shuffled order per pass (or the given order), read in turn."""

    def __init__(self, n, shuffle, seed):
        self.n, self.shuffle, self.rng = n, shuffle, random.Random(seed)
        self.order, self.next = [], 0

    def take(self, k):
        out = []
        while len(out) < k:
            if self.next == len(self.order):
                self.order = list(range(self.n))
                if self.shuffle:
                    self.rng.shuffle(self.order)
                self.next = 0
            out.append(self.order[self.next])
            self.next += 1
        return out


# ---- sampling -----------------------------------------------------------------------------------------------
def generate(model, n=1, temperature=1.0, seed=None, prompt=""):
    """``n`` new samples from ``model``, a list.

    Each starts at BOS followed by ``prompt``; the next token is drawn from
    ``softmax(logits / temperature)`` and read in turn, until the model draws BOS (the end) or its
    ``block_size`` positions are full. ``temperature`` 1 samples the model's own probabilities,
    lower values favour the likeliest tokens (0 always takes the likeliest), higher ones flatten
    the choice. ``seed`` is an int, a `random.Random`, or None for the generator `nn.manual_seed`
    seeds: the same seed gives the same samples. Returns strings (the prompt included) for a model
    with a tokenizer, lists of token ids otherwise. Runs on the float path.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n is how many samples to draw, an int >= 0, got {n!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not 0 <= temperature < math.inf:
        raise ValueError(f"temperature must be a number >= 0 (1 samples the model as it is, 0 takes the likeliest), got {temperature!r}")
    rng = rng_from(seed)
    tokenizer = getattr(model, "tokenizer", None)
    if isinstance(prompt, str):
        if prompt and tokenizer is None:
            raise TypeError("this model has no tokenizer: give the prompt as a list of token ids")
        start = tokenizer.encode(prompt) if tokenizer is not None else []
    else:
        start = list(prompt)
    bos = tokenizer.bos if tokenizer is not None else model.vocab_size - 1
    if len(start) + 1 > model.block_size:
        raise ValueError(f"the prompt has {len(start)} tokens; with BOS they must fit in block_size={model.block_size}")
    f = model.float_function()
    samples = []
    for _ in range(n):
        cache = f.new_cache()
        logits = f([bos, *start], cache)[-1]
        out = list(start)
        while True:
            token = _draw(logits, temperature, rng)
            if token == bos:
                break
            out.append(token)
            if len(cache) == model.block_size:
                break
            logits = f.step(token, cache)
        samples.append(tokenizer.decode(out) if tokenizer is not None else out)
    return samples


def _draw(logits, temperature, rng):
    if temperature == 0:
        return max(range(len(logits)), key=logits.__getitem__)
    probs = softmax([z / temperature for z in logits])
    return rng.choices(range(len(probs)), weights=probs)[0]
