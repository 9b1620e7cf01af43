"""The spec's own machinery, tested the way pytest tests its skipping (with ``pytester``): a known
deviation that shows is reported as one and keeps the run green; one that no longer shows (fixed
upstream) turns the run red; a claim that fails otherwise than diagnosed fails; and the claims report
gives each its verdict. The spec's real ``conftest.py`` hook and claims-report plugin run on a small
spec of three claims, with a registry made for it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = """
from statefulness import known_deviations
from statefulness._keras import BACKEND, KERAS_VERSION
from statefulness.known_deviations import Covers, Deviation

pytest_plugins = ["spec.claims_report"]


def here(test, raises="AssertionError"):
    return Deviation(id=test, keras=f"=={KERAS_VERSION}", backends=(BACKEND,), diagnosis=f"diagnosed: {test}",
                     tests=(Covers(f"test_claims.py::{test}"),), raises=raises)


known_deviations.DEVIATIONS[:] = [
    here("test_a_claim_this_keras_breaks"),
    here("test_a_claim_fixed_upstream"),
    here("test_a_claim_broken_otherwise_than_diagnosed"),
    Deviation(id="elsewhere", keras="<0.1", diagnosis="another version",
              tests=(Covers("test_claims.py::test_a_claim_that_holds"),)),
]

from spec.conftest import pytest_collection_modifyitems  # noqa: E402  the spec's own hook


def pytest_addoption(parser):
    parser.addoption("--claims-report")
"""

CLAIMS = """
def test_a_claim_that_holds():
    assert 1 + 1 == 2


def test_a_claim_this_keras_breaks():
    assert 1 + 1 == 3, "as diagnosed"


def test_a_claim_fixed_upstream():
    assert 1 + 1 == 2


def test_a_claim_broken_otherwise_than_diagnosed():
    raise KeyError("not the diagnosed failure")
"""


def test_known_deviations_and_the_claims_report_give_each_claim_its_verdict(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makeconftest(textwrap.dedent(CONFTEST))
    spec = pytester.mkdir("spec")  # not a package: `spec.conftest` still imports the project's spec
    (spec / "test_claims.py").write_text(textwrap.dedent(CLAIMS))
    report = pytester.path / "claims.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore", "--claims-report", str(report), "-rxX"
    )

    result.assert_outcomes(passed=1, xfailed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*[[]XPASS(strict)[]] Known deviation*diagnosed: test_a_claim_fixed_upstream",
            "E*KeyError: 'not the diagnosed failure'",
            "XFAIL*test_a_claim_this_keras_breaks - Known deviation*diagnosed: *",
        ]
    )
    assert result.ret == 1  # a fix upstream turns the run red until the registry says so

    verdicts = {c["claim"].rpartition("::")[2]: c["verdict"] for c in json.loads(report.read_text())["claims"]}
    assert verdicts == {
        "test_a_claim_that_holds": "pass",  # its deviation is for another version: it does not apply
        "test_a_claim_this_keras_breaks": "known deviation",
        "test_a_claim_fixed_upstream": "fail",
        "test_a_claim_broken_otherwise_than_diagnosed": "fail",
    }
