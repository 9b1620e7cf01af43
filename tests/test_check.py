"""``statefulness.check_model`` and ``statefulness check``: the spec's state rules on a user's own model.

What is checked here: on every model shape of the spec and every built-in example, the check's verdicts
are what the known deviations of the installed Keras predict (so on a backend whose ``fit`` drops the
state, every stateful model is reported so); the user's model is left as it was; bad input gets a clear
message; records compare across environments; and the rules run as a user's own pytest cases. That each
rule can fail is shown against the mutants (``python -m mutants``, ``mutants/check.py``).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from spec import shapes
from statefulness import check_model
from statefulness._keras import BACKEND, KERAS_MAJOR, keras, layer_states, to_numpy
from statefulness.check import EXAMPLES, RULES, known_deviation
from statefulness.cli import CHECK_EXAMPLES, main
from statefulness.model import stateful_layers

ROOT = Path(__file__).resolve().parent.parent


def shape_model(shape_id: str):
    shape = shapes.BY_ID[shape_id]
    model = shape.build(shapes.BATCH)
    shape.set_weights(model, 0)
    return model


MODELS = {**{f"example {name}": EXAMPLES[name] for name in EXAMPLES},
          **{shape.id: (lambda shape_id=shape.id: shape_model(shape_id)) for shape in shapes.SHAPES}}


def test_the_command_lines_examples_are_the_checks_examples():
    assert tuple(EXAMPLES) == CHECK_EXAMPLES


@pytest.mark.parametrize("name", MODELS)
def test_on_every_shape_the_check_passes_except_where_a_known_deviation_of_this_keras_says_otherwise(name):
    model = MODELS[name]()
    report = check_model(model, custom_objects=shapes.CUSTOM_OBJECTS)
    assert [r.rule for r in report.results] == list(RULES)
    for result in report.results:
        predicted = known_deviation(result.rule, model)
        assert result.verdict not in ("fail", "error"), f"{name}: {result.rule}: {result.detail}"
        assert (result.verdict == "known deviation") == (predicted is not None), (
            f"{name}: {result.rule} is {result.verdict!r}, but the registry predicts "
            f"{predicted.id if predicted else 'no deviation'}: {result.detail}")
    assert report["carries-state[direct call]"].verdict == "pass"
    assert report["saved-and-loaded"].verdict == "info"


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


def _draws() -> list:
    """A draw from each global generator: Python's, NumPy's, and the one Keras's unseeded initializers use."""
    return [random.random(), np.random.rand(), to_numpy(keras.initializers.RandomUniform()(shape=(3,))).tolist()]


def test_the_check_leaves_the_global_random_generators_where_they_were():
    model = EXAMPLES["stacked-gru"]()
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


def test_a_layer_that_mixes_time_steps_makes_chunks_equal_whole_not_applicable():
    inputs = keras.Input(shape=(4, 2), batch_size=2)
    hidden = keras.layers.Conv1D(2, 3, padding="same")(inputs)
    model = _functional(inputs, keras.layers.LSTM(3, stateful=True)(hidden))
    result = check_model(model, rules=["chunks-equal-whole"])["chunks-equal-whole"]
    assert result.verdict == "not applicable"
    assert "mixes time steps" in result.detail


# The command line.

