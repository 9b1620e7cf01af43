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

from collections.abc import Callable
from dataclasses import dataclass

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from statefulness.rule_ids import RULE_IDS, route_rules

ALL_BACKENDS = ("tensorflow", "jax", "torch")

PYTEST_DID_NOT_RAISE = "_pytest.outcomes.Failed"
"""What ``pytest.raises`` raises when nothing was raised."""


@dataclass(frozen=True)
class Predicate:
    """A kind of model that a deviation shows on (``Deviation.when``, ``Covers.when``): declared here as
    data, decided on a built model by ``statefulness.check.PREDICATES`` (which refuses to import without
    one implementation per predicate)."""

    name: str
    doc: str

    def __str__(self) -> str:
        return self.name


NESTED_STATE = Predicate("nested_state", "A stateful layer keeps its state nested (an RNN over a list of cells).")
CUSTOM_LAYER_HOLDS_STATE = Predicate(
    "custom_layer_holds_state",
    "A layer that is neither a model nor has reset_states holds a stateful layer (Keras 2's Model.reset_states "
    "walks model.layers and models only).",
)
TORCH_FUSED_LSTM = Predicate(
    "torch_fused_lstm", "A stateful LSTM that may run the backend's own kernel (use_cudnn not False)."
)
TORCH_FUSED_GRU = Predicate(
    "torch_fused_gru",
    "A stateful GRU with reset_after=True that may run the backend's own kernel, and no such LSTM (that is "
    "TORCH_FUSED_LSTM's).",
)
BATCH_OF_ONE = Predicate("batch_of_one", "The model is built for batches of one row (one sequence streamed at a time).")
PREDICATES = (NESTED_STATE, CUSTOM_LAYER_HOLDS_STATE, TORCH_FUSED_LSTM, TORCH_FUSED_GRU, BATCH_OF_ONE)


def _qualified(error: BaseException | type[BaseException] | str) -> str:
    if isinstance(error, str):
        return error
    cls = error if isinstance(error, type) else type(error)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def same_exception(a: str, b: str) -> bool:
    """Do qualified names ``a`` and ``b`` name one exception class (a backend may re-export it elsewhere)?"""
    return a.rpartition(".")[2] == b.rpartition(".")[2]


@dataclass(frozen=True)
class Covers:
    """A spec test that a deviation makes fail."""

    test: str
    """The claim's stable id (its ``@pytest.mark.claim``), optionally with ``[params]``; an id without
    params matches all of them."""
    params: tuple[str, ...] = ()
    """With a ``test`` without params: only the parametrizations that have every one of these ids (the
    parts of ``[a-b-c]``), e.g. ``("model.reset_states()",)`` for that reset over every shape."""
    consequence: str = ""
    """How the deviation makes this claim fail, where that is not plain."""
    raises: str | None = None
    """How this claim fails, where it differs from the deviation's ``raises``."""
    when: Predicate | None = None
    """For a claim run over every kind of model (its parameter ``kind``): only the kinds this holds for."""

    def matches(self, test_id: str) -> bool:
        """Does this name ``test_id`` (a claim id, ``chapter/claim[params]``)?"""
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
    """The state rules that fail (``statefulness.rule_ids``): on a user's model in ``check_model``, and in
    the spec's breadth claims, which run the rules over every kind of model."""
    when: Predicate | None = None
    """Which models those rules fail on (None: every model)."""

    def __post_init__(self):
        unknown = [rule for rule in self.rules if rule not in RULE_IDS]
        if unknown:
            raise ValueError(f"deviation {self.id!r}: rules: unknown rule ids {unknown}; expected any of {RULE_IDS}")
        for when in (self.when, *(covers.when for covers in self.tests)):
            if when is not None and not isinstance(when, Predicate):
                raise TypeError(f"deviation {self.id!r}: when: expected a Predicate, got {when!r}")

    def raised(self, covers: Covers | None = None) -> str:
        """How a claim this deviation covers fails (``covers``: a spec test's entry; None: a state rule,
        whose failures are ``AssertionError``s, so a claim that does not raise is one)."""
        if covers is not None:
            return covers.raises or self.raises
        return "AssertionError" if self.raises == PYTEST_DID_NOT_RAISE else self.raises

    def explains(self, error: BaseException | type[BaseException] | str, covers: Covers | None = None) -> bool:
        """Is ``error`` (an exception, its class or qualified name) how this deviation makes the claim fail?
        A failed assertion is explained by a deviation that fails as one (or by not raising)."""
        name, expected = _qualified(error), self.raised(covers)
        if same_exception(name, "AssertionError") or name.endswith("RuleFailed"):
            return expected in ("AssertionError", PYTEST_DID_NOT_RAISE)
        return same_exception(name, expected)

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


def deviation_for(
    test_id: str, keras_version: str, backend: str, holds: Callable[[Predicate], bool] | None = None
) -> tuple[Deviation, Covers] | None:
    """The known deviation that covers spec test ``test_id`` on that Keras and backend, and its entry.
    ``holds(predicate)``: whether the test's kind of model is of that kind (an entry with ``when`` covers
    only such tests)."""
    for deviation in DEVIATIONS:
        covers = deviation.covering(test_id)
        if covers is None or not deviation.covers(keras_version, backend):
            continue
        if covers.when is None or (holds is not None and holds(covers.when)):
            return deviation, covers
    return None


_SHAPES_SHUFFLE = "shuffling/every-shape-shuffling-breaks-the-pairing"
_REFUSE_ONE = "batch-size/stateful-model-refuses-a-batch-of-another-size"
_JAX = "TypeError"
"""How JAX fails in a cell's arithmetic (``jax.numpy``'s ``TypeError`` on incompatible shapes)."""
_TORCH = "RuntimeError"
"""How PyTorch fails in a cell's arithmetic (torch's own ``RuntimeError``, re-raised by Keras)."""
_NOT_REACHED = "This claim trains a stateful model with `fit`, so it cannot be reached."

