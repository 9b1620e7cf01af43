"""Chapter 6 (Q&A): "By default, Keras shuffles (permutes) the samples in X and the dependencies
between Xi and Xi+1 are lost." ``fit`` shuffles unless told ``shuffle=False``, draws a new order every
epoch, and with it the i -> i + bs pairing of a stateful layer is gone."""

from __future__ import annotations

import numpy as np
import pytest

from statefulness._keras import keras, layer_states, seed_everything, to_numpy
from statefulness.check import chunked_outputs, kinds, whole_outputs

from . import reference
from .tiny import TOLERANCE, lstm_model, random_inputs, random_weights

BATCH, STEPS, FEATURES, UNITS, CHUNKS = 2, 2, 1, 3, 6


def _setting():
    """Two sequences cut into six chunks, laid out as the Q&A says (chunk k of sequence i at row
    k * bs + i), and a stateful layer that carries state over a ``fit`` and then holds the final one."""
    rng = np.random.default_rng(21)
    weights = random_weights(rng, FEATURES, UNITS)
    chunks = [random_inputs(rng, BATCH, STEPS, FEATURES) for _ in range(CHUNKS)]
    X = np.concatenate(chunks)
    y = np.zeros((len(X), STEPS, UNITS), "float32")
    model, layer = lstm_model(weights, batch_size=BATCH, stateful=True, timesteps=STEPS)
    return weights, chunks, X, y, model, layer


def _paired(layer, chunks, weights) -> bool:
    """Does the layer hold the state that the chunks give when fed in order, row i to row i + bs?"""
    _, h, c = reference.stream(chunks, weights)
    kept = layer_states(layer)
    return np.allclose(kept[0], h, **TOLERANCE) and np.allclose(kept[1], c, **TOLERANCE)


def _sgd_model(seed=0):
    """A stateless Dense model trained by plain SGD: after one epoch its weights depend on the order in
    which the samples came (each step moves the weights the next gradient is taken at)."""
    seed_everything(seed)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, activation="tanh")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    return model


def _in_order(model, X, y, batch_size):
    """The weights after training on the batches of X in their order, one ``train_on_batch`` each."""
    for start in range(0, len(X), batch_size):
        model.train_on_batch(X[start : start + batch_size], y[start : start + batch_size])
    return model.get_weights()


def _order_data():
    rng = np.random.default_rng(22)
    return rng.uniform(-1, 1, (12, 3)).astype("float32"), rng.uniform(-1, 1, (12, 2)).astype("float32")


@pytest.mark.claim("shuffling/shuffle-false-feeds-the-samples-in-order")
def test_shuffle_false_feeds_the_samples_in_order():
    """``fit(shuffle=False)`` takes the batches in the order of X: its weights are those of
    ``train_on_batch`` on each batch in turn."""
    X, y = _order_data()
    fitted = _sgd_model()
    fitted.fit(X, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(fitted.get_weights(), _in_order(_sgd_model(), X, y, 2), strict=True):
        np.testing.assert_allclose(a, b, **TOLERANCE, err_msg="shuffle=False did not keep the order of X")


@pytest.mark.claim("shuffling/fit-shuffles-by-default")
def test_fit_shuffles_by_default():
    """Called without ``shuffle``, ``fit`` takes the samples in another order than X's: its weights
    are not those of training in order. (A random order equals X's with chance 1 in 12!.)"""
    X, y = _order_data()
    fitted = _sgd_model()
    fitted.fit(X, y, batch_size=2, epochs=1, verbose=0)
    in_order = _in_order(_sgd_model(), X, y, 2)
    assert not all(np.allclose(a, b, **TOLERANCE) for a, b in zip(fitted.get_weights(), in_order, strict=True)), (
        "fit kept the order of X although shuffling is the default"
    )


@pytest.mark.claim("shuffling/shuffle-false-keeps-the-i-to-i-plus-bs-pairing")
def test_shuffle_false_keeps_the_i_to_i_plus_bs_pairing_of_a_stateful_layer():
    """With ``shuffle=False``, a stateful layer trained over X laid out as in the Q&A ends holding the
    final state of each whole sequence."""
    weights, chunks, X, y, model, layer = _setting()
    model.fit(X, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert _paired(layer, chunks, weights), "shuffle=False did not keep the pairing of row i and row i + bs"


@pytest.mark.claim("shuffling/shuffling-breaks-the-i-to-i-plus-bs-pairing")
def test_shuffling_breaks_the_i_to_i_plus_bs_pairing_of_a_stateful_layer():
    """With shuffling (the default), the rows arrive in another order and the layer's final state is not
    the one the ordered sequences give: the dependencies between Xi and Xi+bs are lost."""
    seed_everything(0)
    weights, chunks, X, y, model, layer = _setting()
    model.fit(X, y, batch_size=BATCH, epochs=1, verbose=0)
    assert np.any(layer_states(layer)[0] != 0), "fit did not move the stored state at all"
    assert not _paired(layer, chunks, weights), "the pairing survived shuffling"


@pytest.mark.claim("shuffling/new-order-every-epoch-also-in-a-seeded-run")
def test_fit_draws_a_new_order_every_epoch_also_in_a_seeded_run():
    """Shuffling happens per epoch, also in a run seeded with ``keras.utils.set_random_seed`` (as every
    reproducible run is): with the state reset at the start of each epoch, two epochs of the same data
    end in different states, because they saw the samples in different orders."""
    seed_everything(0)
    weights, chunks, X, y, model, layer = _setting()
    ends = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: layer.reset_states(),
        on_epoch_end=lambda epoch, logs: ends.append(layer_states(layer)[0]),
    )
    model.fit(X, y, batch_size=BATCH, epochs=2, shuffle=True, verbose=0, callbacks=[callback])
    assert not np.allclose(ends[0], ends[1], **TOLERANCE), "both epochs saw the samples in the same order"


@pytest.mark.claim("shuffling/every-shape-shuffling-breaks-the-pairing")
@pytest.mark.wide
@pytest.mark.parametrize("kind", kinds.BREADTH, ids=str)
def test_in_every_shape_shuffling_breaks_the_i_to_i_plus_bs_pairing(kind):
    """In every kind of model, ``fit`` with shuffling over X laid out as in the Q&A still carries state
    from batch to batch, but between rows that do not belong together: a direct call on one more chunk
    afterwards computes neither what the ordered sequences give nor what zero state gives (the yardstick
    of ``statefulness.check``: the kind's NumPy recurrence, else its stateless twin)."""
    seed_everything(0)
    model = kind.build(kinds.BATCH)
    kind.set_weights(model, 23)
    yardstick = {"oracle": reference.oracle(kind), "custom_objects": kinds.CUSTOM_OBJECTS}
    *fed, probe = kind.chunks(23, [kinds.STEPS] * 6)
    in_order = chunked_outputs(model, [*fed, probe], **yardstick)[:, -kinds.STEPS :]
    cold = whole_outputs(model, probe, **yardstick)
    X = np.concatenate(fed)
    model.fit(X, np.zeros((len(X), *in_order.shape[1:]), "float32"), batch_size=kinds.BATCH, epochs=1, verbose=0)

    out = to_numpy(model(probe))
    assert not np.allclose(out, cold, **TOLERANCE), f"{kind}: fit carried no state at all"
    assert not np.allclose(out, in_order, **TOLERANCE), f"{kind}: the pairing survived shuffling"
