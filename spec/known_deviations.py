"""Known deviations: claims that some Keras version or backend does not meet, kept as data.

Each entry names the test that states the claim, the Keras versions and backends where the claim
fails, the diagnosis, and the upstream thread where one exists. ``conftest.py`` turns every entry that
matches the installed Keras into a strict ``xfail``: the test still runs, a failure is reported as the
known deviation, and a pass (the deviation fixed upstream) fails the run until the entry is updated.
A deviation is never a reason to weaken a claim.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ALL_BACKENDS = ("tensorflow", "jax", "torch")


@dataclass(frozen=True)
class Deviation:
    test: str
    """``file::test_name``, optionally with ``[params]``; a test without params matches all of them."""
    keras: str
    """Keras versions where the claim fails: PEP 440 specifier sets, alternatives joined by ``|``
    (``">=3"``, ``"<3.12 | >=3.14"``)."""
    diagnosis: str
    backends: tuple[str, ...] = ALL_BACKENDS
    upstream: str | None = None
    raises: type[BaseException] = AssertionError
    """How the claim fails there; any other failure is reported as a failure, not as this deviation."""
    consequence: str = ""
    """How the shared diagnosis makes this particular claim fail, where that is not plain."""
    params: tuple[str, ...] = ()
    """With a ``test`` without params: only the parametrizations that have every one of these ids (the
    parts of ``[a-b-c]``), e.g. ``("model.reset_states()",)`` for that reset over every shape."""

    def matches(self, test_id: str) -> bool:
        """Does this entry name ``test_id`` (``file::test_name[params]``)?"""
        name, _, params = test_id.partition("[")
        if test_id == self.test:
            return True
        return name == self.test and set(self.params) <= set(params.rstrip("]").split("-"))

    def covers(self, keras_version: str, backend: str) -> bool:
        return backend in self.backends and any(
            Version(keras_version) in SpecifierSet(part.strip()) for part in self.keras.split("|"))

    @property
    def cause(self) -> str:
        """The diagnosis with its range and upstream link, shared by every claim it covers."""
        where = f" See {self.upstream}." if self.upstream else ""
        return f"Known deviation (Keras {self.keras}, {'/'.join(self.backends)}): {self.diagnosis}{where}"

    @property
    def reason(self) -> str:
        """What pytest shows for the strict xfail: the cause, then what it does to this claim."""
        return f"{self.cause} {self.consequence}".strip()


TORCH_FUSED_SHAPES = ("LSTM", "GRU(reset_after=True)", "LSTM(go_backwards=True)", "Bidirectional(LSTM)",
                      "stacked GRU > LSTM", "LSTM in a nested Model", "LSTM in a custom Layer")
"""The shapes of spec/shapes.py whose stateful layers include an LSTM or a GRU with ``reset_after=True``:
on PyTorch they run the backend's own ``lstm``/``gru`` (see the PyTorch deviation)."""


def _where(test: str | tuple[str, tuple[str, ...]]) -> dict:
    """``test=`` and ``params=`` of a Deviation from ``"file::test"`` or ``("file::test", params)``."""
    return {"test": test} if isinstance(test, str) else {"test": test[0], "params": test[1]}


