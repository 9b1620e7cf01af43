"""``statefulness.check_model`` and ``statefulness check``: the spec's state rules on a user's own model.

What is checked here: on every model shape of the spec and every built-in example, the check's verdicts
are what the known deviations of the installed Keras predict (so on a backend whose ``fit`` drops the
state, every stateful model is reported so); the user's model is left as it was; bad input gets a clear
message; records compare across environments; and the rules run as a user's own pytest cases. That each
rule can fail is shown against the mutants (``python -m mutants``, ``mutants/check.py``).
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from statefulness import check_model
from statefulness._keras import BACKEND, keras, layer_states, to_numpy
from statefulness.check import EXAMPLES, RULES, kinds, known_deviation
from statefulness.rule_ids import DEPLOYMENT_RULE_IDS
from statefulness.tutorial.model import stateful_layers

MODELS = EXAMPLES
"""Every kind of the catalogue (``statefulness.check.kinds``), as ``statefulness check --example NAME`` builds it."""

DEFAULT_TIER = (
    "tutorial",
    "stacked-gru-lstm",
    "bidirectional-lstm",
    "lstm",
    "gru-reset-before",
    "rnn-stacked-cells",
    "nested-model-lstm",
    "custom-layer-lstm",
)
"""The models of the default tier: the tutorial's, and one kind per known deviation's kind of model (an
LSTM, a recurrent layer the PyTorch deviation spares, nested state, a nested model, a custom layer, a
stack, a wrapper). A check costs about 3 s per model on TensorFlow but 20 s on JAX (every driver
compiles), so the other kinds run with ``--wide`` (``tox -e wide``)."""


def test_the_command_lines_examples_are_the_catalogues_kinds():
    assert list(EXAMPLES) == [kind.name for kind in kinds.KINDS]
    assert len(set(EXAMPLES)) == len(kinds.KINDS) and len(kinds.BY_ID) == len(kinds.KINDS)


@pytest.mark.wide
@pytest.mark.parametrize("name", MODELS)
def test_on_every_shape_the_check_passes_except_where_a_known_deviation_of_this_keras_says_otherwise(name, request):
    if name not in DEFAULT_TIER and not request.config.getoption("--wide"):
        pytest.skip("the other shapes run with --wide (tox -e wide)")
    model = MODELS[name]()
    report = check_model(model, custom_objects=kinds.CUSTOM_OBJECTS)
    assert [r.rule for r in report.results] == [rule for rule in RULES if rule not in DEPLOYMENT_RULE_IDS]
    for result in report.results:
        predicted = known_deviation(result.rule, model)
        assert result.verdict not in ("fail", "error"), f"{name}: {result.rule}: {result.detail}"
        if result.verdict == "not applicable":  # (a rule that does not apply shows no deviation)
            continue
        assert (result.verdict == "known deviation") == (predicted is not None), (
            f"{name}: {result.rule} is {result.verdict!r}, but the registry predicts "
            f"{predicted.id if predicted else 'no deviation'}: {result.detail}"
        )
    assert report["carries-state[direct call]"].verdict == "pass"


@pytest.mark.parametrize("name", ["tutorial", "stacked-gru-lstm"])
def test_each_export_route_does_what_the_registry_predicts_for_this_keras(name):
    """``check_model(deploy=True)``'s deployment rules on the tutorial's model (batches of one) and a stack
    (batches of three): each installed route passes, or shows the known deviation the registry predicts;
    a route this env cannot write is not applicable, with why."""
    model = MODELS[name]()
    report = check_model(model, rules="deployment")
    assert [r.rule for r in report.results] == list(DEPLOYMENT_RULE_IDS)
    for result in report.results:
        predicted = known_deviation(result.rule, model)
        assert result.verdict not in ("fail", "error"), f"{name}: {result.rule}: {result.detail}"
        if result.verdict != "not applicable":
            assert (result.verdict == "known deviation") == (predicted is not None), (
                f"{name}: {result.rule} is {result.verdict!r}, but the registry predicts "
                f"{predicted.id if predicted else 'no deviation'}: {result.detail}"
            )


def test_the_deployment_rules_run_only_when_asked():
    """Writing artifacts is slow: ``check_model`` runs the deployment rules with ``deploy=True`` or when
    named (``rules="deployment"``, a family, an id), not by default."""
    from statefulness.check import select_rules

    assert not {rule.id for rule in select_rules()} & set(DEPLOYMENT_RULE_IDS)
    assert [rule.id for rule in select_rules(deploy=True)] == list(RULES)
    assert [rule.id for rule in select_rules("exported-resets")] == [
        rule for rule in DEPLOYMENT_RULE_IDS if rule.startswith("exported-resets[")
    ]
    assert [rule.id for rule in select_rules(["rows-independent"], deploy=True)] == [
        "rows-independent",
        *DEPLOYMENT_RULE_IDS,
    ]


def test_the_check_leaves_the_models_weights_optimizer_and_states_as_they_were():
    inputs = keras.Input(shape=(None, 3), batch_size=2)
    hidden = keras.layers.SimpleRNN(4, stateful=True, return_sequences=True)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).uniform(-1, 1, (2, 3, 3)).astype("float32")
    model.fit(x, np.ones((2, 3, 2), "float32"), batch_size=2, verbose=0)  # the optimizer has moments now
    model(x)  # and the layer a non-zero state
    weights = model.get_weights()
    optimizer = [to_numpy(v) for v in model.optimizer.variables]
    states = layer_states(stateful_layers(model)[0])
    assert np.any(states[0]) and np.any(optimizer[-1])

    check_model(model)

    for before, after in zip(weights, model.get_weights(), strict=True):
        np.testing.assert_array_equal(after, before)
    for before, after in zip(optimizer, [to_numpy(v) for v in model.optimizer.variables], strict=True):
        np.testing.assert_array_equal(after, before)
    np.testing.assert_array_equal(layer_states(stateful_layers(model)[0])[0], states[0])


def test_the_check_leaves_the_models_config_as_it_was_also_with_a_nested_model():
    model = EXAMPLES["nested-model-lstm"]()  # Keras 2 rewrites a nested Sequential on a refused batch
    config = model.get_config()
    check_model(model)
    assert model.get_config() == config


def _draws() -> list:
    """A draw from each global generator: Python's, NumPy's, and the one Keras's unseeded initializers use."""
    return [random.random(), np.random.rand(), to_numpy(keras.initializers.RandomUniform()(shape=(3,))).tolist()]


