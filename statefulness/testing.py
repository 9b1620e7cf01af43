"""The state rules of ``check_model`` as test cases of your own test suite (pytest).

    from statefulness.testing import parametrize_with_rules

    @parametrize_with_rules(make_model)
    def test_my_model_keeps_the_state_rules(check):
        check()

Each rule becomes one test case, named by its id, on a fresh model from ``make_model()``: a rule that
fails, or cannot run, fails its case with the rule's statement and what was measured; a known deviation of
the installed Keras is an expected failure (xfail) that names its diagnosis; a rule that does not apply
to the model (or to any model of the installed Keras) is skipped, with the reason.

Rules that you expect to fail on your model, with your reasons (as scikit-learn's
``expected_failed_checks``), are named by ``expected``:

    @parametrize_with_rules(make_model, expected={"reset-zeroes[layer.reset_states()]": "nested cells"})

such a rule that fails is an xfail with your reason; one that passes fails its case, as a strict xfail
does ("expected to fail (nested cells) but passed"). pytest is imported when this is called, not by the
library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping


class RuleCase:
    """One rule of ``check_model`` on a model from ``factory``: call it to run the rule."""

    def __init__(
        self, factory: Callable, rule: str, seed: int, custom_objects: dict | None, expected: str | None = None
    ):
        self.factory, self.rule, self.seed, self.custom_objects = factory, rule, seed, custom_objects
        self.expected = expected
        """The user's reason for expecting the rule to fail, or None."""

    def __repr__(self) -> str:
        return f"RuleCase({self.rule!r})"

    def __call__(self):
        import pytest

        from statefulness._keras import clear_session
        from statefulness.check import check_model

        clear_session()
        result = check_model(
            self.factory(),
            rules=[self.rule],
            expected=None if self.expected is None else {self.rule: self.expected},
            seed=self.seed,
            custom_objects=self.custom_objects,
        )[self.rule]
        if result.verdict in ("known deviation", "expected"):
            pytest.xfail(f"{result.rule}: {result.detail}")
        if result.verdict == "not applicable":
            pytest.skip(f"{result.rule}: {result.detail}")
        if result.verdict in ("fail", "error", "unexpected pass"):
            pytest.fail(f"{result.rule} ({result.verdict}): {result.statement}\n{result.detail}", pytrace=False)
        return result


def parametrize_with_rules(
    factory: Callable,
    *,
    rules: Iterable[str] | None = None,
    expected: Mapping[str, str] | None = None,
    seed: int = 0,
    custom_objects: dict | None = None,
):
    """A ``pytest.mark.parametrize`` of the argument ``check`` over the rules (all, or ``rules``: ids or
    families), each a ``RuleCase`` on ``factory()``. ``expected``: rule ids or families that you expect to
    fail, each with your reason (an unknown rule is a ``ValueError`` naming ``expected``)."""
    import pytest

    from statefulness.check import expected_failures, select_rules

    if not callable(factory):
        raise TypeError(f"factory: expected a callable that returns a built Keras model, got {factory!r}")
    reasons = expected_failures(expected)
    cases = [
        pytest.param(RuleCase(factory, rule.id, seed, custom_objects, reasons.get(rule.id)), id=rule.id)
        for rule in select_rules(list(rules) if rules is not None else None)
    ]
    return pytest.mark.parametrize("check", cases)
