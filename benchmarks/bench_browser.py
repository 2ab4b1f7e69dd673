"""The playground as a learner sees it: JupyterLab on 127.0.0.1, the default playground opened in
Debian's Chromium through Playwright, Play pressed, and what the page shows measured.

- steps/s: the step number the page shows (the boundary picture's title), over ``--seconds``;
- refreshes/s: pictures the page drew in that time (the boundary, network, loss and health views
  are drawn together, from one frame);
- Pause: from the click on Pause to the last change of the step the page shows.

Each repeat opens a fresh page on the same server. Target on 2 cores: >= 100 steps/s with
>= 10 refreshes/s, and Pause within 100 ms. ``--headed`` runs Chromium with a screen (it needs
a display: ``xvfb-run -a python benchmarks/bench_browser.py --headed``), to check that headless
shows what a learner's screen shows.

    python benchmarks/bench_browser.py            # about a minute
    python benchmarks/bench_browser.py --quick    # a smoke run
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import lab  # noqa: E402  (tests/lab.py: JupyterLab in Chromium)

TARGET_STEPS, TARGET_REFRESHES, TARGET_PAUSE_MS = 100.0, 10.0, 100.0
SAMPLE = """() => { const b = document.querySelector('.chainrule-board');
  return [performance.now(), Number(b.dataset.step), Number(b.dataset.draws)]; }"""
PLAY = "button[title='train until paused']"


def notebook(folder, settings):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(f"from nn.playground import Playground\npg = Playground({settings})\npg")]
    nbformat.write(nb, Path(folder) / "bench.ipynb")


def measure(page, base, token, seconds):
    """(steps/s, refreshes/s, pause ms) of one run of Play on a freshly opened page."""
    lab.open_notebook(page, base, token, "bench.ipynb")
    page.locator(".chainrule-board").first.wait_for(timeout=120_000)
    lab.wait_idle(page)
    page.locator(PLAY).click()
    time.sleep(1.0)  # warm up: the first frames
    start = page.evaluate(SAMPLE)
    time.sleep(seconds)
    end = page.evaluate(SAMPLE)
    # the moment the page gets the click (Playwright's own checks before clicking are not counted)
    page.locator(PLAY).evaluate("b => b.addEventListener('click', () => { window.pausedAt = performance.now(); }, {once: true, capture: true})")
    page.locator(PLAY).click()
    clicked = page.evaluate("() => window.pausedAt")
    after = []
    stop = time.monotonic() + 1.5
    while time.monotonic() < stop:
        after.append(page.evaluate(SAMPLE))
        time.sleep(0.005)
    final = after[-1][1]
    settled = min(t for t, step, _ in after if step == final)
    elapsed = (end[0] - start[0]) / 1000
    return (end[1] - start[1]) / elapsed, (end[2] - start[2]) / elapsed, max(settled - clicked, 0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: one short repeat")
    parser.add_argument("--headed", action="store_true", help="Chromium with a screen (run under xvfb-run)")
    parser.add_argument("--seconds", type=float, default=None, help="how long each repeat plays")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--settings", default="", help="Playground(...) arguments, e.g. \"hidden=[8]\"")
    args = parser.parse_args()
    why = lab.missing()
    if why:
        print(f"skipped: {why}")
        return 0
    repeats = args.repeats or (1 if args.quick else 5)
    seconds = args.seconds or (3.0 if args.quick else 6.0)
    load = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        notebook(folder, args.settings)
        with lab.lab(folder) as (base, token), lab.browser(width=1280, height=1000, headless=not args.headed) as page:
            for _ in range(repeats):
                fresh = page.context.new_page()
                rows.append(measure(fresh, base, token, seconds))
                fresh.close()
    steps, refreshes, pause = (statistics.median(column) for column in zip(*rows))
    setup = args.settings or "default: moons 200, MLP(2, [16, 16, 1]) tanh, BCE, Adam, batch 10"
    print(f"chainrule browser benchmark: Playground({setup}) in JupyterLab, Chromium "
          f"{'headed (Xvfb)' if args.headed else 'headless'}, Play for {seconds:g} s, {repeats} repeats")
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, "
          f"load average before {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}")
    print(f"{'measure':30} {'median':>9} {'min':>9} {'max':>9} {'target':>9}")
    for label, column, target, fmt in (
        ("training steps/s shown", [r[0] for r in rows], f">= {TARGET_STEPS:.0f}", ".1f"),
        ("picture refreshes/s", [r[1] for r in rows], f">= {TARGET_REFRESHES:.0f}", ".1f"),
        ("Pause latency (ms)", [r[2] for r in rows], f"<= {TARGET_PAUSE_MS:.0f}", ".0f"),
    ):
        print(f"{label:30} {statistics.median(column):9{fmt}} {min(column):9{fmt}} {max(column):9{fmt}} {target:>9}")
    met = steps >= TARGET_STEPS and refreshes >= TARGET_REFRESHES and pause <= TARGET_PAUSE_MS
    print("meets the targets" if met else "MISSES a target")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
