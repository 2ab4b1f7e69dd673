"""Training: ``fit`` runs the loop (forward, loss, backward, step) over epochs and mini-batches and
returns a `History`; ``predict`` and ``accuracy`` evaluate on plain floats, with no graph.

The loop ``fit`` runs is the one a learner writes by hand::

    for X_batch, y_batch in batches(X, y, batch_size):
        optimizer.zero_grad()
        loss = loss_fn([model(x) for x in X_batch], y_batch) + penalty
        loss.backward()
        optimizer.step()

(``fit`` builds the outputs with ``model.forward_batch(X_batch)``: the same graph, made faster.)
"""

import gc
import math
import numbers
import random
import sys
import warnings
from contextlib import contextmanager, nullcontext

from autograd import no_grad

from . import data as datasets
from . import losses as loss_functions
from .compiled import backward
from .module import _short
from .optim import OPTIMIZERS, Optimizer, _number, clip_grad_norm_


# ---- evaluation on floats ---------------------------------------------------------------------------
def predict(model, X):
    """The model's output for every row of ``X``, on plain floats (no graph): a float per row for
    one output, a list of floats per row otherwise."""
    return model.predict(X)


def accuracy(model, X, y, threshold=0.0):
    """The fraction of rows classified correctly, on plain floats (see `Module.accuracy`)."""
    return _accuracy(model.predict(X), list(y), threshold)


def _accuracy(outputs, y, threshold=0.0):
    if len(outputs) != len(y):
        raise ValueError(f"accuracy: {len(outputs)} rows of X but {len(y)} labels")
    if not outputs:
        raise ValueError("accuracy of an empty dataset is undefined")
    right = 0
    for out, label in zip(outputs, y):
        right += classify(out, threshold) == (label if isinstance(out, list) else int(label > 0))
    return right / len(outputs)


def classify(output, threshold=0.0):
    """The class an output on the float path stands for, by the rule `accuracy` uses: the index of
    the largest of several outputs; for one output, 1 when it is above ``threshold``, else 0."""
    if isinstance(output, list):
        return max(range(len(output)), key=output.__getitem__)
    return int(output > threshold)


# ---- the record of a run ----------------------------------------------------------------------------
class History:
    """Loss and accuracy per epoch, measured after the epoch on plain floats.

    ``train_loss`` and ``val_loss`` are the data loss (without any l1/l2 penalty, so the two are
    comparable); the accuracies are None for regression. ``best_epoch`` is the epoch (from 1) with the
    best monitored value and ``stopped_early`` says whether early stopping ended the run.
    """

    def __init__(self, monitor=None):
        self.train_loss = []
        self.val_loss = []
        self.train_accuracy = []
        self.val_accuracy = []
        self.monitor = monitor
        self.best_epoch = None
        self.stopped_early = False

    @property
    def epochs(self):
        return len(self.train_loss)

    def __len__(self):
        return self.epochs

    def as_dict(self):
        return {
            "train_loss": list(self.train_loss),
            "val_loss": list(self.val_loss),
            "train_accuracy": list(self.train_accuracy),
            "val_accuracy": list(self.val_accuracy),
            "best_epoch": self.best_epoch,
            "stopped_early": self.stopped_early,
        }

    def last(self):
        """The last epoch's numbers as a dict (only those that were measured)."""
        out = {}
        for key in ("train_loss", "val_loss", "train_accuracy", "val_accuracy"):
            values = getattr(self, key)
            if values and values[-1] is not None:
                out[key] = values[-1]
        return out

    def __repr__(self):
        if not self.epochs:
            return "History(no epochs)"
        numbers = ", ".join(f"{key}={value:.4g}" for key, value in self.last().items())
        stop = ", stopped early" if self.stopped_early else ""
        return f"History({self.epochs} epochs: {numbers}{stop})"

    def plot(self, ax=None):
        """Draw the loss curves (and accuracy on a second axis) with matplotlib; returns the axes."""
        try:
            import matplotlib.pyplot as plt
        except ImportError:
            raise ImportError("History.plot needs matplotlib: pip install chainrule[notebook]") from None
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 3.5))
        epochs = range(1, self.epochs + 1)
        ax.plot(epochs, self.train_loss, label="train loss", color="tab:blue")
        if self.val_loss:
            ax.plot(epochs, self.val_loss, label="validation loss", color="tab:orange")
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        lines, labels = ax.get_legend_handles_labels()
        if self.train_accuracy and self.train_accuracy[0] is not None:
            twin = ax.twinx()
            twin.plot(epochs, self.train_accuracy, "--", color="tab:blue", alpha=0.6, label="train accuracy")
            if self.val_accuracy:
                twin.plot(epochs, self.val_accuracy, "--", color="tab:orange", alpha=0.6, label="validation accuracy")
            twin.set_ylabel("accuracy")
            twin.set_ylim(0.0, 1.02)
            more_lines, more_labels = twin.get_legend_handles_labels()
            lines, labels = lines + more_lines, labels + more_labels
        if self.best_epoch is not None and self.stopped_early:
            ax.axvline(self.best_epoch, color="grey", linewidth=0.8, linestyle=":")
        ax.legend(lines, labels, loc="center right", fontsize="small")
        return ax


