"""Chapter 24 (beyond the source document): a stateful model trained under a distribution over two
devices, here two CPU devices ("it works on one GPU but not with MirroredStrategy").

A stateful layer keeps one state row per row of the batch it is called on, and a distribution decides
which batch that is. ``tf.distribute.MirroredStrategy`` runs the model on each replica with its slice of
the global batch, so the layer must be built for the per-replica batch (global / replicas): each replica
keeps the state of its own rows, and row r of replica k's slice hands its state to row r of replica k's
next slice, that is global row ``k * per_replica + r`` to the same global row. Reading the state from
the host (``layer.states``) shows the first replica's rows only. ``keras.distribution.DataParallel``
(JAX) compiles one program over the global batch, sharded across the devices: the layer is built for
the global batch, and its state holds every global row.

The devices must exist before the backend starts, so the chapter's runs are made in one fresh interpreter
(``spec/distributed.py``) with the chapter's tiny LSTM (2 features, 3 units, SGD at learning rate 0 over
8 samples in global batches of 4), and its state is held against the NumPy recurrence carried through
the global batches row by row."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest

from statefulness._keras import BACKEND, KERAS_MAJOR

from . import distributed
from .tiny import assert_state, batches, carried, random_inputs, random_weights

GLOBAL, PER_REPLICA = distributed.GLOBAL_BATCH, distributed.GLOBAL_BATCH // distributed.DEVICES

needs_mirrored = pytest.mark.skipif(
    BACKEND != "tensorflow", reason=f"tf.distribute needs the TensorFlow backend ({BACKEND} here)"
)
needs_data_parallel = pytest.mark.skipif(
    KERAS_MAJOR < 3 or BACKEND != "jax" or importlib.util.find_spec("jax") is None,
    reason=f"keras.distribution's DataParallel runs on JAX (Keras {KERAS_MAJOR}, {BACKEND} here)",
)


RUNS = {
    "mirrored-global": ("mirrored", GLOBAL, 51),
    "mirrored-per-replica": ("mirrored", PER_REPLICA, 52),
    "data-parallel-per-device": ("data-parallel", PER_REPLICA, 54),
    "data-parallel-global": ("data-parallel", GLOBAL, 55),
}
"""The chapter's runs: a scenario of ``spec/distributed.py``, the batch size the layer is built for, and
the seed of its weights and samples."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple]:
    """Every run of ``RUNS`` this backend can make (``MirroredStrategy`` on TensorFlow, ``DataParallel`` on
    JAX), made in one fresh interpreter: the weights, the samples, and what the run wrote, by run name."""
    scenario = "mirrored" if BACKEND == "tensorflow" else "data-parallel"
    given = {}
    for name, (_, built, seed) in ((n, r) for n, r in RUNS.items() if r[0] == scenario):
        rng = np.random.default_rng(seed)
        given[name] = random_weights(rng, 2, 3), random_inputs(rng, 2 * GLOBAL, 2, 2), built
    folder = tmp_path_factory.mktemp("distributed")
    inputs, results = folder / "inputs.npz", folder / "results.npz"
    arrays = {}
    for name, (weights, x, _) in given.items():
        arrays.update({f"{name}.x": x, f"{name}.y": np.zeros((len(x), 3), "float32")})
        arrays.update({f"{name}.weights_{i}": w for i, w in enumerate(weights)})
    np.savez(inputs, **arrays)
    devices = f"--xla_force_host_platform_device_count={distributed.DEVICES}"  # JAX's host devices
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", XLA_FLAGS=devices)
    command = [sys.executable, "-m", f"{__package__}.distributed", str(inputs), str(results)]
    command += [f"{name}={scenario}:{built}" for name, (_, _, built) in given.items()]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = np.load(results)
    return {
        name: (weights, x, {key.partition(".")[2]: found[key] for key in found.files if key.startswith(f"{name}.")})
        for name, (weights, x, _) in given.items()
    }


