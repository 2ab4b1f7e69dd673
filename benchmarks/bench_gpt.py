"""The default GPT trained on names until its loss on held-out names is below the bigram baseline.

The names (`nn.data.names()`) are split 90/10 with seed 0. The baseline is the bigram model: the
next character predicted from the current one by counts over the training names (add-one
smoothing), scored in nats per character on the held-out names. The model is `GPT(tokenizer,
seed=0)`, microgpt's sizes (1 layer, 16 channels, 4 heads, block 16, 4,192 parameters), trained by
`fit_text` on the graph path: one name per step, Adam with betas (0.85, 0.99), the rate falling in
a straight line from 0.01 to 0 over ``--steps`` steps. Every ``--every`` steps the loss on the
first 500 held-out names is measured; once that is below the baseline, the loss on all 3,203
held-out names decides whether the model has learned more than letter pairs. Reports the steps and
the time it took (training alone, and with the measurements), the time per step, and samples.

    python benchmarks/bench_gpt.py            # the full run (a few minutes)
    python benchmarks/bench_gpt.py --quick    # a smoke run: 40 steps, no target
"""

import argparse
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from nn import data  # noqa: E402
from nn.gpt import GPT  # noqa: E402
from nn.text import CharTokenizer, bigram_loss, fit_text, generate, mean_loss, split  # noqa: E402


class Reached(Exception):
    """The held-out loss is below the baseline: training stops here."""


def load():
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 40 steps")
    parser.add_argument("--steps", type=int, default=2000, help="the length of the learning-rate schedule (the most steps run)")
    parser.add_argument("--every", type=int, default=100, help="steps between measurements")
    args = parser.parse_args()
    steps, every = (40, 20) if args.quick else (args.steps, args.every)

    started = time.perf_counter()
    load_before = load()
    names = data.names()
    tokenizer = CharTokenizer(names)
    train, held_out = split(names, 0.1, seed=0)
    probe = held_out[:500]
    baseline = bigram_loss(train, held_out, tokenizer)
    model = GPT(tokenizer, seed=0)
    print(f"{len(train):,} training names, {len(held_out):,} held out; bigram baseline {baseline:.4f} nats/char; "
          f"{model.num_parameters():,} parameters; load average {load_before}", flush=True)
    print("| step | train loss | held-out loss (500) | held-out loss (all) | ms per step | elapsed |", flush=True)
    print("|---:|---:|---:|---:|---:|---:|", flush=True)

    rows = []
    clock = {"last": time.perf_counter(), "training": 0.0}

    def measure(epoch, history):
        trained = time.perf_counter() - clock["last"]
        clock["training"] += trained
        probe_loss = mean_loss(model, probe)
        full = mean_loss(model, held_out) if probe_loss < baseline and not args.quick else None
        row = {"step": epoch * every, "train": history.train_loss[-1], "probe": probe_loss, "full": full,
               "per_step": trained / every, "training": clock["training"], "elapsed": time.perf_counter() - started}
        rows.append(row)
        shown = "" if full is None else f"{full:.4f}"
        print(f"| {row['step']} | {row['train']:.4f} | {probe_loss:.4f} | {shown} | {1000 * row['per_step']:.1f} | "
              f"{row['elapsed']:.0f} s |", flush=True)
        clock["last"] = time.perf_counter()
        if full is not None and full < baseline:
            raise Reached

    reached = False
    try:
        fit_text(model, train, epochs=steps // every, steps_per_epoch=every, seed=0, progress=False, callback=measure)
    except Reached:
        reached = True
    per_step = statistics.median(row["per_step"] for row in rows)
    samples = generate(model, 20, temperature=0.5, seed=0)
    seconds = time.perf_counter() - started
    last = rows[-1]
    lines = [""]
    if reached:
        lines.append(f"**Held-out loss {last['full']:.4f} < bigram baseline {baseline:.4f} nats/char after "
                     f"{last['step']:,} steps**: {last['training']:.0f} s of training, {last['elapsed']:.0f} s with the "
                     "measurements.")
    else:
        lines.append(f"Not below the bigram baseline ({baseline:.4f}) within {last['step']:,} steps"
                     f"{' (a smoke run)' if args.quick else ''}.")
    in_training = set(train)
    new = sum(s not in in_training for s in samples)
    lines += [
        f"Median time per step (graph path, one name): {1000 * per_step:.1f} ms; 1,000 steps would take "
        f"{per_step * 1000 / 60:.1f} min.",
        f"Samples (temperature 0.5, seed 0; {new} of 20 not in the training names): {', '.join(samples)}",
        f"Python {platform.python_version()}; load average before {load_before}, after {load()}; "
        f"command `python benchmarks/bench_gpt.py{' --quick' if args.quick else ''}` ({seconds:.0f} s).",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
