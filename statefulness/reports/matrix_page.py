"""``statefulness matrix REPORT... --html DIR``: the matrix of claims by environment as one static page.

DIR/index.html holds everything it shows: its CSS and script inline, the reports' data embedded as JSON,
no font, script or picture fetched at view time (its Content-Security-Policy forbids it). One row per claim
(a spec test by its stable id, its cases folded by ``matrix.fold``), one column per environment, coloured as in the PNG
(``matrix.COLOURS``); filters by chapter, environment, Keras version and verdict; a click on a cell opens its
cases with the figures observed and, for a known deviation, the registry's entry (diagnosis, Keras range,
backends, upstream thread) and its workaround, the matching section of docs/MIGRATING.md.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
import time
from pathlib import Path

from packaging.version import InvalidVersion, Version

from statefulness.deviations import DEVIATIONS, Deviation
from statefulness.reports.claims_report import ClaimEntry, ClaimsReport
from statefulness.reports.matrix import (
    COLOURS,
    GRID,
    NOT_RUN,
    _name_in_chapter,
    _short,
    cases_by_test,
    env_label,
    env_short,
    fold,
)
from statefulness.verdict import CLAIM_VERDICTS

CASE_COLOURS = {verdict.value: COLOURS.get(verdict.value, COLOURS[NOT_RUN]) for verdict in CLAIM_VERDICTS}
"""A single case's verdict (a report's own words), in the colours of ``GRID`` (a skipped case: not run)."""

MIGRATING = "docs/MIGRATING.md"
_MARKER = re.compile(r"<!--\s*deviation:\s*(.+?)\s*-->")
_INLINE = re.compile(r"``(.+?)``|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    """Markdown's inline code (and reST's double backticks, as in docstrings), links and bold as HTML, everything
    else escaped; a link that leaves the web
    (a path of the repository) keeps its text only: the page must not point at files it does not carry."""
    out, end = [], 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[end : match.start()]))
        double, code, label, target, strong = match.groups()
        if double is not None or code is not None:
            out.append(f"<code>{html.escape(double or code)}</code>")
        elif label is not None:
            inner = _inline(label)
            web = target.startswith(("https://", "http://"))
            out.append(f'<a href="{html.escape(target)}" rel="noopener">{inner}</a>' if web else inner)
        else:
            out.append(f"<strong>{_inline(strong)}</strong>")
        end = match.end()
    return "".join(out) + html.escape(text[end:])


def markdown_html(text: str) -> str:
    """The Markdown of a MIGRATING section (paragraphs and fenced code) as HTML."""
    blocks: list[str] = []
    lines: list[str] = []
    code: list[str] | None = None

    def paragraph() -> None:
        if lines:
            blocks.append(f"<p>{_inline(' '.join(lines))}</p>")
            lines.clear()

    for line in text.splitlines():
        if code is not None:
            if line.startswith("```"):
                blocks.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
                code = None
            else:
                code.append(line)
        elif line.startswith("```"):
            paragraph()
            code = []
        elif line.strip():
            lines.append(line.strip())
        else:
            paragraph()
    paragraph()
    return "\n".join(blocks)


def _anchor(title: str) -> str:
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def workarounds(text: str) -> dict[str, dict]:
    """The sections of docs/MIGRATING.md by the ids of the deviations they answer (``<!-- deviation: ID -->``
    markers): each section's title, anchor and body (prose and code) as HTML."""
    found = {}
    for section in re.split(r"(?m)^(?=## )", text):
        ids = _MARKER.findall(section)
        if not ids or not section.startswith("## "):
            continue
        title, _, body = section.partition("\n")
        html_body = markdown_html(_MARKER.sub("", body))
        entry = {"title": title[3:].strip(), "anchor": _anchor(title[3:].strip()), "html": html_body}
        found.update(dict.fromkeys(ids, entry))
    return found


def migrating_file() -> Path | None:
    """docs/MIGRATING.md beside the package (a checkout), else in the current directory (an installed
    package run from a checkout, as in CI)."""
    for candidate in (Path(__file__).resolve().parents[1] / MIGRATING, Path(MIGRATING)):
        if candidate.is_file():
            return candidate
    return None


