"""Datasets, splitting, batching and input checks in nn.data."""

import math
import random
from collections import Counter

import pytest

from autograd import Value
from nn import data
from nn.data import (
    batches,
    blobs,
    check_dataset,
    check_features,
    circles,
    digit_ascii,
    digit_image,
    digits,
    moons,
    regression,
    spiral,
    train_test_split,
    xor,
    yin_yang,
)

CLASSIFIERS = {  # generator -> number of classes with default arguments
    xor: 2,
    moons: 2,
    circles: 2,
    spiral: 3,
    blobs: 3,
    yin_yang: 3,
}
ALL = [*CLASSIFIERS, regression]


# --- the geometry each generator promises, written out independently -------------------------


def _angle_gap(a, b):
    return abs((a - b + math.pi) % (2 * math.pi) - math.pi)


def _residual(gen, point, label, n):
    """How far a point lies from where its label says the noiseless data would be."""
    x, y = point
    if gen is xor:
        corners = [(a, b) for a in (0, 1) for b in (0, 1) if (a != b) == bool(label)]
        return min(math.hypot(x - a, y - b) for a, b in corners)
    if gen is moons:
        return abs(math.hypot(x, y) - 1) if label == 0 else abs(math.hypot(x - 1, y - 0.5) - 1)
    if gen is circles:
        return abs(math.hypot(x, y) - (1.0 if label == 0 else 0.5))
    if gen is blobs:
        a = math.pi / 2 + 2 * math.pi * label / 3
        return math.hypot(x - 2 * math.cos(a), y - 2 * math.sin(a))
    if gen is spiral:
        # the noise moves the angle only: radius r, expected angle 4 * (label + r)
        m = n // 3
        r = math.hypot(x, y)
        assert abs(r * m - round(r * m)) < 1e-9
        return _angle_gap(math.atan2(x, y), 4 * (label + r))
    raise AssertionError(gen)


def _yin_yang_region(x, y, dot=0.18):
    """0 = yin: the left half plus the upper small disc, minus the lower one; 1 = yang; 2 = dots."""
    up, down = math.dist((x, y), (0, 0.5)), math.dist((x, y), (0, -0.5))
    if min(up, down) < dot:
        return 2
    in_yin = (x < 0 or up <= 0.5) and down > 0.5
    return 0 if in_yin else 1


# --- generators --------------------------------------------------------------------------------


@pytest.mark.parametrize("gen", ALL, ids=lambda g: g.__name__)
def test_same_seed_same_data_other_seed_other_data(gen):
    assert gen(seed=3) == gen(seed=3)
    assert gen(seed=3) != gen(seed=4)
    assert gen(seed=None) != gen(seed=None)
    # one shared random.Random: reproducible as a stream, different call by call
    a, b = random.Random(7), random.Random(7)
    first = gen(seed=a)
    assert first == gen(seed=b)
    assert gen(seed=a) != first


@pytest.mark.parametrize("gen", list(CLASSIFIERS), ids=lambda g: g.__name__)
@pytest.mark.parametrize("n", [12, 101, 250])
def test_shapes_label_range_and_balance(gen, n):
    X, y = gen(n=n, seed=1)
    k = CLASSIFIERS[gen]
    assert len(X) == len(y) == n
    assert all(len(row) == 2 and all(type(v) is float for v in row) for row in X)
    assert all(type(t) is int for t in y)
    counts = Counter(y)
    assert sorted(counts) == list(range(k))
    assert max(counts.values()) - min(counts.values()) <= 1


@pytest.mark.parametrize("gen", list(CLASSIFIERS), ids=lambda g: g.__name__)
def test_classes_are_shuffled_not_in_blocks(gen):
    _, y = gen(n=300, seed=0)
    changes = sum(a != b for a, b in zip(y, y[1:]))
    assert changes > 100


