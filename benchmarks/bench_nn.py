"""The classic moons training step: chainrule's nn against micrograd and PyTorch scalar tensors,
on the graph and compiled, and the floor of plain floats; then the digits runs.

One step = forward over 100 points through MLP(2, [16, 16, 1]) (relu), hinge loss + 1e-4 L2,
backward, SGD update: about 38,700 nodes on the graph. Every engine starts from the same weights, so
their losses must agree to 1e-9 at every step. ``nn.fit`` is timed over whole runs of 100 steps
(epochs of one full batch), recording, compiling and the History's measurements included, on the
graph path (``compiled=False``) and compiled (the default); the floor is the same network written
by hand on plain floats (forward, backward, update). Also: the Python memory a step allocates
(tracemalloc), the float path (`predict`) against the graph path, and the digits: lesson 13's
training and ``python -m nn --dataset digits``, on the graph and compiled. Each engine runs in its
own subprocess with the garbage collector at its default settings; rounds alternate the engines so
a busy machine slows them alike.

    python benchmarks/bench_nn.py            # the full run (several minutes)
    python benchmarks/bench_nn.py --quick    # a smoke run
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SIZES = [2, 16, 16, 1]
ALPHA = 1e-4
RUN = 100  # steps in a timed run of nn.fit and of the floor
ENGINES = ("chainrule", "fit-graph", "fit-compiled", "floor", "micrograd", "torch")
LABELS = {
    "chainrule": "chainrule nn, the lecture's loop on the graph (hand-written step)",
    "fit-graph": "chainrule nn.fit on the graph (compiled=False)",
    "fit-compiled": "chainrule nn.fit compiled (the default)",
    "floor": "the floor: plain floats, forward and backward written by hand",
    "micrograd": "micrograd {version}",
    "torch": "PyTorch {version} scalar tensors",
}
WHOLE_RUNS = ("fit-graph", "fit-compiled", "floor")  # timed over RUN steps, everything included


def dataset():
    from nn import data

    X, y = data.moons(100, noise=0.1, seed=1)
    return X, [1 if t > 0 else -1 for t in y]


def weights():
    """Per layer, per neuron: (weights, bias), the same for every engine."""
    rng = random.Random(1337)
    layers = []
    for nin, nout in zip(SIZES, SIZES[1:]):
        layers.append([([rng.uniform(-1, 1) for _ in range(nin)], rng.uniform(-0.1, 0.1)) for _ in range(nout)])
    return layers


def lr(k):
    return 1.0 - 0.9 * k / 100


# ---- one step per engine ---------------------------------------------------------------------------
def chainrule_model():
    from nn import MLP

    model = MLP(2, SIZES[1:], activation="relu")
    for layer, spec in zip(model.layers, weights()):
        for neuron, (w, b) in zip(layer.neurons, spec):
            for p, value in zip(neuron.w, w):
                p.data = value
            neuron.b.data = b
    return model


def chainrule_steps(steps):
    from autograd import topological_order
    from nn import SGD, losses

    X, y = dataset()
    model = chainrule_model()
    opt = SGD(model, lr=lr)
    times, loss_values, nodes = [], [], 0
    for k in range(steps):
        start = time.perf_counter()
        scores = [model(x) for x in X]
        total = losses.hinge(scores, y) + losses.l2(model, ALPHA)
        opt.zero_grad()
        total.backward()
        opt.step()
        loss_values.append(total.data)
        if k == 0:
            counting = time.perf_counter()
            nodes = len(topological_order(total))
            start += time.perf_counter() - counting  # counting is not part of the step
        del scores, total  # freeing the graph is part of a step
        times.append(time.perf_counter() - start)
    return times, loss_values, nodes


def fit_run(compiled):
    """One nn.fit run of RUN steps: (seconds per step, the History's train losses)."""
    from nn import SGD, fit

    X, y = dataset()
    model = chainrule_model()
    start = time.perf_counter()
    history = fit(model, (X, y), loss="hinge", l2=ALPHA, epochs=RUN, optimizer=SGD(model, lr=lr),
                  progress=False, compiled=compiled)
    seconds = time.perf_counter() - start
    return [seconds / RUN], history.train_loss


def floor_run():
    """The same training on plain floats, forward and backward written by hand: the floor."""
    from operator import mul

    X, y = dataset()
    Ws = [[list(w) for w, _ in layer] for layer in weights()]
    Bs = [[b for _, b in layer] for layer in weights()]
    n = len(X)
    loss_values = []
    start = time.perf_counter()
    for k in range(RUN):
        gWs = [[[0.0] * len(w) for w in W] for W in Ws]
        gBs = [[0.0] * len(B) for B in Bs]
        total = 0.0
        for x, t in zip(X, y):
            # forward: relu hidden layers, a linear output, the hinge loss
            acts, zs = [x], []
            for W, B in zip(Ws[:-1], Bs[:-1]):
                z = [b + sum(map(mul, w, acts[-1])) for w, b in zip(W, B)]
                zs.append(z)
                acts.append([v if v > 0.0 else 0.0 for v in z])
            out = Bs[-1][0] + sum(map(mul, Ws[-1][0], acts[-1]))
            margin = 1.0 - t * out
            if margin <= 0.0:
                continue  # no loss, no gradient
            total += margin
            # backward: d(loss)/d(out) = -t / n, then layer by layer
            g = [-t / n]
            for layer in range(len(Ws) - 1, -1, -1):
                a, W, gW, gB = acts[layer], Ws[layer], gWs[layer], gBs[layer]
                below = [0.0] * len(a)
                for j, gj in enumerate(g):
                    if gj == 0.0:
                        continue
                    gB[j] += gj
                    row, grow = W[j], gW[j]
                    for i, ai in enumerate(a):
                        grow[i] += gj * ai
                        below[i] += gj * row[i]
                if layer:
                    g = [gi if z > 0.0 else 0.0 for gi, z in zip(below, zs[layer - 1])]
        penalty = sum(w * w for W in Ws for row in W for w in row) + sum(b * b for B in Bs for b in B)
        loss_values.append(total / n + ALPHA * penalty)
        rate = lr(k)
        for W, B, gW, gB in zip(Ws, Bs, gWs, gBs):
            for row, grow in zip(W, gW):
                for i in range(len(row)):
                    row[i] -= rate * (grow[i] + 2 * ALPHA * row[i])
            for j in range(len(B)):
                B[j] -= rate * (gB[j] + 2 * ALPHA * B[j])
    return [(time.perf_counter() - start) / RUN], loss_values


def memory():
    """Peak Python memory (tracemalloc) of one training step: on the graph, compiled, and the floor."""
    import tracemalloc

    from nn import SGD, losses
    from nn.train import train_step

    X, y = dataset()
    peaks = {}
    for compiled in (False, True):
        model = chainrule_model()
        opt = SGD(model, lr=0.01)
        for _ in range(5):  # compiled: on the graph until compiling pays, recorded, then compiled
            train_step(model, opt, losses.hinge, X, y, l2=ALPHA, compiled=compiled)
        tracemalloc.start()
        train_step(model, opt, losses.hinge, X, y, l2=ALPHA, compiled=compiled)
        peaks["compiled" if compiled else "graph"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    global RUN
    RUN, whole = 1, RUN
    floor_run()  # warm: the same lists a step makes, measured on the second run
    tracemalloc.start()
    floor_run()
    peaks["floor"] = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    RUN = whole
    return peaks


def digits_lesson(compiled):
    """Lesson 13's training run: seconds, and the History."""
    from nn import MLP, fit
    from nn.data import digits, train_test_split

    X, y = digits()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
    model = MLP(64, [16, 10], seed=0)
    start = time.perf_counter()
    history = fit(model, (X_train, y_train), loss="cross_entropy", optimizer="adam", lr=0.02, epochs=6, batch_size=32,
                  validation=(X_test, y_test), progress=False, seed=0, compiled=compiled)
    return time.perf_counter() - start, history.train_loss + history.val_loss


def digits_cli(compiled):
    """``python -m nn --dataset digits`` as a user runs it: seconds, wall clock, and its last line."""
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "nn", "--dataset", "digits", "--no-plots", "--no-progress", "--out", out]
        start = time.perf_counter()
        proc = subprocess.run(cmd + ([] if compiled else ["--no-compile"]), capture_output=True, text=True, cwd=ROOT)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1])
    lines = [line for line in proc.stdout.splitlines() if "accuracy" in line]
    return seconds, lines[-1] if lines else ""


