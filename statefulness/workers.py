"""Train experiments in parallel worker processes, one thread each.

Each run gets a fresh process (``spawn``, never ``fork``: a forked child would inherit a backend that has
already started its thread pools) that trains it and exits, so that a run trains exactly as it would
alone; the backend in each worker uses one thread, so that ``jobs`` workers share ``jobs`` cores without
stepping on each other. Importing this module does not load Keras.
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


def _train(task):
    from .experiments import run_experiment

    index, name, settings = task
    return index, run_experiment(name, **settings)


def run_in_workers(tasks, jobs: int, *, finished=None, one_thread_each: bool = True) -> list:
    """Run ``run_experiment(name, **settings)`` for each ``(name, settings)`` of ``tasks`` in ``jobs``
    fresh one-thread processes, handed out in the order of ``tasks`` (put the longest first); return the
    outcomes in that order. ``finished(i, outcome)`` is called as task ``i`` comes back.
    ``one_thread_each=False`` leaves the workers the thread counts of this process's environment."""
    from ._validate import check_int

    jobs = check_int("jobs", jobs, low=1)
    tasks = [(i, name, dict(settings)) for i, (name, settings) in enumerate(tasks)]
    outcomes = [None] * len(tasks)
    context = multiprocessing.get_context("spawn")
    initializer = one_thread if one_thread_each else None
    with context.Pool(min(jobs, len(tasks)) or 1, initializer=initializer, maxtasksperchild=1) as pool:
        for i, outcome in pool.imap_unordered(_train, tasks):
            outcomes[i] = outcome
            if finished:
                finished(i, outcome)
    return outcomes
