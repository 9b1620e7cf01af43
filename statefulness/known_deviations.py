"""Known deviations: claims that some Keras version or backend does not meet, kept as data.

One entry per deviation: the Keras versions and backends where it shows, its diagnosis, the upstream
thread where one exists, the spec's tests it makes fail (``Covers``), and the rules of
``statefulness.check_model`` it makes fail on a user's model (``rules``, for the models that ``when``
names). The spec's ``conftest.py`` turns every covered test into a strict ``xfail`` on the versions and
backends listed: the test still runs, a failure is reported as the known deviation, and a pass (the
deviation fixed upstream) fails the run until the entry is updated. ``check_model`` reports the rule as a
known deviation the same way. A deviation is never a reason to weaken a claim.

This module is plain data and imports neither pytest nor Keras: exception types are qualified names.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ALL_BACKENDS = ("tensorflow", "jax", "torch")

PYTEST_DID_NOT_RAISE = "_pytest.outcomes.Failed"
"""What ``pytest.raises`` raises when nothing was raised."""


@dataclass(frozen=True)
class Covers:
    """A spec test that a deviation makes fail."""

    test: str
    """``file::test_name``, optionally with ``[params]``; a test without params matches all of them."""
    params: tuple[str, ...] = ()
    """With a ``test`` without params: only the parametrizations that have every one of these ids (the
    parts of ``[a-b-c]``), e.g. ``("model.reset_states()",)`` for that reset over every shape."""
    consequence: str = ""
    """How the deviation makes this claim fail, where that is not plain."""
    raises: str | None = None
    """How this claim fails, where it differs from the deviation's ``raises``."""

    def matches(self, test_id: str) -> bool:
        """Does this name ``test_id`` (``file::test_name[params]``)?"""
        name, _, params = test_id.partition("[")
        if test_id == self.test:
            return True
        return name == self.test and set(self.params) <= set(params.rstrip("]").split("-"))

    def __str__(self) -> str:
        return f"{self.test}{list(self.params) if self.params else ''}"


@dataclass(frozen=True)
class Deviation:
    id: str
    keras: str
    """Keras versions where the claim fails: PEP 440 specifier sets, alternatives joined by ``|``
    (``">=3"``, ``"<3.12 | >=3.14"``)."""
    diagnosis: str
    tests: tuple[Covers, ...] = ()
    backends: tuple[str, ...] = ALL_BACKENDS
    upstream: str | None = None
    raises: str = "AssertionError"
    """How the claims fail there (qualified name; builtins bare); any other failure is a failure."""
    rules: tuple[str, ...] = ()
    """The rules of ``statefulness.check_model`` that fail on a user's model, as ``rule[param]``."""
    when: str | None = None
    """Which models those rules fail on: a predicate of ``statefulness.check`` (None: every model)."""

    def covering(self, test_id: str) -> Covers | None:
        """The entry of ``tests`` that names ``test_id``, if any."""
        return next((covers for covers in self.tests if covers.matches(test_id)), None)

    def covers(self, keras_version: str, backend: str) -> bool:
        return backend in self.backends and any(  # a pre-release (keras-nightly) is judged by its number too
            SpecifierSet(part.strip()).contains(Version(keras_version), prereleases=True)
            for part in self.keras.split("|")
        )

    @property
    def cause(self) -> str:
        """The diagnosis with its range and upstream link, shared by every claim it covers."""
        where = f" See {self.upstream}." if self.upstream else ""
        return f"Known deviation (Keras {self.keras}, {'/'.join(self.backends)}): {self.diagnosis}{where}"


def deviation_for(test_id: str, keras_version: str, backend: str) -> tuple[Deviation, Covers] | None:
    """The known deviation that covers spec test ``test_id`` on that Keras and backend, and its entry."""
    for deviation in DEVIATIONS:
        covers = deviation.covering(test_id)
        if covers is not None and deviation.covers(keras_version, backend):
            return deviation, covers
    return None


ALL_SHAPES = (
    "LSTM",
    "GRU(reset_after=True)",
    "GRU(reset_after=False)",
    "SimpleRNN",
    "RNN(LSTMCell)",
    "RNN(GRUCell, LSTMCell)",
    "LSTM(go_backwards=True)",
    "Bidirectional(LSTM)",
    "ConvLSTM1D",
    "stacked GRU > LSTM",
    "LSTM in a nested Model",
    "LSTM in a custom Layer",
)
"""The ids of the layer kinds and model shapes of spec/shapes.py (``tests/test_known_deviations.py`` holds
them equal)."""

TORCH_LSTM_SHAPES = (
    "LSTM",
    "LSTM(go_backwards=True)",
    "Bidirectional(LSTM)",
    "stacked GRU > LSTM",
    "LSTM in a nested Model",
    "LSTM in a custom Layer",
)
"""The shapes whose stateful layers include an ``LSTM``: on PyTorch it runs the backend's own ``lstm``."""

TORCH_GRU_SHAPES = ("GRU(reset_after=True)",)
"""The shapes whose stateful layers include a ``GRU`` with ``reset_after=True`` (and no LSTM)."""

