"""Deliberately broken Keras: mutants that the spec must catch.

Each mutant is a small patch to Keras 3 (``keras.src``) that breaks statefulness in one realistic way.
They are applied only when ``STATEFULNESS_MUTANT`` names one and the ``mutants.plugin`` pytest plugin is
loaded (``python -m mutants`` does both, in a subprocess per mutant); nothing else ever imports them.
"""

from __future__ import annotations

from collections.abc import Callable

MUTANTS: dict[str, tuple[str, Callable[[], None]]] = {}


def apply(name: str) -> None:
    """Apply mutant ``name`` in this process, and in the LiteRT converter's, which runs in a process of its
    own (``statefulness.deploy.litert``)."""
    MUTANTS[name][1]()
    from statefulness.deploy import litert

    litert._CONVERT = f"from mutants import MUTANTS\nMUTANTS[{name!r}][1]()\n" + litert._CONVERT


def mutant(description: str):
    def register(apply):
        MUTANTS[apply.__name__] = (description, apply)
        return apply

    return register


def _wrap_rnn_call(change_initial_state=None, change_sequences=None, only=lambda layer: True):
    """Wrap ``RNN.call`` so that the state it starts from (and/or its input) is changed first, in the
    layers for which ``only(layer)`` holds (every recurrent layer by default)."""
    from keras.src import ops
    from keras.src.layers.rnn.rnn import RNN

    original = RNN.call

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if not only(self):
            return original(self, sequences, initial_state=initial_state, mask=mask, training=training)
        if change_sequences is not None:
            sequences = change_sequences(self, sequences)
        if initial_state is None and change_initial_state is not None:
            stored = self.states if self.stateful else self.get_initial_state(ops.shape(sequences)[0])
            initial_state = change_initial_state(self, [ops.convert_to_tensor(s) for s in stored])
        return original(self, sequences, initial_state=initial_state, mask=mask, training=training)

    RNN.call = call


@mutant("a stateful layer does not carry its state to the next batch (starts from zeros)")
def state_not_carried():
    from keras.src import ops

    _wrap_rnn_call(lambda self, s: [ops.zeros_like(x) for x in s] if self.stateful else s)


@mutant("the state of row i goes to row i + 1 of the next batch, not to row i")
def state_to_wrong_row():
    from keras.src import ops

    _wrap_rnn_call(lambda self, s: [ops.roll(x, 1, axis=0) for x in s] if self.stateful else s)


@mutant("only the hidden state h is carried; the cell state c starts from zeros")
def only_h_carried():
    from keras.src import ops

    _wrap_rnn_call(lambda self, s: [s[0], ops.zeros_like(s[1])] if self.stateful and len(s) == 2 else s)


@mutant("only the cell state c is carried; the hidden state h starts from zeros")
def only_c_carried():
    from keras.src import ops

    _wrap_rnn_call(lambda self, s: [ops.zeros_like(s[0]), s[1]] if self.stateful and len(s) == 2 else s)


@mutant("reset_state() does nothing")
def reset_does_nothing():
    from keras.src.layers.rnn.rnn import RNN

    RNN.reset_state = lambda self: None


@mutant("reset_state() zeroes h but leaves c")
def reset_only_half():
    from keras.src import ops
    from keras.src.layers.rnn.rnn import RNN

    def reset_state(self):
        if self.states is not None:
            self.states[0].assign(ops.zeros_like(self.states[0].value))

    RNN.reset_state = reset_state


@mutant("a stateless layer starts each batch from a small non-zero state")
def stateless_not_from_zero():
    from keras.src import ops

    _wrap_rnn_call(lambda self, s: s if self.stateful else [x + 0.05 * ops.ones_like(x) for x in s])


@mutant("rows of a batch leak into each other (each row's input gets a share of the batch mean)")
def rows_leak():
    from keras.src import ops

    _wrap_rnn_call(change_sequences=lambda self, x: x + 0.1 * ops.mean(x, axis=0, keepdims=True))


