"""Train a model on a dataset: all epochs in one ``fit`` call.

The tutorial trains with ``fit(X, y, epochs=E, batch_size=B)`` (Keras shuffles every epoch), or, for the
stateful model, with a Python loop of ``fit(..., epochs=1, shuffle=False)`` and ``reset_states()``.
For these tiny models Keras spends most of its time per epoch, not per step (a new data iterator,
callbacks, metric resets), so :func:`train` lays the epochs end to end (each one in the order that
``shuffle`` asks for, drawn from ``seed``) and trains them in a single ``fit`` that takes them in that order
(``_keras.fit_inputs``: a ``tf.data.Dataset`` on TensorFlow, else the arrays with ``shuffle=False``) with
``steps_per_execution`` set to whole epochs. A callback marks the epoch boundaries: it resets the state
where asked, records the epoch's loss and accuracy, and resets the metrics, so that the history is the
one a loop of one-epoch ``fit`` calls would give. The spec checks that both ways give the same weights.
"""

from __future__ import annotations

import math

import numpy as np

from statefulness import _keras
from statefulness._keras import keras
from statefulness._validate import check_choice, check_int
from statefulness.tutorial.data import Dataset
from statefulness.tutorial.model import KeepValidationApart, ResetStatesEvery

RESETS = ("never", "epoch")


