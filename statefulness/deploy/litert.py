"""Convert a Keras model, or endpoints of a SavedModel, to a LiteRT (TFLite) flatbuffer in a process of its
own: on some TensorFlow releases the converter aborts the process on a stateful RNN (a C++ ``abort``, no
Python exception), and a test or a user's script should see that as an error, not die of it.

The model goes to the converter as it is rebuilt from its JSON config and weights, so at zero state: the
state a model holds at conversion is not carried over (convert a SavedModel for that)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

_CONVERT = """
import json
import sys
import traceback
from pathlib import Path

import numpy as np

from statefulness._keras import keras
import tensorflow as tf


def converter(source, route, signatures):
    if route == "saved_model":
        return tf.lite.TFLiteConverter.from_saved_model(source, signature_keys=signatures)
    if route == "concrete_functions":
        loaded = tf.saved_model.load(source)
        return tf.lite.TFLiteConverter.from_concrete_functions([loaded.signatures[s] for s in signatures], loaded)
    model = keras.models.model_from_json(Path(source, "model.json").read_text())
    with np.load(Path(source, "weights.npz")) as weights:
        model.set_weights([weights[f"w{i}"] for i in range(len(weights.files))])
    return tf.lite.TFLiteConverter.from_keras_model(model)


for source, out, route, signatures in json.loads(sys.argv[1]):
    try:
        flatbuffer = converter(source, route, signatures).convert()
    except Exception:
        Path(out + ".error").write_text(traceback.format_exc())
    else:
        Path(out).write_bytes(flatbuffer)
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
    (result,) = convert_each([(source, *signatures)], route=route, timeout=timeout)
    if isinstance(result, Exception):
        raise result
    return result


def convert_each(
    requests, *, route: str = "concrete_functions", timeout: float = 600
) -> list[bytes | ConverterFailed | ConverterCrashed]:
    """``convert`` of each request, ``(source, *signatures)``, in one converter process (a process and
    TensorFlow's start cost seconds, a conversion of a small model a fraction of one): per request its
    flatbuffer, or the ``ConverterFailed`` or ``ConverterCrashed`` that ``convert`` would raise. Where a
    conversion takes the process down, the requests after it are converted in a new one."""
    if route not in ROUTES:
        raise ValueError(f"route: expected one of {', '.join(ROUTES)}, got {route!r}")
    requests = [tuple(request) for request in requests]
    with tempfile.TemporaryDirectory() as work:
        jobs = [_job(source, signatures, route, Path(work, str(k))) for k, (source, *signatures) in enumerate(requests)]
        results: list = []
        while len(results) < len(jobs):
            results += _run(jobs[len(results) :], timeout)
        return results


def _job(source, signatures, route: str, folder: Path) -> list:
    """What the converter's process gets for one request: where it reads, where it writes the flatbuffer,
    how it converts, and which signatures."""
    folder.mkdir()
    if isinstance(source, (str, Path)):
        if not signatures:
            raise ValueError("signatures: expected the names of the SavedModel's signatures to convert")
        if not Path(source, "saved_model.pb").is_file():
            raise ValueError(f"source: {str(source)!r} is not a SavedModel directory (no saved_model.pb)")
        where, how = str(source), route
    elif hasattr(source, "to_json") and hasattr(source, "get_weights"):
        if signatures:
            raise ValueError("signatures: only a SavedModel has signatures; a Keras model converts whole")
        Path(folder, "model.json").write_text(source.to_json())
        np.savez(Path(folder, "weights.npz"), **{f"w{i}": w for i, w in enumerate(source.get_weights())})
        where, how = str(folder), "keras_model"
    else:
        raise TypeError(f"source: expected a Keras model or a SavedModel directory, got {type(source).__name__}")
    return [where, str(folder / "model.tflite"), how, list(signatures)]


def _run(jobs: list, timeout: float) -> list:
    """The jobs in one converter process, in order: the result of each it finished (a flatbuffer or a
    ``ConverterFailed``), and a ``ConverterCrashed`` for the one it died on (the jobs after it are not run)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run(
        [sys.executable, "-c", _CONVERT, json.dumps(jobs)], capture_output=True, text=True, env=env, timeout=timeout
    )
    results: list = []
    for _, out, _, _ in jobs:
        if Path(out).is_file():
            results.append(Path(out).read_bytes())
        elif Path(out + ".error").is_file():
            results.append(
                ConverterFailed(f"the TFLite converter failed: {_last_words(Path(out + '.error').read_text())}")
            )
        elif proc.returncode < 0:
            return [
                *results,
                ConverterCrashed(f"the TFLite converter died of signal {-proc.returncode}: {_last_words(proc.stderr)}"),
            ]
        else:
            return [*results, ConverterFailed(f"the TFLite converter failed: {_last_words(proc.stderr)}")]
    return results
