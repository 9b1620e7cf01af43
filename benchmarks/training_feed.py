"""What ``train`` feeds ``fit``: a ``tf.data.Dataset`` of the ordered epochs, or the arrays? Measured per recipe.

``statefulness.train`` lays the epochs end to end and feeds them to one ``fit`` (``_keras.fit_inputs``): on
TensorFlow as ``tf.data.Dataset.from_tensor_slices((X, y)).batch(B, drop_remainder=True)``, else as the arrays
with ``shuffle=False``, which Keras's array adapter turns into a ``tf.data`` pipeline of its own that gathers
each batch from the whole array. Each recipe is trained four times, both ways twice, in fresh spawned
processes of one thread, two at a time (an array run beside a dataset run, so that both ways share the
machine alike, as ``statefulness run``'s two workers do). It prints, per recipe, the seconds of training and
of CPU (the whole process, every thread: the adapter's thread included) of each way, the means of two runs,
their ratios, and whether the two ways give the same weights, bit for bit, and the same figures.

    python benchmarks/training_feed.py --full                           # variable_length, the tutorial's schedule
    python benchmarks/training_feed.py --experiments one_char stateful  # the default tier's schedules
"""

from __future__ import annotations

import argparse
import multiprocessing
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WAYS = ("arrays", "dataset")


def _train(name: str, full: bool, way: str) -> tuple[float, float, str, dict]:
    """In a fresh process: train ``name`` with the feed ``way``; its training seconds, the process's CPU
    seconds over the run, the weights' digest and the figures."""
    from statefulness.experiments.workers import one_thread

    one_thread()
    from statefulness import _keras
    from statefulness.experiments.run import run_experiment

    if way == "arrays":  # what train fed fit before: the arrays, in order
        _keras.fit_inputs = _keras.fit_arrays
    cpu = time.process_time()
    outcome = run_experiment(name, seed=7, full=full, xla=_keras.XLA_TRAINING)
    return outcome.wall_s, time.process_time() - cpu, outcome.weights, outcome.figures.to_dict()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", nargs="+", default=["variable_length"], metavar="NAME")
    parser.add_argument("--full", action="store_true", help="the tutorial's schedules (default: the default tier's)")
    args = parser.parse_args(argv)

    from statefulness import versions

    env = versions()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(
        f"## Keras {env['keras']} on {env['backend']}"
        + (f" (TensorFlow {env['tensorflow']})" if "tensorflow" in env else "")
        + f", {'full' if args.full else 'default'} tier, seed 7, {time.strftime('%Y-%m-%d')}, "
        f"commit {commit or '?'}\n\n"
        "| recipe | arrays: s | dataset: s | ratio | arrays: CPU s | dataset: CPU s | ratio "
        "| same weights both ways | same figures both ways |\n|---|---:|---:|---:|---:|---:|---:|---|---|",
        flush=True,
    )
    context = multiprocessing.get_context("spawn")
    for name in args.experiments:
        runs: dict[str, list] = {way: [] for way in WAYS}
        for _ in range(2):
            with ProcessPoolExecutor(2, mp_context=context) as pool:  # fresh processes, both ways side by side
                futures = {way: pool.submit(_train, name, args.full, way) for way in WAYS}
                for way, future in futures.items():
                    runs[way].append(future.result())
        wall = {way: sum(r[0] for r in runs[way]) / 2 for way in WAYS}
        cpu = {way: sum(r[1] for r in runs[way]) / 2 for way in WAYS}
        (_, _, weights_a, figures_a), (_, _, weights_d, figures_d) = runs["arrays"][0], runs["dataset"][0]
        differ = [f"{k} {figures_a[k]} -> {figures_d[k]}" for k in figures_a if figures_a[k] != figures_d[k]]
        print(
            f"| {name} | {wall['arrays']:.1f} | {wall['dataset']:.1f} | {wall['arrays'] / wall['dataset']:.2f}x "
            f"| {cpu['arrays']:.1f} | {cpu['dataset']:.1f} | {cpu['arrays'] / cpu['dataset']:.2f}x "
            f"| {'yes' if weights_a == weights_d else 'no'} | {'yes' if not differ else 'no: ' + '; '.join(differ)} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
