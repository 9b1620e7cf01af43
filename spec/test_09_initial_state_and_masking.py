"""Chapter 9 (beyond the source document): a stateful layer called with ``initial_state``, and a stateful
layer behind ``Masking`` fed pre-padded sequences (the tutorial's variable-length framing, made stateful).

Which state a call starts from, the stored one or the given one, and what the layer stores afterwards,
decide what a model computes after an upgrade; so does whether padding moves the state. The
``initial_state`` claims run over every layer kind that is one recurrent layer (the layer called
directly, its yardstick the same layer with its stored state set to the given one); the masking claims
over every layer kind with a NumPy recurrence (``spec/reference.py``), their yardstick."""

from __future__ import annotations

import numpy as np
import pytest

from statefulness._keras import keras, layer_states, state_variables, to_numpy, to_tensor
from statefulness.check import kinds

from . import reference
from .tiny import TOLERANCE


def _one_recurrent_layer(shape) -> bool:
    layers = shape.layers(False)
    return len(layers) == 1 and isinstance(layers[0], (keras.layers.RNN, keras.layers.Bidirectional))


ONE_LAYER = [shape for shape in kinds.BREADTH if _one_recurrent_layer(shape)]
"""The layer kinds that are one recurrent layer (not stacked, not inside a nested model or a user's layer)."""
WITH_REFERENCE = [shape for shape in kinds.BREADTH if shape.oracle is not None]


def recurrent(layer) -> list:
    """The layer's recurrent layers in ``initial_state``'s order: a ``Bidirectional``'s forward, then
    backward."""
    return [layer.forward_layer, layer.backward_layer] if isinstance(layer, keras.layers.Bidirectional) else [layer]


def stored_states(layer) -> list[np.ndarray]:
    """Every stored state of the layer, flattened."""
    return [s for rnn in recurrent(layer) for s in layer_states(rnn)]


def store(layer, values) -> None:
    variables = [v for rnn in recurrent(layer) for v in state_variables(rnn)]
    for variable, value in zip(variables, values, strict=True):
        variable.assign(value)


def as_initial_state(layer, values):
    """``values`` (flattened) in the structure ``layer(x, initial_state=...)`` takes: the layer's own
    state structure for an ``RNN`` (nested per cell for a list of cells), a flat list for a wrapper."""
    leaves = iter(to_tensor(v) for v in values)

    def like(structure):
        return [like(part) for part in structure] if isinstance(structure, (list, tuple)) else next(leaves)

    return like(layer.states) if isinstance(layer, keras.layers.RNN) else list(leaves)


def call_with_initial_state(shape, stored_not_zero: bool):
    """A stateful one-layer model of ``shape`` with drawn weights, its stored state zero or moved by a
    first batch, called with a drawn ``initial_state``. Returns what the call gave and stored, and
    what the layer gives and stores from the given state and from the stored one."""
    model = shape.build(kinds.BATCH)
    shape.set_weights(model, 0)
    layer = model.layers[-1]
    first, x = shape.chunks(0, [kinds.STEPS, kinds.STEPS])
    if stored_not_zero:
        model(first)
    before = stored_states(layer)
    rng = np.random.default_rng(1)
    given = [rng.uniform(-1, 1, s.shape).astype("float32") for s in before]

    out = to_numpy(layer(x, initial_state=as_initial_state(layer, given)))
    after = stored_states(layer)
    store(layer, given)
    from_given = to_numpy(layer(x)), stored_states(layer)
    store(layer, before)
    from_stored = to_numpy(layer(x)), stored_states(layer)
    return out, after, from_given, from_stored


def _starts_from(out, from_given, from_stored) -> str:
    for name, (expected, _) in (("the given state", from_given), ("the stored state", from_stored)):
        if np.allclose(out, expected, **TOLERANCE):
            return name
    return "neither"


@pytest.mark.claim("initial-state-and-masking/initial-state-used-when-stored-state-is-zero")
@pytest.mark.wide
@pytest.mark.parametrize("shape", ONE_LAYER, ids=str)
def test_a_stateful_layer_called_with_an_initial_state_starts_from_it_when_its_stored_state_is_zero(shape, observe):
    """Reset (stored state zero) and called with ``initial_state``, a stateful layer computes what it
    computes from the given state."""
    out, _, from_given, from_stored = call_with_initial_state(shape, stored_not_zero=False)
    observe("starts from", _starts_from(out, from_given, from_stored))
    np.testing.assert_allclose(out, from_given[0], **TOLERANCE, err_msg=f"{shape}: not from the given state")