def _force_shuffle(value: bool, adapter: str = "array_data_adapter.ArrayDataAdapter") -> None:
    """Make every data adapter of class ``adapter`` (in ``keras.src.trainers.data_adapters``) shuffle (or
    not), whatever ``fit`` was told."""
    import importlib

    module, _, name = adapter.rpartition(".")
    cls = getattr(importlib.import_module(f"keras.src.trainers.data_adapters.{module}"), name)
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        kwargs["shuffle"] = value
        original(self, *args, **kwargs)

    cls.__init__ = __init__


@mutant("fit ignores shuffle=False and shuffles anyway")
def shuffle_false_ignored():
    _force_shuffle(True)


@mutant("fit never shuffles, whatever shuffle says")
def shuffle_ignored():
    _force_shuffle(False)


def _build_without_batch_size(only=lambda layer: True):
    """Build a stateful layer on an unknown batch size as if for batches of one, instead of refusing."""
    from keras.src.layers.rnn.rnn import RNN

    original = RNN.build

    def build(self, sequences_shape, initial_state_shape=None):
        if only(self) and self.stateful and sequences_shape[0] is None:
            sequences_shape = (1, *sequences_shape[1:])
        return original(self, sequences_shape, initial_state_shape)

    RNN.build = build


@mutant("a stateful layer without a batch size is built silently, for batches of one")
def no_batch_size_check():
    _build_without_batch_size()


def _reset_before(method: str) -> None:
    """Make ``Model.<method>`` reset the state of every stateful layer before it starts."""
    from keras.src.models.model import Model

    from statefulness.tutorial.model import reset_states

    original = getattr(Model, method)

    def wrapped(self, *args, **kwargs):
        reset_states(self)
        return original(self, *args, **kwargs)

    setattr(Model, method, wrapped)


@mutant("predict resets the state of every stateful layer before it starts")
def predict_resets_state():
    _reset_before("predict")


@mutant("predict_on_batch resets the state of every stateful layer before it starts")
def predict_on_batch_resets_state():
    _reset_before("predict_on_batch")


@mutant("evaluate resets the state of every stateful layer before it starts")
def evaluate_resets_state():
    _reset_before("evaluate")


@mutant("fit resets the state of every stateful layer before it starts")
def fit_resets_state():
    _reset_before("fit")


@mutant("the LSTM's forget gate uses the input gate's weights (a wrong recurrence)")
def wrong_forget_gate():
    from keras.src.layers.rnn.lstm import LSTMCell

    def _compute_carry_and_output_fused(self, z, c_tm1):
        z0, z1, z2, z3 = z
        i = self.recurrent_activation(z0)
        f = self.recurrent_activation(z0)  # should be z1
        c = f * c_tm1 + i * self.activation(z2)
        o = self.recurrent_activation(z3)
        return c, o

    LSTMCell._compute_carry_and_output_fused = _compute_carry_and_output_fused


def _run_other_sizes_stateless(only=lambda layer: True):
    """Run a batch of another size than the stored state's from zeros, as if stateless, instead of refusing."""
    from keras.src import tree
    from keras.src.layers.rnn.rnn import RNN

    original = RNN.call

    def call(self, sequences, initial_state=None, mask=None, training=False):
        rows = sequences.shape[0]
        stored = tree.flatten(self.states) if self.stateful and self.states is not None else []
        expected = stored[0].shape[0] if stored else None
        if not only(self) or expected is None or rows is None or rows == expected:
            return original(self, sequences, initial_state=initial_state, mask=mask, training=training)
        self.stateful = False
        try:
            return original(self, sequences, initial_state=initial_state, mask=mask, training=training)
        finally:
            self.stateful = True

    RNN.call = call


@mutant("a stateful layer fed a batch of another size runs it silently from zeros, as if stateless")
def batch_size_not_checked():
    _run_other_sizes_stateless()


@mutant("keras.Input(shape, batch_size=B) forgets the batch size")
def input_batch_size_ignored():
    from keras.src.layers.core.input_layer import InputLayer

    original = InputLayer.__init__

    def __init__(self, shape=None, batch_size=None, *args, **kwargs):
        original(self, shape, None, *args, **kwargs)

    InputLayer.__init__ = __init__


