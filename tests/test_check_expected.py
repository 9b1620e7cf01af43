"""A sound model passes the check: rules that cannot apply on the installed Keras, and rules the user
expects to fail (``check_model(expected=...)``, ``statefulness check --expect``,
``parametrize_with_rules(expected=...)``, as scikit-learn's ``expected_failed_checks``).

Keras 3 models have no ``reset_states()``: the check's rule for it is not applicable there (the spec's
tutorial claim about it stays a known deviation of the spec), so a sound stacked GRU passes without
``--allow-known``. A model that does show a known deviation (an ``RNN`` over a list of cells, whose layer
reset fails on Keras 3: 'nested state cannot be reset') still fails, unless the user names that rule,
with a reason; a rule the user names that passes fails the check.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from statefulness import check_model
from statefulness._keras import MODEL_HAS_RESET_STATES, keras
from statefulness.check import EXAMPLES, NOT_APPLICABLE_HERE, RULES, known_deviation
from statefulness.cli import main
from statefulness.testing import parametrize_with_rules

ROOT = Path(__file__).resolve().parent.parent

MODEL_RESET = "reset-zeroes[model.reset_states()]"
LAYER_RESET = "reset-zeroes[layer.reset_states()]"
LIBRARY_RESET = "reset-zeroes[statefulness.reset_states()]"
REASON = "nested cells: RNN.reset_state loops over the top level only"


def nested_cells():
    """A stateful ``RNN`` over a list of cells: its state is nested, one list per cell."""
    inputs = keras.Input(shape=(None, 2), batch_size=2)
    cells = [keras.layers.GRUCell(3), keras.layers.LSTMCell(2)]
    return keras.Model(inputs, keras.layers.RNN(cells, stateful=True, return_sequences=True)(inputs), name="cells")


def _needs_the_nested_deviation():
    if known_deviation(LAYER_RESET, nested_cells()) is None:
        pytest.skip(f"no known deviation of this Keras makes {LAYER_RESET} fail on nested state")


@pytest.fixture(scope="module")
def nested_file(tmp_path_factory) -> Path:
    """The nested-cells model, saved as a user's file for the command line."""
    path = tmp_path_factory.mktemp("nested") / "cells.keras"
    nested_cells().save(path)
    return path


def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def _line(out: str, rule: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(rule + " "))


# A rule that no model of this Keras can meet is not applicable, not a deviation.


@pytest.mark.skipif(MODEL_HAS_RESET_STATES, reason="this Keras's models have reset_states()")
def test_model_reset_states_is_not_applicable_where_keras_models_have_none_and_says_what_to_use():
    result = check_model(EXAMPLES["stacked-gru-lstm"](), rules=[MODEL_RESET])[MODEL_RESET]
    assert result.verdict == "not applicable" and result.deviation is None, result
    assert "removed Model.reset_states()" in result.detail
    assert "statefulness.reset_states(model)" in result.detail and "layer.reset_states()" in result.detail


@pytest.mark.skipif(MODEL_HAS_RESET_STATES, reason="this Keras's models have reset_states()")
def test_model_reset_states_runs_where_the_users_model_class_brings_its_own():
    """On a Keras whose models have no ``reset_states()``, a model class that defines one is checked by it:
    a method that resets passes, one that does nothing fails."""
    from statefulness import reset_states

    def build(method):
        model = EXAMPLES["stacked-gru-lstm"]()
        subclass = type("Resettable", (type(model),), {"reset_states": method})
        model.__class__ = subclass  # the same built model, of a class with its own reset_states()
        return model

    resets = check_model(build(lambda self: reset_states(self)), rules=[MODEL_RESET])[MODEL_RESET]
    assert resets.verdict == "pass", resets
    forgets = check_model(build(lambda self: None), rules=[MODEL_RESET])[MODEL_RESET]
    assert forgets.verdict == "fail" and "not zeros" in forgets.detail, forgets


def test_every_rule_that_cannot_apply_here_is_a_rule_of_the_check():
    assert set(NOT_APPLICABLE_HERE) <= set(RULES), NOT_APPLICABLE_HERE


@pytest.mark.skipif(not MODEL_HAS_RESET_STATES, reason="this Keras's models have no reset_states()")
def test_model_reset_states_still_runs_where_keras_models_have_it():
    result = check_model(EXAMPLES["stacked-gru-lstm"](), rules=[MODEL_RESET])[MODEL_RESET]
    assert result.verdict == "pass", result


def test_a_sound_stacked_gru_passes_without_allow_known_where_no_deviation_is_predicted_for_it(capsys):
    model = EXAMPLES["stacked-gru-lstm"]()
    predicted = {rule: known_deviation(rule, model).id for rule in RULES if known_deviation(rule, model)}
    if predicted:
        pytest.skip(f"known deviations of this Keras make the stacked GRU fail: {predicted}")
    assert check_model(model).passed()
    code, out, _ = _cli(capsys, "--example", "stacked-gru-lstm")
    assert code == 0, out


# A known deviation that the user expects.


def test_a_model_that_shows_a_known_deviation_still_exits_1_without_expect(capsys, nested_file):
    _needs_the_nested_deviation()
    code, out, _ = _cli(capsys, nested_file, "--rules", "reset-zeroes")
    assert code == 1
    assert "known deviation" in _line(out, LAYER_RESET)


