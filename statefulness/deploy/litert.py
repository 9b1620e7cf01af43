"""Convert a Keras model, or endpoints of a SavedModel, to a LiteRT (TFLite) flatbuffer in a process of its
own: on some TensorFlow releases the converter aborts the process on a stateful RNN (a C++ ``abort``, no
Python exception), and a test or a user's script should see that as an error, not die of it. The process
is kept for the next conversions (it starts TensorFlow, which costs seconds; each conversion after the
first costs a fraction of one), with a fresh Keras session for each, until this interpreter exits or the
converter takes it down; the next conversion then starts a new one.

The model goes to the converter as it is rebuilt from its JSON config and weights, so at zero state: the
state a model holds at conversion is not carried over (convert a SavedModel for that)."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
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


for line in sys.stdin:
    for source, out, route, signatures in json.loads(line):
        keras.backend.clear_session()
        try:
            flatbuffer = converter(source, route, signatures).convert()
        except Exception:
            Path(out + ".error").write_text(traceback.format_exc())
        else:
            Path(out).write_bytes(flatbuffer)
    print(DONE, flush=True)
"""
_DONE = "statefulness-litert: done"
"""What the converter's process writes to its standard output when it has done a request's jobs."""


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
    """``convert`` of each request, ``(source, *signatures)``, in one exchange with the converter's process
    (a process and TensorFlow's start cost seconds, a conversion of a small model a fraction of one): per
    request its flatbuffer, or the ``ConverterFailed`` or ``ConverterCrashed`` that ``convert`` would raise. Where a
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
    """The jobs in the converter's process, in order: the result of each it finished (a flatbuffer or a
    ``ConverterFailed``), and a ``ConverterCrashed`` for the one it died on (the jobs after it are not run)."""
    process = _Process.get()
    since = process.logged()
    died = not process.ask(json.dumps(jobs), timeout)
    try:
        return _results(jobs, process, since, died)
    finally:
        if died:
            process.close()


def _results(jobs: list, process: _Process, since: int, died: bool) -> list:
    results: list = []
    for _, out, _, _ in jobs:
        if Path(out).is_file():
            results.append(Path(out).read_bytes())
        elif Path(out + ".error").is_file():
            results.append(
                ConverterFailed(f"the TFLite converter failed: {_last_words(Path(out + '.error').read_text())}")
            )
        elif died and process.returncode is not None and process.returncode < 0:
            last = _last_words(process.stderr(since))
            return [*results, ConverterCrashed(f"the TFLite converter died of signal {-process.returncode}: {last}")]
        else:
            return [*results, ConverterFailed(f"the TFLite converter failed: {_last_words(process.stderr(since))}")]
    return results


class _Process:
    """The converter's process (``_CONVERT`` in a new interpreter): one request of jobs per line on its
    standard input, ``_DONE`` on its standard output when they are done; its error output to a file."""

    running: dict[str, _Process] = {}
    """The processes running, by their script (a mutant's or a test's own converter has its own)."""

    def __init__(self) -> None:
        self.script = _CONVERT
        self.folder = tempfile.TemporaryDirectory()
        self.log = Path(self.folder.name, "stderr.txt")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        with self.log.open("wb") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "-c", f"DONE = {_DONE!r}\n" + self.script],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
            )
        self.lines: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.returncode: int | None = None

    @classmethod
    def get(cls) -> _Process:
        """The running process of ``_CONVERT``, or a new one where none runs."""
        process = cls.running.get(_CONVERT)
        if process is not None and process.popen.poll() is not None:
            process.close()
            process = None
        if process is None:
            process = cls.running[_CONVERT] = cls()
        return process

    def _read(self) -> None:
        for line in self.popen.stdout:  # type: ignore[union-attr]
            if line.strip() == _DONE:
                self.lines.put(True)
        self.lines.put(False)

    def ask(self, request: str, timeout: float) -> bool:
        """Send ``request``; True when the process has done it, False where it died (its ``returncode``)."""
        try:
            self.popen.stdin.write(request + "\n")  # type: ignore[union-attr]
            self.popen.stdin.flush()  # type: ignore[union-attr]
            done = self.lines.get(timeout=timeout)
        except BrokenPipeError:
            done = False
        except queue.Empty:
            self.running.pop(self.script, None)
            self.close()
            raise subprocess.TimeoutExpired(self.popen.args, timeout) from None
        if not done:
            self.returncode = self.popen.wait()
            self.running.pop(self.script, None)
        return done

    def logged(self) -> int:
        """How many bytes of error output the process has written so far."""
        return self.log.stat().st_size

    def stderr(self, since: int = 0) -> str:
        """Its error output from byte ``since`` on."""
        return self.log.read_bytes()[since:].decode("utf-8", "replace")

    def close(self) -> None:
        """End the process (it ends on its own when its input closes) and forget its error output."""
        if self.popen.poll() is None:
            with contextlib.suppress(OSError):
                self.popen.stdin.close()  # type: ignore[union-attr]
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.reader.join(timeout=30)
        with contextlib.suppress(OSError):  # a pipe broken by a process that died mid-request
            self.popen.stdin.close()  # type: ignore[union-attr]
        self.popen.stdout.close()  # type: ignore[union-attr]
        self.folder.cleanup()


@atexit.register
def _close() -> None:
    while _Process.running:
        _Process.running.popitem()[1].close()
