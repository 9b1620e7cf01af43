"""Chapter 6 (Q&A): "By default, Keras shuffles (permutes) the samples in X and the dependencies
between Xi and Xi+1 are lost." ``fit`` shuffles unless told ``shuffle=False``, draws a new order every
epoch, and with it the i -> i + bs pairing of a stateful layer is gone."""

from __future__ import annotations

import numpy as np

from statefulness._keras import keras, layer_states, seed_everything

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


def test_shuffle_false_keeps_the_order_so_the_pairing_holds():
    """With ``shuffle=False``, ``fit`` feeds X in order and the layer ends holding the final state of
    each whole sequence."""
    weights, chunks, X, y, model, layer = _setting()
    model.fit(X, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0)
    assert _paired(layer, chunks, weights), "shuffle=False did not keep the order of the samples"


def test_fit_shuffles_by_default_and_the_pairing_is_lost():
    """Called without ``shuffle``, ``fit`` permutes the samples: the layer's final state is not the
    one the ordered sequences give. (With 12 samples, the chance that a random order leaves the rows
    in place is 1 in 12!; the seed is fixed.)"""
    seed_everything(0)
    weights, chunks, X, y, model, layer = _setting()
    model.fit(X, y, batch_size=BATCH, epochs=1, verbose=0)
    assert not _paired(layer, chunks, weights), "fit kept the order although shuffling is the default"


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
