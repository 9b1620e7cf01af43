"""Chapter 20 (beyond the source document, which feeds NumPy arrays): a stateful model fed by Keras's
other inputs. Row r of every batch must carry one sequence, so a stateful model depends on the order
in which ``fit`` feeds the batches, and each kind of input has its own rule: a ``tf.data.Dataset``
and a Python generator are fed in their own order (``fit``'s ``shuffle`` is ignored for them); a
``PyDataset`` (Keras 2: ``Sequence``) is fed every batch once per epoch, in a new order unless
``shuffle=False``, with or without worker threads; a repeated dataset with ``steps_per_epoch`` goes on
from one epoch to the next where the last one stopped, not from the dataset's start, and a finite one
shorter than ``steps_per_epoch`` ends each epoch early and starts the next over. "My stateful model
stopped learning when I moved to a Dataset" (tensorflow/tensorflow#15088, #39098) is one of these
rules. ``steps_per_execution`` > 1 runs several batches per call, and trains what one batch per call
trains, calling batch callbacks once per execution.

The claims feed the tiny stateful LSTM of chapter 19 (2 features, 3 units, batches of 2, SGD at
learning rate 0 where only the state is checked) and hold its state against the NumPy recurrence
carried through the batches in the order claimed. The ``tf.data`` claims need TensorFlow and say so
where the env has none (the JAX and PyTorch envs)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from statefulness import _keras
from statefulness._keras import BATCH_SIZE_REFUSAL, keras, layer_states, max_steps_per_execution

from .tiny import (
    TOLERANCE,
    ResetAtEpochBegin,
    StateLog,
    assert_state,
    batches,
    carried,
    lstm_model,
    random_inputs,
    random_weights,
)

B = 2
SHUFFLE_IGNORED = "ignore:`shuffle=True` was passed, but will be ignored"
"""Keras 3's warning that ``fit``'s ``shuffle`` does not reach a dataset or a generator (Keras 2 says nothing)."""
FORK_WARNING = r"ignore:os\.fork\(\) was called:RuntimeWarning"
"""JAX's warning, when worker processes fork it, that a fork of its multithreaded process may deadlock: a
trap of ``use_multiprocessing`` on JAX (the claim is the order the batches are fed in)."""

needs_tf_data = pytest.mark.skipif(_keras.tf_data_missing() is not None, reason=str(_keras.tf_data_missing()))


def setting(seed: int, samples: int = 8):
    rng = np.random.default_rng(seed)
    weights = random_weights(rng, 2, 3)
    model, layer = lstm_model(weights, batch_size=B, stateful=True, return_sequences=False)
    x = random_inputs(rng, samples, 2, 2)
    return weights, model, layer, x, np.zeros((samples, 3), "float32")


def order_fed(weights, chunks, state) -> tuple[int, ...] | None:
    """The order of ``chunks`` whose carried state is ``state``, or None if no order of them gives it."""
    for order in itertools.permutations(range(len(chunks))):
        h, _ = carried(weights, [chunks[i] for i in order])
        if np.allclose(state[0], h, **TOLERANCE):
            return order
    return None


def batched(tf, x, y, batch_size=B, drop_remainder=True):
    """``x`` and ``y`` as a ``tf.data.Dataset`` of batches of ``batch_size``; with ``drop_remainder``, as
    a stateful model should be fed one: the batch dimension is then static (``batch_size``, not None),
    and a partial last batch is dropped."""
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size, drop_remainder=drop_remainder)


@needs_tf_data
@pytest.mark.claim("input-pipelines/dataset-fed-in-its-own-order")
@pytest.mark.filterwarnings(SHUFFLE_IGNORED)
def test_a_tf_data_dataset_is_fed_in_its_own_order_even_with_shuffle_true():
    """``fit(dataset, shuffle=True)`` feeds a batched ``tf.data.Dataset`` in the dataset's order: the
    state ends where the batches carried in that order end. ``shuffle`` does not reach a dataset (it
    must be shuffled in the pipeline, which the stateful layout must not do)."""
    tf = _keras.tensorflow()
    weights, model, layer, x, y = setting(11)

    model.fit(batched(tf, x, y), epochs=1, shuffle=True, verbose=0)

    assert_state(layer_states(layer), carried(weights, batches(x, B)), "the dataset's batches carried in order")


@needs_tf_data
@pytest.mark.claim("input-pipelines/dataset-partial-last-batch-refused")
def test_a_dataset_whose_last_batch_is_partial_is_refused():
    """A dataset of 7 samples batched by 2 without ``drop_remainder`` ends on a batch of one row: ``fit``
    refuses it with this version's words for a batch of another size, as it refuses 7 NumPy samples
    (chapter 7), rather than run one row against a state of two. (``batch(B, drop_remainder=True)`` is
    the pipeline's way to feed only whole batches.)"""
    tf = _keras.tensorflow()
    _, model, _, x, y = setting(12, samples=7)
    error, words = BATCH_SIZE_REFUSAL
    try:
        history = model.fit(batched(tf, x, y, drop_remainder=False), epochs=1, shuffle=False, verbose=0)
    except error as refusal:
        if not re.search(words, str(refusal)):
            raise
        return
    raise AssertionError(f"fit ran a partial last batch (loss {history.history['loss'][-1]:.4g}) instead of refusing")


@needs_tf_data
@pytest.mark.claim("input-pipelines/dataset-of-unknown-batch-size-trains")
@pytest.mark.parametrize("batch_size", [1, 2], ids=["batch 1", "batch 2"])
def test_a_dataset_batched_without_drop_remainder_trains_a_stateful_model_of_its_batch_size(batch_size):
    """``dataset.batch(B)`` without ``drop_remainder`` gives batches whose size is unknown to the graph
    (``None``), even where B divides the samples, as in most pipelines. ``fit`` on it trains a stateful
    model built for B (1 or 2) and carries the state as the NumPy recurrence does over the batches in
    order."""
    tf = _keras.tensorflow()
    rng = np.random.default_rng(19)
    weights = random_weights(rng, 2, 3)
    model, layer = lstm_model(weights, batch_size=batch_size, stateful=True, return_sequences=False)
    x, y = random_inputs(rng, 4, 2, 2), np.zeros((4, 3), "float32")

    model.fit(batched(tf, x, y, batch_size, drop_remainder=False), epochs=1, shuffle=False, verbose=0)

    assert_state(layer_states(layer), carried(weights, batches(x, batch_size)), "the batches carried in order")


@needs_tf_data
@pytest.mark.claim("input-pipelines/repeat-and-steps-per-epoch-go-on")
def test_a_repeated_dataset_with_steps_per_epoch_goes_on_where_the_last_epoch_stopped():
    """``fit(dataset.repeat(), steps_per_epoch=3, epochs=2)`` over a dataset of 4 batches: epoch 1 feeds
    batches 3, 0 and 1 (it goes on from where epoch 0 stopped, across the dataset's end), so an epoch is
    not one pass over the data, and a reset at epoch ends falls in the middle of a pass."""
    tf = _keras.tensorflow()
    weights, model, layer, x, y = setting(13)
    chunks, log = batches(x, B), StateLog(layer)

    model.fit(
        batched(tf, x, y).repeat(),
        epochs=2,
        steps_per_epoch=3,
        shuffle=False,
        verbose=0,
        callbacks=[log],
    )

    assert_state(log.log[("epoch_end", 0)], carried(weights, chunks[:3]), "the state after batches 0, 1, 2")
    assert_state(log.log[("epoch_end", 1)], carried(weights, chunks + chunks[:2]), "batches 0-3, then 0 and 1")


@needs_tf_data
@pytest.mark.filterwarnings("ignore:Your input ran out of data")
@pytest.mark.claim("input-pipelines/run-out-dataset-starts-each-epoch-over")
def test_a_finite_dataset_shorter_than_steps_per_epoch_ends_each_epoch_and_starts_the_next_over():
    """``fit(dataset, steps_per_epoch=3, epochs=2)`` over a finite dataset of 2 batches (no ``repeat()``):
    each epoch ends when the dataset runs out, after its 2 batches, and the next epoch feeds the dataset
    again from its first batch, on from the state the last one left (no reset): the state after the run
    is that of batches 0, 1, 0, 1 carried in order. Keras 3 warns "Your input ran out of data;
    interrupting training" at each epoch's end, and goes on training all the same."""
    tf = _keras.tensorflow()
    weights, model, layer, x, y = setting(29, samples=4)
    chunks, log = batches(x, B), StateLog(layer)

    model.fit(batched(tf, x, y), epochs=2, steps_per_epoch=3, shuffle=False, verbose=0, callbacks=[log])

    assert ("epoch_end", 1) in log.log, "fit stopped when the dataset ran out, after epoch 0"
    assert_state(log.log[("epoch_end", 0)], carried(weights, chunks), "the state after batches 0 and 1")
    assert_state(log.log[("epoch_end", 1)], carried(weights, chunks + chunks), "batches 0 and 1, then 0 and 1")


@pytest.mark.claim("input-pipelines/py-dataset-every-batch-once-shuffled")
@pytest.mark.parametrize(
    "reading",
    [{}, {"workers": 2}, {"workers": 2, "use_multiprocessing": True, "max_queue_size": 1}],
    ids=["default workers", "2 worker threads", "2 worker processes, a queue of 1"],
)
@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffle", "shuffle=False"])
@pytest.mark.filterwarnings(FORK_WARNING)
def test_a_py_dataset_is_fed_every_batch_once_per_epoch_in_a_new_order_unless_shuffle_is_false(
    shuffle, reading, request
):
    """``fit(py_dataset, shuffle=...)`` (Keras 3's ``PyDataset``, Keras 2's ``Sequence``), with the state
    reset at every epoch's start, feeds each of its 4 batches once per epoch: in index order with
    ``shuffle=False``, in a new order (the order of its indices shuffled) in some epoch of 3 by default,
    with or without workers reading ahead (threads, or processes with ``use_multiprocessing``, however
    short their queue: ``max_queue_size``).

    A trap of Keras 2 that costs time, not state: a ``fit`` with workers waits 5 s at every epoch's end
    (``_keras.WORKERS_PAUSE_AT_EPOCH_END``), so there the default tier runs one case with workers (processes,
    shuffled) and ``--wide`` the other three."""
    kept = shuffle and reading.get("use_multiprocessing")  # the one case with workers the default tier runs there
    if _keras.WORKERS_PAUSE_AT_EPOCH_END and reading and not kept and not request.config.getoption("--wide"):
        pytest.skip(
            f"Keras 2 waits {_keras.WORKERS_PAUSE_AT_EPOCH_END:g} s at each epoch's end of a fit with workers: "
            "this case runs under --wide (the shuffled one with worker processes runs here)"
        )
    weights, model, layer, x, y = setting(14)
    chunks, log = batches(x, B), StateLog(layer)
    dataset, options = _keras.py_dataset(len(chunks), lambda i: (chunks[i], y[i * B : (i + 1) * B]), **reading)

    model.fit(dataset, epochs=3, shuffle=shuffle, verbose=0, callbacks=[ResetAtEpochBegin(), log], **options)

    orders = [order_fed(weights, chunks, log.log[("epoch_end", epoch)]) for epoch in range(3)]
    assert None not in orders, f"an epoch did not feed each batch once: orders {orders}"
    in_order = tuple(range(len(chunks)))
    if shuffle:
        assert set(orders) != {in_order}, "fit fed a PyDataset in index order in every epoch with shuffle=True"
    else:
        assert orders == [in_order] * 3, f"shuffle=False fed the batches in the orders {orders}"


@pytest.mark.claim("input-pipelines/generator-fed-in-its-own-order")
@pytest.mark.filterwarnings(SHUFFLE_IGNORED)
def test_a_python_generator_is_fed_in_its_own_order_even_with_shuffle_true():
    """``fit(generator, steps_per_epoch=4, shuffle=True)`` feeds the batches in the order the generator
    yields them: ``shuffle`` cannot reorder a stream it has not seen."""
    weights, model, layer, x, y = setting(15)
    chunks = batches(x, B)

    def generate():
        while True:
            yield from ((chunk, y[: len(chunk)]) for chunk in chunks)

    model.fit(generate(), steps_per_epoch=len(chunks), epochs=1, shuffle=True, verbose=0)

    assert_state(layer_states(layer), carried(weights, chunks), "the generator's batches carried in order")


needs_steps_per_execution = pytest.mark.skipif(
    max_steps_per_execution() == 1, reason="Keras 3 on PyTorch runs one step per call (steps_per_execution 1 only)"
)


def trained(steps_per_execution: int, seed: int):
    """The tiny model trained for 2 epochs on 4 batches (SGD at 0.1 towards random targets), in order,
    with ``steps_per_execution``: its weights and its state."""
    rng = np.random.default_rng(seed)
    weights = random_weights(rng, 2, 3)
    x, y = random_inputs(rng, 8, 2, 2), random_inputs(rng, 8, 3)
    model, layer = lstm_model(weights, batch_size=B, stateful=True, return_sequences=False)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse", steps_per_execution=steps_per_execution
    )
    model.fit(x, y, batch_size=B, epochs=2, shuffle=False, verbose=0)
    return model.get_weights(), layer_states(layer)


