"""The spec's own machinery, tested the way pytest tests its skipping (with ``pytester``): a known
deviation that shows is reported as one and keeps the run green; one that no longer shows (fixed
upstream) turns the run red; a claim that fails otherwise than diagnosed fails; and the claims report
gives each its verdict, by the claim's stable id. The spec's real ``conftest.py`` hook and claims-report
plugin run on a small spec of four claims, with a registry made for it; a spec test without its claim's
id stops the run at collection. And the mutants' plugin: a mutant whose patch target
the installed Keras lacks stops the run as an error, which ``python -m mutants`` reports as one (never
as a mutant that survived)."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from statefulness._keras import KERAS_MAJOR
from statefulness.reports.claims_report import ClaimsReport

ROOT = Path(__file__).resolve().parent.parent

CONFTEST = """
from statefulness import _versions, deviations
from statefulness.deviations import Covers, Deviation

pytest_plugins = ["statefulness.pytest_plugin"]
KERAS_VERSION, BACKEND = _versions.versions()["keras"], _versions.versions()["backend"]  # without loading Keras


def here(claim, raises="AssertionError"):
    return Deviation(id=claim, keras=f"=={KERAS_VERSION}", backends=(BACKEND,), diagnosis=f"diagnosed: {claim}",
                     tests=(Covers(claim),), raises=raises)


deviations.DEVIATIONS[:] = [  # keyed by the claims' stable ids
    here("claims/this-keras-breaks"),
    here("claims/fixed-upstream"),
    here("claims/broken-otherwise"),
    Deviation(id="elsewhere", keras="<0.1", diagnosis="another version", tests=(Covers("claims/holds"),)),
]

from spec.conftest import pytest_collection_modifyitems  # noqa: E402  the spec's own hook
"""

CLAIMS = """
import pytest


@pytest.mark.claim("claims/holds")
def test_a_claim_that_holds():
    assert 1 + 1 == 2


@pytest.mark.claim("claims/this-keras-breaks")
def test_a_claim_this_keras_breaks():
    assert 1 + 1 == 3, "as diagnosed"


@pytest.mark.claim("claims/fixed-upstream")
def test_a_claim_fixed_upstream():
    assert 1 + 1 == 2


@pytest.mark.claim("claims/broken-otherwise")
@pytest.mark.parametrize("case", [1])
def test_a_claim_broken_otherwise_than_diagnosed(case):
    raise KeyError("not the diagnosed failure")
"""


@pytest.fixture
def spec_folder(pytester, monkeypatch) -> Path:
    """A project whose conftest loads the spec's plugin with ``CONFTEST``'s deviations (this checkout on
    ``PYTHONPATH``), and its ``spec/`` folder, where a test writes its spec files. ``MADE_IN``: a folder
    those files may write into, ``made/``."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("MADE_IN", str(pytester.mkdir("made")))
    pytester.makeconftest(textwrap.dedent(CONFTEST))
    return pytester.mkdir("spec")  # not a package: `spec.conftest` still imports the project's spec


def test_known_deviations_and_the_claims_report_give_each_claim_its_verdict(pytester, spec_folder):
    (spec_folder / "test_claims.py").write_text(textwrap.dedent(CLAIMS))
    report = pytester.path / "claims.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore", "--claims-report", str(report), "-rxX"
    )

    result.assert_outcomes(passed=1, xfailed=1, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*[[]XPASS(strict)[]] Known deviation*diagnosed: claims/fixed-upstream",
            "E*KeyError: 'not the diagnosed failure'",
            "XFAIL*test_a_claim_this_keras_breaks - Known deviation*diagnosed: *",
        ]
    )
    assert result.ret == 1  # a fix upstream turns the run red until the registry says so

    assert json.loads(report.read_text())["format"] == "statefulness-claims/2"
    claims = ClaimsReport.load(report).claims
    assert {c.claim: c.verdict for c in claims} == {
        "claims/holds": "pass",  # its deviation is for another version: it does not apply
        "claims/this-keras-breaks": "known deviation",
        "claims/fixed-upstream": "fail",
        "claims/broken-otherwise[1]": "fail",
    }
    assert {c.claim: c.test for c in claims}["claims/broken-otherwise[1]"] == (
        "spec/test_claims.py::test_a_claim_broken_otherwise_than_diagnosed[1]"
    )
    assert {c.claim: c.deviation_id for c in claims}["claims/this-keras-breaks"] == "claims/this-keras-breaks"


UNNAMED = """
import pytest


def test_a_claim_without_its_id():
    pass


@pytest.mark.claim("claims/one")
def test_one_claim():
    pass


@pytest.mark.claim("claims/one")
def test_the_same_claim_again():
    pass
"""