def micrograd_steps(steps):
    from micrograd.engine import Value
    from micrograd.nn import MLP

    X, y = dataset()
    model = MLP(2, SIZES[1:])
    for layer, spec in zip(model.layers, weights()):
        for neuron, (w, b) in zip(layer.neurons, spec):
            for p, value in zip(neuron.w, w):
                p.data = value
            neuron.b.data = b
    times, loss_values = [], []
    for k in range(steps):
        start = time.perf_counter()
        inputs = [list(map(Value, row)) for row in X]
        scores = list(map(model, inputs))
        hinge = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
        data_loss = sum(hinge) * (1.0 / len(hinge))
        reg = ALPHA * sum(p * p for p in model.parameters())
        total = data_loss + reg
        model.zero_grad()
        total.backward()
        rate = lr(k)
        for p in model.parameters():
            p.data -= rate * p.grad
        loss_values.append(total.data)
        del inputs, scores, hinge, data_loss, reg, total  # its cycles wait for the collector
        times.append(time.perf_counter() - start)
    return times, loss_values, 0


def torch_steps(steps):
    import torch

    X, y = dataset()
    layers = []
    for spec in weights():
        layers.append(
            [
                ([torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in w], torch.tensor(b, dtype=torch.float64, requires_grad=True))
                for w, b in spec
            ]
        )
    params = [p for layer in layers for w, b in layer for p in (*w, b)]

    def forward(x):
        for i, layer in enumerate(layers):
            out = []
            for w, b in layer:
                act = b
                for wi, xi in zip(w, x):
                    act = act + wi * xi
                out.append(act.relu() if i < len(layers) - 1 else act)
            x = out
        return x[0]

    times, loss_values = [], []
    for k in range(steps):
        start = time.perf_counter()
        scores = [forward(x) for x in X]
        hinge = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
        total = sum(hinge) * (1.0 / len(hinge)) + ALPHA * sum(p * p for p in params)
        for p in params:
            p.grad = None
        total.backward()
        rate = lr(k)
        with torch.no_grad():
            for p in params:
                p -= rate * p.grad
        loss_values.append(total.item())
        del scores, hinge, total
        times.append(time.perf_counter() - start)
    return times, loss_values, 0