def test_the_check_leaves_the_global_random_generators_where_they_were():
    model = EXAMPLES["stacked-gru-lstm"]()
    keras.utils.set_random_seed(11)
    expected = _draws()
    keras.utils.set_random_seed(11)
    check_model(model)  # copies the model (new initial weights), draws inputs, runs dropout-free layers
    assert _draws() == expected


@pytest.mark.skipif(BACKEND != "tensorflow", reason="op determinism is TensorFlow's setting")
@pytest.mark.parametrize("on", [True, False])
def test_the_check_leaves_tensorflows_op_determinism_as_it_was(on):
    from tensorflow.python.framework import config

    was = config.is_op_determinism_enabled()
    try:
        (config.enable_op_determinism if on else config.disable_op_determinism)()
        check_model(EXAMPLES["tutorial"](), rules=["carries-state[direct call]"])
        assert config.is_op_determinism_enabled() == on
    finally:
        (config.enable_op_determinism if was else config.disable_op_determinism)()


# Bad input: each names what was expected.


def _functional(inputs, outputs):
    return keras.Model(inputs, outputs)


def test_a_model_without_a_stateful_layer_is_refused():
    inputs = keras.Input(shape=(None, 2), batch_size=2)
    with pytest.raises(ValueError, match="model: expected a model with at least one stateful recurrent layer"):
        check_model(_functional(inputs, keras.layers.LSTM(3)(inputs)))


