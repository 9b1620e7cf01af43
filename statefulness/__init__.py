"""statefulness: what people believe about stateful LSTMs in Keras, as an executable specification.

The library is the "learn the alphabet" problem of the tutorial in current Keras: datasets in four
framings, the tutorial's model, one-call training, and the few things users of stateful models need
(reset a whole model, predict the next letter, warm the state up, generate letter by letter).
"""

from ._keras import keras, seed_everything, versions
from .data import ALPHABET, FRAMINGS, Dataset, all_subsequences, make_dataset
from .model import build_model, generate, predict_next, reset_states, stateful_layers, warm_up
from .training import train

__version__ = "0.1.0"

__all__ = [
    "ALPHABET",
    "FRAMINGS",
    "Dataset",
    "all_subsequences",
    "build_model",
    "generate",
    "keras",
    "make_dataset",
    "predict_next",
    "reset_states",
    "seed_everything",
    "stateful_layers",
    "train",
    "versions",
]
