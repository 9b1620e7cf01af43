"""``check_model``: the spec's exact state rules, run on a user's own stateful model.

A team that upgrades Keras, or moves a stateful model to another backend, needs to know whether *its*
model still carries, keeps and resets state as it did. ``check_model(model)`` runs the rules of the spec's
chapters 3 to 7 in generic form on any built Keras model with a stateful recurrent layer (stacked, nested,
wrapped), on inputs drawn from the model's own input (integers where it starts with an ``Embedding``), and
returns a ``Report``: one ``Result`` per rule with its verdict.

Verdicts: ``pass``; ``fail`` (with the measured difference and the driver that showed it); ``known
deviation`` (the rule fails as an entry of ``known_deviations.py`` says it does on this Keras, backend and
kind of model); ``expected`` and ``unexpected pass`` (a rule the user expects to fail, ``expected=``:
it failed, erred or showed a known deviation, or it did not fail); ``not applicable`` (with the reason:
the model's make-up, or a method the installed Keras does not have, such as ``Model.reset_states()`` on
Keras 3); ``error`` (the rule could not run: the exception); one vocabulary, ``statefulness.verdict``.
``Report.passed()`` is False where a rule failed, erred, passed against the user's expectation, or (unless
``allow_known``) showed a known deviation the user did not expect.

The model is left as it was: its weights, its layers' states, its optimizer (``evaluate`` and ``fit`` run
on a copy compiled with SGD at learning rate 0), and the global random generators and TensorFlow's op
determinism (saved first and put back).
"""

from __future__ import annotations

import tempfile
import warnings
import weakref
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypedDict

import numpy as np

from ._keras import (
    BACKEND,
    BATCH_SIZE_REFUSAL,
    KERAS_VERSION,
    MODEL_HAS_RESET_STATES,
    assign_zeros,
    keras,
    layer_states,
    random_state,
    restore_random_state,
    state_variables,
    to_numpy,
    versions,
)
from .kinds import KINDS
from .known_deviations import (
    CUSTOM_LAYER_HOLDS_STATE,
    DEVIATIONS,
    NESTED_STATE,
    TORCH_FUSED_GRU,
    TORCH_FUSED_LSTM,
    Deviation,
    Predicate,
)
from .known_deviations import PREDICATES as DECLARED_PREDICATES
from .model import reset_states, stateful_layers
from .rule_ids import DRIVERS, FORMATS, OTHER_SIZES, RESETS, RULE_IDS
from .stateless_twin import twin
from .verdict import RULE_VERDICTS, Verdict


class _Tolerance(TypedDict):
    rtol: float
    atol: float


TOLERANCE: _Tolerance = {"rtol": 1e-5, "atol": 1e-5}
"""Outputs that must be equal are compared with this tolerance (float32 sums in another order)."""

STEPS = 2
"""Time steps per drawn batch where the model's input leaves them free."""

VERDICTS = RULE_VERDICTS
EXPECTED_TO_FAIL = (Verdict.FAIL, Verdict.ERROR, Verdict.KNOWN_DEVIATION)
"""What a rule that the user expects to fail may show for its verdict to be ``expected``; ``pass``
makes it an ``unexpected pass``, and ``not applicable`` stays."""

_TIME_MIXING = {
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "SeparableConv1D",
    "DepthwiseConv1D",
    "Conv1DTranspose",
    "MaxPooling1D",
    "AveragePooling1D",
    "GlobalMaxPooling1D",
    "GlobalAveragePooling1D",
    "Flatten",
    "Reshape",
    "Permute",
    "Attention",
    "AdditiveAttention",
    "MultiHeadAttention",
    "GroupQueryAttention",
    "Cropping1D",
    "ZeroPadding1D",
    "UpSampling1D",
    "RepeatVector",
}
"""Layers that mix time steps: fed in chunks, a model with one cannot compute what it computes whole."""

_TRAINING_CHANGES = {
    "Dropout",
    "SpatialDropout1D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "BatchNormalization",
}
"""Layers that compute otherwise in training (dropout, batch statistics)."""


@dataclass
class Result:
    rule: str
    statement: str
    verdict: str
    detail: str = ""
    driver: str | None = None
    difference: float | None = None
    """For a failure: the largest absolute difference between what was computed and what was expected."""
    deviation: str | None = None
    """For a known deviation: its id in ``known_deviations.py``."""
    expected: str | None = None
    """The user's reason for expecting the rule to fail (``check_model(expected=...)``, ``--expect``)."""
    measured: str | None = None
    """Where that expectation made the verdict ``expected`` or ``unexpected pass``: the verdict the rule
    showed (``fail``, ``error``, ``known deviation``; ``pass``)."""


