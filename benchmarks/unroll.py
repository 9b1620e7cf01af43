"""Does unrolling the LSTM under XLA train faster, and what does it change? Measured per recipe and seed.

Each recipe is trained with XLA four times: as before (the LSTM's loop) and unrolled
(``LSTM(unroll=True)``), twice each, in fresh spawned processes of one thread, two at a time: a rolled run
beside an unrolled one, so that both ways share the machine alike. It prints, per recipe and seed, the
seconds of each way (the mean of its two runs), the ratio, whether each way's two runs give bit-identical
weights (the same seed must), whether the two ways do, and whether their figures are the same.
The experiments train rolled (``run_experiment``'s ``unroll=False``) unless this table shows otherwise.

    python benchmarks/unroll.py --full --seeds 7                  # variable_length, the tutorial's schedule
    python benchmarks/unroll.py --experiments window_timesteps split_sequence --output benchmarks/unroll.md
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", nargs="+", default=["variable_length"], metavar="NAME")
    parser.add_argument("--full", action="store_true", help="the tutorial's schedules (default: the default tier's)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[7])
    parser.add_argument("--output", type=Path, help="append the Markdown table there too")
    args = parser.parse_args(argv)

    from statefulness import versions
    from statefulness._keras import XLA_TRAINING
    from statefulness.experiments.run import training_steps
    from statefulness.experiments.workers import run_in_workers

    if not XLA_TRAINING:
        print("the experiments do not train with XLA here (XLA_TRAINING): nothing to measure", file=sys.stderr)
        return 2
    env = versions()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [
        f"## Keras {env['keras']} on {env['backend']}"
        + (f" (TensorFlow {env['tensorflow']})" if "tensorflow" in env else "")
        + f", {'full' if args.full else 'default'} tier, {time.strftime('%Y-%m-%d')}, commit {commit or 'unknown'}",
        "",
        "| recipe | seed | epochs | loop: s | unrolled: s | ratio | µs per step, loop / unrolled "
        "| same weights in 2 runs (loop, unrolled) | same weights both ways | same figures both ways |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    for name in args.experiments:
        steps = training_steps(name, args.full)
        for seed in args.seeds:
            settings = {"seed": seed, "full": args.full, "xla": True}
            tasks = [(name, settings | {"unroll": unroll}) for _ in range(2) for unroll in (False, True)]
            loop_a, unrolled_a, loop_b, unrolled_b = run_in_workers(tasks, 2)
            loop_s = (loop_a.wall_s + loop_b.wall_s) / 2
            unrolled_s = (unrolled_a.wall_s + unrolled_b.wall_s) / 2
            row = (
                f"| {name} | {seed} | {loop_a.epochs} | {loop_s:.1f} | {unrolled_s:.1f} | {loop_s / unrolled_s:.2f}x "
                f"| {1e6 * loop_s / steps:.0f} / {1e6 * unrolled_s / steps:.0f} "
                f"| {_yes(loop_a.weights == loop_b.weights)}, {_yes(unrolled_a.weights == unrolled_b.weights)} "
                f"| {_yes(loop_a.weights == unrolled_a.weights)} | {_same_figures(loop_a, unrolled_a)} |"
            )
            lines.append(row)
            print(row, flush=True)
    if args.output:
        with args.output.open("a") as out:
            out.write("\n" + "\n".join(lines) + "\n")
    return 0


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _same_figures(a, b) -> str:
    """ "yes", or the figures that differ, each as loop → unrolled."""
    fa, fb = a.figures.to_dict(), b.figures.to_dict()
    differ = [f"{k} {fa[k]} → {fb[k]}" for k in fa if fa[k] != fb[k]]
    return "yes" if not differ else "no: " + "; ".join(differ)


if __name__ == "__main__":
    sys.exit(main())
