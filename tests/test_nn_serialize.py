"""Saving and loading: exact round trips, atomic writes, and bad files that change nothing."""

import errno
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
    assert document["model"] == model.config() and document["model"]["nouts"] == [4, 1]
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


def test_a_save_that_cannot_happen_names_the_users_path_and_what_to_do(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    (tmp_path / "notes.txt").write_text("a file")
    cases = [
        (tmp_path / "missing" / "m.json", FileNotFoundError, f"the folder {tmp_path / 'missing'} does not exist; create it first"),
        (tmp_path / "notes.txt" / "m.json", NotADirectoryError, "is a file, not a folder"),
        (tmp_path, IsADirectoryError, "is a folder; add a file name"),
    ]
    for path, error, message in cases:
        with pytest.raises(error, match=message) as caught:
            model.save(path)
        assert str(caught.value).startswith(f"[Errno {caught.value.errno}] cannot save the model to {path}: ")
        assert ".tmp" not in str(caught.value)
    assert files_in(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize(
    "where, code, message",
    [("open", errno.EACCES, "no permission to write in"), ("fsync", errno.ENOSPC, "the disk is full"), ("replace", errno.EROFS, "read-only")],
)
def test_an_os_error_while_saving_names_the_users_path_and_keeps_the_old_file(tmp_path, monkeypatch, where, code, message):
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    before = path.read_text()
    real = getattr(os, where)

    def fail(*args, **kwargs):
        if where == "open" and not str(args[0]).endswith(".tmp"):
            return real(*args, **kwargs)
        raise OSError(code, os.strerror(code), str(args[0]) if where != "fsync" else None)

    monkeypatch.setattr(os, where, fail)
    with pytest.raises(OSError, match=message) as caught:
        MLP(2, [3, 1], seed=1).save(path)
    assert caught.value.errno == code
    assert f"cannot save the model to {path}: " in str(caught.value) and ".tmp" not in str(caught.value)
    monkeypatch.undo()
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


def test_a_file_cut_anywhere_is_called_truncated(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = tmp_path / "m.json"
    model.save(path)
    text = path.read_text().rstrip()
    for cut in range(1, len(text)):
        path.write_text(text[:cut])
        with pytest.raises(ValueError, match="looks truncated"):
            model.load(path)


def test_nn_load_names_the_file_in_every_error(tmp_path):
    path = tmp_path / "m.json"
    MLP(2, [3, 1], seed=0).save(path)
    document = json.loads(path.read_text())
    layouts = [
        (MLP(2, [4, 1]).config(), "whose layout is MLP.*: the weights do not fit this model \\(missing 4 parameter"),
        (Layer(2, 1).config(), "the weights do not fit this model .* unknown parameter"),
        ({"type": "Nothing"}, "holds a model layout that cannot be built: not a module description"),
        ({"type": "MLP", "nin": 2}, "holds a model layout that cannot be built: incomplete MLP description"),
        (dict(document["model"], nin=0), "holds a model layout that cannot be built: MLP nin must be a positive int"),
        (dict(document["model"], activation="softmax"), "cannot be built: unknown activation 'softmax'"),
    ]
    for layout, message in layouts:
        path.write_text(json.dumps(dict(document, model=layout)))
        with pytest.raises(ValueError, match=message) as caught:
            nn.load(path)
        assert str(caught.value).startswith(str(path))
    path.write_text(json.dumps(dict(document, parameters=dict(document["parameters"], extra=1.0))))
    with pytest.raises(ValueError, match="1 unknown parameter") as caught:
        nn.load(path)
    assert str(caught.value).startswith(str(path))


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