@dataclass
class Report:
    model: str
    environment: dict
    seed: int
    results: list[Result] = field(default_factory=list)

    def __getitem__(self, rule: str) -> Result:
        for result in self.results:
            if result.rule == rule:
                return result
        raise KeyError(rule)

    @property
    def verdicts(self) -> dict[str, str]:
        return {result.rule: result.verdict for result in self.results}

    @property
    def measured(self) -> dict[str, str]:
        """Rule id -> the verdict the rule showed, before the user's expectations: what a record stores and
        ``compare_with_record`` compares."""
        return {result.rule: result.measured or result.verdict for result in self.results}

    def passed(self, allow_known: bool = False) -> bool:
        """No rule failed, errored or passed against the user's expectation (``unexpected pass``), and,
        unless ``allow_known``, none showed a known deviation that the user did not expect."""
        bad = {Verdict.FAIL, Verdict.ERROR, Verdict.UNEXPECTED_PASS} | (
            set() if allow_known else {Verdict.KNOWN_DEVIATION}
        )
        return not any(result.verdict in bad for result in self.results)

    def to_dict(self) -> dict:
        return asdict(self)

    def table(self) -> str:
        """The report as plain text: a header naming the environment, then one line per rule."""
        env = self.environment
        backend_lib = env.get({"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(env["backend"], ""))
        lines = [
            f"statefulness check: Keras {env['keras']} ({env['keras_package']}), backend {env['backend']}"
            + (f" {backend_lib}" if backend_lib else "")
            + f", Python {env['python']}, NumPy {env['numpy']}",
            f"model: {self.model}",
            "",
        ]
        width = max(len(result.rule) for result in self.results)
        for result in self.results:
            lines.append(f"{result.rule:<{width}}  {result.verdict:<15}  {result.detail}")
        counts = {v: sum(r.verdict == v for r in self.results) for v in VERDICTS}
        lines += ["", ", ".join(f"{n} {v}" for v, n in counts.items() if n)]
        return "\n".join(lines)


class RuleFailed(AssertionError):
    """A state rule does not hold: ``detail`` says what was measured, ``difference`` the largest absolute
    difference where outputs were compared."""

    def __init__(self, detail: str, difference: float | None = None):
        super().__init__(detail)
        self.detail, self.difference = detail, difference


class NotApplicable(Exception):
    """A state rule does not apply to the model (its make-up), with why."""


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    run: Callable
    driver: str | None = None


def check_model(
    model, *, rules=None, expected: Mapping[str, str] | None = None, seed: int = 0, custom_objects: dict | None = None
) -> Report:
    """Run the state rules on ``model`` (a built Keras model with at least one stateful recurrent layer
    and one sequence input of static batch size) and return the report. ``rules``: rule ids or their
    families (``"carries-state"`` for every driver); default all. ``expected``: the rules (ids or
    families) that you expect to fail on your model, each with your reason, as scikit-learn's
    ``expected_failed_checks``: such a rule that fails, errs or shows a known deviation is ``expected``
    (the report still passes), one that does not fail is an ``unexpected pass`` (the report fails).
    ``custom_objects``: what a copy of the model needs to be rebuilt from its config (the user's own
    layers)."""
    subject = _Subject(model, seed, custom_objects)
    selected = select_rules(rules)
    reasons = expected_failures(expected)
    saved = random_state()
    stored = subject.states()
    report = Report(model=subject.describe(), environment=versions(), seed=seed)
    try:
        for rule in selected:
            result = _judge(rule, subject)
            if rule.id in reasons:
                _expect(result, reasons[rule.id])
            report.results.append(result)
    finally:
        subject.restore(stored)
        restore_random_state(saved)
    return report


def select_rules(rules=None, argument: str = "rules") -> list[Rule]:
    """The rules named by ids or families (the part before ``[``), in their order; all by default. An
    unknown name is a ``ValueError`` that names ``argument`` and lists the rules."""
    if rules is None:
        return list(RULES.values())
    if isinstance(rules, str):
        rules = [rules]
    chosen = []
    for name in rules:
        found = [rule for rule in RULES.values() if name in (rule.id, rule.id.partition("[")[0])]
        if not found:
            families = sorted({rule.id.partition("[")[0] for rule in RULES.values()})
            raise ValueError(
                f"{argument}: unknown rule {name!r}; expected any of {', '.join(families)} or one of {', '.join(RULES)}"
            )
        chosen += [rule for rule in found if rule not in chosen]
    return [rule for rule in RULES.values() if rule in chosen]


def expected_failures(expected: Mapping[str, str] | None, argument: str = "expected") -> dict[str, str]:
    """Rule id -> the user's reason, from ``expected`` (rule ids or families -> reasons; None: none). A
    name that is no rule, or a reason that is no non-empty string, is a ``ValueError`` naming ``argument``."""
    if expected is None:
        return {}
    if not isinstance(expected, Mapping):
        raise TypeError(
            f"{argument}: expected a dict of rule ids or families to your reasons, got {type(expected).__name__}"
        )
    reasons: dict[str, str] = {}
    for name, reason in expected.items():
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{argument}: the reason for {name!r} must be a non-empty string, got {reason!r}")
        reasons.update((rule.id, reason) for rule in select_rules([name], argument))
    return reasons


def _expect(result: Result, reason: str) -> None:
    """Judge ``result`` as a rule the user expects to fail, for ``reason``."""
    result.expected = reason
    if result.verdict == Verdict.NOT_APPLICABLE:
        result.detail += f" (expected to fail ({reason}), but the rule does not apply)"
        return
    result.measured = result.verdict
    if result.verdict in EXPECTED_TO_FAIL:
        result.verdict, result.detail = Verdict.EXPECTED, f"expected to fail ({reason}) and failed: {result.detail}"
    else:
        result.verdict, result.detail = (
            Verdict.UNEXPECTED_PASS,
            f"expected to fail ({reason}) but passed: {result.detail}",
        )


def _judge(rule: Rule, subject: _Subject) -> Result:
    result = Result(rule.id, rule.statement, Verdict.PASS, driver=rule.driver)
    if rule.id in NOT_APPLICABLE_HERE and not hasattr(subject.model, _METHOD_OF[rule.id]):
        result.verdict, result.detail = Verdict.NOT_APPLICABLE, NOT_APPLICABLE_HERE[rule.id]
        return result
    failure = None
    try:
        result.detail = rule.run(subject)
    except NotApplicable as reason:
        result.verdict, result.detail = Verdict.NOT_APPLICABLE, str(reason)
    except RuleFailed as fail:
        result.verdict, result.detail, result.difference = Verdict.FAIL, fail.detail, fail.difference
        failure = "AssertionError"
    except Exception as error:  # noqa: BLE001 - the rule could not run: reported, with the exception's type
        result.verdict, result.detail = Verdict.ERROR, f"{_qualname(type(error))}: {_short(error)}"
        failure = _qualname(type(error))
    finally:
        subject.zero()
    deviation = known_deviation(rule.id, subject.model)
    if deviation is not None:
        if failure is not None and deviation.explains(failure):
            result.verdict, result.deviation = Verdict.KNOWN_DEVIATION, deviation.id
            result.detail = f"{result.detail} [{deviation.id}: {deviation.upstream or 'see known_deviations.py'}]"
        elif failure is None and result.verdict == Verdict.PASS:
            result.detail += f" (known deviation {deviation.id!r} did not show: fixed here?)"
    return result


def known_deviation(rule_id: str, model) -> Deviation | None:
    """The known deviation that makes ``rule_id`` fail on ``model`` with the installed Keras and backend."""
    if rule_id not in RULE_IDS:
        raise ValueError(f"rule_id: unknown rule {rule_id!r}; expected one of {', '.join(RULE_IDS)}")
    for deviation in DEVIATIONS:
        if (
            rule_id in deviation.rules
            and deviation.covers(KERAS_VERSION, BACKEND)
            and (deviation.when is None or holds(deviation.when, model))
        ):
            return deviation
    return None


def holds(predicate: Predicate, model) -> bool:
    """Is ``model`` of the kind ``predicate`` (``Deviation.when``) names?"""
    return PREDICATES[predicate](model)


def _qualname(cls) -> str:
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def _short(error: BaseException, limit: int = 160) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# What kind of model: the predicates that known deviations name with ``when``.


def _nested_state(model) -> bool:
    """A stateful layer keeps its state nested (an ``RNN`` over a list of cells)."""
    return any(isinstance(state, (list, tuple)) for layer in stateful_layers(model) for state in layer.states or ())


def _custom_layer_holds_state(model) -> bool:
    """A layer that is neither a model nor has ``reset_states`` holds a stateful layer (Keras 2's
    ``Model.reset_states`` walks ``model.layers`` and models only)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            if _custom_layer_holds_state(layer):
                return True
        elif not hasattr(layer, "reset_states") and stateful_layers(layer):
            return True
    return False


def _torch_fused_lstm(model) -> bool:
    """A stateful ``LSTM`` that may run the backend's own kernel (``use_cudnn`` not False)."""
    return any(
        isinstance(layer, keras.layers.LSTM) and getattr(layer, "use_cudnn", "auto") is not False
        for layer in stateful_layers(model)
    )


def _torch_fused_gru(model) -> bool:
    """A stateful ``GRU`` with ``reset_after=True`` that may run the backend's own kernel, and no such LSTM."""
    return not _torch_fused_lstm(model) and any(
        isinstance(layer, keras.layers.GRU) and layer.reset_after and getattr(layer, "use_cudnn", "auto") is not False
        for layer in stateful_layers(model)
    )


PREDICATES: dict[Predicate, Callable] = {
    NESTED_STATE: _nested_state,
    CUSTOM_LAYER_HOLDS_STATE: _custom_layer_holds_state,
    TORCH_FUSED_LSTM: _torch_fused_lstm,
    TORCH_FUSED_GRU: _torch_fused_gru,
}
"""One implementation per predicate that the registry declares."""
if set(PREDICATES) != set(DECLARED_PREDICATES):
    raise ImportError(
        f"check.PREDICATES implements {sorted(map(str, PREDICATES))}, the registry declares "
        f"{sorted(map(str, DECLARED_PREDICATES))}"
    )


# The model under check.

_COPIES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Each model's copy for ``evaluate`` and ``fit``, kept while the model lives: rules run again on one model
(the spec's breadth claims, one per drawn example) reuse its compiled functions."""
_TWINS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
"""Each model's yardstick for whole sequences (its stateless twin, or ``_ITSELF``), kept likewise."""
_ITSELF = object()


class _Subject:
    """The user's model, what its input takes, and the copies the rules need."""

    def __init__(self, model, seed: int, custom_objects: dict | None, oracle: Callable | None = None):
        if not isinstance(model, keras.Model):
            raise TypeError(f"model: expected a built keras.Model, got {type(model).__name__}")
        if oracle is not None and not callable(oracle):
            raise TypeError(f"oracle: expected a callable (x, weights) -> outputs, or None; got {oracle!r}")
        self.model, self.seed, self.custom_objects, self.oracle = model, seed, custom_objects, oracle
        self.layers = stateful_layers(model)
        if not self.layers:
            raise ValueError(
                f"model: expected a model with at least one stateful recurrent layer (stateful=True); "
                f"{model.name!r} has none among its {len(model.layers)} layers"
            )
        try:
            inputs = model.inputs
        except (AttributeError, ValueError):  # Keras 3 before 3.4: an unbuilt Sequential raises
            inputs = None
        if not inputs:
            raise ValueError(
                f"model: expected a built model with a declared input (keras.Input); {model.name!r} has none"
            )
        if len(inputs) != 1:
            raise ValueError(
                f"model: expected one input (a batch of sequences), got {len(inputs)}; "
                "check_model draws one input per call"
            )
        if len(model.outputs) != 1:
            raise ValueError(
                f"model: expected one output, got {len(model.outputs)}; check_model compares one output per call"
            )
        shape = tuple(inputs[0].shape)
        self.batch = shape[0]
        if self.batch is None:
            raise ValueError(
                "model: a stateful layer needs a static batch size (one state row per sample); the "
                f"input's shape is {shape}: declare it with keras.Input(..., batch_size=B)"
            )
        embeddings = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Embedding)]
        self.vocabulary = min((layer.input_dim for layer in embeddings), default=None)
        if len(shape) < 2 or (len(shape) == 2 and self.vocabulary is None):
            raise ValueError(
                f"model: expected an input of sequences, (batch, time steps, features...), or "
                f"(batch, time steps) of integers into an Embedding; got shape {shape}"
            )
        self.steps = shape[1] or STEPS
        self.time_free = shape[1] is None
        self.features = tuple(shape[2:])
        self.dtype = getattr(inputs[0].dtype, "name", inputs[0].dtype)
        self._clone = self._whole = None

    def describe(self) -> str:
        layers = ", ".join(f"{layer.name} ({type(layer).__name__})" for layer in self.layers)
        return (
            f"{self.model.name!r}: input {(self.batch, None if self.time_free else self.steps, *self.features)}, "
            f"batch size {self.batch}, stateful {layers}"
        )

    # inputs

    def draw(self, *key: int, rows: int | None = None, steps: int | None = None) -> np.ndarray:
        """One batch of ``rows`` sequences of ``steps`` steps, drawn from the seed and ``key`` (each use
        of drawn inputs has its own key)."""
        rng = np.random.default_rng([self.seed, *key])
        shape = (rows or self.batch, steps or self.steps, *self.features)
        if self.vocabulary is not None:
            return rng.integers(0, self.vocabulary, shape).astype(self.dtype)
        return rng.uniform(-1, 1, shape).astype(self.dtype)

    def chunks(self, n: int, key: int = 0) -> list[np.ndarray]:
        return [self.draw(key, k) for k in range(n)]

    # state

    def variables(self, model=None) -> list:
        return [v for layer in stateful_layers(model or self.model) for v in state_variables(layer)]

    def states(self, model=None) -> list[np.ndarray]:
        return [state for layer in stateful_layers(model or self.model) for state in layer_states(layer)]

    def restore(self, values: list[np.ndarray]) -> None:
        for variable, value in zip(self.variables(), values, strict=True):
            variable.assign(value)

    def zero(self, model=None) -> None:
        """Zero every state variable directly (the ground truth that the resets are held against)."""
        for variable in self.variables(model):
            assign_zeros(variable)

    def feed(self, chunks, model=None) -> list[np.ndarray]:
        """Each chunk through the model by a direct call, in turn; their outputs."""
        model = model or self.model
        return [to_numpy(model(chunk)) for chunk in chunks]

    # copies

    def clone(self, fresh: bool = False):
        """A copy with the same weights, compiled with SGD at learning rate 0 and MSE: ``evaluate`` and
        ``fit`` run it (and move its state) while no weight can move. ``fresh``: a new one."""
        if self._clone is None or fresh:
            copy = None if fresh else _COPIES.get(self.model)
            if copy is None:
                try:
                    copy = type(self.model).from_config(self.model.get_config(), custom_objects=self.custom_objects)
                except Exception as error:  # noqa: BLE001
                    raise NotApplicable(
                        f"the model could not be copied from its config ({_short(error)}); "
                        "pass custom_objects for its own layers"
                    ) from None
                copy.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
                if not fresh:
                    _COPIES[self.model] = copy
            copy.set_weights(self.model.get_weights())
            self._clone = copy
        return self._clone

    def describe_whole(self) -> str:
        if self.oracle is not None:
            return "the NumPy recurrence"
        return "the stateless twin" if self.whole() is not self.model else "the model itself, reset,"

    def whole(self):
        """What computes the model's output on whole sequences from zero state: the stateless twin with
        free time steps, else (no twin can be made and the time steps are free) the model itself."""
        if self._whole is None:
            made = _TWINS.get(self.model)
            if made is None:
                try:
                    made = twin(self.model, self.custom_objects, free_time=True)
                except Exception as error:  # noqa: BLE001
                    if not self.time_free:
                        raise NotApplicable(
                            f"no stateless twin could be made ({_short(error)}) and the model's "
                            "input has a fixed number of time steps"
                        ) from None
                    made = _ITSELF
                _TWINS[self.model] = made
            elif made is not _ITSELF:
                made.set_weights(self.model.get_weights())
            self._whole = self.model if made is _ITSELF else made
        return self._whole

    def run_whole(self, x: np.ndarray) -> np.ndarray:
        """The model's output on whole sequences ``x`` from zero state: by the ``oracle`` where one was
        given (the spec's NumPy recurrences), else by ``whole()``."""
        if self.oracle is not None:
            return np.asarray(self.oracle(x, self.model.get_weights()))
        model = self.whole()
        if model is not self.model:
            return to_numpy(model(x))
        self.zero()
        try:
            return to_numpy(model(x))
        finally:
            self.zero()


def run_rule(
    rule_id: str, model, *, seed: int = 0, oracle: Callable | None = None, custom_objects: dict | None = None
) -> str:
    """Run one state rule on ``model`` as it is, with no verdict around it: return what it measured,
    raise ``RuleFailed`` (an ``AssertionError``) where it does not hold, ``NotApplicable`` where it does not
    apply, and let any other exception through (the spec's breadth claims call this, so that a known
    deviation is judged by the exception Keras raised). ``oracle(x, weights)``: the outputs on whole
    sequences from zero state, where the caller has a yardstick other than the stateless twin. The
    model's states and the global random generators are left as they were."""
    if rule_id not in RULES:
        raise ValueError(f"rule_id: unknown rule {rule_id!r}; expected one of {', '.join(RULES)}")
    subject = _Subject(model, seed, custom_objects, oracle)
    saved, stored = random_state(), subject.states()
    try:
        return RULES[rule_id].run(subject)
    finally:
        subject.restore(stored)
        restore_random_state(saved)


def _close(got, expected) -> float | None:
    """None if ``got`` equals ``expected`` within the tolerance, else the largest difference."""
    got, expected = np.asarray(got, "float64"), np.asarray(expected, "float64")
    if got.shape != expected.shape:
        return float("inf")
    if np.allclose(got, expected, **TOLERANCE):
        return None
    return float(np.max(np.abs(got - expected)))


def _must_equal(got, expected, failure: str) -> None:
    """Raise the rule's failure, with the largest difference, unless ``got`` equals ``expected``."""
    difference = _close(got, expected)
    if difference is not None:
        raise RuleFailed(f"{failure} (max |diff| {difference:.3g})", difference)


# The rules.


def _carries_state(subject: _Subject, driver: str) -> str:
    *first, last = subject.chunks(4)
    probe = subject.draw(0, 99)
    if driver == "direct call":
        return _carried_by_direct_calls(subject, [*first, last], probe)
    if driver == "fit" and any(
        _names(layer) & _TRAINING_CHANGES or getattr(layer, "dropout", 0) or getattr(layer, "recurrent_dropout", 0)
        for layer in subject.model._flatten_layers()
    ):
        raise NotApplicable(
            "a layer computes otherwise in training (dropout or batch statistics), so fit's "
            "batches cannot be held against direct calls"
        )
    model = subject.model if driver in ("predict_on_batch", "predict") else subject.clone()
    epochs_of_last = 2 if driver == "fit" else 1
    subject.zero(model)
    subject.feed([*first, *[last] * epochs_of_last], model)
    expected = to_numpy(model(probe))

    subject.zero(model)
    y_shape = expected.shape[1:]
    for call, epochs in (([*first], 1), ([last], epochs_of_last)):
        _drive(model, driver, call, subject.batch, y_shape, epochs)
    got = to_numpy(model(probe))
    _must_equal(
        got,
        expected,
        f"after {len(first) + 1} batches through {driver}, a direct call on the next batch differs from the "
        "one after the same batches fed by direct calls",
    )
    return f"{len(first) + epochs_of_last} batches through {driver} left the state that direct calls leave"


def _drive(model, driver: str, chunks: list[np.ndarray], batch: int, y_shape: tuple, epochs: int) -> None:
    """The chunks through ``model`` by ``driver``: one call per chunk for ``predict_on_batch``, else one
    call over all of them, in batches taken in order (the Q&A's layout)."""
    if driver == "predict_on_batch":
        for chunk in chunks:
            model.predict_on_batch(chunk)
        return
    x = np.concatenate(chunks)
    y = np.zeros((len(x), *y_shape), "float32")
    if driver == "predict":
        model.predict(x, batch_size=batch, verbose=0)
    elif driver == "evaluate":
        model.evaluate(x, y, batch_size=batch, verbose=0)
    else:
        model.fit(x, y, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)


def _carried_by_direct_calls(subject: _Subject, chunks, probe) -> str:
    subject.zero()
    cold = to_numpy(subject.model(probe))
    subject.zero()
    subject.feed(chunks)
    warm = to_numpy(subject.model(probe))
    moved = _close(warm, cold)
    if moved is None:
        raise RuleFailed(
            f"after {len(chunks)} batches, the next batch's output equals its output from zero state: "
            "no state was carried",
            0.0,
        )
    if subject.batch == 1:
        return f"the state moved the next batch's output by up to {moved:.3g}"
    order = np.arange(subject.batch)[::-1]
    subject.zero()
    subject.feed([chunk[order] for chunk in chunks])
    _must_equal(
        to_numpy(subject.model(probe[order])),
        warm[order],
        "with the rows of every batch reversed, the outputs are not the same rows reversed: a row's state went "
        "to another row",
    )
    return f"the state moved the next batch's output by up to {moved:.3g}, row by row"


def _chunks_equal_whole(subject: _Subject) -> str:
    chunking = _chunking(subject.model)
    chunks = subject.chunks(3, key=1)
    subject.zero()
    outputs = subject.feed(chunks)
    whole = subject.run_whole(np.concatenate(chunks, axis=1))
    total = sum(chunk.shape[1] for chunk in chunks)
    if whole.ndim >= 3 and whole.shape[1] == total and outputs[0].shape[1] == subject.steps:
        got = np.concatenate(outputs, axis=1)
        backward = subject.run_whole(np.concatenate(chunks[::-1], axis=1)) if chunking != "continues" else None
        expected = expected_when_chunked(whole, backward, [c.shape[1] for c in chunks], chunking)
    elif whole.shape == outputs[-1].shape and chunking == "continues":
        got, expected = outputs[-1], whole  # one output per sequence: the last chunk's
    else:
        raise NotApplicable(
            f"the outputs do not line up with time steps (whole sequences give {whole.shape}, "
            f"a chunk gives {outputs[-1].shape})"
        )
    how = subject.describe_whole()
    _must_equal(got, expected, f"fed in {len(chunks)} chunks the model differs from {how} on the whole sequences")
    return f"{len(chunks)} chunks of {subject.steps} steps equal {how} on the whole sequences ({chunking})"


def whole_outputs(model, x: np.ndarray, *, oracle: Callable | None = None, custom_objects: dict | None = None):
    """The yardstick: what ``model`` returns on whole sequences ``x`` from zero state, by ``oracle(x,
    weights)`` where given, else by its stateless twin, else (no twin can be made) by the model itself,
    reset (and left at zeros)."""
    return _Subject(model, 0, custom_objects, oracle).run_whole(x)


def chunked_outputs(model, chunks, *, oracle: Callable | None = None, custom_objects: dict | None = None):
    """The yardstick for ``chunks`` fed in turn to ``model`` from zero state: what its outputs joined in
    time must be, from ``whole_outputs`` and what the model's make-up says chunks compute
    (``expected_when_chunked``; ``NotApplicable`` where nothing says)."""
    subject = _Subject(model, 0, custom_objects, oracle)
    chunking = _chunking(model)
    forward = subject.run_whole(np.concatenate(chunks, axis=1))
    backward = None if chunking == "continues" else subject.run_whole(np.concatenate(chunks[::-1], axis=1))
    return expected_when_chunked(forward, backward, [chunk.shape[1] for chunk in chunks], chunking)


def expected_when_chunked(
    forward: np.ndarray, backward: np.ndarray | None, lengths: list[int], chunking: str
) -> np.ndarray:
    """What a stateful model fed chunks of ``lengths`` steps returns, joined in time, from what it returns
    on the whole sequences from zero state: ``forward`` (the chunks in order) and ``backward`` (the chunks
    in reverse order). ``chunking``: ``"continues"`` (the chunks continue one another), ``"backwards"`` (a
    ``go_backwards`` layer: the chunks in reverse order, read backwards), ``"bidirectional"`` (the forward
    half continues; the backward half is the reversed chunks', each slice back at its own steps)."""
    if chunking == "continues":
        return forward
    if backward is None:
        raise ValueError(f"backward: the whole sequences read in reverse are needed for chunking {chunking!r}")
    if chunking == "backwards":
        return backward
    ends = np.cumsum(lengths[::-1])
    pieces = np.split(backward, ends[:-1], axis=1)[::-1]
    half = forward.shape[-1] // 2
    return np.concatenate([forward[..., :half], np.concatenate(pieces, axis=1)[..., half:]], axis=-1)


def _names(layer) -> set[str]:
    return {cls.__name__ for cls in type(layer).__mro__}


def _chunking(model) -> str:
    """What the model fed in chunks must equal (``expected_when_chunked``), or not applicable."""
    inside_rnns = {
        id(inner)
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.RNN)
        for inner in layer._flatten_layers(include_self=False)
    }
    for layer in model._flatten_layers(include_self=False):
        if id(layer) in inside_rnns:
            continue
        if _names(layer) & _TIME_MIXING:
            raise NotApplicable(
                f"layer {layer.name!r} ({type(layer).__name__}) mixes time steps, so chunks "
                "cannot compute what whole sequences do"
            )
        if isinstance(layer, keras.layers.RNN) and not layer.stateful:
            raise NotApplicable(
                f"layer {layer.name!r} ({type(layer).__name__}) is a stateless recurrent layer: "
                "it starts every chunk from zeros"
            )
    layers = stateful_layers(model)
    wrappers = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.Bidirectional)]
    if wrappers:
        if (
            len(wrappers) == 1
            and len(layers) == 2
            and model.layers[-1] is wrappers[0]
            and wrappers[0].merge_mode == "concat"
        ):
            return "bidirectional"
        raise NotApplicable(
            "a Bidirectional layer that is not the model's only recurrent layer and its last "
            "(with merge_mode='concat'): no yardstick for its chunks"
        )
    if any(layer.go_backwards for layer in layers):
        if len(layers) == 1:
            return "backwards"
        raise NotApplicable("a go_backwards layer among several stateful layers: no yardstick for its chunks")
    return "continues"