# ---- choosing the loss and the optimizer --------------------------------------------------------------
def _task(model, X, y, loss):
    """(loss function, accuracy threshold or None for regression, loss name) for this data."""
    outputs = model.forward_floats(X[0])
    n_out = len(outputs) if isinstance(outputs, list) else 1
    ints = all(isinstance(t, int) for t in y)
    labels = set(y) if ints else set()
    if loss is None:
        if n_out > 1 and ints:
            loss = "cross_entropy"
        elif n_out == 1 and ints and labels <= {0, 1}:
            loss = "binary_cross_entropy"
        elif n_out == 1 and ints and labels <= {-1, 1}:
            loss = "hinge"
        else:
            loss = "mse"
    fn = loss_functions.get(loss)
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", "loss")
    if fn is loss_functions.cross_entropy:
        if not ints or min(labels) < 0 or max(labels) >= n_out:
            raise ValueError(
                f"cross_entropy needs class labels 0..{n_out - 1} (one per model output), got {sorted(labels)[:5] or 'float targets'}"
            )
        return fn, 0.0, name
    if fn in (loss_functions.hinge, loss_functions.binary_cross_entropy):
        if n_out != 1:
            raise ValueError(f"{name} needs a model with one output, this one has {n_out}; use cross_entropy for classes")
        if fn is loss_functions.binary_cross_entropy and ints and not labels <= {0, 1}:
            raise ValueError(f"binary_cross_entropy needs labels 0/1, got {sorted(labels)[:5]}; use hinge for -1/+1")
        return fn, 0.0, name
    # mse (or a loss of your own) on targets that are labels, as in the lecture's [1.0, -1.0, ...]:
    # accuracy still means something
    scalars = all(isinstance(t, (int, float)) for t in y)
    values = set(y) if scalars and all(float(t).is_integer() for t in y) else None
    if values is not None and n_out == 1 and values <= {0, 1}:
        return fn, 0.5, name  # the boundary between 0 and 1 is at 0.5
    if values is not None and n_out == 1 and values <= {-1, 1}:
        return fn, 0.0, name
    if ints and n_out > 1:
        return fn, 0.0, name
    return fn, None, name


def _optimizer(optimizer, model, lr):
    if isinstance(optimizer, Optimizer):
        if lr is not None:
            optimizer.lr = lr
        return optimizer
    if optimizer is None:
        optimizer = "adam"
    if isinstance(optimizer, str):
        key = optimizer.lower()
        if key == "momentum":
            return OPTIMIZERS["sgd"](model, lr=0.1 if lr is None else lr, momentum=0.9)
        if key not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}, momentum")
        cls = OPTIMIZERS[key]
        return cls(model) if lr is None else cls(model, lr=lr)
    raise TypeError(f"optimizer must be a name or an nn.optim optimizer, got {type(optimizer).__name__}")


@contextmanager
def mode(model, training):
    """``model`` in training (True) or eval mode (False) for a ``with`` block; afterwards every
    module is back in the mode it had, even when they differed."""
    before = [(module, module.training) for module in model.modules()]
    model.train(training)
    try:
        yield model
    finally:
        for module, was_training in before:
            module.training = was_training


