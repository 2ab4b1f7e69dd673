"""python -m nn: trains, prints accuracy, writes plots and the model; documented; one-line errors."""

import io
import json
import subprocess
import sys

import pytest

import nn
from nn.__main__ import main, parser, resolve
from nn.__main__ import run as cli_run


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_default_run_writes_plots_and_the_model(tmp_path, capsys):
    # the defaults, with fewer epochs to stay quick
    code, out, err = run(capsys, "--epochs", "3", "--out", str(tmp_path))
    assert code == 0, err
    assert "moons: 100 points" in out
    assert "train accuracy" in out and "validation accuracy" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["decision_boundary.png", "loss.png", "model.json"]
    for png in ("decision_boundary.png", "loss.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model = nn.load(tmp_path / "model.json")
    assert model.config() == {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], "activation": "relu", "output": "linear"}
    assert err == ""  # no progress bar when not a terminal


def test_multiclass_and_regression_runs(tmp_path, capsys):
    code, out, err = run(
        capsys, "--dataset", "spiral", "--samples", "60", "--classes", "4", "--optimizer", "adam",
        "--epochs", "2", "--batch-size", "20", "--layers", "8", "--out", str(tmp_path / "s"),
    )
    assert code == 0, err
    assert "4 classes" in out and "cross_entropy" in out
    assert json.loads((tmp_path / "s" / "model.json").read_text())["model"]["nouts"] == [8, 4]
    assert (tmp_path / "s" / "decision_boundary.png").exists()
    code, out, err = run(capsys, "--dataset", "regression", "--samples", "30", "--epochs", "2", "--val-split", "0", "--out", str(tmp_path / "r"))
    assert code == 0, err
    assert "mse loss" in out and "accuracy" not in out.splitlines()[-2]
    assert (tmp_path / "r" / "fit.png").exists() and (tmp_path / "r" / "loss.png").exists()


def test_help_documents_every_argument():
    p = parser()
    text = p.format_help()
    options = [a for a in p._actions if a.option_strings and a.dest != "help"]
    assert len(options) >= 18
    for action in options:
        assert action.help and action.option_strings[0] in text
    for word in ("--dataset", "--layers", "--activation", "--loss", "--optimizer", "--lr", "--epochs", "--batch-size", "--seed", "--out"):
        assert word in text


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--epochs", "x"], "argument --epochs: expected a whole number, got 'x'"),
        (["--dataset", "mnist"], "argument --dataset: invalid choice: 'mnist'"),
        (["--lr", "-1"], "argument --lr: expected a finite number >= 0"),
        (["--layers", "16,a"], "argument --layers: expected sizes like 16,16"),
        (["--val-split", "1.5"], "argument --val-split: expected a fraction"),
        (["--unknown"], "unrecognized arguments: --unknown"),
    ],
)
def test_bad_arguments_give_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err


def test_errors_while_running_give_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(capsys, "--epochs", "1", "--samples", "20", "--out", str(blocker / "sub"))
    assert code == 1 and err.count("\n") == 1 and ": error: " in err and "Traceback" not in err
    code, _, err = run(capsys, "--dataset", "spiral", "--samples", "2", "--out", str(tmp_path))
    assert code == 1 and err.count("\n") == 1 and "error" in err


