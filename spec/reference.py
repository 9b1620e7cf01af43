"""Recurrent layers written out in NumPy: the yardsticks the spec holds Keras's layers against.

Each follows the recurrence that Keras documents for the layer with its default activations (``tanh``,
recurrent ``sigmoid``) and its weight layout, shares no code with Keras, and computes in float64:

- ``lstm``: ``kernel`` ``(features, 4 * units)``, ``recurrent_kernel`` ``(units, 4 * units)``, ``bias``
  ``(4 * units,)``; gates in the order input, forget, cell, output; state ``[h, c]``.
- ``gru``: ``kernel`` ``(features, 3 * units)``, ``recurrent_kernel`` ``(units, 3 * units)``; gates in
  the order update ``z``, reset ``r``, candidate; ``bias`` ``(3 * units,)`` with ``reset_after=False``
  (the reset gate scales ``h`` before the recurrent kernel) or ``(2, 3 * units)`` with ``reset_after=True``
  (input and recurrent biases; the reset gate scales the recurrent term after it); state ``[h]``.
- ``simple_rnn``: ``h = tanh(x @ kernel + h @ recurrent_kernel + bias)``; state ``[h]``.

``test_02_lstm_recurrence.py`` pins each to values worked out by hand, then holds Keras against it.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _lstm_step(x_t, state, kernel, recurrent_kernel, bias):
    h, c = state
    i, f, g, o = np.split(x_t @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return [sigmoid(o) * np.tanh(c), c]


def _gru_step(x_t, state, kernel, recurrent_kernel, bias):
    (h,) = state
    reset_after = bias.ndim == 2
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros_like(bias))
    xz, xr, xh = np.split(x_t @ kernel + input_bias, 3, axis=-1)
    uz, ur, uh = np.split(recurrent_kernel, 3, axis=-1)
    bz, br, bh = np.split(recurrent_bias, 3, axis=-1)
    z = sigmoid(xz + h @ uz + bz)
    r = sigmoid(xr + h @ ur + br)
    candidate = np.tanh(xh + r * (h @ uh + bh)) if reset_after else np.tanh(xh + (r * h) @ uh)
    return [z * h + (1 - z) * candidate]


def _simple_rnn_step(x_t, state, kernel, recurrent_kernel, bias):
    (h,) = state
    return [np.tanh(x_t @ kernel + h @ recurrent_kernel + bias)]


STEPS = {"lstm": (_lstm_step, 2), "gru": (_gru_step, 1), "simple_rnn": (_simple_rnn_step, 1)}
"""Each recurrence: its step function and how many state tensors it carries."""


def run(kind: str, x: np.ndarray, weights, state=None) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run ``x`` of shape ``(batch, timesteps, features)`` through recurrence ``kind`` from ``state``
    (zeros by default). Returns the output at every step ``(batch, timesteps, units)`` and the final
    state (a list: ``[h, c]`` for the LSTM, ``[h]`` for the others)."""
    step, n_states = STEPS[kind]
    x = np.asarray(x, dtype=np.float64)
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    batch, timesteps, _ = x.shape
    units = weights[1].shape[0]
    if state is None:
        state = [np.zeros((batch, units)) for _ in range(n_states)]
    state = [np.asarray(s, dtype=np.float64) for s in state]
    outputs = np.empty((batch, timesteps, units))
    for t in range(timesteps):
        state = step(x[:, t], state, *weights)
        outputs[:, t] = state[0]
    return outputs, state


def lstm(x, kernel, recurrent_kernel, bias, h0=None, c0=None):
    """The LSTM from ``(h0, c0)``: every step's ``h`` ``(batch, timesteps, units)``, and the final ``h``
    and ``c``."""
    state = None if h0 is None else [h0, c0]
    outputs, (h, c) = run("lstm", x, (kernel, recurrent_kernel, bias), state)
    return outputs, h, c


def stream(chunks: list[np.ndarray], weights, kind: str = "lstm"):
    """Run consecutive chunks ``(batch, t_k, features)`` of the same sequences, carrying the state:
    what a stateful layer should compute. Returns every step's output (chunks joined in time) and the
    final state (for the LSTM, its ``h`` and ``c`` as two values)."""
    state, outputs = None, []
    for chunk in chunks:
        out, state = run(kind, chunk, weights, state)
        outputs.append(out)
    return (np.concatenate(outputs, axis=1), *state)


def oracle(kind):
    """The NumPy recurrence of a kind of model (``statefulness.check.kinds``), as the checker takes a yardstick:
    ``(x, weights) -> outputs at every step``; None where the kind has none."""
    if kind.oracle is None:
        return None
    return lambda x, weights: run(kind.oracle, x, weights)[0]
