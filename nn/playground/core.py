"""The playground's engine, without widgets or plots: data, model, optimizer and the record of a run.

`Trainer` holds one setting of every control and trains step by step (``step()``, ``run(n)``,
``reset()``); `Race` trains copies of its model with several optimizers from the same start. Both
use only `nn`: the data generators, `MLP`, `nn.optim`, `nn.losses` and `nn.train.train_step`, with
the float path for every evaluation. Pure standard library.
"""

import contextlib
import math
import numbers
import random

from .. import data as datasets
from .. import losses
from ..activations import ACTIVATIONS
from ..module import MLP
from ..optim import OPTIMIZERS
from ..train import _accuracy, classify, train_step

DATASETS = (*datasets.GENERATORS, "own")
LOSSES = ("bce", "cross_entropy", "hinge", "mse")
OPTIMIZER_NAMES = ("sgd", "momentum", "adam", "rmsprop", "adagrad")
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "adam": 0.01, "rmsprop": 0.01, "adagrad": 0.1}
MIN_POINTS = 4  # a generated dataset's smallest size: enough for a train/test split
MAX_CLASSES = 10  # classes a learner's own points can have
SATURATED = 0.97  # |tanh| above this (sigmoid within 0.03 of 0 or 1) counts as saturated

# what each setting affects: the data, the model's initial weights, or only what comes next
_DATA_KEYS = {"dataset", "n", "noise", "test_ratio"}
_MODEL_KEYS = {"hidden", "activation", "loss"}
_LIVE_KEYS = {"optimizer", "lr", "l1", "l2", "batch_size"}


def make_optimizer(name, model, lr):
    """An `nn.optim` optimizer by playground name (``"momentum"`` is SGD with momentum 0.9)."""
    if name == "momentum":
        return OPTIMIZERS["sgd"](model, lr=lr, momentum=0.9)
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZER_NAMES)}")
    return OPTIMIZERS[name](model, lr=lr)


def parse_hidden(text):
    """Hidden layer sizes from ``"16, 16"`` (or a list): any number of layers, any positive size.
    An empty entry (``"1,,2"``) is refused rather than skipped; ``""`` means no hidden layer."""
    if isinstance(text, str):
        parts = [part.strip() for part in text.split(",")] if text.strip() else []
        try:
            sizes = [int(part) for part in parts]
        except ValueError:
            raise ValueError(f"hidden layers are sizes separated by commas, e.g. '16, 16'; got {text!r}") from None
    else:
        try:
            sizes = list(text)
        except TypeError:
            raise ValueError(f"hidden layers are a list of sizes or a text like '16, 16'; got {text!r}") from None
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"each hidden layer needs a whole number of neurons >= 1, got {size!r}")
    return sizes


class Task:
    """How labels meet outputs: the number of outputs, the loss on Values and floats, and how an
    output becomes a class. Multiclass works with every loss: cross-entropy on k logits; BCE, hinge
    and MSE one-vs-rest on k outputs (a one-hot target per example)."""

    mean_over_examples = True  # a batch's loss is the mean of its examples' (so steps compile: nn.compiled)

    def __init__(self, y, loss):
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of: {', '.join(LOSSES)}")
        self.classes = max(y) + 1 if y and all(isinstance(t, int) for t in y) else None
        self.note = ""
        if self.classes is None and loss != "mse":
            self.note = f"{loss} needs class labels; regression uses mse"
            loss = "mse"
        self.loss = loss
        k = self.classes
        if k is None:
            self.nout, self.threshold = 1, None
        elif loss == "cross_entropy":
            self.nout, self.threshold = max(k, 2), 0.0
        else:
            self.nout = k if k > 2 else 1
            self.threshold = 0.5 if (loss == "mse" and self.nout == 1) else 0.0
        self._fn = losses.binary_cross_entropy if loss == "bce" else losses.get(loss)

    def __call__(self, outputs, targets):
        if self.nout == 1 or self.loss == "cross_entropy":
            return self._fn(outputs, targets)
        flat = [o for out in outputs for o in out]
        onehot = [1 if j == t else 0 for t in targets for j in range(self.nout)]
        return self._fn(flat, onehot)

    def evaluate(self, model, X, y):
        """(loss, accuracy or None) on plain floats."""
        if not X:
            return None, None
        outputs = model.predict(X)
        loss = float(self(outputs, y))
        acc = None if self.threshold is None else _accuracy(outputs, y, self.threshold)
        return loss, acc

    def classify(self, output):
        """The class an output means (a number for regression)."""
        return output if self.threshold is None else classify(output, self.threshold)


