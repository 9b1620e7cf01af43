"""The breadth claims' one step: a state rule of ``statefulness.check`` (the rule that ``statefulness
check`` runs on a user's model, one implementation) run on a kind of model of ``statefulness.check.kinds`` with
weights and inputs drawn from a seed, against the kind's NumPy recurrence where it has one
(``spec/reference.py``) and its stateless twin otherwise.

A rule that does not hold raises ``statefulness.check.RuleFailed`` (an ``AssertionError``) with what it
measured; whatever Keras raises goes through, so that a known deviation is judged by its exception. A
known deviation of a breadth claim is decided from the rule and a predicate on the model
(``Deviation.rules`` and ``when``, in ``spec/conftest.py``)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from statefulness._keras import tf_data_missing
from statefulness.check import kinds, run_rule
from statefulness.rule_ids import family_ids, param

from . import reference

__all__ = ["family_ids", "param", "rule_holds", "rule_holds_on_drawn_seeds"]


def rule_holds(rule: str, kind: kinds.Kind, model, seed: int) -> str:
    """Draw ``model``'s weights from ``seed`` and run ``rule`` on it (inputs drawn from ``seed`` too):
    what it measured, or ``RuleFailed``."""
    kind.set_weights(model, seed)
    return run_rule(rule, model, seed=seed, oracle=reference.oracle(kind), custom_objects=kinds.CUSTOM_OBJECTS)


_BUILT: dict[str, object] = {}


def built(kind: kinds.Kind):
    """``kind``'s model at ``kinds.BATCH``, built once per process and shared by the breadth claims that
    draw seeds on it: each draws the weights it runs on, and ``run_rule`` leaves the state as it found it
    (the functions Keras traced for it, and its copy for ``fit``, are reused)."""
    if kind.id not in _BUILT:
        _BUILT[kind.id] = kind.build(kinds.BATCH)
    return _BUILT[kind.id]


def rule_holds_on_drawn_seeds(rule: str, kind: kinds.Kind, settings, first_seed: int = 0) -> None:
    """``rule_holds`` on the model of ``kind`` (``built``: Keras traces per model) for ``first_seed`` and
    every seed hypothesis draws under ``settings`` (the spec's ``examples(kind)``). The rule that feeds
    ``fit`` a ``tf.data.Dataset`` is skipped, with why, where TensorFlow is not installed."""
    if param(rule) == "fit tf.data" and tf_data_missing() is not None:
        pytest.skip(str(tf_data_missing()))
    model = built(kind)

    @settings
    @given(seed=st.integers(0, 2**16))
    @example(seed=first_seed)
    def check(seed):
        rule_holds(rule, kind, model, seed)

    check()
