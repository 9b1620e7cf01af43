"""The "learn the alphabet" problem in its four framings.

Each symbol is encoded as its index divided by the alphabet's length (so "A" is 0.0 and "Z" is 25/26),
each target as a one-hot row over the alphabet, as in the tutorial. A :class:`Dataset` keeps the
patterns as text beside the arrays, and can encode new text and decode predictions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from statefulness._keras import keras
from statefulness._validate import check_choice, check_int

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

FRAMINGS = ("one_char", "window_features", "window_timesteps", "variable_length")
"""``one_char``: one letter -> the next, as one time step of one feature.
``window_features``: three letters -> the next, as one time step of three features.
``window_timesteps``: three letters -> the next, as three time steps of one feature.
``variable_length``: random runs of 1 to ``max_len`` letters -> the next, pre-padded to ``max_len`` steps."""

_DEFAULT_WINDOW = 3
_DEFAULT_NUM_SAMPLES = 1000
_DEFAULT_MAX_LEN = 5


@dataclass(frozen=True, eq=False)
class Dataset:
    """Input/target pairs of one framing, as arrays and as text.

    ``X`` has the shape ``(samples, timesteps, features)`` that Keras RNN layers take, ``y`` is one-hot.
    ``patterns[i]`` is the text of ``X[i]`` and ``targets[i]`` the letter that follows it.
    """

    framing: str
    alphabet: str
    length: int
    """Letters per input: the window, or ``max_len`` for ``variable_length``."""
    patterns: tuple[str, ...]
    targets: tuple[str, ...]
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.patterns)

    @property
    def input_shape(self) -> tuple[int, int]:
        """``(timesteps, features)`` of one sample."""
        return tuple(self.X.shape[1:])

    @property
    def n_classes(self) -> int:
        return len(self.alphabet)

    def encode(self, patterns: str | list[str]) -> np.ndarray:
        """Text to model input in this framing: one pattern gives a batch of one, a list a batch of many."""
        texts = [patterns] if isinstance(patterns, str) else list(patterns)
        if not texts:
            raise ValueError("patterns: expected at least one pattern, got an empty list")
        rows = [self._indices(text) for text in texts]
        return _arrange(rows, self.framing, self.length, len(self.alphabet))

    def decode(self, probabilities) -> str:
        """The most probable letter of each row of model output, as one string."""
        probabilities = np.asarray(probabilities)
        if probabilities.ndim != 2 or probabilities.shape[1] != self.n_classes:
            raise ValueError(f"probabilities: expected shape (rows, {self.n_classes}), got {probabilities.shape}")
        return "".join(self.alphabet[i] for i in probabilities.argmax(axis=1))

    def next_letter(self, letter: str) -> str:
        """The letter that follows ``letter`` in the alphabet."""
        index = self._indices(letter)
        if len(index) != 1 or index[0] + 1 >= len(self.alphabet):
            raise ValueError(f"letter: expected one letter of {self.alphabet[:-1]!r}, got {letter!r}")
        return self.alphabet[index[0] + 1]

    def _indices(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"pattern: expected a string of letters, got {type(text).__name__}")
        unknown = sorted(set(text) - set(self.alphabet))
        if unknown:
            raise ValueError(
                f"pattern {text!r}: letters {''.join(unknown)!r} are not in the alphabet {self.alphabet!r}"
            )
        variable = self.framing == "variable_length"
        if (variable and not 1 <= len(text) <= self.length) or (not variable and len(text) != self.length):
            expected = f"1 to {self.length}" if variable else f"exactly {self.length}"
            raise ValueError(f"pattern {text!r}: the {self.framing} framing takes {expected} letters, got {len(text)}")
        return [self.alphabet.index(c) for c in text]


def make_dataset(
    framing: str,
    *,
    alphabet: str = ALPHABET,
    window: int | None = None,
    num_samples: int | None = None,
    max_len: int | None = None,
    seed: int | None = None,
) -> Dataset:
    """The tutorial's input/target pairs for one framing.

    ``window`` (default 3) applies to the two window framings; ``num_samples`` (default 1000),
    ``max_len`` (default 5) and ``seed`` to ``variable_length``, whose runs are drawn as the tutorial
    draws them: a start among all letters but the last two, an end at most ``max_len - 1`` letters
    further and before the last letter. (So the single second-to-last letter, "Y", is never drawn.)
    """
    check_choice("framing", framing, FRAMINGS)
    _check_alphabet(alphabet)
    n = len(alphabet)
    variable = framing == "variable_length"
    for name, value in (("num_samples", num_samples), ("max_len", max_len), ("seed", seed)):
        if value is not None and not variable:
            raise ValueError(f"{name}: applies to the variable_length framing only, not to {framing}")
    if window is not None and not framing.startswith("window"):
        raise ValueError(f"window: applies to the window framings only, not to {framing}")

    if variable:
        max_len = check_int("max_len", _DEFAULT_MAX_LEN if max_len is None else max_len, low=1)
        num_samples = check_int("num_samples", _DEFAULT_NUM_SAMPLES if num_samples is None else num_samples, low=1)
        if n < 3:
            raise ValueError(f"alphabet: the variable_length framing needs at least 3 letters, got {n}")
        rng = np.random.default_rng(seed)
        rows = []
        for _ in range(num_samples):
            start = int(rng.integers(n - 2))
            end = int(rng.integers(start, min(start + max_len, n - 1)))
            rows.append(list(range(start, end + 1)))
        length = max_len
    else:
        length = 1 if framing == "one_char" else _DEFAULT_WINDOW if window is None else window
        length = check_int("window", length, low=1)
        if length >= n:
            raise ValueError(f"window: expected at most {n - 1} for an alphabet of {n} letters, got {length}")
        rows = [list(range(i, i + length)) for i in range(n - length)]

    targets = np.array([row[-1] + 1 for row in rows])
    return Dataset(
        framing=framing,
        alphabet=alphabet,
        length=length,
        patterns=tuple("".join(alphabet[i] for i in row) for row in rows),
        targets=tuple(alphabet[i] for i in targets),
        X=_arrange(rows, framing, length, n),
        y=keras.utils.to_categorical(targets, num_classes=n).astype("float32"),
    )


def all_subsequences(max_len: int = _DEFAULT_MAX_LEN, alphabet: str = ALPHABET) -> list[str]:
    """Every run of 1 to ``max_len`` consecutive letters that has a next letter (115 for A-Z and 5)."""
    _check_alphabet(alphabet)
    max_len = check_int("max_len", max_len, low=1)
    n = len(alphabet)
    return [alphabet[s : s + k] for k in range(1, max_len + 1) for s in range(n - k)]


def _arrange(rows: list[list[int]], framing: str, length: int, n: int) -> np.ndarray:
    """Index rows -> scaled float32 array in the framing's (samples, timesteps, features) layout."""
    if framing == "variable_length":
        padded = keras.utils.pad_sequences(rows, maxlen=length, dtype="float32", padding="pre", value=0.0)
        return (padded / n).reshape(len(rows), length, 1).astype("float32")
    shape = (len(rows), 1, length) if framing == "window_features" else (len(rows), length, 1)
    return (np.array(rows, dtype="float32") / n).reshape(shape)


def _check_alphabet(alphabet) -> None:
    if not isinstance(alphabet, str):
        raise TypeError(f"alphabet: expected a string of distinct letters, got {type(alphabet).__name__}")
    if len(alphabet) < 2:
        raise ValueError(f"alphabet: expected at least 2 distinct letters, got {alphabet!r}")
    repeated = sorted({c for c in alphabet if alphabet.count(c) > 1})
    if repeated:
        raise ValueError(f"alphabet: letters must be distinct, {''.join(repeated)!r} repeat")