# Breakages of one layer kind or model shape only: the tutorial's LSTM claims pass against each of them,
# so only the breadth claims (every kind of model of statefulness.check.kinds) can catch them.


def _is_gru(layer) -> bool:
    return type(layer).__name__ == "GRU"


@mutant("a stateful GRU does not carry its state to the next batch (LSTMs do)")
def gru_state_not_carried():
    from keras.src import ops

    _wrap_rnn_call(lambda self, s: [ops.zeros_like(x) for x in s] if self.stateful else s, only=_is_gru)


@mutant(
    "a stateful layer that reads backwards (go_backwards, the backward half of Bidirectional) starts "
    "every batch from zeros"
)
def backwards_state_not_carried():
    from keras.src import ops

    _wrap_rnn_call(
        lambda self, s: [ops.zeros_like(x) for x in s] if self.stateful else s, only=lambda layer: layer.go_backwards
    )


@mutant("the rows of a batch leak into each other in a GRU (LSTMs keep them apart)")
def gru_rows_leak():
    from keras.src import ops

    _wrap_rnn_call(change_sequences=lambda self, x: x + 0.1 * ops.mean(x, axis=0, keepdims=True), only=_is_gru)


@mutant("the GRU's gates use a hard sigmoid instead of the sigmoid (a wrong recurrence)")
def gru_hard_sigmoid():
    from keras.src import activations
    from keras.src.layers.rnn.gru import GRUCell

    original = GRUCell.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.recurrent_activation = activations.get("hard_sigmoid")

    GRUCell.__init__ = __init__


@mutant("reset_state() skips nested states (an RNN over a list of cells keeps its state)")
def reset_misses_nested_states():
    from keras.src import ops
    from keras.src.layers.rnn.rnn import RNN

    def reset_state(self):
        for state in self.states or ():
            if not isinstance(state, (list, tuple)):
                state.assign(ops.zeros_like(state.value))

    RNN.reset_state = reset_state


@mutant("a stateful GRU without a batch size is built silently, for batches of one (LSTMs refuse)")
def gru_no_batch_size_check():
    _build_without_batch_size(only=_is_gru)


@mutant("a stateful GRU fed a batch of another size runs it from zeros, as if stateless (LSTMs refuse)")
def gru_batch_size_not_checked():
    _run_other_sizes_stateless(only=_is_gru)


# Breakages of a copy at another batch size (chapter 17).


@mutant("a stateful layer's first call starts from zeros, whatever state was assigned to it before")
def first_call_drops_assigned_state():
    from keras.src import ops, tree
    from keras.src.layers.rnn.rnn import RNN

    original = RNN.call
    called: set[int] = set()

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if self.stateful and id(self) not in called:
            called.add(id(self))
            for state in tree.flatten(self.states):
                state.assign(ops.zeros_like(state.value))
        return original(self, sequences, initial_state=initial_state, mask=mask, training=training)

    RNN.call = call


@mutant("a stateful layer is built holding a small non-zero state, not zeros")
def stateful_built_nonzero():
    from keras.src import ops, tree
    from keras.src.layers.rnn.rnn import RNN

    original = RNN.build

    def build(self, sequences_shape, initial_state_shape=None):  # Keras maps shapes to build by argument name
        original(self, sequences_shape, initial_state_shape)
        if self.stateful and self.states is not None:
            for state in tree.flatten(self.states):
                state.assign(0.05 * ops.ones_like(state.value))

    RNN.build = build


@mutant("a layer called with return_state=True returns the state it started from, not the one it ends in")
def returned_state_is_the_initial_one():
    from keras.src.layers.rnn.rnn import RNN

    original = RNN.call

    def call(self, sequences, initial_state=None, mask=None, training=False):
        out = original(self, sequences, initial_state=initial_state, mask=mask, training=training)
        if not self.return_state or initial_state is None:
            return out
        return [out[0], *initial_state] if isinstance(out, (list, tuple)) else out

    RNN.call = call


