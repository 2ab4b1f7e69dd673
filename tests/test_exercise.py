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


def test_tolerance_is_relative_at_every_scale():
    assert check(1000.5, 1000.0)  # within 1e-3 of |expected|
    assert not check(1002.0, 1000.0)
    assert check(9.54e-7, 0.25**10)  # three digits of a tiny number are enough
    assert not check(9.5e-7, 0.25**10)  # two are not
    assert not check(6.01, 6.0, tol=0.0)


@pytest.mark.parametrize("answer", [0, 0.0, 1e-4, -9.5367e-7, 1e-6, 9.6e-7])
def test_near_zero_every_wrong_answer_fails(answer):
    # (1/4)**10 = 9.5367e-7: a tolerance that turned absolute near zero accepted 0 and 1e-4 here
    result = check(answer, 0.25**10)
    assert result.status == "wrong", answer


def test_an_exact_zero_needs_an_exact_answer_unless_atol_allows_rounding():
    assert check(0, 0.0) and check(0.0, -0.0)
    assert not check(0.0004, 0.0)
    assert not check(1e-17, 0.0)
    assert check(1e-17, 0.0, atol=1e-12)  # a zero computed with rounding error: say how much
    assert not check(1e-9, 0.0, atol=1e-12)
    assert check(0.002, 0.0, atol=0.01)
    with pytest.raises(ValueError, match="atol"):
        check(1.0, 1.0, atol=float("inf"))


def test_infinities_compare_by_sign():
    inf = float("inf")
    assert check(inf, inf) and check(-inf, -inf)
    assert "sign" in str(check(-inf, inf))
    assert "too small" in str(check(1e308, inf))
    assert "too large" in str(check(inf, 1.0)) and "infinite" in str(check(inf, 1.0))
    assert "too small" in str(check(-inf, 1.0))
    assert "sign" not in str(check(inf, 5.0))


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


@pytest.mark.parametrize("answer", ["six", [6.0], {"x": 6.0}, object(), float("nan"), 1 + 2j, b"6"])
def test_answers_of_the_wrong_kind_get_a_message(answer):
    result = check(answer, 6.0)
    assert result.status == "wrong"
    assert "Not quite" in str(result)


def _self_containing():
    loop = [1.0]
    loop.append(loop)
    return loop


def _deep(depth):
    nested = [1.0]
    for _ in range(depth):
        nested = [nested]
    return nested


class _Hostile:
    """An answer whose every method raises."""

    def __repr__(self):
        raise RuntimeError("repr")

    def __eq__(self, other):
        raise RuntimeError("eq")

    def __len__(self):
        raise RuntimeError("len")

    def __iter__(self):
        raise RuntimeError("iter")

    __hash__ = None


class _HostileList(list):
    def __len__(self):
        raise RuntimeError("len")

    def __iter__(self):
        raise RuntimeError("iter")


class _OddValue(Value):
    """A Value whose data is a string, as a learner's assignment could leave it."""

    @property
    def data(self):
        return "abc"

    @data.setter
    def data(self, value):
        pass


HOSTILE = {
    "huge int": 10**400,
    "huger int than str() allows": 10**5000,
    "negative huge int": -(10**400),
    "self-containing list": _self_containing(),
    "100,000-deep list": _deep(100_000),
    "object raising everywhere": _Hostile(),
    "list raising everywhere": _HostileList([1.0]),
    "Value with string data": _OddValue(1.0),
    "list of hostile things": [_Hostile(), _OddValue(1.0)],
    "class": int,
    "function": print,
}


@pytest.mark.parametrize("expected", [6.0, 10**400, [6.0, 1.0], "six", True, float("inf"), [[1.0], 2.0]])
@pytest.mark.parametrize("name", list(HOSTILE))
def test_check_never_raises_because_of_the_answer(name, expected):
    result = check(HOSTILE[name], expected)
    assert isinstance(result, Result)
    assert result.status in ("wrong", "unanswered") or (name == "huge int" and expected == 10**400)
    assert str(result).startswith(("✗", "…", "✓"))
    assert len(str(result)) < 500  # a short message, whatever the answer


def test_huge_ints_compare_exactly():
    assert check(10**400, 10**400)
    assert check(10**400 + 1, 10**400)  # relative 1e-400
    assert "too large" in str(check(10**400, 6.0))
    assert "too small" in str(check(-(10**400), 6.0))
    assert "sign" in str(check(-(10**400), 10**400))
    assert check(2**53 + 1, float(2**53))


def test_numpy_and_torch_answers_count_as_their_numbers():
    np = pytest.importorskip("numpy")
    assert check(np.float64(0.731), 0.7310585)
    assert check(np.array([1.0, 2.0]), [1.0, 2.0])
    assert check(np.array([[1.0, 2.0], [3.0, 4.0]]), [[1.0, 2.0], [3.0, 4.0]])
    assert not check(np.array([[1.0, 2.0], [3.0, 5.0]]), [[1.0, 2.0], [3.0, 4.0]])
    assert check(np.bool_(True), True)
    assert check([3.0, 4.0], np.array([3.0, 4.0]))  # a lesson may compute the expected value with NumPy


def test_nan_expected_matches_only_nan():
    assert check(float("nan"), float("nan"))
    assert not check(1.0, float("nan"))


def test_a_bad_expected_value_or_tolerance_is_the_lessons_bug_and_raises():
    with pytest.raises(TypeError, match="expected must be a number"):
        check(1.0, {"x": 1.0})
    with pytest.raises(ValueError, match="tol"):
        check(1.0, 1.0, tol=-1)




