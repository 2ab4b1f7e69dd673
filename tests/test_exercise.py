"""The lessons' exercise checker: right, wrong and unanswered answers, and never a traceback."""

import math
from pathlib import Path

import pytest

from autograd import Value
from autograd.teach.exercise import Result, check


def test_right_number_within_tolerance():
    sigma = 1.0 / (1.0 + math.exp(-1.0))  # 0.7310585...
    result = check(0.731, sigma)
    assert isinstance(result, Result)
    assert result.status == "right" and bool(result)
    assert "Right" in str(result)
    assert not check(0.74, sigma)


def test_tolerance_is_relative_for_large_values_and_absolute_for_small():
    assert check(1000.5, 1000.0)  # within 1e-3 of |expected|
    assert not check(1002.0, 1000.0)
    assert check(0.0004, 0.0)
    assert not check(0.002, 0.0)
    assert check(0.002, 0.0, tol=0.01)
    assert not check(6.01, 6.0, tol=0.0)


@pytest.mark.parametrize("unanswered", [Ellipsis, None])
def test_unanswered_says_what_to_do_and_never_raises(unanswered):
    result = check(unanswered, 6.0, name="dz_dx")
    assert result.status == "unanswered" and not result
    assert "dz_dx = ..." in str(result)
    assert "6.0" not in str(result)  # the expected value is not given away


def test_a_partly_filled_list_is_unanswered():
    result = check([-3.0, ..., 3.0], [-3.0, -3.0, 3.0])
    assert result.status == "unanswered" and "every one" in str(result)
    assert check([-3.0, None, 3.0], [-3.0, -3.0, 3.0]).status == "unanswered"


def test_wrong_answer_explains_without_revealing():
    result = check(4.0, 6.0)
    assert result.status == "wrong" and not result
    assert "too small" in str(result)
    assert "6.0" not in str(result)
    assert "too large" in str(check(7.0, 6.0))
    assert "sign" in str(check(-6.0, 6.0))


def test_reveal_and_hint_after_a_wrong_answer():
    result = check(4.0, 6.0, hint="multiply the local derivatives", reveal=True)
    assert "Hint: multiply the local derivatives" in str(result)
    assert "expected value is 6.0" in str(result)
    right = check(6.0, 6.0, hint="multiply the local derivatives", reveal=True)
    assert "Hint" not in str(right)


def test_value_answers_count_as_their_data():
    assert check(Value(2.5), 2.5)
    assert check(2.5, Value(2.5))
    assert not check(Value(2.0), 2.5)


def test_sequences_compare_item_by_item():
    assert check([1, 2.0005, 3], (1.0, 2.0, 3.0))
    result = check([1.0, 5.0, 3.0, 9.0], [1.0, 2.0, 3.0, 4.0])
    assert not result and "items 1, 3" in str(result)
    assert "3 values are expected, not 2" in str(check([1.0, 2.0], [1.0, 2.0, 3.0]))
    assert "list of 2 values is expected" in str(check(1.0, [1.0, 2.0]))
    assert "item 1 (counting from 0) differs" in str(check([1.0, "x"], [1.0, 2.0]))


def test_strings_and_booleans():
    assert check("  Sigmoid ", "sigmoid")
    assert not check("tanh", "sigmoid")
    assert check(True, True)
    assert not check(False, True)
    assert "True or False is expected" in str(check(1, True))  # 1 is not a yes/no answer


@pytest.mark.parametrize("answer", ["six", [6.0], {"x": 6.0}, object(), float("nan")])
def test_answers_of_the_wrong_kind_get_a_message(answer):
    result = check(answer, 6.0)
    assert result.status == "wrong"
    assert "Not quite" in str(result)


def test_nan_expected_matches_only_nan():
    assert check(float("nan"), float("nan"))
    assert not check(1.0, float("nan"))


def test_a_bad_expected_value_or_tolerance_is_the_lessons_bug_and_raises():
    with pytest.raises(TypeError, match="expected must be a number"):
        check(1.0, {"x": 1.0})
    with pytest.raises(ValueError, match="tol"):
        check(1.0, 1.0, tol=-1)


# ---- the lessons' exercises ---------------------------------------------------------------------
# An exercise cell (`answer = ...`) carries its solution in its metadata: {"exercise": {"solution":
# "<python expression>"}}. Each lesson is run with every solution filled in, up to its last check,
# and every check must say the answer is right.

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _exercises(nb):
    """Indices of (exercise cell, the check cell after it) in a notebook."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    pairs = []
    for k, i in enumerate(code):
        if "exercise" in nb.cells[i].metadata:
            assert k + 1 < len(code), f"exercise cell {i} has no check cell after it"
            pairs.append((i, code[k + 1]))
    return pairs


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_lesson_has_an_exercise_with_a_solution(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    pairs = _exercises(nb)
    assert pairs, f"{path.name} has no exercise cell with metadata {{'exercise': {{'solution': ...}}}}"
    for i, j in pairs:
        assert nb.cells[i].source.lstrip().startswith("answer = ..."), f"{path.name} cell {i} is not `answer = ...`"
        assert "check(" in nb.cells[j].source, f"{path.name} cell {j} after an exercise does not call check()"
        assert "<summary>Solution</summary>" in "".join(
            c.source for c in nb.cells[j + 1 : j + 3] if c.cell_type == "markdown"
        ), f"{path.name}: no folded solution right after the check in cell {j}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_the_solutions_pass_the_checks(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    pairs = _exercises(nb)
    if not pairs:
        pytest.skip(f"{path.name} has no exercise with a solution")
    for i, _ in pairs:
        solution = nb.cells[i].metadata["exercise"]["solution"]
        nb.cells[i].source = nb.cells[i].source.replace("answer = ...", f"answer = {solution}", 1)
    nb.cells = nb.cells[: pairs[-1][1] + 1]  # nothing after the last check is needed
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    for i, j in pairs:
        shown = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in nb.cells[j].outputs)
        assert shown.startswith("✓ Right"), f"{path.name}: solution {nb.cells[i].metadata['exercise']['solution']} got {shown!r}"
