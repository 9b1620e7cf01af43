"""The ids of the state rules of ``statefulness.check_model``, as plain data (no Keras): the checker
implements one rule per id (``statefulness/check/rules.py`` refuses to import otherwise), and the registry of
known deviations (``statefulness/deviations/registry.py``) names rules only from here, so a typo fails at import."""

from __future__ import annotations

DRIVERS = ("direct call", "predict_on_batch", "predict", "evaluate", "fit", "fit validation", "fit tf.data")
"""The ways users drive a model: a direct call, Keras's four loops, the validation pass of ``fit``
(``validation_data``), and ``fit`` fed a ``tf.data.Dataset``."""
RESETS = ("layer.reset_states()", "model.reset_states()", "statefulness.reset_states()")
OTHER_SIZES = ("fewer rows", "more rows")
FORMATS = (".keras", ".h5")
"""Keras's own format, and the legacy HDF5 of the tutorial's era, which every version still writes."""

EXPORT_ROUTES: dict[str, tuple[str, ...]] = {
    "model.export()": ("carries-state", "starts-where-exported", "refuses-other-batch-size"),
    "TFLiteConverter": ("carries-state", "starts-from-zero", "resets"),
    "statefulness.export()": ("carries-state", "starts-from-zero", "refuses-other-batch-size", "resets"),
    "statefulness.export(litert)": ("carries-state", "starts-from-zero", "resets"),
    "model.export(onnx)": ("carries-state", "starts-where-exported"),
}
"""The export routes that ``check_model(deploy=True)`` runs (where installed), each with the facts it is held
to, as spec chapter 18 states them: Keras's SavedModel (``model.export()``) and ONNX export start from the
state the model held when exported; the LiteRT converter (``TFLiteConverter.from_keras_model``) and
``statefulness.export`` start from zero state; a reset is the interpreter's ``reset_all_variables()`` or the
artifact's ``reset`` entry point."""


def route_rules(route: str) -> tuple[str, ...]:
    """The deployment rules of export route ``route``: ``exported-<fact>[<route>]`` for each of its facts."""
    return tuple(f"exported-{fact}[{route}]" for fact in EXPORT_ROUTES[route])


DEPLOYMENT_RULE_IDS: tuple[str, ...] = tuple(rule for route in EXPORT_ROUTES for rule in route_rules(route))
"""The deployment rules: run on a user's model only when asked (``check_model(deploy=True)``, ``statefulness
check --deploy``), as each writes and loads an artifact."""

RULE_IDS: tuple[str, ...] = (
    *(f"carries-state[{driver}]" for driver in DRIVERS),
    "chunks-equal-whole",
    "rows-independent",
    *(f"reset-zeroes[{how}]" for how in RESETS),
    *(f"refuses-other-batch-size[{other}]" for other in OTHER_SIZES),
    *(f"saved-and-loaded[{fmt}]" for fmt in FORMATS),
    *DEPLOYMENT_RULE_IDS,
)


def family(rule_id: str) -> str:
    """``carries-state`` of ``carries-state[fit]``."""
    return rule_id.partition("[")[0]


def param(rule_id: str) -> str:
    """``fit`` of ``carries-state[fit]`` ('' for a rule without one)."""
    return rule_id.partition("[")[2].removesuffix("]")


def family_ids(name: str) -> list[str]:
    """The rule ids of family ``name``, in their order."""
    return [rule for rule in RULE_IDS if family(rule) == name]
