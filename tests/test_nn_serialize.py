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

    def crash(*args, **kwargs):
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
        (MLP(2, [4, 1]).config(), "describes MLP\\(nin=2, nouts=\\[4, 1\\].* with 17 parameters, but holds 13; nothing was built"),
        (Layer(2, 1).config(), "describes Layer.* with 3 parameters, but holds 13"),
        (Layer(12, 1).config(), "whose layout is Layer.*: the weights do not fit this model .* unknown parameter"),
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
    with pytest.raises(ValueError, match="with 13 parameters, but holds 14; nothing was built") as caught:
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


# ---- hostile files: refused before anything is built, with the file's name -----------------------
def saved_text(tmp_path, model=None):
    model = model or MLP(2, [3, 1], seed=0)
    model.save(tmp_path / "good.json")
    return (tmp_path / "good.json").read_text()


def test_a_small_file_describing_a_huge_network_is_refused_without_building_it(tmp_path):
    import tracemalloc

    document = json.loads(saved_text(tmp_path))
    huge = [
        dict(document["model"], nouts=[100000, 100000]),
        dict(document["model"], nin=10**9),
        dict(document["model"], nouts=[10**300]),
        {"type": "Sequential", "layers": [{"type": "Layer", "nin": 10**6, "nout": 10**6, "activation": "relu"}] * 3},
    ]
    for layout in huge:
        path = tmp_path / "huge.json"
        path.write_text(json.dumps(dict(document, model=layout)))
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=r"huge.json describes .* parameters, but holds 13; nothing was built"):
                nn.load(path)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 1_000_000  # bytes: nothing the size of the described network
    path.write_text('{"format":"chainrule.nn","version":1,"model":{"type":"MLP","nin":2,"nouts":[100000,100000],"activation":"tanh"},"parameters":{}}')
    assert os.path.getsize(path) < 160
    with pytest.raises(ValueError, match="with 10000400000 parameters, but holds 0"):
        nn.load(path)


def test_layouts_no_module_writes_are_refused(tmp_path):
    document = json.loads(saved_text(tmp_path))
    nested = {"type": "Dropout", "p": 0.1}
    for _ in range(150):
        nested = {"type": "Residual", "block": nested}
    cases = [
        (dict(document["model"], activation=True), "activation must be a name"),
        (dict(document["model"], nin=True), "MLP nin must be a positive int, got True"),
        (dict(document["model"], nin=2.0), "MLP nin must be a positive int, got 2.0"),
        (dict(document["model"], nouts=16), "nouts must be a non-empty list"),
        (dict(document["model"], output=["linear"]), "output activation must be a name"),
        ({"type": ["MLP"]}, "not a module description"),
        ({"type": "Sequential", "layers": []}, "layers must be a non-empty list"),
        ({"type": "Dropout", "p": 10**300}, "0 <= p < 1"),
        (nested, "nested more than 100 deep"),
    ]
    path = tmp_path / "odd.json"
    for layout, message in cases:
        path.write_text(json.dumps(dict(document, model=layout)))
        with pytest.raises(ValueError, match=message) as caught:
            nn.load(path)
        assert str(caught.value).startswith(f"{path} holds a model layout that cannot be built")


def hostile_texts(text):
    """(file text, what the error must say) for files written to break a reader."""
    name = "layers.0.neurons.0.w.0"
    start = text.index(f'"{name}": ') + len(f'"{name}": ')
    end = text.index(",", start)

    def weight(literal):
        return text[:start] + literal + text[end:]

    return [
        (weight("1" * 401), "holds an integer of 401 digits, too large for a float"),
        (weight("-" + "9" * 309), "must be a finite number, got an int of about 3(09|10) digits"),
        (weight("1" * 4300), "holds an integer of 4300 digits, too large for a float"),
        (weight("1" * 100_000), "holds an integer of 100000 digits"),
        (weight("1e400"), "must be a finite number, got inf"),
        (weight("-Infinity"), "must be a finite number, got -inf"),
        (weight("[" * 100_000 + "]" * 100_000), "nested too deeply"),
        (weight('{"a": ' * 50_000 + "1" + "}" * 50_000), "nested too deeply|must be a finite number"),
        (text.replace('"version": 1', '"version": true'), "format version True"),
        (text.replace('"version": 1', '"version": 1.0'), "format version 1.0"),
        (text.replace('"version": 1', '"version": "1"'), "format version '1'"),
        (text.replace('"version": 1', '"version": ' + "1" * 300), "format version an int of about 300 digits"),
        (text.replace('"format": "chainrule.nn"', '"format": ["chainrule.nn"]'), "not a chainrule model file"),
        (text.replace('"parameters": {', '"parameters": [{', 1).rstrip()[:-1] + "]}", 'no "parameters" object'),
        (text.replace(f'"{name}"', '"layers.0.neurons.0.w.0.extra"'), "missing 1 parameter.*1 unknown parameter"),
    ]


