"""The generated documents: each is rendered from its sources alone and never edited by hand afterwards.
Run in a checkout's root (or name it with ``--root``):

    python -m statefulness.reports.documents            # write them all (and docs/matrix.png)
    python -m statefulness.reports.documents --check    # exit 1, naming them, where a document differs from its sources

=====================  ===============================================================================
document               sources
=====================  ===============================================================================
COMPATIBILITY.md       the claims reports in docs/reports/ (one per env of tox.ini), the registry of
                       known deviations, docs/MIGRATING.md, docs/upstream/
docs/FINDINGS.md       the registry (statefulness/deviations/registry.py), docs/MIGRATING.md, docs/upstream/
docs/SPEC.md           docs/reports/claims-tf221.json (the default env's claims report)
docs/RULES.md          the rules of ``statefulness check`` (statefulness/check/rules.py)
=====================  ===============================================================================

A claims report lands in docs/reports/ by ``tox -e ENV`` (which writes reports/claims-ENV.json) and a copy:
``cp reports/claims-tf221.json docs/reports/``. Each report names the commit it was run at; the documents say
it. ``tests/test_documents.py`` fails when a document is stale. docs/matrix.png is drawn from the same reports
but not compared (matplotlib's bytes vary with its version).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from statefulness.deviations import DEVIATIONS, Deviation
from statefulness.reports import environments
from statefulness.reports.claims_report import ClaimsReport
from statefulness.reports.matrix import (
    GRID,
    NOT_RUN,
    SOME_CASES,
    _claim_name,
    cases_by_test,
    env_label,
    fold,
    load_report,
)
from statefulness.reports.matrix_page import registry_entry, workarounds
from statefulness.verdict import Verdict

REPORTS = Path("docs/reports")
DEFAULT_ENV = "tf221"
GENERATOR = "python -m statefulness.reports.documents"

MARK = {
    Verdict.PASS.value: "pass",
    Verdict.KNOWN_DEVIATION.value: "deviation",
    SOME_CASES: "some",
    Verdict.FAIL.value: "**FAIL**",
    NOT_RUN: "–",
}
"""A verdict of ``GRID`` in a Markdown cell."""
assert set(MARK) == set(GRID)


def tox_lists(root: Path) -> tuple[list[str], dict[str, list[str]]]:
    """The matrix of tox.ini (the names of its ``[matrix] envs``) and tox's labels (``prerelease`` among them),
    each a list of envs (``statefulness.reports.environments``)."""
    tox_ini = root / "tox.ini"
    return [env.name for env in environments.read(tox_ini) if not env.prerelease], environments.labels(tox_ini)


def tox_envs(root: Path) -> list[str]:
    """The envs of tox.ini's table: the matrix, then the pre-release ones."""
    return [env.name for env in environments.read(root / "tox.ini")]


def ci_matrix(root: Path) -> dict:
    """The CI workflow's job matrix, made from tox.ini: one job per env, the pre-release ones allowed to fail."""
    env_list, _ = tox_lists(root)
    return {"include": [{"env": env, "prerelease": env not in env_list} for env in tox_envs(root)]}


def _reports(root: Path) -> tuple[list[ClaimsReport], list[str]]:
    """The claims reports of docs/reports/ in tox.ini's order, and the envs of tox.ini without one."""
    envs = tox_envs(root)
    found = {path.stem.removeprefix("claims-"): path for path in (root / REPORTS).glob("claims-*.json")}
    unknown = sorted(set(found) - set(envs))
    if unknown:
        raise ValueError(f"{REPORTS}: reports of envs that tox.ini does not define: {', '.join(unknown)}")
    reports = []
    for env in envs:
        if env in found:
            report = load_report(found[env])
            report.environment["env"] = env
            report.path = (REPORTS / found[env].name).as_posix()
            reports.append(report)
    return reports, [env for env in envs if env not in found]