def _rows_independent(subject: _Subject) -> str:
    if subject.batch == 1:
        raise NotApplicable("the model takes batches of one row")
    chunks = subject.chunks(3, key=2)
    rng = np.random.default_rng([subject.seed, 2, 99])
    order = rng.permutation(subject.batch)
    if np.array_equal(order, np.arange(subject.batch)):
        order = order[::-1]
    row = int(rng.integers(subject.batch))
    subject.zero()
    before = subject.feed(chunks)
    subject.zero()
    reordered = subject.feed([chunk[order] for chunk in chunks])
    for k, (old, new) in enumerate(zip(before, reordered, strict=True)):
        _must_equal(
            new,
            old[order],
            f"with the rows of every batch reordered {order.tolist()}, the outputs of batch {k + 1} are not the "
            "same rows reordered: a row's state went to another row",
        )
    changed = []
    for k, chunk in enumerate(chunks):
        others = subject.draw(2, 100 + k)
        others[row] = chunk[row]
        changed.append(others)
    subject.zero()
    after = subject.feed(changed)
    for k, (old, new) in enumerate(zip(before, after, strict=True)):
        _must_equal(
            new[row],
            old[row],
            f"replacing every row but row {row} changed row {row}'s outputs in batch {k + 1}: rows share state",
        )
    return (
        f"over {len(chunks)} batches, reordering the rows reordered the outputs, and row {row}'s outputs did not "
        "change with the other rows"
    )


