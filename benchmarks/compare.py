"""The tutorial's own code against the library, every recipe at full schedules, side by side in one run.

    python benchmarks/compare.py                  # full schedules, seed 7
    python benchmarks/compare.py --epochs 0.1     # a tenth of every schedule
    python benchmarks/compare.py --jobs 1         # the library in this process too

First the tutorial's code (``tutorial_port.py``: its models and its ``fit`` calls, ported to current
Keras) trains each recipe in turn in this process, as its scripts ran; then the library trains them all as
``statefulness run --full`` does (``run_all``: worker processes of one thread each, the longest first).
Prints per recipe the seconds of training (the ``fit`` calls) each way and the ratio, and in total the
wall-clock seconds of each way (building, training, evaluating) and their ratio. A whole run (all
recipes, full schedules) also writes the table to benchmarks/results-<keras>-<backend>.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tutorial_port import train_the_tutorials_way

    from statefulness import versions
    from statefulness.experiments import EXPERIMENTS
    from statefulness.experiments.report import run_all
    from statefulness.experiments.workers import default_jobs

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=float, default=1.0, help="fraction of each schedule (default 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="the library's worker processes")
    parser.add_argument("experiments", nargs="*", default=list(EXPERIMENTS))
    args = parser.parse_args(argv)
    env = versions()
    epochs = {}
    for name in args.experiments:
        recipe = EXPERIMENTS[name]
        epochs[name] = max(recipe.log_every, round(recipe.epochs * args.epochs) // recipe.log_every * recipe.log_every)

    tutorial, start = {}, time.perf_counter()
    for name in args.experiments:
        _, accuracy, seconds = train_the_tutorials_way(name, seed=args.seed, epochs=epochs[name])
        tutorial[name] = (seconds, accuracy)
        print(f"tutorial's code, {name}: {seconds:.1f} s of training, accuracy {100 * accuracy:.2f} %", flush=True)
    tutorial_wall = time.perf_counter() - start

    start = time.perf_counter()
    outcomes = run_all(args.experiments, [args.seed], full=True, progress=False, jobs=args.jobs, epochs=epochs)
    library_wall = time.perf_counter() - start
    library = {o.experiment: (o.wall_s, o.accuracy) for o in outcomes}

    lines = [
        f"Keras {env['keras']} on {env['backend']}"
        + (f", TensorFlow {env['tensorflow']}" if "tensorflow" in env else "")
        + f"; seed {args.seed}; {args.epochs:g} of each schedule; {os.cpu_count()} cores; the library in "
        + (f"{min(args.jobs, len(outcomes))} worker processes of one thread" if args.jobs > 1 else "this process")
        + f", XLA {'on' if outcomes[0].xla else 'off'}.",
        "",
        "| recipe | epochs | tutorial's code: training (s) | accuracy | library: training (s) | accuracy | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in args.experiments:
        (t, ta), (lib, la) = tutorial[name], library[name]
        row = [name, epochs[name], f"{t:.1f}", f"{100 * ta:.2f} %", f"{lib:.1f}", f"{100 * la:.2f} %"]
        row.append(f"{t / lib:.1f}x")
        lines.append("| " + " | ".join(map(str, row)) + " |")
    lines.append(
        f"| **all, wall clock** (building, training, evaluating) | | {tutorial_wall:.1f} | | {library_wall:.1f} | "
        f"| {tutorial_wall / library_wall:.1f}x |"
    )
    if "split_sequence" in args.experiments:
        lines += ["", "split_sequence: the library trains its four variants, the tutorial's (the Q&A's) code one."]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.epochs == 1 and args.experiments == list(EXPERIMENTS):  # only a whole run replaces the table
        out = Path(__file__).resolve().parent / f"results-keras{env['keras']}-{env['backend']}.md"
        out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
