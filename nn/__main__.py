"""``python -m nn`` (or ``chainrule``): train a small MLP on a dataset and save what happened.

By default it runs the classic moons demo (two hidden layers of 16 relu units, hinge loss with a
little L2, plain SGD with a learning rate falling from 1.0 to 0.1, full-batch steps), prints the
final train and validation accuracy, and writes into the output folder:

- ``loss.png``: train and validation loss (and accuracy) per epoch;
- ``decision_boundary.png``: the regions the model assigns to each class, with the points
  (for 2-D data; a fitted curve for the regression set);
- ``model.json``: the trained model, loadable with ``nn.load("out/model.json")``.

Datasets that the demo's settings cannot learn in seconds (regression, digits) have their own
defaults; an option given on the command line always wins.
"""

import argparse
import os
import sys
import tempfile
import time
import warnings

PROG = "python -m nn"
DATASETS = ("moons", "xor", "circles", "spiral", "blobs", "yin_yang", "regression", "digits")
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw", "rmsprop", "adagrad")
LOSSES = ("auto", "hinge", "bce", "cross_entropy", "mse")
SCHEDULES = ("linear", "cosine", "step", "constant")
DEFAULT_LR = {"sgd": 1.0, "momentum": 0.1, "adam": 0.01, "adamw": 0.01, "rmsprop": 0.01, "adagrad": 0.1}

# The classic moons demo's settings, which learn every 2-D dataset in a few seconds.
DEFAULTS = {"layers": [16, 16], "init": "uniform", "optimizer": "sgd", "epochs": 100, "batch_size": "full"}
# Where those learn little, a dataset's own (measured: regression learns only the mean; digits
# takes 4 minutes to reach 29%). These reach loss 0.01 in 2 s and 95% in 13 s.
DATASET_DEFAULTS = {
    "regression": {"optimizer": "adam", "epochs": 50, "batch_size": 10},
    "digits": {"layers": [32], "init": "kaiming", "optimizer": "adam", "epochs": 3, "batch_size": 32},
}
FEATURES = {"digits": 64, "regression": 1}  # inputs per point; every other dataset has 2
# A scalar engine builds a node per multiply: beyond these, one step would take minutes and gigabytes.
MAX_SAMPLES = 100_000
MAX_PARAMETERS = 1_000_000
CLASSES = {"moons": 2, "xor": 2, "circles": 2, "yin_yang": 3, "digits": 10, "regression": None}  # spiral, blobs: --classes


class UsageError(ValueError):
    """Options that cannot work together; ``main`` reports it as an argument error (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # one line, not a usage dump: what was wrong and where to look
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _fraction(text):
    value = _nonnegative(text)
    if not value < 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction in [0, 1), got {text}")
    return value


def _nonnegative(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _layers(text):
    try:
        sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected sizes like 16,16, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"every layer needs at least 1 unit, got {text!r}")
    return sizes


def _batch_size(text):
    return "full" if text.lower() == "full" else _positive_int(text)


def _prog():
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return PROG if name in ("", "__main__.py", "-c") or name.endswith(".py") else name  # e.g. chainrule


def _default(key):
    """'(default: 100; regression: 50, digits: 3)': the help's account of a dataset-dependent default."""
    def show(value):
        return ",".join(map(str, value)) if isinstance(value, list) else str(value)

    own = [f"{name}: {show(values[key])}" for name, values in DATASET_DEFAULTS.items() if key in values]
    return f"(default: {show(DEFAULTS[key])}" + (f"; {', '.join(own)})" if own else ")")


