"""Judging a learning claim: the claim's statement, figure and threshold are declared by its experiment
(``statefulness/experiments/catalogue.py``), which the spec, ``statefulness run`` and the calibration table all read."""

from __future__ import annotations

from statefulness.experiments import claims_by_id


def check(claim_id: str, outcomes, observe) -> None:
    """Assert the claim on every seed's outcome; record what was observed for the claims report."""
    claim = claims_by_id()[claim_id]
    failures = []
    for outcome in outcomes:
        seen = claim.observe(outcome.figures)
        observe(f"seed {outcome.seed}, {outcome.epochs} epochs", seen)
        if not claim.holds_for(outcome.figures):
            failures.append(f"seed {outcome.seed} ({outcome.epochs} epochs): observed {seen}")
    assert not failures, (
        f"claim {claim_id!r} broke: {claim.statement}\n  expected: {claim.threshold_text}"
        f" (tutorial: {claim.tutorial})\n  " + "\n  ".join(failures)
    )
