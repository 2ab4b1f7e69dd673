"""The classic moons training step: chainrule's nn against micrograd and PyTorch scalar tensors.

One step = forward over 100 points through MLP(2, [16, 16, 1]) (relu), hinge loss + 1e-4 L2,
backward, SGD update: about 65,000 nodes. Every engine starts from the same weights, so their
losses must agree to 1e-9 at every step. Also measures the float path (`predict`) against the graph
path on the same model. Each engine runs in its own subprocess with the garbage collector at its
default settings; rounds alternate the engines so a busy machine slows them alike.

    python benchmarks/bench_nn.py            # the full run (about a minute)
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
ENGINES = ("chainrule", "chainrule-fit", "micrograd", "torch")
LABELS = {
    "chainrule": "chainrule nn (hand-written step)",
    "chainrule-fit": "chainrule nn.fit (one epoch = one step; pauses the cyclic gc during a step)",
    "micrograd": "micrograd {version}",
    "torch": "PyTorch {version} scalar tensors",
}


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
def chainrule_steps(steps, use_fit=False):
    from autograd import topological_order
    from nn import MLP, SGD, fit, losses

    X, y = dataset()
    model = MLP(2, SIZES[1:], activation="relu")
    for layer, spec in zip(model.layers, weights()):
        for neuron, (w, b) in zip(layer.neurons, spec):
            for p, value in zip(neuron.w, w):
                p.data = value
            neuron.b.data = b
    opt = SGD(model, lr=lr)
    times, loss_values, nodes = [], [], 0
    for k in range(steps):
        if use_fit:
            # the loss fit reports is measured after its step; take the loss before it by hand
            before = losses.hinge(model.predict(X), y) + _l2_float(model)
            start = time.perf_counter()
            fit(model, (X, y), loss="hinge", optimizer=opt, epochs=1, l2=ALPHA, progress=False)
            times.append(time.perf_counter() - start)
            loss_values.append(before)
            continue
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


def _l2_float(model):
    return ALPHA * sum(p.data * p.data for p in model.parameters())


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
    if engine == "chainrule":
        times, loss_values, nodes = chainrule_steps(steps)
    elif engine == "chainrule-fit":
        times, loss_values, nodes = chainrule_steps(steps, use_fit=True)
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
    parser.add_argument("--worker", choices=(*ENGINES, "floats"), help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps)))
        return

    rounds = 1 if args.quick else 3
    steps = {"chainrule": 6, "chainrule-fit": 6, "micrograd": 3, "torch": 3}
    if args.quick:
        steps = dict.fromkeys(steps, 2)
    started = time.perf_counter()
    results = {engine: {"times": [], "losses": None} for engine in ENGINES}
    errors = {}
    for _ in range(rounds):
        for engine in ENGINES:
            out = run_worker(engine, steps[engine])
            if "error" in out:
                errors[engine] = out["error"]
                continue
            results[engine]["times"] += out["times"]
            results[engine]["losses"] = out["losses"]
            results[engine]["nodes"] = out.get("nodes") or results[engine].get("nodes", 0)
    floats = run_worker("floats", 5 if args.quick else 21)
    seconds = time.perf_counter() - started
    print(report(results, errors, floats, "python benchmarks/bench_nn.py" + (" --quick" if args.quick else ""), seconds))


def report(results, errors, floats, command, seconds):
    ours = statistics.median(results["chainrule"]["times"]) if results["chainrule"]["times"] else None
    reference = results["chainrule"]["losses"] or []
    out = [
        f"Classic moons step (100 points, MLP(2, [16, 16, 1]) relu, hinge + {ALPHA:g} L2, SGD), "
        f"{results['chainrule'].get('nodes', 0):,} nodes; median of {len(results['chainrule']['times'])} steps "
        f"for chainrule. Python {platform.python_version()}, gc at default settings.",
        "",
        "| engine | median per step | time vs chainrule | largest loss difference vs chainrule |",
        "|---|---:|---:|---:|",
    ]
    ratios = {}
    for engine in ENGINES:
        label = LABELS[engine].format(version=version(engine))
        if engine in errors:
            out.append(f"| {label} | not run: {errors[engine]} | | |")
            continue
        times = results[engine]["times"]
        median = statistics.median(times)
        losses = results[engine]["losses"]
        n = min(len(losses), len(reference))
        diff = max(abs(a - b) for a, b in zip(losses[:n], reference[:n])) if n else float("nan")
        ratio = median / ours if ours else float("nan")
        ratios[engine] = ratio
        shown = "1.0x" if engine == "chainrule" else f"{ratio:.1f}x"
        out.append(f"| {label} | {1000 * median:.1f} ms | {shown} | {diff:.1e} (over {n} steps) |")
    out += ["", "| evaluating the 100 points | median | |", "|---|---:|---:|"]
    if "error" in floats:
        out.append(f"| float path | not run: {floats['error']} | |")
        speedup = None
    else:
        graph, fast = statistics.median(floats["graph"]), statistics.median(floats["floats"])
        speedup = graph / fast
        out.append(f"| graph path: `[model(x) for x in X]` | {1000 * graph:.2f} ms | 1.0x |")
        out.append(f"| float path: `model.predict(X)` | {1000 * fast:.2f} ms | {speedup:.0f}x faster |")

    def met(ok):
        return "yes" if ok else "**no**"

    out += ["", "**Targets**", "", "| target | measured | met |", "|---|---|---|"]
    fit_median = statistics.median(results["chainrule-fit"]["times"]) if results["chainrule-fit"]["times"] else None
    for engine, target, name in (("micrograd", 15, "micrograd"), ("torch", 7, "PyTorch scalars")):
        if engine not in ratios:
            continue
        ratio = ratios[engine]
        out.append(f"| >= {target}x faster than {name} (hand-written step) | {ratio:.1f}x | {met(ratio >= target)} |")
        if fit_median:
            ratio = statistics.median(results[engine]["times"]) / fit_median
            out.append(f"| >= {target}x faster than {name} (`nn.fit` step) | {ratio:.1f}x | {met(ratio >= target)} |")
    if speedup is not None:
        out.append(f"| float path >= 20x faster than the graph path | {speedup:.0f}x | {met(speedup >= 20)} |")
    worst = 0.0
    for engine in ("micrograd", "torch"):
        if engine in ratios:
            losses = results[engine]["losses"]
            n = min(len(losses), len(reference))
            worst = max([worst] + [abs(a - b) for a, b in zip(losses[:n], reference[:n])])
    out.append(f"| identical loss to 1e-9 from identical weights | {worst:.1e} | {met(worst <= 1e-9)} |")
    out += ["", f"Command: `{command}` ({seconds:.0f} s)."]
    return "\n".join(out)


if __name__ == "__main__":
    main()