@mutant("model.export() writes the SavedModel from zero state, and leaves the model reset")
def export_resets_the_state():
    from keras.src import ops, tree
    from keras.src.layers.rnn.rnn import RNN
    from keras.src.models.model import Model

    original = Model.export

    def export(self, *args, **kwargs):
        for layer in self._flatten_layers():
            if isinstance(layer, RNN) and layer.stateful and layer.states is not None:
                for state in tree.flatten(layer.states):
                    state.assign(ops.zeros_like(state.value))
        return original(self, *args, **kwargs)

    Model.export = export


@mutant(
    "model.export() keeps the model's batch size in the serving signature, as Keras 2 does: the fix of two "
    "known deviations, which their strict xfails must report"
)
def export_keeps_the_batch_size():
    from keras.src import backend, layers
    from keras.src.export import export_utils

    original = export_utils.make_input_spec

    def make_input_spec(x):
        spec = original(x)
        if isinstance(x, backend.KerasTensor) and x.shape[0] is not None:
            return layers.InputSpec(dtype=spec.dtype, shape=(x.shape[0], *spec.shape[1:]), name=spec.name)
        return spec

    export_utils.make_input_spec = make_input_spec


@mutant("ExportArchive.add_endpoint silently drops an endpoint that takes no input (a reset endpoint)")
def export_drops_endpoints_without_inputs():
    from keras.src.export.saved_model import ExportArchive

    archive = type(ExportArchive())  # Keras 3.9 and later make the backend's archive (TFExportArchive)
    original = archive.add_endpoint

    def add_endpoint(self, name, fn, input_signature=None, **kwargs):
        signature = input_signature if input_signature is not None else getattr(fn, "input_signature", None)
        if signature is not None and len(signature) == 0:
            return fn
        return original(self, name, fn, input_signature=input_signature, **kwargs)

    archive.add_endpoint = add_endpoint


@mutant(
    "an exported endpoint reads the stateful layers' states but keeps nothing it assigns to them: every call "
    "starts from the state at export (what ExportArchive does on JAX)"
)
def export_bakes_the_state():
    import tensorflow as tf
    from keras.src.export.saved_model import ExportArchive

    archive = type(ExportArchive())
    original = archive.add_endpoint

    def add_endpoint(self, name, fn, input_signature=None, **kwargs):
        signature = input_signature if input_signature is not None else getattr(fn, "input_signature", None)
        if not signature:
            return original(self, name, fn, input_signature=input_signature, **kwargs)
        states = [
            state
            for root in getattr(self, "_tracked", [])
            for layer in root._flatten_layers()
            if getattr(layer, "stateful", False)
            for state in layer.states or []
        ]

        def forgetful(*args):
            kept = [tf.identity(state.value) for state in states]
            out = fn(*args)
            with tf.control_dependencies(tf.nest.flatten(out)):
                for state, value in zip(states, kept, strict=True):
                    state.assign(value)
            return tf.nest.map_structure(tf.identity, out)

        return original(self, name, forgetful, input_signature=signature, **kwargs)

    archive.add_endpoint = add_endpoint


@mutant("ExportArchive.add_endpoint hands an endpoint of several inputs its arguments in reverse order")
def export_reverses_endpoint_inputs():
    from keras.src.export.saved_model import ExportArchive

    archive = type(ExportArchive())
    original = archive.add_endpoint

    def add_endpoint(self, name, fn, input_signature=None, **kwargs):
        if input_signature is None or len(input_signature) < 2:
            return original(self, name, fn, input_signature=input_signature, **kwargs)
        return original(self, name, lambda *args: fn(*reversed(args)), input_signature=input_signature, **kwargs)

    archive.add_endpoint = add_endpoint


def _wrap_fit_validation(before, after=lambda model, kept: None) -> None:
    """Wrap the validation pass that ``fit`` runs (``Model.evaluate`` called with
    ``_use_cached_eval_dataset=True``): ``before(model)`` first, ``after(model, before's result)`` last."""
    from keras.src.models.model import Model

    original = Model.evaluate

    def evaluate(self, *args, **kwargs):
        if not kwargs.get("_use_cached_eval_dataset"):
            return original(self, *args, **kwargs)
        kept = before(self)
        try:
            return original(self, *args, **kwargs)
        finally:
            after(self, kept)

    Model.evaluate = evaluate


