"""Every verdict of statefulness, in one vocabulary: the spec's claims (the claims report, the matrix, the
documents) and the rules of ``statefulness check`` on a user's model.

A ``Verdict`` is a ``str``: it equals, hashes, sorts, prints and goes to JSON as its value (``"known
deviation"``), so that a report written before the enum and one written with it read the same.
"""

from __future__ import annotations

import enum


class Verdict(str, enum.Enum):
    PASS = "pass"
    FAIL = "fail"
    KNOWN_DEVIATION = "known deviation"
    """Fails as a registered known deviation diagnoses (``statefulness/deviations/registry.py``)."""
    SKIPPED = "skipped"
    """A claim's case that does not apply to the Keras under test."""
    EXPECTED = "expected"
    """A rule the user expects to fail (``expected=``), and it failed, erred or showed a known deviation."""
    UNEXPECTED_PASS = "unexpected pass"
    """A rule the user expects to fail, and it did not fail."""
    NOT_APPLICABLE = "not applicable"
    """A rule that cannot apply to the model's make-up or to the installed Keras (with the reason)."""
    ERROR = "error"
    """A rule that could not run (with the exception)."""

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


CLAIM_VERDICTS = (Verdict.PASS, Verdict.FAIL, Verdict.KNOWN_DEVIATION, Verdict.SKIPPED)
"""The verdicts of a claim (a spec test's case) in a claims report."""

RULE_VERDICTS = (
    Verdict.PASS,
    Verdict.FAIL,
    Verdict.KNOWN_DEVIATION,
    Verdict.EXPECTED,
    Verdict.UNEXPECTED_PASS,
    Verdict.NOT_APPLICABLE,
    Verdict.ERROR,
)
"""The verdicts of a rule of ``statefulness check`` (``statefulness/check/rules.py``), in the order it counts them."""
