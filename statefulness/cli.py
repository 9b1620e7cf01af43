"""The command line: ``statefulness run`` trains the tutorial's experiments and judges its claims;
``statefulness spec`` runs the specification (pytest) against the installed Keras; ``statefulness check``
runs the spec's state rules on a saved model of yours; ``statefulness matrix`` tabulates claims reports of
the spec from several environments."""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from statefulness.rule_ids import RULE_IDS, family

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad argument gets one line on stderr and exit status 2, never a traceback."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _int_from(low: int, what: str):
    """An argparse type: an integer of at least ``low``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected a {what} integer, got {text!r}")
        return value

    return parse


_seed = _int_from(0, "non-negative")
_jobs = _int_from(1, "positive")


def _commit(text: str) -> str:
    """An argparse type: a commit id or ref (letters, digits, ``. _ / -``)."""
    if not re.fullmatch(r"[\w./-]{1,100}", text):
        raise argparse.ArgumentTypeError(f"expected a commit id or ref (letters, digits, . _ / -), got {text!r}")
    return text


def _expectation(text: str) -> tuple[str, str]:
    """An argparse type: ``RULE=REASON`` of ``check --expect``, a rule you expect to fail and why."""
    rule, _, reason = text.partition("=")
    if not rule.strip() or not reason.strip():
        raise argparse.ArgumentTypeError(
            f"expected RULE=REASON (a rule id or family, and why you expect it to fail), got {text!r}"
        )
    return rule.strip(), reason.strip()


def _parser() -> argparse.ArgumentParser:
    from statefulness.experiments import EXPERIMENTS  # declarations only: importing them does not load Keras

    parser = _Parser(prog="statefulness", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="train the tutorial's experiments and judge its claims")
    run.add_argument(
        "experiments", nargs="*", metavar="EXPERIMENT", help=f"any of {', '.join(EXPERIMENTS)} (default: all)"
    )
    run.add_argument(
        "--seed",
        type=_seed,
        action="append",
        dest="seeds",
        metavar="N",
        help="seed of a run; repeat for several (default: 7, the tutorial's)",
    )
    run.add_argument(
        "--full",
        action="store_true",
        help="the tutorial's full schedules (default: the spec's default tier, which shortens "
        "variable_length to 100 of 500 epochs)",
    )
    run.add_argument("--json", type=Path, metavar="PATH", help="write outcomes and verdicts as JSON")
    run.add_argument(
        "--report", type=Path, metavar="DIR", help="write a Markdown report with a learning-curve plot per experiment"
    )
    run.add_argument(
        "--jobs",
        type=_jobs,
        metavar="N",
        help="train in N worker processes of one thread each (default: the cores available; 1 under "
        "pytest-xdist); 1 trains in this process",
    )
    run.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="show a progress bar per experiment (default: when stderr is a terminal and --jobs is 1; "
        "workers never show one)",
    )

    sub.add_parser(  # parsed by `_spec` itself: every argument after `spec` is pytest's
        "spec",
        help="run the specification against the installed Keras (any pytest argument follows)",
        add_help=False,
    )

    check = sub.add_parser(
        "check",
        help="run the spec's state rules on your own saved stateful model",
        description="Run the spec's state rules on a saved stateful Keras model (or a built-in "
        "one) and print a verdict per rule. Exit 0 when every rule passes (not applicable, "
        "info, and expected: a rule named by --expect that fails, are fine); 1 when one fails, "
        "errs, shows a known deviation that --expect does not name (see --allow-known), or "
        "passes though --expect names it (unexpected pass), or when --against finds a change; "
        "2 on bad input.",
    )
    check.add_argument("model", nargs="?", type=Path, metavar="MODEL", help="a saved model (.keras, or .h5 on Keras 2)")
    check.add_argument(
        "--example",
        metavar="NAME",
        help="check a kind of model of the catalogue (statefulness.check.kinds, e.g. tutorial, stacked-gru-lstm, "
        "bidirectional-lstm) instead of MODEL; an unknown NAME lists them",
    )
    check.add_argument(
        "--rules",
        nargs="+",
        metavar="RULE",
        help="only these rules, or families of rules ("
        + ", ".join(dict.fromkeys(family(rule) for rule in RULE_IDS))
        + "), or deployment (every exported-* rule)",
    )
    check.add_argument(
        "--deploy",
        action="store_true",
        help="also run the deployment rules: what each installed export route (model.export(), the LiteRT "
        "converter, statefulness export, ONNX) does with your model's state; each writes and loads an artifact",
    )
    check.add_argument("--seed", type=_seed, default=0, metavar="N", help="seed of the drawn inputs (default: 0)")
    check.add_argument(
        "--custom-objects",
        metavar="MODULE",
        help="a module (name or .py path) with your model's own layers: its CUSTOM_OBJECTS dict, "
        "else every Keras layer class it defines",
    )
    check.add_argument(
        "--expect",
        type=_expectation,
        action="append",
        metavar="RULE=REASON",
        help="a rule (id or family) you expect to fail on your model, and why: where it fails it is "
        "'expected', with your reason, and the exit status stays 0; where it passes it is an 'unexpected "
        "pass' and the exit status is 1 (repeatable)",
    )
    check.add_argument(
        "--allow-known",
        action="store_true",
        help="exit 0 even where a rule shows a known deviation of this Keras (any of them; --expect names yours)",
    )
    check.add_argument("--json", type=Path, metavar="PATH", help="write the report as JSON")
    before_after = check.add_mutually_exclusive_group()
    before_after.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="store the verdicts, and the outputs and states on drawn inputs, for --against",
    )
    before_after.add_argument(
        "--against", type=Path, metavar="FILE", help="compare with a record made by --record (e.g. before an upgrade)"
    )

    from statefulness.deploy import FORMATS

    export = sub.add_parser(
        "export",
        help="write a deployable copy of your saved stateful model (SavedModel or LiteRT) that keeps its state rules",
        description="Write a copy of a saved stateful Keras model for serving: it starts from zero state, "
        "refuses a request of another batch size, and has a reset endpoint (a signature without inputs in "
        "LiteRT). Exit 0 when written, 1 when the converter fails, 2 on bad input; nothing is left half-written.",
    )
    export.add_argument("model", type=Path, metavar="MODEL", help="a saved model (.keras, or .h5 on Keras 2)")
    export.add_argument(
        "output", type=Path, metavar="OUTPUT", help="where to write it: a new directory (saved_model) or file (litert)"
    )
    export.add_argument("--format", choices=FORMATS, default=FORMATS[0], help=f"default: {FORMATS[0]}")
    export.add_argument("--custom-objects", metavar="MODULE", help="a module with your model's own layers (as check)")

    matrix = sub.add_parser("matrix", help="a table of claims by environment, from claims reports")
    matrix.add_argument(
        "reports", nargs="+", type=Path, metavar="REPORT", help="claims reports written by `pytest --claims-report`"
    )
    matrix.add_argument(
        "--compare", action="store_true", help="with two reports: only the claims whose verdict changed between them"
    )
    matrix.add_argument("--output", type=Path, metavar="PATH", help="write the Markdown there too")
    matrix.add_argument(
        "--png",
        type=Path,
        metavar="PATH",
        help="also draw the claims by environment, coloured by verdict, as a PNG (needs matplotlib)",
    )
    matrix.add_argument(
        "--html",
        type=Path,
        metavar="DIR",
        help="also write the claims by environment as a page, DIR/index.html (DIR created): self-contained, "
        "filterable; a click on a cell shows its cases and, for a known deviation, diagnosis and workaround",
    )
    matrix.add_argument(
        "--commit",
        type=_commit,
        metavar="REV",
        help="with --html: the commit the page names (default: the reports' own, where they record one)",
    )
    matrix.add_argument(
        "--figures",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="show the observed figures beside each verdict (default: yes)",
    )
    matrix.add_argument(
        "--select",
        action="append",
        metavar="TEXT",
        help="only the claims whose id (<chapter>/<claim>) or test (spec/<file>::<test>) contains TEXT "
        "(repeatable: any of them)",
    )
    matrix.add_argument(
        "--deviations",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="list the known deviations met, with their diagnoses, below the table (default: yes)",
    )
    doc = sub.add_parser("spec-doc", help="render a claims report as a Markdown document, chapter by chapter")
    doc.add_argument("report", type=Path, metavar="REPORT", help="a claims report of the spec (pytest --claims-report)")
    doc.add_argument("--output", type=Path, metavar="PATH", help="write the Markdown there (default: stdout)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["spec"]:
        return _spec(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "run":
        return _run(args)
    if args.command == "spec-doc":
        return _spec_doc(args)
    if args.command == "check":
        return _check(args)
    if args.command == "export":
        return _export(args)
    return _matrix(args)


def _run(args) -> int:
    from statefulness.experiments import EXPERIMENTS

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
    from statefulness.experiments.workers import default_jobs, one_thread

    one_thread()  # before Keras loads: as its workers train (figures do not depend on the cores)
    from statefulness._keras import quiet_backend_logs
    from statefulness.experiments.report import judge, print_table, run_all, write_json, write_report

    quiet_backend_logs()  # the table is the output; TensorFlow's tracing advice is not about the claims

    names = list(dict.fromkeys(args.experiments)) or list(EXPERIMENTS)
    seeds = list(dict.fromkeys(args.seeds or [7]))
    jobs = min(args.jobs or default_jobs(), len(names) * len(seeds))
    progress = (sys.stderr.isatty() and jobs == 1) if args.progress is None else args.progress
    start = time.perf_counter()
    outcomes = run_all(names, seeds, full=args.full, progress=progress, jobs=jobs)
    verdicts = judge(outcomes)
    print_table(verdicts, outcomes, full=args.full, wall_s=time.perf_counter() - start)
    if args.json:
        write_json(args.json, outcomes, verdicts, full=args.full)
    if args.report:
        write_report(args.report, outcomes, verdicts, full=args.full)
    return 0 if all(v["holds"] for v in verdicts) else 1


SPEC_HELP = """usage: statefulness spec [PYTEST ARGUMENTS]