def _upstream_reports(root: Path) -> dict[str, str]:
    """The ready-to-file reports of docs/upstream/ by the deviation they report (their ``Deviation:`` line)."""
    found = {}
    for path in sorted((root / "docs/upstream").glob("*.md")):
        match = re.search(r"(?m)^Deviation: (.+)$", path.read_text(encoding="utf-8"))
        if match:
            found[match.group(1).strip()] = f"docs/upstream/{path.name}"
    return found


def _where(deviation: Deviation, upstream: dict[str, str], sections: dict[str, dict], prefix: str) -> list[str]:
    """A deviation's range, upstream thread or ready report, and workaround, as Markdown lines."""
    lines = [
        f"- Where: Keras `{deviation.keras}` on {', '.join(deviation.backends)}; "
        f"the claims fail with `{deviation.raises}`."
    ]
    if deviation.upstream:
        lines.append(f"- Upstream: {deviation.upstream}")
    if deviation.id in upstream:
        lines.append(f"- Ready to file: [{upstream[deviation.id]}]({prefix}{upstream[deviation.id]})")
    section = sections.get(deviation.id)
    if section:
        lines.append(
            f"- Workaround: [{section['title']}]({prefix}docs/MIGRATING.md#{section['anchor']}) (run as a test)"
        )
    else:
        lines.append("- Workaround: none in docs/MIGRATING.md")
    return lines


def _wrap(text: str) -> str:
    """A paragraph in lines of at most 110 characters (Markdown joins them again)."""
    return textwrap.fill(text, width=110, break_long_words=False, break_on_hyphens=False)


def _provenance(sources: str) -> str:
    return f"<!-- Generated by `{GENERATOR}` from {sources}. Do not edit: change the sources and regenerate. -->"


def _short_test(claim: str) -> str:
    """A claim (one spec test, its cases folded) as the tables name it: its stable id."""
    return _claim_name(claim)


