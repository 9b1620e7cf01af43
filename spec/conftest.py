"""pytest set-up for the spec: each claim's id, known deviations as strict xfails, and the trained outcomes
that the learning claims share. (The header, options, markers, hypothesis profiles, the fresh Keras session
per test and the claims report come from ``statefulness/pytest_plugin.py``, which the project's root
``conftest.py`` and ``statefulness spec`` load.)"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from statefulness.deviations import DEVIATIONS, Covers, Deviation, deviation_for
from statefulness.pytest_plugin import MARKERS, claim_id, environment

if TYPE_CHECKING:
    from statefulness.check import kinds

# Keras is loaded where the claims are collected (a worker), not at this file's import: the controlling
# process of an xdist run loads this file too, and names the Keras under test without loading it.

SPEC_MARKERS = {marker.partition(":")[0] for marker in MARKERS}


def exception_type(name: str) -> type[BaseException]:
    """The exception class of a qualified name (``"RuntimeError"``, ``"_pytest.outcomes.Failed"``)."""
    module, _, attr = name.rpartition(".")
    return getattr(importlib.import_module(module or "builtins"), attr)


def pytest_collection_modifyitems(config, items):
    versions = environment()  # the loaded Keras's (the claims' modules load it), else read without loading it
    for item in items:
        module, function = getattr(item, "module", None), getattr(item, "function", None)
        claim = claim_id(item)
        if module is None or claim is None:  # not a claim of the spec (the library's tests, the walkthrough)
            continue
        item.user_properties.append(("claim", claim))
        item.user_properties.append(("markers", sorted({m.name for m in item.iter_markers()} & SPEC_MARKERS)))
        item.user_properties.append(("chapter", " ".join((module.__doc__ or "").split())))
        item.user_properties.append(("doc", " ".join((getattr(function, "__doc__", None) or "").split())))
        found = _deviation(item, versions["keras"], versions["backend"])
        if found is not None:
            deviation, covers = found
            reason = f"{deviation.cause} {covers.consequence if covers else ''}".strip()
            item.add_marker(
                pytest.mark.xfail(strict=True, raises=exception_type(deviation.raised(covers)), reason=reason)
            )
            item.user_properties.append(("deviation", deviation.cause))
            item.user_properties.append(("deviation_id", deviation.id))
            if covers is not None and covers.consequence:
                item.user_properties.append(("consequence", covers.consequence))
    _MODELS.clear()


_MODELS: dict[str, object] = {}


def _model(kind: kinds.Kind):
    """A model of ``kind``, built once at collection, for the predicates of the registry; None where it
    cannot be built (a broken Keras): its tests then fail on their own, with no deviation to explain it."""
    from statefulness.check import kinds

    if kind.id not in _MODELS:
        try:
            _MODELS[kind.id] = kind.build(kinds.BATCH)
        except Exception:  # noqa: BLE001 - whatever stops the build, the kind's own tests report it
            _MODELS[kind.id] = None
    return _MODELS[kind.id]


def _deviation(item, keras: str, backend: str) -> tuple[Deviation, Covers | None] | None:
    """The known deviation that a claim meets on Keras ``keras`` and ``backend``, and its entry (None for a
    breadth claim that runs a state rule, whose deviation is decided from the rule and the kind's model)."""
    params = item.callspec.params if hasattr(item, "callspec") else {}
    kind, rule = params.get("kind"), params.get("rule")
    if kind is not None:  # a claim over the kinds of model: its deviation may depend on the kind's model
        from statefulness.check import holds, known_deviation
    if kind is not None and rule is not None:
        if not any(rule in d.rules and d.covers(keras, backend) for d in DEVIATIONS):
            return None  # nothing to decide: no model built
        model = _model(kind)
        deviation = None if model is None else known_deviation(rule, model)
        return None if deviation is None else (deviation, None)
    return deviation_for(
        claim_id(item),
        keras,
        backend,
        holds=None if kind is None else (lambda predicate: _model(kind) is not None and holds(predicate, _model(kind))),
    )


FEW_EXAMPLES = 2
"""Hypothesis examples per shape in the default tier, besides each claim's explicit ``@example``s. The
LSTM's own claims in chapters 2 to 7 keep the profile's count; ``--wide`` gives every shape that count."""


@pytest.fixture
def examples(request):
    """``@examples(shape)``: the hypothesis settings for a breadth claim's examples on ``shape``.

    The breadth claims build each shape's model once per test and draw weights and inputs per example
    (Keras traces functions per model, so rebuilding per example would cost more than the examples).
    """
    count = settings().max_examples if request.config.getoption("--wide") else FEW_EXAMPLES

    def for_shape(shape):
        return settings(max_examples=count)

    return for_shape


SEEDS = {"default": (7,), "full": (7, 8, 9)}
"""The fixed seeds of the learning claims per tier (7 is the tutorial's). calibration/TABLE.md shows the
claims over seeds 0-19 (0-9 for variable_length), these among them."""


@pytest.fixture(scope="session")
def outcomes(request):
    """``outcomes(name)``: the recipe trained once per seed of the tier, shared by every claim on it.

    ``outcomes("split_sequence", *variants)`` trains only those variants, so that a claim about the
    stateless variant does not depend on the stateful ones training at all (on PyTorch they cannot).
    """
    from statefulness.experiments.run import run_experiment

    full = request.config.getoption("--full")
    cache: dict[tuple, list] = {}

    def get(name: str, *variants: str):
        key = (name, *variants)
        if key not in cache:
            cache[key] = [
                run_experiment(name, seed=s, full=full, variants=variants or None)
                for s in SEEDS["full" if full else "default"]
            ]
        return cache[key]

    return get


@pytest.fixture
def observe(record_property):
    """``observe(name, value)`` records a figure the claim is judged on, for the claims report."""
    return record_property
