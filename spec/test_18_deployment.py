"""Chapter 18 (beyond the source document, which never leaves Python): a stateful model deployed. A model
trained to be run as a stream is served as one: a SavedModel behind TF Serving, a LiteRT (TFLite) file on a
phone. Users report that there "the state is lost", "the served model gives different answers to the same
input", "reset does nothing on Android" (tensorflow/tensorflow#47813, #26786, #51880, tensorflow/serving#724).
What each route does with the state, checked exactly against the NumPy recurrence fed the same stream:

- ``model.export(path)`` (SavedModel, loaded with ``tf.saved_model.load``): the state lives on in the
  artifact, one per loaded object, shared by its endpoints, starting where the model's was at export.
- ``keras.export.ExportArchive``: the same, with the input signature and the endpoints the user writes; a
  ``reset`` endpoint that assigns zeros resets the served state, and survives conversion to LiteRT.
- ``model.export(path, format="onnx")`` (tf2onnx), run by onnxruntime: ONNX holds no state between runs;
  the step model (``statefulness.step_model``), with the state as inputs and outputs, carries it exactly.
- ``tf.lite.TFLiteConverter``: the converted model keeps the state between ``invoke`` calls, in resource
  variables. It converts in a process of its own (``statefulness.deploy.litert.convert``), as on some
  TensorFlow releases the converter aborts the process on a stateful RNN.
- On JAX (with TensorFlow installed: ``tox -e deploy-jax``), ``model.export()`` and ``ExportArchive``
  convert the model with jax2tf. The SavedModel claims are the same claims; the ``reset`` endpoint, LiteRT's
  converter and ONNX take a TensorFlow-backed model and are skipped there, saying so. The step model, whose
  state is an input and an output, is the route that carries the state on every backend.

A tiny stateful LSTM (batch 3, 2 features, 3 units, free number of time steps) with drawn weights, fed four
chunks of 2 steps. The routes need TensorFlow: where it is not installed (the JAX and PyTorch envs), the
TensorFlow routes are skipped, saying so. On PyTorch (Keras 3.15 and later), ``model.export(path,
format="torch")`` writes a ``torch.export`` ExportedProgram; the step model, exported for the stream's
shapes, carries the state there as well."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import statefulness
from statefulness._keras import (
    MODEL_EXPORT,
    ONNX_EXPORT,
    SAVED_MODEL_EXPORT,
    TORCH_EXPORT,
    ExportArchive,
    keras,
    quietly,
    tensorflow,
    tflite_interpreter,
    to_numpy,
)
from statefulness.check.deployment import LITERT_TOLERANCE
from statefulness.deploy import litert

from . import reference
from .tiny import TOLERANCE, lstm_model, random_inputs, random_weights

tf = tensorflow() if importlib.util.find_spec("tensorflow") else None
# Every TensorFlow route is skipped, saying why, where it cannot run (needs_export, needs_tf_model, needs_onnx):
# with no TensorFlow installed (the JAX and PyTorch envs) each says so.

BATCH, FEATURES, UNITS, STEPS, CHUNKS = 3, 2, 3, 2, 4

needs_export = pytest.mark.skipif(MODEL_EXPORT is not None, reason=str(MODEL_EXPORT))
needs_tf_model = pytest.mark.skipif(SAVED_MODEL_EXPORT is not None, reason=str(SAVED_MODEL_EXPORT))
needs_onnx = pytest.mark.skipif(ONNX_EXPORT is not None, reason=str(ONNX_EXPORT))
needs_tfsm_layer = pytest.mark.skipif(
    SAVED_MODEL_EXPORT is not None or not hasattr(keras.layers, "TFSMLayer"),
    reason=str(SAVED_MODEL_EXPORT or "keras.layers.TFSMLayer is Keras 3's (Keras 2 reloads with tf.saved_model.load)"),
)
needs_torch_export = pytest.mark.skipif(TORCH_EXPORT is not None, reason=str(TORCH_EXPORT))

# LITERT_TOLERANCE: LiteRT's kernels sum in another order than TensorFlow's (float32): its outputs are held
# to 1e-4 relative; a state lost or not reset is off by 1e-2 or more. One value, the checker's too.


def _stream(seed: int):
    """A stateful model at zero state, its weights, and a stream of chunks with the NumPy recurrence's
    output on each (the state carried from one chunk to the next)."""
    rng = np.random.default_rng(seed)
    weights = random_weights(rng, FEATURES, UNITS)
    model, layer = lstm_model(weights, batch_size=BATCH, stateful=True)
    chunks = [random_inputs(rng, BATCH, STEPS, FEATURES) for _ in range(CHUNKS)]
    outputs, _, _ = reference.stream(chunks, weights)
    expected = np.split(outputs, CHUNKS, axis=1)
    return model, layer, weights, chunks, expected


def _export(model, path) -> object:
    quietly(model.export, str(path))
    return tf.saved_model.load(str(path))


def _archive(model, path) -> object:
    """An ``ExportArchive`` of ``model`` whose ``serve`` takes the model's own batch size only."""
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.call, input_signature=[tf.TensorSpec((BATCH, None, FEATURES), tf.float32)])
    quietly(archive.write_out, str(path))
    return tf.saved_model.load(str(path))


