"""Chapter 10: training fast without changing what is trained.

The tutorial trains with ``fit(X, y, epochs=E)``, or for the stateful model with a Python loop of
one-epoch ``fit`` calls and ``reset_states()``. ``statefulness.train`` lays all epochs end to end and
runs them in a single ``fit`` with ``steps_per_execution`` and a callback that resets the state and
the metrics at every epoch boundary (see ``statefulness/tutorial/training.py``). These claims hold the library
to doing the same training: for the same seed and the same order of samples, the same weights and the
same history as the tutorial's way, on short schedules. (The benchmark in ``benchmarks/`` shows the
time it saves.)

The experiments train with XLA where ``XLA_TRAINING`` says it keeps the same seed's weights
(``compile(jit_compile=True)``, TensorFlow's op determinism off), so there these claims are checked both
ways: with XLA, as the experiments train, and without it (``jit_compile=False``: on TensorFlow with op
determinism on, on JAX eagerly)."""

from __future__ import annotations

import numpy as np
import pytest

import statefulness as sf
from statefulness._keras import XLA_BY_DEFAULT, XLA_TRAINING
from statefulness.experiments.workers import run_in_workers
from statefulness.tutorial.training import epoch_orders

pytestmark = pytest.mark.learning

TOLERANCE = {"rtol": 1e-5, "atol": 1e-6}

CASES = {
    # name: framing, dataset options, units, batch size, epochs, shuffle, stateful
    "one_char": ("one_char", {}, 32, 1, 4, True, False),
    "window_timesteps": ("window_timesteps", {}, 32, 1, 3, True, False),
    "stateful": ("one_char", {}, 16, 1, 5, False, True),
    "variable_length": ("variable_length", {"num_samples": 100, "seed": 3}, 32, 1, 3, True, False),
}


WAYS = {"as_the_experiments_train": XLA_TRAINING} | (
    {"without_xla": False} if XLA_TRAINING and not XLA_BY_DEFAULT else {}
)
"""How the models are compiled: as the experiments train (XLA where ``XLA_TRAINING`` says so), and, where
that is XLA, without it too (not on JAX, whose eager mode would take minutes here)."""


@pytest.fixture(params=list(WAYS))
def xla(request):
    return WAYS[request.param]


def _model(dataset, units, batch_size, stateful, xla):
    sf.seed_everything(7, xla=xla)
    return sf.build_model(
        dataset.input_shape,
        dataset.n_classes,
        units=units,
        stateful=stateful,
        batch_size=batch_size if stateful else None,
        jit_compile=xla,
    )


def _assert_same_training(fast, slow, what):
    for i, (a, b) in enumerate(zip(fast.get_weights(), slow.get_weights(), strict=True)):
        np.testing.assert_allclose(a, b, **TOLERANCE, err_msg=f"{what}: weight {i} differs")


@pytest.mark.claim("training/one-fit-trains-as-the-loop-of-one-epoch-fits")
@pytest.mark.parametrize("case", list(CASES))
def test_one_fit_over_all_epochs_trains_as_the_tutorials_loop_of_one_epoch_fits(case, xla):
    """``train`` gives the weights and the per-epoch history that a loop of
    ``fit(X[order], y[order], epochs=1, shuffle=False)`` calls gives, each followed by
    ``reset_states()`` for the stateful model, for the same per-epoch orders."""
    framing, options, units, batch, epochs, shuffle, stateful = CASES[case]
    dataset = sf.make_dataset(framing, **options)

    slow = _model(dataset, units, batch, stateful, xla)
    slow_history = {"loss": [], "accuracy": []}
    for order in epoch_orders(len(dataset), epochs, shuffle=shuffle, seed=11):
        logs = slow.fit(
            dataset.X[order], dataset.y[order], epochs=1, batch_size=batch, shuffle=False, verbose=0
        ).history
        for key in slow_history:
            slow_history[key] += logs[key]
        if stateful:
            sf.reset_states(slow)

    fast = _model(dataset, units, batch, stateful, xla)
    fast_history = sf.train(
        fast, dataset, epochs=epochs, batch_size=batch, shuffle=shuffle, reset="epoch" if stateful else "never", seed=11
    )

    _assert_same_training(fast, slow, case)
    for key in slow_history:
        np.testing.assert_allclose(
            fast_history[key], slow_history[key], **TOLERANCE, err_msg=f"{case}: the {key} history differs"
        )


@pytest.mark.claim("training/several-epochs-per-log-train-as-one-fit")
def test_one_fit_with_several_epochs_per_log_trains_as_the_tutorials_single_fit(xla):
    """For the within-batch recipe (one batch per epoch, no shuffling) the tutorial's own call,
    ``fit(X, y, epochs=E, batch_size=25, shuffle=False)``, and ``train(..., log_every=k)`` give the
    same weights, and each logged value is the mean of the k epochs' values."""
    dataset = sf.make_dataset("one_char")
    slow = _model(dataset, 16, 25, False, xla)
    logs = slow.fit(dataset.X, dataset.y, epochs=40, batch_size=25, shuffle=False, verbose=0).history
    fast = _model(dataset, 16, 25, False, xla)
    history = sf.train(fast, dataset, epochs=40, batch_size=25, shuffle=False, log_every=10)
    _assert_same_training(fast, slow, "within_batch")
    np.testing.assert_allclose(history["loss"], np.mean(np.reshape(logs["loss"], (4, 10)), axis=1), rtol=1e-5)


@pytest.mark.claim("training/same-seed-gives-bit-identical-weights")
def test_the_same_seed_gives_bit_identical_weights(xla):
    """Seeded with ``keras.utils.set_random_seed`` (and op determinism on TensorFlow without XLA), the
    same recipe trained twice in one process gives bit-identical weights."""
    dataset = sf.make_dataset("one_char")
    runs = []
    for _ in range(2):
        model = _model(dataset, 16, 1, False, xla)
        sf.train(model, dataset, epochs=3, seed=5)
        runs.append(model.get_weights())
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b, err_msg="the same seed gave different weights")


@pytest.mark.claim("training/same-seed-bit-identical-in-two-fresh-processes")
def test_the_same_seed_gives_bit_identical_weights_in_two_fresh_processes():
    """Trained as the experiments train (XLA where ``XLA_TRAINING`` says so, one thread), a recipe gives
    bit-identical weights in two fresh processes. The recipe is split_sequence's stateless variant, shortened
    to 5 epochs: its weights change with the number of threads (measured on TensorFlow 2.21 with XLA: one
    thread and two give different weights), so a run that is not reproducible shows here."""
    task = ("split_sequence", {"seed": 7, "epochs": 5, "variants": ("stateless",)})
    first, second = run_in_workers([task, task], 2)
    assert first.xla == XLA_TRAINING
    assert first.weights == second.weights, "two fresh processes gave different weights for the same seed"


@pytest.mark.claim("training/different-seeds-give-different-weights")
def test_different_seeds_give_different_weights():
    """The seed reaches the initial weights: two seeds give different weights (else the test above
    would hold for the wrong reason)."""
    dataset = sf.make_dataset("one_char")
    weights = []
    for seed in (1, 2):
        sf.seed_everything(seed)
        weights.append(sf.build_model(dataset.input_shape, dataset.n_classes, units=4).get_weights()[0])
    assert not np.array_equal(*weights)
