"""The deployment rules (``check_model(deploy=True)``, ``statefulness check --deploy``): what each installed
export route does with the state of the user's model, as spec chapter 18 states it for a tiny one. Each
route writes one artifact of a copy of the model that holds a state (the copy fed one drawn batch), and
the rules load it afresh and feed it the next batches, held against the model itself fed the same batches
by direct calls from the state the route starts from (``statefulness.rule_ids.EXPORT_ROUTES``):

- ``model.export()``: Keras's SavedModel, loaded with ``tf.saved_model.load`` and called through ``serve``;
- ``TFLiteConverter``: ``TFLiteConverter.from_keras_model`` of the model rebuilt from its config and weights
  (``statefulness.deploy.litert.convert``), run by the LiteRT interpreter; reset: ``reset_all_variables()``;
- ``statefulness.export()`` and ``statefulness.export(litert)``: the library's artifact (a SavedModel, a
  LiteRT file), whose ``serve`` takes the model's batch size and whose ``reset`` returns the state to zeros;
- ``model.export(onnx)``: Keras's ONNX export, run by onnxruntime.

A route this env cannot write (no TensorFlow backend, no ONNX packages) is not applicable, with why. An
artifact is written once per route and check, in a temporary directory removed with the check."""

from __future__ import annotations

import tempfile
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from statefulness._keras import (
    BACKEND,
    MODEL_EXPORT,
    ONNX_EXPORT,
    SAVED_MODEL_EXPORT,
    quietly,
    tensorflow,
    tf_data_missing,
)
from statefulness.check.report import NotApplicable, RuleFailed, _Tolerance
from statefulness.check.subject import TOLERANCE, _Subject

LITERT_TOLERANCE: _Tolerance = {"rtol": 1e-4, "atol": 1e-5}
"""LiteRT's kernels sum in another order than TensorFlow's (float32), as in spec chapter 18."""

BATCHES = 4
"""Drawn batches: the first moves the exported copy's state, the others are fed to each artifact."""


@dataclass
class _Loaded:
    """One freshly loaded artifact: ``serve(x)`` returns the output of batch ``x``; ``reset()`` resets it."""

    serve: Callable[[np.ndarray], np.ndarray]
    reset: Callable[[], object] | None = None


@dataclass(frozen=True)
class _Route:
    name: str
    missing: Callable[[], str | None]
    """Why this env cannot write the route; None where it can."""
    write: Callable[[Any, Path, _Subject], Any]
    """Write the artifact of a Keras model to a path and return what ``load`` takes."""
    load: Callable[[Any], _Loaded]
    starts_from_zero: bool
    tolerance: _Tolerance = field(default_factory=lambda: TOLERANCE)


def _one(out) -> np.ndarray:
    """The one output of a served call (a tensor, or a dict or list of one)."""
    if isinstance(out, dict):
        (out,) = out.values()
    elif isinstance(out, (list, tuple)):
        (out,) = out
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out)


def _saved_model(path: Path) -> _Loaded:
    tf = tensorflow()
    loaded = tf.saved_model.load(str(path))
    reset = getattr(loaded, "reset", None)
    return _Loaded(lambda x: _one(loaded.serve(tf.constant(x))), reset)


def _litert_file(content: bytes) -> _Loaded:
    from statefulness._keras import tflite_interpreter

    interpreter = tflite_interpreter(content)
    signatures = interpreter.get_signature_list()
    serves = [key for key, io in signatures.items() if io["inputs"]]
    resets = [key for key, io in signatures.items() if not io["inputs"]]
    if len(serves) != 1:
        raise RuleFailed(f"the LiteRT file has {len(serves)} signatures with inputs, not one: {signatures}")
    run, (name,) = interpreter.get_signature_runner(serves[0]), signatures[serves[0]]["inputs"]
    reset = interpreter.get_signature_runner(resets[0]) if resets else None
    return _Loaded(lambda x: _one(run(**{name: x})), reset)


def _converted_keras_model(content: bytes) -> _Loaded:
    from statefulness._keras import tflite_interpreter

    interpreter = tflite_interpreter(content)
    interpreter.allocate_tensors()

    def invoke(x: np.ndarray) -> np.ndarray:
        (given,) = interpreter.get_input_details()
        if list(given["shape"]) != list(x.shape):
            interpreter.resize_tensor_input(given["index"], list(x.shape))
            interpreter.allocate_tensors()
        interpreter.set_tensor(given["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()

    return _Loaded(invoke, interpreter.reset_all_variables)


def _onnx_session(path: Path) -> _Loaded:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path))
    (given,) = session.get_inputs()
    return _Loaded(lambda x: np.asarray(session.run(None, {given.name: x})[0]))


