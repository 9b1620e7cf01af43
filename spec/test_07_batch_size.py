"""Chapter 7 (Q&A, "Why do Keras require the batch size in stateful mode?"): a stateful layer stores
its state in an array of shape (batch_size, units), so it must know the batch size when it is built,
and "your batch size divides nb_samples". This chapter pins how each Keras version declares the batch
size, how it refuses a stateful layer without one, and what it does with batches of another size."""

from __future__ import annotations

import re

import numpy as np
import pytest

from statefulness._keras import BATCH_SIZE_REFUSAL, KERAS_MAJOR, keras, layer_states, to_numpy
from statefulness.check import kinds

from .breadth import family_ids, param, rule_holds
from .tiny import lstm_model, random_inputs, random_weights

# What each Keras major version raises for a stateful layer without a batch size: type and the
# essential words of the message (read from Keras's sources, keras/src/layers/rnn/rnn.py).
MISSING_BATCH_SIZE_ERROR = {
    2: (ValueError, "If a RNN is stateful, it needs to know its batch size"),
    3: (ValueError, "When using `stateful=True` in a RNN, the batch size must be static"),
}


@pytest.mark.claim("batch-size/stateful-layer-needs-a-batch-size")
def test_a_stateful_layer_without_a_batch_size_cannot_be_built():
    """Building a stateful LSTM on an input whose batch size is unknown raises, with this version's
    words (Q&A: "Keras may raise an error to remind you")."""
    error, words = MISSING_BATCH_SIZE_ERROR[KERAS_MAJOR]
    inputs = keras.Input(shape=(3, 1))
    with pytest.raises(error, match=words.replace("`", ".")):
        keras.layers.LSTM(4, stateful=True)(inputs)


@pytest.mark.claim("batch-size/input-batch-size-declares-it-in-every-version")
def test_input_batch_size_declares_the_batch_size_in_every_version():
    """``keras.Input(shape=(timesteps, features), batch_size=B)`` declares it in Keras 2 and 3 alike:
    the layer then stores one state row per sample of the batch, shape (B, units)."""
    model, layer = lstm_model(random_weights(np.random.default_rng(0), 1, 4), batch_size=3, stateful=True)
    assert [s.shape for s in layer_states(layer)] == [(3, 4), (3, 4)]


@pytest.mark.claim("batch-size/tutorials-batch-input-shape-declares-it")
def test_the_tutorials_batch_input_shape_declares_the_batch_size():
    """The tutorial declares it on the layer, ``LSTM(16, batch_input_shape=(1, 1, 1), stateful=True)``,
    and the layer stores state of shape (1, 16)."""
    model = keras.Sequential([keras.layers.LSTM(16, batch_input_shape=(1, 1, 1), stateful=True)])
    model.predict_on_batch(np.zeros((1, 1, 1), "float32"))
    assert [s.shape for s in layer_states(model.layers[0])] == [(1, 16), (1, 16)]


@pytest.mark.claim("batch-size/stateful-model-refuses-a-batch-of-another-size")
@pytest.mark.parametrize("rows", [1, 3], ids=["fewer rows", "more rows"])
@pytest.mark.parametrize("call", ["direct call", "predict_on_batch"])
def test_a_stateful_model_refuses_one_batch_of_another_size(call, rows):
    """A stateful model built for batches of 2 raises when one call feeds it a batch of another size,
    with this version's words: its stored state has 2 rows."""
    model, _ = lstm_model(random_weights(np.random.default_rng(1), 1, 4), batch_size=2, stateful=True)
    x = np.zeros((rows, 3, 1), "float32")
    run = model.predict_on_batch if call == "predict_on_batch" else model
    error, words = BATCH_SIZE_REFUSAL
    with pytest.raises(error, match=words):
        to_numpy(run(x))