@pytest.mark.parametrize("how", ["model.load", "nn.load"])
def test_hostile_files_give_the_documented_error_naming_the_file(tmp_path, how):
    text = saved_text(tmp_path)
    model = MLP(2, [3, 1], seed=5)
    before = model.state_dict()
    for i, (hostile, message) in enumerate(hostile_texts(text)):
        path = tmp_path / f"hostile{i}.json"
        path.write_text(hostile)
        with pytest.raises(ValueError, match=message) as caught:
            model.load(path) if how == "model.load" else nn.load(path)
        assert str(caught.value).startswith(str(path)), caught.value
        assert model.state_dict() == before


def test_load_state_dict_takes_numpy_numbers_and_refuses_what_is_not_a_finite_number():
    import fractions

    np = pytest.importorskip("numpy")
    model = MLP(2, [3, 1], seed=0)
    state = {name: np.float32(0.25) for name in model.state_dict()}
    state["layers.0.neurons.0.b"] = fractions.Fraction(1, 3)
    state["layers.0.neurons.1.b"] = np.int64(-2)
    model.load_state_dict(state)
    assert all(type(p.data) is float for p in model.parameters())
    assert model.layers[0].neurons[0].b.data == 1 / 3 and model.layers[0].neurons[1].b.data == -2.0
    before = model.state_dict()
    for bad, shown in [(10**400, "an int of about 401 digits"), (10**5000, "an int of about 5001 digits"), (np.float64("nan"), ".*nan.*"), (np.bool_(True), ".*True.*"), ("0.5", "'0.5'")]:
        with pytest.raises(ValueError, match=f"layers.1.neurons.0.w.2 must be a finite number, got {shown}; nothing was loaded"):
            model.load_state_dict(dict(before, **{"layers.1.neurons.0.w.2": bad}))
    with pytest.raises(ValueError, match="1 unknown parameter.*: 7"):
        model.load_state_dict(dict(before, **{7: 1.0}) if False else {**before, 7: 1.0})
    assert model.state_dict() == before


def flips(data):
    """(truncated or bit-flipped copy of ``data``) for hypothesis."""
    from hypothesis import strategies as st

    n = len(data)
    return st.one_of(
        st.integers(0, n - 1).map(lambda cut: data[:cut]),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 7)), min_size=1, max_size=4).map(
            lambda changes: _flipped(data, changes)
        ),
    )


def _flipped(data, changes):
    out = bytearray(data)
    for at, bit in changes:
        out[at] ^= 1 << bit
    return bytes(out)


def test_truncated_and_bit_flipped_files_give_only_the_documented_error(tmp_path):
    from hypothesis import HealthCheck, given, settings

    original = MLP(2, [3, 2], activation="relu", seed=0)
    original.save(tmp_path / "m.json")
    data = (tmp_path / "m.json").read_bytes()
    model = MLP(2, [3, 2], activation="relu", seed=7)
    before = model.state_dict()
    seen = {"refused": 0, "loaded": 0}

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(flips(data))
    def check(damaged):
        path = tmp_path / "damaged.json"
        path.write_bytes(damaged)
        for load in (lambda: model.load(path), lambda: nn.load(path)):
            try:
                loaded = load()
            except ValueError as error:
                assert str(error).startswith(str(path)), error
                assert model.state_dict() == before
                seen["refused"] += 1
                continue
            # a flip that still makes a valid file (a digit of a weight): exactly what it says
            assert loaded.state_dict() == {k: float(v) for k, v in json.loads(damaged)["parameters"].items()}
            seen["loaded"] += 1
            model.load_state_dict(before)

    check()
    assert seen["refused"] > 300


# ---- saving writes where open() would, and a failed save keeps the old file ----------------------
def test_saving_through_a_symlink_updates_the_file_it_points_to(tmp_path):
    target = tmp_path / "models" / "best.json"
    target.parent.mkdir()
    MLP(2, [3, 1], seed=0).save(target)
    link = tmp_path / "latest.json"
    link.symlink_to(os.path.join("models", "best.json"))  # relative, as `ln -s` makes them
    newer = MLP(2, [3, 1], seed=1)
    newer.save(link)
    assert os.path.islink(link) and os.readlink(link) == os.path.join("models", "best.json")
    assert nn.load(target).state_dict() == newer.state_dict()
    dangling = tmp_path / "next.json"
    dangling.symlink_to(tmp_path / "models" / "new.json")
    newer.save(dangling)
    assert os.path.islink(dangling) and nn.load(tmp_path / "models" / "new.json").state_dict() == newer.state_dict()
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    with pytest.raises(OSError, match="goes round in a loop"):
        newer.save(loop)
    assert os.path.islink(loop)
    assert sorted(os.listdir(tmp_path / "models")) == ["best.json", "new.json"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664])
