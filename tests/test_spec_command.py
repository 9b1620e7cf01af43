"""``statefulness spec``: the spec that ships with the package, run by pytest with its own plugin and
configuration from any directory, writing the claims report under the Keras version's name. (The built
wheel in a fresh environment: tests/test_installed_spec.py.)"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

from statefulness import _keras
from statefulness.cli import main
from statefulness.reports.claims_report import ClaimsReport

SELECTION = "test_each_numpy_yardstick or test_the_tutorials_batch_input_shape"
"""Two quick claims: one that holds everywhere, one a known deviation on Keras 3 (batch_input_shape removed)."""


def test_spec_help_says_that_pytest_arguments_follow_and_where_the_report_goes(capsys):
    """``statefulness spec --help`` prints its own usage (the pytest arguments and the claims report's name)."""
    assert main(["spec", "--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: statefulness spec [PYTEST ARGUMENTS]" in out and "claims-keras<VERSION>-<BACKEND>.json" in out


def test_spec_is_refused_with_one_line_where_the_package_has_no_spec(monkeypatch, capsys):
    """An installation without ``statefulness.spec`` gets a one-line error and exit status 2, not pytest's
    'no tests ran'."""
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "statefulness.spec" else real(name, *a)
    )
    assert main(["spec", "-q"]) == 2
    assert "statefulness.spec is missing" in capsys.readouterr().err


def test_spec_runs_from_another_directory_and_writes_the_claims_report_under_the_keras_version(tmp_path):
    """From a directory outside the checkout, ``statefulness spec -k ...`` runs the selected claims with the
    spec's header and its known deviations, and writes claims-keras<version>-<backend>.json there, keyed by
    the claims' stable ids (``<chapter>/<claim>``), each with its test (``spec/<file>::<test>``, as in the
    checkout)."""
    env = {k: v for k, v in os.environ.items() if k != "STATEFULNESS_CLAIMS_REPORT"}
    result = subprocess.run(
        [sys.executable, "-m", "statefulness", "spec", "-k", SELECTION, "-p", "no:randomly", "-n", "0"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert f"statefulness spec: Keras {_keras.KERAS_VERSION}" in result.stdout
    path = tmp_path / f"claims-keras{_keras.KERAS_VERSION}-{_keras.BACKEND}.json"
    assert json.loads(path.read_text())["format"] == "statefulness-claims/2"
    claims = ClaimsReport.load(path).claims
    verdicts = {c.test.partition("[")[0]: c.verdict for c in claims}
    batch_input_shape = "spec/test_07_batch_size.py::test_the_tutorials_batch_input_shape_declares_the_batch_size"
    assert verdicts[batch_input_shape] == ("known deviation" if _keras.KERAS_MAJOR >= 3 else "pass")
    yardstick = "spec/test_02_lstm_recurrence.py::test_each_numpy_yardstick_computes_the_values_worked_out_by_hand"
    assert verdicts[yardstick] == "pass"
    assert {c.spec_claim for c in claims} == {
        "batch-size/tutorials-batch-input-shape-declares-it",
        "lstm-recurrence/numpy-yardsticks-give-the-values-worked-by-hand",
    }
    assert not list(Path(tmp_path).glob("*.partial"))