def parser():
    p = _Parser(
        prog=_prog(),
        description="Train a small MLP on a dataset; print its accuracy and write plots and the model to a folder. "
        "Some defaults depend on the dataset (shown with each option); an option you give always wins.",
        epilog="Examples: python -m nn | python -m nn --dataset spiral --classes 4 --optimizer adam --epochs 40 "
        "--batch-size 30 | python -m nn --dataset circles --loss mse",
    )
    data = p.add_argument_group("data")
    data.add_argument("--dataset", choices=DATASETS, default="moons", help="which dataset to learn (default: moons)")
    data.add_argument("--samples", type=_positive_int, default=None, help="number of points generated (default: 100; not for digits, which has 1797)")
    data.add_argument("--noise", type=_nonnegative, default=None, help="noise of the generated points (default: the dataset's own; not for digits)")
    data.add_argument("--classes", type=_positive_int, default=None, help="number of classes, at least 2, for spiral and blobs (default: 3)")
    data.add_argument("--val-split", type=_fraction, default=0.2, help="fraction held out for validation, 0 for none (default: 0.2)")
    model = p.add_argument_group("model")
    model.add_argument("--layers", type=_layers, default=None, help=f"hidden layer sizes, comma separated {_default('layers')}; the output layer follows the data and the loss")
    model.add_argument("--activation", choices=("relu", "tanh", "sigmoid", "leaky_relu", "linear"), default="relu", help="activation of the hidden layers (default: relu)")
    model.add_argument("--init", choices=("uniform", "xavier", "kaiming"), default=None, help=f"initial weights: uniform is U(-1, 1), the others scale by fan-in {_default('init')}")
    train = p.add_argument_group("training")
    train.add_argument("--loss", choices=LOSSES, default="auto", help="loss (default: auto = hinge for two classes, cross_entropy for more, mse for regression; mse on k > 2 classes fits one-hot targets)")
    train.add_argument("--optimizer", choices=OPTIMIZERS, default=None, help=f"optimizer {_default('optimizer')}")
    train.add_argument("--lr", type=_nonnegative, default=None, help="starting learning rate (default: 1.0 for sgd, 0.1 for sgd with mse, momentum and adagrad, 0.01 otherwise)")
    train.add_argument("--schedule", choices=SCHEDULES, default="linear", help="learning rate over the run: linear falls to lr/10, cosine to 0, step halves it 4 times (default: linear)")
    train.add_argument("--l2", type=_nonnegative, default=1e-4, help="L2 penalty strength (default: 1e-4)")
    train.add_argument("--epochs", type=_positive_int, default=None, help=f"passes over the training data {_default('epochs')}")
    train.add_argument("--batch-size", type=_batch_size, default=None, help=f"examples per step, or 'full' for one step per epoch {_default('batch_size')}")
    train.add_argument("--patience", type=_positive_int, default=None, help="stop after this many epochs without a better validation loss (train loss with --val-split 0) and keep the best weights (default: never)")
    train.add_argument("--seed", type=int, default=0, help="seed for the data, the weights and the batch order (default: 0)")
    train.add_argument("--no-compile", action="store_true", help="train on the graph path, without compiling each step (the same numbers, slower)")
    out = p.add_argument_group("output")
    out.add_argument("--out", default="out", help="folder for loss.png, decision_boundary.png and model.json (default: out)")
    out.add_argument("--no-plots", action="store_true", help="skip the PNGs (no matplotlib needed)")
    out.add_argument("--no-progress", action="store_true", help="no progress bar (it only shows in a terminal anyway)")
    return p


def resolve(args):
    """A copy of ``args`` with every default filled in for its dataset, the loss named and the number
    of classes (``k``, None for regression) and model outputs (``n_out``) decided.

    Raises `UsageError` for options that cannot work together, before anything is trained.
    """
    args = argparse.Namespace(**vars(args))
    dataset = args.dataset
    for key, value in {**DEFAULTS, **DATASET_DEFAULTS.get(dataset, {})}.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.batch_size == "full":
        args.batch_size = None
    if dataset == "digits":
        for flag, value in (("--samples", args.samples), ("--noise", args.noise)):
            if value is not None:
                raise UsageError(f"{flag} does not apply to digits (a fixed set of 1797 images)")
    if args.samples is None:
        args.samples = 100
    if dataset in ("spiral", "blobs"):
        args.k = 3 if args.classes is None else args.classes
        if args.k < 2:
            raise UsageError(f"--classes {args.k}: {dataset} needs at least 2 classes to learn anything")
    else:
        args.k = CLASSES[dataset]
        if args.classes is not None:
            has = "has no classes" if args.k is None else f"always has {args.k} classes"
            raise UsageError(f"--classes applies to spiral and blobs only; {dataset} {has}")
    args.loss, args.n_out = _loss_and_outputs(dataset, args.k, args.loss)
    if args.samples > MAX_SAMPLES:
        raise UsageError(f"--samples {args.samples}: at most {MAX_SAMPLES:,} points (a scalar engine trains on a few thousand)")
    sizes = [FEATURES.get(dataset, 2), *args.layers, args.n_out]
    count = sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise UsageError(
            f"--layers {','.join(map(str, args.layers))}: a model of {count:,} parameters; at most {MAX_PARAMETERS:,} "
            "(a scalar engine makes one graph node per multiply, so one step would take minutes and gigabytes)"
        )
    if args.lr is None:  # plain SGD at 1.0 on mse's gradient 2*(out - target) leaves every relu dead
        args.lr = 0.1 if (args.optimizer, args.loss) == ("sgd", "mse") else DEFAULT_LR[args.optimizer]
    return args


