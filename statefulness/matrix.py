"""Claims reports (``pytest --claims-report PATH``) from several environments, as one table.

A report holds the environment (Python, Keras, backend, TensorFlow/JAX/PyTorch versions) and, per
claim (a spec test), its verdict: pass, fail, known deviation or skipped, with the figures observed.
"""

from __future__ import annotations

import json
from pathlib import Path

MARK = {"pass": "pass", "fail": "**FAIL**", "known deviation": "deviation", "skipped": "skip"}


def load_report(path: Path) -> dict:
    try:
        report = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not a claims report (invalid JSON: {error})") from None
    if not isinstance(report, dict) or "claims" not in report or "environment" not in report:
        raise ValueError(f"{path}: not a claims report (expected 'environment' and 'claims')")
    report["path"] = str(path)
    return report


def env_label(report: dict) -> str:
    env = report["environment"]
    name = env.get("env") or Path(report["path"]).stem
    backend = env["backend"] if env["backend"] == "tensorflow" else f"{env['backend']} {env.get(env['backend'], '')}"
    tf = f"TF {env['tensorflow']}, " if "tensorflow" in env and env["backend"] == "tensorflow" else ""
    return f"{name} ({tf}Keras {env['keras']}{'' if env['backend'] == 'tensorflow' else ', ' + backend.strip()})"


def _claim_name(claim: str) -> str:
    path, _, name = claim.partition("::")
    return f"{Path(path).stem.removeprefix('test_')}::{name.removeprefix('test_')}"