class Trainer:
    """One playground setting and its run. Change a setting with ``set(name=value)``:

    - data (``dataset``, ``n``, ``noise``, ``test_ratio``) and ``seed``: new data, a fresh run;
    - the model (``hidden``, ``activation``, ``loss``): a new model from ``seed``, a fresh run;
    - ``optimizer``, ``lr``, ``l1``, ``l2``, ``batch_size``: from the next step on, mid-run.

    ``reset()`` puts back the same initial weights (they change only with ``seed`` or the model).
    """

    def __init__(self, dataset="moons", n=200, noise=0.1, test_ratio=0.3, seed=0, hidden=(16, 16),
                 activation="tanh", loss="bce", optimizer="adam", lr=None, l1=0.0, l2=0.0,
                 batch_size=10, eval_every=5, points=None, compiled=None):
        self.settings = {
            "dataset": dataset, "n": n, "noise": noise, "test_ratio": test_ratio, "seed": seed,
            "hidden": parse_hidden(hidden), "activation": activation, "loss": loss,
            "optimizer": optimizer, "lr": DEFAULT_LR.get(optimizer, 0.01) if lr is None and isinstance(optimizer, str) else lr,
            "l1": l1, "l2": l2, "batch_size": batch_size,
        }
        if not _is_whole(eval_every) or eval_every < 1:
            raise ValueError(f"eval_every is how many steps pass between evaluations (a whole number >= 1), got {eval_every!r}")
        self.eval_every = eval_every
        if compiled not in (None, True, False):
            raise ValueError(f"compiled is None (when possible), True or False, got {compiled!r}")
        self.compiled = compiled  # the training step's path, as in nn.fit
        self.points = [] if points is None else [self._point(p) for p in points]
        self.version = 0  # grows whenever the model's structure or the data change
        self._check()
        self._build_data()
        self._build_model()

    # ---- settings -----------------------------------------------------------------------------
    def __getattr__(self, name):
        settings = self.__dict__.get("settings")
        if settings is not None and name in settings:
            return settings[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def set(self, **changes):
        """Change settings (see the class docstring for what each one restarts)."""
        unknown = set(changes) - set(self.settings)
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(sorted(unknown))}; the settings are {', '.join(self.settings)}")
        if "hidden" in changes:
            changes["hidden"] = parse_hidden(changes["hidden"])
        old = dict(self.settings)
        with self._all_or_nothing():
            self.settings.update(changes)
            self._check()
            changed = {key for key in changes if changes[key] != old[key]}
            if changed & (_DATA_KEYS | {"seed"}):
                self._build_data()
                self._build_model()
            elif changed & _MODEL_KEYS:
                self._build_model()
            else:
                if "optimizer" in changed:
                    self.optimizer = make_optimizer(self.settings["optimizer"], self.model, self.settings["lr"])
                elif "lr" in changed:
                    self.optimizer.lr = self.settings["lr"]  # the optimizer keeps its state
                if "batch_size" in changed:
                    self._batches = None

    @contextlib.contextmanager
    def _all_or_nothing(self):
        """Run a change; if anything in it raises, put every attribute back as it was. (A change
        replaces the data, model and optimizer objects rather than editing them, so a shallow copy
        of the attributes, with the settings and points copied, is the whole state.)"""
        saved = dict(self.__dict__)
        saved["settings"], saved["points"] = dict(self.settings), list(self.points)
        try:
            yield
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(saved)
            raise

    def _check(self):
        s = self.settings
        if not isinstance(s["dataset"], str) or s["dataset"] not in DATASETS:
            raise ValueError(f"unknown dataset {s['dataset']!r}; choose one of: {', '.join(DATASETS)}")
        if not isinstance(s["activation"], str) or s["activation"] not in ACTIVATIONS:
            raise ValueError(f"unknown activation {s['activation']!r}; choose one of: {', '.join(ACTIVATIONS)}")
        if not isinstance(s["optimizer"], str) or s["optimizer"] not in OPTIMIZER_NAMES:
            raise ValueError(f"unknown optimizer {s['optimizer']!r}; choose one of: {', '.join(OPTIMIZER_NAMES)}")
        if not isinstance(s["loss"], str) or s["loss"] not in LOSSES:
            raise ValueError(f"unknown loss {s['loss']!r}; choose one of: {', '.join(LOSSES)}")
        if not _is_whole(s["n"]) or s["n"] < MIN_POINTS:
            raise ValueError(f"n is the number of points (a whole number >= {MIN_POINTS}), got {s['n']!r}")
        if not _is_whole(s["seed"]):
            raise ValueError(f"seed must be a whole number, got {s['seed']!r}")
        if not (_is_number(s["test_ratio"]) and 0.0 <= s["test_ratio"] < 1.0):
            raise ValueError(f"test_ratio is the share of data held out: 0 <= test_ratio < 1, got {s['test_ratio']!r}")
        if not _is_whole(s["batch_size"]) or s["batch_size"] < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {s['batch_size']!r}")
        for key in ("lr", "l1", "l2", "noise"):
            if not (_is_number(s[key]) and math.isfinite(s[key]) and s[key] >= 0):
                raise ValueError(f"{key} must be a finite number >= 0, got {s[key]!r}")
        for key in ("n", "seed", "batch_size"):
            s[key] = int(s[key])  # NumPy integers become plain ones
        for key in ("lr", "l1", "l2", "noise", "test_ratio"):
            s[key] = float(s[key])

    # ---- data ---------------------------------------------------------------------------------
    @staticmethod
    def _point(p):
        """``(x, y, class)`` as ``([x, y], class)``: finite coordinates, a class that is a whole
        number from 0 to 9 (``1.0`` counts as 1; ``1.5``, ``-3`` and ``True`` do not)."""
        try:
            x, y, label = p
        except (TypeError, ValueError):
            raise ValueError(f"a point is (x, y, class), e.g. (0.5, -1.0, 1); got {p!r}") from None
        coords = []
        for name, v in (("x", x), ("y", y)):
            if not (_is_number(v) and math.isfinite(v)):
                raise ValueError(f"a point's {name} must be a finite number, got {v!r} in {p!r}")
            coords.append(float(v))
        if not (_is_number(label) and float(label).is_integer() and 0 <= label < MAX_CLASSES):
            raise ValueError(f"a point's class is a whole number from 0 to {MAX_CLASSES - 1}, got {label!r} in {p!r}")
        return coords, int(label)

    def add_points(self, points):
        """Add ``(x, y, class)`` points to the learner's own dataset, switching to it: a new run.
        Every point is checked first: one bad point adds none."""
        checked = [self._point(p) for p in points]
        with self._all_or_nothing():
            self.points.extend(checked)
            if self.settings["dataset"] == "own":
                self._build_data()
                self._build_model()
            else:
                self.set(dataset="own")

    def clear_points(self):
        """Remove the learner's own points."""
        with self._all_or_nothing():
            self.points = []
            if self.settings["dataset"] == "own":
                self._build_data()
                self._build_model()

    def _build_data(self):
        s = self.settings
        if s["dataset"] == "own":
            X = [list(x) for x, _ in self.points]
            y = [label for _, label in self.points]
        else:
            kwargs = {"n": s["n"], "noise": s["noise"], "seed": s["seed"]}
            X, y = datasets.make(s["dataset"], **kwargs)
        self.X, self.y = X, y
        n_test = round(s["test_ratio"] * len(X))
        if len(X) >= 4 and n_test >= 1 and len(X) - n_test >= 1:
            self.X_train, self.X_test, self.y_train, self.y_test = datasets.train_test_split(
                X, y, test_size=n_test, seed=s["seed"], stratify=False if len(X) < 20 else None)
        else:
            self.X_train, self.X_test, self.y_train, self.y_test = X, [], y, []
        self.nin = len(X[0]) if X else 2

    # ---- the model and the run ----------------------------------------------------------------
    def _build_model(self):
        s = self.settings
        self.task = Task(self.y if self.y else [0, 1], s["loss"])  # every class, held out or not
        init = "kaiming" if s["activation"] in ("relu", "leaky_relu") else "xavier"
        self.model = MLP(self.nin, [*s["hidden"], self.task.nout], activation=s["activation"], init=init, seed=s["seed"])
        self.initial_state = self.model.state_dict()
        self.version += 1
        self.reset()

    def reset(self):
        """Back to step 0 with the same initial weights, a fresh optimizer and an empty record."""
        self.model.load_state_dict(self.initial_state)
        self.optimizer = make_optimizer(self.settings["optimizer"], self.model, self.settings["lr"])
        self.steps = 0
        self.epoch = 0
        self._shuffle = random.Random(self.settings["seed"])
        self._batches = None
        self.history = {key: [] for key in (
            "step", "train_loss", "test_loss", "train_accuracy", "test_accuracy")}
        self.batch_loss = []
        self.grad_steps = []
        self.grad_norms = [[] for _ in self.model.layers]  # mean |grad| per layer, per step
        self.update_size = []  # root-mean-square change of the parameters, per step
        self.lrs = []
        self.record()

    def _next_batch(self):
        if self._batches is not None:
            batch = next(self._batches, None)
            if batch is not None:
                return batch
        self.epoch += self._batches is not None
        self._batches = datasets.batches(self.X_train, self.y_train, self.settings["batch_size"], seed=self._shuffle)
        return next(self._batches)

    def step(self):
        """One optimizer step on the next mini-batch; returns the batch loss."""
        if not self.X_train:
            raise ValueError("there is no training data: add points (x, y, class) first")
        X_batch, y_batch = self.last_batch = self._next_batch()
        params = self.optimizer.params
        before = [p.data for p in params]
        self.lrs.append(self.optimizer.lr)
        loss = train_step(self.model, self.optimizer, self.task, X_batch, y_batch,
                          l2=self.settings["l2"], l1=self.settings["l1"], compiled=self.compiled)
        self.steps += 1
        self.batch_loss.append(loss)
        self.update_size.append(math.sqrt(sum((p.data - b) ** 2 for p, b in zip(params, before)) / len(params)))
        self.grad_steps.append(self.steps)
        for norms, layer in zip(self.grad_norms, self.model.layers):
            ps = layer.parameters()
            norms.append(sum(abs(p.grad) for p in ps) / len(ps))
        if self.steps % self.eval_every == 0:
            self.record()
        return loss

    def run(self, n):
        """``n`` steps; returns the last batch loss."""
        loss = None
        for _ in range(n):
            loss = self.step()
        return loss

    def record(self):
        """Evaluate on the train and test sets (floats) and append to ``history`` (once per step)."""
        h = self.history
        if h["step"] and h["step"][-1] == self.steps:
            return
        if not self.X_train:
            return
        train = self.task.evaluate(self.model, self.X_train, self.y_train)
        test = self.task.evaluate(self.model, self.X_test, self.y_test)
        h["step"].append(self.steps)
        h["train_loss"].append(train[0])
        h["train_accuracy"].append(train[1])
        h["test_loss"].append(test[0])
        h["test_accuracy"].append(test[1])

    # ---- looking inside -------------------------------------------------------------------------
    def health(self):
        """Per hidden layer: how many units are dead (relu: never positive on the training data) or
        saturated (tanh/sigmoid: in a flat end for 90% of the training points, where the gradient
        vanishes). A list of dicts ``{"layer", "units", "dead", "saturated"}``."""
        layers = self.model.layers[:-1]
        if not self.X_train or not layers:
            return []
        rows = [self.model.forward_floats_by_layer(x) for x in self.X_train]
        values = [[[_as_list(r[i])[j] for r in rows] for j in range(layer.nout)] for i, layer in enumerate(layers)]
        return unit_health(self.settings["activation"], values)

    def race(self, optimizers=None, lrs=None):
        """A `Race` of ``optimizers`` (names; default all) from this run's initial weights."""
        return Race(self, optimizers, lrs)

    def fork(self, optimizer=None, lr=None):
        """A new run on the same data from the same initial weights (and batch order), with another
        optimizer or learning rate: what the race compares."""
        other = Trainer.__new__(Trainer)
        other.settings = dict(self.settings)
        if optimizer is not None:
            if optimizer not in OPTIMIZER_NAMES:
                raise ValueError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZER_NAMES)}")
            other.settings["optimizer"] = optimizer
        if lr is not None:
            other.settings["lr"] = lr
        other._check()
        other.eval_every, other.points, other.version = self.eval_every, list(self.points), 0
        other.compiled = self.compiled
        for key in ("X", "y", "X_train", "X_test", "y_train", "y_test", "nin", "task"):
            setattr(other, key, getattr(self, key))
        other.model = MLP(self.nin, [layer.nout for layer in self.model.layers],
                          activation=self.settings["activation"], init=self.model.init, seed=0)
        other.initial_state = dict(self.initial_state)
        other.reset()
        return other


