"""statefulness: what people believe about stateful LSTMs in Keras, as an executable specification.

The library is the "learn the alphabet" problem of the tutorial in current Keras: datasets in four
framings, the tutorial's model, one-call training, and the few things users of stateful models need
(reset a whole model, predict the next letter, warm the state up, generate letter by letter).

Names are imported on first use, so that ``import statefulness`` (and the command line's ``matrix``
and ``spec-doc``) do not load Keras and its backend until they are needed.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_WHERE = {
    "keras": "_keras",
    "seed_everything": "_keras",
    "versions": "_keras",
    "ALPHABET": "data",
    "FRAMINGS": "data",
    "Dataset": "data",
    "all_subsequences": "data",
    "make_dataset": "data",
    "ResetStatesEvery": "model",
    "build_model": "model",
    "generate": "model",
    "predict_next": "model",
    "reset_states": "model",
    "stateful_layers": "model",
    "warm_up": "model",
    "train": "training",
    "twin": "stateless_twin",
    "rebatch": "stateless_twin",
    "step_model": "stateless_twin",
    "step_states": "stateless_twin",
    "check_model": "check",
    "stateful_layout": "layout",
    "split_sequences": "layout",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'statefulness' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
