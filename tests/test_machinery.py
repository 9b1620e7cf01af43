"""The spec's own machinery, tested the way pytest tests its skipping (with ``pytester``): a known
deviation that shows is reported as one and keeps the run green; one that no longer shows (fixed
upstream) turns the run red; a claim that fails otherwise than diagnosed fails; and the claims report
gives each its verdict. The spec's real ``conftest.py`` hook and claims-report plugin run on a small
spec of four claims, with a registry made for it. And the mutants' plugin: a mutant whose patch target
the installed Keras lacks stops the run as an error, which ``python -m mutants`` reports as one (never
as a mutant that survived)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from statefulness._keras import KERAS_MAJOR

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = """
from statefulness import known_deviations
from statefulness._keras import BACKEND, KERAS_VERSION
from statefulness.known_deviations import Covers, Deviation

pytest_plugins = ["statefulness.pytest_plugin"]


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


MISSING_TARGET = """
from mutants import MUTANTS


def patch_what_is_not_there():
    from keras.src.layers.rnn.rnn import RNN

    RNN.no_such_method.__code__  # an attribute this Keras does not have


MUTANTS["missing_target"] = ("patches a method this Keras does not have", patch_what_is_not_there)
"""


@pytest.mark.skipif(KERAS_MAJOR < 3, reason="the mutants patch Keras 3 internals (mutants/plugin.py refuses Keras 2)")
def test_a_mutant_whose_patch_target_is_missing_is_an_error_not_a_survivor(pytester, monkeypatch):
    from mutants.__main__ import verdict

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("STATEFULNESS_MUTANT", "missing_target")
    pytester.makeconftest(textwrap.dedent(MISSING_TARGET))
    pytester.makepyfile(test_claim="def test_a_claim_that_holds():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "mutants.plugin", "-p", "no:randomly", "-p", "no:cacheprovider")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mutant 'missing_target' cannot be applied: its patch target is missing*"])
    assert verdict(result.ret, []) == "ERROR"
    assert (verdict(0, []), verdict(1, ["a claim"])) == ("SURVIVED", "CAUGHT")
