"""Chapter 8 (beyond the source document, which trains and uses its models in one session): a stateful
model saved in Keras's own format (``.keras``) and in the legacy ``.h5`` the tutorial's era used, and loaded
back; and the tutorial's model as Keras 2 saved it, loaded by this Keras. Teams reload models across an upgrade;
what the loaded copy keeps (weights, batch size, statefulness) and which state it starts from is part of
what they rely on. Run over every kind of model of ``statefulness.check.kinds``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from packaging.version import Version

from statefulness._keras import BATCH_SIZE_REFUSAL, KERAS_VERSION, keras, to_numpy
from statefulness.check import kinds
from statefulness.tutorial.model import stateful_layers

from .breadth import family_ids, param, rule_holds
from .tiny import TOLERANCE


@pytest.fixture(params=["keras", "h5"], ids=[".keras", ".h5"])
def saved(tmp_path, request):
    """``saved(model)``: the model saved as ``.keras`` (Keras's own format) or ``.h5`` (the legacy format the
    tutorial's era used, which every version still writes) and loaded back (uncompiled)."""

    def save_and_load(model):
        path = tmp_path / f"model.{request.param}"
        with warnings.catch_warnings():  # Keras 3 calls .h5 legacy when it saves one: said, and not the claim
            warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy", category=UserWarning)
            model.save(path)
        return keras.models.load_model(path, custom_objects=kinds.CUSTOM_OBJECTS, compile=False)

    return save_and_load


@pytest.mark.claim("save-and-load/every-shape-loads-back-with-weights-and-batch-size")
@pytest.mark.wide
@pytest.mark.parametrize("rule", family_ids("saved-and-loaded"), ids=param)
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_every_shape_loads_back_with_its_weights_its_batch_size_and_stateful_layers_from_zero_state(kind, rule):
    """Saved (as ``.keras``, Keras's own format, or as the legacy ``.h5`` of the tutorial's era, which
    every version still writes) after batches have moved its state, and loaded back, a stateful model of
    every kind has the same weights, the same batch size and the same stateful layers, and starts from
    zero state, not from the state it had when saved: fed a batch, it computes what the model computes
    from zero state. The rule ``saved-and-loaded[FORMAT]`` of ``statefulness check``."""
    rule_holds(rule, kind, kind.build(kinds.BATCH), 0)


@pytest.mark.claim("save-and-load/refused-batch-leaves-every-shape-loadable")
@pytest.mark.wide
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_a_refused_batch_of_another_size_leaves_every_shape_as_it_was_and_loadable(kind, saved):
    """A batch of one row more than the batch size, which a stateful model refuses with this version's
    words (chapter 7), leaves the model as it was: its config is unchanged, and saved and loaded back it
    keeps its batch size."""
    model = kind.build(kinds.BATCH)
    config = model.get_config()
    error, words = BATCH_SIZE_REFUSAL
    with pytest.raises(error, match=words):
        model(np.zeros((kinds.BATCH + 1, kinds.STEPS, *kind.features), "float32"))
    assert model.get_config() == config, f"{kind}: a refused batch changed the model's config"
    assert saved(model).inputs[0].shape[0] == kinds.BATCH


KERAS2_FILES = sorted((Path(__file__).resolve().parent / "data").glob("tutorial-keras2*.h5"))
"""The tutorial's model saved the tutorial's way by Keras 2.12, 2.15 and tf-keras 2.21
(``scripts/save_keras2_tutorial_model.py``, ``tox -e save-keras2``), with the outputs Keras 2 gave."""


@pytest.mark.claim("save-and-load/keras-2-h5-tutorial-model-loads-with-its-outputs")
@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`")  # Keras 3's own legacy loader passes it
@pytest.mark.parametrize("path", KERAS2_FILES, ids=lambda path: path.stem.removeprefix("tutorial-"))
def test_the_tutorials_model_saved_by_keras_2_as_h5_loads_with_its_batch_size_state_and_outputs(path, observe):
    """The tutorial's model as the tutorial saves it with Keras 2 (``LSTM(16, batch_input_shape=(1, 1, 1),
    stateful=True)``, ``model.save("....h5")``) loads in this Keras: batch size 1, a stateful LSTM, and on two
    consecutive one-letter batches the outputs Keras 2 gave, the second continuing from the first's state.
    (A file saved by a newer Keras than this one is not claimed to load.)"""
    record = json.loads(path.with_suffix(".json").read_text())
    saved_by = record["saved_by"].removeprefix("Keras ")
    if Version(saved_by) > Version(KERAS_VERSION):
        pytest.skip(f"saved by Keras {saved_by}, newer than this Keras {KERAS_VERSION}")
    model = keras.models.load_model(path, compile=False)
    observe("loaded", f"batch size {model.inputs[0].shape[0]}")
    assert model.inputs[0].shape[0] == 1
    assert [layer.stateful for layer in stateful_layers(model)] == [True]
    for x, expected in zip(record["inputs"], record["outputs"], strict=True):
        np.testing.assert_allclose(to_numpy(model(np.array(x, "float32"))), expected, **TOLERANCE)
