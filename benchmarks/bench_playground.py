"""The playground's sustained speed: training steps per second including the throttled redraws.

The default setup: moons (200 points, 30% held out), MLP(2, [16, 16, 1]) tanh, BCE, Adam, batch 10,
every view (decision boundary 40x40, network with 35 neuron heatmaps 14x14, loss/accuracy curves,
gradient health) redrawn and encoded as PNG every ``redraw_every`` steps, headless (Agg). Each
repeat builds a fresh playground and times ``run(steps)``; medians are reported beside the
training alone and the cost of one full redraw. Target: >= 20 steps/s at the default redraw_every=10.

    python benchmarks/bench_playground.py            # about a minute
    python benchmarks/bench_playground.py --quick    # a smoke run
"""

import argparse
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET = 20.0


def steps_per_second(redraw_every, steps):
    from nn.playground import Playground

    pg = Playground(redraw_every=redraw_every)
    start = time.perf_counter()
    pg.run(steps)
    return steps / (time.perf_counter() - start)


def training_only(steps):
    from nn.playground import Trainer

    t = Trainer()
    start = time.perf_counter()
    t.run(steps)
    return steps / (time.perf_counter() - start)


def redraw_ms(repeats):
    from nn.playground import Playground

    pg = Playground()
    pg.run(20)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pg.draw()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer steps and repeats")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    repeats, steps = (2, 40) if args.quick else (5, 200)
    began = time.perf_counter()
    rows = []
    for label, fn in (
        ("training only (Trainer.run, no drawing)", lambda: training_only(steps)),
        ("playground, redraw every 5 steps", lambda: steps_per_second(5, steps)),
        ("playground, redraw every 10 steps (default)", lambda: steps_per_second(10, steps)),
        ("playground, redraw every 20 steps", lambda: steps_per_second(20, steps)),
    ):
        rates = [fn() for _ in range(repeats)]
        rows.append((label, statistics.median(rates), min(rates), max(rates)))
    draw = redraw_ms(repeats * 2)
    print("chainrule playground benchmark: moons 200 (30% test), MLP(2, [16, 16, 1]) tanh, BCE, Adam, batch 10")
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
          f"{repeats} repeats of {steps} steps each, Agg")
    print(f"{'setup':48} {'median steps/s':>15} {'min':>8} {'max':>8}")
    for label, median, low, high in rows:
        print(f"{label:48} {median:15.1f} {low:8.1f} {high:8.1f}")
    print(f"one full redraw (4 views, PNG encoded): median {draw:.0f} ms")
    default = rows[2][1]
    verdict = "meets" if default >= TARGET else "MISSES"
    print(f"default setup: {default:.1f} steps/s, {verdict} the target of {TARGET:.0f} steps/s "
          f"({time.perf_counter() - began:.0f} s in all)")
    return 0 if default >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
