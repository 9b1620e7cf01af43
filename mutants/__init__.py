"""Deliberately broken Keras: mutants that the spec must catch.

Each mutant is a small patch to Keras 3 (``keras.src``) that breaks statefulness in one realistic way.
They are applied only when ``STATEFULNESS_MUTANT`` names one and the ``mutants.plugin`` pytest plugin is
loaded (``python -m mutants`` does both, in a subprocess per mutant); nothing else ever imports them.
"""

from __future__ import annotations

from collections.abc import Callable

MUTANTS: dict[str, tuple[str, Callable[[], None]]] = {}


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
