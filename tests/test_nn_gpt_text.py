"""Text for the GPT: the names list, the character tokenizer, training on names and sampling."""

import hashlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import nn
from nn import MLP, data
from nn.gpt import GPT, sequence_loss
from nn.text import CharTokenizer, _Reader, bigram_loss, fit_text, generate, mean_loss, split


def test_names_are_the_makemore_list_unchanged():
    names = data.names()
    assert len(names) == 32033 and len(set(names)) == 29494
    assert names[:3] == ["emma", "olivia", "ava"] and names[-1] == "zzyzx"
    assert set("".join(names)) == set("abcdefghijklmnopqrstuvwxyz")
    assert min(map(len, names)) == 2 and max(map(len, names)) == 15
    # the sha256 of makemore's names.txt (nn/datasets/README.md): every name, in order, unchanged
    text = "\n".join(names).encode("ascii")
    assert hashlib.sha256(text).hexdigest() == "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"


def test_names_are_a_fresh_list_each_call():
    names = data.names()
    names[0] = "changed"
    names.append("extra")
    assert data.names()[0] == "emma" and len(data.names()) == 32033


# ---- the tokenizer --------------------------------------------------------------------------------------
def test_the_tokenizer_numbers_sorted_characters_and_puts_bos_last():
    tok = CharTokenizer(data.names())
    assert tok.chars == "abcdefghijklmnopqrstuvwxyz" and tok.bos == 26 and tok.vocab_size == len(tok) == 27
    assert tok.encode("emma") == [4, 12, 12, 0]
    assert tok.encode("emma", bos=True) == [26, 4, 12, 12, 0, 26]
    assert tok.decode([26, 4, 12, 12, 0, 26]) == "emma"
    assert tok.symbol(26) == "." and tok.symbol(0) == "a"
    assert CharTokenizer("b.a").symbol(3) == "<BOS>"  # "." is a character there
    assert CharTokenizer("hello") == CharTokenizer(["he", "llo"]) != tok
    assert repr(CharTokenizer("ba")) == "CharTokenizer('ab' + BOS = 3 tokens)"


@given(st.lists(st.text(alphabet="abcxyz .'-", max_size=12), min_size=1, max_size=5))
def test_encode_then_decode_gives_the_text_back(texts):
    if not "".join(texts):
        return
    tok = CharTokenizer(texts)
    for text in texts:
        assert tok.decode(tok.encode(text)) == text
        assert tok.decode(tok.encode(text, bos=True)) == text
        assert all(0 <= i < tok.bos for i in tok.encode(text))


def test_the_tokenizer_refuses_what_it_cannot_read():
    tok = CharTokenizer("abc")
    with pytest.raises(ValueError, match="'z' .* not in this tokenizer's vocabulary 'abc'"):
        tok.encode("abz")
    with pytest.raises(ValueError, match="ints in 0..3"):
        tok.decode([0, 4])
    with pytest.raises(TypeError, match="item 1 is a int"):
        CharTokenizer(["ab", 3])
    with pytest.raises(ValueError, match="at least one character"):
        CharTokenizer([""])
    with pytest.raises(TypeError, match="encode takes a string"):
        tok.encode(["a"])


# ---- baselines and measurements ---------------------------------------------------------------------------
def test_bigram_loss_counts_letter_pairs():
    tok = CharTokenizer("ab")  # a=0, b=1, BOS=2
    # training pairs: .a ab b. and .a a. -> from BOS: a twice; from a: b once, BOS once; from b: BOS once
    loss = bigram_loss(["ab", "a"], ["ab"], tok, smoothing=1.0)
    p_bos_a = (2 + 1) / (2 + 3)
    p_a_b = (1 + 1) / (2 + 3)
    p_b_bos = (1 + 1) / (1 + 3)
    assert loss == pytest.approx(-(math.log(p_bos_a) + math.log(p_a_b) + math.log(p_b_bos)) / 3, rel=1e-15)
    assert bigram_loss(["ab"], ["ba"], tok, smoothing=1e-3) > bigram_loss(["ab"], ["ba"], tok)  # unseen pairs cost
    with pytest.raises(ValueError, match="smoothing"):
        bigram_loss(["ab"], ["ab"], tok, smoothing=0)


def test_the_bigram_baseline_on_the_names_is_about_2_45_nats():
    names = data.names()
    train, test = split(names, 0.1, seed=0)
    assert len(test) == 3203 and len(train) + len(test) == len(names)
    assert sorted(train + test) == sorted(names)
    assert 2.4 < bigram_loss(train, test, CharTokenizer(names)) < 2.5


def test_mean_loss_weighs_every_prediction_once():
    model = GPT(CharTokenizer("ab"), n_embd=4, n_head=2, block_size=4, seed=0)
    docs = ["ab", "babba"]  # the second is cut to the first 4 predictions
    losses = [sequence_loss(model, model.tokenizer.encode(d, bos=True)).data for d in docs]
    assert mean_loss(model, docs) == pytest.approx((losses[0] * 3 + losses[1] * 4) / 7, rel=1e-14)
    assert 0 < mean_loss(model, docs) < math.log(3) + 0.5  # near a uniform guess among 3 tokens at first


# ---- training -----------------------------------------------------------------------------------------------
def tiny_model(seed=0):
    return GPT(CharTokenizer("abc"), n_embd=8, n_head=2, block_size=8, seed=seed)


