"""Small datasets, splitting and mini-batches, in plain Python lists.

Every dataset is a pair `(X, y)`: `X` a list of rows (each a list of floats), `y` a list of class
indices 0..k-1 (ints) or of targets (floats). A learner's own lists work wherever a generated set
does: `check_dataset` turns them into that shape or says exactly what is wrong.

Randomness goes through `seed`: an int (the same int gives the same data), `None` (fresh randomness
each call) or a `random.Random` (the calls share its stream, e.g. a new batch order every epoch).
"""

import gzip
import math
import numbers
import random
from functools import lru_cache
from importlib import resources

__all__ = [
    "xor",
    "moons",
    "circles",
    "spiral",
    "blobs",
    "yin_yang",
    "regression",
    "digits",
    "digit_image",
    "digit_ascii",
    "names",
    "GENERATORS",
    "make",
    "train_test_split",
    "batches",
    "check_dataset",
    "check_features",
]


# ---------------------------------------------------------------------------------------------
# Validation shared by everything that takes data


def _rng(seed):
    """A `random.Random` for `seed` (int, None, or an existing `random.Random`)."""
    if isinstance(seed, random.Random):
        return seed
    if seed is None or (isinstance(seed, int) and not isinstance(seed, bool)):
        return random.Random(seed)
    raise TypeError(f"seed must be an int, None or a random.Random, got {seed!r}")


def _is_number(v):
    return isinstance(v, numbers.Real)  # int, float, bool, fractions, NumPy scalars


def _as_float(v, where):
    if not isinstance(v, numbers.Real):
        hint = " (use its .data)" if hasattr(v, "data") and hasattr(v, "grad") else ""
        raise TypeError(f"{where} is {v!r} of type {type(v).__name__}; expected a number{hint}")
    try:
        f = float(v)
    except OverflowError:
        raise ValueError(f"{where} is an int too large for a float; every value must be a finite number") from None
    if not math.isfinite(f):
        raise ValueError(f"{where} is {f}; every value must be a finite number")
    return f


def _as_list(seq, name):
    if isinstance(seq, (str, bytes, dict)) or not hasattr(seq, "__iter__"):
        raise TypeError(f"{name} must be a list, got {type(seq).__name__}")
    return list(seq)


def check_features(X, name="X"):
    """Return `X` as a new list of rows of floats, or raise a clear error.

    Rows must all have the same length. A flat list of numbers is read as one feature per example
    (`[1, 2, 3]` becomes `[[1.0], [2.0], [3.0]]`).
    """
    rows = _as_list(X, name)
    if not rows:
        raise ValueError(f"{name} is empty; a dataset needs at least one example")
    if _is_number(rows[0]):
        return [[_as_float(r, f"{name}[{i}]")] for i, r in enumerate(rows)]
    out = []
    width = None
    for i, row in enumerate(rows):
        if _is_number(row):
            raise TypeError(
                f"{name}[{i}] is the number {row!r} but other rows are lists; "
                "make every row a list of features"
            )
        row = _as_list(row, f"{name}[{i}]")
        if width is None:
            width = len(row)
            if width == 0:
                raise ValueError(f"{name}[0] is empty; each row needs at least one feature")
        elif len(row) != width:
            raise ValueError(
                f"{name} is ragged: {name}[{i}] has {len(row)} features but {name}[0] has {width}; "
                "every row needs the same number of features"
            )
        out.append([_as_float(v, f"{name}[{i}][{j}]") for j, v in enumerate(row)])
    return out


def _check_targets(y, name="y"):
    items = _as_list(y, name)
    if not items:
        raise ValueError(f"{name} is empty; a dataset needs at least one example")
    first = items[0]
    if not hasattr(first, "__iter__") or isinstance(first, (str, bytes, dict)):
        out = []
        for i, t in enumerate(items):
            if isinstance(t, numbers.Integral):
                out.append(int(t))
            else:
                out.append(_as_float(t, f"{name}[{i}]"))
        return out
    # Several outputs per example: each target a list of numbers, all of one length.
    return check_features(items, name)


def check_dataset(X, y):
    """Return `(X, y)` as fresh lists (rows of floats; int labels or float targets), or raise.

    Errors name what is wrong: ragged rows, non-numbers, NaN or infinity, empty data, or `X` and
    `y` of different lengths. Integer (and bool) labels become ints; other targets become floats;
    a target may also be a list of numbers (several outputs).
    """
    X = check_features(X)
    y = _check_targets(y)
    if len(X) != len(y):
        raise ValueError(
            f"X has {len(X)} examples but y has {len(y)}; they need one label per example"
        )
    return X, y


# ---------------------------------------------------------------------------------------------
# Generators


