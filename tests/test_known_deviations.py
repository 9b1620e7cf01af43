"""The registry of known deviations stays bound to the spec: every entry names tests that exist.

A renamed or deleted test would otherwise leave its entry silently applying to nothing, whatever Keras
is installed; so this collects the whole spec (as pytest does, without running it) and checks every
entry against the collected ids, not only the entries that cover the installed version.
"""

from __future__ import annotations

import pytest

from statefulness.deviations import DEVIATIONS


@pytest.fixture(scope="module")
def collected(spec_collection) -> list[str]:
    """Every claim id of the spec, with its parameters (the form the registry uses)."""
    return [item["claim"] for item in spec_collection]


@pytest.mark.parametrize("deviation", DEVIATIONS, ids=lambda d: d.id)
def test_every_test_a_known_deviation_covers_is_collected(deviation, collected):
    stale = [str(covers) for covers in deviation.tests if not any(covers.matches(t) for t in collected)]
    assert not stale, f"known deviation {deviation.id!r} names tests that the spec does not have: {stale}"


def test_known_deviation_ids_are_unique():
    ids = [deviation.id for deviation in DEVIATIONS]
    assert len(ids) == len(set(ids)), ids


def test_every_predicate_of_the_registry_tells_kinds_of_the_catalogue_apart():
    """A deviation's ``when`` is a ``Predicate`` decided on the model (``check.PREDICATES``, one
    implementation each): each holds for some kind of the catalogue and not for every one."""
    from statefulness.check import holds, kinds
    from statefulness.deviations import PREDICATES

    for predicate in PREDICATES:
        verdicts = {kind.id: holds(predicate, kind.build(kind.batch)) for kind in kinds.KINDS}
        assert any(verdicts.values()) and not all(verdicts.values()), (predicate, verdicts)


def test_a_deviation_naming_a_rule_that_does_not_exist_or_a_when_that_is_no_predicate_is_refused():
    from statefulness.deviations import Deviation

    with pytest.raises(ValueError, match=r"rules: unknown rule ids \['carries-state\[fitt\]'\]"):
        Deviation(id="x", keras=">=3", diagnosis="", rules=("carries-state[fitt]",))
    with pytest.raises(TypeError, match="when: expected a Predicate, got 'nested_state'"):
        Deviation(id="x", keras=">=3", diagnosis="", rules=("rows-independent",), when="nested_state")


@pytest.mark.parametrize(
    "raises, error, explained",
    [
        ("AssertionError", AssertionError("x"), True),
        ("_pytest.outcomes.Failed", AssertionError("x"), True),  # a claim that did not raise, as a rule sees it
        ("RuntimeError", AssertionError("x"), False),
        ("RuntimeError", RuntimeError("x"), True),
        (
            "tensorflow.python.framework.errors_impl.InvalidArgumentError",
            "tensorflow.errors.InvalidArgumentError",
            True,
        ),
        ("AttributeError", ValueError("x"), False),
    ],
)
def test_a_deviation_explains_only_the_exception_it_names(raises, error, explained):
    from statefulness.deviations import Deviation

    assert Deviation(id="x", keras=">=3", diagnosis="", raises=raises).explains(error) is explained


def test_every_known_deviation_has_its_workaround_or_the_reason_for_none_in_migrating_md():
    """docs/MIGRATING.md marks each section with the ids of the deviations it answers
    (``<!-- deviation: id -->``); every deviation of the registry is answered, and no marker is stale."""
    import re
    from pathlib import Path

    from statefulness.deviations import DEVIATIONS

    text = (Path(__file__).resolve().parent.parent / "docs" / "MIGRATING.md").read_text()
    marked = re.findall(r"<!-- deviation: (.+?) -->", text)
    assert sorted(marked) == sorted(d.id for d in DEVIATIONS)


def test_every_rule_a_known_deviation_names_is_a_rule_of_the_check():
    from statefulness.check import RULES

    stale = {d.id: [rule for rule in d.rules if rule not in RULES] for d in DEVIATIONS}
    assert not {d: rules for d, rules in stale.items() if rules}, stale


def test_a_rule_that_cannot_apply_to_any_model_here_is_reported_so_even_where_a_deviation_names_it():
    """``check.NOT_APPLICABLE_HERE`` (on Keras 3 models have no ``reset_states()``): the check reports the
    rule not applicable, not the deviation that the spec's breadth claim meets by running it anyway."""
    from statefulness.check import NOT_APPLICABLE_HERE, check_model, kinds

    for rule in NOT_APPLICABLE_HERE:
        result = check_model(kinds.BY_NAME["lstm"].example(), rules=[rule])[rule]
        assert result.verdict == "not applicable" and result.deviation is None, result
