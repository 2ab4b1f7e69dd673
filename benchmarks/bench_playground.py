"""The playground's kernel side, headless: where a second of Play goes.

The default setup: moons (200 points, 30% held out), MLP(2, [16, 16, 1]) tanh, BCE, Adam, batch 10.
Measured, each as a median over repeats:

- one training step (`Trainer.step`), and training alone in steps/s;
- one frame: what the kernel computes and sends per picture refresh (the 50 x 50 boundary grid and
  every drawn neuron's output on NumPy, the curves, the weights, gradient health) and its parts;
- Play's loop (its task on an event loop, frames every ``frame_ms``) with a page that draws every
  frame at once: steps/s and frames/s the kernel can give, before the browser's share of the 2 cores;
- for comparison, the old design: the four views redrawn by matplotlib and encoded as PNG.

The browser's own figures (what the page shows) come from ``bench_browser.py``.

    python benchmarks/bench_playground.py            # about half a minute
    python benchmarks/bench_playground.py --quick    # a smoke run
"""

import argparse
import io
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

TARGET_STEPS, TARGET_FRAMES = 100.0, 10.0


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def play_loop(seconds):
    """Play's loop (its task on an event loop) for ``seconds``, with a page that draws every frame
    the moment it arrives: (steps/s, frames/s)."""
    import asyncio

    from nn.playground import Playground

    pg = Playground()
    draw = pg.draw

    def draw_and_answer():
        draw()
        pg._on_message(pg.board, {"type": "drawn", "frame": pg._sent}, [])  # the page drew it

    pg.draw = draw_and_answer

    async def session():
        pg.play.value = True
        await asyncio.sleep(seconds)
        pg.play.value = False
        await asyncio.sleep(0.1)

    steps, frames = pg.trainer.steps, pg.frames
    start = time.perf_counter()
    asyncio.run(session())
    elapsed = time.perf_counter() - start - 0.1
    return (pg.trainer.steps - steps) / elapsed, (pg.frames - frames) / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer repeats")
    args = parser.parse_args()
    import matplotlib

    matplotlib.use("Agg")
    from nn.playground import Playground, Trainer, board, grid, snapshot

    repeats, seconds = (3, 1.0) if args.quick else (7, 3.0)
    began = time.perf_counter()
    load = os.getloadavg()
    t = Trainer()
    t.run(20)
    step_ms = median_ms(t.step, 20 * repeats)
    pg = Playground()
    pg.run(100)
    layout = pg._layout
    parts = [
        ("one training step (Trainer.step)", step_ms),
        ("one frame, all of it (Playground.draw)", median_ms(pg.draw, 10 * repeats)),
        ("  numbers for the pictures (board.frame)", median_ms(lambda: board.frame(pg.trainer, layout), 10 * repeats)),
        ("  of which the 50x50 boundary grid", median_ms(lambda: grid.outputs(pg.trainer.model, grid.grid(layout["bounds"], 50)), 10 * repeats)),
        ("  of which gradient health", median_ms(lambda: board.health(pg.trainer), 10 * repeats)),
        ("50x50 grid on the float path, for comparison", median_ms(
            lambda: [pg.trainer.model.float_function()(p) for p in grid.grid(layout["bounds"], 50).tolist()], repeats)),
    ]

    def old_redraw():
        fig = snapshot(pg.trainer, width=8.4, font_size=8)
        fig.dpi = 72
        fig.canvas.print_png(io.BytesIO())

    parts.append(("old design: 4 views by matplotlib + PNG", median_ms(old_redraw, repeats)))
    loops = [play_loop(seconds) for _ in range(repeats)]
    loop_steps = statistics.median(r[0] for r in loops)
    loop_frames = statistics.median(r[1] for r in loops)
    print("chainrule playground benchmark (kernel side, headless): moons 200 (30% test), "
          "MLP(2, [16, 16, 1]) tanh, BCE, Adam, batch 10")
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average before {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}; {repeats} repeats")
    print(f"{'cost':50} {'median ms':>10}")
    for label, ms in parts:
        print(f"{label:50} {ms:10.2f}")
    print(f"training alone: {1000 / step_ms:.0f} steps/s")
    print(f"Play's loop, a page drawing every frame at once: {loop_steps:.0f} steps/s, {loop_frames:.1f} frames/s "
          f"(min {min(r[0] for r in loops):.0f}, max {max(r[0] for r in loops):.0f} steps/s)")
    met = loop_steps >= TARGET_STEPS and loop_frames >= TARGET_FRAMES
    print(f"{'meets' if met else 'MISSES'} the target of {TARGET_STEPS:.0f} steps/s with {TARGET_FRAMES:.0f} "
          f"frames/s ({time.perf_counter() - began:.0f} s in all)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
