"""``statefulness.deploy.litert.convert``: bad arguments are refused naming the argument, before a process
starts; a converter that raises in its own process is a ``ConverterFailed`` with the converter's words."""

from __future__ import annotations

import pytest

from statefulness._keras import SAVED_MODEL_EXPORT, keras, quietly
from statefulness.deploy import litert

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