def registry_entry(entry: ClaimEntry) -> Deviation | None:
    """The registry's deviation behind a claim entry: by its ``deviation_id``, else by its cause text."""
    by_id = {deviation.id: deviation for deviation in DEVIATIONS}
    if entry.deviation_id in by_id:
        return by_id[entry.deviation_id]
    return next((d for d in DEVIATIONS if entry.deviation and d.cause == entry.deviation), None)


def _chapter(test: str) -> str:
    return Path(test.partition("::")[0]).stem.removeprefix("test_").replace("_", " ")


def _version_key(version: str):
    try:
        return (0, Version(version), "")
    except InvalidVersion:
        return (1, Version("0"), version)


def _commits(reports: list[ClaimsReport], commit: str | None) -> list[str]:
    if commit:
        return [commit]
    found = (r.commit or r.environment.get("commit") for r in reports)
    return sorted({c for c in found if c})


def _case(entry: ClaimEntry, deviation: Deviation | None) -> dict:
    """One case of a claim in one environment, as the page shows it."""
    return {
        "case": entry.case,
        "verdict": entry.verdict.value,
        "observed": {key: _short(value) for key, value in entry.observed.items()},
        "duration_s": entry.duration_s,
        "deviation": deviation.id if deviation else None,
        "cause": entry.deviation if deviation is None else None,
        "consequence": entry.consequence or "",
    }


def page_data(
    reports: list[ClaimsReport], commit: str | None = None, migrating: Path | None = None, href: str = ""
) -> dict:
    """What the page shows, as the JSON it embeds: environments, claims with their cells and cases, the
    known deviations met (with their workarounds), the chapters and Keras versions to filter by."""
    sections = workarounds(migrating.read_text(encoding="utf-8")) if migrating else {}
    tests, cases = cases_by_test(reports)
    deviations: dict[str, dict] = {}
    claims: list[dict] = []
    chapters: dict[str, str] = {}
    for test, row in zip(tests, cases, strict=True):
        entries = [entry for cell in row for entry in cell]
        chapter = _chapter(min(entry.test_file for entry in entries))
        chapters.setdefault(chapter, next((e.chapter for e in entries if e.chapter), ""))
        cells = []
        for cell in row:
            shown = []
            for entry in cell:
                deviation = registry_entry(entry)
                if deviation is not None and deviation.id not in deviations:
                    deviations[deviation.id] = {
                        "keras": deviation.keras,
                        "backends": list(deviation.backends),
                        "diagnosis": _inline(deviation.diagnosis),
                        "upstream": deviation.upstream,
                        "workaround": sections.get(deviation.id),
                    }
                shown.append(_case(entry, deviation))
            cells.append({"verdict": fold(c["verdict"] for c in shown), "cases": shown})
        doc = next((e.doc for e in entries if e.doc), "")
        name = _name_in_chapter(test).removeprefix("test_").replace("_", " ").replace("-", " ")
        spec_test = entries[-1].test.partition("[")[0]  # the newest report's name of the test
        claim = {"id": test, "test": spec_test, "name": name, "chapter": chapter, "doc": doc, "docHtml": _inline(doc)}
        claims.append(claim | {"cells": cells})
    return {
        "verdicts": list(GRID),
        "colours": COLOURS,
        "caseColours": CASE_COLOURS,
        "envs": [
            {
                "label": env_label(r),
                "short": env_short(r),
                "name": env_label(r).split(" (")[0],
                "keras": r.environment.get("keras", "?"),
                "backend": r.environment.get("backend", "?"),
                "source": r.path,
                "created": r.created or "",
            }
            for r in reports
        ],
        "claims": claims,
        "chapters": chapters,
        "kerasVersions": sorted({r.environment.get("keras", "?") for r in reports}, key=_version_key),
        "deviations": deviations,
        "migrating": href,
        "commits": _commits(reports, commit),
    }


