"""Judging a learning claim: the claim's statement, figure and threshold live in
``statefulness/claims.py`` (read by the spec, ``statefulness run`` and the calibration table alike)."""

from __future__ import annotations

from statefulness.claims import CLAIMS_BY_ID, figures


def check(claim_id: str, outcomes, observe) -> None:
    """Assert the claim on every seed's outcome; record what was observed for the claims report."""
    claim = CLAIMS_BY_ID[claim_id]
    failures = []
    for outcome in outcomes:
        figs = figures(outcome)
        seen = claim.observe(figs)
        observe(f"seed {outcome.seed}, {outcome.epochs} epochs", seen)
        if not claim.holds_for(figs):
            failures.append(f"seed {outcome.seed} ({outcome.epochs} epochs): observed {seen}")
    assert not failures, (
        f"claim {claim_id!r} broke: {claim.statement}\n  expected: {claim.threshold_text}"
        f" (tutorial: {claim.tutorial})\n  " + "\n  ".join(failures)
    )
