"""An LSTM written out in NumPy: the yardstick the spec holds Keras's LSTM against.

It follows the recurrence that Keras documents for ``keras.layers.LSTM`` with its default
activations (``tanh``, recurrent ``sigmoid``) and its weight layout: ``kernel`` of shape
``(features, 4 * units)``, ``recurrent_kernel`` of ``(units, 4 * units)`` and ``bias`` of
``(4 * units,)``, the four gates in the order input, forget, cell, output. It shares no code with
Keras and computes in float64.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def lstm(
    x: np.ndarray,
    kernel: np.ndarray,
    recurrent_kernel: np.ndarray,
    bias: np.ndarray,
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run ``x`` of shape ``(batch, timesteps, features)`` from state ``(h0, c0)`` (zeros by default).

    Returns the hidden state at every step ``(batch, timesteps, units)`` and the final ``h`` and ``c``.
    """
    x = np.asarray(x, dtype=np.float64)
    kernel, recurrent_kernel, bias = (np.asarray(w, dtype=np.float64) for w in (kernel, recurrent_kernel, bias))
    batch, timesteps, _ = x.shape
    units = recurrent_kernel.shape[0]
    h = np.zeros((batch, units)) if h0 is None else np.asarray(h0, dtype=np.float64)
    c = np.zeros((batch, units)) if c0 is None else np.asarray(c0, dtype=np.float64)
    outputs = np.empty((batch, timesteps, units))
    for t in range(timesteps):
        z = x[:, t] @ kernel + h @ recurrent_kernel + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs[:, t] = h
    return outputs, h, c


def stream(chunks: list[np.ndarray], weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run consecutive chunks ``(batch, t_k, features)`` of the same sequences, carrying the state:
    what a stateful layer should compute. Returns every step's output (chunks joined in time) and the
    final ``h`` and ``c``."""
    h = c = None
    outputs = []
    for chunk in chunks:
        out, h, c = lstm(chunk, *weights, h0=h, c0=c)
        outputs.append(out)
    return np.concatenate(outputs, axis=1), h, c