def _loss_and_outputs(dataset, k, loss):
    """(loss name, number of model outputs) for ``k`` classes (None: regression targets)."""
    if k is None:
        if loss not in ("auto", "mse"):
            raise UsageError(f"--loss {loss} needs class labels, but {dataset} has real-valued targets; use --loss mse")
        return "mse", 1
    if loss == "auto":
        loss = "hinge" if k == 2 else "cross_entropy"
    if loss in ("hinge", "bce") and k > 2:
        raise UsageError(f"--loss {loss} separates two classes, but {dataset} has {k}; use --loss cross_entropy or mse")
    if loss == "cross_entropy":
        return loss, k  # one logit per class, also for two
    if loss == "mse":
        return loss, 1 if k == 2 else k  # a 0/1 target, or one-hot targets on k outputs
    return {"hinge": "hinge", "bce": "binary_cross_entropy"}[loss], 1


def _loss_function(name, n_out):
    """The loss ``fit`` minimises: the named one, or mse on one-hot targets for class labels."""
    from nn import losses

    if name != "mse" or n_out == 1:
        return name

    def mse_one_hot(outputs, labels):
        return losses.mse(outputs, [[float(i == label) for i in range(n_out)] for label in labels])

    return mse_one_hot


def _check_out(folder):
    """Create the output folder and make sure files can be written in it, before any training."""
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise OSError(f"--out {folder!r} is a file, not a folder; choose a folder with --out")
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        raise OSError(f"cannot write into the output folder {folder!r} ({reason}); choose another with --out") from None


def _load_data(args):
    from nn import data

    if args.dataset == "digits":
        return data.digits()
    kwargs = {"n": args.samples, "seed": args.seed}
    if args.noise is not None:
        kwargs["noise"] = args.noise
    if args.dataset in ("spiral", "blobs"):
        kwargs["k"] = args.k
    return data.make(args.dataset, **kwargs)


