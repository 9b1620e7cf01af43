"""How long ``statefulness check`` takes on a model, in fresh processes (what a user waits for).

    python benchmarks/check_model.py                       # the built-in examples, 3 fresh processes each
    python benchmarks/check_model.py --runs 5 tutorial

Each run is a new Python process that imports the library (and Keras and its backend), builds the model
and runs ``check_model``; the table gives the median of the runs for the import, for the check, and for
the whole process, side by side per model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PROBE = """
import json, time
start = time.perf_counter()
from statefulness.check import EXAMPLES, check_model
imported = time.perf_counter()
report = check_model(EXAMPLES[{name!r}]())
checked = time.perf_counter()
print(json.dumps({{"import": imported - start, "check": checked - imported,
                  "verdicts": report.verdicts, "environment": report.environment}}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="*", default=["tutorial", "stacked-gru-lstm", "bidirectional-lstm"])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    rows, environment = [], None
    for name in args.models:
        runs = []
        for _ in range(args.runs):
            start = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", PROBE.format(name=name)],
                capture_output=True,
                text=True,
                env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
                check=True,
            )
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            runs.append((result["import"], result["check"], time.perf_counter() - start))
            environment = result["environment"]
        rows.append((name, *(statistics.median(run[i] for run in runs) for i in range(3))))
    env = environment
    print(f"check_model in a fresh process: Keras {env['keras']}, backend {env['backend']}, median of {args.runs} runs")
    print(f"{'model':<20} {'import (s)':>10} {'check (s)':>10} {'process (s)':>12}")
    for name, imported, checked, whole in rows:
        print(f"{name:<20} {imported:>10.1f} {checked:>10.1f} {whole:>12.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