_KERAS_LOOPS = ("predict_on_batch", "predict", "evaluate")
_FIT_LOOPS = ("fit", "fit validation", "fit tf.data")
"""The drivers of the state rules (``statefulness.rule_ids.DRIVERS``) that run Keras's loops, and those that train."""

_UNKNOWN_BATCH_DIMENSION = (
    "A PyDataset and a generator give fit batches of unknown size (None in the traced function), so the check "
    "refuses every batch of them: a stateful model cannot be trained on either."
)

_LOOP_FIT_CLAIMS = tuple(
    Covers(test, consequence=_NOT_REACHED)
    for test in (
        "validation/validation-starts-from-the-epochs-state",
        "validation/next-epoch-trains-on-from-validations-state",
        "validation/validation-freq-moves-it-only-when-validating",
        "validation/validation-split-holds-out-the-last-samples",
        "validation/refuses-another-validation-batch-size",
        "validation/refuses-an-undivided-validation-set",
        "validation/keep-validation-apart-restores-the-training-state",
        "input-pipelines/py-dataset-every-batch-once-shuffled",
        "input-pipelines/generator-fed-in-its-own-order",
        "resuming-and-gradients/resumed-with-epoch-resets-trains-the-same",
        "resuming-and-gradients/resumed-without-resets-starts-from-zero",
        "resuming-and-gradients/fit-stops-the-gradient-at-the-carried-state",
        "callbacks/early-stopping-restores-weights-not-state",
        "callbacks/model-checkpoint-leaves-the-state",
        "callbacks/backup-and-restore-with-resets-trains-the-same",
        "callbacks/backup-and-restore-resumes-from-zero-state",
    )
)
"""The claims of chapters 19 to 22 that train the chapters' tiny LSTM with ``fit``."""

_JAX_LOOP_CLAIMS = (
    *[
        Covers(claim)
        for claim in (
            "validation/validation-starts-from-the-epochs-state",
            "validation/next-epoch-trains-on-from-validations-state",
            "validation/validation-freq-moves-it-only-when-validating",
            "validation/validation-split-holds-out-the-last-samples",
            "validation/keep-validation-apart-restores-the-training-state",
            "input-pipelines/generator-fed-in-its-own-order",
            "input-pipelines/batch-callbacks-once-per-execution",
        )
    ],
    Covers(
        "input-pipelines/py-dataset-every-batch-once-shuffled",
        consequence="This claim sees the order through the state, so on JAX it cannot see it.",
    ),
    Covers(
        "resuming-and-gradients/fit-stops-the-gradient-at-the-carried-state",
        consequence="fit trains every batch from zero state, not from the state the last batch carried.",
    ),
    Covers(
        "resuming-and-gradients/resumed-without-resets-starts-from-zero",
        consequence="With no state carried, the resumed run trains what the uninterrupted one trains.",
    ),
    Covers(
        "callbacks/backup-and-restore-resumes-from-zero-state",
        consequence="With no state carried, the resumed run trains what the uninterrupted one trains.",
    ),
    Covers(
        "layer-options/dropout-reaches-the-state-in-fit",
        consequence="fit stores no state, with dropout or without.",
    ),
    Covers("distribution/data-parallel-fit-carries-the-global-rows"),
)
"""The claims of chapters 19 to 24 that see the state fit carries, which JAX's fit does not."""

_PARTIAL_BATCHES_OF_THE_LOOP = (
    Covers("validation/refuses-an-undivided-validation-set"),
    Covers("input-pipelines/dataset-partial-last-batch-refused"),
)
"""The claims that feed a last, partial batch through fit's validation pass and through a tf.data.Dataset."""


_TUTORIAL_FIT_CLAIMS = tuple(
    Covers(test, consequence=_NOT_REACHED)
    for test in (
        "shuffling/shuffle-false-keeps-the-i-to-i-plus-bs-pairing",
        "shuffling/shuffling-breaks-the-i-to-i-plus-bs-pairing",
        "shuffling/new-order-every-epoch-also-in-a-seeded-run",
        "batch-size/fit-and-evaluate-refuse-an-undivided-sample-count[fit]",
        "training/one-fit-trains-as-the-loop-of-one-epoch-fits[as_the_experiments_train-stateful]",
        "split-sequences/split_stateful_learns",
        "split-sequences/split_shuffled_does_not_learn",
        "split-sequences/split_without_resets_does_worse",
        "stateful/stateful_learns",
        "stateful/stateful_generates_the_alphabet_from_A",
        "stateful/stateful_cold_start_at_K_goes_wrong",
        "stateful/stateful_warmed_up_predicts_L_after_K",
    )
)
"""The claims on the tutorial's stateful LSTM that train it with ``fit``."""


def _refused_by_accident(raises: str, partial: str | None) -> tuple[Covers, ...]:
    """The claims that feed a batch of more rows than the stateful batch size, refused only by an error of the
    cell's arithmetic (``raises``); and the claims on a partial last batch, which fail with ``partial``."""
    return (
        *[Covers(f"{_REFUSE_ONE}[{call}-more rows]", raises=raises) for call in ("direct call", "predict_on_batch")],
        Covers("batch-size/predict-refuses-a-larger-batch-size", raises=raises),
        Covers(
            "save-and-load/refused-batch-leaves-every-shape-loadable",
            consequence="What the refusal leaves behind is not checked there: no refusal on purpose happens.",
            raises=raises,
        ),
        Covers(
            "batch-size/predict-returns-one-row-per-sample-undivided",
            raises=partial,
        ),
        Covers(
            "batch-size/fit-and-evaluate-refuse-an-undivided-sample-count",
            raises=partial,
        ),
    )


def _shuffle_claim(when: Predicate | None) -> Covers:
    """The breadth claim on shuffling, which trains every kind with ``fit``: not reached on the kinds of
    ``when``. (The state rule ``carries-state[fit]`` is the deviation's ``rules``.)"""
    return Covers(_SHAPES_SHUFFLE, consequence=_NOT_REACHED, when=when)