@needs_steps_per_execution
@pytest.mark.claim("input-pipelines/steps-per-execution-trains-as-one-step")
def test_several_steps_per_execution_train_the_weights_and_state_of_one_step_per_execution():
    """``compile(steps_per_execution=4)``: the 4 batches of each epoch run in one call, and the model
    ends with the weights and the state that one batch per call gives (float32 round-off apart: the
    batches are the same steps, compiled together)."""
    weights_1, state_1 = trained(1, seed=16)
    weights_4, state_4 = trained(4, seed=16)

    for one, four in zip(weights_1, weights_4, strict=True):
        np.testing.assert_allclose(four, one, **TOLERANCE, err_msg="the weights differ")
    assert_state(state_4, state_1, "the state one step per execution ends in")
    assert not np.allclose(weights_1[0], trained(1, seed=17)[0][0], **TOLERANCE)  # the weights did train


@needs_steps_per_execution
@pytest.mark.claim("input-pipelines/batch-callbacks-once-per-execution")
def test_with_steps_per_execution_batch_callbacks_run_once_per_execution_after_its_last_batch():
    """With ``steps_per_execution=2`` over 4 batches, ``on_train_batch_end`` runs twice, and each time the
    state is the one after that execution's last batch: after 2, then 4 batches. (Which index Keras
    passes differs by version: ``statefulness._keras.batches_done`` turns it into batches run.)"""
    weights, model, layer, x, y = setting(18)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse", steps_per_execution=2)
    seen = []
    on_end = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append((_keras.batches_done(batch, 2), layer_states(layer)))
    )

    model.fit(x, y, batch_size=B, epochs=1, shuffle=False, verbose=0, callbacks=[on_end])

    assert [done for done, _ in seen] == [2, 4]
    chunks = batches(x, B)
    for done, state in seen:
        assert_state(state, carried(weights, chunks[:done]), f"the state after {done} batches")
