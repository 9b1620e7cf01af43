"""Chapter 2 (Q&A, "Why do we make the difference between stateless and stateful LSTM"): an LSTM has
cells and is stateful by definition. Before checking what Keras does with state *between* batches,
the spec fixes what one LSTM computes *within* a sequence: Keras's layer agrees with an independent
NumPy recurrence, so that the later chapters can compare Keras with that recurrence."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from statefulness._keras import keras, to_numpy, to_tensor

from . import reference
from .tiny import TOLERANCE, inputs_strategy, lstm_model, weights_strategy


@st.composite
def lstm_case(draw):
    batch, timesteps = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    features, units = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return draw(weights_strategy(features, units)), draw(inputs_strategy(batch, timesteps, features))


@given(lstm_case())
def test_keras_lstm_computes_the_documented_recurrence(case):
    """``keras.layers.LSTM`` (gates i, f, c, o; tanh and sigmoid) matches a NumPy recurrence to float32
    tolerance at every time step, from zero state (source: the Keras LSTM documentation)."""
    weights, x = case
    model, _ = lstm_model(weights)
    expected, _, _ = reference.lstm(x, *weights)
    np.testing.assert_allclose(
        model.predict_on_batch(x), expected, **TOLERANCE,
        err_msg="Keras's LSTM output differs from the NumPy recurrence",
    )


@given(lstm_case(), st.integers(0, 2**32 - 1))
def test_keras_lstm_continues_from_a_given_initial_state(case, state_seed):
    """Called with ``initial_state=[h0, c0]``, the LSTM continues the recurrence from that state, as
    the NumPy recurrence does: state is just ``h`` and ``c``, nothing else is carried."""
    weights, x = case
    batch, units = x.shape[0], weights[1].shape[0]
    rng = np.random.default_rng(state_seed)
    h0, c0 = (rng.uniform(-1, 1, (batch, units)).astype("float32") for _ in range(2))
    layer = keras.layers.LSTM(units, return_sequences=True)
    layer.build(x.shape)
    layer.set_weights(weights)
    expected, _, _ = reference.lstm(x, *weights, h0=h0, c0=c0)
    np.testing.assert_allclose(
        to_numpy(layer(to_tensor(x), initial_state=[to_tensor(h0), to_tensor(c0)])), expected, **TOLERANCE,
        err_msg="Keras's LSTM does not continue the recurrence from the given initial state",
    )