def _reset(subject: _Subject, how: str) -> str:
    chunks = subject.chunks(3, key=3)
    probe = subject.draw(3, 99)
    subject.zero()
    cold = to_numpy(subject.model(probe))
    subject.zero()
    subject.feed(chunks)
    moved = subject.states()
    if not all(np.any(state) for state in moved):
        raise NotApplicable(f"after {len(chunks)} batches a state is still all zeros: a reset cannot be seen")
    if how == "layer.reset_states()":
        for layer in subject.layers:
            layer.reset_states()
    elif how == "model.reset_states()":
        subject.model.reset_states()
    else:
        reset_states(subject.model)
    after = subject.states()
    if [state.shape for state in after] != [state.shape for state in moved]:
        raise RuleFailed(f"{how} changed the states' shapes: {[s.shape for s in moved]} -> {[s.shape for s in after]}")
    left = [float(np.max(np.abs(state))) for state in after]
    if any(left):
        raise RuleFailed(
            f"after {how}, {sum(map(bool, left))} of {len(left)} state variables are not zeros "
            f"(max |value| {max(left):.3g})",
            max(left),
        )
    _must_equal(
        to_numpy(subject.model(probe)),
        cold,
        f"after {how}, the next batch's output differs from its output from zero state",
    )
    return f"{len(left)} state variables zeros, and the next batch's output as from a fresh start"


