"""Claims reports (``pytest --claims-report PATH``) from several environments, as one table.

A report (``statefulness/reports/claims_report.py``) holds the environment (Python, Keras, backend,
TensorFlow/JAX/PyTorch versions) and, per claim (a spec test's case, by its stable id), its verdict: pass,
fail, known deviation or skipped, with the figures observed. Reports line up by the claims' stable ids, so
a report written before a test was renamed, or before the ids were stable, compares with one written after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from statefulness.reports.claims_report import ClaimEntry, ClaimsReport
from statefulness.verdict import Verdict

MARK = {Verdict.PASS: "pass", Verdict.FAIL: "**FAIL**", Verdict.KNOWN_DEVIATION: "deviation", Verdict.SKIPPED: "skip"}


def load_report(path: Path) -> ClaimsReport:
    """The claims report at ``path`` (``ClaimsReport.load``: a ``ValueError`` naming it where it is none)."""
    return ClaimsReport.load(path)


def env_label(report: ClaimsReport) -> str:
    env = report.environment
    name = env.get("env") or Path(report.path or "report").stem
    backend = env["backend"] if env["backend"] == "tensorflow" else f"{env['backend']} {env.get(env['backend'], '')}"
    tf = f"TF {env['tensorflow']}, " if "tensorflow" in env and env["backend"] == "tensorflow" else ""
    return f"{name} ({tf}Keras {env['keras']}{'' if env['backend'] == 'tensorflow' else ', ' + backend.strip()})"


def _claim_name(claim: str) -> str:
    """A claim as the tables name it: its stable id; an old report's id that maps to none
    (``spec/<file>::<test>``, see ``claims_report.stable_id``) shortened to ``<file>::<test>``."""
    path, _, name = claim.partition("::")
    if "::" not in claim.partition("[")[0]:
        return claim
    return f"{Path(path).stem.removeprefix('test_')}::{name.removeprefix('test_')}"


def _name_in_chapter(claim: str) -> str:
    """A claim's id within its chapter, ``<claim>[<params>]`` (an old id that maps to none: ``<test>[<params>]``)."""
    return claim.split("::", 1)[1] if "::" in claim.partition("[")[0] else claim.split("/", 1)[-1]


def in_chapter_order(reports: list[ClaimsReport], key: Callable[[ClaimEntry], str] = lambda e: e.claim) -> list[str]:
    """The ``key`` of every entry of the reports (by default its claim id), chapter by chapter in the order
    of the spec's files (the entry's test's), then by key."""
    files: dict[str, str] = {}
    for report in reports:
        for entry in report.claims:
            files[key(entry)] = min(files.get(key(entry), entry.test_file), entry.test_file)
    return sorted(files, key=lambda found: (files[found], found))