def float_path(repeats):
    """Seconds to evaluate the 100 points on the graph path and on the float path."""
    from nn import MLP

    X, _ = dataset()
    model = MLP(2, SIZES[1:], activation="relu", seed=0)
    graph, floats = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        outs = [model(x).data for x in X]
        graph.append(time.perf_counter() - start)
        start = time.perf_counter()
        fast = model.predict(X)
        floats.append(time.perf_counter() - start)
        assert outs == fast  # the same numbers, to the last bit
    return graph, floats


def worker(engine, steps):
    if engine == "floats":
        graph, floats = float_path(steps)
        return {"graph": graph, "floats": floats}
    if engine == "memory":
        return memory()
    if engine.startswith("digits-"):
        kind, path = engine.split("-")[1:]
        seconds, result = (digits_lesson if kind == "lesson" else digits_cli)(path == "compiled")
        return {"seconds": seconds, "result": result}
    nodes = 0
    if engine == "chainrule":
        times, loss_values, nodes = chainrule_steps(steps)
    elif engine in ("fit-graph", "fit-compiled"):
        times, loss_values = fit_run(None if engine == "fit-compiled" else False)
    elif engine == "floor":
        times, loss_values = floor_run()
    elif engine == "micrograd":
        times, loss_values, nodes = micrograd_steps(steps)
    else:
        times, loss_values, nodes = torch_steps(steps)
    return {"times": times, "losses": loss_values, "nodes": nodes}


# ---- the parent ----------------------------------------------------------------------------------------
def run_worker(engine, steps):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine, "--steps", str(steps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last}
    return json.loads(proc.stdout)