def test_a_spec_test_without_a_claim_id_or_with_another_tests_stops_the_run_at_collection(pytester, spec_folder):
    """A spec test without ``@pytest.mark.claim(...)``, and a second test of one claim id, are a usage
    error at collection that names each of them: no test runs, no report is written."""
    (spec_folder / "test_claims.py").write_text(textwrap.dedent(UNNAMED))
    report = pytester.path / "claims.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "--claims-report", str(report)
    )

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: spec/test_claims.py::test_a_claim_without_its_id: a spec test names the claim it states, "
            '@pytest.mark.claim("<chapter>/<claim>")*',
            "spec/test_claims.py::test_the_same_claim_again: claim 'claims/one' is the claim of "
            "spec/test_claims.py::test_one_claim already",
        ]
    )
    assert not report.exists()


SHARED = """
import os

import pytest


@pytest.fixture(scope="module")
def made_once():
    open(os.path.join(os.environ["MADE_IN"], f"made-{os.getpid()}"), "w").close()
    return os.getpid()


@pytest.mark.claim("shared/one")
@pytest.mark.parametrize("case", range(4))
def test_sharing_the_fixture(made_once, case):
    assert made_once == os.getpid()
"""

ALONE = """
import pytest


@pytest.mark.claim("alone/one")
@pytest.mark.parametrize("case", range(4))
def test_on_its_own(case):
    pass
"""


def test_tests_that_share_a_module_fixture_run_in_one_worker_and_the_report_names_them_as_written(
    pytester, spec_folder
):
    """Under ``-n 2 --dist loadgroup`` (the project's), the four tests of a module fixture run in one
    worker, which makes the fixture once (``shared_fixture_group``), while tests that share nothing go to
    either worker; the claims report names each test by its node id, without xdist's ``@group``."""
    (spec_folder / "test_shared.py").write_text(textwrap.dedent(SHARED))
    (spec_folder / "test_alone.py").write_text(textwrap.dedent(ALONE))
    report = pytester.path / "claims.json"
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup",
        "--claims-report", str(report),
    )  # fmt: skip

    result.assert_outcomes(passed=8)
    assert len(list((pytester.path / "made").glob("made-*"))) == 1, "the module fixture was made in both workers"
    tests = {c.test for c in ClaimsReport.load(report).claims}
    assert "spec/test_shared.py::test_sharing_the_fixture[0]" in tests, sorted(tests)
    assert not any("@" in test for test in tests), sorted(tests)


QUICK_THEN_TRAINING = """
import os
import time

import pytest


@pytest.mark.claim("quick/one")
@pytest.mark.parametrize("case", range(8))
def test_quick(case):
    time.sleep(0.5)
    open(os.path.join(os.environ["MADE_IN"], f"quick-{case}"), "w").close()


@pytest.mark.claim("quick/training")
@pytest.mark.learning
def test_training_collected_last():
    done = len(os.listdir(os.environ["MADE_IN"]))
    open(os.path.join(os.environ["MADE_IN"], f"training-after-{done}"), "w").close()
"""


def test_the_tests_that_train_are_handed_out_first_however_late_they_are_collected(pytester, spec_folder):
    """Under ``-n 2 --dist loadgroup`` a test marked ``learning`` (training: the long ones) starts before
    the quick tests collected before it have run: the scheduler hands the scopes that train out first."""
    (spec_folder / "test_order.py").write_text(textwrap.dedent(QUICK_THEN_TRAINING))
    result = pytester.runpytest_subprocess(
        "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadgroup"
    )  # fmt: skip

    result.assert_outcomes(passed=9)
    (started,) = [int(f.name.rpartition("-")[2]) for f in (pytester.path / "made").glob("training-after-*")]
    assert started <= 4, f"the training test started after {started} of the 8 quick tests had run (of 4 s of them)"


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


def test_the_meta_test_counts_every_rule_of_check_model_that_no_mutant_made_fail():
    """The tally at the end of a full ``python -m mutants`` run: a rule that failed against no mutant is
    named, unless it cannot fail on the Keras the mutants patch."""
    from mutants.__main__ import never_seen_failing
    from mutants.check import NEVER_FAILS_ON_KERAS_3
    from statefulness.check import RULES

    every, never = never_seen_failing(set(RULES))
    assert (every, never) == (list(RULES), [])
    assert never_seen_failing(set())[1] == [rule for rule in RULES if rule not in NEVER_FAILS_ON_KERAS_3]
    assert never_seen_failing(set(RULES) - {"rows-independent"})[1] == ["rows-independent"]