_NOTHING_TO_BREAK = "The state does not move, so shuffling has nothing to break."


_JAX_MODEL_EXPORT_CLAIMS = tuple(
    Covers(f"deployment/saved-model-{claim}")
    for claim in (
        "carries-the-state-between-calls",
        "of-a-batch-of-one-exports",
        "starts-from-the-state-at-export",
        "endpoints-share-one-state",
        "refuses-another-batch-size",
    )
)
"""The chapter 18 claims of ``model.export()`` that fail on JAX, where the export itself fails."""

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
        tests=(Covers("batch-size/tutorials-batch-input-shape-declares-it"),),
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
        tests=(Covers("reset/tutorial-model-reset-states-resets-every-layer"),),
        rules=("reset-zeroes[model.reset_states()]",),
        # check_model reports the rule as not applicable where keras.Model has no reset_states
        # (check.NOT_APPLICABLE_HERE); the spec's breadth claim runs it, and meets this deviation.
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
        rules=("reset-zeroes[model.reset_states()]",),
        when=CUSTOM_LAYER_HOLDS_STATE,
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
        rules=("reset-zeroes[layer.reset_states()]",),
        when=NESTED_STATE,
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
                "save-and-load/refused-batch-leaves-every-shape-loadable",
                (".keras", "LSTM in a custom Layer"),
                consequence="The model loads no more than before the refused batch.",
            ),
            Covers(
                "another-batch-size/every-kind-row-r-goes-on-in-a-copy-of-batch-one",
                ("LSTM in a custom Layer",),
                consequence="`statefulness.rebatch` makes its copy from the config, which builds the layer "
                "through the same `build_from_config`.",
            ),
        ),
        rules=("saved-and-loaded[.keras]",),
        when=CUSTOM_LAYER_HOLDS_STATE,
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
        tests=(Covers("save-and-load/keras-2-h5-tutorial-model-loads-with-its-outputs"),),
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
            Covers("initial-state-and-masking/masked-pre-padded-steps-leave-state-unchanged"),
            Covers("initial-state-and-masking/masked-steps-leave-carried-state-unchanged"),
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
        tests=(Covers("initial-state-and-masking/initial-state-used-when-stored-state-is-not-zero"),),
    ),
    Deviation(
        id="Keras 2 stops fit when a finite dataset runs out",
        keras="<3",
        diagnosis=(
            "Fed a finite dataset shorter than `steps_per_epoch`, Keras 2's `fit` ends the epoch when the "
            "dataset runs out and then stops training: `DataHandler.catch_stop_iteration` "
            "(keras/src/engine/data_adapter.py) sets `_insufficient_data` on the `OutOfRangeError`, and "
            "`enumerate_epochs` breaks out of the loop over epochs, so the later epochs never run (it logs "
            '"Your input ran out of data; interrupting training"). Keras 3\'s `EpochIterator` '
            "(keras/src/trainers/epoch_iterator.py) warns the same words but only ends the epoch, and the "
            "next one starts a new pass over the dataset. Measured on Keras 2.12.0, 2.13.1, 2.14.0, 2.15.0 "
            "and tf-keras 2.21.0 (stops after epoch 0); Keras 3.3.3 (TF 2.16) to 3.15.1 go on, on every "
            "backend that takes a `tf.data.Dataset`. A model trained this way trains fewer epochs on Keras 2, "
            "and each epoch's reset lands elsewhere. Repeat the dataset and give the pass's length as "
            "`steps_per_epoch`: both majors then train every epoch over one whole pass."
        ),
        tests=(Covers("input-pipelines/run-out-dataset-starts-each-epoch-over"),),
    ),
    Deviation(
        id="Keras 2 TimeDistributed computes other outputs around a stateful layer",
        keras="<3",
        diagnosis=(
            "`TimeDistributed(LSTM(stateful=True))` in Keras 2 returns outputs that are neither the slices "
            "fed one after another (Keras 3) nor each slice from zero state, not even for one slice: with "
            "inputs of shape (2, 1, 2, 2) its output differs from the same layer called directly on the slice "
            "(which computes the recurrence) by up to 0.08. A stateful layer makes `TimeDistributed.call` "
            "(keras/src/layers/rnn/time_distributed.py) take its branch for a known batch size "
            "(`_always_use_reshape` is False for stateful layers), which runs the layer inside "
            "`backend.rnn`'s `tf.while_loop`, where the LSTM's own state reads and writes happen in the loop "
            "body; a stateless layer takes the reshape branch and computes the recurrence. Measured on "
            "Keras 2.12.0, 2.13.1, 2.14.0, 2.15.0 and tf-keras 2.21.0; Keras 3.3.3 to 3.15.1 on TensorFlow, "
            "and 3.15.1 on JAX and PyTorch, chain the slices. Feed the slices as one sequence instead "
            "(reshape to (batch, slices * steps, features), `return_sequences=True`, every `steps`-th output)."
        ),
        tests=(Covers("layer-options/time-distributed-chains-its-slices"),),
    ),
    Deviation(
        id="Keras 2 refuses a stateful RNN under tf.distribute",
        keras="<3",
        backends=("tensorflow",),
        diagnosis=(
            "Keras 2 refuses to create a stateful recurrent layer inside any `tf.distribute` strategy's "
            "scope: `RNN.__init__` (keras/src/layers/rnn/base_rnn.py) raises `ValueError: Stateful RNNs "
            "(created with `stateful=True`) are not yet supported with tf.distribute.Strategy.` whenever "
            "`tf.distribute.has_strategy()`, whatever the batch size. Keras 3 on TensorFlow trains it under "
            "`MirroredStrategy`, built for the per-replica batch, each replica carrying its own rows. "
            "Measured with two logical CPU devices on Keras 2.12.0, 2.13.1, 2.14.0, 2.15.0 and tf-keras "
            "2.21.0 (refused); Keras 3.3.3 to 3.15.1 on TensorFlow train it. Under a strategy on Keras 2, "
            "build the stateless twin instead (the state as inputs and outputs, `return_state=True`) and "
            "carry the state yourself."
        ),
        tests=(
            Covers(
                "distribution/mirrored-refuses-the-global-batch-size",
                consequence="It is refused for being stateful, whatever its batch size, not for the batch size.",
            ),
            Covers("distribution/mirrored-each-replica-carries-its-rows"),
            Covers("distribution/mirrored-host-reads-the-first-replica"),
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
                "save-and-load/refused-batch-leaves-every-shape-loadable",
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
                "batch-size/stateful-model-refuses-a-batch-of-another-size[direct call-more rows]",
                raises="tensorflow.python.framework.errors_impl.InvalidArgumentError",
            ),
            Covers("batch-size/stateful-model-refuses-a-batch-of-another-size[predict_on_batch-more rows]"),
            Covers("batch-size/predict-refuses-a-larger-batch-size"),
            Covers(
                "save-and-load/refused-batch-leaves-every-shape-loadable",
                consequence="What the refusal leaves behind is not checked there: no refusal on purpose happens.",
                raises="tensorflow.python.framework.errors_impl.InvalidArgumentError",
            ),
            Covers("validation/refuses-another-validation-batch-size[more rows]"),
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
        tests=(Covers("batch-size/predict-returns-one-row-per-sample-undivided"),),
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
            "3.14.0 run the partial batch (the two deviations above and below), 3.15.1 too. Every input whose "
            "batches are of unknown size in the traced function meets the same check, whole batches too: a "
            "`PyDataset`, a generator, a `tf.data.Dataset` batched without `drop_remainder` (measured with "
            "3.13.2), so on 3.12 and 3.13 `fit` cannot train a stateful model on any of them."
        ),
        upstream="https://github.com/keras-team/keras/issues/21942",
        raises="tensorflow.python.framework.errors_impl.OperatorNotAllowedInGraphError",
        tests=(
            Covers("batch-size/predict-returns-one-row-per-sample-undivided"),
            Covers("batch-size/fit-and-evaluate-refuse-an-undivided-sample-count"),
            *_PARTIAL_BATCHES_OF_THE_LOOP,
            Covers(
                "input-pipelines/dataset-of-unknown-batch-size-trains",
                consequence="A dataset batched without drop_remainder has a symbolic batch dimension even where "
                "every batch is whole, so the check refuses it too.",
            ),
            *[
                Covers(claim, consequence=_UNKNOWN_BATCH_DIMENSION)
                for claim in (
                    "input-pipelines/py-dataset-every-batch-once-shuffled",
                    "input-pipelines/generator-fed-in-its-own-order",
                )
            ],
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
            Covers("validation/refuses-another-validation-batch-size", raises=_TORCH),
            Covers("validation/refuses-an-undivided-validation-set", raises=_TORCH),
        ),
        rules=("refuses-other-batch-size[more rows]",),
        # A batch of fewer rows is refused by accident where the first stateful layer steps an LSTMCell
        # (the claims above); the rule counts an accidental refusal as none, and meets the deviation
        # "a batch of fewer rows is not refused" for every model.
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
            *[Covers(f"{_REFUSE_ONE}[{call}-fewer rows]") for call in ("direct call", "predict_on_batch")],
            Covers(
                "validation/refuses-another-validation-batch-size[fewer rows]",
                consequence="fit validates batches of one row against the state of two, broadcast.",
            ),
            Covers(
                "distribution/mirrored-refuses-the-global-batch-size",
                consequence="Each replica's slice of 2 rows meets the state of 4 in the cell's arithmetic, which "
                "fails without naming the batch size (Keras 3.3.3 to 3.6.0: a ValueError from graph "
                "construction; 3.9.2 and 3.11.3: a RuntimeError, unable to build the model).",
                raises="AssertionError",
            ),
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
        tests=(Covers("batch-size/fit-and-evaluate-refuse-an-undivided-sample-count"), *_PARTIAL_BATCHES_OF_THE_LOOP),
    ),
    Deviation(
        id="a stateful layer cannot be built under mixed_float16",
        keras=">=3,<3.8",
        backends=("tensorflow",),
        raises="ValueError",
        diagnosis=(
            "Under the `mixed_float16` policy, Keras 3 before 3.8 on TensorFlow cannot build a stateful "
            "recurrent layer: `RNN._create_state_variables` makes each state a `backend.Variable` of the "
            "layer's variable dtype (float32) from `get_initial_state`'s zeros, which are in the compute dtype "
            "(float16), and TensorFlow refuses (`ValueError: initial_value: Tensor conversion requested dtype "
            "float32 for Tensor with dtype float16`). Keras 3.8 reworked `KerasVariable.__init__` "
            "(keras/src/backend/common/variables.py) to convert an initial value to the variable's dtype, which "
            "casts. Measured with Keras 3.3.3, 3.4.1, 3.6.0 and 3.7.0 (fail) and 3.8.0, 3.9.2, 3.11.3, 3.15.1 "
            "(build, store the state in float32, and chunks equal the whole); Keras 2 builds it. Keras 2.5 had "
            "the same failure (keras-team/keras#15140, closed). JAX and PyTorch before 3.8 were not run."
        ),
        upstream="https://github.com/keras-team/keras/issues/15140",
        tests=(Covers("resuming-and-gradients/mixed-precision-chunks-equal-the-whole"),),
    ),
    Deviation(
        id="Keras 2.12 LSTM cannot be built under mixed_bfloat16",
        keras="~=2.12.0",
        backends=("tensorflow",),
        raises="TypeError",
        diagnosis=(
            "Under the `mixed_bfloat16` policy, Keras 2.12 cannot build an `LSTM`, stateful or not, even on "
            "the CPU: the layer builds both its standard and its cuDNN implementation into the graph (the "
            "grappler picks one at run time), and TensorFlow 2.12's `CudnnRNN` op "
            "(tensorflow/python/ops/gen_cudnn_rnn_ops.py) accepts only float16, float32 and float64: "
            "`TypeError: Value passed to parameter 'input' has DataType bfloat16 not in list of allowed "
            "values`. Measured with TensorFlow 2.12.1; 2.13 to 2.15 and Keras 3 build it. Fixed upstream."
        ),
        tests=(Covers("resuming-and-gradients/mixed-precision-chunks-equal-the-whole", params=("bfloat16",)),),
    ),
    Deviation(
        id="PyTorch: under mixed precision the state is not stored",
        keras=">=3",
        backends=("torch",),
        diagnosis=(
            "On PyTorch, a stateful recurrent layer under a mixed precision policy (`mixed_float16`, "
            "`mixed_bfloat16`) never stores its state: every call starts from zeros, so chunks do not compute "
            "the whole sequence, and nothing says so. `RNN.call` assigns the new state inside the layer's "
            "autocast scope (compute dtype float16); the torch backend's `Variable._direct_assign` "
            "(keras/src/backend/torch/core.py) writes with `self.value.copy_(value)`, and under an autocast "
            "scope `self.value` is `_maybe_autocast(self._value)`, a new float16 tensor cast from the stored "
            "float32 one: the copy lands in that temporary, and the stored state stays zero. TensorFlow and "
            "JAX assign the stored value itself. Measured with torch 2.13.0 and Keras 3.3.3, 3.9.2, 3.11.3 and "
            "3.15.1 (LSTM, GRU; both policies); float32 layers store it."
        ),
        tests=(Covers("resuming-and-gradients/mixed-precision-chunks-equal-the-whole"),),
    ),
    Deviation(
        id="fit on a dataset of unknown batch size 1",
        keras=">=3,<3.12 | >=3.14,<3.16",
        backends=("tensorflow",),
        raises="ValueError",
        diagnosis=(
            "On TensorFlow, `fit` on a `tf.data.Dataset` batched without `drop_remainder` (`dataset.batch(1)`) "
            "raises `ValueError: Input tensor 'functional/lstm/ReadVariableOp:0' enters the loop with shape (1, "
            "units), but has shape (None, units) after one iteration` for a stateful layer built for batches of "
            "1, even where every batch is whole. Such a dataset's batch dimension is unknown in the traced "
            "train step (None); the layer starts its `tf.while_loop` from the stored state, of static batch "
            "dimension 1, and broadcasting the step's input (None rows) against it gives None rows, which "
            "the loop's shape invariant refuses. For a batch size B > 1 the broadcast gives B rows and the "
            "layer trains, carrying state. `predict` on the same dataset runs. Keras 2 (2.15) trains; Keras "
            "3.12 and 3.13 refuse every such dataset by accident (the deviation above). Measured with Keras "
            "3.3.3, 3.11.3 and 3.15.1 (LSTM, GRU, SimpleRNN); keras-nightly 3.16.0.dev2026102704 trains it, "
            "on TensorFlow 2.21.0 as on tf-nightly 2.23.0.dev20261026, so the fix is Keras's (not yet in a "
            "release). Batch the dataset with `drop_remainder=True`, which makes the batch dimension static."
        ),
        tests=(Covers("input-pipelines/dataset-of-unknown-batch-size-trains", params=("batch 1",)),),
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
        tests=(Covers("shuffling/new-order-every-epoch-also-in-a-seeded-run"),),
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
            *_JAX_LOOP_CLAIMS,
            Covers("split-sequences/stateful-layout-equals-stateless-whole-sequences"),
            Covers(
                "split-sequences/without-reset-next-group-inherits-the-state",
                consequence="Nothing is inherited because nothing is carried.",
            ),
            Covers("state-between-batches/predict-hands-state-from-i-to-i-plus-batch-size"),
            Covers("state-between-batches/consecutive-chunks-equal-the-whole-sequence[predict_on_batch]"),
            Covers("state-between-batches/consecutive-chunks-equal-the-whole-sequence[predict]"),
            Covers("state-between-batches/fit-and-evaluate-carry-state-batch-to-batch"),
            Covers("state-between-batches/state-persists-across-predict-calls-until-reset"),
            Covers(_SHAPES_SHUFFLE, consequence=_NOTHING_TO_BREAK),
            Covers("shuffling/shuffle-false-keeps-the-i-to-i-plus-bs-pairing"),
            Covers(
                "shuffling/shuffling-breaks-the-i-to-i-plus-bs-pairing",
                consequence=_NOTHING_TO_BREAK,
            ),
            Covers(
                "shuffling/new-order-every-epoch-also-in-a-seeded-run",
                consequence="This test sees the order through the state, so on JAX it cannot see it (the "
                "weight-based shuffling claims pass).",
            ),
            Covers(
                "split-sequences/split_stateful_learns",
                consequence="Trained without the carried state, the later pieces never see the key, as in "
                "the stateless model.",
            ),
            Covers(
                "split-sequences/split_without_resets_does_worse",
                consequence="With no state carried there is nothing for the missing resets to spoil.",
            ),
            Covers(
                "stateful/stateful_learns",
                consequence="Trained one letter per batch with no state carried, the model sees what the "
                "one-char model sees and does not learn the alphabet.",
            ),
            Covers(
                "stateful/stateful_generates_the_alphabet_from_A",
                consequence="Trained without carried state, the model cannot generate the alphabet from 'A'.",
            ),
        ),
        rules=tuple(f"carries-state[{driver}]" for driver in (*_KERAS_LOOPS, *_FIT_LOOPS)),
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
            Covers("state-between-batches/fit-and-evaluate-carry-state-batch-to-batch[fit]"),
            _shuffle_claim(TORCH_FUSED_LSTM),
            *_TUTORIAL_FIT_CLAIMS,
            *_LOOP_FIT_CLAIMS,
        ),
        rules=tuple(f"carries-state[{driver}]" for driver in _FIT_LOOPS),
        when=TORCH_FUSED_LSTM,
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
        tests=(_shuffle_claim(TORCH_FUSED_GRU),),
        rules=tuple(f"carries-state[{driver}]" for driver in _FIT_LOOPS),
        when=TORCH_FUSED_GRU,
    ),
    Deviation(
        id="PyTorch: fit feeds a PyDataset with workers one batch late",
        keras=">=3.9",
        backends=("torch",),
        diagnosis=(
            "On PyTorch, `fit(py_dataset, shuffle=False)` on a `PyDataset` read by worker threads "
            "(`workers=2`) feeds its batches one late: every epoch trains batches 1, 2, 3, then batch 0 of "
            "the next pass, so row r of the stateful layout meets its first piece after its last. Before the "
            "first epoch, `Trainer._symbolic_build` (keras/src/trainers/trainer.py) takes a batch from the "
            "epoch iterator to build the compiled loss and metrics, and drops it; with workers the "
            "dataset's enqueuer goes on from there rather than starting again. Without workers (and on "
            "TensorFlow and JAX, with or without) the epoch starts from batch 0. Measured with torch 2.13.0 "
            "and Keras 3.9.2, 3.11.3 and 3.15.1 (on 3.15.1 the chapter's LSTM cannot train at all, the "
            "deviation above; a SimpleRNN shows the order); before 3.9 `fit` of a stateful RNN fails. With "
            "worker processes (`use_multiprocessing=True`) and `max_queue_size=1` a batch is lost as well: "
            "the first epoch feeds batches 1, 2, 0, 1 (batch 3 never, batch 1 twice), the next ones 2, 3, 0, "
            "1 (measured with Keras 3.11.3 and 3.15.1, a SimpleRNN; with the default queue, processes feed "
            "one late as threads do)."
        ),
        tests=tuple(
            Covers("input-pipelines/py-dataset-every-batch-once-shuffled", params=(workers,))
            for workers in ("2 worker threads", "2 worker processes, a queue of 1")
        ),
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
            Covers("state-between-batches/fit-and-evaluate-carry-state-batch-to-batch[fit]"),
            _shuffle_claim(None),
            *_TUTORIAL_FIT_CLAIMS,
        ),
        rules=tuple(f"carries-state[{driver}]" for driver in _FIT_LOOPS),
    ),
    Deviation(
        id="export of a stateful model of batch 1 fails",
        keras=">=3,<3.12 | >=3.14",
        backends=("tensorflow",),
        raises="ValueError",
        diagnosis=(
            "`model.export()` of a stateful RNN built for batches of 1, the layout that streams one sequence, "
            "raises `ValueError: Exception encountered when calling LSTM.call(). Input tensor "
            "'.../ReadVariableOp:0' enters the loop with shape (1, units), but has shape (None, units) after "
            "one iteration`. The export traces `serve` with a free batch dimension (`make_input_spec`, "
            "keras/src/export/export_utils.py, the deviation below), and one step of the `tf.while_loop` "
            "broadcasts the input's None rows against the stored state's 1 row: None rows, which the loop's "
            "shape invariant refuses (the cause of the deviation 'fit on a dataset of unknown batch size 1'; "
            "with B > 1 rows the broadcast gives B, and the model exports). `model.export(format='onnx')` "
            "fails alike (measured with Keras 3.15.1, tf2onnx 1.17.0). Measured with an LSTM: Keras 3.3.3, "
            "3.4.1, 3.6.0, 3.9.2, 3.11.3, 3.15.1 and keras-nightly 3.16.0.dev2026102704 (TensorFlow 2.16 to "
            "2.23.0.dev20261026) fail; 3.13.2 fails for every batch size (the deviation 'export of a "
            "stateful model fails'); Keras 2.12.0, "
            "2.15.0 and tf-keras 2.21.0 export it. An `ExportArchive` whose `serve` takes the model's own "
            "batch size exports it (`statefulness.export` does)."
        ),
        tests=(Covers("deployment/saved-model-of-a-batch-of-one-exports"),),
        rules=route_rules("model.export()") + route_rules("model.export(onnx)"),
        when=BATCH_OF_ONE,
    ),
    Deviation(
        id="JAX: model.export() of a stateful model fails",
        keras=">=3.12",
        backends=("jax",),
        raises="ValueError",
        diagnosis=(
            "On JAX, `model.export()` converts `serve` with jax2tf over a symbolic batch dimension: "
            "`make_input_spec` (keras/src/export/export_utils.py) replaces the batch size with None and "
            "`JaxExportArchive._to_polymorphic_shape` (keras/src/backend/jax/export.py) makes it the "
            "dimension `batch`. The batch-size check of a stateful `RNN.call` (keras/src/layers/rnn/rnn.py, "
            "Keras 3.12) compares the stored state's rows with `batch` and raises `ValueError: If an RNN is "
            "stateful, the batch size of the input sequences must be the same as the batch size of the "
            "initial state`, for every batch size. Before 3.12 the cell's step fails instead (the deviation "
            "below). Measured with an LSTM and TensorFlow 2.21 (jax2tf): Keras 3.12.0, 3.13.2, 3.15.1 and "
            "keras-nightly 3.16.0.dev2026102704 raise; 3.3.3, 3.6.0, 3.9.2 and 3.11.3 fail with a TypeError. "
            "An `ExportArchive` whose `serve` takes the model's own batch size exports, but carries no state "
            "(the deviation after the next); export the step model (`statefulness.step_model`) instead."
        ),
        tests=_JAX_MODEL_EXPORT_CLAIMS,
        rules=route_rules("model.export()"),
    ),
    Deviation(
        id="JAX: model.export() of a stateful model fails in the cell",
        keras=">=3,<3.12",
        backends=("jax",),
        raises="TypeError",
        diagnosis=(
            "Before Keras 3.12's batch-size check (the deviation above), jax2tf's symbolic batch reaches the "
            "cell: `LSTMCell.call` adds the input's projection, of `(batch, 4 * units)`, to the recurrent one "
            "of the stored state's rows, and JAX raises `TypeError` (for 3 rows of 3 units: `add got "
            "incompatible shapes for broadcasting: (batch, 12), (3, 12)`; a model of batch 1 fails alike). "
            "Measured: Keras 3.3.3, 3.6.0, 3.9.2 and 3.11.3 with TensorFlow 2.21."
        ),
        tests=_JAX_MODEL_EXPORT_CLAIMS,
        rules=route_rules("model.export()"),
    ),
    Deviation(
        id="JAX: an exported stateful model does not carry the state",
        keras=">=3",
        backends=("jax",),
        diagnosis=(
            "On JAX an `ExportArchive` (with `serve` for the model's own batch size, so that it exports) "
            "serves every call from the state the model had at export: nothing is carried. "
            "`RNN._create_state_variables` (keras/src/layers/rnn/rnn.py) is decorated "
            "`@tracking.no_automatic_dependency_tracking`, so the state variables are not among the layer's "
            "`non_trainable_variables`; `JaxExportArchive._backend_track_layer` (keras/src/backend/jax/"
            "export.py) converts and binds only those, and the jax2tf function, traced in a `StatelessScope`, "
            "reads the states as constants and drops what the layer assigns to them (the artifact's variables "
            "are the kernel, recurrent kernel, bias and seed generator state). On TensorFlow the traced "
            "`tf.function` captures the state variables it reads and assigns, and the state is carried. "
            "Measured with TensorFlow 2.21 (jax2tf): Keras 3.3.3, 3.6.0, 3.9.2, 3.11.3, 3.12.0, 3.13.2, "
            "3.15.1 and keras-nightly 3.16.0.dev2026102704. Export the step model "
            "(`statefulness.step_model`), which takes the state as an input and gives it back (the claim "
            "'the step model in an export archive carries the state given to it')."
        ),
        tests=(Covers("deployment/archive-carries-the-state-between-calls"),),
    ),
    Deviation(
        id="PyTorch: model.export(format='torch') of a stateful model fails",
        keras=">=3.15",
        backends=("torch",),
        raises="RuntimeError",
        diagnosis=(
            "`export_torch` (keras/src/export/torch.py) has `torch.export` trace the model on sample inputs of its "
            "input signature: `get_input_signature` drops the batch size (`make_input_spec`, keras/src/export/"
            "export_utils.py) and `convert_spec_to_tensor` fills each free dimension with 1, so a stateful "
            "model of batch 3 is called with one row, and the batch-size check of a stateful `RNN.call` "
            "raises `ValueError: If an RNN is stateful, the batch size of the input sequences must be the "
            "same as the batch size of the initial state`, re-raised as `RuntimeError: Failed to export model to "
            "PyTorch format`. With a signature of batch 3 the export is written but `torch.export.load` "
            "refuses it (`SpecViolationError: Node.meta wrap_with_set_grad_enabled is missing val field`). "
            "Measured with "
            "torch 2.13.0 (CPU): Keras 3.15.1 and keras-nightly 3.16.0.dev2026102704; Keras 3.14.0 and "
            "earlier have no `format='torch'`. Export the step model (`statefulness.step_model`) with an "
            "`input_signature` of the stream's shapes, and carry the state as its input and output."
        ),
        tests=(Covers("deployment/torch-export-carries-the-state-between-calls"),),
    ),
    Deviation(
        id="export serves any batch size",
        keras=">=3,<3.12 | >=3.14",
        backends=("tensorflow",),
        raises=PYTEST_DID_NOT_RAISE,
        diagnosis=(
            "`model.export()` writes the SavedModel's `serve` for a batch of any size: `make_input_spec` "
            "(keras/src/export/export_utils.py) replaces the batch dimension of every input with None, so the "
            "endpoint's signature of a model of batch 3 is `(None, None, 2)`. Traced with a free batch, the "
            "stateful RNN has no batch size to check, and a request of one row is broadcast against the three "
            "rows of state: it is answered with three equal rows and overwrites every row's state (the "
            "in-memory broadcast of keras-team/keras#21183, which the check of Keras 3.12 closed for direct "
            "calls; from 3.14 the check reads the static shape, `sequences.shape[0]`, None here). Keras 2's "
            "`export` keeps the batch size and refuses the request. Measured: Keras 3.3.3, 3.4.1, 3.6.0, 3.9.2, "
            "3.11.3 and 3.15.1 (TensorFlow 2.16 to 2.21) answer; 3.13.2 cannot export (below); Keras 2.12.0, "
            "2.15.0 and tf-keras 2.21 refuse. Export through an `ExportArchive` whose `serve` takes the "
            "model's own batch size."
        ),
        tests=(Covers("deployment/saved-model-refuses-another-batch-size"),),
        rules=("exported-refuses-other-batch-size[model.export()]",),
    ),
    Deviation(
        id="export of a stateful model fails",
        keras=">=3.12,<3.14",
        backends=("tensorflow",),
        raises="tensorflow.python.framework.errors_impl.OperatorNotAllowedInGraphError",
        diagnosis=(
            '`model.export()` of a stateful RNN raises `OperatorNotAllowedInGraphError` ("Using a symbolic '
            '`tf.Tensor` as a Python `bool` is not allowed"): the export traces `serve` with a free batch '
            "dimension (`make_input_spec`, keras/src/export/export_utils.py), and the batch-size check that "
            "PR #21742 added to `RNN.call` compares `ops.shape(sequences)[0]`, symbolic there, in a Python "
            "`if` (the cause of keras-team/keras#21942; 3.14 compares the static `sequences.shape[0]`). "
            "Measured: Keras 3.13.2 (TensorFlow 2.21) fails; 3.3.3 to 3.11.3 and 3.15.1 export. An "
            "`ExportArchive` with the model's own batch size in its input signature exports (the batch is "
            "static there)."
        ),
        upstream="https://github.com/keras-team/keras/issues/21942",
        tests=(
            Covers("deployment/saved-model-carries-the-state-between-calls"),
            Covers("deployment/saved-model-starts-from-the-state-at-export"),
            Covers("deployment/tfsm-layer-carries-the-state-between-calls"),
            Covers("deployment/saved-model-endpoints-share-one-state"),
            Covers("deployment/saved-model-refuses-another-batch-size"),
            Covers("deployment/saved-model-of-a-batch-of-one-exports"),
            Covers("deployment/onnx-carries-the-state-between-runs"),
        ),
        rules=route_rules("model.export()") + route_rules("model.export(onnx)"),
    ),
    Deviation(
        id="ONNX holds no state",
        keras=">=3.11,<3.12 | >=3.14",
        backends=("tensorflow",),
        diagnosis=(
            'An ONNX model holds no state between runs: exporting with `model.export(path, format="onnx")` '
            "(tf2onnx, keras/src/export/onnx.py) freezes the state variables into constants with their "
            "values at export, and tf2onnx, to recover from the freezing failure, strips the "
            '`AssignVariableOp`s that would update them ("TF freezing failed. Attempting to fix freezing '
            'errors. Removed ... AssignVariableOp"). Every run starts from the exported state: the stream '
            'restarts at each call. By design (onnx/tensorflow-onnx#1152: "All onnx models are stateless ... '
            'make the model have an additional input and output for the state"). Measured with tf2onnx '
            "1.17.0 and onnxruntime 1.32.0: Keras 3.11.3 (TensorFlow 2.20) and 3.15.1 (2.21) lose the state; "
            "3.13.2 cannot export (the deviation above); Keras 3.4.1 and 3.6.0 have no ONNX route; 3.9.2 "
            "was not measured (its TensorFlow's protobuf is older than onnx 1.23 needs). Export the step "
            "model (`statefulness.step_model`), whose state is an input and an output."
        ),
        upstream="https://github.com/onnx/tensorflow-onnx/issues/1152",
        tests=(Covers("deployment/onnx-carries-the-state-between-runs"),),
        rules=("exported-carries-state[model.export(onnx)]",),
    ),
    Deviation(
        id="LiteRT converter aborts on a Keras 3 LSTM",
        keras="~=3.3.0",
        backends=("tensorflow",),
        raises="statefulness.deploy.litert.ConverterCrashed",
        diagnosis=(
            "On TensorFlow 2.16, `TFLiteConverter.from_keras_model` of a Keras 3 stateful LSTM aborts the "
            'process: "LLVM ERROR: Failed to infer result type(s)." at a `ReadVariableOp` of the LSTM\'s '
            "while loop (the MLIR converter, tensorflow/compiler/mlir/lite), with no Python exception to "
            "catch (`statefulness.deploy.litert` converts in a process of its own, so the claims see a "
            "`ConverterCrashed`). The same model's SavedModel endpoints convert "
            "(`from_concrete_functions`, the claim of the reset endpoint). Measured: TensorFlow 2.16.2 with "
            "Keras 3.3.3 aborts; TensorFlow 2.17.1 (Keras 3.4.1) to 2.21.0 (3.6.0 to 3.15.1), tf-keras 2.21, "
            "Keras 2.12 and 2.15 convert. The registry keys on the Keras version: 3.3 is the one that this "
            "matrix pairs with TensorFlow 2.16."
        ),
        upstream="https://github.com/tensorflow/tensorflow/issues/63987",
        tests=(
            Covers("deployment/litert-carries-the-state-between-invokes"),
            Covers("deployment/litert-new-interpreter-starts-from-zero"),
            Covers("deployment/litert-reset-all-variables-zeroes-the-state"),
        ),
        rules=route_rules("TFLiteConverter"),
    ),
    Deviation(
        id="LiteRT conversion keeps one of the archive's functions",
        keras="~=2.12.0",
        backends=("tensorflow",),
        diagnosis=(
            "On TensorFlow 2.12, `TFLiteConverter.from_concrete_functions([serve, reset], loaded)` of an "
            "`ExportArchive` writes one signature, the last function's (`reset`): `serve` is dropped, so the "
            "converted model has no endpoint to feed. "
            "There `from_saved_model(path, signature_keys=['serve', 'reset'])` keeps both, with their names; "
            "from TensorFlow 2.15 that route keeps only `serving_default`, and `from_concrete_functions` keeps "
            "both. Measured: TensorFlow 2.12.1 keeps one function; 2.13.1, 2.15.1, 2.16.2, 2.18, 2.21.0 (Keras 3.15.1) "
            "and tf-keras 2.21 keep both."
        ),
        tests=(Covers("deployment/litert-keeps-a-reset-endpoint"),),
    ),
    Deviation(
        id="LiteRT reset_all_variables keeps the state",
        keras=">=2.12",
        backends=("tensorflow",),
        diagnosis=(
            "`Interpreter.reset_all_variables()` runs `Subgraph::ResetVariableTensors` "
            "(tensorflow/lite/core/subgraph.cc), which zeroes the tensors flagged `is_variable`: the variable "
            "tensors of TFLite's own fused RNN kernels. The converter keeps a Keras layer's state in resource "
            "variables instead (`VAR_HANDLE`, `READ_VARIABLE`, `ASSIGN_VARIABLE`, held in the subgraph's "
            "resources), which it does not touch: after the reset the next `invoke` goes on from the state "
            "the previous one left. A new interpreter starts from the state at conversion. Measured: "
            "TensorFlow 2.12.1, 2.13.1, 2.15.1, 2.17 to 2.21.0 (Keras 2.12 to 2.15, 3.4.1 to 3.15.1, tf-keras) keep "
            "the state (2.16 cannot convert the model, above), with TensorFlow's interpreter and with "
            "ai-edge-litert 2.3.0's (tox -e deploy). Start again with a "
            "new interpreter, or convert a `reset` endpoint with the model and run its signature."
        ),
        tests=(Covers("deployment/litert-reset-all-variables-zeroes-the-state"),),
        rules=("exported-resets[TFLiteConverter]",),
    ),
]
