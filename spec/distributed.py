"""The runs of chapter 24, each in a fresh interpreter: two CPU devices exist only if they are made before
TensorFlow or JAX starts its runtime, which in the spec's own process has long happened.

    python -m spec.distributed SCENARIO BUILT_BATCH_SIZE INPUTS.npz RESULTS.npz

``INPUTS.npz`` holds the LSTM's ``weights_0..2``, the samples ``x`` and targets ``y``; the run builds the
chapter's tiny stateful LSTM for ``BUILT_BATCH_SIZE`` rows under the scenario's distribution, trains it for
one epoch at learning rate 0 on global batches of ``GLOBAL_BATCH`` (4) rows, and writes to ``RESULTS.npz``
the error that refused it (``error``), or the state read from the host (``host_0``, ``host_1``), and for
``mirrored`` each replica's own copy (``replica_<k>_<i>``). ``data-parallel`` also writes the state
after two direct calls on the first two global batches (``direct_0``, ``direct_1``).
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


def main(scenario: str, built: str, inputs: str, results: str) -> None:
    mutant = os.environ.get("STATEFULNESS_MUTANT_APPLIED")
    if mutant:  # set by mutants/plugin.py: the meta-test breaks Keras in this process too
        from mutants import MUTANTS

        MUTANTS[mutant][1]()
    given = np.load(inputs)
    weights = [given[f"weights_{i}"] for i in range(3)]
    try:
        found = SCENARIOS[scenario](int(built), weights, given["x"], given["y"])
    except Exception as error:  # noqa: BLE001 - any refusal is the test's to judge, by its type and words
        found = {"error": np.array(f"{type(error).__name__}: {error}")}
    partial = f"{results}.partial"
    with open(partial, "wb") as out:
        np.savez(out, **found)
    os.replace(partial, results)


if __name__ == "__main__":
    main(*sys.argv[1:])
