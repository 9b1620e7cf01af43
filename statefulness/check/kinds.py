"""The kinds of stateful model that users build, as one catalogue: how to build each one tiny, and what
feeding it in chunks must equal.

The tutorial's model is one ``LSTM``; the teams who run the spec before an upgrade stack, nest and wrap
GRUs, LSTMs and other recurrent layers. Keras's stateful machinery is shared by all of them, but the
code paths are not (fused kernels, nested state structures, wrappers), so the state rules run over every
kind listed here: the spec's breadth claims (chapters 3 to 8), ``statefulness check --example NAME``, the
library's tests and the mutants all take their models from ``KINDS``.

Each kind is built by a handful of plain Keras calls on ``keras.Input(shape=(None, *features),
batch_size=B)`` (free time steps, so one model takes chunks of any length) and ends in a recurrent
layer with ``return_sequences=True``, so every step's output is seen (the tutorial's own model, the one
exception, is built by ``statefulness.build_model``). What the model fed in chunks must equal is
``Kind.chunking``:

- ``"continues"``: chunk k continues from where chunk k - 1 ended, so the chunks' outputs joined in time
  equal the whole sequence's.
- ``"backwards"`` (``go_backwards=True``): the layer reads each chunk from its end to its start,
  carrying its state from chunk to chunk, and returns its outputs in the order it read them. Reading
  c1, c2, ... in turn, each backwards, is reading the sequence ... c2 c1 backwards: the chunks' outputs
  joined equal the twin's on the chunks in *reverse order*, joined.
- ``"bidirectional"``: the forward half continues (as above); the backward half restarts each chunk at
  the chunk's end, from the state it left at the start of the chunk before, so it equals the twin's
  backward half on the chunks in reverse order, each output back at its own time step.

``Kind.oracle`` names the NumPy recurrence of the spec (``spec/reference.py``) that the whole model is,
where one is: the spec holds such a kind to it; the checker's own yardstick is the stateless twin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from statefulness._keras import keras

UNITS = 3
BATCH = 3
"""Every kind is built for batches of 3 (the tutorial's model: of 1)."""
STEPS = 2
"""Time steps per chunk: one length per test, so that Keras traces each compiled function once."""


@dataclass(frozen=True)
class Kind:
    id: str
    """The layer and shape, as the spec's test ids show it."""
    name: str
    """Its name on the command line (``statefulness check --example NAME``)."""
    layers: Callable[[bool], list] | None
    """``layers(stateful)``: the layers to stack on the input, the last one recurrent (None: ``model``)."""
    features: tuple[int, ...] = (2,)
    """The shape of one time step of the input."""
    oracle: str | None = None
    """The NumPy recurrence (``spec/reference.py``) that the whole model is, or None."""
    chunking: str = "continues"
    """What feeding the model in chunks must equal (module docstring)."""
    batch: int = BATCH
    model: Callable[[int | None, bool], object] | None = None
    """``model(batch_size, stateful)``: the model, where it is not ``layers`` on an input."""
    breadth: bool = True
    """Do the spec's breadth claims run over it."""

    def __str__(self) -> str:
        return self.id

    def build(self, batch_size: int | None = BATCH, stateful: bool = True):
        """The model, compiled with SGD at learning rate 0 and MSE, so that ``fit`` and ``evaluate`` run
        it (and move its state) while its weights stay where they are."""
        if self.model is not None:
            return self.model(batch_size, stateful)
        inputs = keras.Input(shape=(None, *self.features), batch_size=batch_size)
        outputs = inputs
        for layer in self.layers(stateful) if self.layers else ():
            outputs = layer(outputs)
        model = keras.Model(inputs, outputs, name=self.name.replace("-", "_"))
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
        return model

    def set_weights(self, model, seed: int) -> None:
        """Draw every weight of ``model`` uniformly from ``[-1, 1]``."""
        rng = np.random.default_rng(seed)
        model.set_weights([rng.uniform(-1, 1, w.shape).astype("float32") for w in model.get_weights()])

    def example(self, seed: int = 0):
        """The model at its own batch size with every weight drawn from ``seed``: the same model in every
        process and environment (so that a record of it can be compared elsewhere)."""
        model = self.build(self.batch)
        self.set_weights(model, seed)
        return model

    def chunks(self, seed: int, lengths: list[int], batch: int | None = None) -> list[np.ndarray]:
        """Consecutive chunks of ``batch`` sequences, of the given numbers of steps, drawn from ``[-1, 1]``."""
        rng = np.random.default_rng(seed)
        return [rng.uniform(-1, 1, (batch or self.batch, steps, *self.features)).astype("float32") for steps in lengths]


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


class Encoder(keras.layers.Layer):
    """A user's own layer that owns a stateful LSTM and hard-codes ``stateful=True``: no config can make
    it stateless, so ``statefulness.twin`` refuses it (and the yardstick is the model itself, reset, fed
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
"""What a copy of any kind needs to be rebuilt from its config (``custom_objects``)."""


def _one(layer, **kwargs):
    return lambda stateful: [getattr(keras.layers, layer)(UNITS, stateful=stateful, return_sequences=True, **kwargs)]


def _tutorial(batch_size, stateful):
    """The tutorial's stateful model: one letter per batch of one, an LSTM of 32 and a softmax over 26."""
    from statefulness.tutorial.model import build_model

    return build_model((1, 1), 26, stateful=stateful, batch_size=batch_size)


KINDS: list[Kind] = [
    Kind("LSTM", "lstm", _one("LSTM"), oracle="lstm"),
    Kind("GRU(reset_after=True)", "gru", _one("GRU", reset_after=True), oracle="gru"),
    Kind("GRU(reset_after=False)", "gru-reset-before", _one("GRU", reset_after=False), oracle="gru"),
    Kind("SimpleRNN", "simple-rnn", _one("SimpleRNN"), oracle="simple_rnn"),
    Kind(
        "RNN(LSTMCell)",
        "rnn-lstm-cell",
        lambda s: [keras.layers.RNN(keras.layers.LSTMCell(UNITS), stateful=s, return_sequences=True)],
        oracle="lstm",
    ),
    Kind("RNN(GRUCell, LSTMCell)", "rnn-stacked-cells", _cells),
    Kind("LSTM(go_backwards=True)", "lstm-go-backwards", _one("LSTM", go_backwards=True), chunking="backwards"),
    Kind(
        "Bidirectional(LSTM)",
        "bidirectional-lstm",
        lambda s: [keras.layers.Bidirectional(keras.layers.LSTM(UNITS, stateful=s, return_sequences=True))],
        chunking="bidirectional",
    ),
    Kind(
        "ConvLSTM1D",
        "conv-lstm-1d",
        lambda s: [keras.layers.ConvLSTM1D(2, 3, padding="same", stateful=s, return_sequences=True)],
        features=(4, 1),
    ),
    Kind(
        "stacked GRU > LSTM",
        "stacked-gru-lstm",
        lambda s: [
            keras.layers.GRU(UNITS, stateful=s, return_sequences=True),
            keras.layers.LSTM(2, stateful=s, return_sequences=True),
        ],
    ),
    Kind("LSTM in a nested Model", "nested-model-lstm", _nested),
    Kind("LSTM in a custom Layer", "custom-layer-lstm", lambda s: [Encoder(UNITS)]),
    Kind("the tutorial's model", "tutorial", None, features=(1,), batch=1, model=_tutorial, breadth=False),
]

BY_ID = {kind.id: kind for kind in KINDS}
BY_NAME = {kind.name: kind for kind in KINDS}
BREADTH = [kind for kind in KINDS if kind.breadth]
"""The kinds the spec's breadth claims run over."""

# Built-in models for ``statefulness check --example NAME``: every kind of the catalogue.

EXAMPLES: dict[str, Callable] = {kind.name: kind.example for kind in KINDS}
"""Every kind of the catalogue, by its name, at its own batch size with weights drawn from seed 0."""
