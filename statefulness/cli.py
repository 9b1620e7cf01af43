"""The command line: ``statefulness run`` trains the tutorial's experiments and judges its claims;
``statefulness matrix`` tabulates claims reports of the spec from several environments."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument gets one line on stderr and exit status 2, never a traceback."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return value


EXPERIMENTS = (
    "one_char", "window_features", "window_timesteps", "within_batch", "stateful", "variable_length", "split_sequence",
)
"""The recipes of ``experiments.py`` (checked equal there), named here so that ``--help``, ``matrix`` and
``spec-doc`` do not load Keras."""


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="statefulness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="train the tutorial's experiments and judge its claims")
    run.add_argument("experiments", nargs="*", metavar="EXPERIMENT",
                     help=f"any of {', '.join(EXPERIMENTS)} (default: all)")
    run.add_argument("--seed", type=_seed, action="append", dest="seeds", metavar="N",
                     help="seed of a run; repeat for several (default: 7, the tutorial's)")
    run.add_argument("--full", action="store_true",
                     help="the tutorial's full schedules (default: the spec's default tier, which shortens "
                          "variable_length to 100 of 500 epochs)")
    run.add_argument("--json", type=Path, metavar="PATH", help="write outcomes and verdicts as JSON")
    run.add_argument("--report", type=Path, metavar="DIR",
                     help="write a Markdown report with a learning-curve plot per experiment")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="show a progress bar per experiment (default: when stderr is a terminal)")

    matrix = sub.add_parser("matrix", help="a table of claims by environment, from claims reports")
    matrix.add_argument("reports", nargs="+", type=Path, metavar="REPORT",
                        help="claims reports written by `pytest --claims-report`")
    matrix.add_argument("--compare", action="store_true",
                        help="with two reports: only the claims whose verdict changed between them")
    matrix.add_argument("--output", type=Path, metavar="PATH", help="write the Markdown there too")
    matrix.add_argument("--figures", action=argparse.BooleanOptionalAction, default=True,
                        help="show the observed figures beside each verdict (default: yes)")
    matrix.add_argument("--select", action="append", metavar="TEXT",
                        help="only the claims whose id contains TEXT (repeatable: any of them)")
    matrix.add_argument("--deviations", action=argparse.BooleanOptionalAction, default=True,
                        help="list the known deviations met, with their diagnoses, below the table (default: yes)")
    doc = sub.add_parser("spec-doc", help="render a claims report as a Markdown document, chapter by chapter")
    doc.add_argument("report", type=Path, metavar="REPORT", help="a claims report of the spec (pytest --claims-report)")
    doc.add_argument("--output", type=Path, metavar="PATH", help="write the Markdown there (default: stdout)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "spec-doc":
        return _spec_doc(args)
    return _matrix(args)


def _run(args) -> int:
    unknown = [e for e in args.experiments if e not in EXPERIMENTS]
    if unknown:
        return _usage(f"unknown experiment {unknown[0]!r}; expected any of {', '.join(EXPERIMENTS)}")
    for path, what in ((args.json, "--json"), (args.report, "--report")):
        if path is not None and path.exists() and (path.is_dir() if what == "--json" else not path.is_dir()):
            return _usage(f"{what}: {path} exists and is not a {'file' if what == '--json' else 'directory'}")
    if args.report is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return _usage("--report needs matplotlib: pip install 'statefulness[plots]'")

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ start-up notices
    from ._keras import quiet_backend_logs
    from .report import judge, print_table, run_all, write_json, write_report

    quiet_backend_logs()  # the table is the output; TensorFlow's tracing advice is not about the claims

    names = list(dict.fromkeys(args.experiments)) or list(EXPERIMENTS)
    seeds = list(dict.fromkeys(args.seeds or [7]))
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    outcomes = run_all(names, seeds, full=args.full, progress=progress)
    verdicts = judge(outcomes)
    print_table(verdicts, outcomes, full=args.full)
    if args.json:
        write_json(args.json, outcomes, verdicts, full=args.full)
    if args.report:
        write_report(args.report, outcomes, verdicts, full=args.full)
    return 0 if all(v["holds"] for v in verdicts) else 1


def _matrix(args) -> int:
    from .matrix import compare, load_report, matrix_markdown

    try:
        reports = [load_report(p) for p in args.reports]
    except (OSError, ValueError) as error:
        return _usage(str(error))
    if args.compare and len(reports) != 2:
        return _usage(f"--compare takes exactly two reports, got {len(reports)}")
    if args.select:
        for report in reports:
            report["claims"] = [c for c in report["claims"] if any(t in c["claim"] for t in args.select)]
        if not any(report["claims"] for report in reports):
            return _usage(f"--select: no claim contains any of {', '.join(map(repr, args.select))}")
    text = compare(*reports) if args.compare else matrix_markdown(
        reports, figures=args.figures, deviations=args.deviations)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


def _spec_doc(args) -> int:
    from .matrix import load_report, spec_document

    try:
        text = spec_document(load_report(args.report))
    except (OSError, ValueError) as error:
        return _usage(str(error))
    if args.output:
        args.output.write_text(text)
    else:
        print(text, end="")
    return 0


def _usage(message: str) -> int:
    print(f"statefulness: error: {message}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
