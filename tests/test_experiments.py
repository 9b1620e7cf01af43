"""Experiments as one object each: a threshold is written once, as a comparison that gives both the check
and its text; registering an experiment is all it takes for ``statefulness run``, its claims report and the
calibration script to know it."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest

from statefulness import cli, experiments
from statefulness.experiments import AlphabetFigures, Experiment, register
from statefulness.experiments.claims import Claim, Figures, at_least, at_most, below, differs, equal, fig

ROOT = Path(__file__).resolve().parent.parent


def figures(**values):
    return {"epochs": 1, "tier": "full", **values}


@pytest.mark.parametrize(
    ("comparison", "text", "holds", "fails"),
    [
        (below("accuracy", 1.0), "accuracy < 1.0", 0.99, 1.0),
        (at_most("later", 0.65), "later <= 0.65", 0.65, 0.66),
        (at_least("accuracy", 0.95), "accuracy >= 0.95", 0.95, 0.94),
        (equal("warm_K", "L"), "warm_K == 'L'", "L", "B"),
        (differs("next", "L"), "next != 'L'", "B", "L"),
    ],
)
def test_a_comparison_states_its_threshold_and_separates_both_sides_of_it(comparison, text, holds, fails):
    assert comparison.text == text
    assert comparison.holds(figures(**{comparison.figure: holds}))
    assert not comparison.holds(figures(**{comparison.figure: fails}))


def test_a_threshold_per_tier_is_judged_on_the_tier_the_figures_come_from():
    check = at_least("accuracy", {"full": 0.9, "default": 0.75})
    assert check.text == "full tier: accuracy >= 0.9; default tier: accuracy >= 0.75"
    assert check.holds(figures(tier="default", accuracy=0.8))
    assert not check.holds(figures(tier="full", accuracy=0.8))


def test_a_bound_read_from_another_figure_is_scaled_and_shifted_as_written():
    share = at_least("right", 0.9 * fig("all"))
    gap = at_most("no_reset", fig("reset") - 0.05)
    assert (share.text, gap.text) == ("right >= 0.9 × all", "no_reset <= reset - 0.05")
    assert share.holds(figures(right=104, all=115)) and not share.holds(figures(right=103, all=115))
    assert gap.holds(figures(no_reset=0.85, reset=0.9)) and not gap.holds(figures(no_reset=0.86, reset=0.9))
    assert share.figures() == {"right", "all"}


def test_both_holds_only_when_every_part_does_and_says_so():
    check = at_least("accuracy", 1.0) & equal("random_right", fig("random")) & below("x", 3)
    assert check.text == "accuracy >= 1.0 and random_right == random and x < 3"
    assert check.holds(figures(accuracy=1.0, random_right=20, random=20, x=2))
    for broken in ({"accuracy": 0.96}, {"random_right": 19}, {"x": 3}):
        assert not check.holds(figures(accuracy=1.0, random_right=20, random=20, x=2) | broken)


def test_a_figure_that_was_not_measured_never_meets_a_threshold():
    assert not at_most("stateful_later_pieces", 0.65).holds(figures(stateful_later_pieces=None))


def test_a_typed_record_and_a_calibration_row_are_judged_alike():
    record = AlphabetFigures(epochs=500, tier="full", accuracy=0.84, patterns_right=21, patterns=25)
    claim = experiments.claims_by_id()["one_char_does_not_learn"]
    assert claim.holds_for(record) and claim.holds_for(record.to_dict())
    assert isinstance(record, Figures) and record["accuracy"] == 0.84


def _claim(claim_id="throwaway_answers_every_pattern", check=None):
    return Claim(
        claim_id,
        "A throwaway experiment, registered by a test, answers every pattern it was trained on (right or not).",
        tutorial="(none: a test's own)",
        check=check or equal("patterns", 25),
        observe=lambda f: f"{f['patterns']} patterns, {f['patterns_right']} right",
    )


THROWAWAY = Experiment(
    "throwaway", "a test's own", "one_char", units=2, epochs=1, batch_size=25, shuffle=False, claims=(_claim(),)
)


@pytest.fixture
def throwaway():
    registered = register(THROWAWAY)
    yield registered
    del experiments.EXPERIMENTS[registered.name]


def test_registering_fills_in_each_claims_experiment(throwaway):
    assert experiments.claims_by_id()["throwaway_answers_every_pattern"].experiment == "throwaway"
    assert list(experiments.EXPERIMENTS)[-1] == "throwaway"


@pytest.mark.parametrize(
    ("experiment", "error", "words"),
    [
        (replace(THROWAWAY, name="one_char"), ValueError, "the name 'one_char' is taken"),
        (replace(THROWAWAY, claims=(_claim("stateful_learns"),)), ValueError, "the id 'stateful_learns' is taken"),
        (
            replace(THROWAWAY, claims=(_claim(check=below("from_A", "Z")),)),
            ValueError,
            "'throwaway_answers_every_pattern' is judged on from_A, which 'throwaway' does not measure",
        ),
        ("one_char", TypeError, "experiment: expected an Experiment, got str"),
    ],
)
def test_an_experiment_that_cannot_be_registered_is_refused_naming_why(experiment, error, words):
    before = dict(experiments.EXPERIMENTS)
    with pytest.raises(error, match=words):
        register(experiment)
    assert experiments.EXPERIMENTS == before


def test_a_registered_experiment_is_in_run_help_its_claims_report_and_the_calibration(throwaway, tmp_path, capsys):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    assert "throwaway" in out.getvalue()

    assert cli.main(["run", "throwaway", "--json", str(tmp_path / "run.json")]) == 0
    assert "throwaway_answers_every_pattern" in capsys.readouterr().out
    verdicts = json.loads((tmp_path / "run.json").read_text())["verdicts"]
    assert [(v["claim"], v["holds"], v["threshold"]) for v in verdicts] == [
        ("throwaway_answers_every_pattern", True, "patterns == 25")
    ]

    spec = importlib.util.spec_from_file_location("calibrate", ROOT / "scripts" / "calibrate.py")
    calibrate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(calibrate)
    calibrate.RESULTS = tmp_path / "results.jsonl"
    calibrate.calibrate(["throwaway"], ["full"], [3])
    (row,) = calibrate.load()
    assert (row["experiment"], row["seed"], row["epochs"], row["patterns"]) == ("throwaway", 3, 1, 25)
    assert "`throwaway_answers_every_pattern` (patterns == 25): holds for 1 of 1 seeds" in calibrate.table()
