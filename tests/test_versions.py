"""The versions under test read without loading Keras (``statefulness._versions``: the header of a parallel spec
run, whose controlling process does not load Keras) are those of the Keras that ``statefulness._keras`` loads."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from statefulness import _keras, _versions


def test_the_versions_read_without_keras_are_those_of_the_keras_loaded():
    assert _versions.versions() == _keras.versions()


def _read_without_keras(env: dict[str, str]) -> dict:
    code = (
        "import json, sys; from statefulness import _versions; v = _versions.versions(); "
        "assert not {'keras', 'tf_keras', 'tensorflow'} & set(sys.modules), 'Keras was loaded'; print(json.dumps(v))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _environment(tmp_path, config: dict | None, variable: str | None) -> dict[str, str]:
    if config is not None:
        (tmp_path / "keras.json").write_text(json.dumps(config))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    if variable is not None:
        env["KERAS_BACKEND"] = variable
    return env


@pytest.mark.parametrize(
    ("config", "variable", "expected"),
    [
        (None, None, "tensorflow"),  # no keras.json, no KERAS_BACKEND: Keras's default
        ({"backend": "numpy"}, None, "numpy"),
        ({"backend": "numpy"}, "torch", "torch"),  # the variable wins over the file
        ({"backend": "numpy"}, "", "numpy"),  # an empty variable is ignored
    ],
)
def test_the_backend_is_read_as_keras_3_picks_it(tmp_path, config, variable, expected):
    if _keras.KERAS_MAJOR < 3:
        pytest.skip(f"Keras {_keras.KERAS_VERSION} runs on TensorFlow only")
    assert _read_without_keras(_environment(tmp_path, config, variable))["backend"] == expected


def test_keras_3_itself_picks_the_backend_of_its_keras_json(tmp_path):
    """The yardstick of the cases above: Keras 3 loaded under a ``keras.json`` that names a backend other
    than TensorFlow, one that is installed here (JAX, PyTorch, or NumPy, which needs SciPy)."""
    if _keras.KERAS_MAJOR < 3:
        pytest.skip(f"Keras {_keras.KERAS_VERSION} runs on TensorFlow only")
    needs = {"jax": "jax", "torch": "torch", "numpy": "scipy"}
    other = next((b for b, module in needs.items() if importlib.util.find_spec(module) is not None), None)
    if other is None:
        pytest.skip("no backend but TensorFlow can be loaded here (JAX, PyTorch, or SciPy for NumPy's)")
    env = _environment(tmp_path, {"backend": other}, None)
    code = "import keras; print(keras.backend.backend())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split()[-1] == _read_without_keras(env)["backend"] == other