def _check_size(n, k, per="class"):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an int (the number of examples), got {n!r}")
    if n < k:
        why = f" (one example per {per})" if per else ""
        raise ValueError(f"n={n} is too small: need at least {k}{why}")
    return int(n)


def _check_noise(noise):
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
        raise TypeError(f"noise must be a number, got {noise!r}")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)


def _counts(n, k):
    """Split n into k class sizes that differ by at most one."""
    return [n // k + (1 if c < n % k else 0) for c in range(k)]


def _finish(points, labels, noise, rng):
    """Add Gaussian noise to every coordinate and shuffle the examples (same rng, same order)."""
    X = [[v + rng.gauss(0.0, noise) if noise else v for v in p] for p in points]
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [labels[i] for i in order]


def _spaced(m, start, stop, endpoint=True):
    """m evenly spaced numbers from start to stop."""
    if m == 1:
        return [start]
    steps = m - 1 if endpoint else m
    return [start + (stop - start) * i / steps for i in range(m)]


def xor(n=200, noise=0.1, seed=0):
    """Points around the four corners of the unit square; label = x XOR y (2 classes).

    With `n=4, noise=0` this is the truth table itself (in shuffled order).
    """
    n, noise, rng = _check_size(n, 4, "corner"), _check_noise(noise), _rng(seed)
    corners = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
    points, labels = [], []
    for (a, b), m in zip(corners, _counts(n, 4)):
        points += [[a, b] for _ in range(m)]
        labels += [int(a) ^ int(b)] * m
    return _finish(points, labels, noise, rng)


def moons(n=100, noise=0.1, seed=0):
    """Two interleaving half circles (2 classes): the classic demo set."""
    n, noise, rng = _check_size(n, 2), _check_noise(noise), _rng(seed)
    m0, m1 = _counts(n, 2)
    points = [[math.cos(t), math.sin(t)] for t in _spaced(m0, 0.0, math.pi)]
    points += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _spaced(m1, 0.0, math.pi)]
    return _finish(points, [0] * m0 + [1] * m1, noise, rng)


def circles(n=100, noise=0.05, seed=0, factor=0.5):
    """A circle of radius 1 (class 0) around one of radius `factor` (class 1)."""
    n, noise, rng = _check_size(n, 2), _check_noise(noise), _rng(seed)
    if not (_is_number(factor) and 0 < factor < 1):
        raise ValueError(f"factor must be between 0 and 1 (inner radius), got {factor!r}")
    points, labels = [], []
    for label, (radius, m) in enumerate(zip((1.0, float(factor)), _counts(n, 2))):
        for t in _spaced(m, 0.0, 2 * math.pi, endpoint=False):
            points.append([radius * math.cos(t), radius * math.sin(t)])
            labels.append(label)
    return _finish(points, labels, noise, rng)


def spiral(n=300, k=3, noise=0.2, seed=0):
    """k interleaved spiral arms, `n` points in all; `noise` jitters each point's angle (radians).

    The arms start near the centre and wind outwards to radius 1.
    """
    k = _check_classes(k)
    n, noise, rng = _check_size(n, k), _check_noise(noise), _rng(seed)
    points, labels = [], []
    for c, m in enumerate(_counts(n, k)):
        for i in range(m):
            r = (i + 1) / m
            t = 4.0 * (c + r) + (rng.gauss(0.0, noise) if noise else 0.0)
            points.append([r * math.sin(t), r * math.cos(t)])
            labels.append(c)
    return _finish(points, labels, 0.0, rng)


def blobs(n=150, k=None, noise=0.5, seed=0, centers=None):
    """Gaussian clusters (standard deviation `noise`), one class per centre.

    By default k=3 centres sit evenly on a circle of radius 2; pass `centers` (a list of points,
    any dimension) to place them yourself.
    """
    if centers is None:
        k = _check_classes(3 if k is None else k)
        angles = _spaced(k, math.pi / 2, math.pi / 2 + 2 * math.pi, endpoint=False)
        centers = [[2.0 * math.cos(a), 2.0 * math.sin(a)] for a in angles]
    else:
        centers = check_features(centers, "centers")
        if k is not None and k != len(centers):
            raise ValueError(f"k={k} but {len(centers)} centers were given; pass one or the other")
        k = len(centers)
    n, noise, rng = _check_size(n, k), _check_noise(noise), _rng(seed)
    points, labels = [], []
    for c, m in enumerate(_counts(n, k)):
        points += [list(centers[c]) for _ in range(m)]
        labels += [c] * m
    return _finish(points, labels, noise, rng)


