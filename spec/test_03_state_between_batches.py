"""Chapter 3 (Q&A, "Why do we make the difference between stateless and stateful LSTM"): with
``stateful=True`` "the last state for each sample at index i in a batch will be used as initial state
for the sample of index i in the following batch" (the Keras documentation the Q&A quotes). So the
sample at index i of X feeds its state to the sample at index i + bs. Without it, every batch starts
from zero. This chapter checks both through every way users drive a model: direct calls,
``predict_on_batch``, ``predict``, ``fit`` and ``evaluate``, first for the tutorial's LSTM against a NumPy
recurrence, then for every kind of model of ``statefulness.check.kinds`` by the state rules of
``statefulness.check``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from statefulness._keras import layer_states, to_numpy
from statefulness.check import kinds

from . import reference
from .breadth import family_ids, param, rule_holds_on_drawn_seeds
from .tiny import TOLERANCE, inputs_strategy, lstm_model, random_inputs, random_weights, weights_strategy


def interleave(chunks: list[np.ndarray]) -> np.ndarray:
    """The Q&A's layout: chunk k of sequence i at row k * bs + i of X."""
    return np.concatenate(chunks, axis=0)


@st.composite
def chunked_sequences(draw, equal_chunks: bool):
    batch, features, units = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    n_chunks = draw(st.integers(2, 4))
    if equal_chunks:
        lengths = [draw(st.integers(1, 4))] * n_chunks
    else:
        lengths = draw(st.lists(st.integers(1, 4), min_size=n_chunks, max_size=n_chunks))
    chunks = [draw(inputs_strategy(batch, t, features)) for t in lengths]
    return draw(weights_strategy(features, units)), chunks


@pytest.mark.claim("state-between-batches/predict-hands-state-from-i-to-i-plus-batch-size")
@given(chunked_sequences(equal_chunks=True))
def test_predict_hands_the_state_of_sample_i_to_sample_i_plus_batch_size(case):
    """One ``predict`` call over X of n_chunks * bs rows: row i + k * bs continues from the final state
    of row i + (k - 1) * bs, so it computes what the whole sequence i computes through a stateless
    layer (and through the NumPy recurrence) (Q&A: "Xi will be used in the computation of Xi+bs")."""
    weights, chunks = case
    batch, steps = chunks[0].shape[0], chunks[0].shape[1]
    stateful, _ = lstm_model(weights, batch_size=batch, stateful=True, timesteps=steps, shared=True)
    stateless, _ = lstm_model(weights, shared=True)

    out = stateful.predict(interleave(chunks), batch_size=batch, verbose=0)
    joined = np.concatenate(np.split(out, len(chunks)), axis=1)  # back to (batch, all steps, units)
    whole = np.concatenate(chunks, axis=1)

    np.testing.assert_allclose(
        joined, stateless.predict_on_batch(whole), **TOLERANCE, err_msg="stateful chunks != stateless whole sequences"
    )
    np.testing.assert_allclose(
        joined,
        reference.stream(chunks, weights)[0],
        **TOLERANCE,
        err_msg="stateful chunks != NumPy recurrence carried across chunks",
    )


@pytest.mark.claim("state-between-batches/consecutive-chunks-equal-the-whole-sequence")
@pytest.mark.parametrize("call", ["direct call", "predict_on_batch", "predict"])
@given(case=chunked_sequences(equal_chunks=False))
def test_consecutive_chunks_through_a_stateful_layer_equal_the_whole_sequence(call, case):
    """Feeding sequences in consecutive chunks of any lengths, one call per chunk, to a stateful layer
    gives the outputs that the whole sequences give through a stateless one."""
    weights, chunks = case
    batch = chunks[0].shape[0]
    stateful, _ = lstm_model(weights, batch_size=batch, stateful=True, shared=True)
    run = {
        "direct call": lambda x: to_numpy(stateful(x)),
        "predict_on_batch": stateful.predict_on_batch,
        "predict": lambda x: stateful.predict(x, batch_size=batch, verbose=0),
    }[call]
    joined = np.concatenate([run(chunk) for chunk in chunks], axis=1)
    np.testing.assert_allclose(
        joined,
        reference.stream(chunks, weights)[0],
        **TOLERANCE,
        err_msg=f"state was not carried from chunk to chunk through {call}",
    )


