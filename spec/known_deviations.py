"""Known deviations: claims that some Keras version or backend does not meet, kept as data.

Each entry names the test that states the claim, the Keras versions and backends where the claim
fails, the diagnosis, and the upstream thread where one exists. ``conftest.py`` turns every entry that
matches the installed Keras into a strict ``xfail``: the test still runs, a failure is reported as the
known deviation, and a pass (the deviation fixed upstream) fails the run until the entry is updated.
A deviation is never a reason to weaken a claim.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_BACKENDS = ("tensorflow", "jax", "torch")


@dataclass(frozen=True)
class Deviation:
    test: str
    """``file::test_name``, optionally with ``[params]``; a test without params matches all of them."""
    keras: str
    """Keras versions where the claim fails, as a PEP 440 specifier set (``">=3"``)."""
    diagnosis: str
    backends: tuple[str, ...] = ALL_BACKENDS
    upstream: str | None = None
    raises: type[BaseException] = AssertionError
    """How the claim fails there; any other failure is reported as a failure, not as this deviation."""

    @property
    def reason(self) -> str:
        where = f" See {self.upstream}." if self.upstream else ""
        return f"Known deviation (Keras {self.keras}, {'/'.join(self.backends)}): {self.diagnosis}{where}"


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
    Deviation(
        test="test_05_reset.py::test_the_tutorials_model_reset_states_resets_every_stateful_layer",
        keras=">=3",
        diagnosis=(
            "Keras 3 models have no `reset_states()` (only layers have `reset_state()`/`reset_states()`), "
            "so the tutorial's `model.reset_states()` raises AttributeError. Reset each stateful layer, "
            "as `statefulness.reset_states(model)` does."
        ),
        upstream="https://github.com/keras-team/keras/issues/20327",
        raises=AttributeError,
    ),
    Deviation(
        test=(
            "test_07_batch_size.py::"
            "test_predict_returns_one_row_per_sample_even_when_the_batch_size_does_not_divide_them"
        ),
        keras=">=2.12",
        backends=("tensorflow",),
        diagnosis=(
            "With a stateful batch size B that does not divide the n samples, `predict` returns "
            "ceil(n/B)*B rows: the last, partial batch of r < B rows is broadcast against the stored "
            "(B, units) state (`x @ kernel` has r rows, `h @ recurrent_kernel` has B), so it yields B "
            "rows, and B - r of them belong to no sample. `fit` and `evaluate` take the same path "
            "without an error. The static batch-size check of Keras 3.12 (PR #21742) does not fire "
            "because the partial batch reaches the layer with a dynamic batch dimension."
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
]
