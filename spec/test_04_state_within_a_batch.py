"""Chapter 4 (tutorial, "LSTM State Within A Batch"): the tutorial trains the one-char model with all
25 patterns in one ordered batch and reads its success as the LSTM using "the context of the sequence
within the batch". Keras does not work that way: each row of a batch is its own sequence with its own
state; rows never see each other. This chapter settles it (the learning claim in
``test_14_within_batch.py`` shows what the model learns instead)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulness.check import kinds

from .breadth import rule_holds_on_drawn_seeds
from .tiny import TOLERANCE, inputs_strategy, lstm_model, weights_strategy


@st.composite
def batch_case(draw):
    batch, timesteps = draw(st.integers(2, 6)), draw(st.integers(1, 4))
    features, units = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    x = draw(inputs_strategy(batch, timesteps, features))
    others = draw(inputs_strategy(batch, timesteps, features))
    order = draw(st.permutations(range(batch)))
    return draw(weights_strategy(features, units)), x, others, np.array(order)


@pytest.mark.claim("state-within-a-batch/rows-of-a-batch-share-no-state")
@pytest.mark.parametrize("stateful", [False, True], ids=["stateless", "stateful"])
@given(case=batch_case())
def test_rows_of_a_batch_share_no_state(stateful, case):
    """The output for row i of a batch depends on row i alone: reordering the rows reorders the
    outputs, and replacing every other row leaves row i's output as it was."""
    weights, x, others, order = case
    model, layer = lstm_model(weights, batch_size=len(x) if stateful else None, stateful=stateful, shared=True)

    def run(batch):
        if stateful:
            layer.reset_states()
        return model.predict_on_batch(batch)

    out = run(x)
    np.testing.assert_allclose(
        run(x[order]), out[order], **TOLERANCE, err_msg="reordering the rows changed what each row computes"
    )
    for i in range(len(x)):
        mixed = others.copy()
        mixed[i] = x[i]
        np.testing.assert_allclose(
            run(mixed)[i], out[i], **TOLERANCE, err_msg=f"row {i}'s output changed when the other rows changed"
        )


@pytest.mark.claim("state-within-a-batch/every-shape-rows-of-a-batch-share-no-state")
@pytest.mark.wide
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_in_every_shape_the_rows_of_a_batch_share_no_state(kind, examples):
    """In every kind of model, row i's outputs over consecutive batches of a stateful model depend on row
    i alone: reordering the rows of every batch reorders the outputs, and replacing every other row
    leaves row i's outputs as they were (the order and i drawn from the seed). The rule
    ``rows-independent`` of ``statefulness check``."""
    rule_holds_on_drawn_seeds("rows-independent", kind, examples(kind))
