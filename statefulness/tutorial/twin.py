"""Copies of a stateful model made from its config: the stateless twin, and the stateful copy at
another batch size (``rebatch``).

The stateless twin is the yardstick for models that no NumPy recurrence describes.

A stateful model fed its sequences in consecutive chunks should compute what the same weights compute
on the whole sequences at once, without state. ``twin(model)`` builds that second model from the first
one's config: every ``stateful`` turned off, every batch dimension freed, the same weights. It uses only
``get_config``, ``from_config``, ``get_weights`` and ``set_weights``, so it works for whatever a config
describes: stacked, nested and wrapped recurrent layers, Keras 2 and Keras 3 configs alike.

``rebatch(model, B, rows)`` answers the most repeated stateful question ("I trained with batch 32; how do I
predict one sample at a time?"): the same config with every batch dimension set to B, the same weights,
and, where ``rows`` are given, the current state of those rows of ``model``, so that their streams go on
exactly where they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from statefulness._keras import assign_states, flatten, keras, layer_states, pack_like, state_variables, to_numpy
from statefulness._validate import check_int
from statefulness.tutorial.model import stateful_layers

_BATCH_SHAPE_KEYS = ("batch_shape", "batch_input_shape", "build_input_shape")
"""Config keys that hold a whole shape, batch dimension first: ``InputLayer``'s (``batch_shape`` in
Keras 3, ``batch_input_shape`` in Keras 2) and ``Sequential``'s ``build_input_shape``."""


