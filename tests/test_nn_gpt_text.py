"""Text for the GPT: the names list, the character tokenizer, training on names and sampling."""

import hashlib

from nn import data


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
