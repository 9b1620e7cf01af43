"""Before and after an upgrade: a record of what a model computes, and a comparison with it
(``statefulness check --record`` / ``--against``)."""

from __future__ import annotations

import numpy as np

from statefulness._keras import (
    random_state,
    restore_random_state,
    versions,
)
from statefulness.check.report import (
    Report,
    _Tolerance,
)
from statefulness.check.subject import _Subject

# Before and after an upgrade: a record of what the model computes, and a comparison with it.

RECORD_FORMAT = "statefulness-record/1"
RECORD_TOLERANCE: _Tolerance = {"rtol": 1e-4, "atol": 1e-5}
"""Outputs and states recorded in one environment are compared in another within this tolerance: kernels
of another version or backend sum in another order (float32), so bit-equality is not expected."""


def _signature(subject: _Subject) -> dict:
    return {
        "name": subject.model.name,
        "input": [subject.batch, None if subject.time_free else subject.steps, *subject.features],
        "output": [None if d is None else int(d) for d in subject.model.outputs[0].shape],
        "weights": [list(w.shape) for w in subject.model.get_weights()],
        "stateful_layers": [type(layer).__name__ for layer in subject.layers],
    }


def record_model(model, report: Report, *, custom_objects: dict | None = None) -> dict:
    """What ``model`` computes on drawn inputs (every chunk's output and the states after them, from zero
    state, by direct calls), with the verdicts the report's rules showed (``Report.measured``: before the
    user's expectations) and the environment: JSON-ready."""
    subject = _Subject(model, report.seed, custom_objects)
    chunks = subject.chunks(3, key=5)
    outputs, states = _outputs_and_states(subject, chunks)
    return {
        "format": RECORD_FORMAT,
        "environment": versions(),
        "model": _signature(subject),
        "seed": report.seed,
        "verdicts": report.measured,
        "inputs": [chunk.tolist() for chunk in chunks],
        "outputs": [out.tolist() for out in outputs],
        "states": [state.tolist() for state in states],
    }


def _outputs_and_states(subject: _Subject, chunks) -> tuple[list[np.ndarray], list[np.ndarray]]:
    stored, saved = subject.states(), random_state()
    try:
        subject.zero()
        outputs = subject.feed(chunks)
        return outputs, subject.states()
    finally:
        subject.restore(stored)
        restore_random_state(saved)


def compare_with_record(model, record: dict, report: Report, *, custom_objects: dict | None = None) -> list[str]:
    """What changed since ``record`` was made: the verdicts the rules showed (``Report.measured``, so that
    expectations added or dropped change nothing), and outputs or states beyond ``RECORD_TOLERANCE`` (one
    line each, with the largest difference). Raises ``ValueError`` if the record is not one, or was
    made from another model."""
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise ValueError(
            f"record: expected a record written by `statefulness check --record` (format {RECORD_FORMAT!r})"
        )
    subject = _Subject(model, record["seed"], custom_objects)
    here = _signature(subject)
    for key, value in record["model"].items():
        if key != "name" and here.get(key) != value:
            raise ValueError(f"record: made from another model: its {key} was {value}, this model's is {here.get(key)}")
    measured = report.measured
    changes = [
        f"{rule}: {before} -> {measured.get(rule, 'not run')}"
        for rule, before in record["verdicts"].items()
        if measured.get(rule, before) != before
    ]
    chunks = [np.asarray(chunk, subject.dtype) for chunk in record["inputs"]]
    outputs, states = _outputs_and_states(subject, chunks)
    pairs = [
        (f"output of batch {k + 1}", a, b) for k, (a, b) in enumerate(zip(outputs, record["outputs"], strict=True))
    ]
    if len(states) == len(record["states"]):
        pairs += [
            (f"state {k + 1} after the batches", a, b)
            for k, (a, b) in enumerate(zip(states, record["states"], strict=True))
        ]
    else:
        changes.append(f"state variables: {len(record['states'])} -> {len(states)}")
    for what, now, then in pairs:
        then = np.asarray(then, "float64")
        if now.shape != then.shape:
            changes.append(f"{what}: shape {list(then.shape)} -> {list(now.shape)}")
        elif not np.allclose(now, then, **RECORD_TOLERANCE):
            changes.append(
                f"{what}: max |diff| {float(np.max(np.abs(now - then))):.3g} (tolerance rtol "
                f"{RECORD_TOLERANCE['rtol']}, atol {RECORD_TOLERANCE['atol']})"
            )
    return changes
