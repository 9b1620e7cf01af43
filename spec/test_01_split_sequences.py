"""Chapter 1 (Q&A, first question): "I split a big sequence into smaller sequences to construct my
input matrix X. Is it possible that the LSTM may find dependencies between the sequences?" -- "No it's
not possible unless you go for the stateful LSTM", and only if the pieces arrive in order (Keras
shuffles by default).

The exact part: for state to run from piece to piece, piece j of long sequence i must sit at row i of
batch j (``statefulness.stateful_layout``), and the state must be reset where a sequence ends. Fed that
layout, a stateful layer computes exactly what a stateless one computes on the whole sequences.
The learning part (experiment ``split_sequence``): every piece's target is a key seen only at the
start of the first piece; see ``statefulness/tutorial/layout.py``. Default tier: the full schedule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulness.tutorial.layout import join_steps, stateful_layout
from statefulness.tutorial.model import ResetStatesEvery

from . import reference
from .learning import check
from .tiny import TOLERANCE, inputs_strategy, lstm_model, weights_strategy

STATEFUL_VARIANTS = ("split_sequence", "stateful", "stateful_shuffled", "stateful_no_reset")
"""The experiment and its stateful variants, trained once for the three claims about them."""


@st.composite
def long_sequences(draw):
    batch, groups = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pieces, piece_length = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    features, units = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    sequences = draw(inputs_strategy(batch * groups, pieces * piece_length, features))
    return draw(weights_strategy(features, units)), sequences, piece_length, batch


@pytest.mark.claim("split-sequences/stateful-layout-equals-stateless-whole-sequences")
@given(long_sequences())
def test_a_stateful_layer_fed_the_stateful_layout_equals_a_stateless_layer_on_whole_sequences(case):
    """``predict`` over the layout, resetting the state every ``pieces`` batches from a callback, gives
    for every sequence and step what the whole sequence gives from zero state."""
    weights, sequences, piece_length, batch = case
    layout = stateful_layout(sequences, piece_length=piece_length, batch_size=batch)
    model, _ = lstm_model(weights, batch_size=batch, stateful=True, timesteps=piece_length, shared=True)

    rows = model.predict(layout.X, batch_size=batch, verbose=0, callbacks=[ResetStatesEvery(layout.reset_every)])

    np.testing.assert_allclose(
        join_steps(layout.unstack(rows)),
        reference.lstm(sequences, *weights)[0],
        **TOLERANCE,
        err_msg="the stateful layout did not carry state piece to piece",
    )


@pytest.mark.claim("split-sequences/without-reset-next-group-inherits-the-state")
def test_without_the_reset_the_next_group_of_sequences_inherits_the_state():
    """The reset is needed: without it, the first piece of the next group of sequences starts from the
    last state of the previous group, and its outputs differ from the whole sequences'."""
    rng = np.random.default_rng(8)
    weights = [rng.uniform(-1, 1, s).astype("float32") for s in [(1, 8), (2, 8), (8,)]]
    sequences = rng.uniform(-1, 1, (4, 6, 1)).astype("float32")
    layout = stateful_layout(sequences, piece_length=3, batch_size=2)
    model, _ = lstm_model(weights, batch_size=2, stateful=True, timesteps=3)
    rows = model.predict(layout.X, batch_size=2, verbose=0)
    joined = join_steps(layout.unstack(rows))
    expected = reference.lstm(sequences, *weights)[0]
    np.testing.assert_allclose(joined[:2], expected[:2], **TOLERANCE)
    assert not np.allclose(joined[2:], expected[2:], **TOLERANCE), "the second group started from zeros anyway"


@pytest.mark.claim("split-sequences/split_stateless_is_at_chance")
@pytest.mark.learning
def test_a_stateless_lstm_answers_the_later_pieces_at_chance(outcomes, observe):
    """Trained on the pieces, a stateless LSTM answers the first piece (the key is in it) but the later
    ones no better than chance on held-out sequences: nothing reaches them from the first piece."""
    check("split_stateless_is_at_chance", outcomes("split_sequence", "stateless"), observe)


@pytest.mark.claim("split-sequences/split_stateful_learns")
@pytest.mark.learning
def test_a_stateful_lstm_in_order_and_reset_per_sequence_learns_the_later_pieces(outcomes, observe):
    """Trained on the stateful layout, without shuffling, reset after each long sequence, it carries the
    key through the state and answers the later pieces of held-out sequences."""
    check("split_stateful_learns", outcomes(*STATEFUL_VARIANTS), observe)


@pytest.mark.claim("split-sequences/split_shuffled_does_not_learn")
@pytest.mark.learning
def test_the_same_stateful_lstm_trained_with_shuffling_does_not_learn_them(outcomes, observe):
    """Shuffled (Keras's default), the pieces arrive in random rows of random batches: the state carries
    some other sequence's key, and the later pieces stay at chance."""
    check("split_shuffled_does_not_learn", outcomes(*STATEFUL_VARIANTS), observe)


@pytest.mark.claim("split-sequences/split_without_resets_does_worse")
@pytest.mark.learning
def test_the_same_stateful_lstm_trained_without_resets_does_worse(outcomes, observe):
    """Never reset, each group of sequences starts from the previous group's state; the model still sees
    each key, but does measurably worse on the later pieces than with resets."""
    check("split_without_resets_does_worse", outcomes(*STATEFUL_VARIANTS), observe)
