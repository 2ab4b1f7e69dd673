"""Saving and loading: exact round trips, atomic writes, and bad files that change nothing."""

import json
import os

import pytest

import nn
from nn import MLP, Dropout, Layer, Residual, Sequential


def files_in(folder):
    return sorted(os.listdir(folder))


def test_round_trip_is_exact(tmp_path):
    model = MLP(2, [5, 3, 1], activation="relu", seed=0)
    path = tmp_path / "model.json"
    model.save(path)
    other = MLP(2, [5, 3, 1], activation="relu", seed=99)
    assert other.load(path) is other
    assert other.state_dict() == model.state_dict()
    x = [0.123456789, -9.87654321]
    assert other.forward_floats(x) == model.forward_floats(x)


def test_the_file_is_plain_json_with_layout_and_names(tmp_path):
    model = MLP(3, [4, 1], seed=0)
    path = tmp_path / "m.json"
    model.save(str(path))
    document = json.loads(path.read_text())
    assert document["format"] == "chainrule.nn" and document["version"] == 1
    assert document["model"] == {"type": "MLP", "nin": 3, "nouts": [4, 1], "activation": "tanh"}
    assert list(document["parameters"]) == [name for name, _ in model.named_parameters()]
    assert files_in(tmp_path) == ["m.json"]  # no temporary file left behind
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_nn_load_rebuilds_any_built_in_model(tmp_path):
    model = Sequential(Layer(2, 4, "leaky_relu", seed=0), Residual(Layer(4, 4, "sigmoid", seed=1)), Dropout(0.3), Layer(4, 3, "linear", seed=2))
    model.save(tmp_path / "seq.json")
    loaded = nn.load(tmp_path / "seq.json")
    assert repr(loaded) == repr(model)
    assert loaded.forward_floats([0.5, -1.0]) == model.forward_floats([0.5, -1.0])


def test_state_dict_is_a_copy_and_loads_into_a_twin():
    a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
    state = a.state_dict()
    state["layers.0.neurons.0.b"] = 5.0
    assert a.layers[0].neurons[0].b.data == 0.0
    b.load_state_dict(state)
    assert b.layers[0].neurons[0].b.data == 5.0 and b.layers[0].neurons[0].w[0].data == a.layers[0].neurons[0].w[0].data


def test_a_crash_while_saving_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    before = path.read_text()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        MLP(2, [3, 1], seed=1).save(path)
    assert path.read_text() == before
    assert files_in(tmp_path) == ["model.json"]


def test_a_diverged_model_is_not_saved(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[1].w[0].data = float("nan")
    with pytest.raises(ValueError, match="layers.0.neurons.1.w.0 is nan"):
        model.save(tmp_path / "m.json")
    assert files_in(tmp_path) == []


def bad_files(tmp_path):
    good = MLP(2, [3, 1], seed=0)
    good.save(tmp_path / "good.json")
    text = (tmp_path / "good.json").read_text()
    document = json.loads(text)

    def variant(change):
        copy = json.loads(text)
        change(copy)
        return json.dumps(copy)

    def drop(name):
        return lambda d: d["parameters"].pop(name)

    def set_value(value):
        return lambda d: d["parameters"].__setitem__("layers.0.neurons.0.w.0", value)

    wider = MLP(2, [4, 1], seed=0)
    wider.save(tmp_path / "wider.json")
    relu = MLP(2, [3, 1], activation="relu", seed=0)
    relu.save(tmp_path / "relu.json")
    return document, [
        (text[: len(text) // 2], "truncated"),
        ("", "not valid JSON"),
        ("[1, 2, 3]", "not a chainrule model file"),
        (json.dumps({"format": "something else"}), "not a chainrule model file"),
        (variant(lambda d: d.__setitem__("version", 7)), "format version 7"),
        (variant(lambda d: d.pop("parameters")), 'no "parameters"'),
        (variant(drop("layers.1.neurons.0.b")), "missing 1 parameter"),
        (variant(lambda d: d["parameters"].__setitem__("layers.9.b", 1.0)), "1 unknown parameter"),
        (variant(set_value("0.5")), "must be a finite number, got '0.5'"),
        (variant(set_value(True)), "must be a finite number, got True"),
        (variant(set_value(None)), "must be a finite number, got None"),
        (text.replace(repr(document["parameters"]["layers.0.neurons.0.w.0"]), "NaN", 1), "got nan"),
        ((tmp_path / "wider.json").read_text(), "holds a different model"),
        ((tmp_path / "relu.json").read_text(), "holds a different model"),
    ]


def test_a_bad_file_raises_a_clear_error_and_changes_nothing(tmp_path):
    _, cases = bad_files(tmp_path)
    model = MLP(2, [3, 1], seed=5)
    before = model.state_dict()
    for i, (text, message) in enumerate(cases):
        path = tmp_path / f"bad{i}.json"
        path.write_text(text)
        with pytest.raises(ValueError, match=message):
            model.load(path)
        assert model.state_dict() == before, message
    with pytest.raises(FileNotFoundError):
        model.load(tmp_path / "missing.json")
    (tmp_path / "binary.json").write_bytes(b"\x80\x04\x95 pickle-like bytes \xff")
    with pytest.raises(ValueError, match="not text"):
        model.load(tmp_path / "binary.json")
    assert model.state_dict() == before


def test_load_state_dict_checks_everything_first():
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    state = dict(before)
    state["layers.1.neurons.0.b"] = float("inf")
    with pytest.raises(ValueError, match="layers.1.neurons.0.b must be a finite number"):
        model.load_state_dict(state)
    with pytest.raises(ValueError, match="must be a dict"):
        model.load_state_dict([1.0, 2.0])
    assert model.state_dict() == before


def test_nn_load_needs_a_layout(tmp_path):
    class Custom(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = Layer(2, 1, seed=0)

        def forward(self, x):
            return self.layer(x)

    custom = Custom()
    custom.save(tmp_path / "custom.json")
    with pytest.raises(ValueError, match="does not describe its model's layout"):
        nn.load(tmp_path / "custom.json")
    twin = Custom()
    twin.layer.neurons[0].w[0].data = 9.0
    twin.load(tmp_path / "custom.json")
    assert twin.state_dict() == custom.state_dict()