def _sources(reports: list[ClaimsReport], commits: list[str], made: str) -> str:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(value))}</td>"
            for value in (
                env_label(r),
                r.path,
                r.created or "?",
                ", ".join(f"{k} {v}" for k, v in r.environment.items() if k not in ("env", "platform")),
                r.environment.get("platform", "?"),
            )
        )
        + "</tr>"
        for r in reports
    )
    return (
        f"<p>Made by <code>statefulness matrix --html</code> on {html.escape(made)} from {len(reports)} claims "
        f"report{'s' if len(reports) != 1 else ''} (<code>pytest --claims-report PATH</code>); "
        + (f"commit {html.escape(', '.join(commits))}" if commits else "the commit is not recorded")
        + ".</p>"
        "<table><thead><tr><th>environment</th><th>report</th><th>run at</th><th>versions</th>"
        f"<th>platform</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def matrix_html(
    reports: list[ClaimsReport], commit: str | None = None, migrating: Path | None = None, href: str = ""
) -> str:
    """The page: ``page_data`` embedded in the template, and the sources named."""
    data = page_data(reports, commit, migrating, href)
    made = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    embedded = json.dumps(data, ensure_ascii=False, default=str)
    embedded = embedded.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    summary = (
        f"{len(data['claims'])} claims, {len(reports)} environments; commit "
        f"{', '.join(data['commits']) or 'not recorded'}; made {made}"
    )
    return (
        _TEMPLATE.replace("%%STYLE%%", _STYLE)
        .replace("%%SUMMARY%%", html.escape(summary))
        .replace("%%SOURCES%%", _sources(reports, data["commits"], made))
        .replace("%%SCRIPT%%", _SCRIPT)
        .replace("%%DATA%%", embedded)
    )


def write_page(reports: list[ClaimsReport], directory: Path, commit: str | None = None) -> Path:
    """Write DIR/index.html (DIR created) atomically: to a temporary file in DIR, then renamed over the page,
    so that a failure leaves the previous page, or none, and never half of one."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    migrating = migrating_file()
    href = Path(os.path.relpath(migrating.resolve(), directory.resolve())).as_posix() if migrating else ""
    text = matrix_html(reports, commit, migrating, href)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".index.", suffix=".html.tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, directory / "index.html")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return directory / "index.html"


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; \
script-src 'unsafe-inline'">
<title>statefulness: claims by environment</title>
<style>%%STYLE%%</style>
</head>
<body>
<header>
<h1>Claims by environment</h1>
<p class="lede">Each row is a claim of the spec (one test, its cases folded), each column an environment.
Click a cell for its cases and the figures observed and, for a known deviation, its diagnosis and workaround.
<a href="#sources">Sources</a>: %%SUMMARY%%.</p>
</header>
<form id="filters" aria-label="filters">
<label>Chapter <select id="f-chapter"><option value="">all chapters</option></select></label>
<label>Keras <select id="f-keras"><option value="">all versions</option></select></label>
<fieldset id="f-envs"><legend>Environments</legend></fieldset>
<fieldset id="f-verdicts"><legend>Verdicts (the colours)</legend></fieldset>
<output id="count" role="status"></output>
</form>
<main>
<div class="scroll"><table id="matrix"><thead></thead><tbody></tbody></table></div>
<p id="empty" hidden>No claim matches these filters.</p>
</main>
<aside id="panel" hidden aria-label="the cell's details">
<div class="bar"><button id="close" type="button" aria-label="close">&times;</button></div>
<div id="panel-body"></div>
</aside>
<footer id="sources"><h2>Sources</h2>%%SOURCES%%</footer>
<script type="application/json" id="matrix-data">%%DATA%%</script>
<script>%%SCRIPT%%</script>
</body>
</html>
"""

