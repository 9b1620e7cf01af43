"""The checker: the spec's exact state rules, run on any stateful Keras model (``check_model``,
``statefulness check``), and run by the spec itself on every kind of model (``run_rule``).

Its modules, each one idea: ``rules`` (the rules, ``check_model``, ``run_rule``), ``subject`` (the model under
check and the yardstick it is held to), ``predicates`` (what kind of model a known deviation names),
``report`` (``Report``, ``Result`` and the rules' exceptions), ``record`` (a record before an upgrade and the
comparison after), ``kinds`` (the catalogue of kinds of model: the spec's, ``--example``'s, the mutants').
Importing it loads Keras.
"""

from statefulness.check.kinds import EXAMPLES, KINDS
from statefulness.check.predicates import PREDICATES, holds
from statefulness.check.record import RECORD_FORMAT, compare_with_record, record_model
from statefulness.check.report import VERDICTS, NotApplicable, Report, Result, RuleFailed
from statefulness.check.rules import (
    NOT_APPLICABLE_HERE,
    RULES,
    check_model,
    expected_failures,
    known_deviation,
    run_rule,
    select_rules,
)
from statefulness.check.subject import chunked_outputs, expected_when_chunked, whole_outputs

__all__ = [
    "EXAMPLES",
    "KINDS",
    "NOT_APPLICABLE_HERE",
    "PREDICATES",
    "RECORD_FORMAT",
    "RULES",
    "VERDICTS",
    "NotApplicable",
    "Report",
    "Result",
    "RuleFailed",
    "check_model",
    "chunked_outputs",
    "compare_with_record",
    "expected_failures",
    "expected_when_chunked",
    "holds",
    "known_deviation",
    "record_model",
    "run_rule",
    "select_rules",
    "whole_outputs",
]
