"""All six experiments, the tutorial's way and the library's way, side by side in one run.

    python benchmarks/compare.py                 # full schedules, seed 7 (about 35 minutes)
    python benchmarks/compare.py --epochs 0.1    # a tenth of every schedule

Prints a table of wall times and the ratio; a whole run (all experiments, full schedules) also writes it to
benchmarks/results-<keras>-<backend>.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tutorial_port import train_the_tutorials_way  # noqa: E402

from statefulness import versions  # noqa: E402
from statefulness.experiments import EXPERIMENTS, run_experiment  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=float, default=1.0, help="fraction of each schedule (default 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("experiments", nargs="*", default=list(EXPERIMENTS))
    args = parser.parse_args(argv)
    env = versions()
    rows = []
    for name in args.experiments:
        epochs = max(1, round(EXPERIMENTS[name].epochs * args.epochs))
        if epochs % EXPERIMENTS[name].log_every:
            epochs -= epochs % EXPERIMENTS[name].log_every
        start = time.perf_counter()
        _, tutorial_accuracy = train_the_tutorials_way(name, seed=args.seed, epochs=epochs)
        tutorial_s = time.perf_counter() - start
        start = time.perf_counter()
        outcome = run_experiment(
            name, seed=args.seed, epochs=epochs, variants=("stateful",) if name == "split_sequence" else None
        )
        library_s = time.perf_counter() - start
        rows.append((name, epochs, tutorial_s, tutorial_accuracy, library_s, outcome.accuracy))
        print(
            f"{name}: {epochs} epochs; tutorial's way {tutorial_s:.1f} s ({100 * tutorial_accuracy:.2f} %), "
            f"library's way {library_s:.1f} s ({100 * outcome.accuracy:.2f} %), ratio {tutorial_s / library_s:.1f}x",
            flush=True,
        )
    total_t, total_l = sum(r[2] for r in rows), sum(r[4] for r in rows)
    lines = [
        f"Keras {env['keras']} on {env['backend']}"
        + (f", TensorFlow {env['tensorflow']}" if "tensorflow" in env else "")
        + f"; seed {args.seed}; {args.epochs:g} of each schedule; wall time includes building and evaluating.",
        "",
        "| experiment | epochs | tutorial's way (s) | accuracy | library's way (s) | accuracy | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {e} | {t:.1f} | {100 * ta:.2f} % | {lib:.1f} | {100 * la:.2f} % | {t / lib:.1f}x |"
        for n, e, t, ta, lib, la in rows
    ]
    lines.append(f"| **all** | | {total_t:.1f} | | {total_l:.1f} | | {total_t / total_l:.1f}x |")
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.epochs == 1 and args.experiments == list(EXPERIMENTS):  # only a whole run replaces the table
        out = Path(__file__).resolve().parent / f"results-keras{env['keras']}-{env['backend']}.md"
        out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
