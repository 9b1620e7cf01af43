"""``statefulness.twin`` and ``statefulness.rebatch``, the same-weights copies of a stateful model (stateless;
at another batch size), and their errors."""

from __future__ import annotations

import numpy as np
import pytest

import statefulness as sf
from statefulness._keras import keras
from statefulness.check import kinds

TWINNABLE = [shape for shape in kinds.BREADTH if shape.id != "LSTM in a custom Layer"]


@pytest.mark.parametrize("shape", TWINNABLE, ids=str)
def test_the_twin_is_stateless_takes_any_batch_size_and_has_the_same_weights(shape):
    model = shape.build(kinds.BATCH)
    shape.set_weights(model, 1)
    copy = sf.twin(model)
    assert sf.stateful_layers(copy) == []
    assert copy.inputs[0].shape[0] is None
    assert all(np.array_equal(a, b) for a, b in zip(copy.get_weights(), model.get_weights(), strict=True))
    (x,) = shape.chunks(1, [kinds.STEPS], batch=5)  # a batch size the stateful model refuses
    assert np.asarray(copy.predict_on_batch(x)).shape[:2] == (5, kinds.STEPS)


def test_the_twin_leaves_the_model_as_it_was():
    shape = kinds.BY_ID["stacked GRU > LSTM"]
    model = shape.build(kinds.BATCH)
    before = [w.copy() for w in model.get_weights()]
    sf.twin(model)
    assert len(sf.stateful_layers(model)) == 2
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), before, strict=True))


def test_a_layer_that_hard_codes_stateful_gets_an_error_naming_it():
    model = kinds.BY_ID["LSTM in a custom Layer"].build(kinds.BATCH)
    with pytest.raises(ValueError, match=r"no stateless twin .*'encoder' \(Encoder\) holds stateful 'lstm"):
        sf.twin(model, custom_objects=kinds.CUSTOM_OBJECTS)


def test_twin_of_something_that_is_not_a_model_names_the_argument():
    with pytest.raises(TypeError, match="model: expected a keras.Model, got str"):
        sf.twin("model.keras")


@pytest.mark.parametrize(
    "args, error, message",
    [
        ((0,), ValueError, "batch_size: expected an integer >= 1, got 0"),
        ((1.5,), TypeError, "batch_size: expected an integer, got 1.5"),
        ((1, [3]), ValueError, r"rows: the model's batch has rows 0 to 2; got \[3\]"),
        ((2, [0]), ValueError, "rows: expected 2 rows \\(one per row of the copy\\), got 1"),
        ((1, "0"), TypeError, "rows: expected a sequence of row indices"),
    ],
)
def test_rebatch_refuses_bad_input_naming_the_argument(args, error, message):
    model = kinds.BY_NAME["lstm"].example()
    with pytest.raises(error, match=message):
        sf.rebatch(model, *args)


def test_rebatch_refuses_a_model_without_a_stateful_layer():
    inputs = keras.Input(shape=(None, 2), batch_size=3)
    model = keras.Model(inputs, keras.layers.LSTM(2)(inputs))
    with pytest.raises(ValueError, match="model: expected a model with a stateful recurrent layer"):
        sf.rebatch(model, 1)


def test_step_model_refuses_what_is_no_stateful_model_naming_the_argument():
    inputs = keras.Input(shape=(None, 2), batch_size=3)
    stateless = keras.Model(inputs, keras.layers.LSTM(2)(inputs))
    with pytest.raises(ValueError, match="model: expected a model with a stateful recurrent layer"):
        sf.step_model(stateless)
    with pytest.raises(TypeError, match="model: expected a keras.Model, got str"):
        sf.step_model("model.keras")


def test_step_states_are_the_states_the_step_model_takes_in_its_order():
    model = kinds.BY_NAME["bidirectional-lstm"].example()
    step = sf.step_model(model)
    shapes = [tuple(state.shape[1:]) for state in sf.step_states(model)]
    assert shapes == [tuple(t.shape[1:]) for t in step.inputs[1:]] == [(3,)] * 4