def unit_health(activation, layers):
    """Dead and saturated units per hidden layer (see `Trainer.health`), from ``layers[i][j]``: the
    outputs of unit ``j`` of hidden layer ``i`` on every training point."""
    out = []
    for i, units in enumerate(layers):
        dead = saturated = 0
        for values in units:
            if activation in ("relu", "leaky_relu"):
                dead += all(v <= 0.0 for v in values)
            elif activation in ("tanh", "sigmoid"):
                lo, hi = (-SATURATED, SATURATED) if activation == "tanh" else (1 - SATURATED, SATURATED)
                flat = sum(1 for v in values if v <= lo or v >= hi)
                saturated += flat >= 0.9 * len(values)
        out.append({"layer": i, "units": len(units), "dead": dead, "saturated": saturated})
    return out


def _is_number(v):
    """A real number that is not a bool (NumPy numbers count)."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _is_whole(v):
    """An integer that is not a bool (NumPy integers count)."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _as_list(v):
    return v if isinstance(v, list) else [v]


class Race:
    """Several optimizers from the same initial weights on the same data and the same batch order.

    ``step(n)`` advances every racer; ``curves`` maps each optimizer name to (steps, train losses).
    Each uses its own default learning rate (`DEFAULT_LR`) unless ``lrs`` names one.
    """

    def __init__(self, trainer, optimizers=None, lrs=None):
        names = list(OPTIMIZER_NAMES if optimizers is None else optimizers)
        if not names:
            raise ValueError("a race needs at least one optimizer")
        lrs = dict(lrs or {})
        self.trainers = {name: trainer.fork(name, lrs.get(name, DEFAULT_LR.get(name))) for name in names}
        self.version = trainer.version  # the data and network it races on

    def step(self, n=1):
        for racer in self.trainers.values():
            racer.run(n)

    @property
    def steps(self):
        return next(iter(self.trainers.values())).steps

    @property
    def curves(self):
        return {name: (list(t.history["step"]), list(t.history["train_loss"])) for name, t in self.trainers.items()}
