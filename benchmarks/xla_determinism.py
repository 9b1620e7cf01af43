"""Does training with XLA keep "the same seed gives bit-identical weights"? Measured per recipe.

Every recipe is trained twice with XLA requested (``compile(jit_compile=True)``, TensorFlow's op
determinism off) and twice as before (op determinism on, Keras's default ``jit_compile``), each run in a
fresh spawned process, with one thread (as ``statefulness run`` trains in its workers) and with the
backend's own thread counts (as ``--jobs 1`` and the spec train). It prints, per recipe and way, whether
the two runs' weights are bit-identical (SHA-256 of the trained weights), the seconds, the time per
training step, and whether XLA changed the figures. ``XLA_TRAINING`` in ``statefulness/_keras.py``
cites the table this writes (``benchmarks/xla-determinism.md`` on TensorFlow 2.21, ...).

    python benchmarks/xla_determinism.py                       # the default tier's schedules
    python benchmarks/xla_determinism.py --epochs variable_length=30 --output benchmarks/xla-determinism.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", nargs="+", metavar="NAME", help="default: all")
    parser.add_argument("--full", action="store_true", help="the tutorial's schedules (default: the default tier's)")
    parser.add_argument("--epochs", nargs="+", default=[], metavar="NAME=E", help="shorter schedules for some recipes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes at a time (default: 2)")
    parser.add_argument("--output", type=Path, help="append the Markdown table there too")
    args = parser.parse_args(argv)

    from statefulness import versions
    from statefulness._keras import XLA_BY_DEFAULT
    from statefulness.experiments import EXPERIMENTS
    from statefulness.experiments.run import training_steps
    from statefulness.experiments.workers import run_in_workers

    names = args.experiments or list(EXPERIMENTS)
    epochs = {k: int(v) for k, _, v in (e.partition("=") for e in args.epochs)}
    env = versions()
    lines = [
        f"## Keras {env['keras']} on {env['backend']}"
        + (f" (TensorFlow {env['tensorflow']})" if "tensorflow" in env else "")
        + f", seed {args.seed}, {time.strftime('%Y-%m-%d')}",
        "",
        "| recipe | epochs | threads | XLA | same weights in 2 processes | s (mean of 2) | µs per step "
        "| figures as without XLA |",
        "|---|---:|---|---|---|---:|---:|---|",
    ]
    for name in names:
        settings = {"seed": args.seed, "full": args.full, "epochs": epochs.get(name)}
        steps = training_steps(name, args.full)
        if name in epochs:
            steps = steps * epochs[name] // EXPERIMENTS[name].schedule(args.full)
        for one_thread in (True, False):
            runs = {
                xla: run_in_workers([(name, settings | {"xla": xla})] * 2, args.jobs, one_thread_each=one_thread)
                for xla in ((True,) if XLA_BY_DEFAULT else (False, True))  # JAX without XLA is eager: hours
            }
            for xla, (a, b) in runs.items():
                seconds = (a.wall_s + b.wall_s) / 2
                plain = runs[False][0].figures if False in runs else None
                same_figures = "–" if not xla or plain is None else _diff(plain, a.figures) or "yes"
                lines.append(
                    f"| {name} | {a.epochs} | {'1' if one_thread else 'default'} | {'yes' if xla else 'no'} "
                    f"| {'yes' if a.weights == b.weights else '**no**'} | {seconds:.1f} "
                    f"| {1e6 * seconds / steps:.0f} | {same_figures} |"
                )
                print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    if args.output:
        with args.output.open("a") as f:
            f.write("\n" + text)
    return 0


def _diff(before, after) -> str:
    b, a = before.to_dict(), after.to_dict()
    changed = ", ".join(f"{k} {b[k]} -> {a[k]}" for k in b if b[k] != a[k])
    return changed and f"no: {changed}"


if __name__ == "__main__":
    sys.exit(main())