def test_saving_over_a_file_keeps_its_permissions(tmp_path, mode):
    path = tmp_path / "private.json"
    MLP(2, [3, 1], seed=0).save(path)
    os.chmod(path, mode)
    MLP(2, [3, 1], seed=1).save(path)
    assert os.stat(path).st_mode & 0o7777 == mode


def test_saving_over_a_read_only_file_does_what_open_does(tmp_path):
    path = tmp_path / "frozen.json"
    MLP(2, [3, 1], seed=0).save(path)
    os.chmod(path, 0o444)
    before = path.read_text()
    try:
        with open(path, "a"):
            writable = True  # e.g. as root
    except PermissionError:
        writable = False
    if writable:
        MLP(2, [3, 1], seed=1).save(path)
        assert path.read_text() != before and os.stat(path).st_mode & 0o777 == 0o444
    else:
        with pytest.raises(PermissionError, match="frozen.json is read-only; make it writable"):
            MLP(2, [3, 1], seed=1).save(path)
        assert path.read_text() == before


@pytest.mark.parametrize("length", [1, 200, 241, 242, 250, 255])
def test_every_name_open_accepts_can_be_saved(tmp_path, length):
    model = MLP(2, [3, 1], seed=0)
    name = ("m" * length)[:-5] + ".json" if length > 5 else "m" * length
    path = tmp_path / name
    with open(path, "w"):
        pass  # open() accepts it...
    model.save(path)  # ...so save does too
    model.save(os.fsencode(path))  # bytes paths, as open() takes them
    assert nn.load(path).state_dict() == model.state_dict()
    assert files_in(tmp_path) == [name]
    wide = "é" * 127  # 254 bytes in UTF-8
    model.save(tmp_path / wide)
    assert nn.load(tmp_path / wide).state_dict() == model.state_dict()


def test_a_name_too_long_for_the_file_system_says_so(tmp_path):
    with pytest.raises(OSError, match="the file name is too long"):
        MLP(2, [3, 1], seed=0).save(tmp_path / ("m" * 256))
    assert files_in(tmp_path) == []


def test_saving_into_a_pipe_writes_into_it_and_leaves_it_a_pipe(tmp_path):
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(open(fifo).read()))
    reader.start()
    model = MLP(2, [3, 1], seed=0)
    model.save(fifo)
    reader.join(timeout=10)
    assert json.loads(received[0])["parameters"] == model.state_dict()
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_numpy_and_other_real_weights_save_as_floats(tmp_path):
    import fractions

    np = pytest.importorskip("numpy")
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].neurons[0].w[0].data = np.float32(0.5)
    model.layers[0].neurons[0].w[1].data = fractions.Fraction(1, 4)
    model.save(tmp_path / "m.json")
    assert nn.load(tmp_path / "m.json").state_dict() == model.state_dict()

    class Raw(nn.Module):  # a module whose state_dict hands out NumPy numbers as they are
        def __init__(self):
            super().__init__()
            self.layer = Layer(2, 1, seed=0)

        def state_dict(self):
            return {name: np.float32(p.data) for name, p in self.named_parameters()}

    raw = Raw()
    raw.save(tmp_path / "raw.json")
    saved = json.loads((tmp_path / "raw.json").read_text())["parameters"]
    assert saved == {name: float(np.float32(p.data)) for name, p in raw.named_parameters()}


