"""Chapter 23 (beyond the source document): options of the recurrent layers that reach the state code,
and the layers around them: a user's own cell, with one state and with several; dropout in inference
and in training; ``use_cudnn``; a stateful layer inside ``TimeDistributed``.

A stateful ``RNN`` over a user's cell carries every state the cell declares in ``state_size``, one
variable each, as it carries an LSTM's ``h`` and ``c``. Dropout is off in inference (``predict``,
``evaluate``, a direct call), so the state a stateful layer with dropout carries there is the
recurrence's; in ``fit`` the state carried to the next batch is the one of the dropped-out pass, which
a stateless twin without dropout does not reproduce. ``TimeDistributed`` calls its stateful layer once
per slice, one after another, so each slice starts where the last one ended: the slices are a
sequence, not independent samples.

Every claim runs tiny models (2 features, 3 units, batches of 2) against a NumPy recurrence written
out in the test or in ``spec/reference.py``."""

from __future__ import annotations

import numpy as np
import pytest

from statefulness._keras import KERAS_MAJOR, keras, layer_states, ops, to_numpy

from . import reference
from .tiny import TOLERANCE, assert_state, carried, random_inputs, random_weights

B = 2


class SumCell(keras.layers.Layer):
    """A user's cell with two states: ``h' = tanh(x W + h U)`` and the running sum ``s' = s + h'``;
    its output is ``s'``. With ``several=False``, the cell declares ``h`` alone and outputs ``h'``."""

    def __init__(self, units: int, several: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units, self.several = units, several
        self.state_size = [units, units] if several else units
        self.output_size = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_uniform", name="w")
        self.u = self.add_weight(shape=(self.units, self.units), initializer="random_uniform", name="u")

    def call(self, inputs, states):
        h = ops.tanh(ops.dot(inputs, self.w) + ops.dot(states[0], self.u))
        if not self.several:
            return h, [h]
        total = states[1] + h
        return total, [h, total]


def sum_cell_recurrence(x, w, u, state):
    """The NumPy recurrence of :class:`SumCell` over ``x`` from ``state`` (``[h, s]``, or ``[h]`` for the
    cell of one state): the outputs at every step (``s'``, or ``h'``) and the state after the last."""
    state = [np.asarray(s, "float64") for s in state]
    outputs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ w + state[0] @ u)
        state = [h, state[1] + h] if len(state) == 2 else [h]
        outputs.append(state[-1])
    return np.stack(outputs, axis=1), state


def rnn_over(cell, batch_size=B):
    inputs = keras.Input(shape=(None, 2), batch_size=batch_size)
    layer = keras.layers.RNN(cell, stateful=True, return_sequences=True)
    return keras.Model(inputs, layer(inputs)), layer


@pytest.mark.claim("layer-options/user-cell-with-one-state-carries-it")
def test_a_stateful_rnn_over_a_users_cell_with_one_state_carries_it_from_batch_to_batch():
    """``RNN(cell, stateful=True)`` over a user's cell declaring one state (``state_size = units``): the
    state it stores after each of two batches is the ``h`` of the NumPy recurrence carried across both,
    and the second batch's outputs are computed from the first's state."""
    rng = np.random.default_rng(41)
    model, layer = rnn_over(SumCell(3, several=False))
    first, second = random_inputs(rng, B, 3, 2), random_inputs(rng, B, 3, 2)
    w, u = (to_numpy(v) for v in layer.cell.weights)
    state = [np.zeros((B, 3))]

    for k, chunk in enumerate((first, second)):
        outputs = to_numpy(model(chunk))
        expected, state = sum_cell_recurrence(chunk, w, u, state)
        np.testing.assert_allclose(outputs, expected, **TOLERANCE, err_msg=f"batch {k} computed other outputs")
        assert len(layer_states(layer)) == 1, "one state declared, not one stored"
        np.testing.assert_allclose(layer_states(layer)[0], state[0], **TOLERANCE, err_msg=f"the h after batch {k}")


@pytest.mark.claim("layer-options/user-cell-with-several-states-carries-each")
def test_a_stateful_rnn_over_a_users_cell_with_several_states_carries_each_of_them():
    """``RNN(cell, stateful=True)`` over a cell declaring two states (``state_size = [units, units]``):
    it stores both, and fed in two chunks it computes the whole sequence's outputs and end state as
    the NumPy recurrence computes them, the running sum going on across the chunks."""
    rng = np.random.default_rng(42)
    model, layer = rnn_over(SumCell(3))
    whole = random_inputs(rng, B, 4, 2)
    w, u = (to_numpy(v) for v in layer.cell.weights)

    in_chunks = np.concatenate([to_numpy(model(whole[:, :2])), to_numpy(model(whole[:, 2:]))], axis=1)

    expected, state = sum_cell_recurrence(whole, w, u, [np.zeros((B, 3))] * 2)
    np.testing.assert_allclose(in_chunks, expected, **TOLERANCE, err_msg="the chunks did not compute the whole")
    assert len(layer_states(layer)) == 2, "two states declared, not two stored"
    for stored, theirs, name in zip(layer_states(layer), state, ["h", "the running sum"], strict=True):
        np.testing.assert_allclose(stored, theirs, **TOLERANCE, err_msg=f"the stored {name} is not the recurrence's")


