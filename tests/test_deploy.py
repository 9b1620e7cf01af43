"""Deployment: ``statefulness.export`` (and ``statefulness export``) writes an artifact that keeps the state
rules for every kind of model, or nothing; ``statefulness.deploy.litert.convert`` refuses bad arguments,
naming them, before a process starts, and a converter that raises in its own process is a
``ConverterFailed`` with the converter's words; ``convert_each`` converts many in one process, and a
conversion that takes the process down is that request's ``ConverterCrashed``, not the others'."""

from __future__ import annotations

import numpy as np
import pytest

import statefulness
from statefulness import cli
from statefulness._keras import (
    BACKEND,
    KERAS_VERSION,
    SAVED_MODEL_EXPORT,
    keras,
    layer_states,
    quietly,
    tensorflow,
    tflite_interpreter,
)
from statefulness.check import chunked_outputs, kinds
from statefulness.deploy import litert
from statefulness.deviations import DEVIATIONS

pytest.importorskip("tensorflow", reason="the LiteRT converter is TensorFlow's; no TensorFlow here")


def _model():
    inputs = keras.Input(batch_shape=(2, None, 1))
    return keras.Model(inputs, keras.layers.LSTM(2, stateful=True)(inputs))


@pytest.mark.parametrize(
    "source, signatures, route, error, words",
    [
        ("model", (), "keras", ValueError, "route: expected one of concrete_functions, saved_model"),
        ("model", ("serve",), "concrete_functions", ValueError, "signatures: only a SavedModel has signatures"),
        ("nowhere", ("serve",), "concrete_functions", ValueError, "is not a SavedModel directory"),
        ("nowhere", (), "concrete_functions", ValueError, "signatures: expected the names of the SavedModel"),
        (3, (), "concrete_functions", TypeError, "source: expected a Keras model or a SavedModel directory"),
    ],
)
def test_convert_names_the_bad_argument(tmp_path, source, signatures, route, error, words):
    source = _model() if source == "model" else str(tmp_path / source) if source == "nowhere" else source
    with pytest.raises(error, match=words):
        litert.convert(source, *signatures, route=route)


@pytest.mark.skipif(SAVED_MODEL_EXPORT is not None, reason=str(SAVED_MODEL_EXPORT))
def test_convert_of_a_signature_the_saved_model_lacks_is_a_converter_failure_with_its_words(tmp_path):
    quietly(_model().export, str(tmp_path / "model"))
    with pytest.raises(litert.ConverterFailed, match="no_such_signature"):
        litert.convert(tmp_path / "model", "no_such_signature")
    assert not list(tmp_path.glob("*.tflite"))


_FAKE_CONVERTER = """
import json, os, sys
from pathlib import Path

Path(os.environ["STARTS"]).open("a").write("start\\n")
for line in sys.stdin:
    for source, out, route, signatures in json.loads(line):
        if signatures == ["crash"]:
            os.abort()
        if signatures == ["fail"]:
            Path(out + ".error").write_text("ValueError: on purpose")
        else:
            Path(out).write_bytes(signatures[0].encode())
    print(DONE, flush=True)
"""


def test_convert_each_converts_in_one_kept_process_and_a_crash_costs_only_its_own_request(tmp_path, monkeypatch):
    """The requests go to one converter process, in order, and the next call goes to the same process;
    where a conversion takes it down, that request is a ``ConverterCrashed`` and the requests after it go
    to a new process (the converter is a stand-in script here: the real one aborts only on some
    TensorFlow releases)."""
    (tmp_path / "saved").mkdir()
    (tmp_path / "saved" / "saved_model.pb").write_bytes(b"")
    monkeypatch.setattr(litert, "_CONVERT", _FAKE_CONVERTER)
    monkeypatch.setenv("STARTS", str(tmp_path / "starts"))
    names = ["a", "fail", "b", "crash", "c"]
    results = litert.convert_each([(tmp_path / "saved", name) for name in names])
    assert results[0] == b"a" and results[2] == b"b" and results[4] == b"c", results
    assert isinstance(results[1], litert.ConverterFailed) and "on purpose" in str(results[1]), results[1]
    assert isinstance(results[3], litert.ConverterCrashed) and "signal" in str(results[3]), results[3]
    assert (tmp_path / "starts").read_text().count("start") == 2, "expected one process, and one after the crash"
    assert litert.convert(tmp_path / "saved", "d") == b"d"
    assert (tmp_path / "starts").read_text().count("start") == 2, "the next conversion started a process of its own"


needs_export = pytest.mark.skipif(SAVED_MODEL_EXPORT is not None, reason=str(SAVED_MODEL_EXPORT))


_CUSTOM_LAYER = next(d for d in DEVIATIONS if d.id == "Keras 2 cannot load a custom layer that builds its RNN")


def _kinds():
    """Every kind; the custom layer a strict xfail where Keras cannot rebuild it from its config (export
    copies the model so, as ``rebatch`` does: the deviation of chapter 17)."""
    for kind in kinds.BREADTH:
        if kind.name == "custom-layer-lstm" and _CUSTOM_LAYER.covers(KERAS_VERSION, BACKEND):
            reason = f"known deviation {_CUSTOM_LAYER.id!r}"
            yield pytest.param(kind, marks=pytest.mark.xfail(strict=True, raises=IndexError, reason=reason))
        else:
            yield kind


