"""``statefulness run --jobs N``: the experiments trained in worker processes of one thread each, a worker
training one run after another, give what they give trained one after another in this process."""

from __future__ import annotations

import builtins
import os

import pytest

from statefulness._keras import BACKEND, KERAS_VERSION
from statefulness.deviations import deviation_for
from statefulness.experiments import workers

pytestmark = pytest.mark.learning

SHORT = {
    "one_char": {"epochs": 40},
    "variable_length": {"epochs": 2},
    "within_batch": {"epochs": 100},
    "stateful": {"epochs": 30},
    "split_sequence": {"epochs": 5, "variants": ("stateless", "stateful")},
}
"""Every kind of experiment (stateless, one batch, variable length, stateful, split sequences), shortened;
of split sequences a stateless and a stateful variant (the other two differ from the stateful one in their
settings only). Compilation, not the epochs, is what the test costs: each run is traced in this process
and again in a worker."""

_STATEFUL_FIT = "stateful/stateful_learns"  # the claim id of chapter 15's stateful LSTM trained with fit
_FIT = deviation_for(_STATEFUL_FIT, KERAS_VERSION, BACKEND)
FIT_OF_A_STATEFUL_LSTM_RAISES = None if _FIT is None else (_FIT[1].raises or _FIT[0].raises)
"""The error with which ``fit`` of a stateful LSTM fails here (a known deviation: PyTorch), or None."""
_STATELESS = ["one_char", "within_batch", "variable_length"]
_STATEFUL = ["stateful", "split_sequence"]
GROUPS = (
    {"every kind": _STATELESS + _STATEFUL}
    if FIT_OF_A_STATEFUL_LSTM_RAISES in (None, "AssertionError")
    else {  # the stateless kinds apart, so that they are checked where the stateful ones cannot train
        "stateless": _STATELESS,
        "stateful": pytest.param(
            _STATEFUL,
            marks=pytest.mark.xfail(
                raises=getattr(builtins, FIT_OF_A_STATEFUL_LSTM_RAISES, RuntimeError),
                strict=True,
                reason=f"fit cannot train a stateful LSTM here: {_FIT and _FIT[0].id}",
            ),
        ),
    }
)
"""The runs of the test below: every kind in one call, so that the workers are started once (each loads
the backend: seconds), or, where ``fit`` cannot train a stateful LSTM (a known deviation), in two."""


@pytest.mark.parametrize("names", list(GROUPS.values()), ids=list(GROUPS))
def test_two_jobs_give_the_figures_weights_and_histories_of_one_job(names):
    """The runs in two workers (``run_experiments``, what ``statefulness run --jobs 2`` trains with): a
    worker trains two of them or more, one after the other, and each run gives what it gives trained in
    this process, bit for bit."""
    tasks = [(name, {"seed": 7, "full": False} | SHORT[name]) for name in names]
    one = workers.run_experiments(tasks, 1)
    two = workers.run_experiments(tasks, 2)
    assert [o.experiment for o in two] == names, "the outcomes come back in the order asked"
    for a, b in zip(one, two, strict=True):
        assert (a.epochs, a.figures, a.predictions) == (b.epochs, b.figures, b.predictions), a.experiment
        assert a.history == b.history, a.experiment
        assert a.weights == b.weights, f"{a.experiment}: not bit-identical in a one-thread worker"


def test_the_default_is_the_cores_available_and_one_under_pytest_xdist(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    assert workers.default_jobs() == len(os.sched_getaffinity(0))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    assert workers.default_jobs() == 1


def test_a_worker_sets_one_thread_before_it_loads_a_backend(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_dump_to=/nowhere")
    for key in workers.ONE_THREAD:
        if key != "XLA_FLAGS":
            monkeypatch.delenv(key, raising=False)
    workers.one_thread()
    workers.one_thread()  # twice (the spec's conftest, then statefulness run): the same
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == os.environ["OMP_NUM_THREADS"] == "1"
    assert os.environ["XLA_FLAGS"] == "--xla_dump_to=/nowhere --xla_cpu_multi_thread_eigen=false"


@pytest.mark.parametrize("jobs", [0, -1, 1.5, "2"])
def test_jobs_must_be_a_positive_integer(jobs):
    with pytest.raises((ValueError, TypeError), match="jobs"):
        workers.run_in_workers([("one_char", {"epochs": 1})], jobs)


def test_an_error_in_a_worker_comes_back_as_that_error():
    with pytest.raises(ValueError, match="experiment: expected one of"):
        workers.run_in_workers([("no_such_experiment", {})], 2)  # one task: one worker started, not two