def compatibility(root: Path) -> str:
    """COMPATIBILITY.md: the environments, the verdict of every claim in each, and each deviation met."""
    reports, missing = _reports(root)
    sections = workarounds((root / "docs/MIGRATING.md").read_text(encoding="utf-8"))
    upstream = _upstream_reports(root)
    tests, cases = cases_by_test(reports)
    lines = [
        _provenance("the claims reports in docs/reports/ and the registry of known deviations"),
        "# Compatibility: the spec on each environment of tox.ini",
        "",
        "Each column is one env's claims report (`tox -e ENV`, or `statefulness spec` where Keras is installed),",
        "each row one claim of the spec (a test, its cases folded). **pass**; **deviation**: a known deviation,",
        "run as a strict xfail, so a fix upstream turns the env red until the registry is updated; **some**: a",
        "known deviation in some of the claim's cases; **FAIL**; –: not run there. The page",
        "`statefulness matrix docs/reports/*.json --html DIR` shows the same, filterable, with every case.",
        "",
        "![Claims by environment, coloured by verdict](docs/matrix.png)",
        "",
        "## Environments",
        "",
        "Each env's claims report names the commit and date of its run; the wall time is pytest's session there",
        "(the default tier: `tox -e ENV`, two workers), on whatever else the machine was running then.",
        "",
        "| env | environment | run at | claims | wall time |",
        "|---|---|---|---|---:|",
    ]
    for report in reports:
        counts: dict[str, int] = {}
        for entry in report.claims:
            counts[entry.verdict] = counts.get(entry.verdict, 0) + 1
        env = report.environment
        wall = f"{report.wall_s:.0f} s" if report.wall_s is not None else "–"
        lines.append(
            f"| [{env['env']}]({report.path}) | {env_label(report).split(' (', 1)[1].rstrip(')')} "
            f"| {report.commit or '?'}, {(report.created or '?')[:10]} "
            f"| {', '.join(f'{n} {v}' for v, n in sorted(counts.items()))} | {wall} |"
        )
    if missing:
        lines += [
            "",
            f"Not run for these documents (no report in docs/reports/): {', '.join(missing)}. "
            f"`tox -e ENV`, copy `reports/claims-ENV.json` there, then `{GENERATOR}`.",
        ]
    lines += [
        "",
        "## Claims by environment",
        "",
        "| chapter/claim | " + " | ".join(r.environment["env"] for r in reports) + " |",
        "|---|" + "---|" * len(reports),
    ]
    for test, row in zip(tests, cases, strict=True):
        cells = [MARK[fold(entry.verdict for entry in cell)] for cell in row]
        lines.append(f"| {_short_test(test)} | " + " | ".join(cells) + " |")
    met: dict[str, dict[str, set[str]]] = {}
    for report in reports:
        for entry in report.claims:
            deviation = registry_entry(entry) if entry.verdict == Verdict.KNOWN_DEVIATION else None
            if deviation is not None:
                met.setdefault(deviation.id, {}).setdefault(entry.spec_claim, set()).add(report.environment["env"])
    lines += [
        "",
        "## Known deviations met",
        "",
        "Each with its diagnosis; all of them: [docs/FINDINGS.md](docs/FINDINGS.md).",
        "",
    ]
    by_id = {deviation.id: deviation for deviation in DEVIATIONS}
    order = [r.environment["env"] for r in reports]
    for deviation_id, claims in met.items():
        deviation = by_id[deviation_id]
        envs = sorted({e for found in claims.values() for e in found}, key=order.index)
        lines += [
            "<details>",
            f"<summary><b>{deviation.id}</b>: {len(claims)} claim{'s' * (len(claims) != 1)} in "
            f"{', '.join(envs)}</summary>",
            "",
            _wrap(deviation.diagnosis),
            "",
            *_where(deviation, upstream, sections, ""),
            "",
            *[
                f"- `{_short_test(test)}`: {', '.join(sorted(found, key=order.index))}"
                for test, found in claims.items()
            ],
            "",
            "</details>",
            "",
        ]
    learning = [
        (test, row)
        for test, row in zip(tests, cases, strict=True)
        if any("learning" in entry.markers for cell in row for entry in cell)
    ]
    if learning:
        lines += [
            "## Figures of the learning claims",
            "",
            "Seed 7, the default tier (`pytest --full` and `statefulness run --full` train the full schedules).",
            "",
            "| chapter/claim | " + " | ".join(order) + " |",
            "|---|" + "---|" * len(reports),
        ]
        for test, row in learning:
            cells = [
                "<br>".join(
                    f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                    for entry in cell
                    for k, v in entry.observed.items()
                )
                or "–"
                for cell in row
            ]
            lines.append(f"| {_short_test(test)} | " + " | ".join(cells) + " |")
    return "\n".join(lines).rstrip() + "\n"


def findings(root: Path) -> str:
    """docs/FINDINGS.md: every known deviation of the registry, with its diagnosis, range, the claims and
    rules it makes fail, its upstream thread or ready report, and its workaround."""
    sections = workarounds((root / "docs/MIGRATING.md").read_text(encoding="utf-8"))
    upstream = _upstream_reports(root)
    lines = [
        _provenance("statefulness/deviations/registry.py, docs/MIGRATING.md and docs/upstream/"),
        "# Findings: where Keras does not do what the claims say",
        "",
        "Every known deviation of the registry",
        "([statefulness/deviations/registry.py](../statefulness/deviations/registry.py)): where it shows (Keras",
        "versions, backends; measured at both ends), why (the diagnosis names Keras's source),",
        "the spec's claims it makes fail (each a strict xfail there) and the rules of `statefulness check` it",
        "makes fail on a user's model. Which env met which: [COMPATIBILITY.md](../COMPATIBILITY.md).",
    ]
    for deviation in DEVIATIONS:
        lines += [
            "",
            f"## {deviation.id}",
            "",
            _wrap(deviation.diagnosis),
            "",
            *_where(deviation, upstream, sections, "../"),
        ]
        if deviation.tests:
            lines.append("- Claims it makes fail:")
            for covers in deviation.tests:
                consequence = f" ({covers.consequence})" if covers.consequence else ""
                lines.append(f"  - `{covers}`{consequence}")
        if deviation.rules:
            on = f" on models where `{deviation.when}`" if deviation.when else ""
            lines.append(
                f"- Rules of `statefulness check` it makes fail{on}: " + ", ".join(f"`{r}`" for r in deviation.rules)
            )
    return "\n".join(lines) + "\n"