def _cell(entry: ClaimEntry | None, figures: bool = True) -> str:
    if entry is None:
        return "–"
    seen = ", ".join(f"{k}={_short(v)}" for k, v in entry.observed.items()) if figures else ""
    return MARK.get(entry.verdict, entry.verdict) + (f" ({seen})" if seen else "")


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def matrix_markdown(reports: list[ClaimsReport], figures: bool = True, deviations: bool = True) -> str:
    claims = in_chapter_order(reports)
    by_env = [{c.claim: c for c in r.claims} for r in reports]
    lines = ["| claim | " + " | ".join(env_label(r) for r in reports) + " |", "|---|" + "---|" * len(reports)]
    for claim in claims:
        lines.append(f"| {_claim_name(claim)} | " + " | ".join(_cell(e.get(claim), figures) for e in by_env) + " |")
    totals = []
    for entries in by_env:
        counts: dict[str, int] = {}
        for entry in entries.values():
            counts[entry.verdict] = counts.get(entry.verdict, 0) + 1
        totals.append(", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    lines.append("| **totals** | " + " | ".join(totals) + " |")
    wall = [f"{sum(c.duration_s or 0 for c in r.claims):.0f} s" for r in reports]
    lines.append("| **test time** (sum over tests) | " + " | ".join(wall) + " |")
    return "\n".join(lines + (deviations_markdown(reports) if deviations else []))


def deviations_markdown(reports: list[ClaimsReport]) -> list[str]:
    """The known deviations met in the reports: each diagnosis once, with its claims and environments.

    Each claim's test is its own minimal reproduction: run that one test (``pytest "spec/...::test_..."``).
    """
    seen: dict[str, dict[tuple[str, str], list[str]]] = {}
    tests: dict[str, str] = {}
    for report in reports:
        for entry in report.claims:
            if entry.verdict == Verdict.KNOWN_DEVIATION:
                claims = seen.setdefault(entry.deviation or "(no diagnosis recorded)", {})
                claims.setdefault((entry.claim, entry.consequence or ""), []).append(env_label(report).split(" (")[0])
                tests.setdefault(entry.claim, entry.test)
    if not seen:
        return []
    lines = [
        "",
        "## Known deviations",
        "",
        "Each diagnosis once, then the claims it covers, each with its test (its reproduction: "
        '`pytest "<test>"`), and the environments where it was met.',
    ]
    for number, (diagnosis, claims) in enumerate(seen.items(), 1):
        lines += ["", f"{number}. {diagnosis}"]
        lines += [
            f"   - `{_claim_name(claim)}` (`{tests[claim]}`): {', '.join(envs)}"
            + (f". {consequence}" if consequence else "")
            for (claim, consequence), envs in claims.items()
        ]
    return lines


SOME_CASES = f"{Verdict.KNOWN_DEVIATION.value} (some cases)"
NOT_RUN = "not run"
GRID = (Verdict.PASS.value, SOME_CASES, Verdict.KNOWN_DEVIATION.value, Verdict.FAIL.value, NOT_RUN)
"""The verdict of a claim in an environment, in the picture: per spec test, over its parameters (folded
from the verdicts of its cases, ``Verdict``, by ``fold``)."""

COLOURS = {
    Verdict.PASS.value: "#4daf4a",
    SOME_CASES: "#fdd49e",
    Verdict.KNOWN_DEVIATION.value: "#fd8d3c",
    Verdict.FAIL.value: "#d7191c",
    NOT_RUN: "#e0e0e0",
}


def spec_test(claim: str) -> str:
    """The claim of a spec test, from the id of one of its cases (``<chapter>/<claim>[<params>]``): its
    parameters dropped."""
    return claim.partition("[")[0]


def fold(verdicts: Iterable[str]) -> str:
    """One verdict of ``GRID`` for a spec test in one environment, from the verdicts of its cases.

    It fails where any case fails; is a known deviation where every case that ran is one, and a known
    deviation in some cases where some are; passes where every case that ran passes; is not run where none
    ran (skipped cases do not count)."""
    ran = set(verdicts) - {Verdict.SKIPPED}
    if Verdict.FAIL in ran:
        return Verdict.FAIL.value
    if not ran:
        return NOT_RUN
    if ran == {Verdict.KNOWN_DEVIATION}:
        return Verdict.KNOWN_DEVIATION.value
    return SOME_CASES if Verdict.KNOWN_DEVIATION in ran else Verdict.PASS.value


def cases_by_test(reports: list[ClaimsReport]) -> tuple[list[str], list[list[list[ClaimEntry]]]]:
    """The claims of the reports, one per spec test (its stable id without parameters), chapter by chapter
    (``in_chapter_order``), and for each claim and report the entries of its cases."""
    tests = in_chapter_order(reports, key=lambda entry: entry.spec_claim)
    row = {test: index for index, test in enumerate(tests)}
    cases: list[list[list[ClaimEntry]]] = [[[] for _ in reports] for _ in tests]
    for column, report in enumerate(reports):
        for entry in report.claims:
            cases[row[entry.spec_claim]][column].append(entry)
    return tests, cases


def env_short(report: ClaimsReport) -> str:
    """An environment in a few words: its name and Keras version (a column's heading)."""
    return f"{env_label(report).split(' (')[0]} · Keras {report.environment['keras']}"


def verdict_grid(reports: list[ClaimsReport]) -> tuple[list[str], list[str], list[list[str]]]:
    """Claims (one per spec test, its parameters folded) by environment: a verdict of ``GRID`` per cell,
    folded from the test's cases by ``fold``."""
    tests, cases = cases_by_test(reports)
    grid = [[fold(entry.verdict for entry in cell) for cell in row] for row in cases]
    return [_claim_name(test) for test in tests], [env_short(r) for r in reports], grid


def matrix_png(reports: list[ClaimsReport], path: Path) -> None:
    """Draw ``verdict_grid``: claims down, environments across, each cell coloured by its verdict."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    rows, envs, grid = verdict_grid(reports)
    codes = [[GRID.index(cell) for cell in cells] for cells in grid]
    fig, ax = plt.subplots(figsize=(4 + 0.55 * len(envs) + 4.5, 1.6 + 0.19 * len(rows)))
    ax.imshow(codes, cmap=ListedColormap([COLOURS[v] for v in GRID]), vmin=0, vmax=len(GRID) - 1, aspect="auto")
    ax.set_xticks(range(len(envs)), envs, rotation=60, ha="left", fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(rows)), [r if len(r) <= 95 else r[:94] + "…" for r in rows], fontsize=6.5)
    ax.set_xticks([x - 0.5 for x in range(1, len(envs))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    ax.grid(which="minor", color="white", linewidth=0.6)
    ax.tick_params(which="minor", length=0)
    ax.legend(
        handles=[Patch(color=COLOURS[v], label=v) for v in GRID],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
    )
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def compare(before: ClaimsReport, after: ClaimsReport) -> str:
    """The claims whose verdict differs between two reports, by stable id: the upgrade check."""
    old = {c.claim: c for c in before.claims}
    new = {c.claim: c for c in after.claims}
    lines = [
        f"Changes from {env_label(before)} to {env_label(after)}:",
        "",
        "| claim | before | after |",
        "|---|---|---|",
    ]
    verdicts = [{claim: entry.verdict for claim, entry in found.items()} for found in (old, new)]
    changed = [c for c in in_chapter_order([before, after]) if verdicts[0].get(c) != verdicts[1].get(c)]
    lines += [f"| {_claim_name(c)} | {_cell(old.get(c))} | {_cell(new.get(c))} |" for c in changed]
    if not changed:
        lines.append("| (none: every claim has the same verdict) | | |")
    return "\n".join(lines)


def spec_document(report: ClaimsReport) -> str:
    """Every claim of one report, grouped by chapter (its test's file), with its verdict and what was observed."""
    env = report.environment
    lines = [
        "# The specification, claim by claim",
        "",
        f"Generated by `statefulness spec-doc` from a run of the spec on Keras {env['keras']} "
        f"({env['backend']}"
        + (f", TensorFlow {env['tensorflow']}" if "tensorflow" in env else "")
        + f", Python {env['python']}) on {report.created or '?'}"
        + (f", at commit {report.commit}" if report.commit else "")
        + ". Verdicts: pass, fail, known deviation "
        "(the claim fails here as diagnosed in `statefulness/deviations/registry.py`), skipped.",
    ]
    chapters: dict[str, list[ClaimEntry]] = {}
    by_id = {claim.claim: claim for claim in report.claims}
    for claim_id in in_chapter_order([report]):
        chapters.setdefault(by_id[claim_id].test_file, []).append(by_id[claim_id])
    for path, claims in chapters.items():
        title = Path(path).stem.removeprefix("test_").replace("_", " ")
        lines += ["", f"## {title}", "", f"_{claims[0].chapter}_ ([{path}](../{path}))", ""]
        for claim in claims:
            name = _name_in_chapter(claim.claim)
            lines.append(f"- **{MARK.get(claim.verdict, claim.verdict)}** `{name}`: {claim.doc}")
            for key, value in claim.observed.items():
                lines.append(f"  - observed {key}: {_short(value)}")
            if claim.deviation:
                lines.append(f"  - {claim.deviation}" + (f" {claim.consequence}" if claim.consequence else ""))
    return "\n".join(lines) + "\n"