def _schedule(args, steps):
    from nn import schedules

    lr = args.lr
    if args.schedule == "linear":
        return schedules.linear(lr, lr / 10, steps)
    if args.schedule == "cosine":
        return schedules.cosine(lr, steps)
    if args.schedule == "step":
        return schedules.step(lr, max(1, steps // 5), 0.5)
    return schedules.constant(lr)


def run(args, stdout=None):
    """Train as ``args`` (parsed by `parser`) say; returns ``(model, history)``."""
    import nn
    from nn import data as datasets
    from nn.train import _task, fit

    stdout = sys.stdout if stdout is None else stdout
    args = resolve(args)
    _check_out(args.out)
    X, y = _load_data(args)
    if args.val_split > 0:
        X_train, X_val, y_train, y_val = datasets.train_test_split(X, y, test_size=args.val_split, seed=args.seed)
        validation = (X_val, y_val)
    else:
        X_train, y_train, validation = X, y, None
    loss = _loss_function(args.loss, args.n_out)
    model = nn.MLP(len(X[0]), [*args.layers, args.n_out], activation=args.activation, init=args.init, seed=args.seed)
    threshold = _task(model, X_train, y_train, loss)[1]  # the class rule of fit's accuracy, for the picture too
    batch = len(X_train) if args.batch_size is None else min(args.batch_size, len(X_train))
    steps = args.epochs * -(-len(X_train) // batch)
    schedule = _schedule(args, steps)
    if args.optimizer == "momentum":
        optimizer = nn.SGD(model, lr=schedule, momentum=0.9)
    else:
        optimizer = nn.optim.OPTIMIZERS[args.optimizer](model, lr=schedule)

    print(
        f"{args.dataset}: {len(X)} points with {len(X[0])} features"
        + (f", {args.k} classes" if args.k is not None else "")
        + f" ({len(X_train)} to train, {len(X) - len(X_train)} to validate)",
        file=stdout,
    )
    print(f"model: MLP({model.extra_repr()}), {model.num_parameters()} parameters", file=stdout)
    steps_per_epoch = -(-len(X_train) // batch)
    print(
        f"training: {args.loss} loss{' on one-hot targets' if callable(loss) else ''} + {args.l2:g} L2, "
        f"{args.optimizer} with lr {schedule!r}, "
        f"{args.epochs} epochs of {steps_per_epoch} step{'s' if steps_per_epoch != 1 else ''} (batch {batch})",
        file=stdout,
    )
    start = time.perf_counter()
    history = fit(
        model,
        (X_train, y_train),
        loss=loss,
        optimizer=optimizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        validation=validation,
        l2=args.l2,
        early_stopping=args.patience,
        seed=args.seed,
        progress=False if args.no_progress else None,
        compiled=False if args.no_compile else None,
    )
    seconds = time.perf_counter() - start
    summary = f"after {history.epochs} epochs ({seconds:.1f} s): train loss {history.train_loss[-1]:.4f}"
    if history.train_accuracy[-1] is not None:
        summary += f", train accuracy {100 * history.train_accuracy[-1]:.1f}%"
    if history.val_loss:
        summary += f", validation loss {history.val_loss[-1]:.4f}"
        if history.val_accuracy[-1] is not None:
            summary += f", validation accuracy {100 * history.val_accuracy[-1]:.1f}%"
    if history.stopped_early:
        summary += f" (stopped early; weights of epoch {history.best_epoch})"
    print(summary, file=stdout)

    written = [os.path.join(args.out, "model.json")]
    model.save(written[0])
    if not args.no_plots:
        written += _plots(args, model, history, (X_train, y_train), validation, threshold)
    print("wrote " + ", ".join(written), file=stdout)
    return model, history


def _plots(args, model, history, train, validation, threshold):
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, no window
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"{_prog()}: no plots: matplotlib is not installed (pip install chainrule[notebook])", file=sys.stderr)
        return []
    written = []
    fig, ax = plt.subplots(figsize=(6, 3.5))
    history.plot(ax)
    ax.set_title(f"{args.dataset}: loss per epoch")
    fig.tight_layout()
    path = os.path.join(args.out, "loss.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)
    X, y = train
    if len(X[0]) == 2 and args.k is not None:
        path = os.path.join(args.out, "decision_boundary.png")
        _boundary(plt, _classifier(model, threshold), train, validation, args.k, args.dataset, path)
        written.append(path)
    elif len(X[0]) == 1 and args.k is None:
        path = os.path.join(args.out, "fit.png")
        _curve(plt, model, train, validation, args.dataset, path)
        written.append(path)
    return written


def _classifier(model, threshold):
    """``x -> class index`` by the rule the reported accuracy uses (`nn.train.classify`)."""
    from nn.train import classify

    f = model.float_function()  # plain floats: thousands of points in a blink
    return lambda x: classify(f(x), threshold)


def _boundary(plt, classify, train, validation, k, title, path, steps=120):
    X, y = train
    points = X + (validation[0] if validation else [])
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    pad_x, pad_y = 0.1 * (max(xs) - min(xs)) + 0.1, 0.1 * (max(ys) - min(ys)) + 0.1
    x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y
    gx = [x0 + (x1 - x0) * i / (steps - 1) for i in range(steps)]
    gy = [y0 + (y1 - y0) * j / (steps - 1) for j in range(steps)]
    grid = [[classify([a, b]) for a in gx] for b in gy]
    cmap = plt.get_cmap("coolwarm" if k == 2 else "tab10")
    fig, ax = plt.subplots(figsize=(5, 4.5))
    levels = [i - 0.5 for i in range(k + 1)]
    ax.contourf(gx, gy, grid, levels=levels, cmap=cmap, alpha=0.3, vmin=0, vmax=k - 1)
    # labels are 0..k-1, the class indices the grid holds, so they share the colours
    ax.scatter(xs[: len(X)], ys[: len(X)], c=y, cmap=cmap, vmin=0, vmax=k - 1, s=18, edgecolors="k", linewidths=0.4, label="train")
    if validation:
        ax.scatter(xs[len(X) :], ys[len(X) :], c=validation[1], cmap=cmap, vmin=0, vmax=k - 1, s=30, marker="^", edgecolors="k", linewidths=0.6, label="validation")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_title(f"{title}: decision boundary")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _curve(plt, model, train, validation, title, path):
    X, y = train
    xs = sorted(x[0] for x in X + (validation[0] if validation else []))
    grid = [xs[0] + (xs[-1] - xs[0]) * i / 199 for i in range(200)]
    f = model.float_function()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.scatter([x[0] for x in X], y, s=12, label="train")
    if validation:
        ax.scatter([x[0] for x in validation[0]], validation[1], s=20, marker="^", label="validation")
    ax.plot(grid, [f([g]) for g in grid], color="k", label="model")
    ax.set_title(f"{title}: the fitted curve")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _warn(message, category, filename, lineno, file=None, line=None):
    print(f"{_prog()}: warning: {message}", file=sys.stderr)


def main(argv=None):
    """Entry point of ``python -m nn`` and the ``chainrule`` command; returns the exit status."""
    p = parser()
    args = p.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warn  # one line, like the errors
            run(args)
    except UsageError as error:
        p.error(str(error))  # exits with status 2, as for any other bad argument
    except BrokenPipeError:  # the reader went away (e.g. piped into head): nothing left to say
        sys.stdout = open(os.devnull, "w")
        return 0
    except KeyboardInterrupt:
        print(f"{_prog()}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, ImportError, OSError, FloatingPointError, OverflowError) as error:
        print(f"{_prog()}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