@contextmanager
def paused_gc():
    """Pause CPython's cyclic garbage collector for one training step.

    Graphs hold no reference cycles, so plain reference counting frees them; the cyclic collector
    would only rescan the tens of thousands of live nodes of the step's graph again and again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _progress_bar(total, progress, unit="epoch"):
    if progress is False:
        return None
    if progress is None and not (_in_notebook() or _is_terminal()):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError("the progress bar needs tqdm: pip install chainrule[notebook]") from None
        return None
    return tqdm(total=total, unit=unit, leave=True)


def _is_terminal():
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _in_notebook():
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:
        return False
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


# ---- the loop -------------------------------------------------------------------------------------------
def train_step(model, optimizer, loss_fn, X_batch, y_batch, l2=0.0, l1=0.0, clip_grad_norm=None, compiled=None):
    """One update: zero the gradients, forward the batch, the loss (plus the l2/l1 penalties),
    backward, (clip the gradients' norm to ``clip_grad_norm``), ``optimizer.step()``. Returns the
    loss as a float (penalties included).

    Forward and backward run on the compiled path (`nn.compiled`: the same numbers, many times
    faster) when the model and loss allow it; ``compiled=False`` builds the graph, ``True`` insists.
    The parameters' ``.grad`` still hold this batch's gradients afterwards (clipped, if asked), so
    they can be inspected. An error or Ctrl-C before the step changes no weight; the step itself is
    all or nothing.
    """
    with paused_gc():
        optimizer.zero_grad()
        value = backward(model, loss_fn, X_batch, y_batch, l2=l2, l1=l1, compiled=compiled)
        if clip_grad_norm is not None:
            clip_grad_norm_(optimizer.params, clip_grad_norm)
        optimizer.step()
    return value


def fit(
    model,
    data,
    loss=None,
    optimizer=None,
    epochs=100,
    batch_size=None,
    validation=None,
    lr=None,
    l2=0.0,
    l1=0.0,
    clip_grad_norm=None,
    early_stopping=None,
    monitor=None,
    restore_best=True,
    seed=0,
    progress=None,
    callback=None,
    compiled=None,
):
    """Train ``model`` on ``data = (X, y)`` and return a `History`.

    - ``loss``: ``"mse"``, ``"hinge"``, ``"binary_cross_entropy"``, ``"cross_entropy"`` or a function
      ``loss(outputs, targets) -> Value``. By default it follows the data: several outputs and class
      labels -> cross_entropy; one output and 0/1 labels -> binary_cross_entropy; -1/+1 -> hinge;
      float targets -> mse.
    - ``optimizer``: an `nn.optim` optimizer built on this model's parameters, or a name (``"sgd"``,
      ``"momentum"``, ``"adam"``, ``"adamw"``, ``"rmsprop"``, ``"adagrad"``) built with ``lr`` (or
      its default). Default: Adam.
    - ``epochs``: passes over the data (at least 1); ``batch_size``: None for full-batch steps, else
      mini-batches of that many examples in a new order each epoch.
    - ``validation``: ``(X_val, y_val)``, or the part of ``data`` to hold out: a fraction (0.2)
      or a count (30), split with ``seed``.
    - ``l2``/``l1``: penalty strengths added to the training loss.
    - ``clip_grad_norm``: a maximum norm; before every step the gradients are scaled down so their
      total (Euclidean) norm is at most this (`nn.clip_grad_norm_`), which tames exploding gradients.
    - ``early_stopping``: a patience: stop once ``monitor`` (``"val_loss"`` when there is validation
      data, else ``"train_loss"``; also ``"val_accuracy"``, ``"train_accuracy"``) has not improved
      for that many epochs; with ``restore_best`` the model ends with its best epoch's weights.
    - ``progress``: None shows a tqdm bar in a terminal or notebook only, False never, True always.
    - ``callback(epoch, history)``: called after every epoch (epochs count from 1).
    - ``compiled``: None trains on the compiled path (`nn.compiled`: forward and backward as
      straight-line Python on floats, the graph path's numbers) where the model and loss allow it,
      else on the graph path; False always builds the graph; True raises if it cannot compile.

    Every argument, the data and the validation data are checked (and the model measured on both)
    before the first step, so a mistake is reported before anything changes. Training that diverges
    stops with a FloatingPointError that says to lower the learning rate (and a loss that grows a
    hundredfold warns). Stopped by an error or Ctrl-C, the model and optimizer are as they were
    after the last complete step.
    """
    X, y = datasets.check_dataset(*_pair(data, "data"))
    if isinstance(validation, numbers.Real) and not isinstance(validation, bool):
        X, X_val, y, y_val = datasets.train_test_split(X, y, test_size=validation, seed=seed)
    elif validation is not None:
        X_val, y_val = datasets.check_dataset(*_pair(validation, "validation"))
        if len(X_val[0]) != len(X[0]):
            raise ValueError(
                f"validation rows have {len(X_val[0])} features but training rows have {len(X[0])}; they must match"
            )
    else:
        X_val = y_val = None
    epochs = _count(epochs, "epochs", "a number of passes over the data")
    if batch_size is not None:
        batch_size = _count(batch_size, "batch_size", "examples per step, or None for the whole data at once")
    l2, l1 = _penalty(l2, "l2"), _penalty(l1, "l1")
    if clip_grad_norm is not None:
        clip_grad_norm = _positive(clip_grad_norm, "clip_grad_norm")
    if progress not in (None, True, False):
        raise TypeError(f"progress must be None (a bar in a terminal or notebook), True or False, got {progress!r}")
    early_stopping = check_loop(early_stopping, callback)
    loss_fn, threshold, _ = _task(model, X, y, loss)
    if monitor is None:
        monitor = "val_loss" if X_val is not None else "train_loss"
    if not isinstance(monitor, str) or monitor not in MONITORS:
        raise ValueError(f"monitor must be train_loss, val_loss, train_accuracy or val_accuracy, got {monitor!r}")
    if monitor.startswith("val") and X_val is None:
        raise ValueError(f"monitor={monitor!r} needs validation data (validation=(X_val, y_val) or a fraction)")
    if monitor.endswith("accuracy") and threshold is None:
        raise ValueError("accuracy is undefined for regression targets; monitor a loss instead")
    _check_optimizer(optimizer, model, lr)
    # Measured once before training: whatever the loss cannot take in either set fails now.
    start_loss = _measure(model, X, y, loss_fn, threshold, "data")
    if X_val is not None:
        _measure(model, X_val, y_val, loss_fn, threshold, "validation data")
    opt = _optimizer(optimizer, model, lr)
    if compiled not in (None, True, False):
        raise ValueError(f"compiled is None (when possible), True or False, got {compiled!r}")

    history = History(monitor)
    shuffle_rng = random.Random(seed)

    def train_epoch():
        for X_batch, y_batch in datasets.batches(X, y, batch_size, shuffle=batch_size is not None, seed=shuffle_rng):
            train_step(model, opt, loss_fn, X_batch, y_batch, l2=l2, l1=l1, clip_grad_norm=clip_grad_norm,
                       compiled=compiled)
        _record(history, model, loss_fn, threshold, X, y, X_val, y_val)

    bar = _progress_bar(epochs, progress)
    return run_epochs(model, history, epochs, train_epoch, early_stopping, restore_best, bar, callback,
                      optimizer=opt, start_loss=start_loss)


def check_loop(early_stopping, callback):
    """Check the arguments `run_epochs` takes from the user, before any training; returns the
    patience as an int (or None)."""
    if early_stopping is not None:
        early_stopping = _count(early_stopping, "early_stopping", "a patience in epochs")
    if callback is not None and not callable(callback):
        raise TypeError("callback must be a function callback(epoch, history)")
    return early_stopping


def run_epochs(model, history, epochs, train_epoch, early_stopping=None, restore_best=True, bar=None, callback=None,
               advance=1, optimizer=None, start_loss=None):
    """The loop of `fit` (and of `nn.text.fit_text`): ``train_epoch()`` trains one epoch and records
    its numbers in ``history``; then the monitored number is checked, the best epoch remembered, the
    progress ``bar`` moved on by ``advance`` and ``callback(epoch, history)`` called, and the run
    stops once the number has not improved for ``early_stopping`` epochs (the model then gets its
    best weights back when ``restore_best``). Trains in training mode; returns ``history``.

    Training that diverges (an overflow, a non-finite gradient or loss) ends with a FloatingPointError
    that says to lower the learning rate of ``optimizer``; a train loss that grows to `DIVERGING`
    times ``start_loss`` (or 1) warns once."""
    monitor = history.monitor
    best, best_state, waited, warned = None, None, 0, False
    higher_is_better = monitor.endswith("accuracy")
    with mode(model, training=True), (bar if bar is not None else nullcontext()):
        for epoch in range(1, epochs + 1):
            try:
                train_epoch()
            except (OverflowError, FloatingPointError) as error:
                raise FloatingPointError(_diverged(epoch, optimizer, error)) from error
            value = getattr(history, monitor)[-1]
            loss = history.train_loss[-1] if history.train_loss else value
            if not math.isfinite(value) or not math.isfinite(loss):
                bad = value if not math.isfinite(value) else loss
                which = monitor if not math.isfinite(value) else "train_loss"
                raise FloatingPointError(_diverged(epoch, optimizer, f"the {which.replace('_', ' ')} became {bad}"))
            if start_loss is not None and not warned and loss > DIVERGING * max(start_loss, 1.0):
                warnings.warn(
                    f"the train loss grew from {start_loss:.4g} to {loss:.4g} by epoch {epoch}: "
                    f"training is diverging; lower the learning rate{_rate(optimizer)}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                warned = True
            if best is None or (value > best if higher_is_better else value < best):
                best, waited, history.best_epoch = value, 0, epoch
                if early_stopping is not None and restore_best:
                    best_state = model.state_dict()
            else:
                waited += 1
            if bar is not None:
                bar.set_postfix({k.replace("accuracy", "acc"): round(v, 4) for k, v in history.last().items()}, refresh=False)
                bar.update(advance)
            if callback is not None:
                callback(epoch, history)
            if early_stopping is not None and waited >= early_stopping:
                history.stopped_early = True
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


MONITORS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy")
DIVERGING = 100  # a train loss this many times its start (or 1) warns that training diverges


def _count(value, name, what):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1 ({what}), got {_short(value)}")
    return int(value)


def _penalty(value, name):
    number = _real(value)
    if number is None or not 0.0 <= number < math.inf:
        raise ValueError(f"{name} must be a finite number >= 0, got {_short(value)}")
    return number


def _positive(value, name):
    number = _real(value)
    if number is None or not 0.0 < number < math.inf:
        raise ValueError(f"{name} must be a finite number > 0 (a maximum gradient norm), got {_short(value)}")
    return number


def _real(value):
    """``value`` as a float, or None when it is not a real number (or does not fit a float)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (OverflowError, ValueError, TypeError):
        return None


def _check_optimizer(optimizer, model, lr):
    """Refuse, before training, an optimizer that would not train this model."""
    if isinstance(optimizer, Optimizer):
        held = set(optimizer.params)
        named = list(model.named_parameters())
        missing = [name for name, p in named if p not in held]
        if missing:
            which = "none" if len(missing) == len(named) else f"only {len(named) - len(missing)}"
            raise ValueError(
                f"the optimizer holds {which} of this model's {len(named)} parameters (missing: "
                f"{', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}), so fit would not train them; "
                f"build it on this model, e.g. {type(optimizer).__name__}(model, lr=...). "
                "To train only some parameters, write the loop with nn.train.train_step"
            )
        if lr is not None and not callable(lr):
            _number(lr, "lr")  # checked now, set on the optimizer only once training starts
    elif optimizer is not None and not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a name or an nn.optim optimizer, got {type(optimizer).__name__}")


def _measure(model, X, y, loss_fn, threshold, what):
    """The loss before training; an error names ``what`` (the data or the validation data)."""
    try:
        return evaluate(model, X, y, loss_fn, threshold)[0]
    except (ValueError, TypeError) as error:
        raise type(error)(f"{what}: {error}") from None
    except OverflowError as error:
        raise FloatingPointError(f"{what}: the model's outputs overflow before training ({error})") from None


def _rate(opt):
    """`` (lr=0.1)``: the learning rate of the optimizer's next step, for messages ('' without one)."""
    if opt is None:
        return ""
    try:
        return f" (lr={opt.lr:g})"
    except ValueError as error:
        return f" ({error})"


def _diverged(epoch, opt, error):
    reason = "a number grew beyond the largest float (about 1.8e308)" if isinstance(error, OverflowError) else str(error)
    return (
        f"training diverged in epoch {epoch}: {reason}; the model is as it was after the last complete step. "
        f"Lower the learning rate{_rate(opt)}"
    )


def _pair(data, name):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(f"{name} must be a pair (X, y) of inputs and targets")
    return data


def evaluate(model, X, y, loss_fn, threshold):
    """(loss, accuracy) of ``model`` on ``(X, y)``, the one measurement behind every `History` number.

    It runs in eval mode (Dropout off) whatever the loss, so the numbers are repeatable; the built-in
    losses run on the float path, a loss of your own on `Value`s with no graph recorded.
    """
    with mode(model, training=False):
        outputs = model.predict(X)
        if loss_fn in loss_functions.LOSSES.values():
            value = float(loss_fn(outputs, y))
        else:
            with no_grad():
                value = float(loss_fn(model.forward_batch(X), y))
    acc = None if threshold is None else _accuracy(outputs, y, threshold)
    return value, acc


def _record(history, model, loss_fn, threshold, X, y, X_val, y_val):
    loss, acc = evaluate(model, X, y, loss_fn, threshold)
    history.train_loss.append(loss)
    history.train_accuracy.append(acc)
    if X_val is not None:
        loss, acc = evaluate(model, X_val, y_val, loss_fn, threshold)
        history.val_loss.append(loss)
        history.val_accuracy.append(acc)