def version(engine):
    from importlib import metadata

    try:
        if engine == "micrograd":
            return metadata.version("micrograd")
        if engine == "torch":
            return metadata.version("torch").split("+")[0]
    except metadata.PackageNotFoundError:
        return "?"
    return ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds: a smoke run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps)))
        return

    rounds = 1 if args.quick else 3
    steps = {"chainrule": 6, "micrograd": 3, "torch": 3}
    if args.quick:
        steps = dict.fromkeys(steps, 2)
    started = time.perf_counter()
    load = [_load()]
    results = {engine: {"times": [], "losses": None} for engine in ENGINES}
    errors = {}
    for _ in range(rounds):
        for engine in ENGINES:
            out = run_worker(engine, steps.get(engine, RUN))
            if "error" in out:
                errors[engine] = out["error"]
                continue
            results[engine]["times"] += out["times"]
            results[engine]["losses"] = out["losses"]
            results[engine]["nodes"] = out.get("nodes") or results[engine].get("nodes", 0)
    floats = run_worker("floats", 5 if args.quick else 21)
    memory = run_worker("memory", 0)
    digits = {}
    for _ in range(rounds):
        for engine in ("digits-lesson-graph", "digits-lesson-compiled", "digits-cli-graph", "digits-cli-compiled"):
            out = run_worker(engine, 0)
            digits.setdefault(engine, []).append(out)
    load.append(_load())
    seconds = time.perf_counter() - started
    command = "python benchmarks/bench_nn.py" + (" --quick" if args.quick else "")
    print(report(results, errors, floats, memory, digits, command, seconds, load))


def _untimed(result):
    """A run's result without the seconds it printed (the CLI's summary line)."""
    import re

    return re.sub(r"\([0-9.]+ s\)", "", result) if isinstance(result, str) else result


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def _median(engine, results):
    times = results[engine]["times"]
    return statistics.median(times) if times else None


def _difference(a, b):
    n = min(len(a or []), len(b or []))
    return (max(abs(x - y) for x, y in zip(a[:n], b[:n])), n) if n else (float("nan"), 0)