@pytest.mark.parametrize("gen", [xor, moons, circles, blobs, spiral], ids=lambda g: g.__name__)
def test_noise_moves_points_off_the_curve_by_about_noise(gen):
    n = 600
    X, y = gen(n=n, noise=0.0, seed=0)
    assert max(_residual(gen, p, t, n) for p, t in zip(X, y)) < 1e-12
    means = []
    for noise in (0.02, 0.08):
        X, y = gen(n=n, noise=noise, seed=0)
        mean = sum(_residual(gen, p, t, n) for p, t in zip(X, y)) / n
        assert 0.5 * noise < mean < 1.5 * noise
        means.append(mean)
    assert means[0] < means[1]


def test_xor_without_noise_is_the_truth_table():
    X, y = xor(n=4, noise=0.0)
    assert sorted((*row, t) for row, t in zip(X, y)) == [
        (0.0, 0.0, 0),
        (0.0, 1.0, 1),
        (1.0, 0.0, 1),
        (1.0, 1.0, 0),
    ]


def test_spiral_takes_any_number_of_classes():
    X, y = spiral(n=250, k=5, seed=2)
    assert len(X) == 250
    assert Counter(y) == {c: 50 for c in range(5)}
    assert all(math.hypot(*p) <= 1 + 1e-12 for p in X)


def test_blobs_with_given_centres_in_three_dimensions():
    centres = [[0.0, 0.0, 0.0], [10.0, 0.0, -5.0]]
    X, y = blobs(n=40, centers=centres, noise=0.1, seed=0)
    assert Counter(y) == {0: 20, 1: 20}
    for row, t in zip(X, y):
        assert len(row) == 3
        assert math.dist(row, centres[t]) < 1.0
    X4, y4 = blobs(n=40, k=4, seed=0)
    assert sorted(set(y4)) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="k=3 but 2 centers"):
        blobs(centers=centres, k=3)


def test_yin_yang_regions_without_noise():
    X, y = yin_yang(n=600, seed=5)
    assert Counter(y) == {0: 200, 1: 200, 2: 200}
    for (x, v), t in zip(X, y):
        assert x * x + v * v <= 1.0
        assert _yin_yang_region(x, v) == t
    dots = [p for p, t in zip(X, y) if t == 2]
    upper = sum(p[1] > 0 for p in dots)
    assert 60 < upper < 140  # both dots are used
    noisy_X, noisy_y = yin_yang(n=600, noise=0.2, seed=5)
    wrong = sum(_yin_yang_region(*p) != t for p, t in zip(noisy_X, noisy_y) if math.hypot(*p) < 1)
    assert wrong > 30