def _refuses(subject: _Subject, other: str) -> str:
    rows = 1 if other == "fewer rows" else subject.batch + 1  # one row: what predicting one sample feeds
    if rows == subject.batch:
        raise NotApplicable("the model takes batches of one row")
    x = subject.draw(6, rows=rows)
    error_type, words = BATCH_SIZE_REFUSAL
    refusals = []
    for call in ("direct call", "predict_on_batch"):
        copy = subject.clone(fresh=True)  # Keras 2 relaxes a nested Sequential's batch size when it refuses
        try:
            out = to_numpy(copy(x) if call == "direct call" else copy.predict_on_batch(x))
        except Exception as error:  # noqa: BLE001 - a refusal by accident is a failure, with its type
            if isinstance(error, error_type) and words in str(error):
                refusals.append(f"{call}: {_qualname(type(error))}")
                continue
            raise RuleFailed(
                f"a batch of {rows} rows was refused by {call}, but not for its size (by accident): "
                f"{_qualname(type(error))}: {_short(error)}"
            ) from None
        raise RuleFailed(
            f"a batch of {rows} rows (built for {subject.batch}) ran through {call} without an error and "
            f"returned {out.shape[0]} rows"
        )
    return f"refused ({'; '.join(refusals)}): {words}..."


def _saved_and_loaded(subject: _Subject, fmt: str) -> str:
    subject.zero()
    subject.feed(subject.chunks(2, key=4))
    probe = subject.draw(4, 99)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"model{fmt}"
        with warnings.catch_warnings():  # Keras 3 calls .h5 legacy when it saves one: said, and not the rule
            warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy", category=UserWarning)
            subject.model.save(path)
        loaded = keras.models.load_model(path, custom_objects=subject.custom_objects, compile=False)
    weights = max(
        (float(np.max(np.abs(a - b))) for a, b in zip(loaded.get_weights(), subject.model.get_weights(), strict=True)),
        default=0.0,
    )
    if weights:
        raise RuleFailed(f"the loaded copy's weights differ from the model's (max |diff| {weights:.3g})", weights)
    if loaded.inputs[0].shape[0] != subject.batch:
        raise RuleFailed(f"the loaded copy takes batches of {loaded.inputs[0].shape[0]}, not {subject.batch}")
    kinds = [type(layer).__name__ for layer in stateful_layers(loaded)]
    if kinds != [type(layer).__name__ for layer in subject.layers]:
        raise RuleFailed(f"the loaded copy's stateful layers are {kinds}, not the model's")
    subject.zero()
    _must_equal(
        to_numpy(loaded(probe)),
        to_numpy(subject.model(probe)),
        "the loaded copy did not start from zero state: its first output differs from the model's from zero state",
    )
    return f"weights, batch size {subject.batch} and stateful layers kept; the loaded copy starts from zero state"


