"""Lay long sequences out for a stateful model, and back.

A stateful layer hands the state of row i of one batch to row i of the next (spec chapter 3). So to
carry state from piece to piece of a long sequence, piece j of sequence i must sit at row i of batch j,
for every batch: the sequences go in groups of ``batch_size``, and each group fills ``pieces``
consecutive batches. At the end of each group the state must be reset, since the next batch starts new
sequences: every ``pieces`` batches (``Layout.reset_every``)::

    sequences (n, T, F)  --cut into pieces of length L-->  X (n/bs * T/L * bs, L, F)
    batch j of group g, row i  =  piece j of sequence g * bs + i
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from statefulness._validate import check_int


@dataclass(frozen=True, eq=False)
class Layout:
    """``X`` (and ``y``) in stateful order, with what it takes to use and undo them."""

    X: np.ndarray = field(repr=False)
    y: np.ndarray | None = field(repr=False)
    batch_size: int
    pieces: int
    """Pieces per long sequence: reset the state every ``pieces`` batches (``reset_every``)."""
    sequences: int
    piece_length: int

    @property
    def reset_every(self) -> int:
        return self.pieces

    def unstack(self, rows: np.ndarray) -> np.ndarray:
        """The inverse of the layout: per-row values (``X``, ``y`` or what ``predict`` returns for ``X``)
        back to ``(sequences, pieces, ...)``; :func:`join_steps` then joins per-step pieces in time."""
        rows = np.asarray(rows)
        if len(rows) != len(self.X):
            raise ValueError(f"rows: expected {len(self.X)} rows (one per row of X), got {len(rows)}")
        groups = self.sequences // self.batch_size
        grid = rows.reshape(groups, self.pieces, self.batch_size, *rows.shape[1:])
        return np.swapaxes(grid, 1, 2).reshape(self.sequences, self.pieces, *rows.shape[1:])


def stateful_layout(sequences, targets=None, *, piece_length: int, batch_size: int) -> Layout:
    """Cut ``sequences`` (n, T, F) into pieces of ``piece_length`` steps and order them for a stateful
    model with ``batch_size``. ``targets``, if given, is either one target per piece, shape
    ``(n, T / piece_length, ...)``, or one per time step, shape ``(n, T, ...)`` (cut like the inputs)."""
    sequences = np.asarray(sequences)
    if sequences.ndim != 3:
        raise ValueError(f"sequences: expected shape (sequences, timesteps, features), got {sequences.shape}")
    n, steps, _ = sequences.shape
    piece_length = check_int("piece_length", piece_length, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    if steps % piece_length:
        raise ValueError(f"piece_length: must divide the {steps} time steps of each sequence; got {piece_length}")
    if n % batch_size:
        raise ValueError(
            f"batch_size: must divide the {n} sequences (a batch holds one piece of each of "
            f"batch_size sequences); got {batch_size}"
        )
    pieces = steps // piece_length
    X = _order(sequences.reshape(n, pieces, piece_length, *sequences.shape[2:]), batch_size)
    y = None
    if targets is not None:
        targets = np.asarray(targets)
        if len(targets) != n or targets.ndim < 2 or targets.shape[1] not in (pieces, steps):
            raise ValueError(
                f"targets: expected shape ({n}, {pieces}, ...) or ({n}, {steps}, ...), got {targets.shape}"
            )
        if targets.shape[1] == steps and pieces != steps:
            targets = targets.reshape(n, pieces, piece_length, *targets.shape[2:])
        y = _order(targets, batch_size)
    return Layout(X, y, batch_size, pieces, n, piece_length)


def join_steps(per_sequence: np.ndarray) -> np.ndarray:
    """``(sequences, pieces, L, ...)`` from :meth:`Layout.unstack` of per-step outputs -> ``(sequences, T, ...)``."""
    per_sequence = np.asarray(per_sequence)
    return per_sequence.reshape(per_sequence.shape[0], -1, *per_sequence.shape[3:])


def _order(per_piece: np.ndarray, batch_size: int) -> np.ndarray:
    """``(n, pieces, ...)`` -> rows in stateful order: group, then piece, then sequence within the group."""
    n, pieces = per_piece.shape[:2]
    grid = per_piece.reshape(n // batch_size, batch_size, pieces, *per_piece.shape[2:])
    return np.swapaxes(grid, 1, 2).reshape(n * pieces, *per_piece.shape[2:])


def split_sequences(
    n_sequences: int, *, pieces: int, piece_length: int, classes: int = 2, noise: float = 0.5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The Q&A's question as data: long sequences whose answer lies only in their first piece.

    Each sequence starts with a key, one of ``classes`` values spread over [-1, 1]; every other step is
    noise drawn uniformly from [-noise, noise]. The target of *every* piece is the key (one-hot), so a
    model can answer a piece after the first only if state carries the key from the first piece.
    Returns ``sequences`` of shape ``(n, pieces * piece_length, 1)`` and targets ``(n, pieces, classes)``.
    """
    n_sequences = check_int("n_sequences", n_sequences, low=1)
    pieces = check_int("pieces", pieces, low=1)
    piece_length = check_int("piece_length", piece_length, low=1)
    classes = check_int("classes", classes, low=2)
    rng = np.random.default_rng(seed)
    keys = rng.integers(classes, size=n_sequences)
    sequences = rng.uniform(-noise, noise, size=(n_sequences, pieces * piece_length, 1)).astype("float32")
    sequences[:, 0, 0] = np.linspace(-1, 1, classes)[keys]
    targets = np.repeat(np.eye(classes, dtype="float32")[keys][:, None, :], pieces, axis=1)
    return sequences, targets
