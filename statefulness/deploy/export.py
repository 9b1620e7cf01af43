"""``statefulness.export``: a deployable artifact of a stateful model that holds the spec's rules where
``model.export()`` does not (spec chapter 18 and its known deviations): it starts from zero state whatever
state the model holds, refuses a request of another batch size, and carries a ``reset`` endpoint that
survives conversion to LiteRT. Plain Keras and TensorFlow calls: a same-weights copy at zero state
(``statefulness.rebatch``), a ``keras.export.ExportArchive`` with ``serve`` for the model's own batch size
and ``reset`` assigning zeros to every state variable, and for LiteRT the converter run on those two
functions (``statefulness.deploy.litert``)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from statefulness._keras import SAVED_MODEL_EXPORT, ExportArchive, keras, quietly, state_variables, tensorflow
from statefulness._validate import check_choice
from statefulness.deploy import FORMATS, litert
from statefulness.tutorial.model import stateful_layers
from statefulness.tutorial.twin import rebatch


def export(model, path, *, format: str = "saved_model", custom_objects: dict | None = None) -> Path:
    """Write a deployable copy of the stateful ``model`` to ``path`` (a new directory for ``saved_model``, a
    new file for ``litert``) and return it. The copy has the model's weights and starts from zero state; its
    ``serve`` takes batches of the model's own batch size only, and its ``reset`` (a SavedModel endpoint, a
    LiteRT signature without inputs) returns its state to zeros. ``model`` is left as it was.

    Raises, naming the argument and writing nothing: ``TypeError``/``ValueError`` for a model that is not a
    built Keras model with a stateful layer, an unknown ``format``, ``FileExistsError`` where ``path``
    exists, ``RuntimeError`` where this env cannot write the format (no TensorFlow backend). A converter
    that fails is ``litert.ConverterFailed`` or ``ConverterCrashed``."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
    if not stateful_layers(model):
        raise ValueError(f"model: expected a model with a stateful recurrent layer; {model.name!r} has none")
    check_choice("format", format, FORMATS)
    path = Path(path)
    if path.exists():
        raise FileExistsError(
            f"path: {path} exists; export writes a new {'file' if format == 'litert' else 'directory'}"
        )
    if SAVED_MODEL_EXPORT is not None:
        raise RuntimeError(f"format: {format!r} cannot be written here: {SAVED_MODEL_EXPORT}")
    work = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        saved = work / "saved_model"
        _archive(model, saved, custom_objects)
        if format == "saved_model":
            os.replace(saved, path)
        else:
            flatbuffer = work / "model.tflite"
            flatbuffer.write_bytes(_converted(saved))
            os.replace(flatbuffer, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def _archive(model, where: Path, custom_objects: dict | None) -> None:
    tf = tensorflow()
    batch = model.inputs[0].shape[0]
    copy = rebatch(model, batch, custom_objects=custom_objects)
    states = [variable for layer in stateful_layers(copy) for variable in state_variables(layer)]
    specs = [
        tf.TensorSpec((batch, *tensor.shape[1:]), tensor.dtype, name=f"input_{i}")
        for i, tensor in enumerate(copy.inputs)
    ]
    archive = ExportArchive()
    archive.track(copy)
    if len(specs) == 1:
        archive.add_endpoint("serve", lambda x: copy(x), input_signature=specs)
    else:
        archive.add_endpoint("serve", lambda *xs: copy(list(xs)), input_signature=specs)

    @tf.function(input_signature=[])
    def reset():
        for state in states:
            state.assign(tf.zeros_like(state))
        return {"reset": tf.constant(True)}

    archive.add_endpoint("reset", reset)
    quietly(archive.write_out, str(where))


def _converted(saved: Path) -> bytes:
    """The LiteRT flatbuffer of the archive's ``serve`` and ``reset``, by the route that keeps both (which one
    does depends on the TensorFlow release: spec chapter 18)."""
    for route in litert.ROUTES:
        flatbuffer = litert.convert(saved, "serve", "reset", route=route)
        if len(litert.signatures(flatbuffer)) == 2:
            return flatbuffer
    raise litert.ConverterFailed("no route of the TFLite converter kept both the serve and the reset signature")