def _rules() -> dict[str, Rule]:
    rules = [
        Rule(
            f"carries-state[{driver}]",
            f"Row i of a batch hands its state to row i of the next batch through {driver}, and Keras "
            "does not reset it by itself.",
            lambda subject, driver=driver: _carries_state(subject, driver),
            driver,
        )
        for driver in DRIVERS
    ]
    rules.append(
        Rule(
            "chunks-equal-whole",
            "Fed its sequences in consecutive chunks, the model computes what its stateless twin "
            "computes on the whole sequences.",
            _chunks_equal_whole,
            "direct call",
        )
    )
    rules.append(
        Rule(
            "rows-independent",
            "The rows of a batch share no state: changing one row's input changes no other row's output.",
            _rows_independent,
            "direct call",
        )
    )
    rules += [
        Rule(
            f"reset-zeroes[{how}]",
            f"{how} returns every state to zeros, nested ones included, and the outputs repeat.",
            lambda subject, how=how: _reset(subject, how),
        )
        for how in RESETS
    ]
    rules += [
        Rule(
            f"refuses-other-batch-size[{other}]",
            {
                "fewer rows": "A batch of one row, fewer than the batch size the model was built for, is "
                "refused (by a direct call and by predict_on_batch), not silently run.",
                "more rows": "A batch of one row more than the batch size the model was built for is "
                "refused (by a direct call and by predict_on_batch), not silently run.",
            }[other],
            lambda subject, other=other: _refuses(subject, other),
            "direct call",
        )
        for other in OTHER_SIZES
    ]
    rules += [
        Rule(
            f"saved-and-loaded[{fmt}]",
            f"A copy saved as {fmt} and loaded back has the same weights, batch size and stateful layers, and "
            "starts from zero state.",
            lambda subject, fmt=fmt: _saved_and_loaded(subject, fmt),
        )
        for fmt in FORMATS
    ]
    if tuple(rule.id for rule in rules) != RULE_IDS:
        raise ImportError("check: the rules implemented are not statefulness.rule_ids.RULE_IDS, in its order")
    return {rule.id: rule for rule in rules}


