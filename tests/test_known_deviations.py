"""The registry of known deviations stays bound to the spec: every entry names tests that exist.

A renamed or deleted test would otherwise leave its entry silently applying to nothing, whatever Keras
is installed; so this collects the whole spec (as pytest does, without running it) and checks every
entry against the collected ids, not only the entries that cover the installed version.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from statefulness.known_deviations import DEVIATIONS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def collected() -> list[str]:
    """Every test id of the spec, as ``file::name[params]`` (the form the registry uses)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "spec",
            "--collect-only",
            "-q",
            "-n",
            "0",
            "-p",
            "no:randomly",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    ids = [line.split("/", 1)[1] for line in proc.stdout.splitlines() if line.startswith("spec/")]
    assert len(ids) > 100, f"collected only {len(ids)} spec tests:\n{proc.stdout[-2000:]}"
    return ids


@pytest.mark.parametrize("deviation", DEVIATIONS, ids=lambda d: d.id)
def test_every_test_a_known_deviation_covers_is_collected(deviation, collected):
    stale = [str(covers) for covers in deviation.tests if not any(covers.matches(t) for t in collected)]
    assert not stale, f"known deviation {deviation.id!r} names tests that the spec does not have: {stale}"


def test_known_deviation_ids_are_unique():
    ids = [deviation.id for deviation in DEVIATIONS]
    assert len(ids) == len(set(ids)), ids


def test_the_registrys_shape_ids_are_the_specs():
    """The registry is plain data and does not import the spec: its list of shape ids is held equal here."""
    from spec import shapes
    from statefulness.known_deviations import ALL_SHAPES, LSTM_CELL_FIRST_SHAPES, TORCH_GRU_SHAPES, TORCH_LSTM_SHAPES

    assert ALL_SHAPES == tuple(shape.id for shape in shapes.SHAPES)
    assert set(TORCH_LSTM_SHAPES) | set(TORCH_GRU_SHAPES) | set(LSTM_CELL_FIRST_SHAPES) <= set(ALL_SHAPES)


def test_every_known_deviation_has_its_workaround_or_the_reason_for_none_in_migrating_md():
    """docs/MIGRATING.md marks each section with the ids of the deviations it answers
    (``<!-- deviation: id -->``); every deviation of the registry is answered, and no marker is stale."""
    import re
    from pathlib import Path

    from statefulness.known_deviations import DEVIATIONS

    text = (Path(__file__).resolve().parent.parent / "docs" / "MIGRATING.md").read_text()
    marked = re.findall(r"<!-- deviation: (.+?) -->", text)
    assert sorted(marked) == sorted(d.id for d in DEVIATIONS)


def test_every_rule_a_known_deviation_names_is_a_rule_of_the_check():
    from statefulness.check import RULES

    stale = {d.id: [rule for rule in d.rules if rule not in RULES] for d in DEVIATIONS}
    assert not {d: rules for d, rules in stale.items() if rules}, stale


def test_no_known_deviation_of_this_keras_names_a_rule_that_cannot_apply_to_any_model_here():
    """Such a rule is reported not applicable (``check.NOT_APPLICABLE_HERE``: on Keras 3 models have no
    ``reset_states()``), so a deviation that names it would never show in the check."""
    from statefulness._keras import BACKEND, KERAS_VERSION
    from statefulness.check import NOT_APPLICABLE_HERE

    named = {d.id: set(d.rules) & set(NOT_APPLICABLE_HERE) for d in DEVIATIONS if d.covers(KERAS_VERSION, BACKEND)}
    assert not {d: rules for d, rules in named.items() if rules}, named