def _archive_with_reset(model, layer, path):
    """The export a stateful model wants: ``serve`` for the model's own batch size only, and ``reset``, an
    endpoint that assigns zeros to every state variable."""
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.call, input_signature=[tf.TensorSpec((BATCH, None, FEATURES), tf.float32)])

    @tf.function(input_signature=[])
    def reset():
        for state in layer.states:
            state.assign(tf.zeros_like(state))
        return {"reset": tf.constant(True)}

    archive.add_endpoint("reset", reset)
    quietly(archive.write_out, str(path))
    return tf.saved_model.load(str(path))


def _serve(loaded, x, endpoint: str = "serve") -> np.ndarray:
    if endpoint == "serve":
        return loaded.serve(tf.constant(x)).numpy()
    (out,) = loaded.signatures[endpoint](tf.constant(x)).values()
    return out.numpy()


@pytest.mark.claim("deployment/saved-model-carries-the-state-between-calls")
@needs_export
def test_an_exported_saved_model_carries_the_state_from_one_serve_call_to_the_next(tmp_path):
    """``model.export(path)``, loaded with ``tf.saved_model.load``: each call of ``serve`` goes on from the
    state the previous call left, exactly as the stateful model does (the NumPy recurrence carried over the
    four chunks)."""
    model, _, _, chunks, expected = _stream(181)
    loaded = _export(model, tmp_path / "model")
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        np.testing.assert_allclose(_serve(loaded, chunk), want, **TOLERANCE, err_msg=f"serve call {k}")


@pytest.mark.claim("deployment/saved-model-of-a-batch-of-one-exports")
@needs_export
def test_a_stateful_model_built_for_batches_of_one_exports_and_its_saved_model_carries_the_state(tmp_path):
    """One sequence streamed at a time, the commonest stateful deployment: ``model.export(path)`` of a
    model built for batches of 1 writes a SavedModel whose ``serve`` carries the state from one call to
    the next, as the model does."""
    rng = np.random.default_rng(187)
    weights = random_weights(rng, FEATURES, UNITS)
    model, _ = lstm_model(weights, batch_size=1, stateful=True)
    chunks = [random_inputs(rng, 1, STEPS, FEATURES) for _ in range(CHUNKS)]
    outputs, _, _ = reference.stream(chunks, weights)
    loaded = _export(model, tmp_path / "model")
    for k, (chunk, want) in enumerate(zip(chunks, np.split(outputs, CHUNKS, axis=1), strict=True)):
        np.testing.assert_allclose(_serve(loaded, chunk), want, **TOLERANCE, err_msg=f"serve call {k}")