RULES: dict[str, Rule] = _rules()

NOT_APPLICABLE_HERE: dict[str, str] = (
    {}
    if MODEL_HAS_RESET_STATES
    else {
        "reset-zeroes[model.reset_states()]": f"Keras {KERAS_VERSION} models have no reset_states() (Keras 3 "
        "removed Model.reset_states(), keras-team/keras#20327): reset each stateful layer (layer.reset_states()), "
        "or call statefulness.reset_states(model), which also zeroes nested states"
    }
)
"""The rules that the installed Keras's models cannot meet, with why: reported not applicable, not run, unless
the user's model class brings the method itself (``_METHOD_OF``)."""

_METHOD_OF = {"reset-zeroes[model.reset_states()]": "reset_states"}
"""The model's method each rule of ``NOT_APPLICABLE_HERE`` calls."""
assert set(NOT_APPLICABLE_HERE) <= set(_METHOD_OF)


# Before and after an upgrade: a record of what the model computes, and a comparison with it.

RECORD_FORMAT = "statefulness-record/1"
RECORD_TOLERANCE: _Tolerance = {"rtol": 1e-4, "atol": 1e-5}
"""Outputs and states recorded in one environment are compared in another within this tolerance: kernels
of another version or backend sum in another order (float32), so bit-equality is not expected."""