def _subprocess_save(tmp_path, code):
    """Run ``code`` (which saves ``model`` to ``path``) in a child Python; returns its stderr."""
    import subprocess
    import sys

    script = (
        "import os, resource, signal, sys\n"
        "import nn\n"
        f"path = {str(tmp_path / 'model.json')!r}\n"
        "model = nn.MLP(2, [64, 64, 1], seed=1)\n" + code + "\n"
        "try:\n"
        "    model.save(path)\n"
        "except OSError as error:\n"
        "    print(error, file=sys.stderr)\n"
        "    sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    return done.stderr


def test_a_save_that_fills_the_allowed_space_fails_and_keeps_the_old_file(tmp_path):
    # a real write failure: the child may write only 4 kB per file (RLIMIT_FSIZE), the model needs more
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    before = path.read_bytes()
    err = _subprocess_save(tmp_path, "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\nresource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))")
    assert f"cannot save the model to {path}: the file would be larger than this process may write" in err
    assert path.read_bytes() == before and files_in(tmp_path) == ["model.json"]


def test_a_save_into_a_folder_without_write_permission_fails_and_keeps_the_old_file(tmp_path):
    # for real: a folder the saving user cannot write to (the child drops root if it has it)
    path = tmp_path / "model.json"
    MLP(2, [3, 1], seed=0).save(path)
    before = path.read_bytes()
    os.chmod(tmp_path, 0o555)
    try:
        drop = "if os.geteuid() == 0:\n    os.setgid(65534); os.setuid(65534)" if os.geteuid() == 0 else ""
        if os.geteuid() == 0:
            os.chmod(path, 0o666)  # writable by anyone: only the folder stops the save
            for parent in tmp_path.parents:  # the child must reach the folder
                if str(parent).startswith(("/tmp/", "/var/")) or str(tmp_path).startswith(str(parent) + "/pytest-"):
                    os.chmod(parent, os.stat(parent).st_mode | 0o005)
        err = _subprocess_save(tmp_path, drop)
    finally:
        os.chmod(tmp_path, 0o755)
    assert f"cannot save the model to {path}: no permission to write in {tmp_path}" in err
    assert path.read_bytes() == before and files_in(tmp_path) == ["model.json"]


def test_ctrl_c_at_any_line_of_a_save_leaves_the_old_file_or_the_new_one_whole(tmp_path):
    from interrupts import AUTOGRAD, NN, interrupt_everywhere

    path = tmp_path / "model.json"
    old, new = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)

    def setup():
        old.save(path)
        return path.read_text()

    def check(before, interrupted):
        assert files_in(tmp_path) == ["model.json"]  # no temporary file left behind
        after = nn.load(path).state_dict()
        assert after == new.state_dict() or (interrupted and after == old.state_dict())

    lines = interrupt_everywhere(setup, lambda before: new.save(path), check, folders=(NN, AUTOGRAD))
    assert lines > 30


def test_registered_modules_are_sized_before_they_are_built(tmp_path):
    from autograd import Parameter
    from nn.module import layout_size, register

    @register
    class Counted(nn.Module):  # says how many parameters a description has
        def __init__(self, n, seed=None):
            super().__init__()
            self.n = n
            self.w = [Parameter(0.5) for _ in range(n)]

        @classmethod
        def layout_size(cls, config):
            return config["n"]

        def forward(self, x):
            return x

        def config(self):
            return {"type": "Counted", "n": self.n}

    @register
    class Uncounted(Counted):
        layout_size = None  # cannot say: nn.load bounds every number in the layout instead

        def config(self):
            return {"type": "Uncounted", "n": self.n}

    model = Sequential(Counted(3), Layer(2, 2, seed=0))
    model.save(tmp_path / "counted.json")
    assert layout_size(model.config()) == 3 + 6
    assert nn.load(tmp_path / "counted.json").state_dict() == model.state_dict()
    document = json.loads((tmp_path / "counted.json").read_text())
    document["model"]["layers"][0]["n"] = 10**9
    (tmp_path / "counted.json").write_text(json.dumps(document))
    with pytest.raises(ValueError, match="with 1000000006 parameters, but holds 9; nothing was built"):
        nn.load(tmp_path / "counted.json")
    Uncounted(4).save(tmp_path / "uncounted.json")
    assert layout_size(Uncounted(4).config()) is None
    assert nn.load(tmp_path / "uncounted.json").state_dict() == Uncounted(4).state_dict()
    (tmp_path / "uncounted.json").write_text((tmp_path / "uncounted.json").read_text().replace('"n": 4', '"n": 1000000000'))
    with pytest.raises(ValueError, match="with a size of 1000000000, more than the 4 weights it holds; nothing was built"):
        nn.load(tmp_path / "uncounted.json")