@pytest.mark.claim("deployment/saved-model-starts-from-the-state-at-export")
@needs_export
def test_an_exported_saved_model_starts_every_load_from_the_state_the_model_had_when_exported(tmp_path):
    """The state is exported with the weights: a model exported after a chunk moved its state serves, in
    every freshly loaded copy, the next chunk from that state, not from zeros (reset the model before
    exporting to serve from zero state); the model itself is left where it was."""
    model, _, _, chunks, expected = _stream(182)
    model(chunks[0])
    for copy in ("first", "second"):
        loaded = _export(model, tmp_path / copy)
        np.testing.assert_allclose(
            _serve(loaded, chunks[1]), expected[1], **TOLERANCE, err_msg=f"the {copy} load's first call"
        )
    np.testing.assert_allclose(to_numpy(model(chunks[1])), expected[1], **TOLERANCE, err_msg="the model itself")


@pytest.mark.claim("deployment/tfsm-layer-carries-the-state-between-calls")
@needs_tfsm_layer
def test_a_tfsm_layer_over_an_exported_saved_model_carries_the_state_and_holds_its_own(tmp_path):
    """``keras.layers.TFSMLayer(path, call_endpoint="serve")``, Keras 3's way to reload an export as a layer:
    each call goes on from the state the previous call left, as the stateful model does; a second
    ``TFSMLayer`` over the same path loads the artifact again and holds a state of its own."""
    model, _, _, chunks, expected = _stream(194)
    quietly(model.export, str(tmp_path / "model"))
    first = keras.layers.TFSMLayer(str(tmp_path / "model"), call_endpoint="serve")
    for k, (chunk, want) in enumerate(zip(chunks[:2], expected[:2], strict=True)):
        np.testing.assert_allclose(to_numpy(first(chunk)), want, **TOLERANCE, err_msg=f"call {k}")
    second = keras.layers.TFSMLayer(str(tmp_path / "model"), call_endpoint="serve")
    np.testing.assert_allclose(to_numpy(second(chunks[0])), expected[0], **TOLERANCE, err_msg="the second layer")


@pytest.mark.claim("deployment/saved-model-endpoints-share-one-state")
@needs_export
def test_the_endpoints_of_one_loaded_saved_model_share_one_state_and_two_loads_do_not(tmp_path):
    """``serve`` and the ``serving_default`` signature of one loaded artifact move one state: a call of
    either goes on from the other's. Two loads of one artifact hold a state each."""
    model, _, _, chunks, expected = _stream(183)
    _export(model, tmp_path / "model")
    first, second = tf.saved_model.load(str(tmp_path / "model")), tf.saved_model.load(str(tmp_path / "model"))
    np.testing.assert_allclose(_serve(first, chunks[0]), expected[0], **TOLERANCE)
    np.testing.assert_allclose(_serve(first, chunks[1], "serving_default"), expected[1], **TOLERANCE)
    np.testing.assert_allclose(_serve(second, chunks[0]), expected[0], **TOLERANCE, err_msg="the second load")


@pytest.mark.claim("deployment/saved-model-refuses-another-batch-size")
@needs_export
def test_an_exported_saved_model_refuses_a_request_of_another_batch_size_and_keeps_its_state(tmp_path):
    """As the model refuses a batch of another size (chapter 7), so does its export: a request of one row
    to a model of batch 3 is refused, and the stored state of the three rows is left as it was."""
    model, _, _, chunks, expected = _stream(184)
    loaded = _export(model, tmp_path / "model")
    _serve(loaded, chunks[0])
    with pytest.raises((TypeError, ValueError, tf.errors.InvalidArgumentError)):
        _serve(loaded, chunks[1][:1])
    np.testing.assert_allclose(_serve(loaded, chunks[1]), expected[1], **TOLERANCE, err_msg="the state moved")


@pytest.mark.claim("deployment/archive-carries-the-state-between-calls")
@needs_export
def test_an_export_archive_of_the_models_batch_size_carries_the_state_from_one_serve_call_to_the_next(tmp_path):
    """An ``ExportArchive`` that tracks the model, with a ``serve`` for the model's own batch size: each call
    goes on from the state the previous call left, as the stateful model does."""
    model, _, _, chunks, expected = _stream(192)
    loaded = _archive(model, tmp_path / "archive")
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        np.testing.assert_allclose(_serve(loaded, chunk), want, **TOLERANCE, err_msg=f"serve call {k}")


