"""Build the tutorial's model, and drive its state: reset, predict, warm up, generate.

The functions here are thin on purpose: each is a few Keras calls that a reader of the spec can see
through (``keras.Input(batch_size=...)``, ``layer.reset_states()``, ``model(x)``).
"""

from __future__ import annotations

import numpy as np

from statefulness._keras import (
    assign_states,
    assign_zeros,
    batches_done,
    keras,
    layer_states,
    max_steps_per_execution,
    state_variables,
    to_numpy,
)
from statefulness._validate import check_int
from statefulness.tutorial.data import Dataset


def build_model(
    input_shape: tuple[int, int],
    n_classes: int,
    *,
    units: int = 32,
    stateful: bool = False,
    batch_size: int | None = None,
    steps_per_execution: int = 1,
    jit_compile: bool | None = None,
    unroll: bool = False,
) -> keras.Model:
    """An LSTM of ``units`` and a softmax Dense, compiled with Adam, categorical cross-entropy and accuracy.

    A stateful LSTM keeps one state row per sample of a batch, so it needs the batch size when it is
    built: it is declared with ``keras.Input(shape, batch_size=...)``, which every Keras version accepts.
    ``jit_compile``, where given, goes to ``compile`` (``True``: XLA; ``None``: Keras's default; see
    ``XLA_TRAINING`` for when the experiments ask for XLA). ``unroll``: the LSTM's ``unroll`` (its timesteps
    laid out one after another instead of a loop: faster for short sequences under XLA, the same
    arithmetic in another order, so not the same bits).
    """
    if not (isinstance(input_shape, tuple) and len(input_shape) == 2):
        raise ValueError(f"input_shape: expected (timesteps, features), got {input_shape!r}")
    for i, name in enumerate(("timesteps", "features")):
        check_int(f"input_shape[{i}] ({name})", input_shape[i], low=1)
    check_int("n_classes", n_classes, low=2)
    check_int("units", units, low=1)
    check_int("steps_per_execution", steps_per_execution, low=1)
    if jit_compile is not None and not isinstance(jit_compile, bool):
        raise ValueError(f"jit_compile: expected True, False or None, got {jit_compile!r}")
    if not isinstance(unroll, bool):
        raise ValueError(f"unroll: expected True or False, got {unroll!r}")
    if stateful and batch_size is None:
        raise ValueError("batch_size: a stateful LSTM needs a batch size (one state row per sample); got None")
    if batch_size is not None:
        check_int("batch_size", batch_size, low=1)
    limit = max_steps_per_execution()
    if limit is not None:
        steps_per_execution = min(steps_per_execution, limit)

    inputs = keras.Input(shape=input_shape, batch_size=batch_size)
    hidden = keras.layers.LSTM(units, stateful=stateful, unroll=unroll)(inputs)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer="adam",
        loss="categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=steps_per_execution,
        **({} if jit_compile is None else {"jit_compile": jit_compile}),
    )
    return model


def stateful_layers(model) -> list:
    """Every stateful RNN layer of ``model``, inside nested models and wrappers (Bidirectional) too."""
    layers = model._flatten_layers(include_self=False)
    return [layer for layer in layers if isinstance(layer, keras.layers.RNN) and layer.stateful]


def reset_states(model) -> None:
    """Return every stateful layer of ``model`` to zero state (Keras 3 models have no ``reset_states``).

    Each layer resets itself (``layer.reset_states()``), except one whose state is nested (an ``RNN``
    over a list of cells): Keras 3's reset fails on those (a known deviation of the spec), so each of its
    state variables is assigned zeros instead.
    """
    for layer in stateful_layers(model):
        if any(isinstance(state, (list, tuple)) for state in layer.states or ()):
            for variable in state_variables(layer):
                assign_zeros(variable)
        else:
            layer.reset_states()


class ResetStatesEvery(keras.callbacks.Callback):
    """Reset the model's state after every ``batches`` batches of ``fit``, ``evaluate`` or ``predict``.

    With ``steps_per_execution`` > 1 Keras calls batch callbacks once per execution, so it must divide
    ``batches``, and the callback must be told it.
    """

    def __init__(self, batches: int, steps_per_execution: int = 1):
        super().__init__()
        self.batches = check_int("batches", batches, low=1)
        self.steps_per_execution = check_int("steps_per_execution", steps_per_execution, low=1)

    def _maybe_reset(self, batch, logs=None):
        if batches_done(batch, self.steps_per_execution) % self.batches == 0:
            reset_states(self.model)

    on_train_batch_end = on_test_batch_end = on_predict_batch_end = _maybe_reset


