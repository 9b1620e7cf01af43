"""Chapter 21 (beyond the source document): what the rest of a stateful model's training life does to
its state: weights loaded from a checkpoint, a run resumed after a preemption, the gradient that
``fit`` computes, rows reset one at a time, and the layer options that reach the state code.

The state is not a weight: ``load_weights`` neither resets it nor brings back the state saved beside
the weights, and a model loaded to resume training starts from zero state. A resumed run therefore
trains the weights of the uninterrupted run only where the state is reset at the epoch it resumes
from (as the tutorial's stateful model is), or where the state is saved and assigned back by hand ("the
resumed run trains different weights", keras-team/keras#14047). The gradient of each batch stops at
the state it started from: ``fit`` trains with truncated backpropagation, one batch long, so training
a stateful model is training its step model (chapter 17) on each batch with the carried state given
as a constant input.

Every claim runs a tiny LSTM (2 features, 3 units, batches of 2) against the NumPy recurrence or a
model trained the way the claim says is the same."""

from __future__ import annotations

import numpy as np
import pytest

import statefulness
from statefulness._keras import assign_states, keras, layer_states, state_variables, to_numpy

from . import reference
from .tiny import (
    TOLERANCE,
    ResetAtEpochBegin,
    StateLog,
    assert_state,
    batches,
    carried,
    lstm_model,
    random_inputs,
    random_weights,
    trainable,
)

B = 2


@pytest.mark.claim("resuming-and-gradients/load-weights-leaves-the-state-as-it-is")
def test_load_weights_neither_resets_the_state_nor_restores_the_state_saved_with_the_weights(tmp_path):
    """``save_weights`` after one batch, a second batch, then ``load_weights``: the state is the one
    after the second batch. The weights file holds no state (the state is no weight), and loading
    weights does not touch the state variables."""
    rng = np.random.default_rng(21)
    weights = random_weights(rng, 2, 3)
    model, layer = lstm_model(weights, batch_size=B, stateful=True)
    first, second = random_inputs(rng, B, 2, 2), random_inputs(rng, B, 2, 2)
    path = str(tmp_path / "checkpoint.weights.h5")
    model(first)
    model.save_weights(path)
    model(second)

    model.load_weights(path)

    assert_state(layer_states(layer), carried(weights, [first, second]), "the state after both batches")


def resume(model, x, y, path, callbacks=(), state=None):
    """Epoch 0 of ``fit``, the model saved and loaded back (``.keras``), then epoch 1 resumed with
    ``fit(initial_epoch=1, epochs=2)``; ``state`` given: assigned to the loaded model before it resumes."""
    model.fit(x, y, batch_size=B, epochs=1, shuffle=False, verbose=0, callbacks=list(callbacks))
    model.save(path)
    loaded = keras.models.load_model(path)
    layer = statefulness.stateful_layers(loaded)[0]
    if state is not None:
        assign_states(layer, state)
    log = StateLog(layer)
    loaded.fit(x, y, batch_size=B, initial_epoch=1, epochs=2, shuffle=False, verbose=0, callbacks=[*callbacks, log])
    return loaded, log


@pytest.mark.claim("resuming-and-gradients/resumed-with-epoch-resets-trains-the-same")
def test_a_run_resumed_from_a_saved_model_trains_the_uninterrupted_weights_where_every_epoch_resets(tmp_path):
    """Where the state is reset at every epoch's start (the tutorial's stateful model), a run saved
    after epoch 0 and resumed with ``load_model`` and ``fit(initial_epoch=1)`` ends with the weights of
    the run that trained both epochs without stopping."""
    model, _, x, y = trainable(22)
    uninterrupted, _, _, _ = trainable(22)
    uninterrupted.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0, callbacks=[ResetAtEpochBegin()])

    resumed, _ = resume(model, x, y, str(tmp_path / "epoch0.keras"), callbacks=[ResetAtEpochBegin()])

    for mine, theirs in zip(resumed.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE, err_msg="the resumed run trained other weights")