def _model_export(model, path: Path, subject: _Subject) -> Path:
    quietly(model.export, str(path))
    return path


def _onnx_export(model, path: Path, subject: _Subject) -> Path:
    with warnings.catch_warnings():  # Keras's patch of tf2onnx for NumPy 2 reads np.object (a FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        model.export(str(path), format="onnx", verbose=False)
    return path


def _library_export(format: str) -> Callable[[Any, Path, _Subject], Any]:
    def write(model, path: Path, subject: _Subject):
        from statefulness.deploy.export import export

        written = export(model, path, format=format, custom_objects=subject.custom_objects)
        return written.read_bytes() if format == "litert" else written

    return write


def _converter(model, path: Path, subject: _Subject) -> bytes:
    from statefulness.deploy import litert

    if subject.custom_objects:
        raise NotApplicable(
            "the converter rebuilds the model from its config in a process of its own, where your "
            "custom_objects are not"
        )
    return litert.convert(model)


def _no_tensorflow() -> str | None:
    if BACKEND != "tensorflow" and not tf_data_missing():
        return f"the LiteRT converter converts a TensorFlow-backed model; this one runs on {BACKEND}"
    return tf_data_missing() and "the LiteRT converter needs TensorFlow, which this env does not install"


ROUTES: dict[str, _Route] = {
    route.name: route
    for route in (
        _Route("model.export()", lambda: MODEL_EXPORT, _model_export, _saved_model, starts_from_zero=False),
        _Route("TFLiteConverter", _no_tensorflow, _converter, _converted_keras_model, True, tolerance=LITERT_TOLERANCE),
        _Route("statefulness.export()", lambda: SAVED_MODEL_EXPORT, _library_export("saved_model"), _saved_model, True),
        _Route(
            "statefulness.export(litert)",
            lambda: SAVED_MODEL_EXPORT,
            _library_export("litert"),
            _litert_file,
            True,
            tolerance=LITERT_TOLERANCE,
        ),
        _Route("model.export(onnx)", lambda: ONNX_EXPORT, _onnx_export, _onnx_session, starts_from_zero=False),
    )
}


class _Written:
    """One check's artifacts, route by route (or the exception writing one raised), and the batches."""

    def __init__(self, subject: _Subject):
        self.directory = tempfile.TemporaryDirectory(prefix="statefulness-check-")
        self.batches = subject.chunks(BATCHES, key=7)
        self.artifacts: dict[str, Any] = {}
        self.failures: dict[str, BaseException] = {}
        self._expected: dict[bool, list[np.ndarray]] = {}

    def expected(self, subject: _Subject, from_zero: bool) -> list[np.ndarray]:
        """The model's outputs on batches 2, 3, ... by direct calls, from zero state or from the state the
        first batch left (the exported copy's)."""
        if from_zero not in self._expected:
            subject.zero()
            if not from_zero:
                subject.feed(self.batches[:1])
            self._expected[from_zero] = subject.feed(self.batches[1:])
            subject.zero()
        return self._expected[from_zero]


_WRITTEN: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def release(subject: _Subject) -> None:
    """Remove the artifacts written for ``subject`` (at the end of a check)."""
    written = _WRITTEN.pop(subject, None)
    if written is not None:
        written.directory.cleanup()


def _written(subject: _Subject) -> _Written:
    if subject not in _WRITTEN:
        _WRITTEN[subject] = _Written(subject)
    return _WRITTEN[subject]


def loaded(subject: _Subject, name: str) -> _Loaded:
    """A fresh load of route ``name``'s artifact of the model (written on first use, from a copy that holds
    the state of the first drawn batch)."""
    route = ROUTES[name]
    why = route.missing()
    if why is not None:
        raise NotApplicable(why)
    written = _written(subject)
    if name in written.failures:
        raise written.failures[name]
    if name not in written.artifacts:
        try:
            source = subject.copy()
            subject.zero(source)
            subject.feed(written.batches[:1], source)
            path = Path(written.directory.name) / name.replace("(", "-").replace(")", "").replace(".", "-")
            written.artifacts[name] = route.write(source, path, subject)
        except Exception as error:
            written.failures[name] = error
            raise
    return route.load(written.artifacts[name])