def reset_rows(model, rows) -> None:
    """Return rows ``rows`` of every stateful layer's state to zeros and leave the other rows as they are.

    For the stateful layout with sequences of unequal length: when row r's sequence ends and a new one
    starts in row r of the next batch, ``reset_rows(model, [r])`` gives it a fresh state while the other
    rows' sequences go on. Each state variable is read, its rows zeroed, and assigned back
    (``Variable.assign``); the rows are checked against every layer's batch size before any is changed.
    """
    if isinstance(rows, (int, np.integer)) or not all(isinstance(r, (int, np.integer)) for r in rows):
        raise TypeError(f"rows: expected a list of row indices, got {rows!r}")
    rows = [int(r) for r in rows]
    layers = [(layer, layer_states(layer)) for layer in stateful_layers(model)]
    for layer, values in layers:
        for value in values:
            if any(not 0 <= r < len(value) for r in rows):
                raise ValueError(
                    f"rows: expected indices in 0..{len(value) - 1} (layer {layer.name!r} holds a state of "
                    f"{len(value)} rows), got {rows}"
                )
    for layer, values in layers:
        for value in values:
            value[rows] = 0
        assign_states(layer, values)


class KeepValidationApart(keras.callbacks.Callback):
    """Give each validation pass of ``fit`` a state of its own: it starts from zero state, and training
    goes on from the state it had left, as if no validation had run.

    Keras runs ``fit``'s validation on the training state and trains on from where validation left it
    (chapter 19 of the spec): validation samples move the state of the next epoch's first batch. This
    callback keeps the training state at ``on_test_begin``, resets, and assigns the kept state back at
    ``on_test_end``. (With ``evaluate`` it makes the evaluation start from zero and leave the state as
    it was.)
    """

    def on_test_begin(self, logs=None):
        self._kept = [(layer, layer_states(layer)) for layer in stateful_layers(self.model)]
        reset_states(self.model)

    def on_test_end(self, logs=None):
        for layer, values in self._kept:
            if values:
                assign_states(layer, values)
            else:  # the layer held no state yet (evaluate before the first call): zero state
                for variable in state_variables(layer):
                    assign_zeros(variable)


def predict_next(model, dataset: Dataset, pattern: str) -> str:
    """The letter the model predicts after ``pattern``; a stateful model's state moves on by one batch."""
    return dataset.decode(_predict(model, dataset.encode(pattern)))


def warm_up(model, dataset: Dataset, prefix: str) -> None:
    """Feed ``prefix`` letter by letter through a stateful model, leaving its state where the prefix ends."""
    if not prefix:
        raise ValueError("prefix: expected at least one letter, got ''")
    for letter in _windows(dataset, prefix):
        _predict(model, dataset.encode(letter))


def generate(model, dataset: Dataset, seed: str, n: int) -> str:
    """``n`` letters generated from ``seed`` by feeding each prediction back in, as the tutorial does.

    The input at each step is the last ``dataset.length`` letters (fewer for ``variable_length``).
    A stateful model carries its state from step to step; reset it first for a cold start.
    """
    check_int("n", n, low=0)
    text = seed
    context = _windows(dataset, seed)[-1]
    for _ in range(n):
        letter = predict_next(model, dataset, context)
        text += letter
        context = (context + letter)[-dataset.length :]
    return text[len(seed) :]


def _windows(dataset: Dataset, text: str) -> list[str]:
    """The inputs that feed ``text`` through in order: one per letter for one_char, else sliding windows."""
    k = dataset.length
    if dataset.framing == "variable_length":
        return [text[max(0, i + 1 - k) : i + 1] for i in range(len(text))]
    if len(text) < k:
        raise ValueError(f"seed {text!r}: the {dataset.framing} framing needs at least {k} letters")
    return [text[i : i + k] for i in range(len(text) - k + 1)]


def _predict(model, x: np.ndarray) -> np.ndarray:
    """One batch through the model, called directly (``model(x)``), as Keras advises for inputs that fit
    in one batch: faster than ``predict`` for one letter, and it moves a stateful layer's state on every
    backend (``predict`` does not on JAX: a known deviation of the spec)."""
    batch = model.inputs[0].shape[0]
    if batch is not None and batch != len(x):
        raise ValueError(f"model: built for batches of {batch}, but one step here feeds {len(x)} row(s)")
    return to_numpy(model(x, training=False))
