"""The versions under test, read from package metadata and Keras's configuration without importing Keras.

What a run names its environment by (the spec's header, the claims report, ``statefulness run`` and
``check``): Python, Keras, its package and backend, and the backend libraries. ``statefulness._keras`` (the
one module that loads Keras) fills in Keras, its package and its backend from the Keras it imported; this
module reads them the way Keras picks them, for a process that need not load Keras at all: the controlling
process of a parallel spec run, which names the Keras under test before its workers start, and tests of
the pytest machinery, whose example tests load none. ``tests/test_versions.py`` holds the two readings
equal on every environment of the matrix.
"""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata

LEGACY_KERAS = os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")
"""Whether this process uses Keras 2 from ``tf_keras`` (TensorFlow 2.16+ reads the same variable)."""

_DISTRIBUTIONS = {"keras": ("keras", "keras-nightly"), "tf_keras": ("tf-keras", "tf-keras-nightly")}

_LIBRARIES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu"),
    "tf_keras": ("tf-keras", "tf-keras-nightly"),
    "jax": ("jax",),
    "torch": ("torch",),
}


def _distribution_version(names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return None


def keras_package() -> str:
    """The package ``statefulness._keras`` imports: ``tf_keras`` under ``TF_USE_LEGACY_KERAS``, else ``keras``."""
    return "tf_keras" if LEGACY_KERAS else "keras"


def keras_backend(keras_version: str) -> str:
    """The backend Keras will load: TensorFlow for Keras 2; for Keras 3, ``KERAS_BACKEND`` if set and not
    empty, else the ``backend`` of ``keras.json`` under ``KERAS_HOME`` (default ``~/.keras``, or
    ``/tmp/.keras`` where the home folder is not writable), else TensorFlow (keras/src/backend/config.py)."""
    if int(keras_version.split(".")[0]) < 3:
        return "tensorflow"
    backend = "tensorflow"
    if "KERAS_HOME" in os.environ:
        folder = os.environ["KERAS_HOME"]
    else:
        home = os.path.expanduser("~")
        folder = os.path.join(home if os.access(home, os.W_OK) else "/tmp", ".keras")
    try:
        with open(os.path.expanduser(os.path.join(folder, "keras.json"))) as f:
            backend = json.load(f).get("backend", backend)
    except (OSError, ValueError):
        pass
    return os.environ.get("KERAS_BACKEND") or backend


def versions(*, keras: str | None = None, package: str | None = None, backend: str | None = None) -> dict[str, str]:
    """Python, Keras (``keras``, ``keras_package``, ``backend``: as given, else read without importing it),
    NumPy and the backend libraries installed."""
    package = package or keras_package()
    keras = keras or _distribution_version(_DISTRIBUTIONS[package]) or "unknown"
    info = {
        "python": platform.python_version(),
        "keras": keras,
        "keras_package": package,
        "backend": backend or keras_backend(keras),
        "numpy": _distribution_version(("numpy",)) or "unknown",
    }
    for key, names in _LIBRARIES.items():
        version = _distribution_version(names)
        if version is not None:
            info[key] = version
    return info
