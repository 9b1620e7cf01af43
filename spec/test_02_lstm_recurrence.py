"""Chapter 2 (Q&A, "Why do we make the difference between stateless and stateful LSTM"): an LSTM has
cells and is stateful by definition. Before checking what Keras does with state *between* batches,
the spec fixes what one LSTM computes *within* a sequence: Keras's layer agrees with an independent
NumPy recurrence, so that the later chapters can compare Keras with that recurrence. The same holds for the GRU and
SimpleRNN recurrences that chapters 3 to 7 use as yardsticks, each pinned to values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulness._keras import keras, to_numpy, to_tensor
from statefulness.check import kinds

from . import reference
from .tiny import TOLERANCE, inputs_strategy, lstm_model, weights_strategy


@st.composite
def lstm_case(draw):
    batch, timesteps = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    features, units = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return draw(weights_strategy(features, units)), draw(inputs_strategy(batch, timesteps, features))


@pytest.mark.claim("lstm-recurrence/lstm-computes-the-documented-recurrence")
@given(lstm_case())
def test_keras_lstm_computes_the_documented_recurrence(case):
    """``keras.layers.LSTM`` (gates i, f, c, o; tanh and sigmoid) matches a NumPy recurrence to float32
    tolerance at every time step, from zero state (source: the Keras LSTM documentation)."""
    weights, x = case
    model, _ = lstm_model(weights, shared=True)
    expected, _, _ = reference.lstm(x, *weights)
    np.testing.assert_allclose(
        model.predict_on_batch(x),
        expected,
        **TOLERANCE,
        err_msg="Keras's LSTM output differs from the NumPy recurrence",
    )


@pytest.mark.claim("lstm-recurrence/lstm-continues-from-a-given-initial-state")
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
        to_numpy(layer(to_tensor(x), initial_state=[to_tensor(h0), to_tensor(c0)])),
        expected,
        **TOLERANCE,
        err_msg="Keras's LSTM does not continue the recurrence from the given initial state",
    )


# The yardsticks themselves, pinned once to values worked out by hand (one unit, one feature, x = 1
# at each of two steps): whatever the spec later compares with them, they compute these.


def _sig(x):
    return 1 / (1 + math.exp(-x))


def _gru_by_hand(recurrent_candidate_bias):
    """Kernel 1 for every gate, recurrent kernel 0.5, zero input bias; the candidate's recurrent term
    ``0.5 h + b`` enters scaled by the reset gate (for ``reset_after=False`` b is 0 and the reset gate
    scales ``h`` before the kernel, the same thing for one unit)."""
    b = recurrent_candidate_bias
    z1 = r1 = _sig(1)
    h1 = (1 - z1) * math.tanh(1 + r1 * b)
    z2 = r2 = _sig(1 + 0.5 * h1)
    h2 = z2 * h1 + (1 - z2) * math.tanh(1 + r2 * (0.5 * h1 + b))
    return [h1, h2]


PINS = {
    # h_t = tanh(0.5 x + 0.5 h_{t-1})
    "simple_rnn": ([[[0.5]], [[0.5]], [0.0]], [math.tanh(0.5), math.tanh(0.5 + 0.5 * math.tanh(0.5))]),
    # kernel 1 for every gate, no recurrence, no bias: c_t = s(1) c_{t-1} + s(1) tanh(1), h_t = s(1) tanh(c_t)
    "lstm": (
        [np.ones((1, 4)), np.zeros((1, 4)), np.zeros(4)],
        [
            _sig(1) * math.tanh(_sig(1) * math.tanh(1)),
            _sig(1) * math.tanh(_sig(1) * (_sig(1) * math.tanh(1)) + _sig(1) * math.tanh(1)),
        ],
    ),
    "gru(reset_after=False)": ([np.ones((1, 3)), np.full((1, 3), 0.5), np.zeros(3)], _gru_by_hand(0.0)),
    "gru(reset_after=True)": (
        [np.ones((1, 3)), np.full((1, 3), 0.5), np.array([[0, 0, 0], [0, 0, 1.0]])],
        _gru_by_hand(1.0),
    ),
}


@pytest.mark.claim("lstm-recurrence/numpy-yardsticks-give-the-values-worked-by-hand")
@pytest.mark.parametrize("recurrence", PINS)
def test_each_numpy_yardstick_computes_the_values_worked_out_by_hand(recurrence):
    """The NumPy recurrences that the spec holds Keras against compute, on a tiny case, the values
    written out by hand above (``spec/reference.py``'s formulas, not Keras, are what is pinned)."""
    weights, by_hand = PINS[recurrence]
    kind = recurrence.split("(")[0]
    outputs, _ = reference.run(kind, np.ones((1, 2, 1)), [np.asarray(w, dtype=float) for w in weights])
    np.testing.assert_allclose(outputs[0, :, 0], by_hand, rtol=1e-12, atol=0)


@pytest.mark.claim("lstm-recurrence/gru-and-simple-rnn-compute-their-recurrences")
@pytest.mark.wide
@pytest.mark.parametrize("kind", [k for k in kinds.BREADTH if k.oracle and k.id != "LSTM"], ids=str)
def test_keras_gru_and_simple_rnn_compute_their_documented_recurrences(kind):
    """``GRU`` (``reset_after`` True and False), ``SimpleRNN`` and ``RNN(LSTMCell)`` match their NumPy
    recurrences to float32 tolerance at every time step, from zero state, for any weights, batch sizes,
    lengths and inputs."""
    model = kind.build(None, stateful=False)

    @given(seed=st.integers(0, 2**16), batch=st.integers(1, 4), steps=st.integers(1, 6))  # as many as the LSTM
    def check(seed, batch, steps):
        kind.set_weights(model, seed)
        (x,) = kind.chunks(seed, [steps], batch=batch)
        np.testing.assert_allclose(
            to_numpy(model(x)),
            reference.run(kind.oracle, x, model.get_weights())[0],
            **TOLERANCE,
            err_msg=f"Keras's {kind} differs from the NumPy {kind.oracle} recurrence",
        )

    check()