def report(results, errors, floats, memory, digits, command, seconds, load):
    fast = _median("fit-compiled", results)
    nodes = results["chainrule"].get("nodes", 0)
    out = [
        f"Classic moons step (100 points, MLP(2, [16, 16, 1]) relu, hinge + {ALPHA:g} L2, SGD), {nodes:,} nodes on "
        f"the graph. Per step: the median over steps for the first row, micrograd and PyTorch; for nn.fit and the "
        f"floor, a whole run of {RUN} steps divided by {RUN} (recording, compiling and the History included), median "
        f"of the runs. Python {platform.python_version()}, gc at default settings.",
        "",
        "| engine | per step | time vs nn.fit compiled | largest loss difference |",
        "|---|---:|---:|---:|",
    ]
    reference = {"fit-compiled": "fit-graph", "fit-graph": "fit-compiled"}
    for engine in ENGINES:
        label = LABELS[engine].format(version=version(engine))
        if engine in errors:
            out.append(f"| {label} | not run: {errors[engine]} | | |")
            continue
        median = _median(engine, results)
        if median is None:
            continue
        against = reference.get(engine, "chainrule")
        diff, n = _difference(results[engine]["losses"], results[against]["losses"])
        versus = "nn.fit on the graph (History)" if against.startswith("fit") else "the first row"
        shown = "1.0x" if engine == "fit-compiled" else f"{median / fast:.1f}x" if fast else ""
        out.append(f"| {label} | {1000 * median:.2f} ms | {shown} | {diff:.1e} vs {versus} (over {n} steps) |")

    out += ["", "| evaluating the 100 points | median | |", "|---|---:|---:|"]
    speedup = None
    if "error" in floats:
        out.append(f"| float path | not run: {floats['error']} | |")
    else:
        graph, fast_floats = statistics.median(floats["graph"]), statistics.median(floats["floats"])
        speedup = graph / fast_floats
        out.append(f"| graph path: `[model(x) for x in X]` | {1000 * graph:.2f} ms | 1.0x |")
        out.append(f"| float path: `model.predict(X)` | {1000 * fast_floats:.2f} ms | {speedup:.0f}x faster |")

    out += ["", "| Python memory of one training step (tracemalloc peak) | bytes | per node of the step's graph |",
            "|---|---:|---:|"]
    if "error" not in memory:
        graph_nodes = nodes or 1
        for key, label in (("graph", "on the graph"), ("compiled", "compiled"), ("floor", "the floor (plain floats)")):
            out.append(f"| {label} | {memory[key]:,} | {memory[key] / graph_nodes:.2f} |")

    out += ["", "| digits (seconds for the whole run, median of the runs) | graph | compiled | faster |", "|---|---:|---:|---:|"]
    digit_ratios = {}
    for kind, what in (("lesson", "lesson 13's training (MLP(64, [16, 10]), 6 epochs of 45 steps)"),
                       ("cli", "`python -m nn --dataset digits` (the whole command)")):
        runs = {path: [r for r in digits.get(f"digits-{kind}-{path}", []) if "error" not in r] for path in ("graph", "compiled")}
        if not runs["graph"] or not runs["compiled"]:
            failed = [r["error"] for path in runs for r in digits.get(f"digits-{kind}-{path}", []) if "error" in r]
            out.append(f"| {what} | not run: {failed[:1]} | | |")
            continue
        graph = statistics.median(r["seconds"] for r in runs["graph"])
        compiled = statistics.median(r["seconds"] for r in runs["compiled"])
        digit_ratios[kind] = graph / compiled
        out.append(f"| {what} | {graph:.1f} s | {compiled:.1f} s | {graph / compiled:.1f}x |")
        if _untimed(runs["graph"][0]["result"]) != _untimed(runs["compiled"][0]["result"]):
            out.append(f"| (results differ: {runs['graph'][0]['result']} / {runs['compiled'][0]['result']}) | | | |")

    def met(ok):
        return "yes" if ok else "**no**"

    def ratio(engine):
        median = _median(engine, results)
        return median / fast if median and fast else None

    out += ["", "**Targets**", "", "| target | measured | met |", "|---|---|---|"]
    ours = _median("chainrule", results)
    for engine, target, name in (("micrograd", 15, "micrograd"), ("torch", 7, "PyTorch scalars")):
        if _median(engine, results) and ours:
            r = _median(engine, results) / ours
            out.append(f"| the lecture's loop on the graph >= {target}x faster than {name} | {r:.1f}x | {met(r >= target)} |")
    for engine, target, text in (("fit-graph", 5, "nn.fit compiled >= 5x faster than nn.fit on the graph"),
                                 ("micrograd", 100, "nn.fit compiled >= 100x faster than micrograd")):
        r = ratio(engine)
        if r:
            out.append(f"| {text} | {r:.1f}x | {met(r >= target)} |")
    r = ratio("floor")
    if r:
        out.append(f"| nn.fit compiled within 4x of the floor | {1 / r:.2f}x the floor's time | {met(1 / r <= 4)} |")
    diff, n = _difference(results["fit-compiled"]["losses"], results["fit-graph"]["losses"])
    if n:
        out.append(f"| nn.fit compiled gives the graph path's losses (to 1e-12) over {n} steps | {diff:.1e} | {met(diff <= 1e-12)} |")
    if "error" not in memory and nodes:
        per_node, versus = memory["compiled"] / nodes, memory["compiled"] / memory["floor"]
        out.append(f"| a compiled step allocates nothing per node: its peak under one float (24 bytes) per graph node, "
                   f"and within 1.5x of the floor's | {per_node:.2f} bytes per node, {versus:.2f}x the floor's | "
                   f"{met(per_node < 24 and versus <= 1.5)} |")
    for kind, text in (("lesson", "lesson 13's training >= 4x faster"), ("cli", "`python -m nn --dataset digits` >= 4x faster")):
        if kind in digit_ratios:
            out.append(f"| {text} | {digit_ratios[kind]:.1f}x | {met(digit_ratios[kind] >= 4)} |")
    if speedup is not None:
        out.append(f"| float path >= 20x faster than the graph path | {speedup:.0f}x | {met(speedup >= 20)} |")
    worst = 0.0
    for engine in ("micrograd", "torch", "floor"):
        if _median(engine, results):
            worst = max(worst, _difference(results[engine]["losses"], results["chainrule"]["losses"])[0])
    out.append(f"| identical loss to 1e-9 from identical weights | {worst:.1e} | {met(worst <= 1e-9)} |")
    out += ["", f"Command: `{command}` ({seconds:.0f} s); load average {load[0]:.2f} at the start, {load[1]:.2f} at the end."]
    return "\n".join(out)


if __name__ == "__main__":
    main()