@pytest.mark.claim("deployment/step-model-archive-carries-state-as-io")
@needs_export
def test_the_step_model_in_an_export_archive_carries_the_state_given_to_it_and_given_back(tmp_path):
    """The step model (``statefulness.step_model``: the state as inputs and outputs) in an ``ExportArchive``
    computes the stream exactly when each call is given the state the previous call gave back, from zeros:
    the artifact holds no state, so nothing of it can be lost, on any backend that exports."""
    model, _, _, chunks, expected = _stream(193)
    step = statefulness.step_model(model)
    specs = [tf.TensorSpec((BATCH, None, FEATURES), tf.float32)] + [
        tf.TensorSpec((BATCH, UNITS), tf.float32) for _ in statefulness.step_states(model)
    ]
    archive = ExportArchive()
    archive.track(step)
    archive.add_endpoint("step", lambda x, h, c: step([x, h, c]), input_signature=specs)
    quietly(archive.write_out, str(tmp_path / "step"))
    loaded = tf.saved_model.load(str(tmp_path / "step"))
    state = [tf.zeros((BATCH, UNITS)) for _ in specs[1:]]
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        out, *state = loaded.step(tf.constant(chunk), *state)
        np.testing.assert_allclose(out.numpy(), want, **TOLERANCE, err_msg=f"call {k}")


@pytest.mark.claim("deployment/archive-refuses-another-batch-size-and-resets")
@needs_export
@needs_tf_model
def test_an_export_archive_with_a_fixed_batch_and_a_reset_endpoint_refuses_other_sizes_and_resets(tmp_path):
    """An ``ExportArchive`` whose ``serve`` takes the model's own batch size, with a ``reset`` endpoint that
    assigns zeros to the layer's states: a request of one row is refused before it runs, and after
    ``reset()`` the stream starts again from zero state."""
    model, layer, _, chunks, expected = _stream(185)
    loaded = _archive_with_reset(model, layer, tmp_path / "archive")
    np.testing.assert_allclose(_serve(loaded, chunks[0]), expected[0], **TOLERANCE)
    with pytest.raises((TypeError, ValueError)):
        _serve(loaded, chunks[1][:1])
    np.testing.assert_allclose(_serve(loaded, chunks[1]), expected[1], **TOLERANCE, err_msg="the refusal moved it")
    loaded.reset()
    np.testing.assert_allclose(_serve(loaded, chunks[0]), expected[0], **TOLERANCE, err_msg="after reset()")


LITERT_SEED, ARCHIVE_SEED = 186, 189
"""The LiteRT claims' two streams: the converted model's and the converted archive's."""


@pytest.fixture(scope="module")
def converted(tmp_path_factory) -> dict:
    """The LiteRT claims' conversions, made once and in one converter process (``litert.convert_each``):
    ``"model"``, ``TFLiteConverter.from_keras_model`` of the stream's model (at zero state), and, where this
    Keras exports, ``"archive"``, the ``serve`` and ``reset`` functions of an ``ExportArchive`` of stream
    ``ARCHIVE_SEED``'s model. Each a flatbuffer, or what the export or the converter raised (``_flatbuffer``
    raises it in the claim that needs it)."""
    model, *_ = _stream(LITERT_SEED)
    requests: dict = {"model": (model,)}
    made: dict = {}
    if MODEL_EXPORT is None and SAVED_MODEL_EXPORT is None:
        archive_model, layer, *_ = _stream(ARCHIVE_SEED)
        folder = tmp_path_factory.mktemp("litert") / "archive"
        try:
            _archive_with_reset(archive_model, layer, folder)
            requests["archive"] = (folder, "serve", "reset")
        except Exception as error:  # noqa: BLE001 - raised again by the claim on the archive
            made["archive"] = error
    made.update(zip(requests, litert.convert_each(requests.values()), strict=True))
    return made


def _flatbuffer(converted: dict, name: str) -> bytes:
    """The ``converted`` flatbuffer ``name``, or what its export or conversion raised, raised here."""
    made = converted[name]
    if isinstance(made, Exception):
        raise made
    return made


