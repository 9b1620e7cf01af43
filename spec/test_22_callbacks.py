"""Chapter 22 (beyond the source document): Keras's callbacks that save, restore and stop a stateful
model's training, and the state they leave it in.

The state is not a weight, and no callback treats it as one. ``EarlyStopping(restore_best_weights=True)``
brings back the best epoch's weights and leaves the state of the last batch trained, a state those
weights never produced. ``ModelCheckpoint`` saves without touching the state, so training goes on as
without it. ``BackupAndRestore`` resumes an interrupted run at the epoch it reached with the weights
of the last epoch's end, and from zero state, as after ``load_model`` (chapter 21): the resumed run
trains the uninterrupted run's weights only where each epoch starts with a reset, as the tutorial's
stateful model does.

Every claim trains a tiny stateful LSTM (2 features, 3 units, batches of 2, SGD at 0.1 towards random
targets, ``shuffle=False``) and holds its weights and state against the ones recorded at each epoch's
end, or against a model trained without the callback."""

from __future__ import annotations

import numpy as np
import pytest

from statefulness._keras import keras, layer_states

from .tiny import TOLERANCE, ResetAtEpochBegin, StateLog, assert_state, trainable

B = 2


def fit(model, x, y, epochs=2, **kwargs):
    return model.fit(x, y, batch_size=B, epochs=epochs, shuffle=False, verbose=0, **kwargs)


def assert_weights(got, expected, what: str) -> None:
    for mine, theirs in zip(got, expected, strict=True):
        np.testing.assert_allclose(mine, theirs, **TOLERANCE, err_msg=f"the weights are not {what}")


class Scores(keras.callbacks.Callback):
    """Writes ``scores[epoch]`` into the logs as ``"score"`` at each epoch's end (the score an
    ``EarlyStopping`` after it monitors), and records the weights at that moment."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.weights = scores, {}

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights[epoch] = self.model.get_weights()


class Preempted(keras.callbacks.Callback):
    """Interrupts ``fit`` as a preemption would, at the start of epoch ``epoch``."""

    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt(f"preempted at the start of epoch {epoch}")


@pytest.mark.claim("callbacks/early-stopping-restores-weights-not-state")
def test_early_stopping_restores_the_best_weights_and_keeps_the_state_of_the_last_batch():
    """``EarlyStopping(monitor="score", patience=1, restore_best_weights=True)`` over scores 0, 1, 2
    (epoch 0 the best): training stops after epoch 1 and the model gets epoch 0's weights back, while
    its state stays the one epoch 1's last batch left. Reset before using the restored model (or
    predict from a warm-up), since its state belongs to other weights."""
    model, layer, x, y = trainable(31)
    scores, log = Scores([0.0, 1.0, 2.0]), StateLog(layer)
    stop = keras.callbacks.EarlyStopping(monitor="score", mode="min", patience=1, restore_best_weights=True)

    history = fit(model, x, y, epochs=3, callbacks=[log, scores, stop])

    assert len(history.history["loss"]) == 2, "training did not stop after epoch 1"
    assert not np.allclose(scores.weights[0][0], scores.weights[1][0], **TOLERANCE)  # epoch 1 did train
    assert_weights(model.get_weights(), scores.weights[0], "epoch 0's (the best epoch's)")
    assert_state(layer_states(layer), log.log[("epoch_end", 1)], "the state epoch 1's last batch left")


@pytest.mark.claim("callbacks/model-checkpoint-leaves-the-state")
def test_model_checkpoint_saves_each_epoch_and_training_goes_on_as_without_it(tmp_path):
    """``ModelCheckpoint(save_weights_only=True)`` at each epoch's end: the run trains the weights and
    ends in the state of the same run without it (no reset, the state carried across epochs), and the
    checkpoint of epoch 1, loaded into a fresh model, holds epoch 1's weights."""
    model, layer, x, y = trainable(32)
    plain, plain_layer, _, _ = trainable(32)
    scores = Scores([0.0, 0.0])
    path = str(tmp_path / "epoch{epoch}.weights.h5")

    fit(model, x, y, callbacks=[scores, keras.callbacks.ModelCheckpoint(path, save_weights_only=True)])
    fit(plain, x, y)

    assert_weights(model.get_weights(), plain.get_weights(), "those of the run without checkpoints")
    assert_state(layer_states(layer), layer_states(plain_layer), "the state of the run without checkpoints")
    fresh, _, _, _ = trainable(33)
    fresh.load_weights(path.format(epoch=1))
    assert_weights(fresh.get_weights(), scores.weights[0], "epoch 1's (Keras counts checkpoints from 1)")


def preempted_and_resumed(seed: int, backup_dir: str, callbacks=()):
    """``fit`` for 2 epochs with ``BackupAndRestore(backup_dir)``, interrupted at the start of epoch 1;
    then a model built anew (as after a preemption) runs the same ``fit``. Returns the resumed model and
    the state log of its run."""
    model, _, x, y = trainable(seed)
    backup = keras.callbacks.BackupAndRestore(backup_dir)
    with pytest.raises(KeyboardInterrupt, match="preempted"):
        fit(model, x, y, callbacks=[backup, *callbacks, Preempted(1)])
    resumed, layer, _, _ = trainable(seed)
    log = StateLog(layer)
    fit(resumed, x, y, callbacks=[keras.callbacks.BackupAndRestore(backup_dir), *callbacks, log])
    return resumed, log


@pytest.mark.claim("callbacks/backup-and-restore-with-resets-trains-the-same")
def test_backup_and_restore_resumes_the_uninterrupted_run_where_every_epoch_resets(tmp_path):
    """With the state reset at each epoch's start, a run interrupted at the start of epoch 1 and
    resumed by ``BackupAndRestore`` runs epoch 1 only, and ends with the weights of the run that
    trained both epochs without stopping."""
    uninterrupted, _, x, y = trainable(34)
    fit(uninterrupted, x, y, callbacks=[ResetAtEpochBegin()])

    resumed, log = preempted_and_resumed(34, str(tmp_path / "backup"), callbacks=[ResetAtEpochBegin()])

    assert list(log.log) == [("epoch_begin", 1), ("epoch_end", 1)], "the resumed run did not start at epoch 1"
    assert_weights(resumed.get_weights(), uninterrupted.get_weights(), "those of the uninterrupted run")


@pytest.mark.claim("callbacks/backup-and-restore-resumes-from-zero-state")
def test_backup_and_restore_resumes_from_zero_state_where_the_uninterrupted_run_goes_on(tmp_path):
    """The trap: without resets, the run that ``BackupAndRestore`` resumes starts epoch 1 from zero
    state (the backup holds weights, not state), where the uninterrupted run goes on from epoch 0's
    state, so the two train other weights."""
    uninterrupted, _, x, y = trainable(35)
    fit(uninterrupted, x, y)

    resumed, log = preempted_and_resumed(35, str(tmp_path / "backup"))

    assert_state(log.log[("epoch_begin", 1)], [np.zeros((B, 3))] * 2, "zero state")
    assert not np.allclose(resumed.get_weights()[0], uninterrupted.get_weights()[0], **TOLERANCE)