# ---- the lessons' exercises ---------------------------------------------------------------------
# An exercise cell carries its solution and at least one wrong answer in its metadata:
#   {"exercise": {"solution": "<python expression>", "wrong": ["<expression>", ...]}}
# replaces the `...` of `answer = ...`; a code exercise, {"exercise": {"code": true, ...}}, stores
# whole cell sources instead. Each lesson runs (up to its last check) the way a learner works: at
# every exercise each wrong answer first, whose check must say "✗" (a `check_engine` report: some
# check not quite right), then the solution, whose check must say "✓ Right" (a report: none).

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]*_*.ipynb"))


def _exercises(nb):
    """Indices of (exercise cell, the check cell after it) in a notebook."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    pairs = []
    for k, i in enumerate(code):
        if "exercise" in nb.cells[i].metadata:
            assert k + 1 < len(code), f"exercise cell {i} has no check cell after it"
            pairs.append((i, code[k + 1]))
    return pairs


def _answered(cell, answer):
    """The exercise cell with ``answer`` (an expression, or a whole source for a code exercise)."""
    filled = cell.copy()
    filled.metadata = {}
    if cell.metadata["exercise"].get("code"):
        filled.source = answer
    else:
        filled.source = cell.source.replace("answer = ...", f"answer = {answer}", 1)
    return filled


def _lines(text):
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def _shown(cell):
    return "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)


def _verdict(text):
    """'right', 'wrong' or 'unanswered', from what a check cell shows: a `check` verdict starts with
    its mark; a `check_engine` report ends with its count of checks that are not quite right."""
    if text.startswith("Checking ") and "against chainrule" in text.splitlines()[0]:
        return "right" if "not quite: 0," in text.strip().splitlines()[-1] else "wrong"
    return {"✓": "right", "✗": "wrong", "…": "unanswered"}.get(text[:1], f"unreadable: {text[:80]!r}")


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_every_lesson_has_exercises_that_can_fail(path):
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    pairs = _exercises(nb)
    assert pairs, f"{path.name} has no exercise cell with metadata {{'exercise': {{'solution': ...}}}}"
    for i, j in pairs:
        exercise, source = nb.cells[i].metadata["exercise"], nb.cells[i].source
        where = f"{path.name} cell {i}"
        assert isinstance(exercise.get("solution"), str) and exercise["solution"].strip(), f"{where}: no solution"
        wrongs = exercise.get("wrong")
        assert isinstance(wrongs, list) and wrongs and all(isinstance(w, str) for w in wrongs), (
            f"{where}: no wrong answer to show that its check can fail"
        )
        if exercise.get("code"):
            assert "..." in source, f"{where}: a code exercise is saved as a skeleton with `...` to fill in"
        else:
            assert source.lstrip().startswith("answer = ..."), f"{where} is not `answer = ...`"
        assert "check" in nb.cells[j].source, f"{path.name} cell {j} after an exercise does not check it"
        saved = _verdict(_shown(nb.cells[j]))
        engine = "check_engine(" in nb.cells[j].source  # its verdict on a skeleton is "not quite"
        assert saved == ("wrong" if engine else "unanswered"), f"{path.name} cell {j}: saved as {saved}, not unanswered"
        folded = "".join(c.source for c in nb.cells[j + 1 : j + 3] if c.cell_type == "markdown")
        assert "<summary>Solution</summary>" in folded, f"{path.name}: no folded solution right after the check in cell {j}"
        if exercise.get("code"):  # the folded solution shows the very code the test runs
            shown = _lines(folded)
            missing = [line for line in _lines(exercise["solution"]) if line not in shown and not line.startswith("#")]
            assert not missing, f"{where}: the folded solution lacks {missing[:3]}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_wrong_answers_fail_and_solutions_pass(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    pairs = _exercises(nb)
    if not pairs:
        pytest.skip(f"{path.name} has no exercise with a solution")
    checks = dict(pairs)
    cells, verdicts = [], []  # verdicts: (index in cells, "wrong" or "right", what was tried)
    for k, cell in enumerate(nb.cells[: pairs[-1][1] + 1]):
        if k in checks:
            exercise = cell.metadata["exercise"]
            for attempt in exercise["wrong"]:
                cells += [_answered(cell, attempt), nb.cells[checks[k]].copy()]
                verdicts.append((len(cells) - 1, "wrong", attempt))
            cells.append(_answered(cell, exercise["solution"]))
            continue
        cells.append(cell)
        if k in checks.values():
            verdicts.append((len(cells) - 1, "right", next(nb.cells[i].metadata["exercise"]["solution"] for i, j in pairs if j == k)))
    for k, cell in enumerate(cells):  # the copies need ids of their own
        cell["id"] = f"cell-{k}"
    nb.cells = cells
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    for index, verdict, attempt in verdicts:
        shown = _shown(nb.cells[index])
        assert _verdict(shown) == verdict, f"{path.name}: {attempt[:200]!r} should be {verdict}, got {shown[:300]!r}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_exercises_are_numbered_in_order(path):
    nbformat = pytest.importorskip("nbformat")
    import re

    nb = nbformat.read(path, as_version=4)
    numbers = [int(n) for c in nb.cells if c.cell_type == "markdown" for n in re.findall(r"^#+ Exercise (\d+)", c.source, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)), f"{path.name}: exercises numbered {numbers}"


def test_nested_answers_say_where_the_shape_is_wrong_and_stay_short():
    assert "in item 0: 2 values are expected, not 3" in str(check([[1, 2, 3], [4, 5, 6]], [[1, 2], [3, 4]]))
    assert str(check([[1, 2], [3, 4]], [[1, 2], [3, 5]])).count("differ") == 1
    big = [[float(i * j) for j in range(30)] for i in range(20)]
    result = str(check(big, [[0.0] * 30] * 20))
    assert "a 20×30 list" in result and len(result) < 200