@pytest.mark.claim("state-between-batches/fit-and-evaluate-carry-state-batch-to-batch")
@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_fit_and_evaluate_carry_the_state_from_batch_to_batch(method):
    """``fit(shuffle=False)`` and ``evaluate`` over X laid out as in the Q&A leave the layer holding the
    final state of each whole sequence: state went from row i to row i + bs through every batch."""
    rng = np.random.default_rng(3)
    batch, features, units, n_chunks, steps = 3, 2, 4, 5, 2
    weights = random_weights(rng, features, units)
    chunks = [random_inputs(rng, batch, steps, features) for _ in range(n_chunks)]
    model, layer = lstm_model(weights, batch_size=batch, stateful=True, timesteps=steps)
    X = interleave(chunks)
    y = np.zeros((len(X), steps, units), "float32")

    if method == "fit":
        model.fit(X, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    else:
        model.evaluate(X, y, batch_size=batch, verbose=0)

    _, h, c = reference.stream(chunks, weights)
    h_kept, c_kept = layer_states(layer)
    np.testing.assert_allclose(h_kept, h, **TOLERANCE, err_msg=f"h after {method} is not the final h")
    np.testing.assert_allclose(c_kept, c, **TOLERANCE, err_msg=f"c after {method} is not the final c")


@pytest.mark.claim("state-between-batches/stateless-starts-every-batch-from-zero")
@given(chunked_sequences(equal_chunks=True))
def test_a_stateless_layer_starts_every_batch_from_zero_state(case):
    """Without ``stateful=True`` every batch starts from zeros: the outputs of a batch are the same
    whether earlier batches were fed before it in the same ``predict`` call or not at all
    (Q&A: "If the model is stateless, the cell states are reset at each sequence")."""
    weights, chunks = case
    batch = chunks[0].shape[0]
    stateless, _ = lstm_model(weights, shared=True)
    out = stateless.predict(interleave(chunks), batch_size=batch, verbose=0)
    for k, chunk in enumerate(chunks):
        np.testing.assert_allclose(
            out[k * batch : (k + 1) * batch],
            reference.lstm(chunk, *weights)[0],
            **TOLERANCE,
            err_msg=f"batch {k} did not start from zero state",
        )


@pytest.mark.claim("state-between-batches/state-persists-across-predict-calls-until-reset")
def test_state_persists_across_separate_predict_calls_until_reset():
    """The tutorial's generation loop calls ``predict`` once per letter and relies on the state moving
    on between calls: ``predict`` neither resets the state when it starts nor when it ends; only a
    reset does."""
    rng = np.random.default_rng(5)
    weights = random_weights(rng, 1, 3)
    letters = [random_inputs(rng, 1, 1, 1) for _ in range(4)]
    model, layer = lstm_model(weights, batch_size=1, stateful=True, return_sequences=False)

    outputs = [model.predict(x, verbose=0) for x in letters]
    expected = [reference.stream(letters[: k + 1], weights)[1] for k in range(len(letters))]
    np.testing.assert_allclose(
        np.concatenate(outputs),
        np.concatenate(expected),
        **TOLERANCE,
        err_msg="state did not persist across predict calls",
    )

    layer.reset_states()
    np.testing.assert_allclose(
        model.predict(letters[1], verbose=0),
        reference.lstm(letters[1], *weights)[1],
        **TOLERANCE,
        err_msg="after reset_states, predict did not start from zeros",
    )


# Every kind of model users build (statefulness.check.kinds), through every driver: the state rules of
# statefulness.check (spec/breadth.py).


@pytest.mark.claim("state-between-batches/every-shape-carries-state-through-every-driver")
@pytest.mark.wide
@pytest.mark.parametrize("rule", family_ids("carries-state"), ids=param)
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_every_shape_carries_state_row_to_row_through_every_driver_and_never_resets_it_by_itself(
    kind, rule, examples, request
):
    """In every kind of model, and through every driver, the state of row i goes to row i of the next
    batch: within one ``predict``, ``evaluate`` or ``fit(shuffle=False)`` over X laid out as in the Q&A,
    from one call to the next, and from one of ``fit``'s epochs to the next (two epochs of the last
    batch). Keras never resets it by itself (the tutorial's manual resets rest on this), so after the
    batches a direct call on one more batch computes what it computes after the same batches fed by
    direct calls; and direct calls carry the state row by row (the rows reversed, the outputs are the
    same rows reversed). The rule ``carries-state[DRIVER]`` of ``statefulness check``. (Through fit's
    validation pass and fit on a ``tf.data.Dataset``, the default tier runs three kinds whose state code
    differs, ``--wide`` every kind.)"""
    if param(rule) in LOOP_DRIVERS and kind.id not in LOOP_KINDS and not request.config.getoption("--wide"):
        pytest.skip(f"{param(rule)} runs on {', '.join(LOOP_KINDS)} in the default tier, every kind with --wide")
    rule_holds_on_drawn_seeds(rule, kind, examples(kind))


LOOP_DRIVERS = ("fit validation", "fit tf.data")
LOOP_KINDS = ("LSTM", "GRU(reset_after=True)", "RNN(GRUCell, LSTMCell)")
"""The kinds the default tier runs through fit's validation pass and a tf.data input: the LSTM, the GRU
that PyTorch fuses, and nested state."""


@pytest.mark.claim("state-between-batches/every-kind-fed-in-chunks-computes-the-whole")
@pytest.mark.wide
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_every_shape_fed_in_consecutive_chunks_computes_what_its_yardstick_computes_on_the_whole_sequences(
    kind, examples
):
    """In every kind of model, consecutive chunks fed one call each compute, joined in time, what the
    kind's yardstick computes on the whole sequences from zero state: its NumPy recurrence, else its
    stateless twin (for a ``go_backwards`` layer and a ``Bidirectional``, what reading each chunk
    backwards means: ``statefulness.check.kinds``). The rule ``chunks-equal-whole`` of ``statefulness check``."""
    rule_holds_on_drawn_seeds("chunks-equal-whole", kind, examples(kind))
