"""Chapter 19 (beyond the source document, which trains without validation): a stateful model validated
inside ``fit``. "Does validation reset my state?" is among the most repeated stateful questions
(keras-team/keras#4185, #2661, #9036). Keras's answer, on every version this spec runs: no. The
validation pass at the end of an epoch runs on the training state as the epoch's last batch left it,
moves it on through the validation samples, and the next epoch trains on from there: validation
samples are fed to the state between the training batches, in every epoch that validates.

That is a trap for the stateful layout, whose rows carry one sequence each from batch to batch: after
validation, row r of the next epoch does not start where row r's training sequence ended. Reset at
every epoch start (``ResetStatesEvery`` or a ``reset_states()`` in ``on_epoch_begin``, as the
tutorial's stateful model does) or keep validation apart: ``statefulness.KeepValidationApart()`` runs
every validation pass from zero state and gives training its own state back.

Each claim feeds a tiny stateful LSTM (2 features, 3 units, batches of 2) with SGD at learning rate 0,
so that ``fit`` moves the state but not the weights, and holds the state that callbacks read at each
event against the NumPy recurrence carried through the batches in the order claimed."""

from __future__ import annotations

import re

import numpy as np
import pytest

import statefulness
from statefulness._keras import BATCH_SIZE_REFUSAL

from . import reference
from .tiny import TOLERANCE, StateLog, assert_state, batches, carried, lstm_model, random_inputs, random_weights

B = 2
"""The stateful batch size of every model of this chapter."""


def setting(seed: int, train: int = 6, validate: int = 4):
    """Weights, a model of batch ``B`` whose ``fit`` moves the state only, and its training and
    validation inputs (targets zero: the loss is the mean square of the outputs)."""
    rng = np.random.default_rng(seed)
    weights = random_weights(rng, 2, 3)
    model, layer = lstm_model(weights, batch_size=B, stateful=True, return_sequences=False)
    return weights, model, layer, random_inputs(rng, train, 2, 2), random_inputs(rng, validate, 2, 2)


def targets(x: np.ndarray) -> np.ndarray:
    return np.zeros((len(x), 3), "float32")


def fit(model, x, **options):
    """``model.fit(x, zero targets, batch_size=B, shuffle=False, verbose=0, **options)``: the batches in order."""
    return model.fit(x, targets(x), batch_size=B, shuffle=False, verbose=0, **options)


def after(weights, *parts: np.ndarray):
    """The state ``[h, c]`` after the batches of ``parts`` in order, carried from zeros."""
    return carried(weights, [chunk for part in parts for chunk in batches(part, B)])


def assert_logged(log: StateLog, event: str, epoch: int, expected, what: str):
    assert_state(log.log[(event, epoch)], expected, f"{what}, at {event} of epoch {epoch}")


def validation_loss(weights, x: np.ndarray, state) -> float:
    """The MSE loss against zero targets of ``x`` fed in batches from ``state`` (``None``: zeros)."""
    outputs = []
    for chunk in batches(x, B):
        out, state = reference.run("lstm", chunk, weights, state)
        outputs.append(out[:, -1])
    return float(np.mean(np.concatenate(outputs) ** 2))


@pytest.mark.claim("validation/validation-starts-from-the-epochs-state")
def test_the_validation_pass_starts_from_the_state_the_epochs_last_training_batch_left():
    """``fit(validation_data=...)`` does not reset before validating: the validation pass of epoch 0
    starts from the state that the epoch's training batches carried from zeros, and its loss is the
    loss of the validation samples fed on from there (not from zero state)."""
    weights, model, layer, x, v = setting(1)
    log = StateLog(layer)

    history = fit(model, x, epochs=1, validation_data=(v, targets(v)), callbacks=[log])

    assert_logged(log, "test_begin", 0, after(weights, x), "the state after the training batches")
    expected = validation_loss(weights, v, after(weights, x))
    np.testing.assert_allclose(history.history["val_loss"][0], expected, **TOLERANCE)
    assert not np.isclose(history.history["val_loss"][0], validation_loss(weights, v, None), **TOLERANCE)


@pytest.mark.claim("validation/next-epoch-trains-on-from-validations-state")
def test_the_next_epoch_trains_on_from_the_state_the_validation_pass_left():
    """The trap: after validating, ``fit`` does not give training its state back. Epoch 1 starts from
    the state the validation samples moved it to (training batches, then validation batches, carried
    from zeros), so row r of epoch 1 does not go on from row r's training sequence."""
    weights, model, layer, x, v = setting(2)
    log = StateLog(layer)

    fit(model, x, epochs=2, validation_data=(v, targets(v)), callbacks=[log])

    assert_logged(log, "epoch_begin", 1, after(weights, x, v), "the state the validation pass left")
    assert_logged(log, "epoch_end", 1, after(weights, x, v, x, v), "training and validation carried on in turn")


