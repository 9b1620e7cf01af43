"""The recurrent layers and model shapes that users build, as data: how to build each one tiny, and what
feeding it in chunks must equal.

The tutorial's model is one ``LSTM``; the teams who run this spec before an upgrade stack, nest and wrap
GRUs, LSTMs and other recurrent layers. Keras's stateful machinery is shared by all of them, but the
code paths are not (fused kernels, nested state structures, wrappers), so the exact claims of chapters
3 to 7 run over every shape listed here.

Each shape is built by a handful of plain Keras calls on ``keras.Input(shape=(None, *features),
batch_size=B)`` (free time steps, so one model takes chunks of any length) and ends in a recurrent
layer with ``return_sequences=True``, so every step's output is seen. Its *yardstick* is either a NumPy
recurrence (``spec/reference.py``) over the model's weights, or, where none describes the model, its
stateless twin (``statefulness.twin``): the same weights, ``stateful=False``, fed whole sequences.

What feeding in chunks must equal (``Shape.chunking``):

- ``"continues"``: chunk k continues from where chunk k - 1 ended, so the chunks' outputs joined in time
  equal the whole sequence's.
- ``"backwards"`` (``go_backwards=True``): the layer reads each chunk from its end to its start,
  carrying its state from chunk to chunk, and returns its outputs in the order it read them. Reading
  c1, c2, ... in turn, each backwards, is reading the sequence ... c2 c1 backwards: the chunks' outputs
  joined equal the twin's on the chunks in *reverse order*, joined.
- ``"bidirectional"``: the forward half continues (as above); the backward half restarts each chunk at
  the chunk's end, from the state it left at the start of the chunk before, so it equals the twin's
  backward half on the chunks in reverse order, each output back at its own time step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import statefulness
from statefulness._keras import keras, to_numpy
from statefulness.check import expected_when_chunked

from . import reference

UNITS = 3
BATCH = 3
"""Every shape is built for batches of 3 (chapter 3's LSTM claims draw the batch size too)."""
STEPS = 2
"""Time steps per chunk: one length per test, so that Keras traces each compiled function once (the
LSTM claims of chapter 3 draw chunks of any length)."""


@dataclass(frozen=True)
class Shape:
    id: str
    """The layer and shape, as the test ids show it."""
    layers: Callable[[bool], list]
    """``layers(stateful)``: the layers to stack on the input, the last one recurrent."""
    features: tuple[int, ...] = (2,)
    """The shape of one time step of the input."""
    oracle: str | None = None
    """The NumPy recurrence (``spec/reference.py``) that the whole model is, or None: the stateless twin."""
    chunking: str = "continues"
    """What feeding the model in chunks must equal (module docstring)."""

    def __str__(self) -> str:
        return self.id

    def build(self, batch_size: int | None, stateful: bool = True):
        """The model, compiled with SGD at learning rate 0 and MSE, so that ``fit`` and ``evaluate`` run
        it (and move its state) while its weights stay where they are."""
        inputs = keras.Input(shape=(None, *self.features), batch_size=batch_size)
        outputs = inputs
        for layer in self.layers(stateful):
            outputs = layer(outputs)
        model = keras.Model(inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
        return model

    def set_weights(self, model, seed: int) -> None:
        """Draw every weight of ``model`` uniformly from ``[-1, 1]``."""
        rng = np.random.default_rng(seed)
        model.set_weights([rng.uniform(-1, 1, w.shape).astype("float32") for w in model.get_weights()])

    def chunks(self, seed: int, lengths: list[int], batch: int = BATCH) -> list[np.ndarray]:
        """Consecutive chunks of ``batch`` sequences, of the given numbers of steps, drawn from ``[-1, 1]``."""
        rng = np.random.default_rng(seed)
        return [rng.uniform(-1, 1, (batch, steps, *self.features)).astype("float32") for steps in lengths]


def _cells(stateful):
    return [
        keras.layers.RNN(
            [keras.layers.GRUCell(UNITS), keras.layers.LSTMCell(2)], stateful=stateful, return_sequences=True
        )
    ]


def _nested(stateful):
    """A Dense step by step, then a whole inner model that holds the stateful LSTM."""
    inner = keras.Sequential([keras.layers.LSTM(UNITS, stateful=stateful, return_sequences=True)], name="inner")
    return [keras.layers.Dense(2), inner]


def _custom(stateful):
    return [Encoder(UNITS)]


class Encoder(keras.layers.Layer):
    """A user's own layer that owns a stateful LSTM and hard-codes ``stateful=True``: no config can make
    it stateless, so ``statefulness.twin`` refuses it (and the spec uses the model itself, reset, fed
    the whole sequence in one call)."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.lstm = keras.layers.LSTM(units, stateful=True, return_sequences=True)

    def build(self, input_shape):
        self.lstm.build(input_shape)

    def call(self, x):
        return self.lstm(x)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


CUSTOM_OBJECTS = {"Encoder": Encoder}


def _one(layer, **kwargs):
    return lambda stateful: [getattr(keras.layers, layer)(UNITS, stateful=stateful, return_sequences=True, **kwargs)]


SHAPES: list[Shape] = [
    Shape("LSTM", _one("LSTM"), oracle="lstm"),
    Shape("GRU(reset_after=True)", _one("GRU", reset_after=True), oracle="gru"),
    Shape("GRU(reset_after=False)", _one("GRU", reset_after=False), oracle="gru"),
    Shape("SimpleRNN", _one("SimpleRNN"), oracle="simple_rnn"),
    Shape(
        "RNN(LSTMCell)",
        lambda s: [keras.layers.RNN(keras.layers.LSTMCell(UNITS), stateful=s, return_sequences=True)],
        oracle="lstm",
    ),
    Shape("RNN(GRUCell, LSTMCell)", _cells),
    Shape("LSTM(go_backwards=True)", _one("LSTM", go_backwards=True), chunking="backwards"),
    Shape(
        "Bidirectional(LSTM)",
        lambda s: [keras.layers.Bidirectional(keras.layers.LSTM(UNITS, stateful=s, return_sequences=True))],
        chunking="bidirectional",
    ),
    Shape(
        "ConvLSTM1D",
        lambda s: [keras.layers.ConvLSTM1D(2, 3, padding="same", stateful=s, return_sequences=True)],
        features=(4, 1),
    ),
    Shape(
        "stacked GRU > LSTM",
        lambda s: [
            keras.layers.GRU(UNITS, stateful=s, return_sequences=True),
            keras.layers.LSTM(2, stateful=s, return_sequences=True),
        ],
    ),
    Shape("LSTM in a nested Model", _nested),
    Shape("LSTM in a custom Layer", _custom),
]

BY_ID = {shape.id: shape for shape in SHAPES}


class Yardstick:
    """What ``model`` (a stateful build of ``shape``) must compute, from zero state, on sequences fed in
    chunks: its NumPy recurrence, else its stateless twin, else (no twin can be made) the model itself,
    reset, fed the whole sequences in one direct call."""

    def __init__(self, shape: Shape, model):
        self.shape, self.model, self.twin = shape, model, None
        if shape.oracle is not None:
            self.how = f"the NumPy {shape.oracle}"
            return
        try:
            self.twin = statefulness.twin(model, custom_objects=CUSTOM_OBJECTS)
            self.how = "the stateless twin"
        except ValueError:  # a layer that hard-codes stateful=True
            self.how = "the model itself, reset, whole"

    def sync(self) -> None:
        """Copy the model's weights to the twin (after ``Shape.set_weights``)."""
        if self.twin is not None:
            self.twin.set_weights(self.model.get_weights())

    def whole(self, x: np.ndarray) -> np.ndarray:
        """Every step's output on whole sequences ``x``, from zero state."""
        if self.shape.oracle is not None:
            return reference.run(self.shape.oracle, x, self.model.get_weights())[0]
        if self.twin is not None:
            return to_numpy(self.twin(x))
        statefulness.reset_states(self.model)
        out = to_numpy(self.model(x))
        statefulness.reset_states(self.model)
        return out

    def chunked(self, chunks: list[np.ndarray]) -> np.ndarray:
        """Every step's output when ``chunks`` are fed one after another to the stateful model from zero
        state, joined in time: what ``Shape.chunking`` says that must equal."""
        forward = self.whole(np.concatenate(chunks, axis=1))
        backward = None if self.shape.chunking == "continues" else self.whole(np.concatenate(chunks[::-1], axis=1))
        return expected_when_chunked(forward, backward, [c.shape[1] for c in chunks], self.shape.chunking)
