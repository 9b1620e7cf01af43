"""Chapter 5 (tutorial, "Stateful LSTM for a One-Char to One-Char Mapping"): a stateful model keeps
its state until it is reset, and the tutorial resets it "at the end of the epoch, which is also the end
of the training sequence", and before generating. Reset means: every state back to zeros."""

from __future__ import annotations

import numpy as np
import pytest

import statefulness
from statefulness._keras import keras, layer_states, to_numpy
from statefulness.check import kinds

from . import reference
from .breadth import family_ids, param, rule_holds_on_drawn_seeds
from .tiny import TOLERANCE, lstm_model, random_inputs, random_weights


@pytest.mark.claim("reset/reset-states-returns-every-state-to-zeros")
def test_reset_states_returns_every_state_to_zeros():
    """After ``layer.reset_states()`` the stored ``h`` and ``c`` are exactly zero, for every row."""
    rng = np.random.default_rng(11)
    model, layer = lstm_model(random_weights(rng, 2, 3), batch_size=4, stateful=True)
    model(random_inputs(rng, 4, 3, 2))  # a direct call moves the state on every backend
    assert all(np.any(s != 0) for s in layer_states(layer)), "the states should have moved before the reset"
    layer.reset_states()
    for name, state in zip("hc", layer_states(layer), strict=True):
        assert state.shape == (4, 3), f"{name} has shape {state.shape} after reset, expected (4, 3)"
        np.testing.assert_array_equal(state, 0, err_msg=f"{name} is not all zeros after reset_states()")


@pytest.mark.claim("reset/outputs-repeat-after-a-reset")
def test_outputs_repeat_after_a_reset():
    """The same input gives the same output after a reset as on a freshly built model: nothing of the
    earlier batches survives it."""
    rng = np.random.default_rng(12)
    weights = random_weights(rng, 1, 3)
    x, other = random_inputs(rng, 2, 3, 1), random_inputs(rng, 2, 3, 1)
    model, layer = lstm_model(weights, batch_size=2, stateful=True)
    first = to_numpy(model(x))
    model(other)
    layer.reset_states()
    np.testing.assert_allclose(
        to_numpy(model(x)), first, **TOLERANCE, err_msg="outputs after reset_states() differ from the first run"
    )
    np.testing.assert_allclose(first, reference.lstm(x, *weights)[0], **TOLERANCE)


def _nested_model(rng):
    """A stateful LSTM at the top, one in a nested Sequential and one in a Bidirectional wrapper."""
    inputs = keras.Input(shape=(3, 2), batch_size=2)
    top = keras.layers.LSTM(3, stateful=True, return_sequences=True)(inputs)
    inner = keras.Sequential(
        [keras.Input(shape=(3, 3), batch_size=2), keras.layers.LSTM(3, stateful=True, return_sequences=True)]
    )
    wrapped = keras.layers.Bidirectional(keras.layers.LSTM(2, stateful=True))(inner(top))
    model = keras.Model(inputs, wrapped)
    model(random_inputs(rng, 2, 3, 2))
    return model


def _all_states(model):
    return [s for layer in statefulness.stateful_layers(model) for s in layer_states(layer)]


@pytest.mark.claim("reset/model-reset-reaches-nested-and-wrapped-layers")
def test_resetting_a_model_reaches_nested_and_wrapped_stateful_layers():
    """``statefulness.reset_states(model)`` (a loop of ``layer.reset_states()``) zeroes the state of
    every stateful layer: at the top, inside a nested model and inside a Bidirectional wrapper."""
    model = _nested_model(np.random.default_rng(13))
    states = _all_states(model)
    assert len(states) >= 6 and all(np.any(s != 0) for s in states), "every stateful layer should hold state"
    statefulness.reset_states(model)
    for state in _all_states(model):
        np.testing.assert_array_equal(state, 0, err_msg="a stateful layer kept its state after the reset")


@pytest.mark.claim("reset/tutorial-model-reset-states-resets-every-layer")
def test_the_tutorials_model_reset_states_resets_every_stateful_layer():
    """The tutorial calls ``model.reset_states()`` after each epoch and after generating; it zeroes the
    state of the model's stateful layers."""
    rng = np.random.default_rng(14)
    model, layer = lstm_model(random_weights(rng, 1, 2), batch_size=1, stateful=True)
    model(random_inputs(rng, 1, 2, 1))
    model.reset_states()
    for state in layer_states(layer):
        np.testing.assert_array_equal(state, 0, err_msg="model.reset_states() left state behind")


@pytest.mark.claim("reset/every-reset-zeros-every-shape-and-outputs-repeat")
@pytest.mark.wide
@pytest.mark.parametrize("rule", family_ids("reset-zeroes"), ids=param)
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_every_reset_returns_every_state_of_every_shape_to_zeros_and_outputs_repeat(kind, rule, examples):
    """In every kind of model, a reset (each stateful layer's own, the model's where the version has
    one, and the library's) sets every stored state, moved by three batches, to zeros of the same shapes,
    nested ones included (an ``RNN`` over a list of cells, both halves of a ``Bidirectional``), and the
    next batch then gives the outputs it gives from zero state. The rule ``reset-zeroes[HOW]`` of
    ``statefulness check``."""
    rule_holds_on_drawn_seeds(rule, kind, examples(kind), first_seed=15)