@pytest.mark.claim("validation/validation-freq-moves-it-only-when-validating")
def test_with_validation_freq_only_the_epochs_that_validate_feed_the_validation_samples_to_the_state():
    """``validation_freq=2``: epoch 0 does not validate, so epoch 1 starts from the state epoch 0's
    training left; epoch 1 validates, and ends on the validation samples fed after both epochs' batches."""
    weights, model, layer, x, v = setting(3)
    log = StateLog(layer)

    fit(model, x, epochs=2, validation_data=(v, targets(v)), validation_freq=2, callbacks=[log])

    assert ("test_begin", 0) not in log.log, "epoch 0 validated with validation_freq=2"
    assert_logged(log, "epoch_begin", 1, after(weights, x), "the state epoch 0's training left")
    assert_logged(log, "epoch_end", 1, after(weights, x, x, v), "both epochs' batches, then validation")


@pytest.mark.claim("validation/validation-split-holds-out-the-last-samples")
def test_validation_split_trains_on_the_first_samples_and_validates_on_the_last_in_their_order():
    """``validation_split=0.4`` of 10 samples holds out the last 4, in order (before any shuffling):
    training feeds the first 6 and validation then feeds the last 4 to the state, which ends where the
    10 samples carried in their order end."""
    weights, model, layer, x, v = setting(4)
    samples = np.concatenate([x, v])
    log = StateLog(layer)

    fit(model, samples, epochs=1, validation_split=0.4, callbacks=[log])

    assert_logged(log, "test_begin", 0, after(weights, x), "the state after the first 6 samples")
    assert_logged(log, "test_end", 0, after(weights, x, v), "the state after all 10 samples in order")


@pytest.mark.claim("validation/refuses-another-validation-batch-size")
@pytest.mark.parametrize("size", [pytest.param(1, id="fewer rows"), pytest.param(4, id="more rows")])
def test_a_validation_batch_size_other_than_the_stateful_one_is_refused(size):
    """``validation_batch_size`` other than the stateful batch size (1 or 4 for a layer built for 2)
    is refused with this version's words for a batch of another size, as any batch of another size is
    (chapter 7): the validation pass cannot run on a state of another number of rows."""
    _, model, _, x, v = setting(5)
    error, words = BATCH_SIZE_REFUSAL

    with pytest.raises(error, match=words):
        fit(model, x, epochs=1, validation_data=(v, targets(v)), validation_batch_size=size)


@pytest.mark.claim("validation/refuses-an-undivided-validation-set")
def test_a_validation_set_whose_size_the_stateful_batch_size_does_not_divide_is_refused():
    """Validation data of 3 samples for a layer built for batches of 2 is refused, as ``fit`` and
    ``evaluate`` refuse a sample count the batch size does not divide (chapter 7), rather than run a
    last batch of one row against a state of two and leave every row's state changed."""
    _, model, layer, x, v = setting(6, validate=3)
    error, words = BATCH_SIZE_REFUSAL
    log = StateLog(layer)
    try:
        fit(model, x, epochs=1, validation_data=(v, targets(v)), callbacks=[log])
    except error as refusal:
        if not re.search(words, str(refusal)):
            raise
        return
    raise AssertionError(
        "fit validated 3 samples in batches of 2 instead of refusing; the state after validation is "
        f"h = {log.log[('test_end', 0)][0].round(4).tolist()}"
    )


@pytest.mark.claim("validation/keep-validation-apart-restores-the-training-state")
def test_keep_validation_apart_validates_from_zero_state_and_trains_on_as_if_no_validation_ran():
    """With ``statefulness.KeepValidationApart()``, each validation pass starts from zero state (its
    loss is the loss of the validation samples fed from zeros) and each epoch after it trains on from
    the state its training left: the training state is the one a ``fit`` without validation carries."""
    weights, model, layer, x, v = setting(7)
    log = StateLog(layer)

    history = fit(
        model, x, epochs=2, validation_data=(v, targets(v)), callbacks=[statefulness.KeepValidationApart(), log]
    )

    expected = validation_loss(weights, v, None)
    np.testing.assert_allclose(history.history["val_loss"], [expected, expected], **TOLERANCE)
    assert_logged(log, "epoch_begin", 1, after(weights, x), "the state epoch 0's training left")
    assert_logged(log, "epoch_end", 1, after(weights, x, x), "the training batches of both epochs alone")