def test_expect_makes_that_rule_expected_with_the_reason_printed_and_exit_0(capsys, nested_file, tmp_path):
    _needs_the_nested_deviation()
    code, out, _ = _cli(
        capsys, nested_file, "--rules", "reset-zeroes", "--expect", f"{LAYER_RESET}={REASON}", "--json", tmp_path / "r"
    )
    assert code == 0, out
    line = _line(out, LAYER_RESET)
    assert " expected " in line and f"expected to fail ({REASON}) and failed" in line
    assert "1 expected" in out.splitlines()[-1]
    result = next(r for r in json.loads((tmp_path / "r").read_text())["results"] if r["rule"] == LAYER_RESET)
    assert (result["verdict"], result["expected"], result["measured"]) == ("expected", REASON, "known deviation")
    assert result["deviation"] == "nested state cannot be reset"


def test_expected_in_python_makes_the_report_pass_where_that_known_deviation_alone_fails_it():
    _needs_the_nested_deviation()
    assert not check_model(nested_cells(), rules=[LAYER_RESET]).passed()
    report = check_model(nested_cells(), rules=[LAYER_RESET], expected={LAYER_RESET: REASON})
    assert report[LAYER_RESET].verdict == "expected" and report.passed(), report.table()


def test_an_expected_family_covers_its_rules_and_one_that_does_not_apply_stays_not_applicable():
    _needs_the_nested_deviation()
    if MODEL_HAS_RESET_STATES:
        pytest.skip("this Keras's models have reset_states(): the rule applies")
    report = check_model(nested_cells(), rules=["reset-zeroes"], expected={"reset-zeroes": REASON})
    assert report.verdicts == {
        LAYER_RESET: "expected",
        MODEL_RESET: "not applicable",
        LIBRARY_RESET: "unexpected pass",  # statefulness.reset_states() zeroes nested states
    }, report.table()
    assert REASON in report[MODEL_RESET].detail and not report.passed()


# An expected rule that passes.


def test_an_expected_rule_that_passes_is_an_unexpected_pass_and_exits_1(capsys):
    code, out, _ = _cli(
        capsys, "--example", "stacked-gru-lstm", "--rules", "rows-independent", "--expect", "rows-independent=rows leak"
    )
    assert code == 1
    line = _line(out, "rows-independent")
    assert "unexpected pass" in line and "expected to fail (rows leak) but passed" in line
    assert out.splitlines()[-1] == "1 unexpected pass"


def test_allow_known_does_not_accept_an_unexpected_pass():
    report = check_model(
        EXAMPLES["stacked-gru-lstm"](), rules=["rows-independent"], expected={"rows-independent": "why"}
    )
    assert report["rows-independent"].verdict == "unexpected pass"
    assert not report.passed(allow_known=True)


def test_a_record_compares_what_the_rules_showed_so_adding_an_expectation_is_no_change(capsys, nested_file, tmp_path):
    _needs_the_nested_deviation()
    record = tmp_path / "record.json"
    _cli(capsys, nested_file, "--rules", "reset-zeroes", "--record", record)
    code, out, _ = _cli(
        capsys, nested_file, "--rules", "reset-zeroes", "--against", record, "--expect", f"{LAYER_RESET}={REASON}"
    )
    assert code == 0 and "no change" in out, out


# Bad expectations.


@pytest.mark.parametrize(
    "expect, message",
    [
        ("rows-independent", "argument --expect: expected RULE=REASON"),
        ("rows-independent=", "argument --expect: expected RULE=REASON"),
        ("=a reason", "argument --expect: expected RULE=REASON"),
        ("nope=a reason", "--expect: unknown rule 'nope'; expected any of carries-state"),
    ],
)
def test_a_bad_expect_is_one_line_and_exit_status_2(capsys, expect, message):
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(["check", "--example", "stacked-gru-lstm", "--expect", expect]))
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_an_unknown_expected_rule_is_a_value_error_naming_expected_and_listing_the_rules():
    words = r"expected: unknown rule 'nope'; expected any of carries-state, .* or one of carries-state\[direct call\]"
    with pytest.raises(ValueError, match=words):
        check_model(EXAMPLES["stacked-gru-lstm"](), expected={"nope": "a reason"})
    with pytest.raises(ValueError, match=words):
        parametrize_with_rules(EXAMPLES["stacked-gru-lstm"], expected={"nope": "a reason"})


def test_an_expectation_without_a_reason_is_refused():
    with pytest.raises(ValueError, match="expected: the reason for 'rows-independent' must be a non-empty string"):
        check_model(EXAMPLES["stacked-gru-lstm"](), expected={"rows-independent": " "})


# In the user's own test suite.

USERS_TESTS = f"""
    from statefulness import keras
    from statefulness.testing import parametrize_with_rules


    def nested_cells():
        inputs = keras.Input(shape=(None, 2), batch_size=2)
        cells = [keras.layers.GRUCell(3), keras.layers.LSTMCell(2)]
        return keras.Model(inputs, keras.layers.RNN(cells, stateful=True, return_sequences=True)(inputs))


    @parametrize_with_rules(
        nested_cells,
        rules=["{LAYER_RESET}", "rows-independent"],
        expected={{"{LAYER_RESET}": "{REASON}", "rows-independent": "rows leak"}},
    )
    def test_my_model_keeps_the_state_rules(check):
        check()
"""


def test_in_the_users_suite_an_expected_rule_is_a_strict_xfail_with_the_users_reason(pytester, monkeypatch):
    _needs_the_nested_deviation()
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(textwrap.dedent(USERS_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore", "-rx", "-vv")
    result.assert_outcomes(xfailed=1, failed=1)  # the layer reset fails as expected; rows-independent passes
    result.stdout.fnmatch_lines(
        [f"*XFAIL*layer.reset_states()*expected to fail ({REASON}) and failed: AttributeError*"]
    )
    result.stdout.fnmatch_lines(
        [
            "*rows-independent (unexpected pass): The rows of a batch share no state*",
            "*expected to fail (rows leak) but passed: over 3 batches, reordering the rows*",
        ]
    )