def test_the_module_runs_as_a_program():
    result = subprocess.run([sys.executable, "-m", "nn", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "usage: python -m nn" in result.stdout


# ---- the decision boundary shows the rule the accuracy counts by --------------------------------
def _recorded_grids(monkeypatch):
    import matplotlib.axes

    grids = []
    original = matplotlib.axes.Axes.contourf

    def contourf(self, gx, gy, grid, *rest, **kwargs):
        grids.append((gx, gy, grid))
        return original(self, gx, gy, grid, *rest, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "contourf", contourf)
    return grids


@pytest.mark.parametrize(
    "argv, rule",
    [
        (["--loss", "mse"], lambda out: int(out > 0.5)),  # 0/1 targets: the midpoint 0.5 separates them
        (["--loss", "hinge"], lambda out: int(out > 0.0)),
        (["--loss", "bce"], lambda out: int(out > 0.0)),
        (["--loss", "cross_entropy"], lambda out: out.index(max(out))),
        (["--dataset", "blobs", "--loss", "mse"], lambda out: out.index(max(out))),
    ],
)
def test_the_decision_boundary_uses_the_rule_of_the_printed_accuracy(argv, rule, tmp_path, capsys, monkeypatch):
    grids = _recorded_grids(monkeypatch)
    args = parser().parse_args([*argv, "--epochs", "3", "--samples", "40", "--val-split", "0", "--out", str(tmp_path)])
    model, history = cli_run(args, stdout=io.StringIO())
    (gx, gy, grid), = grids
    f = model.float_function()
    assert [[rule(f([a, b])) for a in gx] for b in gy] == grid
    X, y = nn.data.make(args.dataset, n=40, seed=0)
    assert sum(rule(f(x)) == label for x, label in zip(X, y)) / len(y) == history.train_accuracy[-1]
    if argv == ["--loss", "mse"]:  # the rule matters here: some of the picture lies between 0 and 0.5
        assert any(0.0 < f([a, b]) < 0.5 for a in gx for b in gy)


# ---- every dataset and loss: trains, or is refused up front ---------------------------------------
CLASS_COUNTS = {"xor": 2, "moons": 2, "circles": 2, "spiral": 3, "blobs": 3, "yin_yang": 3, "regression": None, "digits": 10}


def _expected(k, loss):
    """(loss name, model outputs) for k classes, or None where the pair cannot work."""
    if k is None:
        return ("mse", 1) if loss in ("auto", "mse") else None
    if loss in ("hinge", "bce"):
        return ("hinge" if loss == "hinge" else "binary_cross_entropy", 1) if k == 2 else None
    if loss == "auto":
        return ("hinge", 1) if k == 2 else ("cross_entropy", k)
    if loss == "cross_entropy":
        return ("cross_entropy", k)  # one logit per class, also for two
    return ("mse", 1 if k == 2 else k)  # 0/1 targets, or one-hot on k outputs


@pytest.mark.parametrize("loss", ["auto", "hinge", "bce", "cross_entropy", "mse"])
@pytest.mark.parametrize("dataset", list(CLASS_COUNTS))
def test_every_dataset_and_loss_trains_or_is_refused_before_training(dataset, loss, tmp_path, capsys, monkeypatch):
    expected = _expected(CLASS_COUNTS[dataset], loss)
    argv = ["--dataset", dataset, "--loss", loss, "--epochs", "1", "--no-plots", "--out", str(tmp_path)]
    if dataset != "digits":
        argv += ["--samples", "30"]
    else:  # one step on a small batch is enough to show the pair works
        import nn.data

        X, y = nn.data.digits()
        monkeypatch.setattr(nn.data, "digits", lambda: (X[:40], y[:40]))
        argv += ["--batch-size", "full"]
    if expected is None:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and err.count("\n") == 1 and f"--loss {loss}" in err
        assert ("use --loss mse" if dataset == "regression" else "use --loss cross_entropy or mse") in err
        return
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    name, n_out = expected
    assert f"training: {name} loss" in out
    assert json.loads((tmp_path / "model.json").read_text())["model"]["nouts"][-1] == n_out
    summary = out.splitlines()[-2]
    assert ("accuracy" in summary) == (dataset != "regression")


def test_mse_learns_two_classes_and_one_hot_targets(tmp_path, capsys):
    # sgd's default rate is 0.1 with mse: at 1.0 its gradient 2*(out - target) kills every relu
    code, out, err = run(capsys, "--loss", "mse", "--epochs", "30", "--samples", "60", "--no-plots", "--out", str(tmp_path))
    assert code == 0, err
    assert "sgd with lr linear(0.1, " in out and float(out.splitlines()[-2].split("train accuracy ")[1].split("%")[0]) > 80.0
    code, out, err = run(capsys, "--dataset", "blobs", "--loss", "mse", "--epochs", "30", "--samples", "60", "--out", str(tmp_path))
    assert code == 0, err
    assert "mse loss on one-hot targets" in out and "validation accuracy 100.0%" in out


# ---- defaults that learn ----------------------------------------------------------------------------
def test_the_moons_defaults_are_the_classic_demo():
    args = resolve(parser().parse_args([]))
    assert (args.dataset, args.layers, args.n_out, args.loss, args.l2) == ("moons", [16, 16], 1, "hinge", 1e-4)
    assert (args.optimizer, args.lr, args.schedule, args.epochs, args.batch_size) == ("sgd", 1.0, "linear", 100, None)


def test_datasets_have_defaults_that_learn_and_given_options_win(tmp_path, capsys):
    code, out, err = run(capsys, "--dataset", "regression", "--no-plots", "--out", str(tmp_path))
    assert code == 0, err
    assert float(out.splitlines()[-2].split("train loss ")[1].split(",")[0]) < 0.05  # the mean alone scores 0.5
    code, out, err = run(capsys, "--dataset", "digits", "--epochs", "1", "--no-plots", "--out", str(tmp_path))
    assert code == 0, err
    assert float(out.splitlines()[-2].split("validation accuracy ")[1].rstrip("%")) > 80.0
    args = resolve(parser().parse_args(["--dataset", "digits", "--layers", "8", "--optimizer", "sgd", "--batch-size", "full"]))
    assert (args.layers, args.init, args.optimizer, args.lr, args.epochs, args.batch_size) == ([8], "kaiming", "sgd", 1.0, 3, None)


def test_help_shows_the_defaults_of_each_dataset():
    text = " ".join(parser().format_help().split())
    assert "defaults depend on the dataset" in text
    assert "(default: 100; regression: 50, digits: 3)" in text
    assert "(default: 16,16; digits: 32)" in text and "(default: sgd; regression: adam, digits: adam)" in text


# ---- impossible combinations and a bad --out are refused before training -------------------------------
@pytest.mark.parametrize(
    "argv, message",
    [
        (["--dataset", "spiral", "--classes", "1"], "--classes 1: spiral needs at least 2 classes"),
        (["--dataset", "regression", "--loss", "hinge"], "--loss hinge needs class labels, but regression has real-valued targets; use --loss mse"),
        (["--dataset", "spiral", "--loss", "bce"], "--loss bce separates two classes, but spiral has 3"),
        (["--dataset", "moons", "--classes", "3"], "--classes applies to spiral and blobs only; moons always has 2 classes"),
        (["--dataset", "digits", "--samples", "50"], "--samples does not apply to digits"),
    ],
)
def test_impossible_combinations_are_refused_in_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(nn.train, "fit", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert exit_info.value.code == 2 and captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("where", ["under a file", "a file", "in /proc"])
def test_a_bad_out_folder_is_reported_before_training(where, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(nn.train, "fit", lambda *a, **k: pytest.fail("trained before checking --out"))
    blocker = tmp_path / "file"
    blocker.write_text("")
    folder = {"under a file": blocker / "sub", "a file": blocker, "in /proc": "/proc/chainrule-out"}[where]
    code, out, err = run(capsys, "--out", str(folder))
    assert code == 1 and out == "" and err.count("\n") == 1 and str(folder) in err and "--out" in err
    made = tmp_path / "new" / "deeper"
    monkeypatch.undo()
    code, out, err = run(capsys, "--epochs", "1", "--samples", "20", "--no-plots", "--out", str(made))
    assert code == 0 and (made / "model.json").exists()


@pytest.mark.parametrize("argv", [["--lr", "1e4"], ["--lr", "1e4", "--loss", "mse"], ["--lr", "1e6", "--optimizer", "sgd", "--dataset", "regression"]])
def test_a_learning_rate_that_diverges_ends_with_lower_the_learning_rate(argv, tmp_path, capsys):
    code, out, err = run(capsys, *argv, "--no-plots", "--out", str(tmp_path))
    lines = err.splitlines()
    assert code == 1 and "Traceback" not in err and "Numerical result out of range" not in err
    assert lines[-1].startswith("python -m nn: error: training diverged in epoch") and "Lower the learning rate" in lines[-1]
    assert all(line.startswith("python -m nn: warning: the train loss grew") for line in lines[:-1])
    assert not (tmp_path / "model.json").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--layers", "100000,100000"], "--layers 100000,100000: a model of 10,000,500,001 parameters; at most 1,000,000"),
        (["--dataset", "digits", "--layers", "4000,200"], "a model of 1,062,210 parameters"),
        (["--samples", "1000000000"], "--samples 1000000000: at most 100,000 points"),
    ],
)
def test_sizes_no_scalar_engine_can_train_are_refused_before_anything_is_built(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(nn, "MLP", lambda *a, **k: pytest.fail("built a model"))
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and err.count("\n") == 1