@needs_export
@pytest.mark.parametrize("kind", list(_kinds()), ids=str)
def test_an_export_of_every_kind_starts_from_zero_state_refuses_another_batch_size_and_resets(kind, tmp_path):
    """``statefulness.export`` of a model that holds a state: the artifact computes, fed two chunks, what the
    checker's yardstick says the model computes on them from zero state; refuses a request of one row
    before it runs; ``reset()`` starts the stream again; the model keeps its own state."""
    tf = tensorflow()
    model = kind.build(kinds.BATCH)
    kind.set_weights(model, 0)
    first, *later = kind.chunks(0, [kinds.STEPS] * 3)
    expected = chunked_outputs(model, later, custom_objects=kinds.CUSTOM_OBJECTS)  # from zero state
    model(first)
    held = [layer_states(layer) for layer in statefulness.stateful_layers(model)]

    served = tf.saved_model.load(str(statefulness.export(model, tmp_path / "m", custom_objects=kinds.CUSTOM_OBJECTS)))

    got = np.concatenate([served.serve(tf.constant(chunk)).numpy() for chunk in later], axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=f"{kind}: the artifact's stream")
    with pytest.raises((TypeError, ValueError)):
        served.serve(tf.constant(later[0][:1]))
    served.reset()
    np.testing.assert_allclose(
        served.serve(tf.constant(later[0])).numpy(), expected[:, : kinds.STEPS], rtol=1e-5, atol=1e-5
    )
    for before, layer in zip(held, statefulness.stateful_layers(model), strict=True):
        for a, b in zip(before, layer_states(layer), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=f"{kind}: export moved the model's state")


@needs_export
def test_an_export_to_litert_carries_the_state_and_its_reset_signature_zeroes_it(tmp_path):
    """``format="litert"``: one file, whose signature with inputs carries the state from one call to the
    next, and whose signature without inputs returns it to zeros."""
    model = kinds.BY_NAME["lstm"].build(kinds.BATCH)
    kinds.BY_NAME["lstm"].set_weights(model, 1)
    chunk, again = kinds.BY_NAME["lstm"].chunks(1, [kinds.STEPS] * 2)
    expected = chunked_outputs(model, [chunk, again])

    path = statefulness.export(model, tmp_path / "model.tflite", format="litert")

    interpreter = tflite_interpreter(path.read_bytes())
    found = interpreter.get_signature_list()
    (serve,) = [key for key, io in found.items() if io["inputs"]]
    (reset,) = [key for key, io in found.items() if not io["inputs"]]
    run, name = interpreter.get_signature_runner(serve), found[serve]["inputs"][0]
    (a,) = run(**{name: chunk}).values()
    (b,) = run(**{name: again}).values()
    np.testing.assert_allclose(np.concatenate([a, b], axis=1), expected, rtol=1e-4, atol=1e-5)
    interpreter.get_signature_runner(reset)()
    (c,) = run(**{name: chunk}).values()
    np.testing.assert_allclose(c, expected[:, : kinds.STEPS], rtol=1e-4, atol=1e-5)
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]


def test_export_names_the_bad_argument_and_writes_nothing(tmp_path):
    stateless = keras.Sequential([keras.Input((2, 1)), keras.layers.LSTM(2)])
    with pytest.raises(ValueError, match="model: expected a model with a stateful recurrent layer"):
        statefulness.export(stateless, tmp_path / "m")
    with pytest.raises(TypeError, match="model: expected a keras.Model"):
        statefulness.export("model.keras", tmp_path / "m")
    with pytest.raises(ValueError, match="format"):
        statefulness.export(_model(), tmp_path / "m", format="onnx")
    (tmp_path / "taken").mkdir()
    with pytest.raises(FileExistsError, match="path: .*taken exists"):
        statefulness.export(_model(), tmp_path / "taken")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]


@needs_export
def test_a_converter_that_fails_leaves_no_file_and_no_scratch(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise litert.ConverterFailed("the TFLite converter failed: on purpose")

    monkeypatch.setattr(litert, "convert", fail)
    with pytest.raises(litert.ConverterFailed, match="on purpose"):
        statefulness.export(_model(), tmp_path / "model.tflite", format="litert")
    assert list(tmp_path.iterdir()) == []


@needs_export
def test_the_export_command_writes_the_artifact_and_refuses_an_existing_output(tmp_path, capsys):
    model = _model()
    model.save(tmp_path / "model.keras")
    assert cli.main(["export", str(tmp_path / "model.keras"), str(tmp_path / "served")]) == 0
    assert "serve takes batches of 2" in capsys.readouterr().out
    assert (tmp_path / "served" / "saved_model.pb").is_file()
    assert cli.main(["export", str(tmp_path / "model.keras"), str(tmp_path / "served")]) == 2
    assert "OUTPUT:" in capsys.readouterr().err