def test_every_module_type_counts_the_parameters_of_its_layout_before_building():
    from nn.module import BUILT_IN, MODULES, from_config, layout_size

    models = [
        nn.Linear(3, 4), nn.Linear(3, 4, bias=False), nn.Embedding(5, 3), nn.RMSNorm(4),
        nn.RMSNorm(4, elementwise_affine=False), nn.LayerNorm(4), nn.LayerNorm(4, bias=False),
        nn.LayerNorm(4, elementwise_affine=False), nn.CausalSelfAttention(8, 2), nn.CausalSelfAttention(8, 2, bias=True),
        nn.MLPBlock(4), nn.MLPBlock(4, hidden=7, bias=True), nn.Block(8, 2), nn.Block(8, 4, norm="layernorm"),
        nn.GPT(20), nn.GPT("abc", n_layer=2, n_embd=8, n_head=2, block_size=5, norm="layernorm"),
        Sequential(nn.Linear(2, 3), nn.RMSNorm(3), Residual(nn.Linear(3, 3, bias=False))),
    ]
    for model in models:
        assert layout_size(model.config()) == model.num_parameters() == from_config(model.config()).num_parameters()
    ours = {kind for kind, cls in MODULES.items() if cls.__module__.startswith("nn.")} - BUILT_IN
    assert ours == {type(m).__name__ for m in models[:-1]}  # every module type nn registers was counted above
    assert all(callable(getattr(MODULES[kind], "layout_size", None)) for kind in ours)


def test_a_small_file_describing_a_huge_block_or_gpt_is_refused_before_anything_is_built(tmp_path):
    import tracemalloc

    cases = [
        (nn.Linear(2, 2), {"nin": 2000, "nout": 2000}, "4002000 parameters, but holds 6"),
        (nn.Embedding(2, 2), {"num": 10**6}, "2000000 parameters, but holds 4"),
        (nn.Block(4, 2), {"n_embd": 4000, "n_head": 2}, "192000000 parameters, but holds 192"),
        (nn.GPT(3, n_embd=4, n_head=2, block_size=2), {"vocab": "".join(map(chr, range(256, 40256))), "n_embd": 64},
         "with 5169408 parameters, but holds 224"),
        (nn.MLPBlock(2), {"hidden": 10**9}, "4000000000 parameters, but holds 32"),
    ]
    for model, change, message in cases:
        path = tmp_path / "small.json"
        model.save(path)
        document = json.loads(path.read_text())
        document["model"].update(change)
        path.write_text(json.dumps(document))
        tracemalloc.start()
        try:
            with pytest.raises(ValueError, match=message + "; nothing was built"):
                nn.load(path)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 20 * os.path.getsize(path) + 1_000_000  # the file read, nothing of the network


@pytest.mark.parametrize("change, message", [
    ({"bias": "x"}, "Linear bias must be True or False, got 'x'"),
    ({"nin": True}, "Linear nin must be a positive int, got True"),
    ({"std": -1}, "Linear std must be a finite number >= 0"),
    ({"size": 3}, "Linear takes no setting 'size'"),
])
def test_a_registered_layout_no_constructor_takes_is_refused(tmp_path, change, message):
    path = tmp_path / "odd.json"
    nn.Linear(2, 2).save(path)
    document = json.loads(path.read_text())
    document["model"].update(change)
    path.write_text(json.dumps(document))
    with pytest.raises(ValueError, match=message) as caught:
        nn.load(path)
    assert str(caught.value).startswith(f"{path} holds a model layout that cannot be built")


def test_a_file_larger_than_any_model_is_refused_unread(tmp_path):
    from nn.serialize import MAX_BYTES

    with pytest.raises(ValueError, match=r"/dev/zero holds more than 134,217,728 bytes, more than any model file"):
        nn.load("/dev/zero")
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(MAX_BYTES + 1)  # sparse: no disk used, and never read
    model = MLP(2, [3, 1], seed=0)
    before = model.state_dict()
    for load in (nn.load, model.load):
        with pytest.raises(ValueError, match=f"{path} holds 134,217,729 bytes, .* it was not read"):
            load(path)
    assert model.state_dict() == before


def test_a_file_saved_before_a_setting_existed_loads_with_its_default(tmp_path):
    path = tmp_path / "old.json"
    model = MLP(2, [3, 1], seed=0)
    model.save(path)
    document = json.loads(path.read_text())
    del document["model"]["output"]  # written before MLP took output= (its default is "linear")
    path.write_text(json.dumps(document))
    twin = MLP(2, [3, 1], seed=1)
    assert twin.load(path).state_dict() == model.state_dict() == nn.load(path).state_dict()
    with pytest.raises(ValueError, match="holds a different model"):
        MLP(2, [3, 1], seed=1, output="tanh").load(path)
    gpt = nn.GPT(5, n_embd=4, n_head=2, block_size=3, seed=0)
    gpt.save(path)
    document = json.loads(path.read_text())
    del document["model"]["norm"]
    path.write_text(json.dumps(document))
    assert nn.GPT(5, n_embd=4, n_head=2, block_size=3, seed=1).load(path).state_dict() == gpt.state_dict()