@mutant("fit resets the state before each validation pass")
def validation_resets_state():
    from statefulness.tutorial.model import reset_states

    _wrap_fit_validation(reset_states)


@mutant("fit gives training its state back after each validation pass")
def validation_gives_the_state_back():
    from keras.src import ops, tree

    from statefulness.tutorial.model import stateful_layers

    def keep(model):
        return [
            (s, ops.convert_to_numpy(s.value)) for layer in stateful_layers(model) for s in tree.flatten(layer.states)
        ]

    def give_back(model, kept):
        for state, value in kept:
            state.assign(value)

    _wrap_fit_validation(keep, give_back)


@mutant("fit feeds a PyDataset's batches in index order, whatever shuffle says")
def py_dataset_never_shuffled():
    _force_shuffle(False, "py_dataset_adapter.PyDatasetAdapter")


@mutant("load_weights resets the state of every stateful layer")
def load_weights_resets_state():
    _reset_before("load_weights")


@mutant("fit feeds a tf.data.Dataset's batches in a shuffled order")
def dataset_shuffled():
    from keras.src.trainers.data_adapters import tf_dataset_adapter

    original = tf_dataset_adapter.TFDatasetAdapter.__init__

    def __init__(self, dataset, *args, **kwargs):
        original(self, dataset.shuffle(16, seed=1), *args, **kwargs)

    tf_dataset_adapter.TFDatasetAdapter.__init__ = __init__


@mutant("a stateful layer stores its state in its compute dtype (float16 under mixed_float16), not float32")
def state_in_compute_dtype():
    from keras.src import backend, tree
    from keras.src.layers.rnn.rnn import RNN
    from keras.src.utils import tracking

    original = RNN._create_state_variables

    @tracking.no_automatic_dependency_tracking
    def create_state_variables(self, batch_size):
        original(self, batch_size)
        if self.compute_dtype != self.variable_dtype:
            self.states = tree.map_structure(
                lambda state: backend.Variable(state.value, trainable=False, dtype=self.compute_dtype),
                self.states,
            )

    RNN._create_state_variables = create_state_variables


@mutant("with steps_per_execution > 1, the state is reset before each execution (each call of several batches)")
def steps_per_execution_resets_state():
    from keras.src.models.model import Model

    from statefulness.tutorial.model import reset_states

    original = Model.make_train_function

    def make_train_function(self, force=False):
        original(self, force)
        inner = self.train_function
        if self.steps_per_execution > 1 and not getattr(inner, "mutated", False):

            def train_function(*args, **kwargs):
                reset_states(self)
                return inner(*args, **kwargs)

            train_function.mutated = True
            self.train_function = train_function
        return self.train_function

    Model.make_train_function = make_train_function


@mutant("fit(initial_epoch=k) trains from epoch 0 all the same")
def initial_epoch_ignored():
    from keras.src.models.model import Model

    original = Model.fit

    def fit(self, *args, **kwargs):
        kwargs["initial_epoch"] = 0
        return original(self, *args, **kwargs)

    Model.fit = fit


@mutant("EarlyStopping(restore_best_weights=True) also gives back the best epoch's state")
def early_stopping_restores_state():
    from keras.src.callbacks.early_stopping import EarlyStopping

    from statefulness._keras import assign_states, layer_states
    from statefulness.tutorial.model import stateful_layers

    original = EarlyStopping.on_epoch_end

    def on_epoch_end(self, epoch, logs=None):
        best = self.best_weights
        original(self, epoch, logs)
        layers = stateful_layers(self.model)
        if self.best_weights is not best:  # a new best epoch: keep its state beside its weights
            self.best_states = [layer_states(layer) for layer in layers]
        if self.model.stop_training and self.restore_best_weights and getattr(self, "best_states", None):
            for layer, states in zip(layers, self.best_states, strict=True):
                assign_states(layer, states)

    EarlyStopping.on_epoch_end = on_epoch_end