def test_regression_curve():
    X, y = regression(n=50, noise=0.0)
    assert len(X) == len(y) == 50
    assert X[0] == [-1.0] and X[-1] == [1.0]
    assert [r[0] for r in X] == sorted(r[0] for r in X)
    assert all(type(t) is float for t in y)
    assert all(abs(t - math.sin(math.pi * r[0])) < 1e-12 for r, t in zip(X, y))
    Xn, yn = regression(n=2000, noise=0.1, seed=1)
    assert Xn == regression(n=2000, noise=0.0)[0]  # noise moves y only
    residuals = [t - math.sin(math.pi * r[0]) for r, t in zip(Xn, yn)]
    std = math.sqrt(sum(e * e for e in residuals) / len(residuals))
    assert 0.09 < std < 0.11


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: moons(n=1), ValueError, "n=1 is too small"),
        (lambda: xor(n=3), ValueError, "one example per corner"),
        (lambda: spiral(n=4, k=5), ValueError, "at least 5"),
        (lambda: spiral(k=0), ValueError, "k must be"),
        (lambda: moons(n=10.5), TypeError, "n must be an int"),
        (lambda: moons(noise=-0.1), ValueError, "noise must be a finite number >= 0"),
        (lambda: moons(noise=float("nan")), ValueError, "noise must be"),
        (lambda: moons(noise="a lot"), TypeError, "noise must be a number"),
        (lambda: moons(seed=1.5), TypeError, "seed must be"),
        (lambda: circles(factor=1.5), ValueError, "factor must be between 0 and 1"),
        (lambda: yin_yang(dot_radius=0.7), ValueError, "dot_radius"),
        (lambda: data.make("mnist"), ValueError, "unknown dataset 'mnist'.*moons.*digits"),
    ],
)
def test_generator_arguments_are_checked(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_make_by_name():
    assert data.make("moons", n=20, seed=2) == moons(n=20, seed=2)
    assert set(data.GENERATORS) == {
        "xor", "moons", "circles", "spiral", "blobs", "yin_yang", "regression"
    }


# --- checking a learner's own data --------------------------------------------------------------


def test_own_lists_become_rows_of_floats():
    X = ((1, 2), [3.5, 4])
    y = (0, 1)
    Xc, yc = check_dataset(X, y)
    assert Xc == [[1.0, 2.0], [3.5, 4.0]]
    assert all(type(v) is float for row in Xc for v in row)
    assert yc == [0, 1] and all(type(t) is int for t in yc)
    assert check_dataset([1, 2, 3], [0.5, 1, 2.5]) == ([[1.0], [2.0], [3.0]], [0.5, 1, 2.5])
    assert check_dataset([[0], [1]], [[0.0, 1.0], [1.0, 0.0]])[1] == [[0.0, 1.0], [1.0, 0.0]]
    # a truth table written with booleans
    Xb, yb = check_dataset([[False, True], [True, True]], [True, False])
    assert Xb == [[0.0, 1.0], [1.0, 1.0]] and yb == [1, 0] and type(yb[0]) is int


def test_check_returns_copies():
    X, y = [[1.0, 2.0]], [0]
    Xc, yc = check_dataset(X, y)
    Xc[0][0] = 99.0
    yc[0] = 5
    assert X == [[1.0, 2.0]] and y == [0]


@pytest.mark.parametrize(
    "X, y, error, words",
    [
        ([[1, 2], [3]], [0, 1], ValueError, r"ragged: X\[1\] has 1 features but X\[0\] has 2"),
        ([[1, 2], [3, "4"]], [0, 1], TypeError, r"X\[1\]\[1\] is '4' of type str"),
        ([[1, 2], [3, None]], [0, 1], TypeError, r"X\[1\]\[1\] is None"),
        ([[1, float("nan")]], [0], ValueError, r"X\[0\]\[1\] is nan"),
        ([[1, float("inf")]], [0], ValueError, "finite"),
        ([[1, 2], [3, 4]], [0], ValueError, "X has 2 examples but y has 1"),
        ([], [], ValueError, "X is empty"),
        ([[]], [0], ValueError, "at least one feature"),
        ([[1], 2], [0, 1], TypeError, r"X\[1\] is the number 2"),
        ("abc", [0, 1, 2], TypeError, "X must be a list, got str"),
        ([[1], [2]], [0, "cat"], TypeError, r"y\[1\] is 'cat'"),
        ([[1], [2]], [[0, 1], [1]], ValueError, r"y is ragged"),
        ([1, "2"], [0, 1], TypeError, r"X\[1\] is '2'"),
        (["ab", "cd"], [0, 1], TypeError, r"X\[0\] must be a list, got str"),
        ([[1], [2]], [0, float("nan")], ValueError, r"y\[1\] is nan"),
        ([[Value(1.0)]], [0], TypeError, r"use its \.data"),
    ],
)
def test_bad_data_gets_a_clear_error(X, y, error, words):
    with pytest.raises(error, match=words):
        check_dataset(X, y)


def test_other_functions_use_the_same_checks():
    with pytest.raises(ValueError, match="ragged"):
        train_test_split([[1, 2], [3]] * 5, [0, 1] * 5)
    with pytest.raises(ValueError, match="X has 3 examples but y has 2"):
        batches([[1], [2], [3]], [0, 1], 2)
    with pytest.raises(TypeError, match="centers"):
        blobs(centers=[[0, "x"]])
    assert check_features([(1, 2)]) == [[1.0, 2.0]]


# --- train_test_split --------------------------------------------------------------------------


def _ids(rows):
    return [int(r[0]) for r in rows]


@pytest.mark.parametrize(
    "test_size, n_test", [(0.2, 20), (0.25, 25), (0.333, 33), (7, 7), (99, 99)]
)
def test_split_sizes_are_disjoint_and_cover_everything(test_size, n_test):
    X = [[i, -i] for i in range(100)]  # a learner's own data; row i holds i
    y = [i % 3 for i in range(100)]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=1)
    assert len(X_test) == len(y_test) == n_test
    assert len(X_train) == len(y_train) == 100 - n_test
    ids_train, ids_test = _ids(X_train), _ids(X_test)
    assert not set(ids_train) & set(ids_test)
    assert sorted(ids_train + ids_test) == list(range(100))
    for row, t in zip(X_train + X_test, y_train + y_test):  # labels travel with their rows
        assert t == int(row[0]) % 3
    assert ids_test != sorted(ids_test)  # shuffled