@pytest.mark.claim("resuming-and-gradients/resumed-without-resets-starts-from-zero")
def test_a_run_resumed_without_resets_starts_from_zero_state_unless_the_state_is_assigned_back(tmp_path):
    """The trap: without resets, the loaded model resumes from zero state where the uninterrupted run
    goes on from epoch 0's state, so the resumed run trains other weights. Keeping the state at the save
    (``layer_states``) and assigning it to the loaded model's state variables gives the uninterrupted
    run's weights."""
    model, layer, x, y = trainable(23)
    uninterrupted, _, _, _ = trainable(23)
    uninterrupted.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0)

    resumed, log = resume(model, x, y, str(tmp_path / "epoch0.keras"))
    kept = layer_states(layer)  # the state epoch 0 left in the model that was saved

    assert_state(log.log[("epoch_begin", 1)], [np.zeros_like(s) for s in kept], "zero state")
    assert not np.allclose(resumed.get_weights()[0], uninterrupted.get_weights()[0], **TOLERANCE)
    model, _, x, y = trainable(23)
    with_state, _ = resume(model, x, y, str(tmp_path / "again.keras"), state=kept)
    for mine, theirs in zip(with_state.get_weights(), uninterrupted.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE, err_msg="with its state assigned back, other weights")


@pytest.mark.claim("resuming-and-gradients/fit-stops-the-gradient-at-the-carried-state")
def test_fit_trains_as_the_step_model_does_with_each_batchs_carried_state_as_a_constant_input():
    """Truncated backpropagation: ``fit`` over two batches of a stateful model (SGD, shuffle=False)
    trains the weights that ``train_on_batch`` of its step model trains, fed each batch with the state
    the stateful layer carried into it as an input: the state is a constant to the gradient, and no
    gradient reaches batch 0's inputs from batch 1's loss."""
    rng = np.random.default_rng(24)
    weights = random_weights(rng, 2, 3)
    x, y = random_inputs(rng, 2 * B, 2, 2), random_inputs(rng, 2 * B, 3)
    model, _ = lstm_model(weights, batch_size=B, stateful=True, return_sequences=False)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")

    inputs, h0, c0 = keras.Input(shape=(2, 2)), keras.Input(shape=(3,)), keras.Input(shape=(3,))
    lstm = keras.layers.LSTM(3)
    step = keras.Model([inputs, h0, c0], lstm(inputs, initial_state=[h0, c0]))
    lstm.set_weights(weights)
    step.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")

    model.fit(x, y, batch_size=B, epochs=1, shuffle=False, verbose=0)

    state = [np.zeros((B, 3), "float32")] * 2
    for chunk, target in zip(batches(x, B), batches(y, B), strict=True):
        carried_on = carried(lstm.get_weights(), [chunk], state)  # with the weights before this batch's update
        step.train_on_batch([chunk, *state], target)
        state = [s.astype("float32") for s in carried_on]
    for mine, theirs in zip(model.get_weights(), step.get_weights(), strict=True):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE, err_msg="fit trained other weights than the step model")
    assert not np.allclose(model.get_weights()[0], weights[0], **TOLERANCE)  # the weights did train


@pytest.mark.claim("resuming-and-gradients/reset-rows-zeros-those-rows-only")
def test_reset_rows_gives_the_chosen_rows_a_fresh_state_and_the_other_rows_go_on():
    """``statefulness.reset_rows(model, [1])`` on a model of batch 3 after a batch: on the next batch,
    row 1 computes what the NumPy recurrence computes from zeros (its new sequence starts), rows 0 and 2
    what it computes carried on from their states (their sequences go on)."""
    rng = np.random.default_rng(25)
    weights = random_weights(rng, 2, 3)
    model, _ = lstm_model(weights, batch_size=3, stateful=True)
    first, second = random_inputs(rng, 3, 2, 2), random_inputs(rng, 3, 2, 2)
    model(first)
    h, c = carried(weights, [first])
    h[1], c[1] = 0, 0

    statefulness.reset_rows(model, [1])

    np.testing.assert_allclose(to_numpy(model(second)), reference.run("lstm", second, weights, [h, c])[0], **TOLERANCE)


