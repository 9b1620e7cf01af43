"""The state rules, and ``check_model``, which runs them on a user's own stateful model.

A team that upgrades Keras, or moves a stateful model to another backend, needs to know whether *its*
model still carries, keeps and resets state as it did. ``check_model(model)`` runs the rules of the spec's
chapters 3 to 7 in generic form on any built Keras model with a stateful recurrent layer (stacked, nested,
wrapped), on inputs drawn from the model's own input (integers where it starts with an ``Embedding``), and
returns a ``Report``: one ``Result`` per rule with its verdict.

Verdicts: ``pass``; ``fail`` (with the measured difference and the driver that showed it); ``known
deviation`` (the rule fails as an entry of the registry, ``statefulness.deviations``, says it does on this
Keras, backend and kind of model); ``expected`` and ``unexpected pass`` (a rule the user expects to fail, ``expected=``:
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
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from statefulness._keras import (
    BACKEND,
    BATCH_SIZE_REFUSAL,
    KERAS_VERSION,
    MODEL_HAS_RESET_STATES,
    keras,
    random_state,
    restore_random_state,
    tensorflow,
    tf_data_missing,
    to_numpy,
    versions,
)
from statefulness.check import deployment
from statefulness.check.predicates import holds
from statefulness.check.report import (
    EXPECTED_TO_FAIL,
    NotApplicable,
    Report,
    Result,
    Rule,
    RuleFailed,
    _qualname,
    _short,
)
from statefulness.check.subject import (
    _TRAINING_CHANGES,
    _chunking,
    _close,
    _must_equal,
    _names,
    _Subject,
    expected_when_chunked,
)
from statefulness.deviations import (
    DEVIATIONS,
    Deviation,
)
from statefulness.rule_ids import DEPLOYMENT_RULE_IDS, DRIVERS, EXPORT_ROUTES, FORMATS, OTHER_SIZES, RESETS, RULE_IDS
from statefulness.tutorial.model import reset_states, stateful_layers
from statefulness.verdict import Verdict


def check_model(
    model,
    *,
    rules=None,
    deploy: bool = False,
    expected: Mapping[str, str] | None = None,
    seed: int = 0,
    custom_objects: dict | None = None,
) -> Report:
    """Run the state rules on ``model`` (a built Keras model with at least one stateful recurrent layer
    and one sequence input of static batch size) and return the report. ``rules``: rule ids or their
    families (``"carries-state"`` for every driver, ``"deployment"`` for every deployment rule); default every
    state rule, and with ``deploy`` the deployment rules too (``statefulness.check.deployment``: what each
    installed export route does with the model's state; each writes and loads an artifact). ``expected``:
    the rules (ids or families) that you expect to fail on your model, each with your reason, as scikit-learn's
    ``expected_failed_checks``: such a rule that fails, errs or shows a known deviation is ``expected``
    (the report still passes), one that does not fail is an ``unexpected pass`` (the report fails).
    ``custom_objects``: what a copy of the model needs to be rebuilt from its config (the user's own
    layers)."""
    subject = _Subject(model, seed, custom_objects)
    selected = select_rules(rules, deploy=deploy)
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
        deployment.release(subject)
        subject.restore(stored)
        restore_random_state(saved)
    return report


def select_rules(rules=None, argument: str = "rules", *, deploy: bool = False) -> list[Rule]:
    """The rules named by ids, families (the part before ``[``) or ``"deployment"`` (every deployment rule),
    in their order; by default every state rule, and the deployment rules too with ``deploy``. An unknown
    name is a ``ValueError`` that names ``argument`` and lists the rules."""
    if rules is None:
        return [rule for rule in RULES.values() if deploy or rule.id not in DEPLOYMENT_RULE_IDS]
    if isinstance(rules, str):
        rules = [rules]
    chosen = [rule for rule in RULES.values() if rule.id in DEPLOYMENT_RULE_IDS] if deploy else []
    for name in rules:
        found = [
            rule
            for rule in RULES.values()
            if name in (rule.id, rule.id.partition("[")[0]) or (name == "deployment" and rule.id in DEPLOYMENT_RULE_IDS)
        ]
        if not found:
            families = sorted({rule.id.partition("[")[0] for rule in RULES.values()} | {"deployment"})
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
            result.detail = (
                f"{result.detail} [{deviation.id}: {deviation.upstream or 'see statefulness/deviations/registry.py'}]"
            )
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
        deployment.release(subject)
        subject.restore(stored)
        restore_random_state(saved)


# The rules.


def _carries_state(subject: _Subject, driver: str) -> str:
    *first, last = subject.chunks(4)
    probe = subject.draw(0, 99)
    if driver == "direct call":
        return _carried_by_direct_calls(subject, [*first, last], probe)
    if driver.startswith("fit") and any(
        _names(layer) & _TRAINING_CHANGES or getattr(layer, "dropout", 0) or getattr(layer, "recurrent_dropout", 0)
        for layer in subject.model._flatten_layers()
    ):
        raise NotApplicable(
            "a layer computes otherwise in training (dropout or batch statistics), so fit's "
            "batches cannot be held against direct calls: the state fit carries is the dropped-out "
            "pass's (spec claim layer-options/dropout-reaches-the-state-in-fit)"
        )
    if driver == "fit tf.data" and tf_data_missing() is not None:
        raise NotApplicable(str(tf_data_missing()))
    model = subject.model if driver in ("predict_on_batch", "predict") else subject.clone()
    epochs_of_last = 2 if driver in ("fit", "fit tf.data") else 1
    subject.zero(model)
    subject.feed([*first, *[last] * epochs_of_last], model)
    expected = to_numpy(model(probe))

    subject.zero(model)
    y_shape = expected.shape[1:]
    # fit's validation pass: the first batches trained, the last one validated, in one fit
    calls = [([*first, last], 1)] if driver == "fit validation" else [([*first], 1), ([last], epochs_of_last)]
    for call, epochs in calls:
        _drive(model, driver, call, subject.batch, y_shape, epochs)
    got = to_numpy(model(probe))
    _must_equal(
        got,
        expected,
        f"after {len(first) + 1} batches through {driver}, a direct call on the next batch differs from the "
        "one after the same batches fed by direct calls",
    )
    if driver == "fit validation":
        return f"{len(first)} batches trained and 1 validated by fit left the state that direct calls leave"
    return f"{len(first) + epochs_of_last} batches through {driver} left the state that direct calls leave"


def _drive(model, driver: str, chunks: list[np.ndarray], batch: int, y_shape: tuple, epochs: int) -> None:
    """The chunks through ``model`` by ``driver``: one call per chunk for ``predict_on_batch``, else one
    call over all of them, in batches taken in order (the Q&A's layout); for ``fit validation`` the last
    chunk is the validation data of a ``fit`` on the others."""
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
    elif driver == "fit validation":
        n = len(x) - len(chunks[-1])
        model.fit(
            x[:n], y[:n], batch_size=batch, epochs=epochs, shuffle=False, validation_data=(x[n:], y[n:]), verbose=0
        )
    elif driver == "fit tf.data":
        dataset = tensorflow().data.Dataset.from_tensor_slices((x, y)).batch(batch, drop_remainder=True)
        model.fit(dataset, epochs=epochs, shuffle=False, verbose=0)
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
    # A same-weights copy holding a state is saved, not the user's model: saving can alter what it saves
    # (Keras 2.15's .h5 rewrites the config of a nested model), and the check leaves the model as it was.
    saved = subject.copy()
    subject.feed(subject.chunks(2, key=4), saved)
    probe = subject.draw(4, 99)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"model{fmt}"
        with warnings.catch_warnings():  # Keras 3 calls .h5 legacy when it saves one: said, and not the rule
            warnings.filterwarnings("ignore", message=".*HDF5 file.*legacy", category=UserWarning)
            saved.save(path)
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
    through = {
        "fit validation": "fit's validation pass (validation_data), which starts from the state the training "
        "batches left",
        "fit tf.data": "fit fed a tf.data.Dataset (batched with drop_remainder=True, so that its batch size is known)",
    }
    rules = [
        Rule(
            f"carries-state[{driver}]",
            f"Row i of a batch hands its state to row i of the next batch through {through.get(driver, driver)}, "
            "and Keras does not reset it by itself.",
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
    rules += [
        Rule(
            f"exported-{fact}[{route}]",
            deployment.statement(fact, route),
            lambda subject, fact=fact, route=route: deployment.FACTS[fact][0](subject, route),
        )
        for route, facts in EXPORT_ROUTES.items()
        for fact in facts
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