def test_split_is_stratified():
    X, y = spiral(n=300, k=3, seed=0)
    y = [t if i % 5 else 0 for i, t in enumerate(y)]  # unbalanced classes
    counts = Counter(y)
    for seed in range(5):
        _, X_test, _, y_test = train_test_split(X, y, test_size=0.3, seed=seed)
        assert len(y_test) == 90
        test_counts = Counter(y_test)
        for c, m in counts.items():
            assert abs(test_counts[c] - 0.3 * m) <= 1


def test_split_deterministic_for_a_seed():
    X, y = moons(n=60, seed=0)
    assert train_test_split(X, y, seed=2) == train_test_split(X, y, seed=2)
    assert train_test_split(X, y, seed=2) != train_test_split(X, y, seed=3)


def test_split_of_regression_targets_and_without_stratifying():
    X, y = regression(n=50)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=10, seed=0)
    assert len(X_test) == 10 and len(y_train) == 40
    for row, t in zip(X_test, y_test):
        assert t in y and y.index(t) == X.index(row)
    X2 = [[i] for i in range(20)]
    parts = train_test_split(X2, [0] * 10 + [1] * 10, test_size=0.5, seed=0, stratify=False)
    assert sorted(_ids(parts[0] + parts[1])) == list(range(20))


@pytest.mark.parametrize(
    "test_size, error, words",
    [
        (0, ValueError, "test_size=0 must be between 1 and 9"),
        (10, ValueError, "between 1 and 9"),
        (0.0, ValueError, "fraction between 0 and 1"),
        (1.0, ValueError, "fraction between 0 and 1"),
        (-0.2, ValueError, "fraction"),
        (0.01, ValueError, "empty train or test set"),
        ("0.2", TypeError, "test_size must be"),
        (True, TypeError, "test_size must be"),
    ],
)
def test_split_rejects_bad_sizes(test_size, error, words):
    X = [[i] for i in range(10)]
    with pytest.raises(error, match=words):
        train_test_split(X, [0, 1] * 5, test_size=test_size)


def test_split_other_errors():
    with pytest.raises(ValueError, match="X has 3 examples but y has 2"):
        train_test_split([[1], [2], [3]], [0, 1])
    with pytest.raises(ValueError, match="at least 2"):
        train_test_split([[1]], [0])
    with pytest.raises(ValueError, match="stratify=True needs integer class labels"):
        train_test_split([[1], [2], [3]], [0.5, 1.5, 2.5], stratify=True)


# --- batches ------------------------------------------------------------------------------------


