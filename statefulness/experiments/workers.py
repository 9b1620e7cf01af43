"""Train experiments in parallel worker processes, one thread each.

The workers are spawned (never forked: a forked child would inherit a backend that has already started
its thread pools) and live for the whole run, each training one run after another, so that the backend is
imported and started once per worker, not once per run; a run seeds everything it draws
(``keras.utils.set_random_seed``), so it trains in a worker that trained others before exactly as it
trains alone (``tests/test_workers.py``). The backend in each worker uses one thread, so that ``jobs``
workers share ``jobs`` cores without stepping on each other. Importing this module does not load Keras.
"""

from __future__ import annotations

import multiprocessing
import os

ONE_THREAD = {
    "TF_NUM_INTRAOP_THREADS": "1",  # TensorFlow reads these when it starts its thread pools
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",  # PyTorch's intra-op pool (and any OpenMP library)
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false",  # XLA's own CPU pool (JAX; TensorFlow with XLA)
}
"""The environment a worker sets before it imports a backend."""


def default_jobs() -> int:
    """The cores this process may run on; 1 inside a pytest-xdist worker (its siblings use the rest)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def one_thread() -> None:
    """Make the backend that this process will load use one thread (call it before Keras is imported).

    Every training of this project runs so: ``statefulness run`` (in this process or in workers), the
    spec (the root ``conftest.py``) and the calibration. A float sum split over threads depends on their
    number, so the figures would otherwise depend on the machine's cores (measured: the loss of an epoch of
    split_sequence with XLA differs in its 8th digit between one thread and two)."""
    for key, value in ONE_THREAD.items():
        before = os.environ.get(key, "")
        if key == "XLA_FLAGS":  # keep the user's other XLA flags
            value = before if value in before.split() else f"{before} {value}".strip()
        os.environ[key] = value


def _train(name, settings):
    from statefulness.experiments.run import run_experiment

    return run_experiment(name, **settings)


def run_experiments(tasks, jobs: int, *, finished=None) -> list:
    """``run_experiment(name, **settings)`` for each ``(name, settings)`` of ``tasks``: one after another in
    this process if ``jobs`` is 1, else in :func:`run_in_workers`. Outcomes in the order of ``tasks``;
    ``finished(i, outcome)`` as task ``i`` comes back."""
    from statefulness._validate import check_int

    if check_int("jobs", jobs, low=1) > 1:
        return run_in_workers(tasks, jobs, finished=finished)
    outcomes = []
    for i, (name, settings) in enumerate(tasks):
        outcomes.append(_train(name, settings))
        if finished:
            finished(i, outcomes[-1])
    return outcomes


def run_in_workers(tasks, jobs: int, *, finished=None, one_thread_each: bool = True) -> list:
    """Run ``run_experiment(name, **settings)`` for each ``(name, settings)`` of ``tasks`` in ``jobs``
    spawned one-thread processes that live for the whole call, handed out in the order of ``tasks`` (put
    the longest first) to the first worker free; return the outcomes in that order.
    ``finished(i, outcome)`` is called as task ``i`` comes back. An error in a task is raised here, the
    tasks not started are cancelled; a worker that dies raises ``BrokenProcessPool`` (never a hang).
    ``one_thread_each=False`` leaves the workers the thread counts of this process's environment."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from statefulness._validate import check_int

    jobs = check_int("jobs", jobs, low=1)
    tasks = [(name, dict(settings)) for name, settings in tasks]
    outcomes: list = [None] * len(tasks)
    workers, spawn = min(jobs, len(tasks)) or 1, multiprocessing.get_context("spawn")
    initializer = one_thread if one_thread_each else None
    pool = ProcessPoolExecutor(workers, mp_context=spawn, initializer=initializer)
    try:
        futures = {pool.submit(_train, name, settings): i for i, (name, settings) in enumerate(tasks)}
        for future in as_completed(futures):
            i = futures[future]
            outcomes[i] = future.result()
            if finished:
                finished(i, outcomes[i])
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return outcomes