@pytest.mark.claim("resuming-and-gradients/return-state-is-the-stored-state")
def test_a_stateful_layer_with_return_state_returns_the_state_it_stores():
    """``LSTM(stateful=True, return_state=True)``: the ``h`` and ``c`` it returns after each batch are
    the state it stores for the next one, the state the NumPy recurrence carries."""
    rng = np.random.default_rng(26)
    weights = random_weights(rng, 2, 3)
    inputs = keras.Input(shape=(2, 2), batch_size=B)
    layer = keras.layers.LSTM(3, stateful=True, return_state=True)
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights(weights)
    chunks = [random_inputs(rng, B, 2, 2) for _ in range(2)]

    for k, chunk in enumerate(chunks, 1):
        _, h, c = (to_numpy(t) for t in model(chunk))
        assert_state([h, c], layer_states(layer), "the state the layer stores")
        assert_state([h, c], carried(weights, chunks[:k]), f"the state after {k} batches")


@pytest.mark.claim("resuming-and-gradients/unrolled-chunks-compute-the-whole")
def test_an_unrolled_stateful_layer_fed_in_chunks_computes_the_whole_sequence():
    """``LSTM(stateful=True, unroll=True)`` (a Python loop over a fixed number of steps instead of a
    symbolic one) carries its state as the rolled layer does: two chunks of 2 steps give the outputs of
    the whole sequence of 4, as the NumPy recurrence computes them."""
    rng = np.random.default_rng(27)
    weights = random_weights(rng, 2, 3)
    inputs = keras.Input(shape=(2, 2), batch_size=B)
    layer = keras.layers.LSTM(3, stateful=True, unroll=True, return_sequences=True)
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights(weights)
    whole = random_inputs(rng, B, 4, 2)

    outputs = np.concatenate([to_numpy(model(whole[:, :2])), to_numpy(model(whole[:, 2:]))], axis=1)

    np.testing.assert_allclose(outputs, reference.run("lstm", whole, weights)[0], **TOLERANCE)


@pytest.mark.claim("resuming-and-gradients/mixed-precision-chunks-equal-the-whole")
@pytest.mark.parametrize(
    "policy, atol", [("mixed_float16", 2e-3), ("mixed_bfloat16", 3e-2)], ids=["float16", "bfloat16"]
)
def test_under_a_mixed_precision_policy_chunks_compute_exactly_what_the_whole_sequence_computes(policy, atol):
    """Under ``mixed_float16`` (or ``mixed_bfloat16``) the layer computes in 16 bits and stores its state
    in a variable of float32, which holds every 16-bit float exactly: fed in two chunks, it gives bit for
    bit the outputs it gives for the whole sequence in one call (and those are the NumPy recurrence's
    within the 16-bit round-off, ``atol``)."""
    rng = np.random.default_rng(28)
    weights = random_weights(rng, 2, 3)
    whole = random_inputs(rng, B, 4, 2)
    keras.mixed_precision.set_global_policy(policy)
    try:
        inputs = keras.Input(shape=(None, 2), batch_size=B)
        layer = keras.layers.LSTM(3, stateful=True, return_sequences=True)
        model = keras.Model(inputs, layer(inputs))
        layer.set_weights(weights)
        at_once = to_numpy(model(whole))
        statefulness.reset_states(model)
        in_chunks = np.concatenate([to_numpy(model(whole[:, :2])), to_numpy(model(whole[:, 2:]))], axis=1)
        dtypes = {str(getattr(v.dtype, "name", v.dtype)) for v in state_variables(layer)}
    finally:
        keras.mixed_precision.set_global_policy("float32")

    assert dtypes == {"float32"}, f"the state is stored in {dtypes}"
    np.testing.assert_array_equal(in_chunks, at_once, err_msg="the chunks did not compute the whole sequence")
    np.testing.assert_allclose(at_once.astype("float64"), reference.run("lstm", whole, weights)[0], rtol=0, atol=atol)