@pytest.mark.parametrize("n, size", [(10, 3), (10, 5), (10, 1), (10, 10), (10, 64), (7, None)])
def test_batches_cover_every_example_once(n, size):
    X = [[i] for i in range(n)]
    y = [i % 2 for i in range(n)]
    seen = []
    sizes = []
    for Xb, yb in batches(X, y, size, seed=3):
        assert len(Xb) == len(yb)
        assert all(t == int(row[0]) % 2 for row, t in zip(Xb, yb))
        seen += _ids(Xb)
        sizes.append(len(Xb))
    assert sorted(seen) == list(range(n))
    full = n if size is None else size
    assert sizes == [min(full, n - i) for i in range(0, n, full)]


def test_batch_order_follows_the_seed():
    X, y = [[i] for i in range(50)], list(range(50))
    order = lambda **kw: [t for _, yb in batches(X, y, 8, **kw) for t in yb]  # noqa: E731
    assert order(seed=1) == order(seed=1)
    assert order(seed=1) != order(seed=2)
    assert order(shuffle=False) == list(range(50))
    rng_a, rng_b = random.Random(0), random.Random(0)
    epochs_a = [order(seed=rng_a) for _ in range(3)]
    assert epochs_a == [order(seed=rng_b) for _ in range(3)]
    assert epochs_a[0] != epochs_a[1] != epochs_a[2]


@pytest.mark.parametrize(
    "size, error", [(0, ValueError), (-2, ValueError), (2.5, TypeError), (True, TypeError)]
)
def test_bad_batch_size_fails_at_the_call(size, error):
    with pytest.raises(error, match="batch_size"):
        batches([[1], [2]], [0, 1], size)  # no iteration needed to see the error


# --- digits -------------------------------------------------------------------------------------


def test_digits_counts_and_ranges():
    X, y = digits()
    assert len(X) == len(y) == 1797
    assert all(len(row) == 64 for row in X)
    # class sizes of the UCI optical-digits test set
    assert Counter(y) == {
        0: 178, 1: 182, 2: 177, 3: 183, 4: 181, 5: 182, 6: 181, 7: 179, 8: 174, 9: 180
    }
    assert min(min(r) for r in X) == 0.0 and max(max(r) for r in X) == 1.0
    raw, y_raw = digits(scale=False)
    assert y_raw == y
    assert all(v == int(v) and 0 <= v <= 16 for row in raw for v in row)
    assert max(max(r) for r in raw) == 16.0
    assert all(a / 16 == b for ra, rb in zip(raw[:50], X[:50]) for a, b in zip(ra, rb))


def test_digits_are_fresh_lists():
    X, y = digits()
    X[0][0], y[0] = 123.0, 99
    X2, y2 = digits()
    assert X2[0][0] != 123.0 and y2[0] != 99


def test_digit_labels_match_their_images():
    """A nearest-class-mean classifier learns the digits: labels line up with the pixels."""
    X, y = digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, seed=0)
    means = {}
    for c in range(10):
        rows = [r for r, t in zip(X_train, y_train) if t == c]
        means[c] = [sum(col) / len(rows) for col in zip(*rows)]
    predict = lambda r: min(means, key=lambda c: math.dist(r, means[c]))  # noqa: E731
    accuracy = sum(predict(r) == t for r, t in zip(X_test, y_test)) / len(y_test)
    assert accuracy > 0.85


def test_digit_image_and_text():
    X, _ = digits()
    image = digit_image(X[0])
    assert len(image) == 8 and all(len(r) == 8 for r in image)
    assert [v for r in image for v in r] == X[0]
    text = digit_ascii(X[0])
    assert text.count("\n") == 7
    raw, _ = digits(scale=False)
    assert digit_ascii(raw[0]) == text
    blank = digit_ascii([0.0] * 64)
    assert blank.strip() == ""
    with pytest.raises(ValueError, match="63 pixels"):
        digit_image([0.0] * 63)
