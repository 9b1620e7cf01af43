"""The breadth claims' one step: a state rule of ``statefulness.check`` (the rule that ``statefulness
check`` runs on a user's model, one implementation) run on a kind of model of ``statefulness.kinds`` with
weights and inputs drawn from a seed, against the kind's NumPy recurrence where it has one
(``spec/reference.py``) and its stateless twin otherwise.

A rule that does not hold raises ``statefulness.check.RuleFailed`` (an ``AssertionError``) with what it
measured; whatever Keras raises goes through, so that a known deviation is judged by its exception. A
known deviation of a breadth claim is decided from the rule and a predicate on the model
(``Deviation.rules`` and ``when``, in ``spec/conftest.py``)."""

from __future__ import annotations

from statefulness import kinds
from statefulness.check import run_rule
from statefulness.rule_ids import family_ids, param

from . import reference

__all__ = ["family_ids", "param", "rule_holds"]


def rule_holds(rule: str, kind: kinds.Kind, model, seed: int) -> str:
    """Draw ``model``'s weights from ``seed`` and run ``rule`` on it (inputs drawn from ``seed`` too):
    what it measured, or ``RuleFailed``."""
    kind.set_weights(model, seed)
    return run_rule(rule, model, seed=seed, oracle=reference.oracle(kind), custom_objects=kinds.CUSTOM_OBJECTS)