def twin(model, custom_objects: dict[str, Any] | None = None, *, free_time: bool = False):
    """A copy of ``model`` with the same weights, ``stateful=False`` on every layer and a free batch
    dimension, for feeding whole sequences of any batch size. With ``free_time``, the time dimension is
    freed too (the input's second dimension, and every shape a layer was built for of rank 3 or more), so
    that a model declared for chunks of T steps takes the whole sequence.

    Raises ``ValueError`` naming the layer when no copy can be stateless: a layer that holds a stateful
    layer but whose config has no ``stateful`` to turn off (a custom layer that hard-codes
    ``stateful=True`` on a layer it owns).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
    try:
        config = model.get_config()
    except NotImplementedError as error:
        raise ValueError(f"model: {model.name!r} ({type(model).__name__}) has no config to copy: {error}") from None
    hard_coded = _hard_coded(model)
    if hard_coded:
        raise ValueError(
            "model: no stateless twin can be made from the config: "
            + "; ".join(hard_coded)
            + " (its config has no `stateful` argument that turns it off)"
        )
    copy = type(model).from_config(_rewrite(config, None, free_time, stateful=False), custom_objects=custom_objects)
    copy.set_weights(model.get_weights())
    return copy


def rebatch(model, batch_size: int, rows: Sequence[int] | None = None, custom_objects: dict[str, Any] | None = None):
    """A stateful copy of ``model`` with the same weights, built for batches of ``batch_size``: the same
    config with every batch dimension set to it. It starts from zero state, or, with ``rows`` (one row of
    ``model``'s batch per row of the copy, in order), from the current state of those rows: row k of the
    copy goes on where row ``rows[k]`` of ``model`` is. ``model`` is left as it was.

    Raises ``ValueError`` (``TypeError`` for a wrong type) naming the argument: ``model`` without a
    stateful layer or a config to copy, ``batch_size`` below 1, ``rows`` not ``batch_size`` rows of
    ``model``'s batch.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
    layers = stateful_layers(model)
    if not layers:
        raise ValueError(f"model: expected a model with a stateful recurrent layer; {model.name!r} has none")
    batch_size = check_int("batch_size", batch_size, low=1)
    chosen = None if rows is None else _rows(rows, batch_size, int(model.inputs[0].shape[0]))
    try:
        config = model.get_config()
    except NotImplementedError as error:
        raise ValueError(f"model: {model.name!r} ({type(model).__name__}) has no config to copy: {error}") from None
    copy = type(model).from_config(_rewrite(config, batch_size, False), custom_objects=custom_objects)
    copy.set_weights(model.get_weights())
    if chosen is not None:
        for old, new in zip(layers, stateful_layers(copy), strict=True):
            assign_states(new, [state[chosen] for state in layer_states(old)])
    return copy


def _rows(rows, batch_size: int, batch: int) -> list[int]:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
        raise TypeError(f"rows: expected a sequence of row indices of the model's batch, got {rows!r}")
    chosen = [check_int(f"rows[{k}]", row) for k, row in enumerate(rows)]
    if len(chosen) != batch_size:
        raise ValueError(f"rows: expected {batch_size} rows (one per row of the copy), got {len(chosen)}")
    outside = [row for row in chosen if not 0 <= row < batch]
    if outside:
        raise ValueError(f"rows: the model's batch has rows 0 to {batch - 1}; got {outside}")
    return chosen


def _rewrite(node, batch: int | None, free_time: bool, stateful: bool | None = None):
    """``node`` (a config, or a part of one) with every batch dimension set to ``batch`` (None: freed), the
    time dimension freed too with ``free_time``, and ``stateful`` set where it is given."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "stateful" and stateful is not None:
                value = stateful
            elif key in _BATCH_SHAPE_KEYS:  # the model's input: its second dimension is time
                value = _batched(value, batch, time=2 if free_time else None)
            elif key == "build_config" and isinstance(value, dict):  # Keras 3: the shapes a layer was built for
                value = {name: _batched(shape, batch, time=3 if free_time else None) for name, shape in value.items()}
            else:
                value = _rewrite(value, batch, free_time, stateful)
            out[key] = value
        if out.get("class_name") == "__keras_tensor__":  # Keras 3: a symbolic tensor's shape in a node
            shape = _batched(out["config"]["shape"], batch, time=3 if free_time else None)
            out["config"] = dict(out["config"], shape=shape)
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(_rewrite(value, batch, free_time, stateful) for value in node)
    return node


def _batched(shape, batch: int | None, time: int | None = None):
    """A shape (or a list or dict of shapes) with its batch dimension set to ``batch``, and its second (time)
    dimension set to None if ``time`` is given and the shape has at least that rank."""
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (int, type(None))) for s in shape):
        free = 2 if time is not None and len(shape) >= time else 1
        return [batch] + [None] * (free - 1) + list(shape[free:])
    if isinstance(shape, (list, tuple)):
        return [_batched(s, batch, time) for s in shape]
    if isinstance(shape, dict):
        return {key: _batched(s, batch, time) for key, s in shape.items()}
    return shape


def _hard_coded(model) -> list[str]:
    """Each top-level layer of ``model`` that holds a stateful layer while its config says nothing of
    ``stateful`` (a user's layer that creates a stateful LSTM itself): its name, class and stateful layers."""
    found = []
    for layer in model.layers:
        inner = [layer] if isinstance(layer, keras.layers.RNN) else stateful_layers(layer)
        inner = [i for i in inner if i.stateful]
        if inner and not _says_stateful(layer.get_config()):
            found.append(
                f"layer {layer.name!r} ({type(layer).__name__}) holds stateful "
                + ", ".join(repr(i.name) for i in inner)
            )
    return found


def _says_stateful(node) -> bool:
    if isinstance(node, dict):
        return node.get("stateful") is True or any(_says_stateful(value) for value in node.values())
    if isinstance(node, (list, tuple)):
        return any(_says_stateful(value) for value in node)
    return False


def step_model(model, custom_objects: dict[str, Any] | None = None):
    """The portable step model of a stateful ``model``: a stateless model with the same weights whose state
    is explicit, ``[x, *states] -> [y, *new_states]``, one state tensor in and out per state variable of
    the stateful layers, layer by layer in the model's order (a ``Bidirectional``'s forward then backward
    states; ``step_states(model)`` gives a stateful model's current states in that order). Fed a chunk
    and the states the previous chunk returned (zeros to start), it computes what ``model`` computes fed
    the chunks in turn, at any batch size and for chunks of any length. A runtime that holds no state
    (a server that answers many streams, an exported graph) serves a stateful model this way.

    Made from the stateless twin: each stateful recurrent layer (or ``Bidirectional`` around one) is called
    with ``initial_state`` and ``return_state=True``; the other layers as they are, nested models inline.
    Raises ``ValueError`` naming ``model`` where no step model can be made: no stateful layer, no twin
    (a layer that hard-codes ``stateful=True``), or layers that are not a chain (the step model, checked on
    drawn inputs, would not compute what the model does).
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model: expected a keras.Model, got {type(model).__name__}")
    inner = stateful_layers(model)
    if not inner:
        raise ValueError(f"model: expected a model with a stateful recurrent layer; {model.name!r} has none")
    originals = {layer.name: layer for layer in _state_holders(model)}  # by name: the twin keeps the names
    stateless = twin(model, custom_objects, free_time=True)
    x = keras.Input(batch_shape=(None, *stateless.inputs[0].shape[1:]), dtype=stateless.inputs[0].dtype)
    state_in: list = []
    state_out: list = []

    def stateful_call(layer, tensor):
        original = originals[layer.name]
        shapes = [tuple(variable.shape[1:]) for variable in state_variables(original)]
        inputs = [keras.Input(batch_shape=(None, *shape)) for shape in shapes]
        config = _with_return_state(layer.get_config())
        copy = type(layer).from_config(config)
        initial = inputs if isinstance(layer, keras.layers.Bidirectional) else pack_like(original.states, inputs)
        y, *states = copy(tensor, initial_state=initial)
        copy.set_weights(layer.get_weights())
        state_in.extend(inputs)
        state_out.extend(flatten(states))
        return y

    def replay(container, tensor):
        for layer in container.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if isinstance(layer, keras.Model):
                tensor = replay(layer, tensor)
            elif layer.name in originals:
                tensor = stateful_call(layer, tensor)
            elif stateful_layers(layer):
                raise ValueError(
                    f"model: layer {layer.name!r} ({type(layer).__name__}) holds a stateful layer inside: "
                    "no step model can call it with its state"
                )
            else:
                tensor = layer(tensor)
        return tensor

    y = replay(stateless, x)
    if len(state_in) != sum(len(state_variables(layer)) for layer in inner):
        raise ValueError(f"model: {model.name!r} is not a chain of layers: some stateful layers were not reached")
    step = keras.Model([x, *state_in], [y, *state_out], name=f"{model.name}_step")
    _check_chain(model, stateless, step)
    return step


def step_states(model) -> list[np.ndarray]:
    """The states that ``model``'s stateful layers hold now, in the order of ``step_model(model)``'s state
    inputs: to hand streams over from the stateful model to its step model (row r of each, for one)."""
    return [state for layer in _state_holders(model) for state in layer_states(layer)]


def _state_holders(model) -> list:
    """The layers whose state the step model takes, in the model's order: each stateful recurrent layer,
    or the ``Bidirectional`` around one (its forward then its backward states)."""
    inner = stateful_layers(model)
    holders = [
        layer
        for layer in model._flatten_layers(include_self=False)
        if any(layer is part for part in inner)
        or (isinstance(layer, keras.layers.Bidirectional) and layer.forward_layer.stateful)
    ]
    wrapped = [
        part
        for layer in holders
        if isinstance(layer, keras.layers.Bidirectional)
        for part in (layer.forward_layer, layer.backward_layer)
    ]
    return [layer for layer in holders if not any(layer is part for part in wrapped)]


def _with_return_state(config: dict) -> dict:
    config = dict(config)
    if "layer" in config and isinstance(config["layer"], dict):  # Bidirectional: its wrapped layers return it
        for key in ("layer", "backward_layer"):
            if isinstance(config.get(key), dict):
                config[key] = dict(config[key], config=dict(config[key]["config"], return_state=True))
        return config
    config["return_state"] = True
    return config


def _check_chain(model, stateless, step) -> None:
    """Raise ``ValueError`` unless ``step`` from zero state computes what ``stateless`` does on drawn inputs."""
    shape = [2, 3, *(int(d) for d in stateless.inputs[0].shape[2:])]
    x = np.random.default_rng(0).uniform(-1, 1, shape).astype("float32")
    zeros = [np.zeros((2, *(int(d) for d in t.shape[1:])), "float32") for t in step.inputs[1:]]
    got = to_numpy(step([x, *zeros])[0])
    if got.shape != to_numpy(stateless(x)).shape or not np.allclose(got, to_numpy(stateless(x)), rtol=1e-4, atol=1e-5):
        raise ValueError(
            f"model: {model.name!r} is not a chain of layers: its step model does not compute what the model does"
        )
