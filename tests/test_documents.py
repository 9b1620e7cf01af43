"""The generated documents are what their generator writes from their sources, never edited by hand, and
the README stays a front door (at most 8 KB)."""

from __future__ import annotations

import shutil
from pathlib import Path

from statefulness.reports import documents

ROOT = Path(__file__).resolve().parent.parent


def test_no_generated_document_differs_from_what_its_sources_give():
    """COMPATIBILITY.md, docs/SPEC.md, docs/FINDINGS.md and docs/RULES.md equal what
    ``python -m statefulness.reports.documents`` renders from the reports, the registry and the rules now."""
    assert documents.stale(ROOT) == [], "regenerate with `python -m statefulness.reports.documents`"


def test_a_document_edited_by_hand_or_a_changed_report_is_found_stale(tmp_path):
    """An edit of a generated document, or a report that changed under it, makes it stale (by name)."""
    for name in ("tox.ini", "docs/MIGRATING.md", "docs/upstream", "docs/reports", *documents.DOCUMENTS):
        source, copy = ROOT / name, tmp_path / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy)
    assert documents.stale(tmp_path) == []
    (tmp_path / "docs/FINDINGS.md").write_text((tmp_path / "docs/FINDINGS.md").read_text() + "\nby hand\n")
    assert documents.stale(tmp_path) == ["docs/FINDINGS.md"]
    report = tmp_path / "docs/reports" / f"claims-{documents.DEFAULT_ENV}.json"
    report.write_text(report.read_text().replace('"verdict": "pass"', '"verdict": "fail"', 1))
    assert documents.stale(tmp_path) == ["COMPATIBILITY.md", "docs/FINDINGS.md", "docs/SPEC.md"]


def test_the_readme_is_a_front_door_of_at_most_8_kb():
    """README.md says what the project is, how to install and run it, and links the rest: at most 8 KB."""
    assert len((ROOT / "README.md").read_bytes()) <= 8 * 1024


def test_the_readmes_check_output_is_the_real_output_of_the_command(capsys):
    """The README's example of ``statefulness check --example stacked-gru-lstm`` is what the command prints, on
    the Keras its header names (elsewhere the versions and figures differ: skipped)."""
    import re

    import pytest

    from statefulness.cli import main

    block = re.search(r"```text\n(statefulness check: .*?)\n```", (ROOT / "README.md").read_text(), re.S)
    assert block, "README.md has no example output of statefulness check"
    shown = block.group(1)
    code = main(["check", "--example", "stacked-gru-lstm"])
    printed = capsys.readouterr().out.rstrip("\n")
    if printed.splitlines()[0] != shown.splitlines()[0]:  # on JAX, say, known deviations make it exit 1
        pytest.skip(f"the README shows another environment: {shown.splitlines()[0]!r}")
    assert code == 0
    assert printed == shown