def spec(root: Path) -> str:
    """docs/SPEC.md: every claim of the default env's report, chapter by chapter."""
    from statefulness.reports.matrix import spec_document

    report = load_report(root / REPORTS / f"claims-{DEFAULT_ENV}.json")
    return _provenance(f"docs/reports/claims-{DEFAULT_ENV}.json") + "\n" + spec_document(report)


def rules(root: Path) -> str:
    """docs/RULES.md: the rules of ``statefulness check``, each with its statement."""
    from statefulness.check import RULES

    lines = [
        _provenance("the rules of statefulness/check/rules.py"),
        "# The rules of `statefulness check`",
        "",
        "The spec's exact claims about state, in generic form, run on any built Keras model with a stateful",
        "recurrent layer (`statefulness check MODEL`, `statefulness.check_model(model)`, or each rule as a test",
        "case of your suite with `statefulness.testing.parametrize_with_rules`). Drivers other than a direct call",
        "are held against direct calls; `chunks-equal-whole` against the model's stateless twin",
        "(`statefulness.twin`). A rule is not applicable where it cannot apply to the model or to the installed",
        "Keras (the reason is printed); a known deviation of the installed Keras is reported with its diagnosis",
        "([FINDINGS.md](FINDINGS.md)). The deployment rules (`exported-...`) run only when asked (`--deploy`,",
        "`check_model(deploy=True)`): each installed export route writes an artifact of a copy of the model that",
        "holds a state, and the rules feed fresh loads of it the next drawn batches, held against the model.",
        "",
        "| rule | states |",
        "|---|---|",
        *[f"| `{rule.id}` | {rule.statement} |" for rule in RULES.values()],
    ]
    return "\n".join(lines) + "\n"


DOCUMENTS: dict[str, Callable[[Path], str]] = {
    "COMPATIBILITY.md": compatibility,
    "docs/FINDINGS.md": findings,
    "docs/SPEC.md": spec,
    "docs/RULES.md": rules,
}


def stale(root: Path) -> list[str]:
    """The documents that differ from what their sources give."""
    return [name for name, render in DOCUMENTS.items() if (root / name).read_text(encoding="utf-8") != render(root)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=GENERATOR, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a document is stale")
    parser.add_argument(
        "--ci-matrix", action="store_true", help="print the CI workflow's job matrix (from tox.ini) as matrix=JSON"
    )
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the checkout (default: the current directory)")
    args = parser.parse_args(argv)
    root = args.root
    if not (root / "tox.ini").is_file() or not (root / "spec").is_dir():
        parser.error(f"--root: {root} is not a checkout of statefulness (no tox.ini and spec/)")
    if args.ci_matrix:
        print(f"matrix={json.dumps(ci_matrix(root))}")
        return 0
    if args.check:
        names = stale(root)
        for name in names:
            print(f"{name} is stale: run `{GENERATOR}`", file=sys.stderr)
        return 1 if names else 0
    texts = {name: render(root) for name, render in DOCUMENTS.items()}  # every one rendered before any is written
    for name, text in texts.items():
        partial = root / f"{name}.partial"
        partial.write_text(text, encoding="utf-8")
        partial.replace(root / name)
        print(f"wrote {name}")
    from statefulness.reports.matrix import matrix_png

    matrix_png(_reports(root)[0], root / "docs/matrix.png")
    print("wrote docs/matrix.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
