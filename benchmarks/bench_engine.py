"""chainrule's engine against micrograd and PyTorch scalar tensors, side by side in one run.

Measures (1) forward and backward time per node on a seeded random expression graph of 10^4, 10^5
and 10^6 nodes, (2) the deepest chain each engine survives, (3) memory per node, (4) chainrule's
compiled path on the same graph run again and again (`autograd.compiled`), and prints a markdown
table with ratios and the targets. Every measurement runs in a fresh subprocess that
imports only the engine it measures, with the garbage collector at its default settings.

    python benchmarks/bench_engine.py            # the full run (a few minutes)
    python benchmarks/bench_engine.py --quick    # a smoke run (seconds)
"""

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.dirname(HERE)]

from _engines import NAMES, load  # noqa: E402
from _graph import OP_NAMES, Plan, replay  # noqa: E402

SEED = 0
FULL = {"sizes": (10**4, 10**5, 10**6), "repeats": (7, 5, 3), "memory": 10**5, "depth": 10**6,
        "compiled": ((10**4, 100), (10**5, 20))}
QUICK = {"sizes": (10**3, 10**4), "repeats": (3, 3), "memory": 10**4, "depth": 10**4, "compiled": ((10**3, 20),)}
TARGET_GROWTH, TARGET_SPEEDUP, TARGET_BYTES = 1.3, 5.0, 250


# ---- workers: each runs in its own process and prints one JSON line ---------------------------------
def work_time(engine, size, repeats, collector=True):
    """Forward, backward and freeing ns per node on the random graph, one entry per repeat."""
    plan = Plan(size, SEED)
    forward, backward, free = [], [], []
    for _ in range(repeats):
        gc.collect()  # the previous repeat's garbage is not this repeat's cost
        if not collector:
            gc.disable()  # only for the reference line that shows the collector's share
        leaves = [engine.leaf(x) for x in plan.leaves]
        t0 = time.perf_counter_ns()
        root = replay(plan, leaves)
        t1 = time.perf_counter_ns()
        root.backward()
        t2 = time.perf_counter_ns()
        forward.append((t1 - t0) / plan.n_nodes)
        backward.append((t2 - t1) / plan.n_nodes)
        check = {"root": engine.value(root), "grads": [engine.grad(x) for x in leaves[:5]]}
        t3 = time.perf_counter_ns()
        del root, leaves
        gc.collect()  # how a graph with reference cycles (micrograd's) is reclaimed
        t4 = time.perf_counter_ns()
        gc.collect()  # the same collection with nothing to free: the process's own objects
        t5 = time.perf_counter_ns()
        free.append(max(0, (t4 - t3) - (t5 - t4)) / plan.n_nodes)
    return {"forward": forward, "backward": backward, "free": free, "check": check}