LSTM_CELL_FIRST_SHAPES = (
    "LSTM",
    "RNN(LSTMCell)",
    "LSTM(go_backwards=True)",
    "Bidirectional(LSTM)",
    "LSTM in a nested Model",
    "LSTM in a custom Layer",
)
"""The shapes whose first stateful layer steps an ``LSTMCell``."""


_SHAPES_CLAIM = (
    "test_03_state_between_batches.py::"
    "test_every_shape_carries_state_row_to_row_through_every_driver_and_never_resets_it_by_itself"
)
_SHAPES_RESET = "test_05_reset.py::test_every_reset_returns_every_state_of_every_shape_to_zeros_and_outputs_repeat"
_SHAPES_SHUFFLE = "test_06_shuffling.py::test_in_every_shape_shuffling_breaks_the_i_to_i_plus_bs_pairing"
_SHAPES_REFUSE = "test_07_batch_size.py::test_every_shape_refuses_one_batch_of_another_size"
_REFUSE_ONE = "test_07_batch_size.py::test_a_stateful_model_refuses_one_batch_of_another_size"
_JAX = "TypeError"
"""How JAX fails in a cell's arithmetic (``jax.numpy``'s ``TypeError`` on incompatible shapes)."""
_TORCH = "RuntimeError"
"""How PyTorch fails in a cell's arithmetic (torch's own ``RuntimeError``, re-raised by Keras)."""
_NOT_REACHED = "This claim trains a stateful model with `fit`, so it cannot be reached."


_TUTORIAL_FIT_CLAIMS = tuple(
    Covers(test, consequence=_NOT_REACHED)
    for test in (
        "test_06_shuffling.py::test_shuffle_false_keeps_the_i_to_i_plus_bs_pairing_of_a_stateful_layer",
        "test_06_shuffling.py::test_shuffling_breaks_the_i_to_i_plus_bs_pairing_of_a_stateful_layer",
        "test_06_shuffling.py::test_fit_draws_a_new_order_every_epoch_also_in_a_seeded_run",
        "test_07_batch_size.py::"
        "test_fit_and_evaluate_refuse_a_sample_count_the_stateful_batch_size_does_not_divide[fit]",
        "test_10_training.py::test_one_fit_over_all_epochs_trains_as_the_tutorials_loop_of_one_epoch_fits"
        "[as_the_experiments_train-stateful]",
        "test_01_split_sequences.py::test_a_stateful_lstm_in_order_and_reset_per_sequence_learns_the_later_pieces",
        "test_01_split_sequences.py::test_the_same_stateful_lstm_trained_with_shuffling_does_not_learn_them",
        "test_01_split_sequences.py::test_the_same_stateful_lstm_trained_without_resets_does_worse",
        "test_15_stateful.py::test_a_stateful_lstm_reset_every_epoch_learns_the_alphabet",
        "test_15_stateful.py::test_reset_and_seeded_with_A_the_stateful_model_generates_the_alphabet",
        "test_15_stateful.py::test_seeded_cold_with_K_the_stateful_model_does_not_go_on_with_L",
        "test_15_stateful.py::test_warmed_up_on_A_to_J_the_stateful_model_predicts_L_after_K",
    )
)
"""The claims on the tutorial's stateful LSTM that train it with ``fit``."""


def _refused_by_accident(raises: str, partial: str | None) -> tuple[Covers, ...]:
    """The claims that feed a batch of more rows than the stateful batch size, refused only by an error of the
    cell's arithmetic (``raises``); and the claims on a partial last batch, which fail with ``partial``."""
    return (
        *[Covers(f"{_REFUSE_ONE}[{call}-more rows]", raises=raises) for call in ("direct call", "predict_on_batch")],
        Covers("test_07_batch_size.py::test_predict_refuses_a_batch_size_larger_than_the_stateful_one", raises=raises),
        Covers(_SHAPES_REFUSE, ("more rows",), raises=raises),
        Covers(
            "test_08_save_and_load.py::test_a_refused_batch_of_another_size_leaves_every_shape_as_it_was_and_loadable",
            consequence="What the refusal leaves behind is not checked there: no refusal on purpose happens.",
            raises=raises,
        ),
        Covers(
            "test_07_batch_size.py::test_predict_returns_one_row_per_sample_even_when_the_batch_size_does_not_divide_them",
            raises=partial,
        ),
        Covers(
            "test_07_batch_size.py::test_fit_and_evaluate_refuse_a_sample_count_the_stateful_batch_size_does_not_divide",
            raises=partial,
        ),
    )


def _fit_claims(shapes: tuple[str, ...]) -> tuple[Covers, ...]:
    """The breadth claims that drive ``shapes`` through ``fit``: state through every driver, shuffling."""
    return (
        *[
            Covers(_SHAPES_CLAIM, (shape, "fit"), consequence="The same in every shape with such a layer.")
            for shape in shapes
        ],
        *[Covers(_SHAPES_SHUFFLE, (shape,), consequence=_NOT_REACHED) for shape in shapes],
    )