def _cell(entry: dict | None, figures: bool = True) -> str:
    if entry is None:
        return "–"
    seen = ", ".join(f"{k}={_short(v)}" for k, v in entry.get("observed", {}).items()) if figures else ""
    return MARK.get(entry["verdict"], entry["verdict"]) + (f" ({seen})" if seen else "")


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def matrix_markdown(reports: list[dict], figures: bool = True, deviations: bool = True) -> str:
    claims = sorted({c["claim"] for r in reports for c in r["claims"]})
    by_env = [{c["claim"]: c for c in r["claims"]} for r in reports]
    lines = ["| claim | " + " | ".join(env_label(r) for r in reports) + " |", "|---|" + "---|" * len(reports)]
    for claim in claims:
        lines.append(f"| {_claim_name(claim)} | " + " | ".join(_cell(e.get(claim), figures) for e in by_env) + " |")
    totals = []
    for entries in by_env:
        counts: dict[str, int] = {}
        for entry in entries.values():
            counts[entry["verdict"]] = counts.get(entry["verdict"], 0) + 1
        totals.append(", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    lines.append("| **totals** | " + " | ".join(totals) + " |")
    wall = [f"{sum(c.get('duration_s', 0) for c in r['claims']):.0f} s" for r in reports]
    lines.append("| **test time** (sum over tests) | " + " | ".join(wall) + " |")
    return "\n".join(lines + (deviations_markdown(reports) if deviations else []))


def deviations_markdown(reports: list[dict]) -> list[str]:
    """The known deviations met in the reports: each diagnosis once, with its claims and environments.

    Each claim is its own minimal reproduction: run that one test (``pytest "spec/...::test_..."``).
    """
    seen: dict[str, dict[tuple[str, str], list[str]]] = {}
    for report in reports:
        for entry in report["claims"]:
            if entry["verdict"] == "known deviation":
                claims = seen.setdefault(entry.get("deviation", "(no diagnosis recorded)"), {})
                claims.setdefault((entry["claim"], entry.get("consequence", "")), []).append(
                    env_label(report).split(" (")[0]
                )
    if not seen:
        return []
    lines = [
        "",
        "## Known deviations",
        "",
        "Each diagnosis once, then the claims it covers (each claim's test is its reproduction: "
        '`pytest "<claim>"`) and the environments where it was met.',
    ]
    for number, (diagnosis, claims) in enumerate(seen.items(), 1):
        lines += ["", f"{number}. {diagnosis}"]
        lines += [
            f"   - `{claim}`: {', '.join(envs)}" + (f". {consequence}" if consequence else "")
            for (claim, consequence), envs in claims.items()
        ]
    return lines


GRID = ("pass", "known deviation (some cases)", "known deviation", "fail", "not run")
"""The verdict of a claim in an environment, in the picture: per spec test, over its parameters."""

COLOURS = {
    "pass": "#4daf4a",
    "known deviation (some cases)": "#fdd49e",
    "known deviation": "#fd8d3c",
    "fail": "#d7191c",
    "not run": "#e0e0e0",
}


def spec_test(claim: str) -> str:
    """The spec test of a claim id (``file::test[params]``): its parameters dropped."""
    return claim.partition("[")[0]


def fold(verdicts) -> str:
    """One verdict of ``GRID`` for a spec test in one environment, from the verdicts of its cases.

    It fails where any case fails; is a known deviation where every case that ran is one, and a known
    deviation in some cases where some are; passes where every case that ran passes; is not run where none
    ran (skipped cases do not count)."""
    ran = set(verdicts) - {"skipped"}
    if "fail" in ran:
        return "fail"
    if not ran:
        return "not run"
    if ran == {"known deviation"}:
        return "known deviation"
    return "known deviation (some cases)" if "known deviation" in ran else "pass"


def cases_by_test(reports: list[dict]) -> tuple[list[str], list[list[list[dict]]]]:
    """The spec tests of the reports, sorted, and for each test and report the entries of its cases."""
    tests = sorted({spec_test(c["claim"]) for r in reports for c in r["claims"]})
    row = {test: index for index, test in enumerate(tests)}
    cases: list[list[list[dict]]] = [[[] for _ in reports] for _ in tests]
    for column, report in enumerate(reports):
        for entry in report["claims"]:
            cases[row[spec_test(entry["claim"])]][column].append(entry)
    return tests, cases


def env_short(report: dict) -> str:
    """An environment in a few words: its name and Keras version (a column's heading)."""
    return f"{env_label(report).split(' (')[0]} · Keras {report['environment']['keras']}"


def verdict_grid(reports: list[dict]) -> tuple[list[str], list[str], list[list[str]]]:
    """Claims (one per spec test, its parameters folded) by environment: a verdict of ``GRID`` per cell,
    folded from the test's cases by ``fold``."""
    tests, cases = cases_by_test(reports)
    grid = [[fold(entry["verdict"] for entry in cell) for cell in row] for row in cases]
    return [_claim_name(test) for test in tests], [env_short(r) for r in reports], grid


def matrix_png(reports: list[dict], path: Path) -> None:
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


def compare(before: dict, after: dict) -> str:
    """The claims whose verdict differs between two reports: the upgrade check."""
    old = {c["claim"]: c for c in before["claims"]}
    new = {c["claim"]: c for c in after["claims"]}
    lines = [
        f"Changes from {env_label(before)} to {env_label(after)}:",
        "",
        "| claim | before | after |",
        "|---|---|---|",
    ]
    changed = [
        c for c in sorted(set(old) | set(new)) if (old.get(c) or {}).get("verdict") != (new.get(c) or {}).get("verdict")
    ]
    lines += [f"| {_claim_name(c)} | {_cell(old.get(c))} | {_cell(new.get(c))} |" for c in changed]
    if not changed:
        lines.append("| (none: every claim has the same verdict) | | |")
    return "\n".join(lines)


def spec_document(report: dict) -> str:
    """Every claim of one report, grouped by chapter, with its verdict and what was observed."""
    env = report["environment"]
    lines = [
        "# The specification, claim by claim",
        "",
        f"Generated by `statefulness spec-doc` from a run of the spec on Keras {env['keras']} "
        f"({env['backend']}"
        + (f", TensorFlow {env['tensorflow']}" if "tensorflow" in env else "")
        + f", Python {env['python']}) on {report.get('created', '?')}"
        + (f", at commit {report['commit']}" if report.get("commit") else "")
        + ". Verdicts: pass, fail, known deviation "
        "(the claim fails here as diagnosed in `statefulness/known_deviations.py`), skipped.",
    ]
    chapters: dict[str, list[dict]] = {}
    for claim in report["claims"]:
        chapters.setdefault(claim["claim"].split("::")[0], []).append(claim)
    for path, claims in sorted(chapters.items()):
        title = Path(path).stem.removeprefix("test_").replace("_", " ")
        lines += ["", f"## {title}", "", f"_{claims[0].get('chapter', '')}_ ([{path}](../{path}))", ""]
        for claim in claims:
            name = claim["claim"].split("::", 1)[1]
            lines.append(f"- **{MARK.get(claim['verdict'], claim['verdict'])}** `{name}`: {claim.get('doc', '')}")
            for key, value in claim.get("observed", {}).items():
                lines.append(f"  - observed {key}: {_short(value)}")
            if claim.get("deviation"):
                lines.append(
                    f"  - {claim['deviation']}" + (f" {claim['consequence']}" if claim.get("consequence") else "")
                )
    return "\n".join(lines) + "\n"