def work_depth(engine, limit):
    """The deepest chain ``relu(relu(...relu(x)))`` whose backward works, trying growing depths."""
    survived, failed, error = 0, None, None
    ladder = [d for d in (100, 300, 1000, 3000, 10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6) if d <= limit]
    for depth in ladder:
        error = _chain(engine, depth)
        if error:
            failed = depth
            break
        survived = depth
        print(json.dumps({"survived": survived}), flush=True)  # kept if the process dies later
    while failed and failed - survived > max(1, survived // 100):  # bisect to the edge
        middle = (survived + failed) // 2
        if _chain(engine, middle):
            failed = middle
        else:
            survived = middle
    return {"survived": survived, "failed": failed, "error": error}


def _chain(engine, depth):
    x = engine.leaf(0.5)
    y = x
    try:
        for _ in range(depth):
            y = y.relu()
        y.backward()
        if engine.grad(x) != 1.0:
            return f"wrong gradient {engine.grad(x)!r}"
    except (RecursionError, MemoryError) as exc:
        return type(exc).__name__
    finally:
        del y
        gc.collect()
    return None


def work_memory(engine, size):
    """Bytes per node held by the graph after forward and backward: RSS growth and tracemalloc."""
    plan = Plan(size, SEED)
    gc.collect()
    rss = _rss()
    leaves = [engine.leaf(x) for x in plan.leaves]
    root = replay(plan, leaves)
    root.backward()
    gc.collect()
    rss = (_rss() - rss) / plan.n_nodes
    del root, leaves
    gc.collect()
    traced = None
    if engine.name != "torch":  # torch allocates outside Python's allocator, out of tracemalloc's sight
        tracemalloc.start()
        leaves = [engine.leaf(x) for x in plan.leaves]
        root = replay(plan, leaves)
        root.backward()
        gc.collect()
        traced = tracemalloc.get_traced_memory()[0] / plan.n_nodes
        tracemalloc.stop()
    return {"rss": rss, "traced": traced}


def work_compiled(size, runs):
    """chainrule's compiled path on the random graph: ``runs`` calls of the compiled function (value
    and the leaves' gradients) with the same leaves; ns per node per call over the whole run
    (recording and compiling included) and for the calls after compiling alone."""
    from autograd import compiled

    plan = Plan(size, SEED)
    f = compiled(lambda xs: replay(plan, xs))
    times = []
    start = time.perf_counter_ns()
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        value, (grads,) = f.value_and_grad(list(plan.leaves))
        times.append(time.perf_counter_ns() - t0)
    whole = time.perf_counter_ns() - start
    steady = times[f.traces:]  # the calls that ran compiled code
    return {"whole": whole / runs / plan.n_nodes, "compiled": statistics.median(steady) / plan.n_nodes if steady else None,
            "recorded": f.traces, "check": {"root": value, "grads": grads[:5]}}


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def worker(args):
    engine = load(args.engine)
    if args.worker == "time":
        result = work_time(engine, args.size, args.repeats, collector=not args.no_gc)
    elif args.worker == "depth":
        result = work_depth(engine, args.size)
    elif args.worker == "compiled":
        result = work_compiled(args.size, args.repeats)
    else:
        result = work_memory(engine, args.size)
    result["label"] = engine.label
    print(json.dumps(result), flush=True)


# ---- the parent: run the workers, print the tables ----------------------------------------------------
def run(kind, engine, size, *extra):
    cmd = [sys.executable, __file__, "--worker", kind, "--engine", engine, "--size", str(size), *extra]
    print(f"  {kind:6} {engine:9} {size:>9,} {' '.join(extra)}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode == 0 and lines:
        return lines[-1]
    if kind == "depth" and proc.returncode < 0:  # killed by a signal: report how deep it got
        survived = lines[-1]["survived"] if lines else 0
        return {"survived": survived, "failed": None, "error": f"crashed (signal {-proc.returncode})"}
    reason = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
    return {"error": reason}


def measure_times(cfg):
    """Each repeat in a fresh process, the engines taking turns, so a load that comes and goes on a
    shared machine falls on all of them alike. Also times chainrule with the collector off at the
    smallest and largest size: a reference line only, to show the collector's share."""
    timing = {}
    small, big = cfg["sizes"][0], cfg["sizes"][-1]
    for n, repeats in zip(cfg["sizes"], cfg["repeats"]):
        for _ in range(repeats):
            runs = [(e, ()) for e in NAMES] + ([("chainrule", ("--no-gc",))] if n in (small, big) else [])
            for e, extra in runs:
                key = (e + "".join(extra), n)
                r = run("time", e, n, *extra)
                if "error" in r:
                    timing[key] = r
                elif "error" not in timing.get(key, {}):
                    t = timing.setdefault(key, {"forward": [], "backward": [], "free": [], "label": r["label"]})
                    for part in ("forward", "backward", "free"):
                        t[part] += r[part]
                    t["check"] = r["check"]
    return timing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats: a smoke run")
    parser.add_argument("--worker", choices=("time", "depth", "memory", "compiled"), help=argparse.SUPPRESS)
    parser.add_argument("--engine", choices=NAMES, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--no-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)

    cfg = QUICK if args.quick else FULL
    started = time.time()
    timing = measure_times(cfg)
    depth = {e: run("depth", e, cfg["depth"]) for e in NAMES}
    memory = {e: run("memory", e, cfg["memory"]) for e in NAMES}
    compiled = {n: run("compiled", "chainrule", n, "--repeats", str(runs)) for n, runs in cfg["compiled"]}
    labels = {e: next((v["label"] for (k, _), v in timing.items() if k == e and "label" in v), e) for e in NAMES}
    command = "python benchmarks/bench_engine.py" + (" --quick" if args.quick else "")
    print(report(cfg, timing, depth, memory, labels, command, time.time() - started, compiled))


def report(cfg, timing, depth, memory, labels, command, seconds, compiled=None):
    sizes = cfg["sizes"]
    plan = Plan(sizes[0], SEED)
    total = sum(plan.op_counts.values())
    mix = ", ".join(f"{OP_NAMES[op]} {100 * k / total:.0f}%" for op, k in plan.op_counts.items())
    out = [
        f"`{command}` on {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores ({platform.machine()}), {time.strftime('%Y-%m-%d')}, {seconds:.0f} s.",
        "",
        f"**(1) Random expression graph** (seed {SEED}; {plan.depth} levels deep at {sizes[0]:,} nodes; "
        f"ops {mix}, then a tree of + to one root). ns per node, median of the repeats, each repeat "
        "a fresh process; \"ours faster\" = peer's fwd+bwd / ours; \"free\" = dropping the graph "
        "afterwards: `del` and a `gc.collect()`, less the same collection with nothing to free (not a target).",
        "",
        "| nodes | engine | repeats | forward | backward | fwd+bwd | ours faster | free |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    ours_total, speedups = {}, {e: [] for e in NAMES[1:]}
    for n, repeats in zip(sizes, cfg["repeats"]):
        for e in NAMES:
            r = timing[e, n]
            if "error" in r:
                out.append(f"| {n:,} | {labels[e]} | – | – | – | – | not run: {r['error']} | – |")
                continue
            f, b = statistics.median(r["forward"]), statistics.median(r["backward"])
            t = statistics.median([x + y for x, y in zip(r["forward"], r["backward"])])
            if e == NAMES[0]:
                ours_total[n], ratio = t, "–"
            elif n in ours_total:
                speedups[e].append(t / ours_total[n])
                ratio = f"{t / ours_total[n]:.1f}×"
            else:
                ratio = "–"
            free = statistics.median(r["free"])
            out.append(
                f"| {n:,} | {labels[e]} | {len(r['forward'])} | {f:,.0f} | {b:,.0f} | {t:,.0f} | {ratio} | {free:,.0f} |"
            )
    out += ["", agreement(timing, sizes), ""]
    note = collector_note(timing, sizes)
    out += [note, ""] if note else []

    out += [
        "**(2) Deepest chain** `relu(relu(...relu(x)))` whose backward works, at default settings "
        f"(tried up to {cfg['depth']:,}).",
        "",
        "| engine | survives | fails at |",
        "|---|---:|---|",
    ]
    for e in NAMES:
        d = depth[e]
        if "survived" not in d:
            out.append(f"| {labels[e]} | – | not run: {d['error']} |")
            continue
        fails = f"{d['failed']:,} ({d['error']})" if d["failed"] else (d["error"] or "no failure")
        out.append(f"| {labels[e]} | {d['survived']:,} | {fails} |")

    out += [
        "",
        f"**(3) Memory per node**, graph of {cfg['memory']:,} nodes held after forward and backward "
        "(Python heap by tracemalloc; RSS growth of the process).",
        "",
        "| engine | tracemalloc B/node | RSS B/node |",
        "|---|---:|---:|",
    ]
    for e in NAMES:
        m = memory[e]
        if "error" in m:
            out.append(f"| {labels[e]} | not run: {m['error']} | |")
            continue
        traced = f"{m['traced']:,.0f}" if m["traced"] is not None else "(not visible)"
        out.append(f"| {labels[e]} | {traced} | {m['rss']:,.0f} |")

    if compiled:
        out += [
            "",
            "**(4) The same graph, compiled** (`autograd.compiled`, chainrule only): the random graph as a function of "
            "its leaves, called again and again (its value and the leaves' gradients); ns per node per call, over "
            "the whole run (the first calls recorded on the graph, compiling included) and for the compiled calls "
            "alone, against chainrule's fwd+bwd from (1).",
            "",
            "| nodes | calls | whole run | compiled calls | graph fwd+bwd | compiled faster (whole run) |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for (n, calls) in cfg["compiled"]:
            c = compiled[n]
            if "error" in c:
                out.append(f"| {n:,} | {calls} | not run: {c['error']} | | | |")
                continue
            graph = ours_total.get(n)
            ratio = f"{graph / c['whole']:.1f}×" if graph else "–"
            out.append(f"| {n:,} | {calls} | {c['whole']:,.0f} | {c['compiled']:,.0f} | "
                       f"{f'{graph:,.0f}' if graph else '–'} | {ratio} |")
            check = timing.get(("chainrule", n), {}).get("check")
            if check:
                pairs = [(check["root"], c["check"]["root"]), *zip(check["grads"], c["check"]["grads"])]
                gap = max(abs(a - b) / max(abs(a), abs(b), 1e-300) for a, b in pairs)
                out.append(f"| | | (same root and gradients as the graph: worst relative gap {gap:.1e}) | | | |")

    out += ["", "**Targets**", "", "| target | measured | met |", "|---|---|---|"]
    small, big = sizes[0], sizes[-1]
    if small in ours_total and big in ours_total:
        growth = ours_total[big] / ours_total[small]
        out.append(
            f"| per-node cost at {big:,} ≤ {TARGET_GROWTH}× the cost at {small:,} | {growth:.2f}× "
            f"| {_met(growth <= TARGET_GROWTH)} |"
        )
    for e in NAMES[1:]:
        s = speedups[e]
        if not s:
            out.append(f"| fwd+bwd ≥ {TARGET_SPEEDUP:.0f}× faster than {labels[e]} at every size | not run | – |")
        else:
            shown = " / ".join(f"{x:.1f}×" for x in s)
            capped = "" if len(s) == len(sizes) else f" (sizes run: {len(s)} of {len(sizes)})"
            out.append(
                f"| fwd+bwd ≥ {TARGET_SPEEDUP:.0f}× faster than {labels[e]} at every size | {shown}{capped} "
                f"| {_met(min(s) >= TARGET_SPEEDUP)} |"
            )
    m = memory[NAMES[0]]
    if "error" not in m:
        worst = max(x for x in (m["traced"], m["rss"]) if x is not None)
        out.append(f"| ≤ {TARGET_BYTES} bytes per node | {worst:,.0f} | {_met(worst <= TARGET_BYTES)} |")
    return "\n".join(out)


def agreement(timing, sizes):
    """A line saying whether the engines computed the same root and leaf gradients."""
    worst = 0.0
    for n in sizes:
        checks = [timing[e, n]["check"] for e in NAMES if "check" in timing[e, n]]
        for c in checks[1:]:
            pairs = [(checks[0]["root"], c["root"]), *zip(checks[0]["grads"], c["grads"])]
            worst = max(worst, *(abs(a - b) / max(abs(a), abs(b), 1e-300) for a, b in pairs))
    verdict = "agree" if worst < 1e-9 else "DISAGREE"
    ran = sum(1 for e in NAMES if "check" in timing[e, sizes[0]])
    who = "All engines" if ran == len(NAMES) else "The engines that ran"
    return f"{who} {verdict} on the root value and the first leaves' gradients (worst relative gap {worst:.1e})."


def collector_note(timing, sizes):
    """What chainrule costs with the collector off: how much of the growth is the collector's."""
    small, big = (timing.get(("chainrule--no-gc", n), {}) for n in (sizes[0], sizes[-1]))
    if "forward" not in small or "forward" not in big:
        return ""
    a, b = (statistics.median([x + y for x, y in zip(t["forward"], t["backward"])]) for t in (small, big))
    return (
        f"Reference only, not a target: chainrule with the collector off (`gc.disable()` in the timed "
        f"process) costs {a:,.0f} ns/node at {sizes[0]:,} and {b:,.0f} at {sizes[-1]:,} nodes "
        f"({b / a:.2f}×). The rest of the growth above is CPython's cyclic collector rescanning the live "
        "graph, which the engine can make smaller (fewer container objects per node) but not avoid."
    )


def _met(ok):
    return "yes" if ok else "**no**"


if __name__ == "__main__":
    main()
