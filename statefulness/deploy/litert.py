"""Convert a Keras model, or endpoints of a SavedModel, to a LiteRT (TFLite) flatbuffer in a process of its
own: on some TensorFlow releases the converter aborts the process on a stateful RNN (a C++ ``abort``, no
Python exception), and a test or a user's script should see that as an error, not die of it.

The model goes to the converter as it is rebuilt from its JSON config and weights, so at zero state: the
state a model holds at conversion is not carried over (convert a SavedModel for that)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CONVERT = """
import sys
from pathlib import Path

import numpy as np

from statefulness._keras import keras
import tensorflow as tf

source, out, route, *signatures = sys.argv[1:]
if route == "saved_model":
    converter = tf.lite.TFLiteConverter.from_saved_model(source, signature_keys=signatures)
elif route == "concrete_functions":
    loaded = tf.saved_model.load(source)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([loaded.signatures[s] for s in signatures], loaded)
else:
    model = keras.models.model_from_json(Path(source, "model.json").read_text())
    with np.load(Path(source, "weights.npz")) as weights:
        model.set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
Path(out).write_bytes(converter.convert())
"""


def _last_words(stderr: str) -> str:
    """The line of the converter's error output that says what went wrong (an ``LLVM ERROR``, a failed
    check, an error), else its last lines."""
    lines = stderr.strip().splitlines()
    for marker in ("LLVM ERROR", "Check failed", "Error:", "error:"):
        found = [line.strip() for line in lines if marker in line]
        if found:
            return found[-1][:300]
    return " ".join(lines[-3:])[-300:]


def signatures(flatbuffer: bytes) -> dict:
    """The signatures of a LiteRT flatbuffer, as its interpreter lists them (``get_signature_list()``)."""
    from statefulness._keras import tflite_interpreter  # the interpreter is TensorFlow's or LiteRT's

    return tflite_interpreter(flatbuffer).get_signature_list()


class ConverterCrashed(RuntimeError):
    """The converter took its process down (a signal: an ``abort`` in TensorFlow's C++), with its last words."""


class ConverterFailed(RuntimeError):
    """The converter raised: its error, from the process it ran in."""


ROUTES = ("concrete_functions", "saved_model")
"""How the signatures of a SavedModel are converted: ``TFLiteConverter.from_concrete_functions`` of the loaded
signatures, or ``from_saved_model(path, signature_keys=...)``. Which keeps them all depends on the TensorFlow
release (spec chapter 18 and its known deviations say which)."""


def convert(source, *signatures: str, route: str = "concrete_functions", timeout: float = 600) -> bytes:
    """The LiteRT flatbuffer of ``source``: a Keras model (``TFLiteConverter.from_keras_model`` of the model
    rebuilt from its config and weights), or the path of a SavedModel with the names of the ``signatures``
    to convert by ``route`` (one of ``ROUTES``). Raises ``ConverterCrashed`` where the converter's process
    died of a signal, ``ConverterFailed`` where it raised, ``TypeError``/``ValueError`` for bad arguments."""
    if route not in ROUTES:
        raise ValueError(f"route: expected one of {', '.join(ROUTES)}, got {route!r}")
    with tempfile.TemporaryDirectory() as work:
        if isinstance(source, (str, Path)):
            if not signatures:
                raise ValueError("signatures: expected the names of the SavedModel's signatures to convert")
            if not Path(source, "saved_model.pb").is_file():
                raise ValueError(f"source: {str(source)!r} is not a SavedModel directory (no saved_model.pb)")
            where, how = str(source), route
        elif hasattr(source, "to_json") and hasattr(source, "get_weights"):
            if signatures:
                raise ValueError("signatures: only a SavedModel has signatures; a Keras model converts whole")
            Path(work, "model.json").write_text(source.to_json())
            np.savez(Path(work, "weights.npz"), **{f"w{i}": w for i, w in enumerate(source.get_weights())})
            where, how = work, "keras_model"
        else:
            raise TypeError(f"source: expected a Keras model or a SavedModel directory, got {type(source).__name__}")
        out = Path(work, "model.tflite")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        proc = subprocess.run(
            [sys.executable, "-c", _CONVERT, where, str(out), how, *signatures],
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
        )
        last = _last_words(proc.stderr)
        if proc.returncode < 0:
            raise ConverterCrashed(f"the TFLite converter died of signal {-proc.returncode}: {last}")
        if proc.returncode != 0:
            raise ConverterFailed(f"the TFLite converter failed: {last}")
        return out.read_bytes()