def _signature(subject: _Subject) -> dict:
    return {
        "name": subject.model.name,
        "input": [subject.batch, None if subject.time_free else subject.steps, *subject.features],
        "output": [None if d is None else int(d) for d in subject.model.outputs[0].shape],
        "weights": [list(w.shape) for w in subject.model.get_weights()],
        "stateful_layers": [type(layer).__name__ for layer in subject.layers],
    }


def record_model(model, report: Report, *, custom_objects: dict | None = None) -> dict:
    """What ``model`` computes on drawn inputs (every chunk's output and the states after them, from zero
    state, by direct calls), with the verdicts the report's rules showed (``Report.measured``: before the
    user's expectations) and the environment: JSON-ready."""
    subject = _Subject(model, report.seed, custom_objects)
    chunks = subject.chunks(3, key=5)
    outputs, states = _outputs_and_states(subject, chunks)
    return {
        "format": RECORD_FORMAT,
        "environment": versions(),
        "model": _signature(subject),
        "seed": report.seed,
        "verdicts": report.measured,
        "inputs": [chunk.tolist() for chunk in chunks],
        "outputs": [out.tolist() for out in outputs],
        "states": [state.tolist() for state in states],
    }


def _outputs_and_states(subject: _Subject, chunks) -> tuple[list[np.ndarray], list[np.ndarray]]:
    stored, saved = subject.states(), random_state()
    try:
        subject.zero()
        outputs = subject.feed(chunks)
        return outputs, subject.states()
    finally:
        subject.restore(stored)
        restore_random_state(saved)


def compare_with_record(model, record: dict, report: Report, *, custom_objects: dict | None = None) -> list[str]:
    """What changed since ``record`` was made: the verdicts the rules showed (``Report.measured``, so that
    expectations added or dropped change nothing), and outputs or states beyond ``RECORD_TOLERANCE`` (one
    line each, with the largest difference). Raises ``ValueError`` if the record is not one, or was
    made from another model."""
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT:
        raise ValueError(
            f"record: expected a record written by `statefulness check --record` (format {RECORD_FORMAT!r})"
        )
    subject = _Subject(model, record["seed"], custom_objects)
    here = _signature(subject)
    for key, value in record["model"].items():
        if key != "name" and here.get(key) != value:
            raise ValueError(f"record: made from another model: its {key} was {value}, this model's is {here.get(key)}")
    measured = report.measured
    changes = [
        f"{rule}: {before} -> {measured.get(rule, 'not run')}"
        for rule, before in record["verdicts"].items()
        if measured.get(rule, before) != before
    ]
    chunks = [np.asarray(chunk, subject.dtype) for chunk in record["inputs"]]
    outputs, states = _outputs_and_states(subject, chunks)
    pairs = [
        (f"output of batch {k + 1}", a, b) for k, (a, b) in enumerate(zip(outputs, record["outputs"], strict=True))
    ]
    if len(states) == len(record["states"]):
        pairs += [
            (f"state {k + 1} after the batches", a, b)
            for k, (a, b) in enumerate(zip(states, record["states"], strict=True))
        ]
    else:
        changes.append(f"state variables: {len(record['states'])} -> {len(states)}")
    for what, now, then in pairs:
        then = np.asarray(then, "float64")
        if now.shape != then.shape:
            changes.append(f"{what}: shape {list(then.shape)} -> {list(now.shape)}")
        elif not np.allclose(now, then, **RECORD_TOLERANCE):
            changes.append(
                f"{what}: max |diff| {float(np.max(np.abs(now - then))):.3g} (tolerance rtol "
                f"{RECORD_TOLERANCE['rtol']}, atol {RECORD_TOLERANCE['atol']})"
            )
    return changes


# Built-in models for ``statefulness check --example NAME``: the catalogue of kinds (``statefulness.kinds``).

EXAMPLES: dict[str, Callable] = {kind.name: kind.example for kind in KINDS}
"""Every kind of the catalogue, by its name, at its own batch size with weights drawn from seed 0."""
