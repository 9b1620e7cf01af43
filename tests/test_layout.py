"""The stateful layout helper: where each piece goes, the inverse, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulness.tutorial.layout import join_steps, split_sequences, stateful_layout


def test_piece_j_of_sequence_i_sits_at_row_i_of_batch_j():
    sequences = np.arange(4 * 6).reshape(4, 6, 1)  # 4 sequences of 6 steps: values encode (sequence, step)
    layout = stateful_layout(sequences, piece_length=2, batch_size=2)
    assert layout.X.shape == (12, 2, 1) and layout.pieces == 3 and layout.reset_every == 3
    batches = layout.X.reshape(6, 2, 2)  # (batch, row, step)
    for group in range(2):
        for piece in range(3):
            for row in range(2):
                np.testing.assert_array_equal(
                    batches[group * 3 + piece, row], sequences[group * 2 + row, 2 * piece : 2 * piece + 2, 0]
                )


@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3))
def test_unstack_and_join_steps_undo_the_layout(batch, groups, pieces, piece_length):
    sequences = np.random.default_rng(0).random((batch * groups, pieces * piece_length, 2))
    targets = np.random.default_rng(1).random((batch * groups, pieces, 3))
    layout = stateful_layout(sequences, targets, piece_length=piece_length, batch_size=batch)
    np.testing.assert_array_equal(join_steps(layout.unstack(layout.X)), sequences)
    np.testing.assert_array_equal(layout.unstack(layout.y), targets)


def test_per_step_targets_are_cut_like_the_inputs():
    sequences = np.zeros((2, 4, 1))
    targets = np.arange(8).reshape(2, 4, 1)
    layout = stateful_layout(sequences, targets, piece_length=2, batch_size=1)
    assert layout.y.shape == (4, 2, 1)
    np.testing.assert_array_equal(layout.y[1, :, 0], [2, 3])


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"sequences": np.zeros((4, 6)), "piece_length": 2, "batch_size": 2}, "sequences: expected shape"),
        ({"sequences": np.zeros((4, 6, 1)), "piece_length": 4, "batch_size": 2}, "piece_length: must divide the 6"),
        (
            {"sequences": np.zeros((4, 6, 1)), "piece_length": 2, "batch_size": 3},
            "batch_size: must divide the 4 sequences",
        ),
        (
            {"sequences": np.zeros((4, 6, 1)), "piece_length": 0, "batch_size": 2},
            "piece_length: expected an integer >= 1",
        ),
        (
            {"sequences": np.zeros((4, 6, 1)), "targets": np.zeros((4, 5)), "piece_length": 2, "batch_size": 2},
            r"targets: expected shape \(4, 3, ...\) or \(4, 6, ...\)",
        ),
    ],
)
def test_counts_that_do_not_fit_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        stateful_layout(**kwargs)


def test_unstack_refuses_the_wrong_number_of_rows():
    layout = stateful_layout(np.zeros((2, 4, 1)), piece_length=2, batch_size=1)
    with pytest.raises(ValueError, match="rows: expected 4 rows"):
        layout.unstack(np.zeros((3, 5)))


def test_split_sequences_puts_the_key_first_and_repeats_it_as_every_pieces_target():
    sequences, targets = split_sequences(10, pieces=3, piece_length=4, classes=2, seed=0)
    assert sequences.shape == (10, 12, 1) and targets.shape == (10, 3, 2)
    keys = targets[:, 0].argmax(-1)
    np.testing.assert_array_equal(sequences[:, 0, 0], np.where(keys == 1, 1.0, -1.0))
    assert np.all(np.abs(sequences[:, 1:]) <= 0.5)
    assert np.all(targets.argmax(-1) == keys[:, None])