@mutant("ModelCheckpoint resets the state of every stateful layer when it saves")
def checkpoint_resets_state():
    from keras.src.callbacks.model_checkpoint import ModelCheckpoint

    from statefulness.tutorial.model import reset_states

    original = ModelCheckpoint._save_model

    def save_model(self, *args, **kwargs):
        original(self, *args, **kwargs)
        reset_states(self.model)

    ModelCheckpoint._save_model = save_model


@mutant("BackupAndRestore backs up the state with the weights and gives it back on resuming")
def backup_restores_state():
    from keras.src.callbacks.backup_and_restore import BackupAndRestore

    from statefulness._keras import assign_states, layer_states
    from statefulness.tutorial.model import stateful_layers

    kept: dict[str, list] = {}
    on_epoch_end, on_train_begin = BackupAndRestore.on_epoch_end, BackupAndRestore.on_train_begin

    def backup(self, epoch, logs=None):
        on_epoch_end(self, epoch, logs)
        kept[self._weights_path] = [layer_states(layer) for layer in stateful_layers(self.model)]

    def restore(self, logs=None):
        on_train_begin(self, logs)
        for layer, states in zip(stateful_layers(self.model), kept.get(self._weights_path, []), strict=False):
            assign_states(layer, states)

    BackupAndRestore.on_epoch_end, BackupAndRestore.on_train_begin = backup, restore


@mutant("fit stops training when a finite dataset runs out before steps_per_epoch (as Keras 2 does)")
def ran_out_stops_training():
    from keras.src.callbacks.callback_list import CallbackList
    from keras.src.trainers.epoch_iterator import EpochIterator

    ran_out = []
    warn, on_epoch_end = EpochIterator._interrupted_warning, CallbackList.on_epoch_end

    def interrupted_warning(self):
        ran_out.append(True)
        warn(self)

    def stop_after_the_epoch(self, epoch, logs=None):
        on_epoch_end(self, epoch, logs)
        if ran_out:
            self.model.stop_training = True
            ran_out.clear()

    EpochIterator._interrupted_warning, CallbackList.on_epoch_end = interrupted_warning, stop_after_the_epoch


@mutant("an RNN over a user's own cell carries only the cell's first state; the others start from zeros")
def user_cell_carries_first_state_only():
    from keras.src import ops

    _wrap_rnn_call(
        change_initial_state=lambda layer, states: [states[0], *[ops.zeros_like(s) for s in states[1:]]],
        only=lambda layer: not type(layer.cell).__module__.startswith("keras"),
    )


@mutant("a recurrent cell drops units in inference too (dropout applied whatever training says)")
def dropout_in_inference():
    from keras.src.layers.rnn.lstm import LSTMCell

    original = LSTMCell.call

    def call(self, inputs, states, training=False):
        return original(self, inputs, states, training=True)

    LSTMCell.call = call


@mutant("a recurrent cell's dropout masks keep every unit, in training too")
def dropout_ignored_in_training():
    from keras.src import ops
    from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

    original = DropoutRNNCell._create_dropout_mask

    def keep_all(self, step_input, dropout_rate):
        return ops.ones_like(original(self, step_input, dropout_rate))

    DropoutRNNCell._create_dropout_mask = keep_all


@mutant("TimeDistributed feeds its stateful layer the slices in reverse order")
def time_distributed_reversed():
    from keras.src import ops
    from keras.src.layers.rnn.time_distributed import TimeDistributed

    original = TimeDistributed.call

    def call(self, inputs, training=None, mask=None):
        return ops.flip(original(self, ops.flip(inputs, axis=1), training=training, mask=mask), axis=1)

    TimeDistributed.call = call


@mutant("LSTM(use_cudnn=True) without cuDNN falls back to the generic kernel silently, from zero state")
def use_cudnn_falls_back_from_zeros():
    from keras.src import ops
    from keras.src.layers.rnn.lstm import LSTM

    original = LSTM.inner_loop

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if self.use_cudnn is not True:
            return original(self, sequences, initial_state, mask, training=training)
        self.use_cudnn = False  # the refusal skipped: the generic kernel runs, from zeros
        try:
            zeros = [ops.zeros_like(s) for s in initial_state]
            return original(self, sequences, zeros, mask, training=training)
        finally:
            self.use_cudnn = True

    LSTM.inner_loop = inner_loop