def rows(x, first: int, count: int) -> list[np.ndarray]:
    """Rows ``first .. first + count - 1`` of each global batch of ``x``, batch after batch."""
    return [chunk[first : first + count] for chunk in batches(x, GLOBAL)]


@needs_mirrored
@pytest.mark.claim("distribution/mirrored-refuses-the-global-batch-size")
def test_under_mirrored_strategy_a_layer_built_for_the_global_batch_is_refused(runs):
    """Built for the global batch (4 rows) under ``MirroredStrategy`` over 2 devices, the stateful layer
    is refused in ``fit``: each replica calls it on its slice of 2 rows."""
    _, _, found = runs["mirrored-global"]

    assert "error" in found, "a layer built for the global batch trained under MirroredStrategy"
    assert "batch size" in str(found["error"]), found["error"]


@needs_mirrored
@pytest.mark.claim("distribution/mirrored-each-replica-carries-its-rows")
def test_under_mirrored_strategy_each_replica_carries_the_state_of_its_own_rows(runs):
    """Built for the per-replica batch (2 rows), the layer trains, and replica k's copy of the state is
    that of global rows 2k and 2k+1 carried through both global batches: each replica's rows go on from
    their own state, never another replica's."""
    weights, x, found = runs["mirrored-per-replica"]

    assert "error" not in found, found.get("error")
    for k in range(distributed.DEVICES):
        replica = [found[f"replica_{k}_{i}"] for i in range(2)]
        expected = carried(weights, rows(x, k * PER_REPLICA, PER_REPLICA))
        assert_state(replica, expected, f"the state of global rows {2 * k} and {2 * k + 1}")


@needs_mirrored
@pytest.mark.claim("distribution/mirrored-host-reads-the-first-replica")
def test_under_mirrored_strategy_the_state_read_from_the_host_is_the_first_replicas(runs):
    """``layer.states`` read outside the replicas (what ``reset_states``, a checkpoint or a warm-up
    reader sees) holds 2 rows, the first replica's: the state of global rows 0 and 1."""
    weights, x, found = runs["mirrored-per-replica"]

    assert "error" not in found, found.get("error")
    assert_state([found["host_0"], found["host_1"]], carried(weights, rows(x, 0, PER_REPLICA)), "global rows 0, 1")


@needs_data_parallel
@pytest.mark.claim("distribution/data-parallel-refuses-the-per-device-batch")
def test_under_data_parallel_a_layer_built_for_the_per_device_batch_is_refused(runs):
    """Built for the per-device batch (2 rows) under ``DataParallel`` over 2 devices, the layer is
    refused: the compiled program calls it on the global batch of 4 rows."""
    _, _, found = runs["data-parallel-per-device"]

    assert "error" in found, "a layer built for the per-device batch trained under DataParallel"
    assert "batch size" in str(found["error"]), found["error"]


@needs_data_parallel
@pytest.mark.claim("distribution/data-parallel-carries-the-global-rows")
def test_under_data_parallel_the_state_holds_every_global_row_carried_through_the_batches(runs):
    """Built for the global batch (4 rows), the layer's state after two direct calls on the two global
    batches is that of each global row carried through both, as without a distribution."""
    weights, x, found = runs["data-parallel-global"]

    assert "error" not in found, found.get("error")
    assert_state([found["direct_0"], found["direct_1"]], carried(weights, batches(x, GLOBAL)), "every row carried")


@needs_data_parallel
@pytest.mark.claim("distribution/data-parallel-fit-carries-the-global-rows")
def test_under_data_parallel_fit_carries_every_global_row_through_the_batches(runs):
    """The same layer under ``fit`` (one epoch, learning rate 0): the state it ends in is that of each
    global row carried through both global batches."""
    weights, x, found = runs["data-parallel-global"]

    assert "error" not in found, found.get("error")
    assert_state([found["host_0"], found["host_1"]], carried(weights, batches(x, GLOBAL)), "every row carried")
