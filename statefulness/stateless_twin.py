"""The stateless twin of a stateful model: the yardstick for models that no NumPy recurrence describes.

A stateful model fed its sequences in consecutive chunks should compute what the same weights compute
on the whole sequences at once, without state. ``twin(model)`` builds that second model from the first
one's config: every ``stateful`` turned off, every batch dimension freed, the same weights. It uses only
``get_config``, ``from_config``, ``get_weights`` and ``set_weights``, so it works for whatever a config
describes: stacked, nested and wrapped recurrent layers, Keras 2 and Keras 3 configs alike.
"""

from __future__ import annotations

from typing import Any

from ._keras import keras
from .model import stateful_layers

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
    copy = type(model).from_config(_stateless(config, free_time), custom_objects=custom_objects)
    copy.set_weights(model.get_weights())
    return copy


def _stateless(node, free_time: bool = False):
    """``node`` (a config, or a part of one) with ``stateful`` off and batch (and time) dimensions freed."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "stateful":
                value = False
            elif key in _BATCH_SHAPE_KEYS:  # the model's input: its second dimension is time
                value = _free(value, time=2 if free_time else None)
            elif key == "build_config" and isinstance(value, dict):  # Keras 3: the shapes a layer was built for
                value = {name: _free(shape, time=3 if free_time else None) for name, shape in value.items()}
            else:
                value = _stateless(value, free_time)
            out[key] = value
        if out.get("class_name") == "__keras_tensor__":  # Keras 3: a symbolic tensor's shape in a node
            out["config"] = dict(out["config"], shape=_free(out["config"]["shape"], time=3 if free_time else None))
        return out
    if isinstance(node, (list, tuple)):
        return type(node)(_stateless(value, free_time) for value in node)
    return node


def _free(shape, time: int | None = None):
    """A shape (or a list or dict of shapes) with its batch dimension set to None, and its second (time)
    dimension too if ``time`` is given and the shape has at least that rank."""
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (int, type(None))) for s in shape):
        free = 2 if time is not None and len(shape) >= time else 1
        return [None] * free + list(shape[free:])
    if isinstance(shape, (list, tuple)):
        return [_free(s, time) for s in shape]
    if isinstance(shape, dict):
        return {key: _free(s, time) for key, s in shape.items()}
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