def dropout_lstm(rng):
    """A stateful LSTM with ``dropout=0.5, recurrent_dropout=0.5``, its weights set, compiled with SGD at 0."""
    weights = random_weights(rng, 2, 3)
    inputs = keras.Input(shape=(2, 2), batch_size=B)
    layer = keras.layers.LSTM(3, stateful=True, return_sequences=True, dropout=0.5, recurrent_dropout=0.5)
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    return model, layer, weights


@pytest.mark.claim("layer-options/dropout-is-off-in-inference")
def test_in_inference_a_stateful_layer_with_dropout_carries_the_state_the_recurrence_carries():
    """``LSTM(stateful=True, dropout=0.5, recurrent_dropout=0.5)`` called on two batches (a direct call
    runs in inference, as ``predict`` does): no unit is dropped, so the outputs and the stored state are
    the NumPy recurrence's, carried from the first batch into the second."""
    rng = np.random.default_rng(43)
    model, layer, weights = dropout_lstm(rng)
    x = random_inputs(rng, 2 * B, 2, 2)

    outputs = np.concatenate([to_numpy(model(x[:B])), to_numpy(model(x[B:]))])

    first, _ = reference.run("lstm", x[:B], weights)
    second, _ = reference.run("lstm", x[B:], weights, carried(weights, [x[:B]]))
    np.testing.assert_allclose(outputs, np.concatenate([first, second]), **TOLERANCE)
    assert_state(layer_states(layer), carried(weights, [x[:B], x[B:]]), "the recurrence's, carried")


@pytest.mark.claim("layer-options/dropout-reaches-the-state-in-fit")
def test_in_fit_the_state_a_layer_with_dropout_carries_is_the_dropped_out_passs():
    """The same layer under ``fit`` (one batch, learning rate 0): the state it stores for the next batch
    is that of the dropped-out pass, off the recurrence's by far more than round-off, so neither the
    NumPy recurrence nor a stateless twin without dropout reproduces the training state. To compare a
    model with dropout against its twin, compare in inference."""
    rng = np.random.default_rng(44)
    model, layer, weights = dropout_lstm(rng)
    x, y = random_inputs(rng, B, 2, 2), np.zeros((B, 2, 3), "float32")

    model.fit(x, y, batch_size=B, epochs=1, shuffle=False, verbose=0)

    stored, recurrence = layer_states(layer), carried(weights, [x])
    assert max(float(np.max(np.abs(s))) for s in stored) > 1e-2, "fit stored no state (all zeros)"
    off = max(float(np.max(np.abs(mine - theirs))) for mine, theirs in zip(stored, recurrence, strict=True))
    assert off > 1e-2, f"the state fit carried is the recurrence's without dropout (off by {off:.1e})"


@pytest.mark.skipif(KERAS_MAJOR < 3, reason="Keras 2's recurrent layers have no use_cudnn argument")
@pytest.mark.claim("layer-options/use-cudnn-never-computes-something-else")
def test_use_cudnn_true_without_cudnn_is_refused_or_computes_the_recurrence_fed_in_chunks():
    """``LSTM(stateful=True, use_cudnn=True)`` on this machine: either the call is refused with an
    error that names ``use_cudnn`` (no cuDNN here, as on a CPU), or the kernel that runs computes the
    NumPy recurrence, carrying the state from one chunk to the next. It never silently computes
    something else."""
    rng = np.random.default_rng(45)
    weights = random_weights(rng, 2, 3)
    inputs = keras.Input(shape=(None, 2), batch_size=B)
    layer = keras.layers.LSTM(3, stateful=True, return_sequences=True, use_cudnn=True)
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights(weights)
    whole = random_inputs(rng, B, 4, 2)

    try:
        in_chunks = np.concatenate([to_numpy(model(whole[:, :2])), to_numpy(model(whole[:, 2:]))], axis=1)
    except (ValueError, RuntimeError) as error:
        assert "use_cudnn" in str(error), f"refused without naming use_cudnn: {error}"
        return
    np.testing.assert_allclose(in_chunks, reference.run("lstm", whole, weights)[0], **TOLERANCE)


@pytest.mark.claim("layer-options/time-distributed-chains-its-slices")
def test_time_distributed_around_a_stateful_layer_feeds_it_the_slices_one_after_another():
    """``TimeDistributed(LSTM(stateful=True))`` over inputs of shape ``(batch, 3 slices, 2 steps, 2)``:
    slice k starts from the state slice k-1 left, so slice k's output is the LSTM's last output over
    slices 0 to k joined into one sequence, and the state stored after the call (and carried into the
    next call) is that of all three slices in a row."""
    rng = np.random.default_rng(46)
    weights = random_weights(rng, 2, 3)
    inputs = keras.Input(shape=(3, 2, 2), batch_size=B)
    layer = keras.layers.LSTM(3, stateful=True)
    model = keras.Model(inputs, keras.layers.TimeDistributed(layer)(inputs))
    layer.set_weights(weights)
    x = random_inputs(rng, B, 3, 2, 2)

    outputs = to_numpy(model(x))

    joined = x.reshape(B, 6, 2)  # slices 0, 1, 2 one after another
    np.testing.assert_allclose(outputs, reference.run("lstm", joined, weights)[0][:, 1::2], **TOLERANCE)
    assert_state(layer_states(layer), carried(weights, [joined]), "the state after the three slices in a row")