def test_fit_text_learns_a_pattern_and_records_its_history():
    docs = ["abc", "bc", "c"] * 5
    model = tiny_model()
    before = mean_loss(model, docs)
    history = fit_text(model, docs, epochs=6, steps_per_epoch=10, lr=0.02, validation=["abc", "bc"], progress=False)
    assert history.epochs == 6 and len(history.val_loss) == 6
    assert history.val_loss[-1] < 0.5 * before
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.monitor == "val_loss" and history.best_epoch is not None
    assert generate(model, 3, temperature=0, prompt="a") == ["abc"] * 3  # the likeliest continuation


def test_fit_text_is_repeatable_with_a_seed_and_reads_every_document_each_pass():
    docs = ["ab", "ba", "abc", "cab", "cc"]
    runs = [fit_text(tiny_model(), docs, epochs=2, steps_per_epoch=5, seed=3, progress=False).train_loss for _ in range(2)]
    assert runs[0] == runs[1]
    other = fit_text(tiny_model(), docs, epochs=2, steps_per_epoch=5, seed=4, progress=False).train_loss
    assert other != runs[0]
    reader = _Reader(5, shuffle=True, seed=0)
    first, second = reader.take(5), reader.take(5)
    assert sorted(first) == sorted(second) == list(range(5)) and first != second
    assert _Reader(3, shuffle=False, seed=0).take(7) == [0, 1, 2, 0, 1, 2, 0]


def test_fit_text_stops_early_and_restores_the_best_weights():
    docs = ["abc"] * 4
    seen = []

    def record(epoch, history):
        seen.append(model.state_dict())

    model = tiny_model()
    history = fit_text(model, docs, epochs=30, steps_per_epoch=2, lr=0.5, validation=["cba", "cab"],
                       early_stopping=2, progress=False, callback=record)
    assert history.stopped_early and history.epochs < 30
    assert model.state_dict() == seen[history.best_epoch - 1]
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)


def test_fit_text_batches_and_validation_fractions():
    docs = ["ab", "ba", "abc", "cab", "cc", "ca", "bb", "ac", "aa", "cb"]
    model = tiny_model()
    history = fit_text(model, docs, epochs=1, steps_per_epoch=2, batch_size=3, validation=0.2, progress=False)
    assert len(history.val_loss) == 1 and math.isfinite(history.val_loss[0])


def test_fit_text_checks_its_arguments():
    model = tiny_model()
    with pytest.raises(TypeError, match="trains a GPT"):
        fit_text(MLP(2, [1]), ["ab"])
    with pytest.raises(ValueError, match="steps_per_epoch must be an int >= 1"):
        fit_text(model, ["ab"], steps_per_epoch=0)
    with pytest.raises(ValueError, match="'z' .* not in"):
        fit_text(model, ["abz"], progress=False)
    with pytest.raises(ValueError, match="at least 2 tokens"):
        fit_text(GPT(3, n_embd=4, n_head=2, block_size=4, seed=0), [[2]], progress=False)
    with pytest.raises(TypeError, match="no tokenizer"):
        fit_text(GPT(3, n_embd=4, n_head=2, block_size=4, seed=0), ["ab"], progress=False)
    with pytest.raises(ValueError, match="early_stopping"):
        fit_text(model, ["ab"], early_stopping=0)


def test_fit_text_on_token_ids_for_a_model_without_tokenizer():
    model = GPT(3, n_embd=4, n_head=2, block_size=4, seed=0)  # ids 0, 1 and BOS = 2
    history = fit_text(model, [[2, 0, 1, 2], [2, 1, 2]], epochs=2, steps_per_epoch=3, progress=False)
    assert history.epochs == 2
    samples = generate(model, 4, seed=0)
    assert all(isinstance(s, list) and all(t in (0, 1) for t in s) for s in samples)


# ---- sampling ------------------------------------------------------------------------------------------------
def test_sampling_is_reproducible_with_a_seed():
    model = GPT(CharTokenizer(data.names()), seed=0)
    first = generate(model, 8, temperature=0.8, seed=11)
    assert generate(model, 8, temperature=0.8, seed=11) == first
    assert generate(model, 8, temperature=0.8, seed=12) != first
    assert len(first) == 8 and all(isinstance(s, str) and len(s) <= 16 for s in first)
    nn.manual_seed(5)
    shared = generate(model, 3)
    nn.manual_seed(5)
    assert generate(model, 3) == shared


def test_temperature_and_prompt():
    model = GPT(CharTokenizer(data.names()), seed=0)
    greedy = generate(model, 3, temperature=0)
    assert len(set(greedy)) == 1  # no randomness at temperature 0
    assert all(s.startswith("ka") for s in generate(model, 4, prompt="ka", seed=0))
    hot = generate(model, 30, temperature=5.0, seed=1)
    cold = generate(model, 30, temperature=0.2, seed=1)
    assert len(set(hot)) > len(set(cold))  # a flatter choice gives more varied samples
    with pytest.raises(ValueError, match="temperature"):
        generate(model, 1, temperature=-1)
    with pytest.raises(ValueError, match="must fit in block_size=16"):
        generate(model, 1, prompt="a" * 16)
    assert generate(model, 0) == []


def test_a_sample_stops_when_the_block_is_full():
    model = GPT(CharTokenizer("ab"), n_embd=4, n_head=2, block_size=3, seed=0)
    lengths = [len(s) for s in generate(model, 40, seed=0)]
    assert max(lengths) == 3 and min(lengths) < 3  # BOS drawn, or the block of 3 positions full