_STYLE = """
:root { --ink: #1d2125; --muted: #5c6670; --line: #d8dde2; font: 14px/1.45 system-ui, -apple-system,
  "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); }
body { margin: 0; padding: 0 20px 24px; }
header h1 { font-size: 22px; margin: 16px 0 4px; }
.lede { margin: 0 0 12px; color: var(--muted); max-width: 110ch; }
code, pre { font: 12px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; }
#filters { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: flex-start; padding: 10px 12px;
  background: #f5f7f9; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 12px; }
#filters select { font: inherit; }
fieldset { border: 0; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 12px; max-width: 100%; }
legend { font-weight: 600; padding: 0 0 2px; }
fieldset label { white-space: nowrap; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 3px 0 2px;
  vertical-align: -1px; border: 1px solid rgba(0,0,0,.15); }
#count { align-self: center; font-weight: 600; margin-left: auto; }
.scroll { overflow: auto; max-height: calc(100vh - 40px); border: 1px solid var(--line); border-radius: 6px; }
table#matrix { border-collapse: separate; border-spacing: 0; }
#matrix th, #matrix td { padding: 0; border-bottom: 1px solid #fff; border-right: 1px solid #fff; }
#matrix thead th { position: sticky; top: 0; z-index: 2; background: #eef1f4; font-size: 11.5px;
  font-weight: 600; padding: 6px 6px; text-align: center; vertical-align: bottom; min-width: 70px;
  line-height: 1.25; }
#matrix thead th small { display: block; font-weight: 400; color: var(--muted); }
#matrix th.claim { position: sticky; left: 0; z-index: 1; background: #fff; text-align: left;
  font-weight: 400; font-size: 12.5px; padding: 2px 10px 2px 6px; min-width: 260px; max-width: 520px;
  overflow-wrap: anywhere; border-right: 1px solid var(--line); }
#matrix thead th.claim { z-index: 3; background: #eef1f4; vertical-align: bottom; }
#matrix tr.chapter th { position: sticky; left: 0; background: #f5f7f9; text-align: left; font-size: 12px;
  font-weight: 600; padding: 6px 6px 3px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .03em; }
#matrix tbody tr:not(.chapter):hover th.claim { background: #f0f4fa; }
button.cell { display: block; width: 100%; min-width: 70px; height: 24px; border: 0; cursor: pointer;
  font: 600 11px/24px system-ui, sans-serif; color: #1a1a1a; padding: 0 4px; white-space: nowrap; }
button.cell:hover, button.cell:focus-visible { outline: 2px solid #1f4e8c; outline-offset: -2px; }
button.cell.selected { outline: 3px solid #111; outline-offset: -3px; }
#empty { color: var(--muted); font-style: italic; }
#panel { position: fixed; top: 0; right: 0; bottom: 0; width: min(600px, 94vw); overflow: auto;
  background: #fff; box-shadow: -6px 0 24px rgba(0,0,0,.18); padding: 14px 22px 30px; box-sizing: border-box;
  z-index: 10; }
#panel .bar { position: sticky; top: -14px; margin: -14px -22px 0; padding: 8px 12px 4px; text-align: right;
  background: #fff; border-bottom: 1px solid var(--line); z-index: 1; }
#close { font-size: 22px; line-height: 1; border: 1px solid var(--line); border-radius: 50%; width: 32px;
  height: 32px; background: #fff; cursor: pointer; padding: 0; }
#panel h2 { font-size: 17px; margin: 4px 0 6px; overflow-wrap: anywhere; }
#panel h3 { font-size: 14.5px; margin: 18px 0 6px; }
#panel .kicker { margin: 0; color: var(--muted); font-size: 12px; text-transform: uppercase; }
#panel .doc { font-size: 15px; margin: 6px 0 10px; }
#panel .meta { color: var(--muted); margin: 4px 0; }
#panel p code, #panel td code { overflow-wrap: anywhere; }
#panel table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
#panel td, #panel th { border-bottom: 1px solid var(--line); padding: 3px 6px 3px 0; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
.chip { display: inline-block; padding: 0 6px; border-radius: 9px; font-size: 11.5px; font-weight: 600;
  white-space: nowrap; }
section.deviation { border-left: 4px solid #fd8d3c; padding: 2px 0 2px 12px; margin-top: 16px; }
pre { background: #f5f7f9; border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px;
  overflow: auto; }
footer { margin-top: 22px; color: var(--muted); font-size: 12.5px; }
footer h2 { font-size: 15px; color: var(--ink); }
footer table { border-collapse: collapse; }
footer td:nth-child(3) { white-space: nowrap; }
footer td, footer th { border-bottom: 1px solid var(--line); padding: 3px 10px 3px 0; text-align: left;
  vertical-align: top; }
"""