Run the specification that ships with this package against the Keras installed here, from any
directory: pytest with the spec's own plugin and configuration (not the directory's), the spec's
known deviations as strict xfails, and a header naming the Keras under test. It writes the claims report
to claims-keras<VERSION>-<BACKEND>.json in the current directory (--claims-report PATH to choose;
{keras} and {backend} in PATH are filled in), which `statefulness matrix --compare BEFORE AFTER`
compares with another. Runs on as many worker processes as there are cores (pytest-xdist, where
installed; -n N to choose). Exit status: pytest's.

  statefulness spec -m "not learning"      the exact claims only (no training)
  statefulness spec -k batch_size -x       any pytest selection
  statefulness spec --full                 the learning claims with the tutorial's full schedules
"""


def _spec(pytest_args: list[str]) -> int:
    if pytest_args[:1] in (["-h"], ["--help"]):
        print(SPEC_HELP, end="")
        return 0
    import importlib.util

    if importlib.util.find_spec("statefulness.spec") is None:
        return _usage("spec: this installation of statefulness has no spec (statefulness.spec is missing)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import pytest

    from statefulness.experiments.workers import default_jobs

    args = ["-c", str(Path(__file__).with_name("spec.ini")), "-p", "statefulness.pytest_plugin"]
    args += ["-o", f"cache_dir={Path.cwd() / '.pytest_cache'}", "--strict-markers", "--strict-config", "-ra"]
    given = " ".join(pytest_args)
    if "--claims-report" not in given and not os.environ.get("STATEFULNESS_CLAIMS_REPORT"):
        args += ["--claims-report", str(Path.cwd() / "claims-keras{keras}-{backend}.json")]
    jobs = default_jobs()
    if importlib.util.find_spec("xdist") is not None and not any(
        a.startswith(("-n", "--numprocesses")) for a in pytest_args
    ):
        args += ["-n", str(jobs), "--dist", "loadgroup"] if jobs > 1 else []
    return int(pytest.main([*args, *pytest_args, "--pyargs", "statefulness.spec"]))


def _check(args) -> int:
    if (args.model is None) == (args.example is None):
        return _usage("check: expected a saved MODEL or --example NAME (one of them)")
    if args.model is not None and not args.model.is_file():
        return _usage(f"MODEL: {args.model} is not a file")
    if args.against is not None and not args.against.is_file():
        return _usage(f"--against: {args.against} is not a file")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import json

    from statefulness._keras import quiet_backend_logs
    from statefulness.check import (
        EXAMPLES,
        check_model,
        compare_with_record,
        expected_failures,
        record_model,
        select_rules,
    )
    from statefulness.check.kinds import CUSTOM_OBJECTS

    quiet_backend_logs()
    expected = dict(args.expect or [])
    try:
        select_rules(args.rules, deploy=args.deploy)
        expected_failures(expected, "--expect")
        custom = _custom_objects(args.custom_objects) if args.custom_objects else None
    except (ValueError, ImportError, OSError) as error:
        return _usage(str(error))
    if args.example:
        if args.example not in EXAMPLES:
            return _usage(f"--example: unknown model {args.example!r}; expected one of {', '.join(EXAMPLES)}")
        model = EXAMPLES[args.example]()
        custom = {**CUSTOM_OBJECTS, **(custom or {})}
    else:
        model, failure = _load_model(args.model, custom)
        if failure:
            return _usage(failure)
    try:
        record: Any = json.loads(args.against.read_text()) if args.against else None
    except ValueError as error:
        return _usage(f"--against: {args.against} is not JSON: {error}")
    try:
        report = check_model(
            model,
            rules=args.rules,
            deploy=args.deploy,
            expected=expected,
            seed=record["seed"] if isinstance(record, dict) and "seed" in record else args.seed,
            custom_objects=custom,
        )
        changes = compare_with_record(model, record, report, custom_objects=custom) if args.against else []
    except (TypeError, ValueError) as error:
        return _usage(str(error))
    print(report.table())
    if args.against:
        print(
            f"\nagainst {args.against} (recorded with Keras {record['environment']['keras']}, backend "
            f"{record['environment']['backend']}): " + ("no change" if not changes else f"{len(changes)} changed")
        )
        for change in changes:
            print(f"  {change}")
    if args.json:
        args.json.write_text(json.dumps({**report.to_dict(), "changes": changes}, indent=1) + "\n")
    if args.record:
        args.record.write_text(json.dumps(record_model(model, report, custom_objects=custom)) + "\n")
        print(f"\nrecorded to {args.record}")
    return 0 if report.passed(allow_known=args.allow_known) and not changes else 1


def _load_model(path: Path, custom: dict | None):
    """The model saved at ``path``, and None; or None and what went wrong, in one line."""
    from statefulness._keras import keras

    try:
        return keras.models.load_model(path, custom_objects=custom, compile=False), None
    except Exception as error:  # noqa: BLE001 - whatever Keras raises, the user gets one line
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, f"MODEL: could not load a Keras model from {path}: {first}"


def _export(args) -> int:
    if not args.model.is_file():
        return _usage(f"MODEL: {args.model} is not a file")
    if args.output.exists():
        return _usage(
            f"OUTPUT: {args.output} exists; export writes a new {'file' if args.format == 'litert' else 'directory'}"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from statefulness._keras import quiet_backend_logs
    from statefulness.deploy import litert
    from statefulness.deploy.export import export

    quiet_backend_logs()
    try:
        custom = _custom_objects(args.custom_objects) if args.custom_objects else None
    except (ValueError, ImportError, OSError) as error:
        return _usage(str(error))
    model, failure = _load_model(args.model, custom)
    if failure:
        return _usage(failure)
    try:
        written = export(model, args.output, format=args.format, custom_objects=custom)
    except (TypeError, ValueError, RuntimeError) as error:
        if isinstance(error, (litert.ConverterFailed, litert.ConverterCrashed)):
            print(f"statefulness: {error}", file=sys.stderr)
            return 1
        return _usage(str(error))
    print(f"wrote {written} ({args.format}): serve takes batches of {model.inputs[0].shape[0]}, reset zeroes the state")
    return 0


def _custom_objects(module: str) -> dict:
    """The custom objects of ``--custom-objects``: a module's ``CUSTOM_OBJECTS``, else its Keras layers."""
    import importlib
    import importlib.util

    from statefulness._keras import keras

    if module.endswith(".py"):
        spec = importlib.util.spec_from_file_location(Path(module).stem, module)
        if spec is None or spec.loader is None or not Path(module).is_file():
            raise OSError(f"--custom-objects: {module} is not a file")
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
    else:
        sys.path.insert(0, os.getcwd())
        try:
            loaded = importlib.import_module(module)
        except ImportError as error:
            raise ImportError(f"--custom-objects: cannot import {module!r}: {error}") from None
    found = getattr(loaded, "CUSTOM_OBJECTS", None)
    if found is None:
        found = {
            name: obj
            for name, obj in vars(loaded).items()
            if isinstance(obj, type) and issubclass(obj, keras.layers.Layer) and obj.__module__ == loaded.__name__
        }
    if not isinstance(found, dict) or not found:
        raise ValueError(f"--custom-objects: {module} has no CUSTOM_OBJECTS dict and defines no Keras layer")
    return found