DEVIATIONS: list[Deviation] = [
    Deviation(
        test="test_07_batch_size.py::test_the_tutorials_batch_input_shape_declares_the_batch_size",
        keras=">=3",
        diagnosis=(
            "Keras 3 removed the layer argument `batch_input_shape`: `LSTM(..., batch_input_shape=...)` "
            "raises `ValueError: Unrecognized keyword arguments`. Declare the batch size on the input: "
            "`keras.Input(shape=(timesteps, features), batch_size=B)` or `keras.Input(batch_shape=...)`."
        ),
        upstream="https://github.com/keras-team/keras/issues/20106",
        raises=ValueError,
    ),
    *[
        Deviation(
            test=test,
            params=params,
            keras=">=3",
            diagnosis=(
                "Keras 3 models have no `reset_states()` (only layers have `reset_state()`/`reset_states()`), "
                "so the tutorial's `model.reset_states()` raises AttributeError. Reset each stateful layer, "
                "as `statefulness.reset_states(model)` does."
            ),
            upstream="https://github.com/keras-team/keras/issues/20327",
            raises=AttributeError,
        )
        for test, params in [
            ("test_05_reset.py::test_the_tutorials_model_reset_states_resets_every_stateful_layer", ()),
            ("test_05_reset.py::test_every_reset_returns_every_state_of_every_shape_to_zeros_and_outputs_repeat",
             ("model.reset_states()",)),
        ]
    ],
    Deviation(
        test="test_05_reset.py::test_every_reset_returns_every_state_of_every_shape_to_zeros_and_outputs_repeat",
        params=("LSTM in a custom Layer", "model.reset_states()"),
        keras="<3",
        diagnosis=(
            "Keras 2's `Model.reset_states()` (keras/engine/training.py) resets each top-level layer that "
            "has a `reset_states` method and is `stateful`. A user's own layer that owns a stateful LSTM "
            "reports `stateful` True (`Layer.stateful` asks its sublayers) but has no `reset_states` of its "
            "own, so it is skipped and its LSTM keeps its state, silently. Nested models are reached (a "
            "`Model` has `reset_states`). Reset every stateful RNN layer, as `statefulness.reset_states(model)` "
            "does, or give the custom layer a `reset_states` that resets what it owns."
        ),
    ),
    Deviation(
        test="test_05_reset.py::test_every_reset_returns_every_state_of_every_shape_to_zeros_and_outputs_repeat",
        params=("RNN(GRUCell, LSTMCell)", "each layer's reset_states()"),
        keras=">=3",
        diagnosis=(
            "An `RNN` over a list of cells keeps its state nested, one list per cell (`RNN.states` is built "
            "with `tree.map_structure` in `RNN._create_state_variables`), but `RNN.reset_state` "
            "(keras/src/layers/rnn/rnn.py) loops over the top level only and calls `v.assign(...)` on each "
            "entry, so the reset raises `AttributeError: 'ListWrapper' object has no attribute 'assign'` "
            "and no state is zeroed. Rebuilding the layer goes through the same reset. Zero each state "
            "variable instead, as `statefulness.reset_states(model)` does for nested states."
        ),
        raises=AttributeError,
    ),
    Deviation(
        test=(
            "test_07_batch_size.py::"
            "test_predict_returns_one_row_per_sample_even_when_the_batch_size_does_not_divide_them"
        ),
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
    ),
    *[
        Deviation(
            **_where(test),
            keras=">=3,<3.12",
            diagnosis=(
                "Before Keras 3.12, a stateful RNN fed a batch of fewer rows than its stored state runs "
                "without an error: the r input rows are broadcast against the (B, units) state and B rows "
                "come back. Keras 3.12 added the check in `RNN.call` (keras/src/layers/rnn/rnn.py, PR #21742)."
            ),
            upstream="https://github.com/keras-team/keras/issues/21183",
            raises=pytest.fail.Exception,  # pytest.raises: "DID NOT RAISE"
        )
        for test in [
            *[f"test_07_batch_size.py::test_a_stateful_model_refuses_one_batch_of_another_size[{call}-fewer rows]"
              for call in ("direct call", "predict_on_batch")],
            ("test_07_batch_size.py::test_every_shape_refuses_one_batch_of_another_size", ("fewer rows",)),
        ]
    ],
    Deviation(
        test="test_07_batch_size.py::test_fit_and_evaluate_refuse_a_sample_count_the_stateful_batch_size_does_not_divide",
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
    ),
    Deviation(
        test="test_06_shuffling.py::test_fit_draws_a_new_order_every_epoch_also_in_a_seeded_run",
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
    ),
    *[
        Deviation(
            **_where(test),
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
            consequence=consequence,
        )
        for test, consequence in [
            ("test_01_split_sequences.py::test_a_stateful_layer_fed_the_stateful_layout_equals_a_stateless_layer_on_whole_sequences", ""),
            ("test_01_split_sequences.py::test_without_the_reset_the_next_group_of_sequences_inherits_the_state",
             "Nothing is inherited because nothing is carried."),
            ("test_03_state_between_batches.py::test_predict_hands_the_state_of_sample_i_to_sample_i_plus_batch_size", ""),
            ("test_03_state_between_batches.py::test_consecutive_chunks_through_a_stateful_layer_equal_the_whole_sequence[predict_on_batch]", ""),
            ("test_03_state_between_batches.py::test_consecutive_chunks_through_a_stateful_layer_equal_the_whole_sequence[predict]", ""),
            ("test_03_state_between_batches.py::test_fit_and_evaluate_carry_the_state_from_batch_to_batch", ""),
            ("test_03_state_between_batches.py::test_state_persists_across_separate_predict_calls_until_reset", ""),
            *[(("test_03_state_between_batches.py::"
                "test_every_shape_carries_state_row_to_row_through_every_driver_and_never_resets_it_by_itself",
                (driver,)), "The same in every layer kind and model shape.")
              for driver in ("predict_on_batch", "predict", "evaluate", "fit")],
            (("test_06_shuffling.py::test_in_every_shape_shuffling_breaks_the_i_to_i_plus_bs_pairing", ()),
             "The state does not move, so shuffling has nothing to break."),
            ("test_06_shuffling.py::test_shuffle_false_keeps_the_i_to_i_plus_bs_pairing_of_a_stateful_layer", ""),
            ("test_06_shuffling.py::test_shuffling_breaks_the_i_to_i_plus_bs_pairing_of_a_stateful_layer",
             "The state does not move, so shuffling has nothing to break."),
            ("test_06_shuffling.py::test_fit_draws_a_new_order_every_epoch_also_in_a_seeded_run",
             "This test sees the order through the state, so on JAX it cannot see it (the weight-based "
             "shuffling claims pass)."),
            ("test_01_split_sequences.py::test_a_stateful_lstm_in_order_and_reset_per_sequence_learns_the_later_pieces",
             "Trained without the carried state, the later pieces never see the key, as in the stateless model."),
            ("test_01_split_sequences.py::test_the_same_stateful_lstm_trained_without_resets_does_worse",
             "With no state carried there is nothing for the missing resets to spoil."),
            ("test_15_stateful.py::test_a_stateful_lstm_reset_every_epoch_learns_the_alphabet",
             "Trained one letter per batch with no state carried, the model sees what the one-char model "
             "sees and does not learn the alphabet."),
            ("test_15_stateful.py::test_reset_and_seeded_with_A_the_stateful_model_generates_the_alphabet",
             "Trained without carried state, the model cannot generate the alphabet from 'A'."),
        ]
    ],
    *[
        Deviation(
            **_where(test),
            keras=">=3",
            backends=("torch",),
            raises=RuntimeError,
            diagnosis=(
                "On PyTorch, `fit` on a model whose stateful layer is an `LSTM`, or a `GRU` with "
                "`reset_after=True`, raises `RuntimeError: one of the variables needed for gradient computation "
                "has been modified by an inplace operation`. Those layers run the torch backend's own `lstm` "
                "and `gru` (keras/src/backend/torch/rnn.py; `_fallback_lstm`/`_fallback_gru` on the CPU), which "
                "start from the stored state's own tensors (`convert_to_tensor` unwraps the variables), and "
                "`RNN.call` then assigns the new state into those variables (`self_state.assign(state)`) before "
                "the backward pass. Layers that run the generic `RNN.inner_loop` (SimpleRNN, GRU with "
                "`reset_after=False`, `RNN` over cells, ConvLSTM1D) copy the states for torch first "
                "(`tree.map_structure(ops.copy, states)`) and train, carrying state; so does an LSTM built with "
                "`use_cudnn=False`. Direct calls, `predict` and `evaluate` carry state in every layer. Seen with "
                "Keras 3.15.1 and torch 2.13.0."
            ),
            consequence=consequence,
        )
        for test, consequence in [
            ("test_03_state_between_batches.py::test_fit_and_evaluate_carry_the_state_from_batch_to_batch[fit]", ""),
            *[(("test_03_state_between_batches.py::"
                "test_every_shape_carries_state_row_to_row_through_every_driver_and_never_resets_it_by_itself",
                (shape, "fit")), "The same in every shape whose stateful layers include an LSTM or such a GRU.")
              for shape in TORCH_FUSED_SHAPES],
            *[(("test_06_shuffling.py::test_in_every_shape_shuffling_breaks_the_i_to_i_plus_bs_pairing", (shape,)),
               "This claim trains a stateful model with `fit`, so it cannot be reached.")
              for shape in TORCH_FUSED_SHAPES],
            *[(test, "This claim trains a stateful model with `fit`, so it cannot be reached.") for test in [
                "test_06_shuffling.py::test_shuffle_false_keeps_the_i_to_i_plus_bs_pairing_of_a_stateful_layer",
                "test_06_shuffling.py::test_shuffling_breaks_the_i_to_i_plus_bs_pairing_of_a_stateful_layer",
                "test_06_shuffling.py::test_fit_draws_a_new_order_every_epoch_also_in_a_seeded_run",
                "test_07_batch_size.py::test_fit_and_evaluate_refuse_a_sample_count_the_stateful_batch_size_does_not_divide[fit]",
                "test_10_training.py::test_one_fit_over_all_epochs_trains_as_the_tutorials_loop_of_one_epoch_fits[stateful]",
                "test_01_split_sequences.py::test_a_stateful_lstm_in_order_and_reset_per_sequence_learns_the_later_pieces",
                "test_01_split_sequences.py::test_the_same_stateful_lstm_trained_with_shuffling_does_not_learn_them",
                "test_01_split_sequences.py::test_the_same_stateful_lstm_trained_without_resets_does_worse",
                "test_15_stateful.py::test_a_stateful_lstm_reset_every_epoch_learns_the_alphabet",
                "test_15_stateful.py::test_reset_and_seeded_with_A_the_stateful_model_generates_the_alphabet",
                "test_15_stateful.py::test_seeded_cold_with_K_the_stateful_model_does_not_go_on_with_L",
                "test_15_stateful.py::test_warmed_up_on_A_to_J_the_stateful_model_predicts_L_after_K",
            ]],
        ]
    ],
]