@pytest.mark.claim("batch-size/predict-refuses-a-larger-batch-size")
def test_predict_refuses_a_batch_size_larger_than_the_stateful_one():
    """``predict(x, batch_size=4)`` on a model built for batches of 2 raises, with this version's words."""
    model, _ = lstm_model(random_weights(np.random.default_rng(2), 1, 4), batch_size=2, stateful=True)
    error, words = BATCH_SIZE_REFUSAL
    with pytest.raises(error, match=words):
        model.predict(np.zeros((4, 3, 1), "float32"), batch_size=4, verbose=0)


@pytest.mark.claim("batch-size/predict-returns-one-row-per-sample-undivided")
@pytest.mark.parametrize("samples", [3, 5])
def test_predict_returns_one_row_per_sample_even_when_the_batch_size_does_not_divide_them(samples, observe):
    """``predict`` on a stateful model whose batch size (2) does not divide the samples either refuses,
    with this version's words for a batch of another size, or returns one output row per sample
    (``predict``'s contract). Any other exception is not a refusal and fails the claim as itself."""
    model, _ = lstm_model(
        random_weights(np.random.default_rng(3), 1, 4), batch_size=2, stateful=True, return_sequences=False
    )
    x = random_inputs(np.random.default_rng(4), samples, 3, 1)
    error, words = BATCH_SIZE_REFUSAL
    try:
        out = model.predict(x, batch_size=2, verbose=0)
    except error as refusal:
        if not re.search(words, str(refusal)):
            raise
        observe("refused with", type(refusal).__name__)
        return  # refusing is as good as answering correctly
    observe("rows_returned", len(out))
    assert len(out) == samples, f"predict returned {len(out)} rows for {samples} samples"


@pytest.mark.claim("batch-size/fit-and-evaluate-refuse-an-undivided-sample-count")
@pytest.mark.parametrize("method", ["fit", "evaluate"])
def test_fit_and_evaluate_refuse_a_sample_count_the_stateful_batch_size_does_not_divide(method, observe):
    """The Q&A's rule, "your batch size divides nb_samples", enforced: ``fit`` and ``evaluate`` on a
    stateful model built for batches of 2 raise on 5 samples, with this version's words for a batch of
    another size, rather than run a last batch of one row against a state of two."""
    model, _ = lstm_model(
        random_weights(np.random.default_rng(5), 1, 4), batch_size=2, stateful=True, return_sequences=False
    )
    x, y = random_inputs(np.random.default_rng(6), 5, 3, 1), np.zeros((5, 4), "float32")
    error, words = BATCH_SIZE_REFUSAL
    try:
        result = getattr(model, method)(x, y, batch_size=2, verbose=0)
    except error as refusal:
        if not re.search(words, str(refusal)):
            raise
        observe("refused with", type(refusal).__name__)
        return
    loss = result.history["loss"][-1] if method == "fit" else result
    observe("ran, loss", loss)
    raise AssertionError(f"{method} ran on 5 samples in batches of 2 (loss {loss:.4g}) instead of refusing")


@pytest.mark.claim("batch-size/every-kind-needs-a-batch-size")
@pytest.mark.wide
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_a_stateful_layer_of_any_kind_without_a_batch_size_cannot_be_built(kind):
    """In every layer kind and model shape (wrapped, stacked, nested, inside a user's layer), a stateful
    recurrent layer on an input whose batch size is unknown raises, with this version's words."""
    error, words = MISSING_BATCH_SIZE_ERROR[KERAS_MAJOR]
    with pytest.raises(error, match=words.replace("`", ".")):
        kind.build(None)


@pytest.mark.claim("batch-size/every-shape-refuses-a-batch-of-another-size")
@pytest.mark.wide
@pytest.mark.parametrize("rule", family_ids("refuses-other-batch-size"), ids=param)
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_every_shape_refuses_one_batch_of_another_size(kind, rule):
    """In every kind of model, a stateful model built for batches of 3 raises, with this version's words,
    when a direct call or ``predict_on_batch`` feeds it a batch of one row (what predicting one sample
    feeds) or of one row more: its stored state has 3 rows. The rule ``refuses-other-batch-size[...]`` of
    ``statefulness check``."""
    rule_holds(rule, kind, kind.build(kinds.BATCH), 0)
