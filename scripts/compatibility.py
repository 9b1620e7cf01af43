"""Write COMPATIBILITY.md from the claims reports of a matrix run (``tox -m matrix`` writes them).

    python scripts/compatibility.py reports/ runs.tsv --commit 0aaef80 > COMPATIBILITY.md   # and docs/matrix.png

``runs.tsv``: one line per env run, ``env<TAB>wall seconds<TAB>tests`` (tox's wall time and pytest's
summary line), in the order the table should show. Every table below the header is rendered by
``statefulness.matrix`` from the reports alone.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from statefulness.matrix import deviations_markdown, env_label, load_report, matrix_markdown, matrix_png

BREADTH = ("every_shape", "_any_kind", "gru_and_simple_rnn", "numpy_yardstick")
"""Words in the names of the claims over every layer kind and model shape (spec/shapes.py)."""
LEARNING = (
    "test_1",
    "test_01_split_sequences.py::test_a_stateless",
    "test_01_split_sequences.py::test_a_stateful_lstm",
    "test_01_split_sequences.py::test_the_same",
)


def _only(reports: list[dict], keep) -> list[dict]:
    return [dict(r, claims=[c for c in r["claims"] if keep(c["claim"])]) for r in reports]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", type=Path, help="the folder of claims-<env>.json")
    parser.add_argument("runs", type=Path, help="env, wall seconds and tests per line, tab-separated")
    parser.add_argument("--commit", required=True)
    parser.add_argument("--png", type=Path, default=Path("docs/matrix.png"), help="where to draw the picture")
    args = parser.parse_args()

    runs = [line.split("\t") for line in args.runs.read_text().splitlines() if line.strip()]
    reports = [load_report(args.reports / f"claims-{env}.json") for env, *_ in runs]
    breadth = lambda claim: any(word in claim for word in BREADTH)  # noqa: E731
    total = sum(float(wall) for _, wall, _ in runs)
    matrix_png(reports, args.png)
    out = [
        "# Compatibility: the spec on every environment of `tox.ini`",
        "",
        "Every env below was run with `tox -e <env>` (the default tier) on one machine (2 cores, Linux x86-64,",
        f"Python 3.11.7, CPU builds) on {time.strftime('%Y-%m-%d')}, at commit {args.commit}. Each wrote",
        "`reports/claims-<env>.json`; `python scripts/compatibility.py` rendered this page from them.",
        "",
        "Verdicts: **pass**; **FAIL**; **deviation**, a known deviation: the claim fails there as diagnosed in",
        "[statefulness/known_deviations.py](statefulness/known_deviations.py), and runs as a strict xfail, so a",
        "fix upstream turns the env red until the entry is updated. To see what changes between the Keras you have",
        "and the one you are moving to: `statefulness matrix --compare reports/claims-tf215.json "
        "reports/claims-tf221.json`.",
        "",
        f"![Claims by environment, coloured by verdict]({args.png.as_posix()})",
        "",
        "Each row is one claim (one spec test, its cases folded: light orange where only some cases are a",
        "known deviation), each column an env; drawn from the same reports by `statefulness matrix --png`.",
        "",
        "## Wall time per env",
        "",
        "`tox` on 2 cores, `pytest` with two workers; the tests column counts the library's tests and the",
        "walkthrough too (the JAX and PyTorch envs run `spec` and `tests` only).",
        "",
        "| env | environment | wall time | tests |",
        "|---|---|---:|---|",
        *[
            f"| {env} | {env_label(r).split(' (', 1)[1].rstrip(')')} | {float(wall):.0f} s | {tests} |"
            for (env, wall, tests), r in zip(runs, reports, strict=True)
        ],
        f"| **all {len(runs)}, one after another** | | **{total:.0f} s** | |",
        "",
        "## The tutorial's claims by environment",
        "",
        matrix_markdown(_only(reports, lambda c: not breadth(c)), figures=False, deviations=False),
        "",
        "## Every layer kind and model shape",
        "",
        "Chapters 2 to 7 over the shapes of [spec/shapes.py](spec/shapes.py) (marker `wide`; the default tier",
        "draws three examples per shape, `tox -e wide` twenty).",
        "",
        matrix_markdown(_only(reports, breadth), figures=False, deviations=False),
        *deviations_markdown(reports),
        "",
        "## Key figures of the learning claims",
        "",
        "What each env observed, seed 7, default tier (`statefulness run --full` and `pytest --full` train the",
        "full schedules). Thresholds and their calibration:",
        "[statefulness/experiments.py](statefulness/experiments.py), [calibration/TABLE.md](calibration/TABLE.md).",
        "",
        matrix_markdown(_only(reports, lambda c: any(s in c for s in LEARNING)), figures=True, deviations=False),
    ]
    print("\n".join(out))


if __name__ == "__main__":
    main()
