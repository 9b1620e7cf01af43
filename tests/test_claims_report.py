"""The claims report, one type (``statefulness/reports/claims_report.py``) for its writer and its readers: it loads
what it dumps, writes atomically, reads the reports of the format before (their claims named by node id)
with the stable ids, and refuses a file that is none by its path. Every spec test states one claim by a
``claim`` marker of its own."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from statefulness import cli
from statefulness.reports.claims_report import CLAIM_IDS_BEFORE, FORMAT, ClaimEntry, ClaimsReport, stable_id
from statefulness.verdict import CLAIM_VERDICTS, RULE_VERDICTS, Verdict

ROOT = Path(__file__).resolve().parent.parent
OLD_REPORT = ROOT / "tests/data/claims-tf221-before-stable-ids.json"
"""A report of the format before ``FORMAT`` (no "format"; each claim named by its test's node id): tox -e
tf221's at 6680b81 (docs/reports/ then), its prose fields (chapter, doc, deviation, consequence) dropped."""


def _report() -> ClaimsReport:
    return ClaimsReport(
        environment={"python": "3.11.7", "keras": "3.15.1", "backend": "tensorflow", "env": "here"},
        commit="0123abc",
        created="2026-12-01T08:00:00Z",
        wall_s=12.5,
        claims=[
            ClaimEntry(
                claim="reset/outputs-repeat-after-a-reset",
                test="spec/test_05_reset.py::test_outputs_repeat_after_a_reset",
                verdict=Verdict.PASS,
                observed={"max_abs_difference": 1.25e-7},
                chapter="Chapter 5.",
                doc="Outputs repeat.",
                duration_s=0.5,
            ),
            ClaimEntry(
                claim="batch-size/tutorials-batch-input-shape-declares-it[x]",
                test="spec/test_07_batch_size.py::test_the_tutorials_batch_input_shape_declares_the_batch_size[x]",
                verdict=Verdict.KNOWN_DEVIATION,
                markers=["wide"],
                deviation="batch_input_shape is gone.",
                deviation_id="batch_input_shape removed",
                consequence="The tutorial's model cannot be built.",
                extra={"a key of a later version": [1, 2]},
            ),
        ],
    )


def test_a_report_loads_as_it_was_dumped(tmp_path):
    """``dump`` writes JSON of the format, indented by 2, that ``load`` reads back equal (the verdicts as
    ``Verdict``s), and leaves no partial file; optional keys that are not set are not written."""
    report, path = _report(), tmp_path / "deep" / "claims.json"
    report.dump(path)
    text = path.read_text()
    assert text.startswith('{\n  "format": "statefulness-claims/2",\n  "environment": {') and text.endswith("}\n")
    assert sorted(p.name for p in path.parent.iterdir()) == ["claims.json"]
    loaded = ClaimsReport.load(path)
    assert loaded == report and loaded.path == str(path)
    assert [type(entry.verdict) for entry in loaded.claims] == [Verdict, Verdict]
    assert json.loads(text)["format"] == FORMAT
    first = json.loads(text)["claims"][0]
    assert list(first) == ["claim", "test", "verdict", "observed", "markers", "chapter", "doc", "duration_s"]


def test_a_dump_that_fails_leaves_the_previous_report_whole_and_no_partial_file(tmp_path, monkeypatch):
    """The report is written to ``PATH.partial`` and renamed over PATH: where the rename fails, PATH is as
    it was and the partial file is gone."""
    path = tmp_path / "claims.json"
    path.write_text("the previous report\n")

    def refuse(self, target):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(PermissionError):
        _report().dump(path)
    assert path.read_text() == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["claims.json"]


def test_a_report_of_the_format_before_loads_with_the_stable_ids():
    """docs/reports/ holds reports of the format before: each claim's node id becomes its stable id through
    claim_ids_before.json, its parameters carried over, and the node id is kept as the claim's test."""
    raw = json.loads(OLD_REPORT.read_text())
    assert "format" not in raw
    report = ClaimsReport.load(OLD_REPORT)
    mapping = json.loads(CLAIM_IDS_BEFORE.read_text())
    tests = [entry["claim"] for entry in raw["claims"]]
    assert {entry.test for entry in report.claims} <= set(tests)
    for entry in report.claims:
        test, _, params = entry.test.partition("[")
        renamed = mapping.get(entry.test)  # a case whose parameters were renamed too
        assert entry.claim == (renamed or mapping[test] + (f"[{params}" if params else "")), entry.test
        assert "::" not in entry.claim.partition("[")[0] and entry.verdict in CLAIM_VERDICTS
    assert report.environment["env"] == "tf221" and report.wall_s == raw["wall_s"]
    assert len({entry.claim for entry in report.claims}) == len(report.claims)  # cases made one are merged
    assert {ClaimsReport.load(OLD_REPORT).claims[0].claim} <= {stable_id(t) for t in tests}


def test_an_old_id_that_maps_to_nothing_is_kept_as_it_is():
    assert stable_id("spec/test_05_reset.py::test_outputs_repeat_after_a_reset") == "reset/outputs-repeat-after-a-reset"
    assert stable_id("spec/test_05_reset.py::test_no_such_claim[p]") == "spec/test_05_reset.py::test_no_such_claim[p]"


def test_compare_lines_up_a_report_of_the_format_before_with_its_claims_dumped_now(tmp_path, capsys):
    """``matrix --compare`` of an old report against the same claims written now finds no change; one
    verdict changed in the new one is the only row, named by its stable id."""
    report = ClaimsReport.load(OLD_REPORT)
    report.dump(tmp_path / "same.json")
    assert cli.main(["matrix", "--compare", str(OLD_REPORT), str(tmp_path / "same.json")]) == 0
    assert "| (none: every claim has the same verdict) | | |" in capsys.readouterr().out
    changed = next(
        entry for entry in report.claims if entry.verdict == Verdict.PASS and not entry.case and not entry.observed
    )
    changed.verdict = Verdict.FAIL
    report.dump(tmp_path / "changed.json")
    assert cli.main(["matrix", "--compare", str(OLD_REPORT), str(tmp_path / "changed.json")]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ") and "/" in line]
    assert rows == [f"| {changed.claim} | pass | **FAIL** |"]


@pytest.mark.parametrize(
    "text, words",
    [
        ("[1, 2]", "not a claims report (expected 'environment' and 'claims')"),
        ("{not json", "not a claims report (invalid JSON"),
        ('{"environment": {}, "claims": [{"claim": "x/y", "test": "t", "verdict": "maybe"}]}', "verdict 'maybe'"),
        ('{"format": "statefulness-claims/2", "environment": {}, "claims": [{"claim": "x/y"}]}', "has no 'test'"),
        ('{"format": "statefulness-claims/9", "environment": {}, "claims": []}', "format 'statefulness-claims/9'"),
    ],
)
def test_a_file_that_is_no_claims_report_is_a_value_error_naming_it(tmp_path, text, words):
    path = tmp_path / "not-a-report.json"
    path.write_text(text)
    with pytest.raises(ValueError) as error:
        ClaimsReport.load(path)
    assert str(error.value).startswith(f"{path}: ") and words in str(error.value)


def test_the_verdicts_are_one_enum_that_reads_as_its_words():
    """Claims and rules share one vocabulary; each verdict equals, prints and goes to JSON as its words, and
    the checker's verdicts are among the rules' ones."""
    from statefulness.check import VERDICTS

    assert [v.value for v in CLAIM_VERDICTS] == ["pass", "fail", "known deviation", "skipped"]
    assert set(VERDICTS) <= set(RULE_VERDICTS)  # every verdict the checker gives (it may retire "info")
    assert set(Verdict) == set(CLAIM_VERDICTS) | set(RULE_VERDICTS)
    assert f"{Verdict.KNOWN_DEVIATION}" == str(Verdict.KNOWN_DEVIATION) == "known deviation"
    assert json.dumps({Verdict.PASS: Verdict.UNEXPECTED_PASS}) == '{"pass": "unexpected pass"}'


def test_every_spec_test_states_one_claim_of_its_own_by_a_claim_marker(spec_collection):
    """Every collected test of spec/ has one ``claim`` marker, ``<chapter>/<claim>`` with the chapter its
    file's (``test_03_state_between_batches.py``: ``state-between-batches``), unique in the spec; a learning
    claim's test is named by the learning claim it checks (``check("<id>", ...)``)."""
    found = {item["test"]: item["markers"] for item in spec_collection}
    assert len(found) >= 60 and all(len(markers) == 1 and len(markers[0]) == 1 for markers in found.values())
    ids = {test: markers[0][0] for test, markers in found.items()}
    assert len(set(ids.values())) == len(ids)
    for test, claim in ids.items():
        chapter = re.sub(r"^test_\d\d_", "", test.partition(".py")[0]).replace("_", "-")
        assert re.fullmatch(rf"{re.escape(chapter)}/[A-Za-z0-9][A-Za-z0-9_-]{{0,49}}", claim), (test, claim)
    checked = 0
    for path in sorted((ROOT / "spec").glob("test_*.py")):
        for function in ast.parse(path.read_text()).body:
            calls = [
                node.args[0].value
                for node in ast.walk(function)
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check" and node.args
                if isinstance(node.args[0], ast.Constant)
            ]
            if isinstance(function, ast.FunctionDef) and function.name.startswith("test_") and calls:
                assert ids[f"{path.name}::{function.name}"].split("/", 1)[1] == calls[0]
                checked += 1
    assert checked >= 15
    mapping = {test: claim for test, claim in json.loads(CLAIM_IDS_BEFORE.read_text()).items() if "[" not in test}
    assert len(set(mapping.values())) == len(mapping)  # one test, one claim (renamed cases may merge)
