"""The registry of known deviations: each claim or rule that some Keras, backend or kind of model does not
meet, with its diagnosis, measured range, upstream link and workaround (``registry``). Plain data: importing
it never loads Keras."""

from statefulness.deviations.registry import (
    BATCH_OF_ONE,
    CUSTOM_LAYER_HOLDS_STATE,
    DEVIATIONS,
    NESTED_STATE,
    PREDICATES,
    TORCH_FUSED_GRU,
    TORCH_FUSED_LSTM,
    Covers,
    Deviation,
    Predicate,
    deviation_for,
)

__all__ = [
    "BATCH_OF_ONE",
    "CUSTOM_LAYER_HOLDS_STATE",
    "DEVIATIONS",
    "NESTED_STATE",
    "PREDICATES",
    "TORCH_FUSED_GRU",
    "TORCH_FUSED_LSTM",
    "Covers",
    "Deviation",
    "Predicate",
    "deviation_for",
]