def _invoke(interpreter, x) -> np.ndarray:
    (details,) = interpreter.get_input_details()
    if list(details["shape"]) != list(x.shape):
        interpreter.resize_tensor_input(details["index"], list(x.shape))
        interpreter.allocate_tensors()
    interpreter.set_tensor(details["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).copy()


def _interpreter(content: bytes):
    interpreter = tflite_interpreter(content)
    interpreter.allocate_tensors()
    return interpreter


@pytest.mark.claim("deployment/litert-carries-the-state-between-invokes")
@needs_tf_model
def test_a_model_converted_to_litert_carries_the_state_from_one_invoke_to_the_next(converted):
    """``TFLiteConverter.from_keras_model``, run by the LiteRT interpreter: each ``invoke`` goes on from the
    state the previous one left, as the stateful model does."""
    _, _, _, chunks, expected = _stream(LITERT_SEED)
    interpreter = _interpreter(_flatbuffer(converted, "model"))
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        np.testing.assert_allclose(_invoke(interpreter, chunk), want, **LITERT_TOLERANCE, err_msg=f"invoke {k}")


@pytest.mark.claim("deployment/litert-new-interpreter-starts-from-zero")
@needs_tf_model
def test_a_new_litert_interpreter_of_a_converted_model_starts_from_zero_state(converted):
    """Each interpreter made from the converted model holds its own state, from the model's (zeros) at
    conversion: a second interpreter, made after the first has run, computes the stream from its start."""
    _, _, _, chunks, expected = _stream(LITERT_SEED)
    flatbuffer = _flatbuffer(converted, "model")
    first = _interpreter(flatbuffer)
    _invoke(first, chunks[0])
    _invoke(first, chunks[1])
    np.testing.assert_allclose(_invoke(_interpreter(flatbuffer), chunks[0]), expected[0], **LITERT_TOLERANCE)


@pytest.mark.claim("deployment/litert-reset-all-variables-zeroes-the-state")
@needs_tf_model
def test_the_litert_interpreters_reset_all_variables_returns_the_state_to_zeros(converted):
    """``Interpreter.reset_all_variables()``, the reset that TFLite's threads prescribe for stateful RNNs,
    returns the converted model's state to zeros: the stream starts again from its first chunk."""
    _, _, _, chunks, expected = _stream(LITERT_SEED)
    interpreter = _interpreter(_flatbuffer(converted, "model"))
    _invoke(interpreter, chunks[0])
    interpreter.reset_all_variables()
    np.testing.assert_allclose(_invoke(interpreter, chunks[0]), expected[0], **LITERT_TOLERANCE)


@pytest.mark.claim("deployment/litert-keeps-a-reset-endpoint")
@needs_export
@needs_tf_model
def test_a_reset_endpoint_of_an_export_archive_survives_conversion_to_litert_and_resets(converted):
    """Converted from the archive's concrete functions (``serve`` and ``reset``), the LiteRT model has a
    signature for each, sharing one state: ``serve`` carries it, the signature without inputs (``reset``)
    returns it to zeros."""
    _, _, _, chunks, expected = _stream(ARCHIVE_SEED)
    interpreter = tflite_interpreter(_flatbuffer(converted, "archive"))
    signatures = interpreter.get_signature_list()
    serves = [key for key, io in signatures.items() if io["inputs"]]
    resets = [key for key, io in signatures.items() if not io["inputs"]]
    assert len(serves) == len(resets) == 1, f"the converted model's signatures: {signatures}"
    (serve,), (reset,) = serves, resets
    run, name = interpreter.get_signature_runner(serve), signatures[serve]["inputs"][0]
    for k, (chunk, want) in enumerate(zip(chunks[:2], expected[:2], strict=True)):
        (out,) = run(**{name: chunk}).values()
        np.testing.assert_allclose(out, want, **LITERT_TOLERANCE, err_msg=f"serve {k}")
    interpreter.get_signature_runner(reset)()
    (out,) = run(**{name: chunks[0]}).values()
    np.testing.assert_allclose(out, expected[0], **LITERT_TOLERANCE, err_msg="after the reset signature")


def _onnx(model, path, first_call):
    """Export ``model`` to ONNX and open it with onnxruntime. Keras exports to ONNX only a model that has
    been called (``export_onnx``: "The model provided has never called"), so it is called once on
    ``first_call`` and reset first."""
    import warnings

    import onnxruntime

    model(first_call)
    statefulness.reset_states(model)
    with warnings.catch_warnings():  # Keras's patch of tf2onnx for NumPy 2 reads np.object (a FutureWarning)
        warnings.simplefilter("ignore", FutureWarning)
        model.export(str(path), format="onnx", verbose=False)
    session = onnxruntime.InferenceSession(str(path))
    return session, [given.name for given in session.get_inputs()]


@pytest.mark.claim("deployment/onnx-carries-the-state-between-runs")
@needs_onnx
def test_a_model_exported_to_onnx_carries_the_state_from_one_run_to_the_next(tmp_path):
    """``model.export(path, format="onnx")``, run by onnxruntime: each run goes on from the state the
    previous one left, as the stateful model does."""
    model, _, _, chunks, expected = _stream(190)
    session, (name,) = _onnx(model, tmp_path / "model.onnx", chunks[0])
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        (out,) = session.run(None, {name: chunk})
        np.testing.assert_allclose(out, want, **TOLERANCE, err_msg=f"run {k}")


@pytest.mark.claim("deployment/onnx-step-model-carries-state-as-inputs-outputs")
@needs_onnx
def test_the_step_model_exported_to_onnx_carries_the_state_given_to_it_and_given_back(tmp_path):
    """The step model (``statefulness.step_model``: the state as inputs and outputs) exported to ONNX
    computes the stream exactly when each run is given the state the previous run gave back, from zeros."""
    model, _, _, chunks, expected = _stream(191)
    step = statefulness.step_model(model)
    session, names = _onnx(step, tmp_path / "step.onnx", [chunks[0], *statefulness.step_states(model)])
    state = [np.zeros((BATCH, UNITS), "float32") for _ in names[1:]]
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        out, *state = session.run(None, dict(zip(names, [chunk, *state], strict=True)))
        np.testing.assert_allclose(out, want, **TOLERANCE, err_msg=f"run {k}")


@pytest.mark.claim("deployment/torch-export-carries-the-state-between-calls")
@needs_torch_export
def test_a_model_exported_for_pytorch_carries_the_state_from_one_call_to_the_next(tmp_path):
    """On PyTorch, ``model.export(path, format="torch")`` (a ``torch.export`` ExportedProgram, ``.pt2``),
    loaded with ``torch.export.load(path).module()``: each call goes on from the state the previous call
    left, as the stateful model does."""
    import torch

    model, _, _, chunks, expected = _stream(195)
    model.export(str(tmp_path / "model.pt2"), format="torch", verbose=False)
    module = torch.export.load(str(tmp_path / "model.pt2")).module()
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        got = module(torch.from_numpy(chunk)).detach().numpy()
        np.testing.assert_allclose(got, want, **TOLERANCE, err_msg=f"call {k}")


@pytest.mark.claim("deployment/torch-step-model-carries-state-as-io")
@needs_torch_export
def test_the_step_model_exported_for_pytorch_carries_the_state_given_to_it_and_given_back(tmp_path):
    """The step model (``statefulness.step_model``), exported with ``format="torch"`` for the stream's
    shapes (``input_signature``: the export otherwise traces a sample of one row and fixes that size),
    computes the stream exactly when each call is given the state the previous call gave back, from zeros."""
    import torch

    model, _, _, chunks, expected = _stream(196)
    step = statefulness.step_model(model)
    signature = [keras.InputSpec(shape=(BATCH, STEPS, FEATURES), dtype="float32")] + [
        keras.InputSpec(shape=(BATCH, UNITS), dtype="float32") for _ in statefulness.step_states(model)
    ]
    step.export(str(tmp_path / "step.pt2"), format="torch", verbose=False, input_signature=[signature])
    module = torch.export.load(str(tmp_path / "step.pt2")).module()
    state = [torch.zeros(BATCH, UNITS) for _ in signature[1:]]
    for k, (chunk, want) in enumerate(zip(chunks, expected, strict=True)):
        out, *state = module([torch.from_numpy(chunk), *state])
        np.testing.assert_allclose(out.detach().numpy(), want, **TOLERANCE, err_msg=f"call {k}")