def train(
    model,
    data,
    *,
    epochs: int,
    batch_size: int = 1,
    shuffle: bool = True,
    reset: str | int = "never",
    seed: int | None = None,
    log_every: int = 1,
    progress: bool = False,
    validation_data=None,
) -> dict[str, list[float]]:
    """Train ``model`` on ``data`` (a :class:`Dataset` or a tuple ``(X, y)``); return the history.

    - ``shuffle``: a new random order of the samples every epoch (Keras's default), else their order.
    - ``reset``: when to reset the model's state: ``"never"``, every ``"epoch"`` (the tutorial's
      stateful model), or every ``k`` batches (an ``int``).
    - ``seed``: seeds the shuffling; ``None`` draws it from NumPy's global generator, which
      ``keras.utils.set_random_seed`` seeds.
    - ``log_every``: record the mean loss and accuracy of every ``log_every`` epochs (one entry per epoch
      by default). Larger values let Keras run more steps per call, faster on one-batch epochs.
    - ``progress``: print a progress bar over the epochs.
    - ``validation_data``: a :class:`Dataset` or ``(X, y)`` evaluated after every ``log_every`` epochs,
      in batches of ``batch_size``, from zero state and apart from training's state
      (:class:`KeepValidationApart`: fit's own validation would move the training state, chapter 19
      of the spec); its loss and accuracy go into the history as ``val_loss`` and ``val_accuracy``.

    The history maps ``"loss"`` and ``"accuracy"`` (and ``"val_loss"`` and ``"val_accuracy"``) to one
    value per ``log_every`` epochs, as ``model.fit(...).history`` does per epoch.
    """
    X, y = _arrays(data)
    validation = None if validation_data is None else _arrays(validation_data, "validation_data")
    epochs = check_int("epochs", epochs, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    log_every = check_int("log_every", log_every, low=1)
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle: expected True or False, got {shuffle!r}")
    if isinstance(reset, str):
        check_choice("reset", reset, RESETS)
    else:
        check_int("reset", reset, low=1)
    n = len(X)
    if n % batch_size:
        raise ValueError(
            f"batch_size: train() lays the epochs end to end, so the batch size must divide the "
            f"{n} samples; got {batch_size}"
        )
    model_batch = model.inputs[0].shape[0]
    if model_batch is not None and model_batch != batch_size:
        raise ValueError(f"batch_size: the model was built for batches of {model_batch}, got {batch_size}")
    if epochs % log_every:
        raise ValueError(f"log_every: expected a divisor of epochs ({epochs}), got {log_every}")
    if validation is not None and model_batch is not None and len(validation[0]) % batch_size:
        raise ValueError(
            f"validation_data: a stateful model takes whole batches of {batch_size}, so the batch size must divide "
            f"the {len(validation[0])} validation samples"
        )

    steps_per_epoch = n // batch_size
    steps_per_log = steps_per_epoch * log_every
    reset_period = {"never": None, "epoch": steps_per_epoch}[reset] if isinstance(reset, str) else reset
    steps = steps_per_log if reset_period is None else math.gcd(steps_per_log, reset_period)
    limit = _keras.max_steps_per_execution()
    if limit is not None:  # the largest divisor within the limit, so that boundaries still fall on executions
        steps = max(d for d in range(1, min(steps, limit) + 1) if steps % d == 0)

    order = np.concatenate(epoch_orders(n, epochs, shuffle=shuffle, seed=seed))
    boundaries = EpochBoundaries(steps_per_log, steps, epochs // log_every, progress, validation, batch_size)
    callbacks = [boundaries] if reset_period is None else [ResetStatesEvery(reset_period, steps), boundaries]

    before = _keras.get_steps_per_execution(model)
    _keras.set_steps_per_execution(model, steps)
    try:
        model.fit(**_keras.fit_inputs(X[order], y[order], batch_size), epochs=1, verbose=0, callbacks=callbacks)
    finally:
        _keras.set_steps_per_execution(model, before)
    return boundaries.history


def epoch_orders(n: int, epochs: int, *, shuffle: bool, seed: int | None) -> list[np.ndarray]:
    """The order of the ``n`` samples in each epoch: ``default_rng(seed).permutation(n)`` drawn anew
    for every epoch if ``shuffle``, else ``0 .. n - 1``. (What ``train`` feeds, in one list per epoch.)"""
    if not shuffle:
        return [np.arange(n)] * epochs
    rng = np.random.default_rng(np.random.randint(2**31) if seed is None else seed)
    return [rng.permutation(n) for _ in range(epochs)]


class EpochBoundaries(keras.callbacks.Callback):
    """Marks epoch boundaries inside one long ``fit`` epoch: every ``steps_per_log`` batches it records
    the metrics, evaluates ``validation`` (``(X, y)``, or None) from zero state apart from training's
    state, and resets the metrics. ``steps_per_execution`` must divide ``steps_per_log``."""

    def __init__(
        self,
        steps_per_log: int,
        steps_per_execution: int,
        logs_expected: int,
        progress: bool,
        validation: tuple[np.ndarray, np.ndarray] | None = None,
        batch_size: int = 1,
    ):
        super().__init__()
        self.steps_per_log = steps_per_log
        self.steps_per_execution = steps_per_execution
        self.validation, self.batch_size = validation, batch_size
        self.history: dict[str, list[float]] = {"loss": [], "accuracy": []}
        if validation is not None:
            self.history.update(val_loss=[], val_accuracy=[])
        self._bar = keras.utils.Progbar(logs_expected, unit_name="epoch") if progress else None

    def on_train_batch_end(self, batch, logs=None):
        if _keras.batches_done(batch, self.steps_per_execution) % self.steps_per_log == 0:
            for key in ("loss", "accuracy"):
                self.history[key].append(float(logs[key]))
            if self.validation is not None:
                X, y = self.validation
                scores = self.model.evaluate(
                    X, y, batch_size=self.batch_size, verbose=0, return_dict=True, callbacks=[KeepValidationApart()]
                )
                for key in ("loss", "accuracy"):
                    self.history[f"val_{key}"].append(float(scores[key]))
            self.model.reset_metrics()
            if self._bar is not None:
                self._bar.add(1, values=[(k, v[-1]) for k, v in self.history.items()])


def _arrays(data, argument: str = "data") -> tuple[np.ndarray, np.ndarray]:
    if isinstance(data, Dataset):
        return data.X, data.y
    if isinstance(data, tuple) and len(data) == 2:
        X, y = (np.asarray(a) for a in data)
        if X.ndim != 3 or y.ndim != 2 or len(X) != len(y) or len(X) == 0:
            raise ValueError(
                f"{argument}: expected X of shape (samples, timesteps, features) and y of shape (samples, classes) "
                f"with the same number of samples; got {X.shape} and {y.shape}"
            )
        return X, y
    raise TypeError(f"{argument}: expected a Dataset or a tuple (X, y), got {type(data).__name__}")
