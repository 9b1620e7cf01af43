"""Chapter 17 (beyond the source document, whose models predict at the batch size they trained at): a
stateful model at another batch size. A stateful layer keeps one state row per row of the batch it was
built for (chapter 7), so a model trained on batches of 32 refuses one sample. "I trained with batch 32;
how do I predict one sample at a time?" is the most repeated stateful question (keras-team/keras#2322,
#2959, #6767, #1977). The answer is a copy: the same config with another batch size and the same weights.
Its state is not a weight, so the copy starts from zero state, unless the current state of the rows it
continues is copied too: ``statefulness.rebatch(model, B, rows)`` does both with plain Keras calls
(``get_config``, ``from_config``, ``set_weights``, ``Variable.assign``). The claims hold it, and the
recipes users apply by hand, against the model itself fed on.

Where the runtime holds no state (a server answering many streams, an exported graph), the state goes
in and out with each request instead: ``statefulness.step_model(model)`` is the stateless twin with its
state as explicit inputs and outputs, ``[x, *states] -> [y, *new_states]`` (each stateful layer called with
``initial_state`` and ``return_state=True``), at any batch size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import statefulness
from statefulness._keras import keras, layer_states, to_numpy
from statefulness.check import kinds

from . import reference
from .tiny import TOLERANCE, lstm_model, random_inputs, random_weights


@pytest.mark.claim("another-batch-size/every-kind-row-r-goes-on-in-a-copy-of-batch-one")
@pytest.mark.wide
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_in_every_kind_row_r_of_a_stream_goes_on_exactly_in_a_copy_of_batch_one_with_its_state(kind, examples):
    """In every kind of model, after batches have moved the state, a copy of batch size 1 that carries
    row r's state (``rebatch(model, 1, rows=[r])``) computes on row r of the next batches what the model
    itself computes on them, fed on at its own batch size: the stream of row r goes on where it was."""
    model = kind.build(kinds.BATCH)

    @examples(kind)
    @given(seed=st.integers(0, 2**16), row=st.integers(0, kinds.BATCH - 1))
    @example(seed=0, row=kinds.BATCH - 1)
    def check(seed, row):
        kind.set_weights(model, seed)
        statefulness.reset_states(model)
        first, second, *later = kind.chunks(seed, [kinds.STEPS] * 4)
        model(first)
        model(second)
        copy = statefulness.rebatch(model, 1, rows=[row], custom_objects=kinds.CUSTOM_OBJECTS)
        for chunk in later:
            np.testing.assert_allclose(
                to_numpy(copy(chunk[row : row + 1])),
                to_numpy(model(chunk))[row : row + 1],
                **TOLERANCE,
                err_msg=f"{kind}: row {row} did not go on in the copy of batch 1 as in the model",
            )

    check()


@pytest.mark.claim("another-batch-size/copy-carries-chosen-rows-in-any-order")
def test_a_copy_of_another_batch_size_carries_the_chosen_rows_in_any_order_and_repeats():
    """``rebatch(model, 5, rows=[2, 0, 0, 1, 2])`` of a model of batch 3: row k of the copy goes on from
    row ``rows[k]`` of the model (a row may be taken twice), as the NumPy recurrence carried from those
    rows' states computes; the model's own state is left as it was."""
    rng = np.random.default_rng(17)
    weights = random_weights(rng, 2, 3)
    model, layer = lstm_model(weights, batch_size=3, stateful=True)
    first, later = random_inputs(rng, 3, 2, 2), random_inputs(rng, 5, 2, 2)
    model(first)
    kept = layer_states(layer)
    rows = [2, 0, 0, 1, 2]

    copy = statefulness.rebatch(model, 5, rows=rows)

    _, h, c = reference.stream([first], weights)
    np.testing.assert_allclose(
        to_numpy(copy(later)),
        reference.run("lstm", later, weights, state=[h[rows], c[rows]])[0],
        **TOLERANCE,
        err_msg="the copy's rows did not go on from the chosen rows' states",
    )
    for before, after in zip(kept, layer_states(layer), strict=True):
        np.testing.assert_array_equal(after, before, err_msg="rebatch changed the model's own state")


@pytest.mark.claim("another-batch-size/copy-without-rows-starts-from-zero")
def test_a_copy_of_another_batch_size_without_rows_has_the_weights_and_starts_from_zero_state():
    """Without ``rows``, the copy has the model's weights and a stateful layer of the new batch size, and
    starts from zero state whatever state the model holds: it computes what the NumPy recurrence
    computes from zeros. (That it refuses a batch of another size is chapter 7's claim, for every kind.)"""
    rng = np.random.default_rng(18)
    weights = random_weights(rng, 2, 3)
    model, _ = lstm_model(weights, batch_size=3, stateful=True)
    model(random_inputs(rng, 3, 2, 2))
    x = random_inputs(rng, 1, 2, 2)

    copy = statefulness.rebatch(model, 1)

    assert copy.inputs[0].shape[0] == 1
    assert [layer.stateful for layer in statefulness.stateful_layers(copy)] == [True]
    for mine, theirs in zip(copy.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    np.testing.assert_allclose(to_numpy(copy(x)), reference.lstm(x, *weights)[0], **TOLERANCE)


@pytest.mark.claim("another-batch-size/rebuilt-and-set-weights-starts-from-zero")
def test_the_recipe_rebuild_at_batch_one_and_set_weights_gives_the_weights_but_not_the_state():
    """The recipe of the Keras threads: build the same model for batch size 1 and ``set_weights`` the
    trained one's. The weights come over, the state does not (it is no weight): the rebuilt model starts
    from zero state, so row r's stream starts again from the beginning, not where the model is."""
    rng = np.random.default_rng(19)
    weights = random_weights(rng, 2, 3)
    model, _ = lstm_model(weights, batch_size=3, stateful=True)
    first, later = random_inputs(rng, 3, 2, 2), random_inputs(rng, 3, 2, 2)
    model(first)

    rebuilt, _ = lstm_model(random_weights(rng, 2, 3), batch_size=1, stateful=True)
    rebuilt.set_weights(model.get_weights())

    assert len(rebuilt.get_weights()) == len(model.get_weights())  # the state is no weight
    out = to_numpy(rebuilt(later[1:2]))
    np.testing.assert_allclose(out, reference.lstm(later[1:2], *weights)[0], **TOLERANCE)
    assert not np.allclose(out, to_numpy(model(later))[1:2], **TOLERANCE), "the state came over with the weights"


@pytest.mark.claim("another-batch-size/clone-model-with-batch-one-input")
def test_the_recipe_clone_model_with_an_input_of_batch_one_gives_a_stateful_model_of_batch_one():
    """The other recipe: ``keras.models.clone_model(model, input_tensors=keras.Input(..., batch_size=1))``.
    The clone is a stateful model of batch size 1 with fresh weights (clone_model copies none) and zero
    state; with the trained weights set, it computes what the NumPy recurrence computes from zeros."""
    rng = np.random.default_rng(20)
    weights = random_weights(rng, 2, 3)
    model, _ = lstm_model(weights, batch_size=3, stateful=True)
    model(random_inputs(rng, 3, 2, 2))
    x = random_inputs(rng, 1, 2, 2)

    clone = keras.models.clone_model(model, input_tensors=keras.Input(shape=(None, 2), batch_size=1))
    clone.set_weights(model.get_weights())

    assert clone.inputs[0].shape[0] == 1
    assert [layer.stateful for layer in statefulness.stateful_layers(clone)] == [True]
    np.testing.assert_allclose(to_numpy(clone(x)), reference.lstm(x, *weights)[0], **TOLERANCE)


STEPPABLE = [kind for kind in kinds.BREADTH if kind.id != "LSTM in a custom Layer"]
"""Every kind but the one whose layer hard-codes ``stateful=True`` (no stateless copy of it exists)."""


@pytest.mark.claim("another-batch-size/every-kind-step-model-computes-the-stateful-model")
@pytest.mark.wide
@pytest.mark.parametrize("kind", STEPPABLE, ids=str)
def test_in_every_kind_the_step_model_fed_its_own_states_computes_what_the_stateful_model_computes(kind, examples):
    """In every kind of model, the step model fed chunk after chunk, each with the states it returned for
    the one before (zeros first), returns what the stateful model returns fed the same chunks, and the
    states the stateful model then holds (``step_states``); and one row of it, given that row of the
    states, goes on at batch size 1 as the row goes on in the stateful model."""
    model = kind.build(kinds.BATCH)
    step = statefulness.step_model(model)

    @examples(kind)
    @given(seed=st.integers(0, 2**16), row=st.integers(0, kinds.BATCH - 1))
    @example(seed=0, row=1)
    def check(seed, row):
        kind.set_weights(model, seed)
        step.set_weights(model.get_weights())
        statefulness.reset_states(model)
        *chunks, last = kind.chunks(seed, [kinds.STEPS] * 4)
        states = [np.zeros_like(state) for state in statefulness.step_states(model)]
        for chunk in chunks:
            y, *returned = step([chunk, *states])
            states = [to_numpy(state) for state in returned]
            np.testing.assert_allclose(to_numpy(y), to_numpy(model(chunk)), **TOLERANCE, err_msg=f"{kind}: outputs")
            for got, held in zip(states, statefulness.step_states(model), strict=True):
                np.testing.assert_allclose(got, held, **TOLERANCE, err_msg=f"{kind}: states")
        one = [state[row : row + 1] for state in statefulness.step_states(model)]
        np.testing.assert_allclose(
            to_numpy(step([last[row : row + 1], *one])[0]),
            to_numpy(model(last))[row : row + 1],
            **TOLERANCE,
            err_msg=f"{kind}: row {row} did not go on at batch size 1",
        )

    check()


@pytest.mark.claim("another-batch-size/step-model-holds-no-state-and-the-weights")
def test_the_step_model_holds_no_state_and_the_models_weights_and_any_batch_size_from_zeros_is_the_numpy_lstm():
    """The step model has no stateful layer and the stateful model's weights; fed zeros as its states, it
    computes on a batch of any size what the NumPy recurrence computes from zero state, and returns that
    recurrence's final ``h`` and ``c``."""
    rng = np.random.default_rng(21)
    weights = random_weights(rng, 2, 3)
    model, _ = lstm_model(weights, batch_size=3, stateful=True)
    x = random_inputs(rng, 5, 4, 2)

    step = statefulness.step_model(model)

    assert statefulness.stateful_layers(step) == []
    for mine, theirs in zip(step.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)
    y, h, c = step([x, np.zeros((5, 3), "float32"), np.zeros((5, 3), "float32")])
    for got, want in zip((y, h, c), reference.lstm(x, *weights), strict=True):
        np.testing.assert_allclose(to_numpy(got), want, **TOLERANCE)


@pytest.mark.claim("another-batch-size/no-step-model-of-a-hard-coded-stateful-layer")
def test_no_step_model_is_made_of_a_model_whose_layer_hard_codes_stateful():
    """A user's layer that builds its own stateful LSTM (``kinds.Encoder``) has no stateless copy: the step
    model is refused, with the layer named, rather than made wrong."""
    with pytest.raises(
        ValueError, match=r"model: no stateless twin can be made from the config: layer 'encoder(_\d+)?'"
    ):
        statefulness.step_model(kinds.BY_ID["LSTM in a custom Layer"].build(kinds.BATCH))
