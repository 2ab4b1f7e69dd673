"""The microgpt workload: chainrule's GPT trained through the compiled path, against the same model
on a microgpt-style scalar Value.

The model is microgpt's: 1 layer, 16 channels, 4 heads, block 16, 4,192 parameters (token and
position embeddings, RMSNorm, causal multi-head attention with a key/value cache, a ReLU MLP), one
name per step from `nn.data.names()`, Adam with betas (0.85, 0.99) and a rate falling in a straight
line from 0.01 to 0 over 1,000 steps. Names have different lengths, so the steps do too.

- chainrule: written as a user writes it, `nn.GPT` trained by `nn.text.fit_text` (one name per step),
  which compiles each length of name once training on it has paid for compiling it;
- the reference: the same training on `tests/learners.LocalValue`, a scalar Value shaped like
  microgpt's (slots, children and local gradients, a recursive topological sort), run by the
  microgpt-style script of `tests/test_nn_gpt_microgpt.py`, both written from the algorithm.

Both start from the same weights (the script's generator, after shuffling the names, draws them),
so their losses must agree (to 1e-9 over the first 50 steps). Time per step is the whole run
divided by its steps, compiling included; each engine runs in its own process, gc at its defaults.

    python benchmarks/bench_microgpt.py            # 1,000 steps each (several minutes)
    python benchmarks/bench_microgpt.py --quick    # a smoke run: 30 steps each
"""

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

SIZES = dict(n_layer=1, n_embd=16, n_head=4, block_size=16)
SCHEDULE = 1000  # the rate falls to 0 over this many steps, as in microgpt
SAME = 50  # steps whose losses must agree to 1e-9


def chainrule(steps):
    from nn import data
    from nn.gpt import GPT
    from nn.schedules import linear
    from nn.text import CharTokenizer, fit_text
    from nn import compiled as compiled_training

    docs = list(data.names())
    rng = random.Random(42)
    rng.shuffle(docs)
    model = GPT(CharTokenizer(docs), seed=rng, **SIZES)  # the generator, after the shuffle, draws the weights
    start = time.perf_counter()
    history = fit_text(model, docs, epochs=steps, steps_per_epoch=1, shuffle=False, lr=linear(0.01, 0.0, SCHEDULE),
                       progress=False)
    seconds = time.perf_counter() - start
    (step,) = compiled_training.steps(model)
    programs = step.example.programs.values()
    lengths = sorted(len(key[0][1]) for key, program in step.example.programs.items() if program.function is not None)
    return {"seconds": seconds, "losses": history.train_loss, "parameters": model.num_parameters(),
            "compiled lengths": lengths, "kinds": len(programs), "recorded": step.example.traces}


def reference(steps):
    from learners import LocalValue
    from test_nn_gpt_microgpt import microgpt_style_run

    from nn import data

    start = time.perf_counter()
    losses = microgpt_style_run(LocalValue, data.names(), steps, total_steps=SCHEDULE, **SIZES)
    return {"seconds": time.perf_counter() - start, "losses": losses}


def run_worker(engine, steps):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", engine, "--steps", str(steps)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": last}
    return json.loads(proc.stdout)


def load():
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: 30 steps each")
    parser.add_argument("--steps", type=int, default=None, help="steps for each engine (default: 1000)")
    parser.add_argument("--worker", choices=("chainrule", "reference"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    steps = args.steps or (30 if args.quick else SCHEDULE)
    if args.worker:
        print(json.dumps((chainrule if args.worker == "chainrule" else reference)(steps)))
        return

    started, load_before = time.perf_counter(), load()
    ours = run_worker("chainrule", steps)
    theirs = run_worker("reference", steps)
    load_after = load()
    lines = [
        f"The microgpt workload, {steps} steps (one name each) per engine, Python {platform.python_version()}, "
        f"gc at default settings.",
        "",
        "| engine | per step (whole run) | time vs chainrule |",
        "|---|---:|---:|",
    ]
    for name, out in (("chainrule: nn.GPT trained by fit_text (compiled)", ours),
                      ("microgpt-style scalar Value (tests/learners.LocalValue)", theirs)):
        if "error" in out:
            lines.append(f"| {name} | not run: {out['error']} | |")
    if "error" not in ours and "error" not in theirs:
        mine, other = ours["seconds"] / steps, theirs["seconds"] / steps
        lines.append(f"| chainrule: nn.GPT trained by fit_text (compiled) | {1000 * mine:.1f} ms | 1.0x |")
        lines.append(f"| microgpt-style scalar Value (tests/learners.LocalValue) | {1000 * other:.1f} ms | {other / mine:.1f}x |")
        first = min(SAME, steps)
        same = max(abs(a - b) for a, b in zip(ours["losses"][:first], theirs["losses"][:first]))
        whole = max(abs(a - b) for a, b in zip(ours["losses"], theirs["losses"]))
        lines += [
            "",
            f"{ours['parameters']:,} parameters. chainrule compiled the names of {', '.join(map(str, ours['compiled lengths']))} "
            f"positions (of {ours['kinds']} lengths met; the rest ran on the graph path) and recorded {ours['recorded']} "
            f"steps for it. Mean loss of the last 100 steps: {sum(ours['losses'][-100:]) / len(ours['losses'][-100:]):.4f}.",
            "",
            "**Targets**",
            "",
            "| target | measured | met |",
            "|---|---|---|",
            f"| >= 10x faster than the microgpt-style Value | {other / mine:.1f}x | {'yes' if other / mine >= 10 else '**no**'} |",
            f"| losses equal to 1e-9 over the first {first} steps | {same:.1e} | {'yes' if same <= 1e-9 else '**no**'} |",
            "",
            f"Largest loss difference over all {steps} steps: {whole:.1e}.",
        ]
    lines.append(f"\nCommand: `python benchmarks/bench_microgpt.py{' --quick' if args.quick else ''}` "
                 f"({time.perf_counter() - started:.0f} s); load average {load_before:.2f} at the start, {load_after:.2f} at the end.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