def _must_match(got: np.ndarray, expected: np.ndarray, tolerance: _Tolerance, failure: str) -> None:
    got, expected = np.asarray(got, "float64"), np.asarray(expected, "float64")
    if got.shape != expected.shape:
        raise RuleFailed(f"{failure}: shape {got.shape}, expected {expected.shape}")
    if not np.allclose(got, expected, **tolerance):
        difference = float(np.max(np.abs(got - expected)))
        raise RuleFailed(f"{failure} (max |diff| {difference:.3g})", difference)


def _start(from_zero: bool) -> str:
    return "zero state" if from_zero else "the state the model held when exported"


def carries_state(subject: _Subject, name: str) -> str:
    route, artifact = ROUTES[name], loaded(subject, name)
    written, start = _written(subject), _start(ROUTES[name].starts_from_zero)
    expected = written.expected(subject, route.starts_from_zero)
    for k, (batch, want) in enumerate(zip(written.batches[1:], expected, strict=True)):
        _must_match(
            artifact.serve(batch),
            want,
            route.tolerance,
            f"call {k + 1} of a fresh load differs from the model fed the same batches from {start}",
        )
    return f"{len(expected)} calls of a fresh load carried the state as the model does, from {start}"


def first_call(subject: _Subject, name: str) -> str:
    route = ROUTES[name]
    written = _written(subject)
    want = written.expected(subject, route.starts_from_zero)[0]
    other = written.expected(subject, not route.starts_from_zero)[0]
    for load in ("first", "second"):  # the second load after the first has run
        got = loaded(subject, name).serve(written.batches[1])
        if not np.allclose(np.asarray(got, "float64"), want, **route.tolerance):
            instead = np.allclose(np.asarray(got, "float64"), other, **route.tolerance)
            raise RuleFailed(
                f"the {load} load's first call did not start from {_start(route.starts_from_zero)}"
                + (f" but from {_start(not route.starts_from_zero)}" if instead else ""),
                float(np.max(np.abs(np.asarray(got, "float64") - want))),
            )
    return f"two fresh loads each started from {_start(route.starts_from_zero)}"


def refuses_other_batch_size(subject: _Subject, name: str) -> str:
    route, artifact = ROUTES[name], loaded(subject, name)
    written = _written(subject)
    expected = written.expected(subject, route.starts_from_zero)
    rows = 1 if subject.batch > 1 else 2
    artifact.serve(written.batches[1])
    try:
        out = artifact.serve(subject.draw(7, 99, rows=rows))
    except Exception as error:  # noqa: BLE001 - any refusal is one; what matters is that it did not run
        refusal = type(error).__name__
    else:
        raise RuleFailed(
            f"a request of {rows} row{'s' * (rows > 1)} to an artifact of batch {subject.batch} was answered "
            f"({np.asarray(out).shape[0]} rows)"
        )
    _must_match(
        artifact.serve(written.batches[2]),
        expected[1],
        route.tolerance,
        "after the refused request, the next call did not go on from the state before it",
    )
    return f"a request of {rows} rows refused ({refusal}); the state was left as it was"


def resets(subject: _Subject, name: str) -> str:
    route, artifact = ROUTES[name], loaded(subject, name)
    written = _written(subject)
    if artifact.reset is None:
        raise RuleFailed(f"the artifact of {name} has no reset entry point")
    artifact.serve(written.batches[1])
    artifact.serve(written.batches[2])
    artifact.reset()
    _must_match(
        artifact.serve(written.batches[1]),
        written.expected(subject, True)[0],
        route.tolerance,
        "after two calls and the reset, the next call did not start from zero state",
    )
    return "after two calls and the reset, the next call started from zero state"


FACTS: dict[str, tuple[Callable[[_Subject, str], str], str]] = {
    "carries-state": (
        carries_state,
        "A fresh load of the model's {route} artifact carries the state from one call to the next, as the "
        "model does, from {start}.",
    ),
    "starts-where-exported": (
        first_call,
        "Every fresh load of the model's {route} artifact starts from the state the model held when it was "
        "exported (reset the model before exporting to serve from zero state).",
    ),
    "starts-from-zero": (
        first_call,
        "Every fresh load of the model's {route} artifact starts from zero state, whatever state the model held.",
    ),
    "refuses-other-batch-size": (
        refuses_other_batch_size,
        "The model's {route} artifact refuses a request of another batch size, and keeps its state.",
    ),
    "resets": (
        resets,
        "The model's {route} artifact can be reset: after the reset, the next call starts from zero state.",
    ),
}
"""Each fact of ``EXPORT_ROUTES``: the function that checks it on a route, and its statement."""


def statement(fact: str, route: str) -> str:
    return FACTS[fact][1].format(route=route, start=_start(ROUTES[route].starts_from_zero))
