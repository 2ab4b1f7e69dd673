"""python -m nn: trains, prints accuracy, writes plots and the model; documented; one-line errors."""

import json
import subprocess
import sys

import pytest

import nn
from nn.__main__ import main, parser


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
    assert model.config() == {"type": "MLP", "nin": 2, "nouts": [16, 16, 1], "activation": "relu"}
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
