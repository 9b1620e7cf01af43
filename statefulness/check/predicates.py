"""What kind of model: one implementation of each predicate that the registry of known deviations declares
(``Deviation.when``)."""

from __future__ import annotations

from collections.abc import Callable

from statefulness._keras import keras
from statefulness.deviations import (
    BATCH_OF_ONE,
    CUSTOM_LAYER_HOLDS_STATE,
    NESTED_STATE,
    TORCH_FUSED_GRU,
    TORCH_FUSED_LSTM,
    Predicate,
)
from statefulness.deviations import PREDICATES as DECLARED_PREDICATES
from statefulness.tutorial.model import stateful_layers


def holds(predicate: Predicate, model) -> bool:
    """Is ``model`` of the kind ``predicate`` (``Deviation.when``) names?"""
    return PREDICATES[predicate](model)


# What kind of model: the predicates that known deviations name with ``when``.


def _nested_state(model) -> bool:
    """A stateful layer keeps its state nested (an ``RNN`` over a list of cells)."""
    return any(isinstance(state, (list, tuple)) for layer in stateful_layers(model) for state in layer.states or ())


def _custom_layer_holds_state(model) -> bool:
    """A layer that is neither a model nor has ``reset_states`` holds a stateful layer (Keras 2's
    ``Model.reset_states`` walks ``model.layers`` and models only)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            if _custom_layer_holds_state(layer):
                return True
        elif not hasattr(layer, "reset_states") and stateful_layers(layer):
            return True
    return False


def _torch_fused_lstm(model) -> bool:
    """A stateful ``LSTM`` that may run the backend's own kernel (``use_cudnn`` not False)."""
    return any(
        isinstance(layer, keras.layers.LSTM) and getattr(layer, "use_cudnn", "auto") is not False
        for layer in stateful_layers(model)
    )


def _torch_fused_gru(model) -> bool:
    """A stateful ``GRU`` with ``reset_after=True`` that may run the backend's own kernel, and no such LSTM."""
    return not _torch_fused_lstm(model) and any(
        isinstance(layer, keras.layers.GRU) and layer.reset_after and getattr(layer, "use_cudnn", "auto") is not False
        for layer in stateful_layers(model)
    )


def _batch_of_one(model) -> bool:
    """The model is built for batches of one row."""
    return model.inputs[0].shape[0] == 1


PREDICATES: dict[Predicate, Callable] = {
    NESTED_STATE: _nested_state,
    CUSTOM_LAYER_HOLDS_STATE: _custom_layer_holds_state,
    TORCH_FUSED_LSTM: _torch_fused_lstm,
    TORCH_FUSED_GRU: _torch_fused_gru,
    BATCH_OF_ONE: _batch_of_one,
}
"""One implementation per predicate that the registry declares."""
if set(PREDICATES) != set(DECLARED_PREDICATES):
    raise ImportError(
        f"check.PREDICATES implements {sorted(map(str, PREDICATES))}, the registry declares "
        f"{sorted(map(str, DECLARED_PREDICATES))}"
    )