def _cli(capsys, *args) -> tuple[int, str, str]:
    code = main(["check", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_prints_the_environment_first_and_a_line_per_rule_and_exits_by_the_verdicts(capsys, tmp_path):
    code, out, _ = _cli(capsys, "--example", "stacked-gru", "--json", tmp_path / "r.json")
    report = json.loads((tmp_path / "r.json").read_text())
    lines = out.splitlines()
    assert lines[0].startswith(f"statefulness check: Keras {keras.__version__}") and BACKEND in lines[0]
    assert all(any(line.startswith(rule) for line in lines) for rule in RULES)
    known = any(r["verdict"] == "known deviation" for r in report["results"])
    assert code == (1 if known else 0)
    assert _cli(capsys, "--example", "stacked-gru", "--allow-known")[0] == 0


def test_a_record_compares_equal_on_the_same_model_and_flags_changed_weights(capsys, tmp_path):
    model = EXAMPLES["stacked-gru"]()
    model.save(tmp_path / "model.keras")
    code, out, _ = _cli(capsys, tmp_path / "model.keras", "--record", tmp_path / "record.json", "--allow-known")
    assert code == 0 and "recorded to" in out
    code, out, _ = _cli(capsys, tmp_path / "model.keras", "--against", tmp_path / "record.json", "--allow-known")
    assert code == 0 and "no change" in out

    weights = model.get_weights()
    weights[0] = weights[0] + 0.01  # the first GRU's kernel
    model.set_weights(weights)
    model.save(tmp_path / "changed.keras")
    code, out, _ = _cli(capsys, tmp_path / "changed.keras", "--against", tmp_path / "record.json", "--allow-known")
    assert code == 1
    assert "output of batch 1: max |diff|" in out and "state 1 after the batches" in out


@pytest.mark.skipif(KERAS_MAJOR < 3, reason="the mutants patch Keras 3")
def test_a_record_made_under_a_broken_keras_is_flagged_on_a_sound_one(capsys, tmp_path):
    record = tmp_path / "broken.json"
    script = ("from mutants import MUTANTS; MUTANTS['state_not_carried'][1](); from statefulness.cli import main; "
              f"main(['check', '--example', 'stacked-gru', '--record', {str(record)!r}])")
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, capture_output=True)
    code, out, _ = _cli(capsys, "--example", "stacked-gru", "--against", record, "--allow-known")
    assert code == 1
    assert "carries-state[direct call]: fail -> pass" in out
    assert "output of batch 2: max |diff|" in out


@pytest.mark.parametrize("args, message", [
    ((), "expected a saved MODEL or --example NAME"),
    (("no-such.keras",), "MODEL: no-such.keras is not a file"),
    (("pyproject.toml",), "MODEL: could not load a Keras model from pyproject.toml"),
    (("--example", "tutorial", "--against", "pyproject.toml"), "--against: pyproject.toml is not JSON"),
    (("--example", "tutorial", "--against", "tests/test_check.py"), "--against: tests/test_check.py is not JSON"),
    (("--example", "tutorial", "--rules", "nope"), "rules: unknown rule 'nope'"),
    (("--example", "tutorial", "--custom-objects", "no_such_module"), "--custom-objects: cannot import"),
])
def test_bad_input_to_check_is_one_line_and_exit_status_2(capsys, monkeypatch, args, message):
    monkeypatch.chdir(ROOT)
    code, out, err = _cli(capsys, *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_a_record_of_another_model_is_refused(capsys, tmp_path):
    _cli(capsys, "--example", "stacked-gru", "--record", tmp_path / "record.json")
    code, _, err = _cli(capsys, "--example", "tutorial", "--against", tmp_path / "record.json")
    assert code == 2 and "record: made from another model: its input was [4, None, 3]" in err


def test_custom_objects_come_from_a_module_of_the_users_layers(capsys, tmp_path):
    model = shape_model("LSTM in a custom Layer")
    model.save(tmp_path / "custom.keras")
    module = tmp_path / "layers.py"
    module.write_text("from spec.shapes import Encoder\n")  # a module that defines or imports the user's layer
    (tmp_path / "with_dict.py").write_text("from spec.shapes import CUSTOM_OBJECTS\n")
    code, out, _ = _cli(capsys, tmp_path / "custom.keras", "--custom-objects", tmp_path / "with_dict.py",
                        "--rules", "carries-state[fit]", "--json", tmp_path / "r.json")
    (result,) = json.loads((tmp_path / "r.json").read_text())["results"]
    assert result["verdict"] in ("pass", "known deviation"), result  # loaded, copied for fit, and run
    code, _, err = _cli(capsys, tmp_path / "custom.keras", "--custom-objects", module)
    assert code == 2 and "no CUSTOM_OBJECTS dict and defines no Keras layer" in err


# In the user's own test suite.

USERS_TESTS = """
    from statefulness.check import EXAMPLES
    from statefulness.testing import parametrize_with_rules

    @parametrize_with_rules(EXAMPLES["stacked-gru"])
    def test_my_model_keeps_the_state_rules(check):
        check()
"""


def test_each_rule_is_a_test_case_of_the_users_suite(pytester):
    report = check_model(EXAMPLES["stacked-gru"]())
    pytester.makepyfile(textwrap.dedent(USERS_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore")
    count = {v: sum(r.verdict == v for r in report.results) for v in ("pass", "info", "known deviation",
                                                                       "not applicable")}
    result.assert_outcomes(passed=count["pass"] + count["info"], xfailed=count["known deviation"],
                           skipped=count["not applicable"])


@pytest.mark.skipif(KERAS_MAJOR < 3, reason="the mutants patch Keras 3")
def test_a_rule_that_fails_on_the_users_model_fails_its_test_case_with_the_rule_and_the_measure(pytester):
    pytester.makeconftest(f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
                          "from mutants import MUTANTS\nMUTANTS['fit_resets_state'][1]()\n")
    pytester.makepyfile(textwrap.dedent(USERS_TESTS).replace("@parametrize_with_rules(EXAMPLES[\"stacked-gru\"])",
                        "@parametrize_with_rules(EXAMPLES[\"stacked-gru\"], rules=['carries-state'])"))
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-p", "no:cacheprovider", "-W", "ignore")
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*carries-state?fit? (fail): Row i of a batch hands its state*",
                                 "*through fit, a direct call on the next batch differs*"])