_SCRIPT = r"""
"use strict";
const D = JSON.parse(document.getElementById("matrix-data").textContent);
const $ = (selector) => document.querySelector(selector);
const $$ = (selector) => [...document.querySelectorAll(selector)];
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "text") node.textContent = value;
    else if (key === "html") node.innerHTML = value;  // built by the page's generator, escaped there
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}
const SHORT = {"pass": "pass", "known deviation": "deviation", "known deviation (some cases)": "deviation",
  "fail": "FAIL", "not run": "–"};
function tint(node, verdict, colours) {  // the verdict's colour; white text on the red of a failure
  node.style.background = colours[verdict] || "#eee";
  if (verdict === "fail") node.style.color = "#fff";
  return node;
}
const chip = (verdict, colours) => tint(el("span", {class: "chip", text: verdict}), verdict, colours);
function cellText(cell) {
  if (cell.verdict !== "known deviation (some cases)") return SHORT[cell.verdict];
  const ran = cell.cases.filter((c) => c.verdict !== "skipped");
  return `deviation ${ran.filter((c) => c.verdict === "known deviation").length}/${ran.length}`;
}

const rows = [];  // the table's row of each claim, in the order of D.claims

function build() {
  for (const chapter of Object.keys(D.chapters))
    $("#f-chapter").append(el("option", {value: chapter, text: chapter}));
  for (const version of D.kerasVersions) $("#f-keras").append(el("option", {value: version, text: version}));
  D.envs.forEach((env, i) => $("#f-envs").append(
    el("label", {title: `${env.label}: ${env.source}`}, el("input", {type: "checkbox", checked: "", value: i}),
      " " + env.short)));
  D.verdicts.forEach((verdict, i) => $("#f-verdicts").append(
    el("label", {}, el("input", {type: "checkbox", checked: "", value: verdict}),
      tint(el("span", {class: "swatch"}), verdict, D.colours), verdict)));
  const head = el("tr", {}, el("th", {class: "claim", scope: "col", text: "claim"}));
  D.envs.forEach((env, i) => head.append(el("th", {scope: "col", "data-col": i, title: env.label},
    env.name, el("small", {text: `Keras ${env.keras}`}), el("small", {text: env.backend}))));
  $("#matrix thead").append(head);
  const body = $("#matrix tbody");
  let chapter = null;
  D.claims.forEach((claim, r) => {
    if (claim.chapter !== chapter) {
      chapter = claim.chapter;
      body.append(el("tr", {class: "chapter", "data-chapter": chapter},
        el("th", {colspan: D.envs.length + 1, title: D.chapters[chapter], text: chapter})));
    }
    const row = el("tr", {"data-claim": claim.id, "data-row": r},
      el("th", {class: "claim", scope: "row", title: `${claim.id}\n${claim.doc}`, text: claim.name}));
    claim.cells.forEach((cell, i) => {
      const button = tint(el("button", {type: "button", class: "cell",
        "data-verdict": cell.verdict, "aria-label": `${claim.name} on ${D.envs[i].short}: ${cell.verdict}`,
        title: `${D.envs[i].short}: ${cell.verdict} (${cell.cases.length} case${cell.cases.length === 1 ? "" : "s"})`,
        text: cellText(cell)}), cell.verdict, D.colours);
      button.addEventListener("click", () => open(r, i, button));
      row.append(el("td", {"data-col": i}, button));
    });
    body.append(row);
    rows.push(row);
  });
  $("#filters").addEventListener("change", apply);
  $("#filters").addEventListener("submit", (event) => event.preventDefault());
  $("#close").addEventListener("click", close);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") close(); });
  apply();
}

function apply() {
  const chapter = $("#f-chapter").value, keras = $("#f-keras").value;
  const envOn = $$("#f-envs input").map((box) => box.checked);
  const verdictOn = new Set($$("#f-verdicts input").filter((box) => box.checked).map((box) => box.value));
  const cols = D.envs.map((env, i) => envOn[i] && (!keras || env.keras === keras));
  for (const node of $$("#matrix [data-col]")) node.hidden = !cols[Number(node.dataset.col)];
  const shownByChapter = {};
  let shown = 0;
  D.claims.forEach((claim, r) => {
    const show = (!chapter || claim.chapter === chapter)
      && claim.cells.some((cell, i) => cols[i] && verdictOn.has(cell.verdict));
    rows[r].hidden = !show;
    shownByChapter[claim.chapter] = (shownByChapter[claim.chapter] || 0) + (show ? 1 : 0);
    shown += show ? 1 : 0;
  });
  const columns = cols.filter(Boolean).length;
  for (const row of $$("#matrix tr.chapter")) {
    row.hidden = !shownByChapter[row.dataset.chapter];
    row.firstChild.colSpan = columns + 1;
  }
  $("#count").textContent = `${shown} of ${D.claims.length} claims shown · ${columns} of ${D.envs.length} environments`;
  $("#empty").hidden = shown > 0 && columns > 0;
}

function close() {
  $("#panel").hidden = true;
  for (const node of $$("button.cell.selected")) node.classList.remove("selected");
}

function open(r, i, button) {
  const claim = D.claims[r], env = D.envs[i], cell = claim.cells[i];
  close();
  button.classList.add("selected");
  const body = $("#panel-body");
  body.replaceChildren(
    el("p", {class: "kicker", text: `chapter ${claim.chapter}`}),
    el("h2", {text: claim.name}),
    el("p", {class: "doc", html: claim.docHtml || "(the test has no docstring)"}),
    el("details", {}, el("summary", {text: "the chapter"}), el("p", {text: D.chapters[claim.chapter] || ""})),
    el("p", {class: "meta"}, el("strong", {text: "Environment: "}), `${env.label} (${env.source})`),
    el("p", {class: "meta"}, el("strong", {text: "Verdict here: "}), chip(cell.verdict, D.colours)),
    el("p", {class: "meta"}, el("code", {text: claim.id}), " · its test ", el("code", {text: claim.test})));
  if (cell.cases.length) {
    const table = el("table", {class: "cases"},
      el("thead", {}, el("tr", {}, ...["case", "verdict", "observed", "time"].map((t) => el("th", {text: t})))));
    const lines = el("tbody");
    for (const c of cell.cases) {
      const observed = Object.entries(c.observed).map(([k, v]) => `${k} = ${v}`).join(", ");
      lines.append(el("tr", {}, el("td", {}, el("code", {text: c.case || "(one case)"})),
        el("td", {}, chip(c.verdict, D.caseColours)), el("td", {text: observed || "–"}),
        el("td", {text: c.duration_s == null ? "" : `${c.duration_s.toFixed(2)} s`})));
    }
    table.append(lines);
    body.append(el("h3", {text: `Cases (${cell.cases.length})`}), table);
  } else {
    body.append(el("p", {text: "This claim was not run in this environment."}));
  }
  for (const id of [...new Set(cell.cases.map((c) => c.deviation).filter(Boolean))]) {
    const d = D.deviations[id];
    const section = el("section", {class: "deviation", "data-deviation": id},
      el("h3", {text: `Known deviation: ${id}`}),
      el("p", {class: "meta", text: `Keras ${d.keras} · backends ${d.backends.join(", ")}`}),
      el("div", {class: "diagnosis", html: `<p>${d.diagnosis}</p>`}));
    for (const consequence of new Set(cell.cases.filter((c) => c.deviation === id && c.consequence)
      .map((c) => c.consequence))) section.append(el("p", {class: "consequence", text: consequence}));
    section.append(d.upstream
      ? el("p", {}, el("strong", {text: "Upstream: "}), el("a", {href: d.upstream, class: "upstream",
        target: "_blank", rel: "noopener", text: d.upstream}))
      : el("p", {class: "meta", text: "No upstream thread (docs/upstream/ may hold a report to file)."}));
    if (d.workaround) {
      section.append(el("h3", {text: `Workaround: ${d.workaround.title}`}),
        el("div", {class: "workaround", html: d.workaround.html}),
        el("p", {class: "meta"}, "The blocks continue the set-up at the top of ",
          D.migrating ? el("a", {href: `${D.migrating}#${d.workaround.anchor}`, class: "migrating",
            text: "docs/MIGRATING.md"}) : el("code", {text: "docs/MIGRATING.md"}), "."));
    } else {
      section.append(el("p", {class: "meta", text: "docs/MIGRATING.md has no section for this deviation."}));
    }
    body.append(section);
  }
  for (const cause of new Set(cell.cases.filter((c) => c.cause).map((c) => c.cause))) {
    body.append(el("section", {class: "deviation"}, el("h3", {text: "Known deviation (not in this registry)"}),
      el("p", {text: cause})));
  }
  $("#panel").hidden = false;
  $("#close").focus();
}

build();
"""
