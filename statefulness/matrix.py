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


def _cell(entry: dict | None) -> str:
    if entry is None:
        return "–"
    figures = ", ".join(f"{k}={_short(v)}" for k, v in entry.get("observed", {}).items())
    return MARK.get(entry["verdict"], entry["verdict"]) + (f" ({figures})" if figures else "")


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def matrix_markdown(reports: list[dict]) -> str:
    claims = sorted({c["claim"] for r in reports for c in r["claims"]})
    by_env = [{c["claim"]: c for c in r["claims"]} for r in reports]
    lines = ["| claim | " + " | ".join(env_label(r) for r in reports) + " |",
             "|---|" + "---|" * len(reports)]
    for claim in claims:
        lines.append(f"| {_claim_name(claim)} | " + " | ".join(_cell(e.get(claim)) for e in by_env) + " |")
    totals = []
    for entries in by_env:
        counts = {}
        for entry in entries.values():
            counts[entry["verdict"]] = counts.get(entry["verdict"], 0) + 1
        totals.append(", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    lines.append("| **totals** | " + " | ".join(totals) + " |")
    return "\n".join(lines)


def compare(before: dict, after: dict) -> str:
    """The claims whose verdict differs between two reports: the upgrade check."""
    old = {c["claim"]: c for c in before["claims"]}
    new = {c["claim"]: c for c in after["claims"]}
    lines = [f"Changes from {env_label(before)} to {env_label(after)}:", "",
             "| claim | before | after |", "|---|---|---|"]
    changed = [c for c in sorted(set(old) | set(new))
               if (old.get(c) or {}).get("verdict") != (new.get(c) or {}).get("verdict")]
    lines += [f"| {_claim_name(c)} | {_cell(old.get(c))} | {_cell(new.get(c))} |" for c in changed]
    if not changed:
        lines.append("| (none: every claim has the same verdict) | | |")
    return "\n".join(lines)