def _yin_yang_class(x, y, dot_radius):
    up = math.hypot(x, y - 0.5)
    down = math.hypot(x, y + 0.5)
    if up < dot_radius or down < dot_radius:
        return 2  # the two dots
    if up <= 0.5:
        return 0  # yin's head
    if down <= 0.5:
        return 1  # yang's head
    return 0 if x < 0 else 1


def yin_yang(n=300, noise=0.0, seed=0, dot_radius=0.18):
    """The yin-yang symbol in the unit disc: yin (0), yang (1) and the two dots (2).

    Points are uniform within each region, with the same number per class; `noise` then jitters
    every coordinate, blurring the boundaries.
    """
    n, noise, rng = _check_size(n, 3), _check_noise(noise), _rng(seed)
    if not (_is_number(dot_radius) and 0 < dot_radius < 0.5):
        raise ValueError(f"dot_radius must be between 0 and 0.5, got {dot_radius!r}")
    wanted = _counts(n, 3)
    found = [[], [], []]
    while len(found[0]) < wanted[0] or len(found[1]) < wanted[1]:  # rejection in the disc
        x, y = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
        if x * x + y * y <= 1.0:
            c = _yin_yang_class(x, y, dot_radius)
            if c < 2 and len(found[c]) < wanted[c]:
                found[c].append([x, y])
    for _ in range(wanted[2]):  # uniform in one of the two (equal) dots
        r, a = dot_radius * math.sqrt(rng.random()), rng.uniform(0.0, 2 * math.pi)
        cy = 0.5 if rng.random() < 0.5 else -0.5
        found[2].append([r * math.cos(a), cy + r * math.sin(a)])
    points = found[0] + found[1] + found[2]
    labels = [0] * wanted[0] + [1] * wanted[1] + [2] * wanted[2]
    return _finish(points, labels, noise, rng)


def regression(n=100, noise=0.1, seed=0):
    """A 1-D curve to fit: x evenly spaced in [-1, 1], y = sin(pi x) + Gaussian noise.

    X is `[[x], ...]` in increasing x, y a list of floats (so `plot(X, y)` draws the curve).
    """
    n, noise, rng = _check_size(n, 1, per=None), _check_noise(noise), _rng(seed)
    xs = _spaced(n, -1.0, 1.0)
    y = [math.sin(math.pi * x) + (rng.gauss(0.0, noise) if noise else 0.0) for x in xs]
    return [[x] for x in xs], y


def _check_classes(k):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"k must be a whole number of classes >= 1, got {k!r}")
    return int(k)


GENERATORS = {
    "xor": xor,
    "moons": moons,
    "circles": circles,
    "spiral": spiral,
    "blobs": blobs,
    "yin_yang": yin_yang,
    "regression": regression,
}


def make(name, **kwargs):
    """Generate the dataset called `name` (a key of `GENERATORS`, or "digits")."""
    if name == "digits":
        return digits(**kwargs)
    if name not in GENERATORS:
        choices = ", ".join([*GENERATORS, "digits"])
        raise ValueError(f"unknown dataset {name!r}; choose one of: {choices}")
    return GENERATORS[name](**kwargs)


# ---------------------------------------------------------------------------------------------
# Handwritten digits


@lru_cache(maxsize=1)
def _digits_raw():
    packed = resources.files(__package__).joinpath("datasets").joinpath("digits.csv.gz")
    rows = []
    for line in gzip.decompress(packed.read_bytes()).decode("ascii").splitlines():
        if line.strip():
            values = [int(float(v)) for v in line.split(",")]
            rows.append((tuple(values[:64]), values[64]))
    return tuple(rows)


def digits(scale=True):
    """The 8x8 handwritten digits: 1,797 images, 10 classes (0..9).

    Each row of X holds an image's 64 pixels row by row; pixels are 0..16 (ink per 4x4 block),
    divided by 16 into [0, 1] when `scale` is true. Source: the test set of the UCI "Optical
    Recognition of Handwritten Digits" data (E. Alpaydin, C. Kaynak, 1998), CC BY 4.0; see
    nn/datasets/README.md.
    """
    rows = _digits_raw()
    if scale:
        X = [[v / 16.0 for v in pixels] for pixels, _ in rows]
    else:
        X = [[float(v) for v in pixels] for pixels, _ in rows]
    return X, [label for _, label in rows]


def digit_image(x, width=8):
    """One flat image (64 numbers) as 8 rows of 8, e.g. for `plt.imshow`."""
    x = check_features([x], "image")[0]
    if len(x) % width:
        raise ValueError(f"image has {len(x)} pixels, not a multiple of width={width}")
    return [x[i : i + width] for i in range(0, len(x), width)]


