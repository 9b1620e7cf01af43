"""Tiny LSTM models with given weights, for the exact claims: no training, nothing hidden.

Each helper is a handful of plain Keras calls, so that a reader sees what the spec checks.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from statefulness._keras import assign_zeros, keras, layer_states, state_variables
from statefulness.tutorial.model import reset_states

from . import reference


def lstm_model(weights, *, batch_size=None, stateful=False, timesteps=None, return_sequences=True, shared=False):
    """``Input(shape=(timesteps, features), batch_size) -> LSTM(units, stateful)``, with ``weights`` set.

    It is compiled with SGD at learning rate 0 and MSE, so that ``fit`` and ``evaluate`` run the layer
    (and move its state) while the weights stay where they are. ``shared``: the model this process built
    for the same arguments before, with ``weights`` set and its state zeroed (the hypothesis claims draw
    many examples, and Keras traces ``predict`` once per model); else a new one.
    """
    kernel, recurrent_kernel, _ = weights
    features, units = kernel.shape[0], recurrent_kernel.shape[0]
    key = (features, units, batch_size, stateful, timesteps, return_sequences)
    if shared and key in _SHARED:
        model, layer = _SHARED[key]
        for variable in state_variables(layer):
            assign_zeros(variable)
    else:
        inputs = keras.Input(shape=(timesteps, features), batch_size=batch_size)
        layer = keras.layers.LSTM(units, stateful=stateful, return_sequences=return_sequences)
        model = keras.Model(inputs, layer(inputs))
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
        if shared:
            _SHARED[key] = model, layer
    layer.set_weights([np.asarray(w, dtype="float32") for w in weights])
    return model, layer


_SHARED: dict[tuple, tuple] = {}
"""The models of ``lstm_model(..., shared=True)``, by its arguments (the weights' shapes among them)."""


def trainable(seed: int, batch_size: int = 2):
    """A tiny stateful LSTM (2 features, 3 units) compiled with SGD at 0.1 and MSE, to train towards random
    targets: the model, its layer, 4 samples and their targets, all drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    model, layer = lstm_model(random_weights(rng, 2, 3), batch_size=batch_size, stateful=True, return_sequences=False)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model, layer, random_inputs(rng, 4, 2, 2), random_inputs(rng, 4, 3)


def random_weights(rng: np.random.Generator, features: int, units: int, scale: float = 1.0):
    """``[kernel, recurrent_kernel, bias]`` drawn uniformly from ``[-scale, scale]``."""
    shapes = [(features, 4 * units), (units, 4 * units), (4 * units,)]
    return [rng.uniform(-scale, scale, size=s).astype("float32") for s in shapes]


def random_inputs(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(-1, 1, size=shape).astype("float32")


def weights_strategy(features: int, units: int):
    """Hypothesis: LSTM weights with every entry in [-1, 1] (float32)."""
    element = st.floats(-1, 1, width=32)
    return st.tuples(
        hnp.arrays("float32", (features, 4 * units), elements=element),
        hnp.arrays("float32", (units, 4 * units), elements=element),
        hnp.arrays("float32", (4 * units,), elements=element),
    ).map(list)


def inputs_strategy(*shape: int):
    return hnp.arrays("float32", shape, elements=st.floats(-1, 1, width=32))


TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}
"""float32 round-off over a few steps of a unit-scale LSTM stays well below 1e-5; a wrong or missing
state is off by 1e-2 or more (the mutants of the meta-test show it)."""


def batches(x: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """``x`` cut into consecutive batches of ``batch_size`` rows, in order: what ``fit(shuffle=False)``
    feeds, and what :func:`reference.stream` takes."""
    return [x[i : i + batch_size] for i in range(0, len(x), batch_size)]


class StateLog(keras.callbacks.Callback):
    """Records ``layer``'s stored state (``[h, c]`` as NumPy arrays) at the callback events of ``fit``:
    ``log[("epoch_begin", 0)]``, ``log[("test_begin", 0)]`` (the validation pass of epoch 0), ...,
    ``log[("epoch_end", 1)]``. A plain Keras callback: it reads the state variables, and changes nothing."""

    def __init__(self, layer):
        super().__init__()
        self.layer, self.log, self.epoch = layer, {}, 0

    def _record(self, event):
        self.log[(event, self.epoch)] = [np.array(s) for s in layer_states(self.layer)]

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self._record("epoch_begin")

    def on_epoch_end(self, epoch, logs=None):
        self._record("epoch_end")

    def on_test_begin(self, logs=None):
        self._record("test_begin")

    def on_test_end(self, logs=None):
        self._record("test_end")


def carried(weights, chunks, state=None) -> list:
    """The LSTM's state ``[h, c]`` after ``chunks`` (batches) in order, carried by the NumPy recurrence
    from ``state`` (zeros by default)."""
    for chunk in chunks:
        _, state = reference.run("lstm", chunk, weights, state)
    return state


def assert_state(got, expected, what: str) -> None:
    """``got`` and ``expected`` (``[h, c]``) equal within ``TOLERANCE``; ``what`` says what was expected."""
    for name, mine, theirs in zip("hc", got, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE, err_msg=f"{name} is not {what}")


class ResetAtEpochBegin(keras.callbacks.Callback):
    """Resets every stateful layer of the model at each epoch's start (``statefulness.reset_states``), as the
    tutorial's stateful model is trained."""

    def on_epoch_begin(self, epoch, logs=None):
        reset_states(self.model)