def _matrix(args) -> int:
    from statefulness.reports.matrix import compare, load_report, matrix_markdown, matrix_png

    for flag, value in (("--png", args.png), ("--html", args.html)):
        if value is not None and args.compare:
            return _usage(f"{flag} draws the whole matrix; it does not go with --compare")
    if args.commit is not None and args.html is None:
        return _usage("--commit names the commit of the page; it goes with --html")
    if args.html is not None and args.html.exists() and not args.html.is_dir():
        return _usage(f"--html: {args.html} exists and is not a directory")
    if args.png is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            return _usage("--png needs matplotlib: pip install 'statefulness[plots]'")
    try:
        reports = [load_report(p) for p in args.reports]
    except (OSError, ValueError) as error:
        return _usage(str(error))
    if args.compare and len(reports) != 2:
        return _usage(f"--compare takes exactly two reports, got {len(reports)}")
    if args.select:
        for report in reports:
            report.claims = [c for c in report.claims if any(t in c.claim or t in c.test for t in args.select)]
        if not any(report.claims for report in reports):
            return _usage(f"--select: no claim contains any of {', '.join(map(repr, args.select))}")
    if args.html is not None:
        from statefulness.reports.matrix_page import write_page

        try:
            write_page(reports, args.html, commit=args.commit)
        except OSError as error:
            return _usage(f"--html: cannot write {args.html}: {error.strerror or error}")
    text = (
        compare(*reports)
        if args.compare
        else matrix_markdown(reports, figures=args.figures, deviations=args.deviations)
    )
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    if args.png:
        matrix_png(reports, args.png)
    return 0


def _spec_doc(args) -> int:
    from statefulness.reports.matrix import load_report, spec_document

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