def digit_ascii(x, width=8):
    """One image as text, darker characters for more ink (pixels in [0, 1] or 0..16)."""
    rows = digit_image(x, width)
    top = 16.0 if max(max(r) for r in rows) > 1.0 else 1.0
    shades = " .:-=+*#%@"
    return "\n".join(
        "".join(2 * shades[max(0, min(len(shades) - 1, int(v / top * len(shades))))] for v in r)
        for r in rows
    )


# ---------------------------------------------------------------------------------------------
# Names


@lru_cache(maxsize=1)
def _names_raw():
    packed = resources.files(__package__).joinpath("datasets").joinpath("names.txt.gz")
    text = gzip.decompress(packed.read_bytes()).decode("ascii")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def names():
    """32,033 first names, one string each, lowercase a-z, 2 to 15 letters, in the file's order
    (29,494 distinct: some names appear more than once).

    The list a character-level language model learns from in makemore and microgpt (see
    `nn.text`). Source: names.txt of the makemore repository by Andrej Karpathy, MIT licence; see
    nn/datasets/README.md. A new list on every call: shuffle or split it freely.
    """
    return list(_names_raw())


# ---------------------------------------------------------------------------------------------
# Splitting and batching


def _test_count(n, test_size):
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction or a count, got {test_size!r}")
    if isinstance(test_size, numbers.Integral):
        count = int(test_size)
        if not 1 <= count <= n - 1:
            raise ValueError(
                f"test_size={count} must be between 1 and {n - 1} for {n} examples"
            )
        return count
    if not 0.0 < test_size < 1.0:
        raise ValueError(f"test_size={test_size} must be a fraction between 0 and 1, or a count")
    count = round(test_size * n)
    if not 1 <= count <= n - 1:
        raise ValueError(
            f"test_size={test_size} of {n} examples leaves an empty train or test set; "
            "use more data or another test_size"
        )
    return count


def train_test_split(X, y, test_size=0.2, seed=0, stratify=None):
    """Shuffle and split into `X_train, X_test, y_train, y_test`.

    `test_size` is a fraction (0.2) or a count (30). With integer labels the split is stratified
    (each class keeps its share in both parts) unless `stratify=False`.
    """
    X, y = check_dataset(X, y)
    n = len(X)
    if n < 2:
        raise ValueError("cannot split a dataset of 1 example; it needs at least 2")
    n_test = _test_count(n, test_size)
    rng = _rng(seed)
    labels_are_classes = all(isinstance(t, int) for t in y)
    if stratify is None:
        stratify = labels_are_classes
    elif stratify and not labels_are_classes:
        raise ValueError("stratify=True needs integer class labels in y")

    if stratify:
        groups = {}
        for i, t in enumerate(y):
            groups.setdefault(t, []).append(i)
        classes = sorted(groups)
        # Largest remainder: each class gets floor(share) test examples, the leftovers go to the
        # classes with the biggest fractional parts (ties broken at random, through the seed).
        shares = {c: n_test * len(groups[c]) / n for c in classes}
        take = {c: math.floor(shares[c]) for c in classes}
        tiebreak = {c: rng.random() for c in classes}
        leftover = n_test - sum(take.values())
        for c in sorted(classes, key=lambda c: (take[c] - shares[c], tiebreak[c]))[:leftover]:
            take[c] += 1
        test_idx, train_idx = [], []
        for c in classes:
            idx = groups[c][:]
            rng.shuffle(idx)
            test_idx += idx[: take[c]]
            train_idx += idx[take[c] :]
        rng.shuffle(test_idx)
        rng.shuffle(train_idx)
    else:
        order = list(range(n))
        rng.shuffle(order)
        test_idx, train_idx = order[:n_test], order[n_test:]

    return (
        [X[i] for i in train_idx],
        [X[i] for i in test_idx],
        [y[i] for i in train_idx],
        [y[i] for i in test_idx],
    )


def batches(X, y, batch_size=32, shuffle=True, seed=0):
    """Yield `(X_batch, y_batch)` covering every example once; the last batch may be smaller.

    `batch_size=None` gives one full batch. With an int seed the order is the same every call;
    pass `seed=epoch` (or one `random.Random` for all epochs) for a new order each epoch.
    """
    X, y = check_dataset(X, y)
    if batch_size is None:
        batch_size = len(X)
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise TypeError(f"batch_size must be a whole number >= 1 or None, got {batch_size!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = list(range(len(X)))
    if shuffle:
        _rng(seed).shuffle(order)
    return _iter_batches(X, y, order, int(batch_size))


def _iter_batches(X, y, order, size):
    for start in range(0, len(order), size):
        idx = order[start : start + size]
        yield [X[i] for i in idx], [y[i] for i in idx]
