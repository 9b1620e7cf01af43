"""Chapter 17 (beyond the source document, whose models predict at the batch size they trained at): a
stateful model at another batch size. A stateful layer keeps one state row per row of the batch it was
built for (chapter 7), so a model trained on batches of 32 refuses one sample. "I trained with batch 32;
how do I predict one sample at a time?" is the most repeated stateful question (keras-team/keras#2322,
#2959, #6767, #1977). The answer is a copy: the same config with another batch size and the same weights.
Its state is not a weight, so the copy starts from zero state, unless the current state of the rows it
continues is copied too: ``statefulness.rebatch(model, B, rows)`` does both with plain Keras calls
(``get_config``, ``from_config``, ``set_weights``, ``Variable.assign``). The claims hold it, and the
recipes users apply by hand, against the model itself fed on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import statefulness
from statefulness import kinds
from statefulness._keras import BATCH_SIZE_REFUSAL, keras, layer_states, to_numpy

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
    computes from zeros, and refuses a batch of the old size (its state has the new number of rows)."""
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
    error, words = BATCH_SIZE_REFUSAL
    with pytest.raises(error, match=words):
        to_numpy(copy(np.zeros((3, 2, 2), "float32")))


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