@pytest.mark.claim("initial-state-and-masking/initial-state-used-when-stored-state-is-not-zero")
@pytest.mark.wide
@pytest.mark.parametrize("shape", ONE_LAYER, ids=str)
def test_a_stateful_layer_called_with_an_initial_state_starts_from_it_even_when_its_stored_state_is_not_zero(
    shape, observe
):
    """With a stored state that a batch has moved, a call with ``initial_state`` still starts from the
    given state: the argument wins over the stored state."""
    out, _, from_given, from_stored = call_with_initial_state(shape, stored_not_zero=True)
    observe("starts from", _starts_from(out, from_given, from_stored))
    np.testing.assert_allclose(out, from_given[0], **TOLERANCE, err_msg=f"{shape}: not from the given state")


@pytest.mark.claim("initial-state-and-masking/stores-the-end-state-of-an-initial-state-call")
@pytest.mark.wide
@pytest.mark.parametrize("shape", ONE_LAYER, ids=str)
def test_after_a_call_with_an_initial_state_the_layer_stores_the_state_that_call_ended_in(shape):
    """After the call with ``initial_state`` (from a reset layer), the stored state is the state the
    call ended in, the one the next batch continues from: ``initial_state`` is not a one-off."""
    _, after, from_given, _ = call_with_initial_state(shape, stored_not_zero=False)
    for stored, expected in zip(after, from_given[1], strict=True):
        np.testing.assert_allclose(stored, expected, **TOLERANCE, err_msg=f"{shape}: stored state")


PADDING = (0, 2, 3)
"""Leading padded steps of each of the 3 rows of a chunk of 3 steps: none, some, all of them."""


def masked_run(shape, padded_chunk: int):
    """A stateful ``Masking -> layer`` model of ``shape`` fed two chunks of 3 steps, the row ``r`` of
    chunk ``padded_chunk`` pre-padded with ``PADDING[r]`` zero steps. Returns, per chunk, the outputs and
    the stored states, and the NumPy recurrence's on the same steps with the padded ones left out."""
    inputs = keras.Input(shape=(None, *shape.features), batch_size=kinds.BATCH)
    layer = shape.layers(True)[-1]
    model = keras.Model(inputs, layer(keras.layers.Masking(mask_value=0.0)(inputs)))
    shape.set_weights(model, 0)
    chunks = shape.chunks(2, [3, 3])
    for row, pad in enumerate(PADDING):
        chunks[padded_chunk][row, :pad] = 0.0
    weights = model.get_weights()
    got, expected, state = [], [], None
    for chunk in chunks:
        got.append((to_numpy(model(chunk)), stored_states(layer)))
        outs, finals = [], []
        for row in range(kinds.BATCH):
            pad = PADDING[row] if chunk is chunks[padded_chunk] else 0
            row_state = None if state is None else [s[row : row + 1] for s in state]
            out, final = reference.run(shape.oracle, chunk[row : row + 1, pad:], weights, row_state)
            outs.append(out[0])
            finals.append(final)
        expected.append((outs, [np.concatenate(parts) for parts in zip(*finals, strict=True)]))
        state = expected[-1][1]
    return got, expected


def assert_masked_steps_leave_the_state(shape, padded_chunk: int) -> None:
    got, expected = masked_run(shape, padded_chunk)
    for k, ((out, stored), (outs, finals)) in enumerate(zip(got, expected, strict=True)):
        for row, row_out in enumerate(outs):
            pad = PADDING[row] if k == padded_chunk else 0
            np.testing.assert_allclose(
                out[row, pad:], row_out, **TOLERANCE, err_msg=f"{shape}: chunk {k}, row {row}: outputs"
            )
        for value, want in zip(stored, finals, strict=True):
            np.testing.assert_allclose(value, want, **TOLERANCE, err_msg=f"{shape}: chunk {k}: stored state")


@pytest.mark.claim("initial-state-and-masking/masked-pre-padded-steps-leave-state-unchanged")
@pytest.mark.wide
@pytest.mark.parametrize("shape", WITH_REFERENCE, ids=str)
def test_masked_steps_of_a_pre_padded_batch_leave_the_state_unchanged(shape):
    """Behind ``Masking``, a first batch whose rows are pre-padded (no steps, some, all of them masked)
    leaves each row's state where its unmasked steps take it from zero (a fully masked row: zero), and
    the next batch continues from there."""
    assert_masked_steps_leave_the_state(shape, padded_chunk=0)


@pytest.mark.claim("initial-state-and-masking/masked-steps-leave-carried-state-unchanged")
@pytest.mark.wide
@pytest.mark.parametrize("shape", WITH_REFERENCE, ids=str)
def test_masked_steps_leave_the_state_carried_from_the_previous_batch_unchanged(shape):
    """Behind ``Masking``, a batch whose rows are pre-padded continues each row from the state the
    previous batch left, through its unmasked steps only: a fully masked row keeps that state as it was."""
    assert_masked_steps_leave_the_state(shape, padded_chunk=1)
