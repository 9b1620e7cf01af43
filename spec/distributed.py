"""The runs of chapter 24, in a fresh interpreter: two CPU devices exist only if they are made before
TensorFlow or JAX starts its runtime, which in the spec's own process has long happened.

    python -m spec.distributed INPUTS.npz RESULTS.npz NAME=SCENARIO:BUILT_BATCH_SIZE ...

One interpreter makes every run it is given (an interpreter and its backend's start cost seconds, a run
a fraction of one). ``INPUTS.npz`` holds each run's LSTM weights ``NAME.weights_0..2``, samples
``NAME.x`` and targets ``NAME.y``; each run builds the chapter's tiny stateful LSTM for ``BUILT_BATCH_SIZE``
rows under its scenario's distribution, trains it for one epoch at learning rate 0 on global batches of
``GLOBAL_BATCH`` (4) rows, and writes to ``RESULTS.npz`` the error that refused it (``NAME.error``), or
the state read from the host (``NAME.host_0``, ``NAME.host_1``), and for ``mirrored`` each replica's own
copy (``NAME.replica_<k>_<i>``). ``data-parallel`` also writes the state after two direct calls on the
first two global batches (``NAME.direct_0``, ``NAME.direct_1``).
"""

from __future__ import annotations

import os
import sys

import numpy as np

GLOBAL_BATCH = 4
DEVICES = 2


def mirrored(built: int, weights, x, y) -> dict:
    """``tf.distribute.MirroredStrategy`` over two logical CPU devices."""
    import tensorflow as tf

    (cpu,) = tf.config.list_physical_devices("CPU")
    if tf.config.get_logical_device_configuration(cpu) is None:  # once, before the runtime starts
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * DEVICES)
    from statefulness._keras import backend_variable, layer_states, state_variables

    from .tiny import lstm_model

    strategy = tf.distribute.MirroredStrategy([f"/cpu:{k}" for k in range(DEVICES)])
    with strategy.scope():
        model, layer = lstm_model(weights, batch_size=built, stateful=True, return_sequences=False)
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    results = {f"host_{i}": state for i, state in enumerate(layer_states(layer))}
    for i, variable in enumerate(state_variables(layer)):
        for k, value in enumerate(strategy.experimental_local_results(backend_variable(variable))):
            results[f"replica_{k}_{i}"] = np.array(value.numpy())
    return results


def data_parallel(built: int, weights, x, y) -> dict:
    """``keras.distribution.DataParallel`` over two host devices (JAX, ``XLA_FLAGS`` set by the caller)."""
    from statefulness._keras import keras, layer_states

    from .tiny import lstm_model

    keras.distribution.set_distribution(keras.distribution.DataParallel(devices=keras.distribution.list_devices()))
    model, layer = lstm_model(weights, batch_size=built, stateful=True, return_sequences=False)
    model.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    results = {f"host_{i}": state for i, state in enumerate(layer_states(layer))}
    layer.reset_states()
    model(x[:GLOBAL_BATCH])
    model(x[GLOBAL_BATCH : 2 * GLOBAL_BATCH])
    results.update({f"direct_{i}": state for i, state in enumerate(layer_states(layer))})
    return results


SCENARIOS = {"mirrored": mirrored, "data-parallel": data_parallel}


def main(inputs: str, results: str, *runs: str) -> None:
    mutant = os.environ.get("STATEFULNESS_MUTANT_APPLIED")
    if mutant:  # set by mutants/plugin.py: the meta-test breaks Keras in this process too
        from mutants import MUTANTS

        MUTANTS[mutant][1]()
    given = np.load(inputs)
    found: dict = {}
    for run in runs:
        name, _, spec = run.partition("=")
        scenario, _, built = spec.partition(":")
        weights = [given[f"{name}.weights_{i}"] for i in range(3)]
        try:
            outcome = SCENARIOS[scenario](int(built), weights, given[f"{name}.x"], given[f"{name}.y"])
        except Exception as error:  # noqa: BLE001 - any refusal is the test's to judge, by its type and words
            outcome = {"error": np.array(f"{type(error).__name__}: {error}")}
        found.update({f"{name}.{key}": value for key, value in outcome.items()})
    partial = f"{results}.partial"
    with open(partial, "wb") as out:
        np.savez(out, **found)
    os.replace(partial, results)


if __name__ == "__main__":
    main(*sys.argv[1:])
