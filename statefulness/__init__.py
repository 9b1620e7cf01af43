"""statefulness: what people believe about stateful LSTMs in Keras, as an executable specification.

The library is the "learn the alphabet" problem of the tutorial in current Keras: datasets in four
framings, the tutorial's model, one-call training, and the few things users of stateful models need
(reset a whole model, predict the next letter, warm the state up, generate letter by letter).

The package is laid out by subsystem: ``tutorial`` (the library above), ``experiments`` (the tutorial's
learning experiments and their claims), ``check`` (the state rules, run on any stateful model),
``deploy`` (``export``: an artifact of a stateful model that keeps its state rules), ``deviations`` (the
registry of known deviations), ``reports`` (claims reports, the matrix, the generated
documents); ``_keras`` is the one module that knows Keras versions and backends (``_versions`` reads
which Keras and backend a process will load, without loading it), ``cli`` the command line on top.
``experiments``' declarations, ``deviations`` and ``reports`` load no Keras.

The public names below are imported on first use (PEP 562, as Scientific Python's SPEC 1 lazy loading):
``import statefulness`` loads no Keras, so that the subsystems that need none (the command line's
``matrix`` and ``spec-doc``, the documents, CI machines without Keras) can be imported through it.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_WHERE = {
    "keras": "_keras",
    "seed_everything": "_keras",
    "versions": "_keras",
    "ALPHABET": "tutorial.data",
    "FRAMINGS": "tutorial.data",
    "Dataset": "tutorial.data",
    "all_subsequences": "tutorial.data",
    "make_dataset": "tutorial.data",
    "KeepValidationApart": "tutorial.model",
    "ResetStatesEvery": "tutorial.model",
    "build_model": "tutorial.model",
    "generate": "tutorial.model",
    "predict_next": "tutorial.model",
    "reset_rows": "tutorial.model",
    "reset_states": "tutorial.model",
    "stateful_layers": "tutorial.model",
    "warm_up": "tutorial.model",
    "train": "tutorial.training",
    "twin": "tutorial.twin",
    "rebatch": "tutorial.twin",
    "step_model": "tutorial.twin",
    "step_states": "tutorial.twin",
    "check_model": "check.rules",
    "export": "deploy.export",
    "stateful_layout": "tutorial.layout",
    "split_sequences": "tutorial.layout",
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