def test_a_model_that_is_not_built_on_an_input_is_refused():
    with pytest.raises(ValueError, match=r"model: expected a built model with a declared input \(keras.Input"):
        check_model(keras.Sequential([keras.layers.LSTM(3, stateful=True)]))


def test_several_inputs_are_refused():
    a, b = keras.Input(shape=(None, 2), batch_size=2), keras.Input(shape=(None, 2), batch_size=2)
    outputs = keras.layers.LSTM(3, stateful=True)(keras.layers.Concatenate()([a, b]))
    with pytest.raises(ValueError, match="model: expected one input .* got 2"):
        check_model(_functional([a, b], outputs))


def test_several_outputs_are_refused():
    inputs = keras.Input(shape=(None, 2), batch_size=2)
    hidden = keras.layers.LSTM(3, stateful=True)(inputs)
    with pytest.raises(ValueError, match="model: expected one output, got 2"):
        check_model(_functional(inputs, [keras.layers.Dense(1)(hidden), keras.layers.Dense(2)(hidden)]))


def test_inputs_that_are_not_sequences_are_refused():
    inputs = keras.Input(shape=(6,), batch_size=2)
    outputs = keras.layers.LSTM(3, stateful=True)(keras.layers.Reshape((3, 2))(inputs))
    with pytest.raises(ValueError, match=r"model: expected an input of sequences, \(batch, time steps"):
        check_model(_functional(inputs, outputs))


def test_something_that_is_not_a_model_is_refused():
    with pytest.raises(TypeError, match="model: expected a built keras.Model, got LSTM"):
        check_model(keras.layers.LSTM(3, stateful=True))


def test_an_unknown_rule_is_refused_with_the_rules_there_are():
    with pytest.raises(ValueError, match="rules: unknown rule 'carry'; expected any of carries-state"):
        check_model(EXAMPLES["tutorial"](), rules=["carry"])


def test_integer_inputs_into_an_embedding_are_drawn_within_its_vocabulary():
    inputs = keras.Input(shape=(None,), batch_size=2, dtype="int32")
    hidden = keras.layers.Embedding(5, 3)(inputs)
    model = _functional(inputs, keras.layers.GRU(3, stateful=True, return_sequences=True)(hidden))
    report = check_model(model, rules=["carries-state[direct call]", "chunks-equal-whole", "rows-independent"])
    assert [r.verdict for r in report.results] == ["pass", "pass", "pass"], report.table()


def test_fit_is_not_applicable_where_a_layer_computes_otherwise_in_training():
    inputs = keras.Input(shape=(None, 2), batch_size=2)
    hidden = keras.layers.LSTM(3, stateful=True, return_sequences=True)(inputs)
    model = _functional(inputs, keras.layers.Dropout(0.5)(hidden))
    report = check_model(model, rules=["carries-state"])
    assert report["carries-state[fit]"].verdict == "not applicable"
    assert "dropout or batch statistics" in report["carries-state[fit]"].detail
    assert report["carries-state[direct call]"].verdict == "pass"  # dropout is off outside training


def test_a_layer_that_mixes_time_steps_makes_chunks_equal_whole_not_applicable():
    inputs = keras.Input(shape=(4, 2), batch_size=2)
    hidden = keras.layers.Conv1D(2, 3, padding="same")(inputs)
    model = _functional(inputs, keras.layers.LSTM(3, stateful=True)(hidden))
    result = check_model(model, rules=["chunks-equal-whole"])["chunks-equal-whole"]
    assert result.verdict == "not applicable"
    assert "mixes time steps" in result.detail


def test_every_public_name_stays_what_the_package_says_once_all_its_modules_are_imported():
    import importlib
    import pkgutil

    import statefulness

    for module in pkgutil.iter_modules(statefulness.__path__):
        if module.name != "__main__":
            importlib.import_module(f"statefulness.{module.name}")
    where = statefulness._WHERE
    clobbered = [
        name
        for name in statefulness.__all__
        if getattr(statefulness, name) is not getattr(importlib.import_module(f"statefulness.{where[name]}"), name)
    ]
    assert not clobbered, f"a submodule import replaced these public names: {clobbered}"