_NOTHING_TO_BREAK = "The state does not move, so shuffling has nothing to break."

DEVIATIONS: list[Deviation] = [
    Deviation(
        id="batch_input_shape removed",
        keras=">=3",
        diagnosis=(
            "Keras 3 removed the layer argument `batch_input_shape`: `LSTM(..., batch_input_shape=...)` "
            "raises `ValueError: Unrecognized keyword arguments`. Declare the batch size on the input: "
            "`keras.Input(shape=(timesteps, features), batch_size=B)` or `keras.Input(batch_shape=...)`."
        ),
        upstream="https://github.com/keras-team/keras/issues/20106",
        raises="ValueError",
        tests=(Covers("test_07_batch_size.py::test_the_tutorials_batch_input_shape_declares_the_batch_size"),),
    ),
    Deviation(
        id="model.reset_states() removed",
        keras=">=3",
        diagnosis=(
            "Keras 3 models have no `reset_states()` (only layers have `reset_state()`/`reset_states()`), "
            "so the tutorial's `model.reset_states()` raises AttributeError. Reset each stateful layer, "
            "as `statefulness.reset_states(model)` does."
        ),
        upstream="https://github.com/keras-team/keras/issues/20327",
        raises="AttributeError",
        tests=(
            Covers("test_05_reset.py::test_the_tutorials_model_reset_states_resets_every_stateful_layer"),
            Covers(_SHAPES_RESET, ("model.reset_states()",)),
        ),
        # No rules: check_model reports reset-zeroes[model.reset_states()] as not applicable where
        # keras.Model has no reset_states (check.NOT_APPLICABLE_HERE); the tutorial's claim is this deviation.
    ),
    Deviation(
        id="Keras 2 model.reset_states() skips a custom layer",
        keras="<3",
        diagnosis=(
            "Keras 2's `Model.reset_states()` (keras/engine/training.py) resets each top-level layer that "
            "has a `reset_states` method and is `stateful`. A user's own layer that owns a stateful LSTM "
            "reports `stateful` True (`Layer.stateful` asks its sublayers) but has no `reset_states` of its "
            "own, so it is skipped and its LSTM keeps its state, silently. Nested models are reached (a "
            "`Model` has `reset_states`). Reset every stateful RNN layer, as `statefulness.reset_states(model)` "
            "does, or give the custom layer a `reset_states` that resets what it owns."
        ),
        tests=(Covers(_SHAPES_RESET, ("LSTM in a custom Layer", "model.reset_states()")),),
        rules=("reset-zeroes[model.reset_states()]",),
        when="custom_layer_holds_state",
    ),
    Deviation(
        id="nested state cannot be reset",
        keras=">=3",
        diagnosis=(
            "An `RNN` over a list of cells keeps its state nested, one list per cell (`RNN.states` is built "
            "with `tree.map_structure` in `RNN._create_state_variables`), but `RNN.reset_state` "
            "(keras/src/layers/rnn/rnn.py) loops over the top level only and calls `v.assign(...)` on each "
            "entry, so the reset raises `AttributeError: 'ListWrapper' object has no attribute 'assign'` "
            "and no state is zeroed. Rebuilding the layer goes through the same reset. Zero each state "
            "variable instead, as `statefulness.reset_states(model)` does for nested states."
        ),
        raises="AttributeError",
        tests=(Covers(_SHAPES_RESET, ("RNN(GRUCell, LSTMCell)", "each layer's reset_states()")),),
        rules=("reset-zeroes[layer.reset_states()]",),
        when="nested_state",
    ),
    Deviation(
        id="Keras 2 cannot load a custom layer that builds its RNN",
        keras="~=2.13.0 | ~=2.14.0 | ~=2.15.0",
        diagnosis=(
            "Loading a `.keras` file, Keras 2 builds each layer with `build_from_config`, which passes the "
            "input shape stored in the file as it comes back from JSON: a list, `[3, None, 2]`. A user's "
            "layer that builds its own recurrent layer in `build(input_shape)` hands that list on, and "
            "`RNN.build` (keras/src/layers/rnn/base_rnn.py) reads a list as a list of shapes (the input and "
            "initial states), takes `3` as the input's shape and fails in `get_input_spec` with "
            "`IndexError: list assignment index out of range`: the model cannot be loaded. Keras 3 reads "
            "the list as one shape. Measured: Keras 2.13.1, 2.14.0 and 2.15.0 fail; 2.12.0 and tf-keras "
            "2.21.0 load the model (tf-keras 2.16 to 2.20 were not run). Convert the shape in the custom "
            "layer's `build` (`self.lstm.build(tuple(input_shape))`). The same model saved as `.h5` loads "
            "(measured on 2.15.0)."
        ),
        upstream="https://github.com/keras-team/tf-keras/issues/43",
        raises="IndexError",
        tests=(
            Covers(
                "test_08_save_and_load.py::"
                "test_every_shape_loads_back_with_its_weights_its_batch_size_and_stateful_layers_from_zero_state",
                (".keras", "LSTM in a custom Layer"),
            ),
            Covers(
                "test_08_save_and_load.py::test_a_refused_batch_of_another_size_leaves_every_shape_as_it_was_and_loadable",
                (".keras", "LSTM in a custom Layer"),
                consequence="The model loads no more than before the refused batch.",
            ),
        ),
        rules=("saved-and-loaded",),
        when="custom_layer_holds_state",
    ),
    Deviation(
        id="Keras 3 cannot load the tutorial's Keras 2 .h5",
        keras=">=3",
        raises="ValueError",
        diagnosis=(
            "The tutorial's model saved by Keras 2 as `.h5` (measured: files of Keras 2.12.0, 2.15.0 and "
            "tf-keras 2.21.0) cannot be loaded by Keras 3: Keras 2 writes `time_major: False` into every "
            "LSTM's config, and Keras 3's LSTM, which dropped the argument, refuses it (`Layer.__init__`: "
            "\"Unrecognized keyword arguments passed to LSTM: {'time_major': False}\"); Keras 3.3.3 fails "
            'before that on the recurrent initializer, stored as the bare class name `Orthogonal` ("Could '
            'not interpret initializer identifier"). Measured with Keras 3.3.3, 3.4.1, 3.6.0, 3.9.2, '
            "3.11.3, 3.13.2 and 3.15.1 on TensorFlow, 3.15.1 on JAX and PyTorch. Load with a subclass of "
            "LSTM that takes `time_major` and drops it (docs/MIGRATING.md): batch size, statefulness and "
            'outputs then come back as Keras 2 had them. keras-team/keras#20750 ("Unrecognized keyword '
            "arguments passed to GRU: {'time_major': False} using TensorFlow 2.18 and Python 3.12\", "
            "closed) reports the same for a GRU; the answer there: the option was removed in Keras 3."
        ),
        upstream="https://github.com/keras-team/keras/issues/20750",
        tests=(
            Covers(
                "test_08_save_and_load.py::"
                "test_the_tutorials_model_saved_by_keras_2_as_h5_loads_with_its_batch_size_state_and_outputs"
            ),
        ),
    ),
    Deviation(
        id="keras-nightly RNN layers say they do not support masking",
        keras="==3.16.0.dev2026102704",
        raises="UserWarning",
        diagnosis=(
            "In keras-nightly 3.16.0.dev2026102704 (measured with tf-nightly 2.23.0-dev20261026, jax 0.10.2 and "
            "torch 2.13.0) `RNN.__init__` sets "
            "`self.supports_masking = False` (keras/src/layers/rnn/rnn.py; 3.15.1 sets True). The layer "
            "still applies the mask it is given, so the masked steps leave the state unchanged (chapter 9's "
            "masking claims hold with the warning ignored), but `Layer.__call__` (keras/src/layers/layer.py) "
            'now warns that the layer "does not support masking and will therefore destroy the mask '
            'information", and does not pass the mask on: a second recurrent layer after one with '
            "`return_sequences=True` no longer sees it. Measured on that pre-release only; Keras 3.15.1 "
            "and every earlier env pass."
        ),
        tests=(
            Covers(
                "test_09_initial_state_and_masking.py::test_masked_steps_of_a_pre_padded_batch_leave_the_state_unchanged"
            ),
            Covers(
                "test_09_initial_state_and_masking.py::"
                "test_masked_steps_leave_the_state_carried_from_the_previous_batch_unchanged"
            ),
        ),
    ),
    Deviation(
        id="Keras 2 prefers a stored state that is not zero over initial_state",
        keras="<3",
        diagnosis=(
            "A Keras 2 stateful RNN called with `initial_state` uses the given state only while its stored "
            "state is all zeros: `RNN._process_inputs` (keras/layers/rnn/base_rnn.py) counts the non-zero "
            "entries of `self.states` and, if there are any, takes `self.states` instead "
            "(`tf.compat.v1.cond(non_zero_count > 0, lambda: self.states, lambda: initial_state)`), "
            "silently: the given state is ignored after the first batch until the next reset. Keras 3 "
            "(`RNN.call`, keras/src/layers/rnn/rnn.py) always starts from the given state. Measured on "
            "Keras 2.12.0, 2.15.0 and tf-keras 2.21.0 for every one-layer kind (LSTM, GRU, SimpleRNN, RNN "
            "over cells, go_backwards, Bidirectional, ConvLSTM1D); Keras 3.3.3, 3.11.3, 3.13.2 and 3.15.1 on "
            "TensorFlow, and 3.15.1 on JAX and PyTorch, take the given state. A model that relies on "
            "either behaviour computes something else after the upgrade. Reset the layer before a call "
            "with `initial_state` to get the same result on both, or assign the state variables instead. "
            'The rule answered keras-team/keras#10965 and tensorflow/tensorflow#32299 (both titled "RNN '
            'stateful is incompatible with initial_state", closed), which asked that a stateful layer use '
            "the given state once and its own state after; Keras 3 dropped it."
        ),
        upstream="https://github.com/keras-team/keras/issues/10965",
        tests=(
            Covers(
                "test_09_initial_state_and_masking.py::"
                "test_a_stateful_layer_called_with_an_initial_state_starts_from_it_even_when_its_stored_state_is_not_zero"
            ),
        ),
    ),
    Deviation(
        id="Keras 2 Sequential forgets its batch size after a refused batch",
        keras="<3",
        diagnosis=(
            "A Keras 2 `Sequential` called on an input whose shape differs from the one it was built for "
            "first rebuilds its graph for the most general shape of the two "
            "(`Sequential._build_graph_network_for_inferred_shape` with `relax_input_shape`, "
            "keras/src/engine/sequential.py), and only then does its stateful layer refuse the batch. The "
            "rebuilt graph stays: the nested model's config now declares batch size None, and a model saved "
            'after that cannot be loaded ("If a RNN is stateful, it needs to know its batch size"). '
            "Measured on Keras 2.12.0, 2.13.1, 2.15.0 and tf-keras 2.21.0, for a Sequential nested in a "
            "model; Keras 3 leaves the model as it was. Check the batch size before calling a model, or "
            "reload the model from its file after a refused batch."
        ),
        tests=(
            Covers(
                "test_08_save_and_load.py::"
                "test_a_refused_batch_of_another_size_leaves_every_shape_as_it_was_and_loadable",
                ("LSTM in a nested Model",),
            ),
        ),
    ),
    Deviation(
        id="a batch of more rows is refused only by accident",
        keras=">=3,<3.12",
        backends=("tensorflow",),
        diagnosis=(
            "Before Keras 3.12, `RNN.call` does not check the batch size of its input against the stored "
            "state's. A batch of more rows than the state's B fails only in the cell's arithmetic, where the "
            "input's rows meet the state's: a direct call raises TensorFlow's `InvalidArgumentError` (an "
            "`AddV2` of incompatible shapes), `predict_on_batch` and `predict` a `ValueError` from graph "
            'construction ("Dimensions must be equal, but are 3 and 2"). A refusal, but not one that '
            "says why, and a batch of one row is not refused at all. Measured with Keras 3.3.3, 3.4.1, 3.6.0, "
            '3.9.2 and 3.11.3 on TensorFlow; 3.13.2 and 3.15.1 refuse on purpose ("If an RNN is stateful, '
            'the batch size of the input sequences must be the same..."). Keras 3 before 3.12 on JAX and '
            "PyTorch was not run."
        ),
        upstream="https://github.com/keras-team/keras/issues/21183",
        tests=(
            Covers(
                "test_07_batch_size.py::test_a_stateful_model_refuses_one_batch_of_another_size[direct call-more rows]",
                raises="tensorflow.python.framework.errors_impl.InvalidArgumentError",
            ),
            Covers(
                "test_07_batch_size.py::test_a_stateful_model_refuses_one_batch_of_another_size"
                "[predict_on_batch-more rows]"
            ),
            Covers("test_07_batch_size.py::test_predict_refuses_a_batch_size_larger_than_the_stateful_one"),
            Covers(
                _SHAPES_REFUSE,
                ("direct call", "more rows"),
                raises="tensorflow.python.framework.errors_impl.InvalidArgumentError",
            ),
            Covers(_SHAPES_REFUSE, ("predict_on_batch", "more rows")),
            Covers(
                "test_08_save_and_load.py::test_a_refused_batch_of_another_size_leaves_every_shape_as_it_was_and_loadable",
                consequence="What the refusal leaves behind is not checked there: no refusal on purpose happens.",
                raises="tensorflow.python.framework.errors_impl.InvalidArgumentError",
            ),
        ),
        rules=("refuses-other-batch-size[more rows]",),
    ),
    Deviation(
        id="predict broadcasts a partial batch",
        keras="<3.12 | >=3.14",
        backends=("tensorflow",),
        diagnosis=(
            "With a stateful batch size B that does not divide the n samples, `predict` returns "
            "ceil(n/B)*B rows: the last, partial batch of r < B rows is broadcast against the stored "
            "(B, units) state (`x @ kernel` has r rows, `h @ recurrent_kernel` has B), so it yields B "
            "rows, and B - r of them belong to no sample. `fit` and `evaluate` take the same path "
            "without an error. Keras 3.12 and 3.13 refuse, but by accident: the batch-size check of PR "
            "#21742 compares the symbolic batch dimension of the partial batch in graph mode and raises "
            "OperatorNotAllowedInGraphError (keras-team/keras#21942); 3.14 skips the check for dynamic "
            "batch dimensions, and the broadcast is back."
        ),
        upstream="https://github.com/keras-team/keras/issues/21183",
        tests=(
            Covers(
                "test_07_batch_size.py::"
                "test_predict_returns_one_row_per_sample_even_when_the_batch_size_does_not_divide_them"
            ),
        ),
    ),
    Deviation(
        id="a partial batch is refused only by accident",
        keras=">=3.12,<3.14",
        backends=("tensorflow",),
        diagnosis=(
            "Keras 3.12 and 3.13 on TensorFlow refuse a sample count that the stateful batch size does not "
            "divide, but not on purpose: the batch-size check that PR #21742 added to `RNN.call` compares "
            "the batch dimension of the last, partial batch, which is symbolic in the traced function of "
            "`predict`, `fit` and `evaluate`, and using it as a Python bool raises "
            "`OperatorNotAllowedInGraphError` instead of the check's own `ValueError`. The user is told about "
            "graph execution, not about the batch size. Measured with Keras 3.12.0 and 3.13.2; 3.11.3 and "
            "3.14.0 run the partial batch (the two deviations above and below), 3.15.1 too."
        ),
        upstream="https://github.com/keras-team/keras/issues/21942",
        raises="tensorflow.python.framework.errors_impl.OperatorNotAllowedInGraphError",
        tests=(
            Covers(
                "test_07_batch_size.py::"
                "test_predict_returns_one_row_per_sample_even_when_the_batch_size_does_not_divide_them"
            ),
            Covers(
                "test_07_batch_size.py::"
                "test_fit_and_evaluate_refuse_a_sample_count_the_stateful_batch_size_does_not_divide"
            ),
        ),
    ),
    Deviation(
        id="PyTorch: a batch of another size is refused only by accident",
        keras=">=3,<3.12",
        backends=("torch",),
        diagnosis=(
            "Before Keras 3.12 (on PyTorch as on TensorFlow) `RNN.call` does not check the batch size of its "
            "input against the stored state's. On PyTorch a batch of more rows than the state's B, and a "
            "last partial batch of `predict`, `fit` or `evaluate`, fail only in the cell's arithmetic with "
            'torch\'s `RuntimeError` ("The size of tensor a (3) must match the size of tensor b (2)"), and '
            "so does a batch of one row where the first stateful layer steps an `LSTMCell`; other layers "
            "broadcast one row silently (the deviation below). Measured with torch 2.13.0 and Keras 3.3.3, "
            "3.6.0, 3.9.2 and 3.11.3; 3.13.2 and 3.15.1 refuse on purpose. `check_model` reports its "
            "refusal rule as failing (refused by accident)."
        ),
        upstream="https://github.com/keras-team/keras/issues/21183",
        tests=(
            *_refused_by_accident(_TORCH, partial=_TORCH),
            *[
                Covers(f"{_REFUSE_ONE}[{call}-fewer rows]", raises=_TORCH)
                for call in ("direct call", "predict_on_batch")
            ],
            *[Covers(_SHAPES_REFUSE, (shape, "fewer rows"), raises=_TORCH) for shape in LSTM_CELL_FIRST_SHAPES],
        ),
        rules=("refuses-other-batch-size[more rows]",),
    ),
    Deviation(
        id="JAX: a batch of another size is refused only by accident",
        keras=">=3,<3.12",
        backends=("jax",),
        diagnosis=(
            "Before Keras 3.12 on JAX, as on TensorFlow, nothing checks a stateful layer's batch size: a "
            "batch of more rows than the state's B fails only where the input's rows meet the state's, "
            'with JAX\'s `TypeError` ("add got incompatible shapes for broadcasting"), and a sample count '
            "that B does not divide runs: `predict` returns ceil(n/B)*B rows, `fit` and `evaluate` run the "
            "broadcast last batch. Measured with jax 0.4.35 and Keras 3.3.3 (chapter 7) and 3.11.3 (Keras before 3.15 "
            "does not run with the jax 0.10.2 of the JAX env: the spec hangs in its first `predict`); Keras "
            "3.15.1 on jax 0.10.2 refuses on purpose."
        ),
        upstream="https://github.com/keras-team/keras/issues/21183",
        tests=_refused_by_accident(_JAX, partial=None),
        rules=("refuses-other-batch-size[more rows]",),
    ),
    Deviation(
        id="a batch of fewer rows is not refused",
        keras=">=3,<3.12",
        diagnosis=(
            "Before Keras 3.12, a stateful RNN fed a batch of one row, fewer than its stored state's B, runs "
            "without an error: the row is broadcast against the (B, units) state and B rows come back. A "
            "batch of 1 < r < B rows fails in the cell's arithmetic instead (on TensorFlow "
            "`InvalidArgumentError`: measured with Keras 3.3.3 and 3.11), a refusal by accident. Keras 3.12 "
            "added the check in `RNN.call` (keras/src/layers/rnn/rnn.py, PR #21742)."
        ),
        upstream="https://github.com/keras-team/keras/issues/21183",
        raises=PYTEST_DID_NOT_RAISE,
        tests=(
            *[
                Covers(
                    f"test_07_batch_size.py::test_a_stateful_model_refuses_one_batch_of_another_size[{call}-fewer rows]"
                )
                for call in ("direct call", "predict_on_batch")
            ],
            Covers(_SHAPES_REFUSE, ("fewer rows",)),
        ),
        rules=("refuses-other-batch-size[fewer rows]",),
    ),
    Deviation(
        id="fit and evaluate run a partial batch",
        keras="<3.12 | >=3.14",
        backends=("tensorflow",),
        diagnosis=(
            "On TensorFlow, `fit` and `evaluate` run a last, partial batch of r < B rows against the stored "
            "(B, units) state without an error: as with `predict`, the r rows are broadcast to B, the loss "
            "is taken over the broadcast rows, and every row of the stored state is overwritten from those "
            "r samples. The batch-size check of Keras 3.12 (PR #21742) needs a static batch dimension, which "
            "the TensorFlow trainer's traced function does not have (JAX's has, and raises); in 3.12 and "
            "3.13 the check fails on the symbolic dimension instead (OperatorNotAllowedInGraphError, "
            "keras-team/keras#21942), which refuses by accident."
        ),
        upstream="https://github.com/keras-team/keras/issues/21183",
        tests=(
            Covers(
                "test_07_batch_size.py::"
                "test_fit_and_evaluate_refuse_a_sample_count_the_stateful_batch_size_does_not_divide"
            ),
        ),
    ),
    Deviation(
        id="seeded fit shuffles every epoch alike",
        keras=">=3",
        backends=("tensorflow",),
        diagnosis=(
            "After `keras.utils.set_random_seed`, `fit(shuffle=True)` on the TensorFlow backend feeds the "
            "samples in the same order in every epoch. `ArrayDataAdapter.get_tf_dataset` "
            "(keras/src/trainers/data_adapters/array_data_adapter.py) draws the order with "
            "`tf.random.shuffle` inside `tf.data.Dataset.range(1).map(...)`, and the epoch iterator makes "
            "a new iterator of that one-epoch dataset every epoch; with a global seed the op's seed is "
            "fixed, so every new iterator draws the same permutation. Keras 2 drew from one iterator over "
            "`range(1).repeat(epochs)` and got a new order each epoch. Unseeded runs are not affected."
        ),
        tests=(Covers("test_06_shuffling.py::test_fit_draws_a_new_order_every_epoch_also_in_a_seeded_run"),),
    ),
    Deviation(
        id="JAX drivers drop the state",
        keras=">=3",
        backends=("jax",),
        diagnosis=(
            "On JAX, `fit`, `evaluate`, `predict` and `predict_on_batch` neither carry a stateful RNN's "
            "state from batch to batch nor keep it afterwards (direct calls do). The JAX trainer runs "
            "stateless compiled steps over the model's trainable and non-trainable variables and writes "
            "those back; the RNN's state variables are created under "
            "`@tracking.no_automatic_dependency_tracking` (`RNN._create_state_variables`, "
            "keras/src/layers/rnn/rnn.py), so they are not among `model.non_trainable_variables`, and "
            "the `self_state.assign(state)` in `RNN.call` is lost with the step's scope."
        ),
        tests=(
            Covers(
                "test_01_split_sequences.py::"
                "test_a_stateful_layer_fed_the_stateful_layout_equals_a_stateless_layer_on_whole_sequences"
            ),
            Covers(
                "test_01_split_sequences.py::test_without_the_reset_the_next_group_of_sequences_inherits_the_state",
                consequence="Nothing is inherited because nothing is carried.",
            ),
            Covers(
                "test_03_state_between_batches.py::test_predict_hands_the_state_of_sample_i_to_sample_i_plus_batch_size"
            ),
            Covers(
                "test_03_state_between_batches.py::"
                "test_consecutive_chunks_through_a_stateful_layer_equal_the_whole_sequence[predict_on_batch]"
            ),
            Covers(
                "test_03_state_between_batches.py::"
                "test_consecutive_chunks_through_a_stateful_layer_equal_the_whole_sequence[predict]"
            ),
            Covers("test_03_state_between_batches.py::test_fit_and_evaluate_carry_the_state_from_batch_to_batch"),
            Covers("test_03_state_between_batches.py::test_state_persists_across_separate_predict_calls_until_reset"),
            *[
                Covers(_SHAPES_CLAIM, (driver,), consequence="The same in every layer kind and model shape.")
                for driver in ("predict_on_batch", "predict", "evaluate", "fit")
            ],
            Covers(_SHAPES_SHUFFLE, consequence=_NOTHING_TO_BREAK),
            Covers("test_06_shuffling.py::test_shuffle_false_keeps_the_i_to_i_plus_bs_pairing_of_a_stateful_layer"),
            Covers(
                "test_06_shuffling.py::test_shuffling_breaks_the_i_to_i_plus_bs_pairing_of_a_stateful_layer",
                consequence=_NOTHING_TO_BREAK,
            ),
            Covers(
                "test_06_shuffling.py::test_fit_draws_a_new_order_every_epoch_also_in_a_seeded_run",
                consequence="This test sees the order through the state, so on JAX it cannot see it (the "
                "weight-based shuffling claims pass).",
            ),
            Covers(
                "test_01_split_sequences.py::"
                "test_a_stateful_lstm_in_order_and_reset_per_sequence_learns_the_later_pieces",
                consequence="Trained without the carried state, the later pieces never see the key, as in "
                "the stateless model.",
            ),
            Covers(
                "test_01_split_sequences.py::test_the_same_stateful_lstm_trained_without_resets_does_worse",
                consequence="With no state carried there is nothing for the missing resets to spoil.",
            ),
            Covers(
                "test_15_stateful.py::test_a_stateful_lstm_reset_every_epoch_learns_the_alphabet",
                consequence="Trained one letter per batch with no state carried, the model sees what the "
                "one-char model sees and does not learn the alphabet.",
            ),
            Covers(
                "test_15_stateful.py::test_reset_and_seeded_with_A_the_stateful_model_generates_the_alphabet",
                consequence="Trained without carried state, the model cannot generate the alphabet from 'A'.",
            ),
        ),
        rules=tuple(f"carries-state[{driver}]" for driver in ("predict_on_batch", "predict", "evaluate", "fit")),
    ),
    Deviation(
        id="PyTorch fit of a fused LSTM",
        keras=">=3.14",
        backends=("torch",),
        raises="RuntimeError",
        diagnosis=(
            "On PyTorch, `fit` on a model whose stateful layer is an `LSTM` raises `RuntimeError: one of the "
            "variables needed for gradient computation has been modified by an inplace operation`. From Keras "
            "3.14 the LSTM runs the torch backend's own `lstm` (keras/src/backend/torch/rnn.py; "
            "`_fallback_lstm` on the CPU), which starts from the stored state's own tensors "
            "(`convert_to_tensor` unwraps the variables), and `RNN.call` then assigns the new state into "
            "those variables (`self_state.assign(state)`) before the backward pass. Layers that run the "
            "generic `RNN.inner_loop` (SimpleRNN, GRU with `reset_after=False`, `RNN` over cells, ConvLSTM1D) "
            "copy the states for torch first (`tree.map_structure(ops.copy, states)`, the fix of "
            "keras-team/keras#20916) and train, carrying state; so does an LSTM built with `use_cudnn=False`. "
            "Direct calls, `predict` and `evaluate` carry state in every layer. Measured with torch 2.13.0: "
            "Keras 3.14.0, 3.14.1, 3.15.0, 3.15.1 raise; 3.9.2, 3.11.3 and 3.13.2 train every layer kind. "
            'keras-team/keras#23462 ("Torch backend: stateful GRU using cuDNN fails during backward due to '
            'an in-place state update", closed) reports the same path on CUDA; '
            "keras-team/keras#23464 fixed it there; 3.15.1 still raises on the CPU."
        ),
        upstream="https://github.com/keras-team/keras/issues/23462",
        tests=(
            Covers("test_03_state_between_batches.py::test_fit_and_evaluate_carry_the_state_from_batch_to_batch[fit]"),
            *_fit_claims(TORCH_LSTM_SHAPES),
            *_TUTORIAL_FIT_CLAIMS,
        ),
        rules=("carries-state[fit]",),
        when="torch_fused_lstm",
    ),
    Deviation(
        id="PyTorch fit of a fused GRU",
        keras=">=3.15",
        backends=("torch",),
        raises="RuntimeError",
        diagnosis=(
            "On PyTorch, `fit` on a model whose stateful layer is a `GRU` with `reset_after=True` raises the "
            "same `RuntimeError` as the fused LSTM: from Keras 3.15.0 that GRU runs the torch backend's own "
            "`gru` (`_fallback_gru` on the CPU) from the stored state's own tensors, which `RNN.call` then "
            "overwrites before the backward pass. Measured with torch 2.13.0: Keras 3.15.0 and 3.15.1 raise; "
            "3.14.0 and 3.14.1 (which fuse only the LSTM) and 3.9.2 to 3.13.2 train it, carrying state. "
            "A GRU with `reset_after=False` or `use_cudnn=False` runs the generic loop and trains."
        ),
        upstream="https://github.com/keras-team/keras/issues/23462",
        tests=_fit_claims(TORCH_GRU_SHAPES),
        rules=("carries-state[fit]",),
        when="torch_fused_gru",
    ),
    Deviation(
        id="PyTorch fit of any stateful RNN fails in the backward pass",
        keras=">=3,<3.9",
        backends=("torch",),
        raises="RuntimeError",
        diagnosis=(
            "Before Keras 3.9, `fit` on PyTorch of any model with a stateful recurrent layer raises "
            "`RuntimeError: one of the variables needed for gradient computation has been modified by an "
            "inplace operation`: `RNN.call` assigns the new state into the state variables "
            "(`self_state.assign(state)`) while the graph of the step still holds their tensors. "
            'keras-team/keras#20916 ("Fix PyTorch stateful RNN/LSTM gradient computation error resolves '
            '#20875") copies the states in `RNN.inner_loop` for torch. Measured with torch 2.13.0: Keras '
            "3.3.3, 3.6.0, 3.7.0 and 3.8.0 raise for every layer kind; 3.9.2 trains them all. Direct calls, "
            "`predict` and `evaluate` carry state."
        ),
        upstream="https://github.com/keras-team/keras/issues/20875",
        tests=(
            Covers("test_03_state_between_batches.py::test_fit_and_evaluate_carry_the_state_from_batch_to_batch[fit]"),
            *_fit_claims(ALL_SHAPES),
            *_TUTORIAL_FIT_CLAIMS,
        ),
        rules=("carries-state[fit]",),
    ),
]
